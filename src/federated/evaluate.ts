/**
 * How well a trained model predicts: accuracy at the 0.5 threshold, ROC AUC and mean
 * cross-entropy (log loss) on a labelled table, encoded with the model's own schema and
 * standardisation. What `radanon fl evaluate` prints.
 */
import { rocAuc } from './attacks/roc.js';
import { encode, type FeatureTable } from './data.js';
import { logits, logLoss, type SavedModel } from './model.js';
import type { Dataset } from './types.js';

export interface ModelEvaluation {
  /** Rows evaluated. */
  readonly n: number;
  /** Share of rows whose predicted class (probability ≥ 0.5) is the label. */
  readonly accuracy: number;
  /** Area under the ROC curve of the predicted probabilities (ties count one half). */
  readonly rocAuc: number;
  /** Mean binary cross-entropy. */
  readonly logLoss: number;
}

/** Data to evaluate on: already encoded, or a feature table to encode with the model's schema. */
export type EvaluationData = Dataset | FeatureTable;

function isDataset(data: EvaluationData): data is Dataset {
  return 'x' in data && data.x instanceof Float64Array;
}

/**
 * `data` encoded as the model expects. A category the model never saw becomes an all-zero
 * block rather than an error: evaluation data may come from a site that did not train.
 */
export function encodeForModel(model: SavedModel, data: EvaluationData): Dataset {
  return isDataset(data) ? data : encode(data, model.schema, model.standardisation, { unknownCategories: 'ignore' });
}

export function evaluateModel(model: SavedModel, data: EvaluationData): ModelEvaluation {
  const dataset = encodeForModel(model, data);
  const z = logits(model.spec, model.parameters, dataset);
  let right = 0;
  let totalLoss = 0;
  for (let r = 0; r < dataset.n; r++) {
    const y = dataset.y[r]!;
    if ((z[r]! >= 0 ? 1 : 0) === y) right++;
    totalLoss += logLoss(z[r]!, y);
  }
  // The logit orders the rows as the probability does, without rounding ties at 0 and 1.
  return { n: dataset.n, accuracy: right / dataset.n, rocAuc: rocAuc(z, dataset.y), logLoss: totalLoss / dataset.n };
}
