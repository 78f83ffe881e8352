/**
 * Intensity histogram features (IBSI 3.4, family `ih`): the distribution of the discretised grey
 * levels of the ROI intensity mask, as one 3-D set (DHQ4).
 *
 * The first sixteen features are the intensity-based statistics (IBSI 3.3) applied to the grey
 * levels, so they come from the same `describeDistribution`; the rest (mode, entropy,
 * uniformity, histogram gradients) need the histogram itself, over all levels 1..Ng whether
 * they occur or not (IBSI 12CE: the histogram must not be sparse).
 */
import { RadiomicsInputError } from '../errors.js';
import type { Feature } from '../types.js';
import { describeDistribution } from './statistics.js';

function ih(name: string, code: string, value: number): Feature {
  return { family: 'ih', name, code, aggregation: '', value };
}

/** Counts n_1..n_Ng of each grey level (index 0 holds level 1). */
function histogram(levels: Int32Array, ng: number): Float64Array {
  const counts = new Float64Array(ng);
  for (let k = 0; k < levels.length; k++) {
    const level = levels[k]!;
    if (level < 1 || level > ng) {
      throw new RadiomicsInputError(`intensity histogram: grey level ${level} at position ${k} is outside 1..${ng}`);
    }
    counts[level - 1]!++;
  }
  return counts;
}

/**
 * IBSI AMMC: the most frequent level; among equally frequent levels the one closest to the mean,
 * and of two equally close the lower one ("the bin to the left of the mean").
 */
function mode(counts: Float64Array, mean: number): number {
  let best = NaN;
  let bestCount = 0;
  let bestDistance = Infinity;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i]!;
    const level = i + 1;
    const distance = Math.abs(level - mean);
    // Ascending levels: on a tie of count and distance the earlier (lower) level is kept.
    if (count > bestCount || (count === bestCount && count > 0 && distance < bestDistance)) {
      best = level;
      bestCount = count;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * IBSI 12CE: the histogram gradient H′, a one-sided difference at the first and last level and a
 * central difference between. Undefined (empty) for a single level, which has no neighbour.
 */
function histogramGradient(counts: Float64Array): Float64Array {
  const ng = counts.length;
  const gradient = new Float64Array(ng < 2 ? 0 : ng);
  if (ng < 2) return gradient;
  gradient[0] = counts[1]! - counts[0]!;
  for (let i = 1; i < ng - 1; i++) gradient[i] = (counts[i + 1]! - counts[i - 1]!) / 2;
  gradient[ng - 1] = counts[ng - 1]! - counts[ng - 2]!;
  return gradient;
}

/** The extreme of H′ and its grey level (the lowest level where several share it); NaN for an empty gradient. */
function gradientExtreme(gradient: Float64Array, sign: 1 | -1): { value: number; level: number } {
  let value = NaN;
  let level = NaN;
  for (let i = 0; i < gradient.length; i++) {
    const g = gradient[i]!;
    if (Number.isNaN(value) || sign * g > sign * value) {
      value = g;
      level = i + 1;
    }
  }
  return { value, level };
}

/**
 * The 23 intensity histogram features (IBSI 3.4) of `levels`, the discretised grey levels
 * (1..ng) of the intensity mask's voxels, one per voxel, named as in the IBSI reference value
 * table. `ng` is the discretisation's number of levels: the histogram and its gradient span
 * 1..ng. With a single grey level (ng = 1) the gradient features are NaN (H′ has no neighbour
 * to difference with); with no voxels every feature is NaN.
 */
export function histogramFeatures(levels: Int32Array, ng: number): Feature[] {
  if (!Number.isInteger(ng) || ng < 1) throw new RadiomicsInputError(`intensity histogram: the number of grey levels must be a positive integer, got ${ng}`);
  const counts = histogram(levels, ng);
  const s = describeDistribution(levels);
  const n = levels.length;

  let entropy = 0;
  let uniformity = 0;
  for (let i = 0; i < ng; i++) {
    const p = counts[i]! / n;
    if (p > 0) {
      entropy -= p * Math.log2(p);
      uniformity += p * p;
    }
  }
  if (n === 0) {
    entropy = NaN;
    uniformity = NaN;
  }

  const gradient = n === 0 ? new Float64Array(0) : histogramGradient(counts);
  const maxGradient = gradientExtreme(gradient, 1);
  const minGradient = gradientExtreme(gradient, -1);

  // The CSV gives "10th discretised intensity percentile" the code 1PR8 (as the manual's
  // table does) although that is also the minimum's code: kept as published.
  return [
    ih('Mean discretised intensity', 'X6K6', s.mean),
    ih('Discretised intensity variance', 'CH89', s.variance),
    ih('Discretised intensity skewness', '88K1', s.skewness),
    ih('(Excess) discretised intensity kurtosis', 'C3I7', s.kurtosis),
    ih('Median discretised intensity', 'WIFQ', s.median),
    ih('Minimum discretised intensity', '1PR8', s.minimum),
    ih('10th discretised intensity percentile', '1PR8', s.p10),
    ih('90th discretised intensity percentile', 'GPMT', s.p90),
    ih('Maximum discretised intensity', '3NCY', s.maximum),
    ih('Intensity histogram mode', 'AMMC', mode(counts, s.mean)),
    ih('Discretised intensity interquartile range', 'WR0O', s.interquartileRange),
    ih('Discretised intensity range', '5Z3W', s.range),
    ih('Intensity histogram mean absolute deviation', 'D2ZX', s.meanAbsoluteDeviation),
    ih('Intensity histogram robust mean absolute deviation', 'WRZB', s.robustMeanAbsoluteDeviation),
    ih('Intensity histogram median absolute deviation', '4RNL', s.medianAbsoluteDeviation),
    ih('Intensity histogram coefficient of variation', 'CWYJ', s.coefficientOfVariation),
    ih('Intensity histogram quartile coefficient of dispersion', 'SLWD', s.quartileCoefficientOfDispersion),
    ih('Discretised intensity entropy', 'TLU2', entropy),
    ih('Discretised intensity uniformity', 'BJ5W', uniformity),
    ih('Maximum histogram gradient', '12CE', maxGradient.value),
    ih('Maximum histogram gradient intensity', '8E6O', maxGradient.level),
    ih('Minimum histogram gradient', 'VQB3', minGradient.value),
    ih('Minimum histogram gradient intensity', 'RHQZ', minGradient.level),
  ];
}
