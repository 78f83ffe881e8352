/**
 * Aggregation strategies, separate from any transport (Flower's `Strategy` is the model): a
 * strategy plans each round and combines the sites' results into new global parameters. The
 * aggregation maths are the exported pure functions; strategy objects only add the round plan
 * and, for FedAdam, the server optimiser's moments.
 *
 * - FedAvg (McMahan et al. 2017): the mean of the sites' parameters weighted by their examples.
 * - FedProx (Li et al. 2020): FedAvg on the server; the proximal term μ/2‖w − w_global‖² is in
 *   local training, carried to the sites by the round plan.
 * - FedAdam (Reddi et al. 2021, "Adaptive Federated Optimization", Algorithm 2): Adam on the
 *   server, on the pseudo-gradient Δ = weighted mean − current.
 * - Coordinate-wise median and trimmed mean (Yin et al. 2018, "Byzantine-robust distributed
 *   learning: towards optimal statistical rates").
 * - Krum (Blanchard et al. 2017, "Machine learning with adversaries: Byzantine tolerant gradient
 *   descent"): the one result closest to its n − f − 2 nearest neighbours.
 *
 * Robust aggregators are unweighted (a site cannot gain influence by claiming more examples)
 * and need each site's own parameters, which secure aggregation hides.
 */
import { mixSeeds } from './random.js';
import type { RoundPlan, SiteResult, Strategy, StrategyName } from './types.js';

/** Results that cannot be aggregated, or strategy options that cannot work; names the site or option. */
export class AggregationError extends Error {
  override readonly name: string = 'AggregationError';
}

export interface StrategyOptions {
  /** Number of rounds planned (rounds are numbered 1 … rounds; 0 is accepted as the first for 0-based loops). */
  readonly rounds: number;
  readonly epochs: number;
  readonly learningRate: number;
  readonly batchSize: number;
  /** Seeds each round's plan (the sites mix in their own seed). */
  readonly seed: number;
  /** FedProx's μ (default 0.01; Li et al. tune it over {0.001, 0.01, 0.1, 1}). */
  readonly proximalMu?: number;
  /** FedAdam's server learning rate η (default 0.1, as Flower). */
  readonly serverLearningRate?: number;
  /** FedAdam's β1 (default 0.9). */
  readonly beta1?: number;
  /** FedAdam's β2 (default 0.99). */
  readonly beta2?: number;
  /** FedAdam's adaptivity τ (default 1e-3). */
  readonly tau?: number;
  /** Trimmed mean's β: the share dropped at each end per coordinate, in [0, 0.5) (default 0.1). */
  readonly trimFraction?: number;
  /** Krum's f: the number of Byzantine sites tolerated (default 1); needs n > 2f + 2 results. */
  readonly byzantine?: number;
  /** L2 penalty in local training, passed on in every plan. */
  readonly l2?: number;
  /** DP clipping norm passed on in every plan (usually set by the privacy wrapper instead). */
  readonly clipNorm?: number;
}

// ---------------------------------------------------------------------------------------------
// The pure maths

/**
 * Checks that every result has `dimension` finite parameters (and, when `weighted`, a positive
 * whole number of examples), naming the site that does not.
 */
export function checkResults(dimension: number, results: readonly SiteResult[], weighted: boolean): void {
  if (results.length === 0) throw new AggregationError('no site results to aggregate');
  for (const r of results) {
    if (r.parameters.length !== dimension) throw new AggregationError(`site ${r.site}: ${r.parameters.length} parameters, expected ${dimension}`);
    for (let k = 0; k < dimension; k++) {
      if (!Number.isFinite(r.parameters[k]!)) throw new AggregationError(`site ${r.site}: parameter ${k} is ${r.parameters[k]}`);
    }
    if (weighted && (!Number.isSafeInteger(r.examples) || r.examples < 1)) throw new AggregationError(`site ${r.site}: the number of examples must be a positive whole number, got ${r.examples}`);
  }
}

/** FedAvg's aggregate: Σ nᵢ wᵢ / Σ nᵢ, coordinate by coordinate. */
export function weightedAverage(results: readonly SiteResult[]): Float64Array {
  const first = results[0];
  if (!first) throw new AggregationError('no site results to aggregate');
  const dimension = first.parameters.length;
  checkResults(dimension, results, true);
  let total = 0;
  for (const r of results) total += r.examples;
  const out = new Float64Array(dimension);
  for (const r of results) {
    const weight = r.examples / total;
    const p = r.parameters;
    for (let k = 0; k < dimension; k++) out[k]! += weight * p[k]!;
  }
  return out;
}

function vectorsOf(results: readonly SiteResult[]): Float64Array[] {
  const first = results[0];
  if (!first) throw new AggregationError('no site results to aggregate');
  checkResults(first.parameters.length, results, false);
  return results.map((r) => r.parameters);
}

/** Per coordinate, the values of every vector sorted ascending into `column`. */
function sortedColumn(vectors: readonly Float64Array[], k: number, column: Float64Array): void {
  for (let i = 0; i < vectors.length; i++) column[i] = vectors[i]![k]!;
  column.sort();
}

/** Coordinate-wise median; with an even number of vectors, the mean of the two middle values. */
export function coordinateMedian(vectors: readonly Float64Array[]): Float64Array {
  const n = vectors.length;
  if (n === 0) throw new AggregationError('no vectors to take the median of');
  const dimension = vectors[0]!.length;
  const out = new Float64Array(dimension);
  const column = new Float64Array(n);
  const half = n >> 1;
  for (let k = 0; k < dimension; k++) {
    sortedColumn(vectors, k, column);
    out[k] = n % 2 === 1 ? column[half]! : (column[half - 1]! + column[half]!) / 2;
  }
  return out;
}

/** Coordinate-wise trimmed mean: per coordinate, drop the ⌊β·n⌋ smallest and largest values and average the rest. */
export function trimmedMean(vectors: readonly Float64Array[], beta: number): Float64Array {
  const n = vectors.length;
  if (n === 0) throw new AggregationError('no vectors to average');
  if (!(beta >= 0 && beta < 0.5)) throw new AggregationError(`the trim fraction β must be in [0, 0.5), got ${beta}`);
  const drop = Math.floor(beta * n);
  const kept = n - 2 * drop;
  if (kept < 1) throw new AggregationError(`trimming ${drop} of ${n} results at each end leaves none`);
  const dimension = vectors[0]!.length;
  const out = new Float64Array(dimension);
  const column = new Float64Array(n);
  for (let k = 0; k < dimension; k++) {
    sortedColumn(vectors, k, column);
    let s = 0;
    for (let i = drop; i < n - drop; i++) s += column[i]!;
    out[k] = s / kept;
  }
  return out;
}

/**
 * Krum's choice: the index of the vector whose summed squared distance to its n − f − 2
 * nearest other vectors is least (Blanchard et al. 2017, §4). Ties go to the lower index.
 * Needs n > 2f + 2.
 */
export function krumSelect(vectors: readonly Float64Array[], byzantine: number): { index: number; scores: Float64Array } {
  const n = vectors.length;
  if (!Number.isSafeInteger(byzantine) || byzantine < 0) throw new AggregationError(`Krum's number of Byzantine sites f must be a non-negative whole number, got ${byzantine}`);
  if (n <= 2 * byzantine + 2) {
    throw new AggregationError(`Krum with f = ${byzantine} needs more than 2f + 2 = ${2 * byzantine + 2} results, got ${n}`);
  }
  const distances = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = vectors[i]!;
      const b = vectors[j]!;
      let s = 0;
      for (let k = 0; k < a.length; k++) {
        const t = a[k]! - b[k]!;
        s += t * t;
      }
      distances[i * n + j] = s;
      distances[j * n + i] = s;
    }
  }
  const neighbours = n - byzantine - 2;
  const scores = new Float64Array(n);
  const others = new Float64Array(n - 1);
  let best = 0;
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < n; j++) if (j !== i) others[m++] = distances[i * n + j]!;
    others.sort();
    let s = 0;
    for (let j = 0; j < neighbours; j++) s += others[j]!;
    scores[i] = s;
    if (s < scores[best]!) best = i;
  }
  return { index: best, scores };
}

export interface AdamState {
  /** First moment of the pseudo-gradient. */
  readonly m: Float64Array;
  /** Second moment of the pseudo-gradient. */
  readonly v: Float64Array;
}

export interface AdamSettings {
  readonly serverLearningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly tau: number;
}

/**
 * One FedAdam server step (Reddi et al. 2021, Algorithm 2, without bias correction as in the
 * paper): Δ = average − current; m ← β1·m + (1 − β1)·Δ; v ← β2·v + (1 − β2)·Δ²;
 * x ← current + η·m / (√v + τ). Returns the new parameters and moments; nothing is modified.
 */
export function fedAdamStep(current: Float64Array, average: Float64Array, state: AdamState, settings: AdamSettings): { parameters: Float64Array; state: AdamState } {
  const { serverLearningRate: eta, beta1, beta2, tau } = settings;
  const d = current.length;
  if (average.length !== d || state.m.length !== d || state.v.length !== d) throw new AggregationError(`FedAdam: ${d} parameters, but ${average.length} averaged and ${state.m.length} moments`);
  const m = new Float64Array(d);
  const v = new Float64Array(d);
  const parameters = new Float64Array(d);
  for (let k = 0; k < d; k++) {
    const delta = average[k]! - current[k]!;
    const mk = beta1 * state.m[k]! + (1 - beta1) * delta;
    const vk = beta2 * state.v[k]! + (1 - beta2) * delta * delta;
    m[k] = mk;
    v[k] = vk;
    parameters[k] = current[k]! + (eta * mk) / (Math.sqrt(vk) + tau);
  }
  return { parameters, state: { m, v } };
}

// ---------------------------------------------------------------------------------------------
// Strategy objects

function positiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new AggregationError(`${what} must be a positive whole number, got ${value}`);
  return value;
}

function inRange(value: number, low: number, high: number, what: string, openLow = false, openHigh = false): number {
  const aboveLow = openLow ? value > low : value >= low;
  const belowHigh = openHigh ? value < high : value <= high;
  if (!(aboveLow && belowHigh) || !Number.isFinite(value)) throw new AggregationError(`${what} must be in ${openLow ? '(' : '['}${low}, ${high}${openHigh ? ')' : ']'}, got ${value}`);
  return value;
}

/** The plan of every round: the same local settings, a per-round seed. */
class RoundPlanner {
  constructor(
    private readonly options: StrategyOptions,
    private readonly proximalMu: number,
  ) {
    positiveInteger(options.rounds, 'the number of rounds');
    positiveInteger(options.epochs, 'the number of local epochs');
    positiveInteger(options.batchSize, 'the batch size');
    inRange(options.learningRate, 0, Infinity, 'the learning rate', true, true);
    if (!Number.isSafeInteger(options.seed)) throw new AggregationError(`the seed must be a whole number, got ${options.seed}`);
    if (options.l2 !== undefined) inRange(options.l2, 0, Infinity, 'the L2 penalty', false, true);
    if (options.clipNorm !== undefined) inRange(options.clipNorm, 0, Infinity, 'the clipping norm', true, true);
  }

  plan(round: number): RoundPlan {
    const { rounds, epochs, learningRate, batchSize, seed, l2, clipNorm } = this.options;
    if (!Number.isSafeInteger(round) || round < 0 || round > rounds) throw new AggregationError(`round ${round} is outside the planned 1 … ${rounds}`);
    return {
      round,
      epochs,
      learningRate,
      batchSize,
      proximalMu: this.proximalMu,
      seed: mixSeeds(seed, round),
      ...(clipNorm === undefined ? {} : { clipNorm }),
      ...(l2 === undefined ? {} : { l2 }),
    };
  }
}

class FedAvg implements Strategy {
  readonly needsIndividualUpdates = false;
  private readonly planner: RoundPlanner;

  constructor(
    readonly name: 'fedavg' | 'fedprox',
    options: StrategyOptions,
  ) {
    const mu = name === 'fedprox' ? inRange(options.proximalMu ?? 0.01, 0, Infinity, 'FedProx μ', false, true) : 0;
    this.planner = new RoundPlanner(options, mu);
  }

  configureRound(round: number): RoundPlan {
    return this.planner.plan(round);
  }

  aggregate(current: Float64Array, results: readonly SiteResult[], _failures: readonly string[]): Float64Array {
    checkResults(current.length, results, true);
    return weightedAverage(results);
  }
}

class FedAdam implements Strategy {
  readonly name = 'fedadam';
  readonly needsIndividualUpdates = false;
  private readonly planner: RoundPlanner;
  private readonly settings: AdamSettings;
  private state: AdamState | undefined;

  constructor(options: StrategyOptions) {
    this.planner = new RoundPlanner(options, 0);
    this.settings = {
      serverLearningRate: inRange(options.serverLearningRate ?? 0.1, 0, Infinity, 'the server learning rate η', true, true),
      beta1: inRange(options.beta1 ?? 0.9, 0, 1, 'β1', false, true),
      beta2: inRange(options.beta2 ?? 0.99, 0, 1, 'β2', false, true),
      tau: inRange(options.tau ?? 1e-3, 0, Infinity, 'τ', true, true),
    };
  }

  configureRound(round: number): RoundPlan {
    return this.planner.plan(round);
  }

  aggregate(current: Float64Array, results: readonly SiteResult[], _failures: readonly string[]): Float64Array {
    checkResults(current.length, results, true);
    const state = this.state ?? { m: new Float64Array(current.length), v: new Float64Array(current.length) };
    const step = fedAdamStep(current, weightedAverage(results), state, this.settings);
    this.state = step.state;
    return step.parameters;
  }
}

class RobustStrategy implements Strategy {
  readonly needsIndividualUpdates = true;
  private readonly planner: RoundPlanner;
  private readonly trimFraction: number;
  private readonly byzantine: number;

  constructor(
    readonly name: 'median' | 'trimmed-mean' | 'krum',
    options: StrategyOptions,
  ) {
    this.planner = new RoundPlanner(options, 0);
    this.trimFraction = inRange(options.trimFraction ?? 0.1, 0, 0.5, 'the trim fraction β', false, true);
    this.byzantine = options.byzantine ?? 1;
    if (!Number.isSafeInteger(this.byzantine) || this.byzantine < 0) throw new AggregationError(`Krum's f must be a non-negative whole number, got ${this.byzantine}`);
  }

  configureRound(round: number): RoundPlan {
    return this.planner.plan(round);
  }

  aggregate(current: Float64Array, results: readonly SiteResult[], _failures: readonly string[]): Float64Array {
    checkResults(current.length, results, false);
    const vectors = vectorsOf(results);
    switch (this.name) {
      case 'median':
        return coordinateMedian(vectors);
      case 'trimmed-mean':
        return trimmedMean(vectors, this.trimFraction);
      case 'krum':
        return Float64Array.from(vectors[krumSelect(vectors, this.byzantine).index]!);
    }
  }
}

export const STRATEGY_NAMES: readonly StrategyName[] = ['fedavg', 'fedprox', 'fedadam', 'median', 'trimmed-mean', 'krum'];

/** The strategy of that name; options are checked now, so a bad setting fails before any round. */
export function createStrategy(name: StrategyName, options: StrategyOptions): Strategy {
  switch (name) {
    case 'fedavg':
    case 'fedprox':
      return new FedAvg(name, options);
    case 'fedadam':
      return new FedAdam(options);
    case 'median':
    case 'trimmed-mean':
    case 'krum':
      return new RobustStrategy(name, options);
    default:
      throw new AggregationError(`unknown strategy ${JSON.stringify(name)} (one of ${STRATEGY_NAMES.join(', ')})`);
  }
}
