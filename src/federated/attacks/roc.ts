/**
 * ROC analysis of an attack's scores: higher score = "member" (or "positive"). Used for the
 * membership-inference figures Carlini et al. ask for ("Membership Inference Attacks From First
 * Principles", IEEE S&P 2022, Section III: report TPR at low FPR, not only AUC) and for a model's
 * own discrimination (`evaluate.ts`).
 */

/** Scores and labels that cannot be analysed: lengths differ, a class is empty, a score is NaN. */
export class RocInputError extends Error {
  override readonly name = 'RocInputError';
}

/** Labels as booleans, or as 0/1 numbers (a `Dataset`'s `y`, a `Uint8Array`). */
export type BinaryLabels = ArrayLike<boolean> | ArrayLike<number>;

function positive(labels: BinaryLabels, i: number): boolean {
  const v = labels[i];
  if (typeof v === 'boolean') return v;
  if (v === 1) return true;
  if (v === 0) return false;
  throw new RocInputError(`label ${i} must be true/false or 0/1, got ${String(v)}`);
}

interface Checked {
  readonly positives: number;
  readonly negatives: number;
}

function check(scores: ArrayLike<number>, labels: BinaryLabels): Checked {
  if (scores.length !== labels.length) throw new RocInputError(`${scores.length} scores but ${labels.length} labels`);
  let positives = 0;
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i]!)) throw new RocInputError(`score ${i} is NaN`);
    if (positive(labels, i)) positives++;
  }
  const negatives = scores.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new RocInputError(`ROC analysis needs both classes; got ${positives} positive and ${negatives} negative examples`);
  }
  return { positives, negatives };
}

/** Indices ordered by descending score. */
function descendingOrder(scores: ArrayLike<number>): Uint32Array {
  const order = Uint32Array.from({ length: scores.length }, (_, i) => i);
  // Compared, not subtracted: ±Infinity scores are allowed and Infinity − Infinity is NaN.
  order.sort((a, b) => {
    const sa = scores[a]!;
    const sb = scores[b]!;
    return sb > sa ? 1 : sb < sa ? -1 : a - b;
  });
  return order;
}

/**
 * Area under the ROC curve, the probability that a random positive scores above a random
 * negative, ties counting one half: the Mann–Whitney U statistic over n₊n₋ with tied scores given
 * their average rank (Hanley & McNeil, Radiology 1982).
 */
export function rocAuc(scores: ArrayLike<number>, labels: BinaryLabels): number {
  const { positives, negatives } = check(scores, labels);
  const order = descendingOrder(scores);
  // Ranks ascending from 1 = lowest score; walk tie groups from the top.
  const n = scores.length;
  let positiveRankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && scores[order[end]!]! === scores[order[start]!]!) end++;
    // Positions start..end−1 from the top hold ranks n−start down to n−end+1: their average.
    const averageRank = n - (start + end - 1) / 2;
    for (let k = start; k < end; k++) if (positive(labels, order[k]!)) positiveRankSum += averageRank;
    start = end;
  }
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface RocPoint {
  readonly fpr: number;
  readonly tpr: number;
  /** Examples scoring at or above this are called positive; +Infinity for the (0, 0) corner. */
  readonly threshold: number;
}

/**
 * The ROC curve: one point per distinct score (tied scores move FPR and TPR together, a
 * diagonal segment), from (0, 0) to (1, 1).
 */
export function rocCurve(scores: ArrayLike<number>, labels: BinaryLabels): RocPoint[] {
  const { positives, negatives } = check(scores, labels);
  const order = descendingOrder(scores);
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let tp = 0;
  let fp = 0;
  for (let start = 0; start < order.length; ) {
    const threshold = scores[order[start]!]!;
    let end = start;
    while (end < order.length && scores[order[end]!]! === threshold) {
      if (positive(labels, order[end]!)) tp++;
      else fp++;
      end++;
    }
    points.push({ fpr: fp / negatives, tpr: tp / positives, threshold });
    start = end;
  }
  return points;
}

/**
 * The true-positive rate at false-positive rate `fpr`, linearly interpolated between the ROC
 * curve's points (the rate a randomised choice between two thresholds achieves). With n₋
 * negatives the curve has steps of 1/n₋: an FPR below that is reached only by interpolating
 * towards the origin, so report the number of negatives with it.
 */
export function tprAtFpr(scores: ArrayLike<number>, labels: BinaryLabels, fpr: number): number {
  if (!(fpr >= 0 && fpr <= 1)) throw new RocInputError(`the false-positive rate must be in [0, 1], got ${fpr}`);
  return tprAtFprOnCurve(rocCurve(scores, labels), fpr);
}

/** `tprAtFpr` on an already computed curve (points in the order `rocCurve` gives them). */
export function tprAtFprOnCurve(curve: readonly RocPoint[], fpr: number): number {
  // The last point with FPR ≤ target has the highest TPR among those at that FPR.
  let i = 0;
  while (i + 1 < curve.length && curve[i + 1]!.fpr <= fpr) i++;
  const a = curve[i]!;
  if (a.fpr === fpr || i + 1 === curve.length) return a.tpr;
  const b = curve[i + 1]!;
  return a.tpr + ((b.tpr - a.tpr) * (fpr - a.fpr)) / (b.fpr - a.fpr);
}

/** Yeom et al.'s membership advantage at the best threshold: max over the curve of TPR − FPR. */
export function maxAdvantage(curve: readonly RocPoint[]): number {
  let best = 0;
  for (const p of curve) best = Math.max(best, p.tpr - p.fpr);
  return best;
}
