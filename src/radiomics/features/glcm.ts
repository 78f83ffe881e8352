/**
 * Grey level co-occurrence features (IBSI 3.6, family `cm`, LFYI).
 *
 * A GLCM counts, for one direction m at Chebyshev distance δ, the pairs of grey levels (i, j) of
 * voxels v and v + δ·m that are both in the intensity mask. It is symmetric: each pair is counted
 * along m and along −m (M_m = M_m+ + M_m+ᵀ, Haralick 1973). 2-D matrices are counted within one
 * slice (k constant) along the 4 in-plane directions; 3-D matrices over the volume along the 13
 * directions. Features are aggregated over directions and slices in the six ways of IBSI 3.6.1
 * (see `aggregateDirectional`).
 *
 * Matrices are stored dense, row-major: `counts[(i − 1) · ng + (j − 1)]` for grey levels i, j in
 * 1..ng, with ng the discretisation's number of grey levels (`DiscretisedRoi.ng`), so every sum
 * of IBSI 3.6 runs over i, j = 1..N_g whether or not a level occurs.
 */
import { RadiomicsInputError } from '../errors.js';
import type { DiscretisedRoi, Feature, TextureOptions } from '../types.js';
import {
  aggregateDirectional,
  checkDirection,
  checkSlice,
  DIRECTIONS_2D,
  DIRECTIONS_3D,
  roiBox,
  TEXTURE_DIMENSIONS,
  type Direction,
  type MatrixFamily,
  type RoiBox,
} from './directions.js';

/**
 * The symmetric co-occurrence matrix of `d` along `direction` at Chebyshev distance `distance`:
 * within slice `slice` (a k index; the direction must lie in the slice plane), or over the
 * whole volume when `slice` is null. Returns ng × ng counts, `counts[(i − 1) · ng + (j − 1)]`.
 */
export function cooccurrenceMatrix(d: DiscretisedRoi, direction: Direction, slice: number | null, distance = 1): Float64Array {
  checkDirection(direction);
  checkDistance(distance);
  if (slice !== null) checkSlice(d, direction, slice);
  const box = roiBox(d);
  const counts = new Float64Array(d.ng * d.ng);
  if (!box) return counts;
  const k0 = slice === null ? box.k0 : slice;
  const k1 = slice === null ? box.k1 : slice;
  if (k0 >= box.k0 && k1 <= box.k1) countPairs(d, box, direction, distance, k0, k1, counts, false);
  return counts;
}

function checkDistance(distance: number): void {
  if (!Number.isInteger(distance) || distance < 1) throw new RadiomicsInputError(`GLCM distance must be a positive integer, got ${distance}`);
}

/**
 * Adds the pairs (v, v + δ·m) with v in slices k0..k1 of the box to `out`, both ways round.
 * With `perSlice`, `out` holds one ng × ng matrix per slice of the box and each pair goes to
 * the matrix of its slice (the caller passes in-plane directions only).
 *
 * The loop bounds keep v and v + δ·m inside the box (voxels outside it are not in the mask),
 * so the inner loop needs no bounds checks: one index offset per direction.
 */
function countPairs(d: DiscretisedRoi, box: RoiBox, direction: Direction, distance: number, k0: number, k1: number, out: Float64Array, perSlice: boolean): void {
  const [nx, ny] = d.dims;
  const { levels, ng } = d;
  const di = direction[0] * distance;
  const dj = direction[1] * distance;
  const dk = direction[2] * distance;
  const offset = di + nx * (dj + ny * dk);
  const iFrom = Math.max(box.i0, box.i0 - di);
  const iTo = Math.min(box.i1, box.i1 - di);
  const jFrom = Math.max(box.j0, box.j0 - dj);
  const jTo = Math.min(box.j1, box.j1 - dj);
  const kFrom = Math.max(k0, box.k0 - dk);
  const kTo = Math.min(k1, box.k1 - dk);
  const size = ng * ng;
  for (let k = kFrom; k <= kTo; k++) {
    // The slice's matrix offset minus (ng + 1): out[base + a·ng + b] is then row a − 1, column
    // b − 1 of that matrix, for 1-based grey levels a and b.
    const base = (perSlice ? (k - box.k0) * size : 0) - ng - 1;
    for (let j = jFrom; j <= jTo; j++) {
      const row = nx * (j + ny * k);
      for (let i = iFrom; i <= iTo; i++) {
        const a = levels[row + i]!;
        if (a === 0) continue;
        const b = levels[row + i + offset]!;
        if (b === 0) continue;
        out[base + a * ng + b] = out[base + a * ng + b]! + 1;
        out[base + b * ng + a] = out[base + b * ng + a]! + 1;
      }
    }
  }
}

/** The in-plane matrices of every slice of the box, for one direction: `[slice − box.k0]`. */
function sliceMatrices(d: DiscretisedRoi, box: RoiBox, direction: Direction, distance: number): Float64Array[] {
  const size = d.ng * d.ng;
  const slices = box.k1 - box.k0 + 1;
  const all = new Float64Array(slices * size);
  countPairs(d, box, direction, distance, box.k0, box.k1, all, true);
  return Array.from({ length: slices }, (_, s) => all.subarray(s * size, (s + 1) * size));
}

/** The GLCM features in the order of the IBSI reference values, with their IBSI codes. */
export const GLCM_FEATURES: readonly { readonly name: string; readonly code: string }[] = [
  { name: 'Joint maximum', code: 'GYBY' },
  { name: 'Joint average', code: '60VM' },
  { name: 'Joint variance', code: 'UR99' },
  { name: 'Joint entropy', code: 'TU9B' },
  { name: 'Difference average', code: 'TF7R' },
  { name: 'Difference variance', code: 'D3YU' },
  { name: 'Difference entropy', code: 'NTRS' },
  { name: 'Sum average', code: 'ZGXS' },
  { name: 'Sum variance', code: 'OEEB' },
  { name: 'Sum entropy', code: 'P6QZ' },
  { name: 'Angular second moment', code: '8ZQL' },
  { name: 'Contrast', code: 'ACUI' },
  { name: 'Dissimilarity', code: '8S9J' },
  { name: 'Inverse difference', code: 'IB1Z' },
  { name: 'Normalised inverse difference', code: 'NDRX' },
  { name: 'Inverse difference moment', code: 'WF0Z' },
  { name: 'Normalised inverse difference moment', code: '1QCO' },
  { name: 'Inverse variance', code: 'E8JP' },
  { name: 'Correlation', code: 'NI2N' },
  { name: 'Autocorrelation', code: 'QWB0' },
  { name: 'Cluster tendency', code: 'DG8W' },
  { name: 'Cluster shade', code: '7NFM' },
  { name: 'Cluster prominence', code: 'AE86' },
  { name: 'Information correlation 1', code: 'R8DG' },
  { name: 'Information correlation 2', code: 'JN9H' },
];

/** −x·log2(x), 0 at x = 0 (the limit; IBSI's entropies sum over occurring probabilities). */
function entropyTerm(x: number): number {
  return x > 0 ? -x * Math.log2(x) : 0;
}

/**
 * The 25 features of one co-occurrence matrix (IBSI 3.6.2–3.6.26), in `GLCM_FEATURES` order;
 * all NaN for an empty matrix. They are built from p_ij = M_ij / ΣM, the row marginal p_i.
 * (= p_.j by symmetry), the diagonal probabilities p_{i−j,k} (k = |i − j| = 0..ng−1) and the
 * cross-diagonal probabilities p_{i+j,k} (k = i + j = 2..2ng); each feature's formula is written
 * beside the sum that computes it, with its IBSI code. N_g is `ng`, the discretisation's number of
 * grey levels (it enters the normalised inverse differences NDRX and 1QCO).
 */
export function cooccurrenceFeatures(counts: Float64Array, ng: number): Float64Array {
  const out = new Float64Array(GLCM_FEATURES.length).fill(NaN);
  let total = 0;
  for (let x = 0; x < counts.length; x++) total += counts[x]!;
  if (total === 0) return out;

  const marginal = new Float64Array(ng + 1); // p_i., index = grey level
  const diagonal = new Float64Array(ng); // p_{i−j,k}
  const crossDiagonal = new Float64Array(2 * ng + 1); // p_{i+j,k}
  let jointMaximum = 0, jointAverage = 0, jointEntropy = 0, energy = 0, contrast = 0;
  let inverseDifference = 0, inverseDifferenceNormalised = 0, inverseDifferenceMoment = 0, inverseDifferenceMomentNormalised = 0;
  let inverseVariance = 0, autocorrelation = 0;
  for (let i = 1; i <= ng; i++) {
    for (let j = 1; j <= ng; j++) {
      const c = counts[(i - 1) * ng + (j - 1)]!;
      if (c === 0) continue;
      const p = c / total;
      const k = Math.abs(i - j);
      marginal[i] = marginal[i]! + p;
      diagonal[k] = diagonal[k]! + p;
      crossDiagonal[i + j] = crossDiagonal[i + j]! + p;
      if (p > jointMaximum) jointMaximum = p; // GYBY: max p_ij
      jointAverage += i * p; // 60VM: Σ i·p_ij
      jointEntropy += entropyTerm(p); // TU9B: −Σ p_ij log2 p_ij
      energy += p * p; // 8ZQL: Σ p_ij²
      contrast += k * k * p; // ACUI: Σ (i − j)² p_ij
      inverseDifference += p / (1 + k); // IB1Z: Σ p_ij / (1 + |i − j|)
      inverseDifferenceNormalised += p / (1 + k / ng); // NDRX: Σ p_ij / (1 + |i − j|/N_g)
      inverseDifferenceMoment += p / (1 + k * k); // WF0Z: Σ p_ij / (1 + (i − j)²)
      inverseDifferenceMomentNormalised += p / (1 + (k * k) / (ng * ng)); // 1QCO: Σ p_ij / (1 + (i − j)²/N_g²)
      if (k > 0) inverseVariance += p / (k * k); // E8JP: 2 Σ_{j>i} p_ij / (i − j)² = Σ_{i≠j} p_ij / (i − j)²
      autocorrelation += i * j * p; // QWB0: Σ i·j·p_ij
    }
  }

  // UR99 joint variance Σ (i − μ)² p_ij = Σ (i − μ)² p_i.; μ_i. = joint average (symmetry).
  let jointVariance = 0, marginalEntropy = 0;
  for (let i = 1; i <= ng; i++) {
    const p = marginal[i]!;
    jointVariance += (i - jointAverage) ** 2 * p;
    marginalEntropy += entropyTerm(p); // HX
  }

  // TF7R, D3YU, NTRS over the diagonal probabilities.
  let differenceAverage = 0, differenceVariance = 0, differenceEntropy = 0;
  for (let k = 0; k < ng; k++) differenceAverage += k * diagonal[k]!;
  for (let k = 0; k < ng; k++) {
    differenceVariance += (k - differenceAverage) ** 2 * diagonal[k]!;
    differenceEntropy += entropyTerm(diagonal[k]!);
  }

  // ZGXS, OEEB, P6QZ over the cross-diagonal probabilities.
  let sumAverage = 0, sumVariance = 0, sumEntropy = 0;
  for (let k = 2; k <= 2 * ng; k++) sumAverage += k * crossDiagonal[k]!;
  for (let k = 2; k <= 2 * ng; k++) {
    sumVariance += (k - sumAverage) ** 2 * crossDiagonal[k]!;
    sumEntropy += entropyTerm(crossDiagonal[k]!);
  }

  // DG8W, 7NFM, AE86: Σ (i + j − 2μ_i.)^n p_ij; HXY1 = −Σ p_ij log2(p_i. p_.j) (R8DG).
  let clusterTendency = 0, clusterShade = 0, clusterProminence = 0, hxy1 = 0;
  for (let i = 1; i <= ng; i++) {
    for (let j = 1; j <= ng; j++) {
      const c = counts[(i - 1) * ng + (j - 1)]!;
      if (c === 0) continue;
      const p = c / total;
      const s = i + j - 2 * jointAverage;
      const s2 = s * s;
      clusterTendency += s2 * p;
      clusterShade += s2 * s * p;
      clusterProminence += s2 * s2 * p;
      hxy1 -= p * Math.log2(marginal[i]! * marginal[j]!);
    }
  }
  // HXY2 = −Σ_i Σ_j p_i. p_.j log2(p_i. p_.j) (JN9H), over all pairs of occurring levels.
  let hxy2 = 0;
  for (let i = 1; i <= ng; i++) {
    const pi = marginal[i]!;
    if (pi === 0) continue;
    for (let j = 1; j <= ng; j++) {
      const pj = marginal[j]!;
      if (pj > 0) hxy2 += entropyTerm(pi * pj);
    }
  }
  const hxy = jointEntropy;

  out[0] = jointMaximum;
  out[1] = jointAverage;
  out[2] = jointVariance;
  out[3] = jointEntropy;
  out[4] = differenceAverage;
  out[5] = differenceVariance;
  out[6] = differenceEntropy;
  out[7] = sumAverage;
  out[8] = sumVariance;
  out[9] = sumEntropy;
  out[10] = energy;
  out[11] = contrast;
  out[12] = differenceAverage; // 8S9J dissimilarity Σ |i − j| p_ij equals the difference average.
  out[13] = inverseDifference;
  out[14] = inverseDifferenceNormalised;
  out[15] = inverseDifferenceMoment;
  out[16] = inverseDifferenceMomentNormalised;
  out[17] = inverseVariance;
  // NI2N: (Σ i·j·p_ij − μ_i.²) / σ_i.², undefined for a single grey level (σ = 0).
  out[18] = jointVariance > 0 ? (autocorrelation - jointAverage * jointAverage) / jointVariance : NaN;
  out[19] = autocorrelation;
  out[20] = clusterTendency;
  out[21] = clusterShade;
  out[22] = clusterProminence;
  // R8DG: (HXY − HXY1) / HX, undefined for a single grey level (HX = 0).
  out[23] = marginalEntropy > 0 ? (hxy - hxy1) / marginalEntropy : NaN;
  // JN9H: √(1 − exp(−2 (HXY2 − HXY))). HXY2 ≥ HXY in exact arithmetic (HXY2 = HX + HY); the
  // clamp keeps rounding from taking the root of a tiny negative number.
  out[24] = Math.sqrt(Math.max(0, 1 - Math.exp(-2 * (hxy2 - hxy))));
  return out;
}

/**
 * Every GLCM feature (IBSI 3.6) of `d` under each aggregation method of `o.dimensions`, named
 * as in the IBSI reference values. Pairs are taken at Chebyshev distance `o.distance`.
 */
export function glcmFeatures(d: DiscretisedRoi, o: TextureOptions): Feature[] {
  checkDistance(o.distance);
  const box = roiBox(d);
  const ng = d.ng;
  const family: MatrixFamily<Float64Array> = {
    featureCount: GLCM_FEATURES.length,
    merge: (parts) => {
      const sum = new Float64Array(ng * ng);
      for (const m of parts) for (let x = 0; x < sum.length; x++) sum[x] = sum[x]! + m[x]!;
      return sum;
    },
    features: (m) => cooccurrenceFeatures(m, ng),
  };
  // 2D and 2.5D aggregate the same in-plane matrices: count them once.
  let inPlane: Float64Array[][] | undefined;
  const rows: Array<{ aggregation: Feature['aggregation']; values: Float64Array }> = [];
  for (const dimension of TEXTURE_DIMENSIONS) {
    if (!o.dimensions.includes(dimension)) continue;
    let matrices: Float64Array[][];
    if (!box) matrices = [[new Float64Array(ng * ng)]];
    else if (dimension === '3D') {
      matrices = DIRECTIONS_3D.map((direction) => {
        const m = new Float64Array(ng * ng);
        countPairs(d, box, direction, o.distance, box.k0, box.k1, m, false);
        return [m];
      });
    } else matrices = inPlane ??= DIRECTIONS_2D.map((direction) => sliceMatrices(d, box, direction, o.distance));
    rows.push(...aggregateDirectional(dimension, matrices, family));
  }
  const features: Feature[] = [];
  GLCM_FEATURES.forEach(({ name, code }, f) => {
    for (const { aggregation, values } of rows) features.push({ family: 'cm', name, code, aggregation, value: values[f]! });
  });
  return features;
}
