/**
 * Image processing before feature computation (IBSI chapter 2): input checks, interpolation of
 * the image and the mask (IBSI 2.4), intensity rounding, and re-segmentation (IBSI 2.5). The
 * result is the `RoiImage` every feature family starts from; discretisation (IBSI 2.7) follows
 * in discretise.ts.
 *
 * Cropping: the result covers the ROI's bounding box plus a margin of at least
 * `ROI_MARGIN_MM` (10 mm) on every side, clipped to the image, not the whole image. Local
 * intensity features need the intensities around the ROI up to the radius of a 1 cm³ sphere
 * (6.2 mm, IBSI 3.2), which the margin covers with room to spare; no other family looks outside
 * the ROI. Cropping happens on the interpolated grid, which is still aligned to the whole image
 * (IBSI's grid alignment is defined on the whole image), so the voxels kept are exactly those
 * interpolating the whole image would give.
 */
import type { Mask, Vec3, Volume } from '../volume/volume.js';
import { voxelCount } from '../volume/volume.js';
import { RadiomicsInputError } from './errors.js';
import { aboveThreshold, alignedGrid, identityPositions, resample, roundToMultiple, samplePositions } from './interpolate.js';
import { resegment, resegmentationInterval } from './resegment.js';
import type { RadiomicsSettings } from './settings.js';
import type { RoiImage } from './types.js';

/** Margin (mm) kept around the ROI's bounding box: more than the 6.2 mm radius of IBSI's 1 cm³ local intensity sphere. */
export const ROI_MARGIN_MM = 10;

/** Spacings and origins of image and mask may differ by this much (mm) and still be the same grid. */
const GRID_TOLERANCE_MM = 1e-3;
/** Direction cosines of image and mask may differ by this much. */
const DIRECTION_TOLERANCE = 1e-4;

/** A box of voxel indices, [from, to) per axis. */
interface Box {
  readonly from: Vec3;
  readonly to: Vec3;
}

function format(v: readonly number[]): string {
  return `(${v.map((x) => Number(x.toPrecision(6))).join(', ')})`;
}

/** Throws `RadiomicsInputError` unless image and mask share one grid with data of the right size. */
export function checkImageAndMask(image: Volume, mask: Mask): void {
  const imageCount = voxelCount(image.grid);
  const maskCount = voxelCount(mask.grid);
  if (image.data.length !== imageCount) {
    throw new RadiomicsInputError(`the image has ${image.data.length} voxels but its grid ${image.grid.dims.join('×')} needs ${imageCount}`);
  }
  if (mask.data.length !== maskCount) {
    throw new RadiomicsInputError(`the mask has ${mask.data.length} voxels but its grid ${mask.grid.dims.join('×')} needs ${maskCount}`);
  }
  if (image.data.length !== mask.data.length) {
    throw new RadiomicsInputError(`image and mask grids differ: the image has ${image.data.length} voxels (${image.grid.dims.join('×')}), the mask ${mask.data.length} (${mask.grid.dims.join('×')})`);
  }
  const a = image.grid;
  const b = mask.grid;
  const differ = (what: string, x: readonly number[], y: readonly number[], tolerance: number): void => {
    if (x.length !== y.length || x.some((v, i) => !(Math.abs(v - y[i]!) <= tolerance))) {
      throw new RadiomicsInputError(`image and mask grids differ: ${what} ${format(x)} in the image, ${format(y)} in the mask`);
    }
  };
  differ('dimensions', a.dims, b.dims, 0);
  differ('spacing (mm)', a.spacing, b.spacing, GRID_TOLERANCE_MM);
  differ('origin (mm)', a.origin, b.origin, GRID_TOLERANCE_MM);
  differ('direction', a.direction, b.direction, DIRECTION_TOLERANCE);
}

function indexToIjk(index: number, dims: Vec3): Vec3 {
  const i = index % dims[0];
  const j = Math.floor(index / dims[0]) % dims[1];
  const k = Math.floor(index / (dims[0] * dims[1]));
  return [i, j, k];
}

/** The ROI's bounding box and voxel count. */
function roiBox(mask: Mask): { box: Box; count: number } {
  const [nx, ny, nz] = mask.grid.dims;
  const from = [Infinity, Infinity, Infinity];
  const to = [-Infinity, -Infinity, -Infinity];
  let count = 0;
  let index = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, index++) {
        if (mask.data[index] === 0) continue;
        count++;
        if (i < from[0]!) from[0] = i;
        if (j < from[1]!) from[1] = j;
        if (k < from[2]!) from[2] = k;
        if (i >= to[0]!) to[0] = i + 1;
        if (j >= to[1]!) to[1] = j + 1;
        if (k >= to[2]!) to[2] = k + 1;
      }
    }
  }
  return { box: { from: from as unknown as Vec3, to: to as unknown as Vec3 }, count };
}

function checkFiniteInRoi(data: ArrayLike<number>, mask: ArrayLike<number>, dims: Vec3, stage: string): void {
  let bad = 0;
  let first = -1;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] && !Number.isFinite(data[i]!)) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad > 0) {
    const [i, j, k] = indexToIjk(first, dims);
    throw new RadiomicsInputError(`${bad} voxel${bad === 1 ? '' : 's'} inside the ROI ${stage} ${bad === 1 ? 'has' : 'have'} a non-finite intensity (NaN or infinite); the first is voxel (i, j, k) = (${i}, ${j}, ${k}) with ${data[first]}`);
  }
}

/** Copies a box out of a volume (into Float64), optionally mapping each value. */
function cropBox(data: ArrayLike<number>, dims: Vec3, box: Box, map: (v: number) => number = (v) => v): Float64Array {
  const [bx, by, bz] = [box.to[0] - box.from[0], box.to[1] - box.from[1], box.to[2] - box.from[2]];
  const out = new Float64Array(bx * by * bz);
  let o = 0;
  for (let k = box.from[2]; k < box.to[2]; k++) {
    for (let j = box.from[1]; j < box.to[1]; j++) {
      const base = box.from[0] + dims[0] * (j + dims[1] * k);
      for (let i = 0; i < bx; i++) out[o++] = map(data[base + i]!);
    }
  }
  return out;
}

/**
 * The ROI of `image` within `mask` after IBSI image processing under `settings`: interpolated
 * (when the settings say so), rounded, with its morphological mask (after the partial-volume
 * threshold) and its intensity mask (after re-segmentation). Cropped to the ROI plus
 * `ROI_MARGIN_MM`. Throws `RadiomicsInputError` for input that cannot be processed.
 */
export function prepareRoi(image: Volume, mask: Mask, settings: RadiomicsSettings): RoiImage {
  checkImageAndMask(image, mask);
  const { box, count } = roiBox(mask);
  if (count === 0) throw new RadiomicsInputError('the mask is empty: no voxel is inside the ROI');
  checkFiniteInRoi(image.data, mask.data, image.grid.dims, 'of the image');

  const grid = image.grid;
  const interpolation = settings.interpolation;
  let dims: Vec3;
  let spacing: Vec3;
  let intensity: Float64Array;
  let morphMask: Uint8Array;

  if (interpolation === null || interpolation.spacing === 'none') {
    const margin = grid.spacing.map((s) => Math.ceil(ROI_MARGIN_MM / s));
    const crop: Box = {
      from: box.from.map((f, a) => Math.max(0, f - margin[a]!)) as unknown as Vec3,
      to: box.to.map((t, a) => Math.min(grid.dims[a]!, t + margin[a]!)) as unknown as Vec3,
    };
    dims = [crop.to[0] - crop.from[0], crop.to[1] - crop.from[1], crop.to[2] - crop.from[2]];
    spacing = grid.spacing;
    intensity = cropBox(image.data, grid.dims, crop);
    morphMask = Uint8Array.from(cropBox(mask.data, grid.dims, crop, (v) => (v !== 0 ? 1 : 0)));
  } else {
    const aligned = alignedGrid(grid, interpolation.spacing, settings.approach);
    // Per axis, the new voxels whose centre lies within one original voxel (the reach of
    // linear mask interpolation) plus the margin of the ROI's bounding box.
    const positions = aligned.axes.map((axis, a) => {
      if (settings.approach === '2D' && a === 2) {
        const from = Math.max(0, box.from[2] - Math.ceil(ROI_MARGIN_MM / axis.originalSpacing));
        const to = Math.min(grid.dims[2], box.to[2] + Math.ceil(ROI_MARGIN_MM / axis.originalSpacing));
        return identityPositions(from, to);
      }
      const s = axis.originalSpacing;
      const lowMm = (box.from[a]! - 1) * s - ROI_MARGIN_MM;
      const highMm = box.to[a]! * s + ROI_MARGIN_MM; // box.to is exclusive: (to − 1) + 1 voxel
      const from = Math.max(0, Math.ceil((lowMm - axis.offsetMm) / axis.spacing));
      const to = Math.min(axis.count, Math.floor((highMm - axis.offsetMm) / axis.spacing) + 1);
      return samplePositions(axis, from, to);
    }) as unknown as [Float64Array, Float64Array, Float64Array];
    dims = [positions[0].length, positions[1].length, positions[2].length];
    spacing = aligned.grid.spacing;
    intensity = resample(image.data, grid.dims, positions, interpolation.method);
    const inside = new Float64Array(mask.data.length);
    for (let i = 0; i < inside.length; i++) inside[i] = mask.data[i] !== 0 ? 1 : 0;
    const maskValues = resample(inside, grid.dims, positions, interpolation.maskMethod);
    morphMask = new Uint8Array(maskValues.length);
    const threshold = interpolation.partialVolumeThreshold;
    for (let i = 0; i < maskValues.length; i++) morphMask[i] = aboveThreshold(maskValues[i]!, threshold) ? 1 : 0;
    if (!morphMask.includes(1)) {
      throw new RadiomicsInputError(`the mask is empty after interpolation to ${format(spacing)} mm: no voxel reaches the partial-volume threshold ${threshold}`);
    }
    checkFiniteInRoi(intensity, morphMask, dims, 'after interpolation (non-finite voxels next to the ROI spread into it)');
  }

  const step = interpolation?.roundIntensities ?? null;
  if (step !== null) for (let i = 0; i < intensity.length; i++) intensity[i] = roundToMultiple(intensity[i]!, step);

  const intensityMask = resegment(intensity, morphMask, settings.resegmentation);
  if (!intensityMask.includes(1)) {
    const [lower, upper] = resegmentationInterval(intensity, morphMask, settings.resegmentation);
    const parts = [
      settings.resegmentation.range ? `range [${settings.resegmentation.range.join(', ')}]` : '',
      settings.resegmentation.outlierSigma !== null ? `outlier filtering at ${settings.resegmentation.outlierSigma}σ` : '',
    ].filter(Boolean);
    throw new RadiomicsInputError(`the intensity mask is empty after re-segmentation (${parts.join(' and ')}): no ROI intensity lies in [${lower}, ${upper}]`);
  }
  return { dims, spacing, intensity, morphMask, intensityMask };
}
