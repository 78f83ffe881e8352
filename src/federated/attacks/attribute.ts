/**
 * Attribute inference (model inversion) on a binary sensitive covariate, after Fredrikson et al.
 * ("Privacy in Pharmacogenetics", USENIX Security 2014, Section 4; and Yeom et al. 2018,
 * Section 4): the attacker knows a record's other covariates and its label, and the model;
 * the sensitive value is hidden. For each candidate value v the model's loss ℓ_v on the record
 * with v filled in is computed, and the value is guessed as
 *   argmax_v  −ℓ_v + log π(v)
 * where π is the attacker's prior, the covariate's marginal distribution (Fredrikson et al.'s
 * maximum a posteriori estimator, which assumes the marginal is known). With `prior: 'none'` the
 * guess is simply the value with the lower loss.
 *
 * The figure is the advantage over the attacker's best guess without the model, always
 * answering the more common value: accuracy − max(π(0), π(1)). Zero means the model gives the
 * attacker nothing about the covariate.
 */
import { encode, type FeatureTable } from '../data.js';
import { perExampleLoss, type NumberVector, type SavedModel } from '../model.js';
import type { Dataset, ModelSpec } from '../types.js';

export type AttributePrior = 'marginal' | 'none';

export interface AttributeInferenceOptions {
  /** Default 'marginal'. */
  readonly prior?: AttributePrior;
}

export interface AttributeInferenceReport {
  /** Records attacked. */
  readonly n: number;
  /** Share of records whose hidden value was guessed right. */
  readonly accuracy: number;
  /** Accuracy of always guessing the more common value. */
  readonly baseline: number;
  /** accuracy − baseline. */
  readonly advantage: number;
  readonly prior: AttributePrior;
}

/** Inputs that do not describe an attribute-inference problem. */
export class AttributeInferenceError extends Error {
  override readonly name = 'AttributeInferenceError';
}

/**
 * The attack on encoded data: `withValue0` and `withValue1` are the same records (same rows,
 * same labels) with the sensitive covariate set to its first and second value; `truth` (0 or 1
 * per row) is the value each record really has.
 */
export function attributeInference(
  spec: ModelSpec,
  parameters: NumberVector,
  withValue0: Dataset,
  withValue1: Dataset,
  truth: ArrayLike<number>,
  options: AttributeInferenceOptions = {},
): AttributeInferenceReport {
  const n = withValue0.n;
  if (withValue1.n !== n || truth.length !== n) {
    throw new AttributeInferenceError(`the two candidate datasets and the truth must have the same rows (${n}, ${withValue1.n}, ${truth.length})`);
  }
  if (n === 0) throw new AttributeInferenceError('no records to attack');
  let ones = 0;
  for (let i = 0; i < n; i++) {
    if (withValue0.y[i] !== withValue1.y[i]) throw new AttributeInferenceError(`record ${i} has different labels in the two candidate datasets`);
    const t = truth[i];
    if (t !== 0 && t !== 1) throw new AttributeInferenceError(`the true value of record ${i} must be 0 or 1, got ${t}`);
    ones += t;
  }
  const share1 = ones / n;
  const baseline = Math.max(share1, 1 - share1);
  const prior = options.prior ?? 'marginal';
  // log π(1) − log π(0); 0 without a prior. A value never seen gets −∞ and is never guessed.
  const logPriorRatio = prior === 'marginal' ? Math.log(share1) - Math.log(1 - share1) : 0;
  const majority = share1 > 0.5 ? 1 : 0;
  const loss0 = perExampleLoss(spec, parameters, withValue0);
  const loss1 = perExampleLoss(spec, parameters, withValue1);
  let right = 0;
  for (let i = 0; i < n; i++) {
    // Score of value 1 over value 0: (−ℓ₁ + log π₁) − (−ℓ₀ + log π₀).
    const margin = loss0[i]! - loss1[i]! + logPriorRatio;
    const guess = margin > 0 ? 1 : margin < 0 ? 0 : majority;
    if (guess === truth[i]) right++;
  }
  const accuracy = right / n;
  return { n, accuracy, baseline, advantage: accuracy - baseline, prior };
}

export interface TableAttributeInferenceReport extends AttributeInferenceReport {
  readonly column: string;
  /** The two values of the column; the first is value 0. */
  readonly values: readonly [string, string];
}

/**
 * The attack on a feature table with the model's own encoding: `column` must take exactly two
 * values in the table (a 0/1 number or a two-category column).
 */
export function attributeInferenceOnTable(model: SavedModel, table: FeatureTable, column: string, options: AttributeInferenceOptions = {}): TableAttributeInferenceReport {
  const index = table.columns.indexOf(column);
  if (index < 0) throw new AttributeInferenceError(`${table.source}: no column ${JSON.stringify(column)} (columns: ${table.columns.join(', ')})`);
  const distinct = [...new Set(table.rows.map((row) => row[index]!))].sort();
  if (distinct.length !== 2) {
    throw new AttributeInferenceError(`${table.source}: column ${JSON.stringify(column)} must take exactly two values to be attacked as binary, it takes ${distinct.length}`);
  }
  const values = distinct as [string, string];
  const withValue = (value: string): FeatureTable => ({
    ...table,
    rows: table.rows.map((row) => row.map((v, j) => (j === index ? value : v))),
  });
  const encodeTable = (t: FeatureTable): Dataset => encode(t, model.schema, model.standardisation, { unknownCategories: 'ignore' });
  const truth = Uint8Array.from(table.rows, (row) => (row[index] === values[1] ? 1 : 0));
  const report = attributeInference(model.spec, model.parameters, encodeTable(withValue(values[0])), encodeTable(withValue(values[1])), truth, options);
  return { ...report, column, values };
}
