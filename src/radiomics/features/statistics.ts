/**
 * Intensity-based statistical features (IBSI 3.3, family `stat`), computed over the intensities
 * of the ROI intensity mask as one 3-D set (IBSI recommends 3-D calculation, DHQ4).
 *
 * The summary statistics themselves (moments, order statistics, deviations) are shared with the
 * intensity histogram family (IBSI 3.4), whose first sixteen features are the same formulas
 * applied to discretised intensities: `describeDistribution` computes them once for both.
 */
import type { Feature } from '../types.js';

/**
 * The `p`-th percentile (0 ≤ p ≤ 100) of ascending `sorted` values. IBSI does not fix a
 * percentile definition; we use linear interpolation between order statistics at rank
 * p/100 · (n − 1) (Hyndman and Fan type 7, the default of numpy and R), which reproduces the
 * consensus values, e.g. P90 = 4 for the digital phantom (the manual notes that other
 * definitions give 4.2). NaN for an empty set.
 */
export function percentile(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = (p / 100) * (n - 1);
  const lower = Math.floor(rank);
  const upper = Math.min(lower + 1, n - 1);
  const a = sorted[lower]!;
  const b = sorted[upper]!;
  const fraction = rank - lower;
  // a + fraction·(b − a) returns a exactly when a = b, so runs of equal values stay exact.
  return fraction === 0 ? a : a + fraction * (b - a);
}

/** a / b, NaN where b = 0: IBSI leaves such ratios undefined (e.g. a coefficient of variation at mean 0). */
function ratio(a: number, b: number): number {
  return b === 0 ? NaN : a / b;
}

/** The statistics IBSI 3.3 and 3.4 share, of one set of values. */
export interface DistributionSummary {
  readonly count: number;
  readonly mean: number;
  /** Population variance, no bias correction (IBSI ECT3, CH89). */
  readonly variance: number;
  /** 0 where the variance is 0 (IBSI KE2A, 88K1). */
  readonly skewness: number;
  /** Excess kurtosis (Fisher, −3); 0 where the variance is 0 (IBSI IPH6, C3I7). */
  readonly kurtosis: number;
  readonly median: number;
  readonly minimum: number;
  readonly p10: number;
  readonly p25: number;
  readonly p75: number;
  readonly p90: number;
  readonly maximum: number;
  readonly interquartileRange: number;
  readonly range: number;
  readonly meanAbsoluteDeviation: number;
  /** Mean absolute deviation of the values within [P10, P90] from their own mean (IBSI 1128, WRZB). */
  readonly robustMeanAbsoluteDeviation: number;
  /** Mean absolute deviation from the median (IBSI N72L, 4RNL). */
  readonly medianAbsoluteDeviation: number;
  /** σ / μ, NaN where μ = 0. */
  readonly coefficientOfVariation: number;
  /** (P75 − P25) / (P75 + P25), NaN where the denominator is 0. */
  readonly quartileCoefficientOfDispersion: number;
  /** Σ x² (IBSI N8CA). */
  readonly energy: number;
  /** √(Σ x² / N) (IBSI 5ZWQ). */
  readonly rootMeanSquare: number;
}

/**
 * Summary statistics of `values` (any order; the input is not modified). Every field is NaN
 * for an empty set, except `count` (0) and `energy` (0, an empty sum).
 */
export function describeDistribution(values: ArrayLike<number>): DistributionSummary {
  const n = values.length;
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  let sumSquares = 0;
  for (let k = 0; k < n; k++) {
    const x = sorted[k]!;
    sum += x;
    sumSquares += x * x;
  }
  const mean = n > 0 ? sum / n : NaN;

  // Central moments in a second pass: subtracting the mean first keeps the variance of large
  // offset values (CT in HU) accurate, where Σx²/N − μ² would cancel catastrophically.
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  let absoluteDeviation = 0;
  for (let k = 0; k < n; k++) {
    const d = sorted[k]! - mean;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
    absoluteDeviation += Math.abs(d);
  }
  const variance = n > 0 ? m2 / n : NaN;
  const skewness = n === 0 ? NaN : variance === 0 ? 0 : m3 / n / Math.pow(variance, 1.5);
  const kurtosis = n === 0 ? NaN : variance === 0 ? 0 : m4 / n / (variance * variance) - 3;

  const median = percentile(sorted, 50);
  const p10 = percentile(sorted, 10);
  const p25 = percentile(sorted, 25);
  const p75 = percentile(sorted, 75);
  const p90 = percentile(sorted, 90);
  const minimum = n > 0 ? sorted[0]! : NaN;
  const maximum = n > 0 ? sorted[n - 1]! : NaN;

  let medianDeviation = 0;
  for (let k = 0; k < n; k++) medianDeviation += Math.abs(sorted[k]! - median);

  return {
    count: n,
    mean,
    variance,
    skewness,
    kurtosis,
    median,
    minimum,
    p10,
    p25,
    p75,
    p90,
    maximum,
    interquartileRange: p75 - p25,
    range: maximum - minimum,
    meanAbsoluteDeviation: n > 0 ? absoluteDeviation / n : NaN,
    robustMeanAbsoluteDeviation: robustMeanAbsoluteDeviation(sorted, p10, p90),
    medianAbsoluteDeviation: n > 0 ? medianDeviation / n : NaN,
    coefficientOfVariation: ratio(Math.sqrt(variance), mean),
    quartileCoefficientOfDispersion: ratio(p75 - p25, p75 + p25),
    energy: sumSquares,
    rootMeanSquare: n > 0 ? Math.sqrt(sumSquares / n) : NaN,
  };
}

/** IBSI 1128: the mean absolute deviation of {x | P10 ≤ x ≤ P90} from that subset's own mean. */
function robustMeanAbsoluteDeviation(sorted: Float64Array, p10: number, p90: number): number {
  let count = 0;
  let sum = 0;
  for (let k = 0; k < sorted.length; k++) {
    const x = sorted[k]!;
    if (x >= p10 && x <= p90) {
      count++;
      sum += x;
    }
  }
  if (count === 0) return NaN;
  const mean = sum / count;
  let deviation = 0;
  for (let k = 0; k < sorted.length; k++) {
    const x = sorted[k]!;
    if (x >= p10 && x <= p90) deviation += Math.abs(x - mean);
  }
  return deviation / count;
}

function stat(name: string, code: string, value: number): Feature {
  return { family: 'stat', name, code, aggregation: '', value };
}

/**
 * The 18 intensity-based statistical features (IBSI 3.3) of the intensity mask's intensities
 * `values`, named as in the IBSI reference value table. A single voxel gives a variance of 0
 * and, by IBSI's rule, a skewness and kurtosis of 0; ratios with a zero denominator are NaN.
 */
export function statisticalFeatures(values: Float64Array): Feature[] {
  const s = describeDistribution(values);
  return [
    stat('Mean intensity', 'Q4LE', s.mean),
    stat('Intensity variance', 'ECT3', s.variance),
    stat('Intensity skewness', 'KE2A', s.skewness),
    stat('(Excess) intensity kurtosis', 'IPH6', s.kurtosis),
    stat('Median intensity', 'Y12H', s.median),
    stat('Minimum intensity', '1GSF', s.minimum),
    stat('10th intensity percentile', 'QG58', s.p10),
    stat('90th intensity percentile', '8DWT', s.p90),
    stat('Maximum intensity', '84IY', s.maximum),
    stat('Intensity interquartile range', 'SALO', s.interquartileRange),
    stat('Intensity range', '2OJQ', s.range),
    stat('Intensity-based mean absolute deviation', '4FUA', s.meanAbsoluteDeviation),
    stat('Intensity-based robust mean absolute deviation', '1128', s.robustMeanAbsoluteDeviation),
    stat('Intensity-based median absolute deviation', 'N72L', s.medianAbsoluteDeviation),
    stat('Intensity-based coefficient of variation', '7TET', s.coefficientOfVariation),
    stat('Intensity-based quartile coefficient of dispersion', '9S40', s.quartileCoefficientOfDispersion),
    stat('Intensity-based energy', 'N8CA', s.energy),
    stat('Root mean square intensity', '5ZWQ', s.rootMeanSquare),
  ];
}
