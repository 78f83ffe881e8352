/**
 * Intensity discretisation (IBSI 2.7): intensities of the intensity mask become grey levels
 * 1..ng, for the intensity histogram and the texture matrices.
 *
 * - Fixed bin number (FBN): level = floor(Ng·(x − Xmin)/(Xmax − Xmin)) + 1, with Xmin and Xmax
 *   the lowest and highest intensity in the intensity mask, and x = Xmax → Ng. ng = Ng.
 * - Fixed bin size (FBS): level = floor((x − Xmin)/w) + 1, with Xmin the lower bound of the
 *   re-segmentation range when one is set, else the lowest intensity in the intensity mask, so
 *   bins keep the same meaning across images (e.g. 25 HU bins from −500 HU). ng = the highest
 *   level present.
 * - 'none': the intensities already are grey levels (the digital phantom) and must be whole
 *   numbers ≥ 1. ng = the highest present.
 *
 * Levels computed by floating-point division can land a hair below a whole number when the
 * exact quotient is one (e.g. 0.3/0.1): quotients within 1e-9 below a whole number are taken as
 * that whole number, so values on a bin edge always open the next bin, as the formulas say.
 */
import { RadiomicsInputError } from './errors.js';
import type { Discretisation, DiscretisedRoi, RoiImage } from './types.js';

const EDGE_TOLERANCE = 1e-9;

function floorOnEdge(q: number): number {
  return Math.floor(q + EDGE_TOLERANCE);
}

/** FBN grey level of `x` for `bins` bins over [min, max] (IBSI 2.7). A constant ROI (max = min) is all level 1. */
export function fbnLevel(x: number, min: number, max: number, bins: number): number {
  if (!(max > min)) return 1;
  if (x >= max) return bins;
  return Math.min(bins, Math.max(1, floorOnEdge((bins * (x - min)) / (max - min)) + 1));
}

/** FBS grey level of `x` for bins of `binWidth` starting at `lowest` (IBSI 2.7). */
export function fbsLevel(x: number, lowest: number, binWidth: number): number {
  return floorOnEdge((x - lowest) / binWidth) + 1;
}

/**
 * The intensity at the centre of FBS bin `level` (IBSI 3.5, continuous calibrated intensities:
 * X = Xmin + (level − 0.5)·w), for intensity-volume histograms.
 */
export function fbsBinCentre(level: number, lowest: number, binWidth: number): number {
  return lowest + (level - 0.5) * binWidth;
}

/**
 * The lowest edge of FBS bins: the re-segmentation range's lower bound when it is finite, else
 * `roiMinimum`.
 */
export function fbsLowestEdge(resegRange: readonly [number, number] | null, roiMinimum: number): number {
  return resegRange && Number.isFinite(resegRange[0]) ? resegRange[0] : roiMinimum;
}

/** Lowest and highest intensity inside `mask`. */
export function intensityRange(intensity: ArrayLike<number>, mask: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i]) {
      const x = intensity[i]!;
      if (x < min) min = x;
      if (x > max) max = x;
    }
  }
  return { min, max };
}

/**
 * Grey levels 1..ng of the intensity mask's voxels, 0 elsewhere (IBSI 2.7). `resegRange` is
 * the re-segmentation range of the settings (FBS bins start at its lower bound).
 */
export function discretise(roi: RoiImage, d: Discretisation, resegRange: readonly [number, number] | null): DiscretisedRoi {
  const { intensity, intensityMask } = roi;
  const levels = new Int32Array(intensityMask.length);
  const { min, max } = intensityRange(intensity, intensityMask);
  if (min > max) throw new RadiomicsInputError('cannot discretise: the intensity mask is empty');
  let ng: number;
  switch (d.method) {
    case 'FBN': {
      if (!(Number.isInteger(d.bins) && d.bins >= 1)) throw new RangeError(`FBN needs a whole number of bins ≥ 1, got ${d.bins}`);
      for (let i = 0; i < levels.length; i++) if (intensityMask[i]) levels[i] = fbnLevel(intensity[i]!, min, max, d.bins);
      ng = d.bins;
      break;
    }
    case 'FBS': {
      if (!(d.binWidth > 0 && Number.isFinite(d.binWidth))) throw new RangeError(`FBS needs a bin width > 0, got ${d.binWidth}`);
      const lowest = fbsLowestEdge(resegRange, min);
      if (min < lowest) {
        throw new RadiomicsInputError(`cannot discretise by fixed bin size: intensity ${min} lies below the first bin edge ${lowest} (the re-segmentation range's lower bound)`);
      }
      ng = 0;
      for (let i = 0; i < levels.length; i++) {
        if (intensityMask[i]) {
          const level = fbsLevel(intensity[i]!, lowest, d.binWidth);
          levels[i] = level;
          if (level > ng) ng = level;
        }
      }
      break;
    }
    case 'none': {
      ng = 0;
      for (let i = 0; i < levels.length; i++) {
        if (intensityMask[i]) {
          const x = intensity[i]!;
          if (!Number.isInteger(x) || x < 1) {
            throw new RadiomicsInputError(`discretisation "none" uses intensities as grey levels, which must be whole numbers ≥ 1; voxel ${i} has ${x} (choose FBN or FBS)`);
          }
          levels[i] = x;
          if (x > ng) ng = x;
        }
      }
      break;
    }
  }
  return { dims: roi.dims, spacing: roi.spacing, levels, ng };
}
