/**
 * Utility metrics (information loss), defined as ARX 3 defines them (package
 * `org.deidentifier.arx.metric.v2`, with ARX's default parameters: generalization and
 * suppression weighted equally, gs-factor 0.5). For every metric LOWER IS BETTER.
 *
 * Notation: N records, q quasi-identifiers, attribute c at level l_c with h_c = its hierarchy's
 * height − 1 (highest level), S suppressed records (in classes that violate a privacy model and
 * are suppressed), U = N − S. A suppressed record is released with every quasi-identifier "*".
 *
 * | name           | ARX class                 | definition                                                                                   |
 * | -------------- | ------------------------- | -------------------------------------------------------------------------------------------- |
 * | height         | MetricMDHeight            | Σ_c l_c (suppression is not counted)                                                         |
 * | precision      | MetricMDNMPrecision       | (1/q) Σ_c (U · l_c/h_c + S) / N  (Sweeney 2002; l_c/h_c = 0 when h_c = 0)                    |
 * | aecs           | MetricSDAECS              | N / (classes not suppressed + 1 if S > 0): suppressed records form one class                 |
 * | discernibility | MetricSDNMDiscernability  | Σ_{classes not suppressed} |E|² + S · N  (Bayardo & Agrawal 2005)                            |
 * | entropy        | MetricMDNUNMEntropy       | Σ_c [ −Σ_records log2(f_0(v) / f_l(g(v))) ] + Σ_c [ −Σ_w s_w log2(s_w / S) ]                 |
 * | loss           | MetricMDNMLoss            | geometric mean over c of L_c, i.e. Π_c (1 + L_c)^(1/q) − 1 (ARX's default aggregate),         |
 * |                |                           | L_c = (Σ_{records not suppressed} (leaves(g) − 1) + S · (d_c − 1)) / (N · (d_c − 1))        |
 *
 * Entropy (non-uniform entropy, Gionis & Tassa 2009, in ARX's non-monotonic variant): f_0(v) is
 * the number of records with the record's original value v in the whole table, f_l(g(v)) the
 * number with its generalized value; a suppressed record also loses what generalization left, which
 * ARX charges as the entropy of the suppressed records' generalized values w (s_w of them) within
 * the S suppressed records, per attribute. Without suppression this is ARX's MetricMDNUEntropy.
 *
 * Loss (Iyengar 2002): leaves(g) is how many values of the hierarchy (its rows, d_c of them) the
 * generalized value stands for, so an original value costs 0 and "*" costs 1; a suppressed
 * record costs 1 per attribute. ARX computes it from domain shares leaves/d normalized to
 * [0, 1], which is the same number.
 *
 * Monotonic metrics (a generalization is never better than what it generalizes) let the search
 * skip every successor of an anonymous node. All six are monotonic without suppression; with
 * suppression only height is (a coarser transformation may suppress fewer records and score
 * better), as ARX declares them. Each metric also has a LOWER BOUND that is monotonic in the
 * lattice (ARX's `getLowerBound`): its value with suppression ignored, i.e. every record
 * counted as generalized rather than suppressed. For height, precision, loss and entropy the
 * bound depends on the levels only; for discernibility (Σ|E|² over all classes) and aecs
 * (N / all classes) it needs the classes, and the search tightens both with what every
 * anonymous transformation guarantees: its kept classes are at least as large as the models
 * require, and its suppressed records form at most one class (`BoundLimits`; proofs at
 * `UtilityMetric.bound`).
 */
import { classCode, type ClassSet, type EncodedData } from './classes.js';

export const METRIC_NAMES = ['loss', 'discernibility', 'entropy', 'precision', 'aecs', 'height'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export function isMetricName(text: string): text is MetricName {
  return (METRIC_NAMES as readonly string[]).includes(text);
}

export interface MetricInfo {
  readonly name: MetricName;
  readonly title: string;
  /** The ARX class whose definition this follows. */
  readonly arxClass: string;
  readonly monotonicWithoutSuppression: boolean;
  readonly monotonicWithSuppression: boolean;
  /** Whether the lower bound needs the classes (otherwise it follows from the levels alone). */
  readonly boundNeedsClasses: boolean;
}

export const METRICS: Readonly<Record<MetricName, MetricInfo>> = {
  loss: { name: 'loss', title: 'loss', arxClass: 'MetricMDNMLoss', monotonicWithoutSuppression: true, monotonicWithSuppression: false, boundNeedsClasses: false },
  discernibility: {
    name: 'discernibility',
    title: 'discernibility',
    arxClass: 'MetricSDNMDiscernability',
    monotonicWithoutSuppression: true,
    monotonicWithSuppression: false,
    boundNeedsClasses: true,
  },
  entropy: { name: 'entropy', title: 'non-uniform entropy', arxClass: 'MetricMDNUNMEntropy', monotonicWithoutSuppression: true, monotonicWithSuppression: false, boundNeedsClasses: false },
  precision: { name: 'precision', title: 'precision', arxClass: 'MetricMDNMPrecision', monotonicWithoutSuppression: true, monotonicWithSuppression: false, boundNeedsClasses: false },
  aecs: { name: 'aecs', title: 'average equivalence class size', arxClass: 'MetricSDAECS', monotonicWithoutSuppression: true, monotonicWithSuppression: false, boundNeedsClasses: true },
  height: { name: 'height', title: 'height', arxClass: 'MetricMDHeight', monotonicWithoutSuppression: true, monotonicWithSuppression: true, boundNeedsClasses: false },
};

/** Whether the metric is monotonic when up to `maxSuppressed` records may be suppressed. */
export function isMonotonicMetric(name: MetricName, maxSuppressed: number): boolean {
  return maxSuppressed === 0 ? METRICS[name].monotonicWithoutSuppression : METRICS[name].monotonicWithSuppression;
}

/** What every anonymous transformation guarantees, which tightens the lower bounds (`UtilityMetric.bound`). */
export interface BoundLimits {
  /** Every class that is not suppressed holds at least this many records (the models' `minClassSize`). */
  readonly minClassSize: number;
  /** The most records that may be suppressed. */
  readonly maxSuppressed: number;
}

/** No guarantee: the bounds are the metrics with suppression ignored. */
const NO_LIMITS: BoundLimits = { minClassSize: 1, maxSuppressed: 0 };

const LOG2 = Math.log(2);
const log2 = (x: number) => Math.log(x) / LOG2;

/**
 * A metric prepared for one data set: what depends on the levels alone is computed once per
 * attribute and level.
 */
export class UtilityMetric {
  readonly info: MetricInfo;
  private readonly q: number;
  private readonly n: number;
  /** Highest level per attribute. */
  private readonly maxLevels: Int32Array;
  /** loss: Σ over all records of (leaves(g) − 1), per attribute and level. */
  private readonly lossSums: Float64Array[];
  /** entropy: the non-uniform entropy of all records, per attribute and level. */
  private readonly entropies: Float64Array[];
  /** Scratch per attribute for the suppressed records' generalized values. */
  private readonly scratch: Float64Array[];

  /** Every class that is not suppressed holds at least this many records (capped at N). */
  private readonly minKept: number;
  /** Whether an anonymous transformation may have suppressed records. */
  private readonly maySuppress: boolean;

  /**
   * `limits` tightens `bound` for discernibility and aecs with what every anonymous
   * transformation guarantees; without it the bound is the metric with suppression ignored.
   */
  constructor(
    readonly name: MetricName,
    private readonly data: EncodedData,
    limits: BoundLimits = NO_LIMITS,
  ) {
    if (!(Number.isInteger(limits.minClassSize) && limits.minClassSize >= 1)) throw new RangeError(`the smallest class size must be a whole number ≥ 1, got ${limits.minClassSize}`);
    if (!(Number.isInteger(limits.maxSuppressed) && limits.maxSuppressed >= 0)) throw new RangeError(`the most suppressed records must be a whole number ≥ 0, got ${limits.maxSuppressed}`);
    this.minKept = Math.min(limits.minClassSize, data.records);
    this.maySuppress = limits.maxSuppressed > 0;
    this.info = METRICS[name];
    this.q = data.columns.length;
    this.n = data.records;
    this.maxLevels = Int32Array.from(data.columns, (c) => c.height - 1);
    this.lossSums = data.columns.map((col) =>
      Float64Array.from({ length: col.height }, (_, l) => {
        let sum = 0;
        const f = col.frequencies[l]!;
        const leaves = col.leaves[l]!;
        for (let g = 0; g < f.length; g++) sum += f[g]! * (leaves[g]! - 1);
        return sum;
      }),
    );
    this.entropies = name === 'entropy' ? data.columns.map((col) => Float64Array.from({ length: col.height }, (_, l) => rawEntropy(col, l))) : [];
    this.scratch = name === 'entropy' ? data.columns.map((col) => new Float64Array(Math.max(...col.labels.map((x) => x.length)))) : [];
  }

  /** The lower bound from the levels alone, or undefined for metrics whose bound needs the classes. */
  levelBound(levels: ArrayLike<number>): number | undefined {
    switch (this.name) {
      case 'height':
        return this.height(levels);
      case 'precision': {
        let sum = 0;
        for (let c = 0; c < this.q; c++) sum += this.precisionShare(c, levels[c]!);
        return sum / this.q;
      }
      case 'loss': {
        const shares = new Float64Array(this.q);
        for (let c = 0; c < this.q; c++) shares[c] = this.lossShare(c, this.lossSums[c]![levels[c]!]!, 0);
        return geometricMean(shares);
      }
      case 'entropy': {
        let sum = 0;
        for (let c = 0; c < this.q; c++) sum += this.entropies[c]![levels[c]!]!;
        return sum;
      }
      default:
        return undefined;
    }
  }

  /**
   * A lower bound of the utility of this transformation and of every generalization of it, among
   * those that are anonymous; monotonic in the lattice (a generalization's bound is at least
   * this one), so a node whose bound loses rules out all its successors. Proofs, with κ the
   * smallest size of a kept class (`BoundLimits.minClassSize`, capped at N), E the classes of
   * this node X and Y an anonymous generalization of X (each class of Y is a union of classes
   * of X):
   *
   * discernibility: Σ_E |E| · max(|E|, κ). Each record costs |E'| in Y when its class E' is
   * kept, with |E'| ≥ |E| (E ⊆ E') and |E'| ≥ κ, or N ≥ max(|E|, κ) when suppressed; summing
   * per record gives the bound (for Y = X too). Monotonic: a class E' of Y that unites classes
   * E_j of X adds |E'|·max(|E'|, κ) = Σ_j |E_j|·max(|E'|, κ) ≥ Σ_j |E_j|·max(|E_j|, κ). With
   * κ = 1 this is ARX's Σ|E|².
   *
   * aecs: N / C with C = min(|classes of X|, B + ⌊R/κ⌋ + [suppression allowed]), B the classes
   * of X with at least κ records and R the records in the others. Y's kept classes plus one for
   * its suppressed records (the denominator) are at most its classes, at most X's. Each kept
   * class of Y holds ≥ κ records, so it contains a class of X with ≥ κ records (at most B such
   * kept classes, the classes of X being disjoint) or unites small classes of X holding ≥ κ
   * records in all (at most ⌊R/κ⌋ such); the suppressed class counts only if suppression is
   * allowed. Monotonic: C(Y) ≤ C(X), since Y's big classes holding a big class of X number ≤ B,
   * and the b others together with Y's small classes are made of X's small classes, so
   * b + ⌊R_Y/κ⌋ ≤ ⌊(bκ + R_Y)/κ⌋ ≤ ⌊R/κ⌋. With κ = 1 this is ARX's N / |classes|.
   *
   * The others: the metric with suppression ignored, from the levels alone (`levelBound`).
   *
   * The sums are of whole numbers below 2^53 and N / C is one correctly rounded division, so the
   * bound is exact and monotonic in floating point as well, which the search's pruning needs.
   */
  bound(classes: ClassSet): number {
    const counts = classes.counts;
    const size = classes.size;
    switch (this.name) {
      case 'discernibility': {
        const kappa = this.minKept;
        let sum = 0;
        for (let i = 0; i < size; i++) {
          const count = counts[i]!;
          sum += count * (count > kappa ? count : kappa);
        }
        return sum;
      }
      case 'aecs': {
        const kappa = this.minKept;
        if (kappa === 1) return this.n / size;
        let big = 0;
        let smallRecords = 0;
        for (let i = 0; i < size; i++) {
          const count = counts[i]!;
          if (count >= kappa) big++;
          else smallRecords += count;
        }
        const most = Math.min(size, big + Math.floor(smallRecords / kappa) + (this.maySuppress ? 1 : 0));
        return this.n / most;
      }
      default:
        return this.levelBound(classes.levels)!;
    }
  }

  /**
   * The utility of a transformation whose classes are `classes`, of which those flagged in
   * `suppressed` (1 = suppressed) hold `suppressedRecords` records.
   */
  utility(classes: ClassSet, suppressed: Uint8Array, suppressedRecords: number): number {
    const S = suppressedRecords;
    const N = this.n;
    const q = this.q;
    const levels = classes.levels;
    switch (this.name) {
      case 'height':
        return this.height(levels);
      case 'precision': {
        // MetricMDNMPrecision: (U·l/h + S) / N per attribute, arithmetic mean.
        // Without suppression this is exactly the bound's arithmetic (so utility ≥ bound holds
        // in floating point too, which the search's pruning relies on).
        const U = N - S;
        let sum = 0;
        for (let c = 0; c < q; c++) {
          const share = this.precisionShare(c, levels[c]!);
          sum += S === 0 ? share : (U * share + S) / N;
        }
        return sum / q;
      }
      case 'aecs': {
        let kept = 0;
        for (let i = 0; i < classes.size; i++) if (!suppressed[i]) kept++;
        return N / (kept + (S > 0 ? 1 : 0));
      }
      case 'discernibility': {
        let sum = 0;
        for (let i = 0; i < classes.size; i++) {
          const count = classes.counts[i]!;
          sum += suppressed[i] ? count * N : count * count;
        }
        return sum;
      }
      case 'loss': {
        const shares = new Float64Array(q);
        for (let c = 0; c < q; c++) {
          const leaves = this.data.columns[c]!.leaves[levels[c]!]!;
          let suppressedSum = 0;
          if (S > 0) {
            for (let i = 0; i < classes.size; i++) if (suppressed[i]) suppressedSum += classes.counts[i]! * (leaves[classCode(this.data, classes, c, i)]! - 1);
          }
          shares[c] = this.lossShare(c, this.lossSums[c]![levels[c]!]! - suppressedSum, S);
        }
        return geometricMean(shares);
      }
      case 'entropy': {
        let sum = 0;
        for (let c = 0; c < q; c++) sum += this.entropies[c]![levels[c]!]!;
        if (S === 0) return sum;
        // ARX MetricMDNUNMEntropyPrecomputed: per attribute, −Σ_w s_w·log2(s_w / S) over the
        // suppressed records' generalized values w. Counted per code and summed in code order,
        // so the result does not depend on the order of the classes.
        let extra = 0;
        for (let c = 0; c < q; c++) {
          const counts = this.scratch[c]!;
          const width = this.data.columns[c]!.labels[levels[c]!]!.length;
          counts.fill(0, 0, width);
          for (let i = 0; i < classes.size; i++) if (suppressed[i]) counts[classCode(this.data, classes, c, i)]! += classes.counts[i]!;
          let column = 0;
          for (let w = 0; w < width; w++) {
            const s = counts[w]!;
            if (s > 0) column += s * log2(s / S);
          }
          extra -= column;
        }
        return sum + extra;
      }
    }
  }

  private height(levels: ArrayLike<number>): number {
    let sum = 0;
    for (let c = 0; c < this.q; c++) sum += levels[c]!;
    return sum;
  }

  private precisionShare(c: number, level: number): number {
    const h = this.maxLevels[c]!;
    return h === 0 ? 0 : level / h;
  }

  /** L_c from the sum of (leaves − 1) over the records not suppressed and the suppressed count. */
  private lossShare(c: number, keptSum: number, suppressed: number): number {
    const d = this.data.columns[c]!.domainSize;
    if (d <= 1) return 0;
    return (keptSum + suppressed * (d - 1)) / (this.n * (d - 1));
  }
}

/** ARX's ILMultiDimensionalGeometricMean: Π (v + 1)^(1/n) − 1 (1 is added so zeros do not dominate). */
function geometricMean(values: Float64Array): number {
  let result = 1;
  for (let i = 0; i < values.length; i++) result *= Math.pow(values[i]! + 1, 1 / values.length);
  return result - 1;
}

/**
 * The non-uniform entropy of one attribute at one level over all records (ARX
 * MetricMDNUEntropyPrecomputed): −Σ_v f_0(v) · log2(f_0(v) / f_l(g(v))), summed over the level-0
 * codes in order.
 */
function rawEntropy(col: EncodedData['columns'][number], level: number): number {
  const f0 = col.frequencies[0]!;
  const fl = col.frequencies[level]!;
  let value = 0;
  for (let v = 0; v < col.domainSize; v++) {
    const a = f0[v]!;
    if (a !== 0) value += a * log2(a / fl[col.generalize[level * col.domainSize + v]!]!);
  }
  return value === 0 ? 0 : -value;
}
