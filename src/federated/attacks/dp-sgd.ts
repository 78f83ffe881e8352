/**
 * Centralised training with example-level differential privacy, DP-SGD (Abadi, Chu, Goodfellow,
 * McMahan, Mironov, Talwar & Zhang, "Deep Learning with Differential Privacy", CCS 2016,
 * Algorithm 1), so the attack evaluation can compare a model with and without DP on the same
 * data. Each step takes a Poisson sample of the rows (each with probability q = batchSize / n),
 * clips every example's gradient to L2 norm C, adds N(0, (zC)²) to their sum, divides by the
 * expected batch size and steps. The privacy spent is accounted with `RdpAccountant`
 * (q, z, steps).
 *
 * The noise here comes from a seeded generator so evaluations are reproducible: this trains
 * models to measure attacks on, not models to release (see `dp.ts` on noise sources).
 */
import { initialParameters, Network, sigmoid } from '../model.js';
import { createRng, mixSeeds } from '../random.js';
import { RdpAccountant } from '../rdp.js';
import { DEFAULT_DP_DELTA } from '../dp.js';
import type { Dataset, ModelSpec } from '../types.js';

export interface DpSgdOptions {
  /** Passes over the data: the number of steps is ⌈epochs · n / batchSize⌉. */
  readonly epochs: number;
  readonly learningRate: number;
  /** Expected batch size: the sampling rate is batchSize / n. */
  readonly batchSize: number;
  /** C: per-example gradients are clipped to this L2 norm. */
  readonly clipNorm: number;
  /** z: the noise on the summed gradient has standard deviation zC. */
  readonly noiseMultiplier: number;
  /** Seeds the initial parameters, the sampling and the noise. */
  readonly seed: number;
  /** δ of the reported ε (default 1e-5). */
  readonly delta?: number;
}

export interface DpSgdResult {
  readonly parameters: Float64Array;
  readonly steps: number;
  readonly samplingRate: number;
  /** Example-level (ε, δ) of the training. */
  readonly epsilon: number;
  readonly delta: number;
}

/** DP-SGD settings out of range. */
export class DpSgdSettingsError extends Error {
  override readonly name = 'DpSgdSettingsError';
}

/** Purpose tag of DP-SGD's sampling and noise stream. */
const DP_SGD_STREAM = 0x64707367;

export function trainCentralDp(spec: ModelSpec, data: Dataset, options: DpSgdOptions): DpSgdResult {
  const { epochs, learningRate, batchSize, clipNorm, noiseMultiplier, seed } = options;
  const delta = options.delta ?? DEFAULT_DP_DELTA;
  if (data.n === 0) throw new DpSgdSettingsError('no training rows');
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new DpSgdSettingsError(`epochs must be a whole number ≥ 1, got ${epochs}`);
  if (!(Number.isFinite(learningRate) && learningRate > 0)) throw new DpSgdSettingsError(`the learning rate must be a positive number, got ${learningRate}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= data.n)) {
    throw new DpSgdSettingsError(`the expected batch size must be a whole number from 1 to the number of rows (${data.n}), got ${batchSize}`);
  }
  if (!(Number.isFinite(clipNorm) && clipNorm > 0)) throw new DpSgdSettingsError(`the clip norm must be a positive number, got ${clipNorm}`);
  if (!(Number.isFinite(noiseMultiplier) && noiseMultiplier > 0)) throw new DpSgdSettingsError(`the noise multiplier must be a positive number, got ${noiseMultiplier}`);

  const { n, d, x, y } = data;
  const q = batchSize / n;
  const steps = Math.ceil((epochs * n) / batchSize);
  const w = initialParameters(spec, seed);
  const net = new Network(spec);
  const rng = createRng(mixSeeds(seed, DP_SGD_STREAM));
  const exampleGradient = new Float64Array(w.length);
  const sum = new Float64Array(w.length);
  const sigma = noiseMultiplier * clipNorm;
  for (let step = 0; step < steps; step++) {
    sum.fill(0);
    for (let r = 0; r < n; r++) {
      if (rng.next() >= q) continue;
      exampleGradient.fill(0);
      const z = net.logit(w, x, r * d);
      net.backward(w, x, r * d, sigmoid(z) - y[r]!, exampleGradient);
      let squares = 0;
      for (let k = 0; k < w.length; k++) squares += exampleGradient[k]! * exampleGradient[k]!;
      const factor = Math.min(1, clipNorm / Math.sqrt(squares));
      for (let k = 0; k < w.length; k++) sum[k]! += factor * exampleGradient[k]!;
    }
    for (let k = 0; k < w.length; k++) w[k]! -= (learningRate * (sum[k]! + sigma * rng.gaussian())) / batchSize;
  }
  const spent = new RdpAccountant().step(noiseMultiplier, q, steps).epsilon(delta);
  return { parameters: w, steps, samplingRate: q, epsilon: spent.epsilon, delta };
}
