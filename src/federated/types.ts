/**
 * Contracts shared by federated learning's parts: the models and local training, the
 * aggregation strategies, secure aggregation, differential privacy and the transport that
 * carries them between the coordinator and the sites.
 *
 * Parameters travel as one flat Float64Array per model; what each index means is the model's
 * business (`ModelSpec`). Nothing here holds a data row: sites send parameters, counts and sums.
 */

export type ModelKind = 'logistic' | 'mlp';

export interface ModelSpec {
  readonly kind: ModelKind;
  /** Number of input features after encoding (one-hot columns included). */
  readonly inputs: number;
  /** Hidden layer widths of the multilayer perceptron (ReLU); empty for logistic regression. */
  readonly hidden: readonly number[];
}

/** A binary-labelled, encoded, standardised data set: `x` row-major, n rows of d columns. */
export interface Dataset {
  readonly x: Float64Array;
  /** 0 or 1 per row. */
  readonly y: Float64Array;
  readonly n: number;
  readonly d: number;
}

/** What the coordinator tells sites to do in one round: numbers only, never code. */
export interface RoundPlan {
  readonly round: number;
  readonly epochs: number;
  readonly learningRate: number;
  readonly batchSize: number;
  /** FedProx's proximal term μ (0 for the others). */
  readonly proximalMu: number;
  /** Seed of the round's local shuffling, combined with the site's own seed. */
  readonly seed: number;
  /** Differential privacy: sites clip their update (new − global) to this L2 norm; absent without DP. */
  readonly clipNorm?: number;
  /** L2 penalty (l2 / 2)·‖weights‖² in local training (biases are not penalised); absent or 0 for none. */
  readonly l2?: number;
}

/** One site's answer to a round. */
export interface SiteResult {
  readonly site: string;
  readonly parameters: Float64Array;
  /** Number of training examples the site used (FedAvg's weight). */
  readonly examples: number;
  readonly loss?: number;
}

export type StrategyName = 'fedavg' | 'fedprox' | 'fedadam' | 'median' | 'trimmed-mean' | 'krum';

/**
 * An aggregation strategy, separate from any transport (Flower's Strategy is the example):
 * it plans rounds and combines results. Its maths are pure functions.
 */
export interface Strategy {
  readonly name: StrategyName;
  /**
   * Robust aggregators (median, trimmed mean, Krum) need every site's individual update, which
   * secure aggregation hides by design: the two cannot be combined.
   */
  readonly needsIndividualUpdates: boolean;
  configureRound(round: number): RoundPlan;
  /** The new global parameters from the current ones and this round's results. */
  aggregate(current: Float64Array, results: readonly SiteResult[], failures: readonly string[]): Float64Array;
}
