/**
 * Intensity-volume histogram features (IBSI 3.5, family `ivh`), over the intensities of the ROI
 * intensity mask as one 3-D set (DHQ4).
 *
 * IBSI 3.5 first turns the intensities X_gl into discretised intensities X_d,gl on a grid of
 * step w_d spanning a total range G, in one of three ways chosen by the IVH discretisation:
 *
 * - 'none' — calibrated, discrete intensities (CT in HU): X_d,gl = X_gl, w_d = 1, and G is the
 *   re-segmentation range, its upper bound replaced by max(X_gl) when the range is open (∞);
 *   without a range G = [min X_gl, max X_gl].
 * - FBS — calibrated, continuous intensities (PET): fixed bin size w_b from X_min (the range's
 *   lower bound, else min X_gl) gives bin numbers X_d, replaced by their bin centres
 *   X_min + (X_d − 0.5)·w_b; w_d = w_b and G = [X_min + w_b/2, X_max − w_b/2], X_max being the
 *   range's upper bound (else max X_gl).
 * - FBN — arbitrary units (MR): N_g bins between min X_gl and max X_gl (a re-segmentation range
 *   is not used: IBSI 3.5 and configuration E); the bin numbers themselves are X_d,gl, w_d = 1,
 *   G = [1, N_g].
 *
 * The IVH is then evaluated at every i = min G + k·w_d (k = 0, 1, …), present in the ROI or not:
 * volume fraction ν_i = fraction of voxels with X_d,gl ≥ i, intensity fraction
 * γ_i = (i − min G)/(max G − min G).
 */
import { fbnLevel, fbsLevel } from '../discretise.js';
import { RadiomicsInputError } from '../errors.js';
import type { Discretisation, Feature } from '../types.js';

/**
 * The voxels' discretised intensities as grid positions: voxel v sits at
 * (X_d,gl(v) − min G)/w_d, so grid point k (intensity min G + k·w_d) has ν_k = fraction of
 * voxels at a position ≥ k. Positions are whole numbers for FBS and FBN, and for 'none' with
 * integer intensities and an integer range, so every comparison with k is exact.
 */
interface IvhGrid {
  /** Ascending. */
  readonly positions: Float64Array;
  readonly minG: number;
  readonly maxG: number;
  /** w_d. */
  readonly step: number;
  /** The last grid point: covers max G and every voxel present. */
  readonly lastK: number;
}

/** Tolerance on fraction comparisons, so that γ or ν equal to 10 % or 90 % in exact arithmetic counts as reaching it. */
const FRACTION_TOLERANCE = 1e-12;

function finiteOr(bound: number | undefined, fallback: number): number {
  return bound !== undefined && Number.isFinite(bound) ? bound : fallback;
}

function ivhGrid(values: Float64Array, d: Discretisation, range: readonly [number, number] | null): IvhGrid {
  for (let k = 0; k < values.length; k++) {
    if (!Number.isFinite(values[k]!)) throw new RadiomicsInputError(`intensity-volume histogram: intensity ${values[k]} at position ${k} is not finite`);
  }
  let minX = Infinity;
  let maxX = -Infinity;
  for (let k = 0; k < values.length; k++) {
    const x = values[k]!;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
  }
  const positions = new Float64Array(values.length);
  let minG: number;
  let maxG: number;
  let step: number;
  switch (d.method) {
    case 'none': {
      minG = finiteOr(range?.[0], minX);
      maxG = finiteOr(range?.[1], maxX);
      step = 1;
      for (let k = 0; k < values.length; k++) positions[k] = values[k]! - minG;
      break;
    }
    case 'FBS': {
      const w = d.binWidth;
      if (!(w > 0) || !Number.isFinite(w)) throw new RadiomicsInputError(`intensity-volume histogram: the bin width must be a positive number, got ${w}`);
      const xMin = finiteOr(range?.[0], minX);
      const xMax = finiteOr(range?.[1], maxX);
      minG = xMin + w / 2;
      maxG = xMax - w / 2;
      step = w;
      // Bin number X_d = ⌊(x − X_min)/w⌋ + 1 (IBSI 2.7, binned exactly as the intensity
      // histogram is), whose centre is grid point X_d − 1.
      for (let k = 0; k < values.length; k++) positions[k] = fbsLevel(values[k]!, xMin, w) - 1;
      break;
    }
    case 'FBN': {
      const bins = d.bins;
      if (!Number.isInteger(bins) || bins < 1) throw new RadiomicsInputError(`intensity-volume histogram: the number of bins must be a positive integer, got ${bins}`);
      minG = 1;
      maxG = bins;
      step = 1;
      // Bin number X_d = ⌊N_g (x − min)/(max − min)⌋ + 1, the maximum going to bin N_g (IBSI
      // 2.7); one intensity throughout fills bin 1.
      for (let k = 0; k < values.length; k++) positions[k] = fbnLevel(values[k]!, minX, maxX, bins) - 1;
      break;
    }
  }
  positions.sort();
  const lastPosition = positions.length > 0 ? positions[positions.length - 1]! : 0;
  const lastK = Math.max(0, Math.ceil((maxG - minG) / step - FRACTION_TOLERANCE), Math.ceil(lastPosition));
  return { positions, minG, maxG, step, lastK };
}

/** Number of sorted positions strictly below k (binary search). */
function countBelow(sorted: Float64Array, k: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * IBSI BC2M: V_x, the largest volume fraction ν among intensities with an intensity fraction
 * γ ≥ x. ν does not increase with i, so it is ν at the first grid point with γ ≥ x. NaN where
 * γ is undefined (G a single intensity) or the ROI is empty.
 */
function volumeAtIntensityFraction(grid: IvhGrid, x: number): number {
  const n = grid.positions.length;
  const span = grid.maxG - grid.minG;
  if (n === 0 || !(span > 0)) return NaN;
  const k = Math.max(0, Math.ceil(((x - FRACTION_TOLERANCE) * span) / grid.step));
  if (k > grid.lastK) return NaN;
  return (n - countBelow(grid.positions, k)) / n;
}

/**
 * IBSI GBPN: I_x, the lowest intensity i whose volume fraction ν_i ≤ x. The count of voxels at
 * or above grid point k may be at most m = ⌊x·N⌋; with q the (m+1)-th highest position, that
 * holds exactly for the grid points beyond q. NaN where no grid point qualifies (e.g. every
 * voxel at the top of the range).
 */
function intensityAtVolumeFraction(grid: IvhGrid, x: number): number {
  const n = grid.positions.length;
  if (n === 0) return NaN;
  const allowed = Math.floor(x * n + FRACTION_TOLERANCE * n);
  const k = allowed >= n ? 0 : Math.max(0, Math.floor(grid.positions[n - allowed - 1]!) + 1);
  if (k > grid.lastK) return NaN;
  return grid.minG + k * grid.step;
}

/** The intensity-volume histogram as IBSI 3.5 evaluates it: one entry per grid intensity, ascending. */
export interface IntensityVolumeHistogram {
  /** The discretised intensities i = min G + k·w_d. */
  readonly intensity: Float64Array;
  /** γ_i; NaN throughout when G is a single intensity. */
  readonly intensityFraction: Float64Array;
  /** ν_i, the fraction of the ROI's voxels with a discretised intensity ≥ i. */
  readonly volumeFraction: Float64Array;
}

/** Grids longer than this are refused: an IVH of 'none' over floating-point intensities needs a discretisation. */
const MAX_IVH_POINTS = 10_000_000;

/**
 * The IVH curve of the intensity mask's intensities `values` (IBSI 3.5), with the IVH
 * discretisation `d` and the re-segmentation `range` (null when none). Throws
 * RadiomicsInputError for non-finite intensities, an invalid discretisation, or a grid of more
 * than ten million points ('none' on intensities that are not discrete: use FBS).
 */
export function intensityVolumeHistogram(values: Float64Array, d: Discretisation, range: readonly [number, number] | null): IntensityVolumeHistogram {
  const grid = ivhGrid(values, d, range);
  const points = grid.lastK + 1;
  if (points > MAX_IVH_POINTS) {
    throw new RadiomicsInputError(`intensity-volume histogram: ${points} intensities from ${grid.minG} in steps of ${grid.step}; discretise the IVH (fixed bin size or number)`);
  }
  const n = grid.positions.length;
  const span = grid.maxG - grid.minG;
  const intensity = new Float64Array(points);
  const intensityFraction = new Float64Array(points);
  const volumeFraction = new Float64Array(points);
  let below = 0;
  for (let k = 0; k < points; k++) {
    while (below < n && grid.positions[below]! < k) below++;
    intensity[k] = grid.minG + k * grid.step;
    intensityFraction[k] = span > 0 ? (k * grid.step) / span : NaN;
    volumeFraction[k] = n > 0 ? (n - below) / n : NaN;
  }
  return { intensity, intensityFraction, volumeFraction };
}

/**
 * IBSI 9CMM, the area under the IVH curve ν(γ) by the trapezoidal rule; 0 when the ROI has a
 * single discretised intensity (IBSI's rule). IBSI publishes no reference value for it and
 * advises against its use, so `intensityVolumeFeatures` does not report it.
 */
export function ivhAreaUnderCurve(ivh: IntensityVolumeHistogram): number {
  const { intensityFraction: gamma, volumeFraction: nu } = ivh;
  let distinct = 0;
  for (let k = 0; k < nu.length; k++) {
    // A level is present where ν drops after it (or at the last point, if ν > 0 there).
    const next = k + 1 < nu.length ? nu[k + 1]! : 0;
    if (nu[k]! > next) distinct++;
  }
  if (distinct <= 1) return 0;
  let area = 0;
  for (let k = 0; k + 1 < gamma.length; k++) area += ((gamma[k + 1]! - gamma[k]!) * (nu[k]! + nu[k + 1]!)) / 2;
  return area;
}

function ivh(name: string, code: string, value: number): Feature {
  return { family: 'ivh', name, code, aggregation: '', value };
}

/**
 * The intensity-volume histogram features of IBSI 3.5 with reference values: V10, V90 (BC2M),
 * I10, I90 (GBPN) and their differences (DDTU, CNV2), named as in the IBSI reference value table
 * (the 10 %/90 % pairs by their table captions). `values` are the intensity mask's intensities,
 * `d` the IVH discretisation, `range` the re-segmentation range (null when none). Intensities
 * I_x are discretised intensities: HU for 'none', bin centres for FBS, bin numbers for FBN.
 */
export function intensityVolumeFeatures(values: Float64Array, d: Discretisation, range: readonly [number, number] | null): Feature[] {
  const grid = ivhGrid(values, d, range);
  const v10 = volumeAtIntensityFraction(grid, 0.1);
  const v90 = volumeAtIntensityFraction(grid, 0.9);
  const i10 = intensityAtVolumeFraction(grid, 0.1);
  const i90 = intensityAtVolumeFraction(grid, 0.9);
  return [
    ivh('volume fraction at 10% intensity', 'BC2M', v10),
    ivh('volume fraction at 90% intensity', 'BC2M', v90),
    ivh('intensity at 10% volume', 'GBPN', i10),
    ivh('intensity at 90% volume', 'GBPN', i90),
    ivh('Volume fraction difference between intensity fractions', 'DDTU', v10 - v90),
    ivh('Intensity fraction difference between volume fractions', 'CNV2', i10 - i90),
  ];
}
