/**
 * The Likelihood Ratio Attack, LiRA (Carlini, Chien, Nasr, Song, Terzis & Tramèr, "Membership
 * Inference Attacks From First Principles", IEEE S&P 2022, Algorithm 1).
 *
 * 1. Shadow models: N models trained like the target (here with `trainCentral`) on random halves
 *    of the candidate population, members ∪ non-members. Each example is IN exactly N/2 of them
 *    (their reference implementation's balanced assignment), so every example has N/2 "in" and
 *    N/2 "out" observations.
 * 2. The statistic of a model on an example is its logit-scaled confidence in the true label,
 *    φ = log(p_y / (1 − p_y)) (Section IV-B: this makes the distribution close to Gaussian). For a
 *    binary model with logit z that is exactly z for y = 1 and −z for y = 0; it is read from the
 *    logit, never from a rounded probability.
 * 3. Per example, Gaussians are fitted to the in and out observations.
 *    - Online: score = log N(φ_target; μ_in, σ_in²) − log N(φ_target; μ_out, σ_out²).
 *    - Offline (Section VI-C, no model trained on the target example): a one-sided test against the
 *      out distribution, score = (φ_target − μ_out)/σ_out, which ranks as Pr[Z < φ_target],
 *      Z ~ N(μ_out, σ_out²). The same shadows serve both: offline uses the N/2 where the example was out.
 *    - With few shadow models the per-example variances are noisy; the paper (Section VI-A) fits
 *      one global variance instead. Here the global variance is the mean of the per-example
 *      variances (the within-example spread, not the spread of all observations pooled).
 *
 * Limits, to state in a DPIA: the shadows are trained centrally with the given settings, while
 * the target may have been trained federatedly; a mismatch makes the attack weaker, so its
 * figures are a lower bound of what a better-informed attacker achieves.
 */
import { logits, type NumberVector } from '../model.js';
import { createRng, mixSeeds } from '../random.js';
import { trainCentral } from '../train.js';
import type { Dataset, ModelSpec } from '../types.js';
import { concatRows, selectRows } from './dataset-rows.js';
import { attackReport, joinScores, type AttackReport } from './report.js';

/** How shadow models are trained; mirror the target's training as closely as known. */
export interface ShadowTraining {
  readonly epochs: number;
  readonly learningRate: number;
  readonly batchSize: number;
  readonly l2?: number;
}

export type LiraVariance = 'global' | 'per-example';

export interface LiraOptions {
  readonly training: ShadowTraining;
  /** Number of shadow models, even, at least 4 (default 16). */
  readonly shadowModels?: number;
  /** Seeds the in/out assignment and the shadows' training (default 0). */
  readonly seed?: number;
  /** Default: 'global' below 64 shadow models, as the paper recommends, else 'per-example'. */
  readonly variance?: LiraVariance;
}

export interface LiraReport {
  readonly online: AttackReport;
  readonly offline: AttackReport;
  readonly shadowModels: number;
  readonly variance: LiraVariance;
}

/** Bad LiRA settings: an odd or too small number of shadow models. */
export class LiraSettingsError extends Error {
  override readonly name = 'LiraSettingsError';
}

export const DEFAULT_SHADOW_MODELS = 16;

/** Purpose tags of the assignment and shadow training streams. */
const ASSIGNMENT_STREAM = 0x6c697261;
const SHADOW_STREAM = 0x73686164;

/** φ = log(p_y / (1 − p_y)) of every row: the logit, signed by the label. */
export function scaledConfidence(spec: ModelSpec, parameters: NumberVector, data: Dataset): Float64Array {
  const z = logits(spec, parameters, data);
  for (let i = 0; i < z.length; i++) if (data.y[i] === 0) z[i] = -z[i]!;
  return z;
}

function logNormalDensity(x: number, mean: number, variance: number): number {
  const d = x - mean;
  return -0.5 * Math.log(2 * Math.PI * variance) - (d * d) / (2 * variance);
}

/**
 * LiRA against the model `parameters`: `members` were in its training data, `nonMembers` were
 * not. Trains `shadowModels` shadow models (so its cost is that many trainings on half the
 * population).
 */
export function lira(spec: ModelSpec, parameters: NumberVector, members: Dataset, nonMembers: Dataset, options: LiraOptions): LiraReport {
  const shadows = options.shadowModels ?? DEFAULT_SHADOW_MODELS;
  if (!(Number.isInteger(shadows) && shadows >= 4 && shadows % 2 === 0)) {
    throw new LiraSettingsError(`LiRA needs an even number of shadow models, at least 4, got ${shadows}`);
  }
  if (members.n === 0 || nonMembers.n === 0) {
    throw new LiraSettingsError(`LiRA needs members and non-members; got ${members.n} and ${nonMembers.n}`);
  }
  const variance: LiraVariance = options.variance ?? (shadows < 64 ? 'global' : 'per-example');
  const seed = options.seed ?? 0;
  const population = concatRows(members, nonMembers);
  const n = population.n;
  const half = shadows / 2;

  // in[m·n + i] = 1 when example i trains shadow m: each example in exactly half of the shadows.
  const isIn = new Uint8Array(shadows * n);
  const assignment = createRng(mixSeeds(seed, ASSIGNMENT_STREAM));
  const models = Uint32Array.from({ length: shadows }, (_, m) => m);
  for (let i = 0; i < n; i++) {
    // Partial Fisher–Yates: the first `half` entries become a uniform random subset.
    for (let k = 0; k < half; k++) {
      const j = k + assignment.nextInt(shadows - k);
      const t = models[k]!;
      models[k] = models[j]!;
      models[j] = t;
    }
    for (let k = 0; k < half; k++) isIn[models[k]! * n + i] = 1;
  }

  // Observations φ of every shadow on every example.
  const observed = new Float64Array(shadows * n);
  for (let m = 0; m < shadows; m++) {
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (isIn[m * n + i] === 1) rows.push(i);
    const trained = trainCentral(spec, selectRows(population, rows), { ...options.training, seed: mixSeeds(seed, SHADOW_STREAM, m) });
    observed.set(scaledConfidence(spec, trained, population), m * n);
  }

  const meanIn = new Float64Array(n);
  const meanOut = new Float64Array(n);
  const varIn = new Float64Array(n);
  const varOut = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sIn = 0;
    let sOut = 0;
    for (let m = 0; m < shadows; m++) {
      if (isIn[m * n + i] === 1) sIn += observed[m * n + i]!;
      else sOut += observed[m * n + i]!;
    }
    meanIn[i] = sIn / half;
    meanOut[i] = sOut / half;
    let qIn = 0;
    let qOut = 0;
    for (let m = 0; m < shadows; m++) {
      const v = observed[m * n + i]!;
      if (isIn[m * n + i] === 1) qIn += (v - meanIn[i]!) ** 2;
      else qOut += (v - meanOut[i]!) ** 2;
    }
    varIn[i] = qIn / (half - 1);
    varOut[i] = qOut / (half - 1);
  }
  let globalIn = 0;
  let globalOut = 0;
  for (let i = 0; i < n; i++) {
    globalIn += varIn[i]! / n;
    globalOut += varOut[i]! / n;
  }
  // A variance of 0 (every shadow agrees exactly) would make the densities infinite.
  const floor = Math.max(1e-9 * Math.max(globalIn, globalOut), 1e-300);
  const target = scaledConfidence(spec, parameters, population);
  const online = new Float64Array(n);
  const offline = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const vIn = Math.max(variance === 'global' ? globalIn : varIn[i]!, floor);
    const vOut = Math.max(variance === 'global' ? globalOut : varOut[i]!, floor);
    const phi = target[i]!;
    online[i] = logNormalDensity(phi, meanIn[i]!, vIn) - logNormalDensity(phi, meanOut[i]!, vOut);
    offline[i] = (phi - meanOut[i]!) / Math.sqrt(vOut);
  }
  const split = (scores: Float64Array): { scores: Float64Array; isMember: Uint8Array } =>
    joinScores(scores.subarray(0, members.n), scores.subarray(members.n));
  const on = split(online);
  const off = split(offline);
  return {
    online: attackReport('lira-online', on.scores, on.isMember),
    offline: attackReport('lira-offline', off.scores, off.isMember),
    shadowModels: shadows,
    variance,
  };
}
