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
 * (N / all classes) it needs the classes.
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

  constructor(
    readonly name: MetricName,
    private readonly data: EncodedData,
  ) {
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

  /** The lower bound given the classes (suppression ignored); monotonic in the lattice. */
  bound(classes: ClassSet): number {
    switch (this.name) {
      case 'discernibility': {
        let sum = 0;
        for (let i = 0; i < classes.size; i++) sum += classes.counts[i]! * classes.counts[i]!;
        return sum;
      }
      case 'aecs':
        return this.n / classes.size;
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
