/**
 * Training: a site's local round (mini-batch SGD from the global parameters, with FedProx's
 * proximal term and DP's update clipping when the round asks for them) and centralised training
 * on pooled data, the baseline federated training is compared with.
 *
 * Reproducible: the example order of each epoch is a Fisher–Yates shuffle drawn from a seeded
 * generator, and the arithmetic runs in a fixed order, so the same inputs and seeds give
 * bit-identical parameters on every run.
 */
import { checkDataset, checkParameters, initialParameters, loss, ModelError, Network, weightMask } from './model.js';
import { createRng, mixSeeds, shuffleInPlace, type Rng } from './random.js';
import type { Dataset, ModelSpec, RoundPlan } from './types.js';

/** Training settings that cannot work (a learning rate of 0, a fractional batch size…) or a run that diverged. */
export class TrainingError extends ModelError {
  override readonly name: string = 'TrainingError';
}

export interface SgdSettings {
  readonly epochs: number;
  readonly learningRate: number;
  readonly batchSize: number;
  /** L2 penalty on the weights (not the biases): adds l2·w to the gradient. */
  readonly l2: number;
  /** FedProx's μ: adds μ·(w − anchor) to the gradient (Li et al. 2020, eq. 2). */
  readonly proximalMu: number;
}

function checkSettings(s: SgdSettings): void {
  if (!Number.isSafeInteger(s.epochs) || s.epochs < 0) throw new TrainingError(`epochs must be a non-negative whole number, got ${s.epochs}`);
  if (!(s.learningRate > 0) || !Number.isFinite(s.learningRate)) throw new TrainingError(`the learning rate must be a positive number, got ${s.learningRate}`);
  if (!Number.isSafeInteger(s.batchSize) || s.batchSize < 1) throw new TrainingError(`the batch size must be a positive whole number, got ${s.batchSize}`);
  if (!(s.l2 >= 0) || !Number.isFinite(s.l2)) throw new TrainingError(`the L2 penalty must be a non-negative number, got ${s.l2}`);
  if (!(s.proximalMu >= 0) || !Number.isFinite(s.proximalMu)) throw new TrainingError(`the proximal term μ must be a non-negative number, got ${s.proximalMu}`);
}

function checkLabels(data: Dataset): void {
  for (let r = 0; r < data.n; r++) {
    const y = data.y[r];
    if (y !== 0 && y !== 1) throw new TrainingError(`label ${r + 1} is ${y}; labels must be 0 or 1`);
  }
}

/**
 * Mini-batch SGD from `start` (not modified): each epoch shuffles the rows, then steps once per
 * batch (the last one may be smaller) with the batch's mean cross-entropy gradient plus the
 * penalties. Returns the new parameters; throws `TrainingError` if they stop being finite.
 */
export function sgd(spec: ModelSpec, start: Float64Array, data: Dataset, settings: SgdSettings, rng: Rng, anchor: Float64Array = start): Float64Array {
  checkSettings(settings);
  checkParameters(spec, start);
  checkDataset(spec, data);
  checkLabels(data);
  const { epochs, learningRate, batchSize, l2, proximalMu } = settings;
  const w = Float64Array.from(start);
  const net = new Network(spec);
  const grad = new Float64Array(w.length);
  const decay = new Float64Array(w.length);
  // Per-parameter penalty coefficient: l2 on weights, μ pulls toward the anchor on every parameter.
  const mask = weightMask(spec);
  for (let k = 0; k < w.length; k++) decay[k] = mask[k] === 1 ? l2 : 0;
  const order = new Uint32Array(data.n);
  for (let r = 0; r < data.n; r++) order[r] = r;
  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffleInPlace(order, rng);
    for (let from = 0; from < data.n; from += batchSize) {
      const to = Math.min(from + batchSize, data.n);
      grad.fill(0);
      net.accumulate(w, data, order, from, to, grad);
      const scale = 1 / (to - from);
      for (let k = 0; k < w.length; k++) {
        const wk = w[k]!;
        w[k] = wk - learningRate * (grad[k]! * scale + decay[k]! * wk + proximalMu * (wk - anchor[k]!));
      }
    }
  }
  for (let k = 0; k < w.length; k++) {
    if (!Number.isFinite(w[k]!)) throw new TrainingError(`training diverged (parameter ${k} is ${w[k]}): lower the learning rate`);
  }
  return w;
}

/**
 * `global + clip(parameters − global)`: the update scaled down to L2 norm `clipNorm` if longer
 * (DP-FedAvg's per-site clipping, McMahan et al. 2018, Algorithm 1).
 */
export function clipUpdate(global: Float64Array, parameters: Float64Array, clipNorm: number): Float64Array {
  if (!(clipNorm > 0) || !Number.isFinite(clipNorm)) throw new TrainingError(`the clipping norm must be a positive number, got ${clipNorm}`);
  if (global.length !== parameters.length) throw new TrainingError(`cannot clip: ${parameters.length} parameters against ${global.length} global ones`);
  let squares = 0;
  for (let k = 0; k < global.length; k++) {
    const u = parameters[k]! - global[k]!;
    squares += u * u;
  }
  const norm = Math.sqrt(squares);
  if (norm <= clipNorm) return Float64Array.from(parameters);
  const factor = clipNorm / norm;
  const out = new Float64Array(global.length);
  for (let k = 0; k < global.length; k++) out[k] = global[k]! + (parameters[k]! - global[k]!) * factor;
  return out;
}

export interface LocalTrainingResult {
  readonly parameters: Float64Array;
  /** Rows trained on (FedAvg's weight). */
  readonly examples: number;
  /** Mean cross-entropy of the returned parameters on the local data. */
  readonly loss: number;
}

/**
 * One site's round: `plan.epochs` of SGD from the global parameters on the local data, with
 * FedProx's proximal term μ/2‖w − global‖² when `plan.proximalMu` > 0, optional L2
 * (`plan.l2`), and, with `plan.clipNorm`, the update clipped to that norm. The shuffling stream
 * is seeded by the round's seed and the site's own, so sites draw different orders and a rerun
 * draws the same.
 */
export function trainLocal(spec: ModelSpec, global: Float64Array, data: Dataset, plan: RoundPlan, siteSeed: number): LocalTrainingResult {
  if (data.n === 0) throw new TrainingError('the site has no training rows');
  for (let k = 0; k < global.length; k++) {
    if (!Number.isFinite(global[k]!)) throw new TrainingError(`the global parameter ${k} is ${global[k]}`);
  }
  const rng = createRng(mixSeeds(plan.seed, siteSeed));
  const settings: SgdSettings = { epochs: plan.epochs, learningRate: plan.learningRate, batchSize: plan.batchSize, l2: plan.l2 ?? 0, proximalMu: plan.proximalMu };
  const trained = sgd(spec, global, data, settings, rng, global);
  const parameters = plan.clipNorm === undefined ? trained : clipUpdate(global, trained, plan.clipNorm);
  return { parameters, examples: data.n, loss: loss(spec, parameters, data) };
}

export interface CentralTrainingOptions {
  readonly epochs: number;
  readonly learningRate: number;
  readonly batchSize: number;
  /** Seeds the initial parameters (as `initialParameters`) and the shuffling. */
  readonly seed: number;
  readonly l2?: number;
}

/** Purpose tag of centralised training's shuffling stream. */
const CENTRAL_STREAM = 0x63656e74;

/** Training on pooled data from `initialParameters(spec, seed)`: the baseline for federated runs (and shadow models). */
export function trainCentral(spec: ModelSpec, data: Dataset, options: CentralTrainingOptions): Float64Array {
  if (data.n === 0) throw new TrainingError('no training rows');
  const start = initialParameters(spec, options.seed);
  const rng = createRng(mixSeeds(options.seed, CENTRAL_STREAM));
  return sgd(spec, start, data, { epochs: options.epochs, learningRate: options.learningRate, batchSize: options.batchSize, l2: options.l2 ?? 0, proximalMu: 0 }, rng);
}
