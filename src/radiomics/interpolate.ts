/**
 * Image and mask interpolation to a new voxel spacing (IBSI 2.4, and the "notes on
 * interpolation" of IBSI chapter 5).
 *
 * Grid ("align grid centres", IBSI 2.4): along each axis the new grid has
 * n' = ceil(n·s / s') voxels of spacing s', and its centre coincides with the centre of the
 * original grid. In the original grid's voxel index units, new voxel m therefore lies at
 *
 *     p(m) = ((n − 1)·s − (n' − 1)·s') / (2s) + m·s'/s.
 *
 * The 2-D approach (IBSI "slice-wise") resamples in-plane only: the k axis keeps its voxels.
 *
 * Extrapolation: the new grid may extend past the original one (it is never smaller). As IBSI
 * recommends, the image is treated as padded with copies of its nearest boundary voxel, so a
 * point outside the grid takes the value it would have if the edge voxels repeated outwards.
 *
 * Methods (all tensor products of 1-D kernels, so resampling runs as three 1-D passes, one per
 * axis, which gives the same result as evaluating the 3-D kernel at every point):
 * - 'nearest': the value of the voxel whose centre is nearest (ties go to the higher index).
 * - 'linear': (tri)linear interpolation.
 * - 'cubic': cubic B-spline interpolation, i.e. an interpolating cubic spline: the samples are
 *   first turned into B-spline coefficients by the recursive filter of Unser (1993; Thévenaz,
 *   Blu & Unser 2000), then the spline is evaluated. IBSI configuration E asks for "tricubic
 *   spline" interpolation, and the IBSI reference implementation obtained its values with a
 *   spline of order 3 (scipy.ndimage.map_coordinates), so this is the spline, not a cubic
 *   convolution kernel (Keys), which would give slightly different values. Each line is padded
 *   with copies of its edge value before filtering (scipy does the same with 12 voxels; 16 are
 *   used here, beyond which the padding's effect is below 1e-9 of the edge contrast).
 */
import type { Grid, Mask, Vec3, Volume } from '../volume/volume.js';

export type InterpolationMethod = 'nearest' | 'linear' | 'cubic';

/** How slices are treated: '3D' resamples all three axes, '2D' only the in-plane axes i and j. */
export type InterpolationApproach = '2D' | '3D';

/** The voxels of a resampled grid along one axis, placed on the original grid. */
export interface AxisSampling {
  /** Number of voxels of the new grid along this axis. */
  readonly count: number;
  /** New voxel spacing (mm). */
  readonly spacing: number;
  /** Position of new voxel 0 on the original grid, in millimetres from original voxel 0. */
  readonly offsetMm: number;
  /** Original spacing (mm): positions in original voxel index units are millimetres divided by it. */
  readonly originalSpacing: number;
}

/** A new grid aligned to an original one by IBSI's rule, and where its voxels fall on the original. */
export interface AlignedGrid {
  readonly grid: Grid;
  readonly axes: readonly [AxisSampling, AxisSampling, AxisSampling];
}

/**
 * n' = ceil(n·s/s'). The ratio is computed in floating point, so an exact integer such as
 * 60·3/2 could come out as 90.000000000001 and gain a voxel: values within 1e-6 of an integer
 * are taken as that integer.
 */
function alignedCount(n: number, s: number, sNew: number): number {
  const exact = (n * s) / sNew;
  const nearest = Math.round(exact);
  return Math.max(1, Math.abs(exact - nearest) < 1e-6 ? nearest : Math.ceil(exact));
}

/**
 * The IBSI-aligned grid of `spacing` over `grid`. Under the '2D' approach the k axis keeps its
 * voxels and spacing (the third component of `spacing` is ignored).
 */
export function alignedGrid(grid: Grid, spacing: Vec3, approach: InterpolationApproach): AlignedGrid {
  const axes = [0, 1, 2].map((a): AxisSampling => {
    const n = grid.dims[a]!;
    const s = grid.spacing[a]!;
    const keep = approach === '2D' && a === 2;
    const sNew = keep ? s : spacing[a]!;
    if (!(sNew > 0) || !Number.isFinite(sNew)) throw new RangeError(`interpolation spacing must be a positive number, got ${sNew} on axis ${a}`);
    const count = keep ? n : alignedCount(n, s, sNew);
    return { count, spacing: sNew, offsetMm: ((n - 1) * s - (count - 1) * sNew) / 2, originalSpacing: s };
  }) as unknown as [AxisSampling, AxisSampling, AxisSampling];
  const d = grid.direction;
  const origin = [0, 1, 2].map(
    (r) => grid.origin[r]! + axes[0].offsetMm * d[r]! + axes[1].offsetMm * d[3 + r]! + axes[2].offsetMm * d[6 + r]!,
  ) as unknown as Vec3;
  return {
    grid: {
      dims: [axes[0].count, axes[1].count, axes[2].count],
      spacing: [axes[0].spacing, axes[1].spacing, axes[2].spacing],
      origin,
      direction: grid.direction,
    },
    axes,
  };
}

/**
 * Positions of new voxels [from, to) on the original grid, in original voxel index units.
 * Computed from millimetres so that simple ratios stay exact (3 mm → 2 mm gives positions
 * ending in exactly .5, which matters for the partial-volume threshold of 0.5).
 */
export function samplePositions(axis: AxisSampling, from = 0, to = axis.count): Float64Array {
  const out = new Float64Array(Math.max(0, to - from));
  for (let m = from; m < to; m++) out[m - from] = (axis.offsetMm + m * axis.spacing) / axis.originalSpacing;
  return out;
}

/** The identity grid along an axis: positions [from, to) of the original voxels themselves. */
export function identityPositions(from: number, to: number): Float64Array {
  const out = new Float64Array(Math.max(0, to - from));
  for (let m = from; m < to; m++) out[m - from] = m;
  return out;
}

// ---------------------------------------------------------------------------------------------
// One-dimensional kernels

/** Taps of one output sample: `width` input indices (into the line, padded for the spline) and weights. */
interface Taps {
  readonly width: number;
  readonly index: Int32Array;
  readonly weight: Float64Array;
}

function nearestTaps(positions: Float64Array, n: number): Taps {
  const index = new Int32Array(positions.length);
  const weight = new Float64Array(positions.length).fill(1);
  positions.forEach((p, m) => {
    index[m] = Math.min(n - 1, Math.max(0, Math.floor(p + 0.5)));
  });
  return { width: 1, index, weight };
}

function linearTaps(positions: Float64Array, n: number): Taps {
  const index = new Int32Array(positions.length * 2);
  const weight = new Float64Array(positions.length * 2);
  positions.forEach((p, m) => {
    const q = Math.min(n - 1, Math.max(0, p));
    const i0 = Math.min(Math.floor(q), Math.max(0, n - 2));
    const t = n === 1 ? 0 : q - i0;
    index[2 * m] = i0;
    index[2 * m + 1] = Math.min(i0 + 1, n - 1);
    weight[2 * m] = 1 - t;
    weight[2 * m + 1] = t;
  });
  return { width: 2, index, weight };
}

/** Copies of the edge value on each side of a line before the spline prefilter. */
const SPLINE_PAD = 16;

/** Cubic B-spline taps, as indices into the padded coefficient line (offset by SPLINE_PAD). */
function cubicTaps(positions: Float64Array, n: number): Taps {
  const index = new Int32Array(positions.length * 4);
  const weight = new Float64Array(positions.length * 4);
  const lowest = -SPLINE_PAD + 1;
  const highest = n - 1 + SPLINE_PAD - 2;
  positions.forEach((p, m) => {
    // Far outside the grid the padded spline is constant: clamp so the taps stay in the padding.
    const q = Math.min(highest, Math.max(lowest, p));
    const i = Math.floor(q);
    const t = q - i;
    const t2 = t * t;
    const t3 = t2 * t;
    const u = 1 - t;
    weight[4 * m] = (u * u * u) / 6;
    weight[4 * m + 1] = (4 - 6 * t2 + 3 * t3) / 6;
    weight[4 * m + 2] = (1 + 3 * t + 3 * t2 - 3 * t3) / 6;
    weight[4 * m + 3] = t3 / 6;
    for (let k = 0; k < 4; k++) index[4 * m + k] = i - 1 + k + SPLINE_PAD;
  });
  return { width: 4, index, weight };
}

/** Pole of the cubic B-spline prefilter: √3 − 2. */
const CUBIC_POLE = Math.sqrt(3) - 2;

/**
 * Turns samples into cubic B-spline coefficients in place (mirror-symmetric boundaries), by
 * the causal and anti-causal recursive filters of Unser's algorithm.
 */
export function cubicSplineCoefficients(line: Float64Array): void {
  const n = line.length;
  if (n === 1) return;
  const z = CUBIC_POLE;
  const lambda = (1 - z) * (1 - 1 / z);
  for (let i = 0; i < n; i++) line[i]! *= lambda;
  line[0] = initialCausal(line, z);
  for (let i = 1; i < n; i++) line[i] = line[i]! + z * line[i - 1]!;
  line[n - 1] = (z / (z * z - 1)) * (z * line[n - 2]! + line[n - 1]!);
  for (let i = n - 2; i >= 0; i--) line[i] = z * (line[i + 1]! - line[i]!);
}

function initialCausal(c: Float64Array, z: number): number {
  const n = c.length;
  const horizon = Math.ceil(Math.log(1e-15) / Math.log(Math.abs(z)));
  if (horizon < n) {
    let zn = z;
    let sum = c[0]!;
    for (let i = 1; i < horizon; i++) {
      sum += zn * c[i]!;
      zn *= z;
    }
    return sum;
  }
  // Exact mirror-symmetric initialisation for short lines.
  let zn = z;
  const iz = 1 / z;
  let z2n = z ** (n - 1);
  let sum = c[0]! + z2n * c[n - 1]!;
  z2n *= z2n * iz;
  for (let i = 1; i <= n - 2; i++) {
    sum += (zn + z2n) * c[i]!;
    zn *= z;
    z2n *= iz;
  }
  return sum / (1 - zn * zn);
}

// ---------------------------------------------------------------------------------------------
// Separable resampling

function isGather(positions: Float64Array, n: number): boolean {
  for (const p of positions) if (!Number.isInteger(p) || p < 0 || p > n - 1) return false;
  return true;
}

/**
 * Resamples along one axis: `input` has dimensions `dims`; the result has `positions.length`
 * voxels along `axis` and the same number as `input` along the other two.
 */
function resampleAxis(input: Float64Array, dims: Vec3, axis: 0 | 1 | 2, positions: Float64Array, method: InterpolationMethod): { data: Float64Array; dims: Vec3 } {
  const n = dims[axis];
  const m = positions.length;
  const outDims = [dims[0], dims[1], dims[2]] as [number, number, number];
  outDims[axis] = m;
  const out = new Float64Array(outDims[0] * outDims[1] * outDims[2]);
  const inStride = axis === 0 ? 1 : axis === 1 ? dims[0] : dims[0] * dims[1];
  const outStride = axis === 0 ? 1 : axis === 1 ? outDims[0] : outDims[0] * outDims[1];
  // The two other axes, as (count, input stride, output stride) pairs.
  const others = ([0, 1, 2] as const).filter((a) => a !== axis);
  const [a1, a2] = others as unknown as [0 | 1 | 2, 0 | 1 | 2];
  const strideOf = (d: readonly number[], a: number): number => (a === 0 ? 1 : a === 1 ? d[0]! : d[0]! * d[1]!);
  const in1 = strideOf(dims, a1);
  const in2 = strideOf(dims, a2);
  const out1 = strideOf(outDims, a1);
  const out2 = strideOf(outDims, a2);

  const gather = isGather(positions, n);
  const taps = gather ? nearestTaps(positions, n) : method === 'nearest' ? nearestTaps(positions, n) : method === 'linear' ? linearTaps(positions, n) : cubicTaps(positions, n);
  const spline = !gather && method === 'cubic';
  const line = new Float64Array(spline ? n + 2 * SPLINE_PAD : n);

  for (let c2 = 0; c2 < dims[a2]; c2++) {
    for (let c1 = 0; c1 < dims[a1]; c1++) {
      const inBase = c1 * in1 + c2 * in2;
      const outBase = c1 * out1 + c2 * out2;
      if (spline) {
        for (let i = 0; i < n; i++) line[SPLINE_PAD + i] = input[inBase + i * inStride]!;
        line.fill(line[SPLINE_PAD]!, 0, SPLINE_PAD);
        line.fill(line[SPLINE_PAD + n - 1]!, SPLINE_PAD + n);
        cubicSplineCoefficients(line);
      } else {
        for (let i = 0; i < n; i++) line[i] = input[inBase + i * inStride]!;
      }
      const w = taps.width;
      for (let o = 0; o < m; o++) {
        let v = 0;
        for (let t = 0; t < w; t++) v += taps.weight[o * w + t]! * line[taps.index[o * w + t]!]!;
        out[outBase + o * outStride] = v;
      }
    }
  }
  return { data: out, dims: outDims };
}

/**
 * Resamples a volume at the tensor grid of `positions` (per axis, in the volume's voxel index
 * units; see `samplePositions`). Axes whose positions are whole voxels inside the grid are
 * copied, not interpolated. Returns a new array; the input is not modified.
 *
 * Nearest and linear interpolation only read the voxels around the positions, so only the box
 * of voxels they reach is copied out and resampled. The cubic spline's prefilter runs over whole
 * lines (each coefficient depends on the whole line), so it starts from the whole volume.
 */
export function resample(data: ArrayLike<number>, dims: Vec3, positions: readonly [Float64Array, Float64Array, Float64Array], method: InterpolationMethod): Float64Array {
  if (data.length !== dims[0] * dims[1] * dims[2]) throw new RangeError(`resample: ${data.length} voxels for dimensions ${dims.join('×')}`);
  const from = [0, 0, 0];
  const to = [dims[0], dims[1], dims[2]];
  let local = positions;
  if (method !== 'cubic') {
    local = positions.map((p, a) => {
      let lo = Infinity;
      let hi = -Infinity;
      for (const x of p) {
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      if (p.length === 0) return p;
      from[a] = Math.min(dims[a]! - 1, Math.max(0, Math.floor(lo)));
      to[a] = Math.max(from[a]! + 1, Math.min(dims[a]!, Math.ceil(hi) + 1));
      return p.map((x) => x - from[a]!);
    }) as unknown as [Float64Array, Float64Array, Float64Array];
  }
  // A plain loop: Float64Array.from on a typed array is many times slower in V8.
  const boxDims: Vec3 = [to[0]! - from[0]!, to[1]! - from[1]!, to[2]! - from[2]!];
  const copy = new Float64Array(boxDims[0] * boxDims[1] * boxDims[2]);
  let o = 0;
  for (let k = from[2]!; k < to[2]!; k++) {
    for (let j = from[1]!; j < to[1]!; j++) {
      const base = dims[0] * (j + dims[1] * k);
      for (let i = from[0]!; i < to[0]!; i++) copy[o++] = data[base + i]!;
    }
  }
  let current: { data: Float64Array; dims: Vec3 } = { data: copy, dims: boxDims };
  for (const axis of [0, 1, 2] as const) current = resampleAxis(current.data, current.dims, axis, local[axis], method);
  return current.data;
}

// ---------------------------------------------------------------------------------------------
// Per-value steps after interpolation

/**
 * Rounds to the nearest multiple of `step` (IBSI "intensity rounding": 1 for CT's whole
 * Hounsfield units). Ties go to the even multiple, as numpy's round, which the IBSI reference
 * implementation used, does: trilinear interpolation between two slices produces exact halves.
 */
export function roundToMultiple(x: number, step: number): number {
  const q = x / step;
  let r = Math.round(q);
  if (r - q === 0.5 && r % 2 !== 0) r -= 1;
  return r * step;
}

/**
 * Whether an interpolated mask value is inside the ROI (IBSI "partial volume" threshold: value
 * ≥ threshold). The value is rounded to 6 decimals first, so that 0.49999999999 from
 * floating-point weights counts as the 0.5 it stands for (IBSI chapter 5, notes on interpolation).
 */
export function aboveThreshold(value: number, threshold: number): boolean {
  return Math.round(value * 1e6) / 1e6 >= threshold;
}

// ---------------------------------------------------------------------------------------------
// Whole volumes

/** Positions of every voxel of an aligned grid on its original grid. */
function allPositions(aligned: AlignedGrid): [Float64Array, Float64Array, Float64Array] {
  return [samplePositions(aligned.axes[0]), samplePositions(aligned.axes[1]), samplePositions(aligned.axes[2])];
}

/** Interpolates a whole image to `spacing` on the IBSI-aligned grid. */
export function interpolateVolume(volume: Volume, spacing: Vec3, method: InterpolationMethod, approach: InterpolationApproach): Volume<Float64Array> {
  const aligned = alignedGrid(volume.grid, spacing, approach);
  return { grid: aligned.grid, data: resample(volume.data, volume.grid.dims, allPositions(aligned), method) };
}

/**
 * Interpolates a mask to `spacing` on the IBSI-aligned grid: the 0/1 mask is interpolated as
 * a real-valued image and voxels with a value ≥ `partialVolumeThreshold` are inside (IBSI 2.4).
 */
export function interpolateMask(mask: Mask, spacing: Vec3, method: 'nearest' | 'linear', partialVolumeThreshold: number, approach: InterpolationApproach): Mask {
  const aligned = alignedGrid(mask.grid, spacing, approach);
  const inside = new Float64Array(mask.data.length);
  for (let i = 0; i < inside.length; i++) inside[i] = mask.data[i] !== 0 ? 1 : 0;
  const values = resample(inside, mask.grid.dims, allPositions(aligned), method);
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = aboveThreshold(values[i]!, partialVolumeThreshold) ? 1 : 0;
  return { grid: aligned.grid, data };
}
