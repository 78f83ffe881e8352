/**
 * What a defacing run measures about its own result: how much of the face region was removed,
 * whether any brain voxel changed, and how well the template matched the subject.
 *
 * The brain and face measures compare the input and output voxel values directly; they do not
 * trust the removal step's own record of what it did.
 */
import type { Mask, Volume, VoxelArray } from '../volume.js';

/** Dice similarity coefficient 2|A ∩ B| / (|A| + |B|) of two masks on one grid (1 when both are empty). */
export function dice(a: Mask, b: Mask): number {
  if (a.data.length !== b.data.length) throw new RangeError(`masks of ${a.data.length} and ${b.data.length} voxels cannot be compared`);
  let both = 0;
  let sizeA = 0;
  let sizeB = 0;
  for (let n = 0; n < a.data.length; n++) {
    const x = a.data[n] ? 1 : 0;
    const y = b.data[n] ? 1 : 0;
    sizeA += x;
    sizeB += y;
    both += x & y;
  }
  return sizeA + sizeB === 0 ? 1 : (2 * both) / (sizeA + sizeB);
}

export interface BrainPreservation {
  /** Voxels of the brain mask. */
  readonly voxels: number;
  /** Brain-mask voxels whose value differs between input and output. */
  readonly altered: number;
  /**
   * Dice of the brain mask before (the mask) and after (the mask's voxels whose value is
   * unchanged in the output): 1 exactly when no brain voxel changed.
   */
  readonly dice: number;
}

function sameValue(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** Compares the brain region of the input and the output voxel by voxel. */
export function brainPreservation(input: Volume, output: Volume, brain: Mask): BrainPreservation {
  const count = brain.data.length;
  if (input.data.length !== count || output.data.length !== count) {
    throw new RangeError(`the brain mask (${count} voxels), the input (${input.data.length}) and the output (${output.data.length}) must share one grid`);
  }
  let voxels = 0;
  let altered = 0;
  for (let n = 0; n < count; n++) {
    if (!brain.data[n]) continue;
    voxels++;
    if (!sameValue(input.data[n]!, output.data[n]!)) altered++;
  }
  const unchanged = voxels - altered;
  return { voxels, altered, dice: voxels === 0 ? 1 : (2 * unchanged) / (voxels + unchanged) };
}

export interface FaceRemoval {
  /** Voxels of the face region carried to the subject (before the brain guard is applied). */
  readonly voxels: number;
  /** Face-region voxels whose output value is the background. */
  readonly removed: number;
  /** removed / voxels (1 when the region is empty). */
  readonly fraction: number;
}

/**
 * How much of the face region the output holds as background. The region is counted before the
 * brain guard: voxels the guard kept (face region within the brain margin) count as not removed.
 * `background` is compared as the output's typed array stores it.
 */
export function faceRemoval(output: Volume, face: Mask, background: number): FaceRemoval {
  if (output.data.length !== face.data.length) throw new RangeError(`the face mask (${face.data.length} voxels) and the output (${output.data.length}) must share one grid`);
  const stored = storedAs(output.data, background);
  let voxels = 0;
  let removed = 0;
  for (let n = 0; n < face.data.length; n++) {
    if (!face.data[n]) continue;
    voxels++;
    if (sameValue(output.data[n]!, stored)) removed++;
  }
  return { voxels, removed, fraction: voxels === 0 ? 1 : removed / voxels };
}

/** The value `x` becomes when written into an array of the kind of `data` (rounding, wrapping). */
export function storedAs(data: VoxelArray, x: number): number {
  const one = new (data.constructor as new (n: number) => VoxelArray)(1);
  one[0] = x;
  return one[0]!;
}

/**
 * The correlation ratio η² of `predicted` given `by` (Pearson 1903; as an image similarity, Roche
 * et al., MICCAI 1998): the share of the variance of `predicted` that a function of `by` explains,
 * 1 − E[Var(predicted | by)] / Var(predicted), over the voxels where `within` is set and both are
 * finite. `by` is cut into `bins` classes of equal counts by rank (equal values share a class), so
 * the measure does not depend on its scale at all, and the function may be any, monotonic or not:
 * a T1 template is predicted as well from a CT's Hounsfield units (bone bright, the skull dark in
 * T1) as from a T1. About 0 for unrelated images; 0 when fewer than `2 · bins` voxels count or
 * `predicted` is flat.
 *
 * Written here because it is a few loops over a sort, and no maintained JavaScript package offers
 * it on typed arrays.
 */
export function correlationRatio(predicted: ArrayLike<number>, by: ArrayLike<number>, within?: Uint8Array, bins = 64): number {
  if (predicted.length !== by.length || (within && within.length !== predicted.length)) throw new RangeError('images of different sizes cannot be compared');
  if (!Number.isInteger(bins) || bins < 2) throw new RangeError(`the correlation ratio needs at least 2 classes, got ${bins}`);
  let count = 0;
  for (let q = 0; q < predicted.length; q++) if ((!within || within[q]) && Number.isFinite(predicted[q]!) && Number.isFinite(by[q]!)) count++;
  if (count < 2 * bins) return 0;
  const values = new Float64Array(count);
  for (let q = 0, n = 0; q < predicted.length; q++) if ((!within || within[q]) && Number.isFinite(predicted[q]!) && Number.isFinite(by[q]!)) values[n++] = by[q]!;
  const sorted = values.slice().sort();
  // Upper edges of the classes: a value v is in the first class whose edge is above it.
  const edges = new Float64Array(bins - 1);
  for (let b = 1; b < bins; b++) edges[b - 1] = sorted[Math.floor((b * count) / bins)]!;
  const n = new Float64Array(bins);
  const sum = new Float64Array(bins);
  const sum2 = new Float64Array(bins);
  // Centred on one value of `predicted` so the sums of squares lose no precision.
  let centre = NaN;
  for (let q = 0; q < predicted.length; q++) {
    if ((within && !within[q]) || !Number.isFinite(predicted[q]!) || !Number.isFinite(by[q]!)) continue;
    if (Number.isNaN(centre)) centre = predicted[q]!;
    const v = by[q]!;
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edges[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    const x = predicted[q]! - centre;
    n[lo]!++;
    sum[lo]! += x;
    sum2[lo]! += x * x;
  }
  let total = 0;
  let total2 = 0;
  let withinClasses = 0;
  for (let b = 0; b < bins; b++) {
    total += sum[b]!;
    total2 += sum2[b]!;
    if (n[b]! > 0) withinClasses += sum2[b]! - (sum[b]! * sum[b]!) / n[b]!;
  }
  const variance = total2 - (total * total) / count;
  if (!(variance > 0)) return 0;
  return Math.min(1, Math.max(0, 1 - withinClasses / variance));
}

/**
 * The value below which `fraction` of the voxels lie (ignoring non-finite values), as a value some
 * voxel actually holds. Integer images with fewer than 65,536 distinct possible values are counted
 * value by value (exact); otherwise a 65,536-bin histogram between minimum and maximum locates the
 * quantile's bin, and the smallest voxel value in that bin is returned. No sorting.
 */
export function quantileValue(data: ArrayLike<number>, fraction: number): number {
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`a quantile must be between 0 and 1, got ${fraction}`);
  let min = Infinity;
  let max = -Infinity;
  let finite = 0;
  for (let n = 0; n < data.length; n++) {
    const x = data[n]!;
    if (!Number.isFinite(x)) continue;
    finite++;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (finite === 0) throw new RangeError('the image holds no finite value');
  if (min === max) return min;
  const target = fraction * finite;
  const integers = data instanceof Uint8Array || data instanceof Int8Array || data instanceof Int16Array || data instanceof Uint16Array;
  if (integers || (Number.isInteger(min) && Number.isInteger(max) && max - min < 65536 && isIntegerArray(data))) {
    // One bin per integer value: the quantile is exact after one counting pass.
    const histogram = new Float64Array(max - min + 1);
    for (let n = 0; n < data.length; n++) histogram[data[n]! - min]!++;
    let seen = 0;
    for (let bin = 0; bin < histogram.length; bin++) {
      seen += histogram[bin]!;
      if (seen >= target && seen > 0) return min + bin;
    }
    return max;
  }
  const bins = 65536;
  const scale = (bins - 1) / (max - min);
  const histogram = new Float64Array(bins);
  for (let n = 0; n < data.length; n++) {
    const x = data[n]!;
    if (Number.isFinite(x)) histogram[Math.floor((x - min) * scale)]!++;
  }
  let bin = 0;
  for (let seen = 0; bin < bins; bin++) {
    seen += histogram[bin]!;
    if (seen >= target && seen > 0) break;
  }
  bin = Math.min(bin, bins - 1);
  let value = Infinity;
  for (let n = 0; n < data.length; n++) {
    const x = data[n]!;
    if (Number.isFinite(x) && Math.floor((x - min) * scale) === bin && x < value) value = x;
  }
  return value;
}

/** Whether every value of an array of 32-bit integers is an integer (always, for Int32Array and Uint32Array). */
function isIntegerArray(data: ArrayLike<number>): boolean {
  return data instanceof Int32Array || data instanceof Uint32Array;
}
