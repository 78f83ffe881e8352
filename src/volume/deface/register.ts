/**
 * Affine maps between patient coordinate systems, resampling through them, and the affine
 * registration of a template to a subject with elastix (`@itk-wasm/elastix`).
 *
 * Every transform here maps points in patient coordinates (LPS, mm) to points in patient
 * coordinates. Resampling pulls: for each voxel of the target grid, its centre is mapped into the
 * source and the source is read there, so a resampler is given the target → source transform.
 * Elastix works the same way: the transform it returns maps points of the fixed image to points
 * of the moving image (elastix manual, section 2.6). With the subject as the fixed image and the
 * template as the moving one, that transform is exactly what carrying a template mask onto the
 * subject's grid needs: subject point → template point.
 */
import { elastixNode, type ElastixNodeOptions } from '@itk-wasm/elastix';
import type { Grid, Mask, Vec3, Volume, VoxelArray } from '../volume.js';
import { voxelCount } from '../volume.js';

/** y = matrix · x + translation, with `matrix` row-major (3×3). */
export interface AffineTransform {
  /** Nine numbers, row by row. */
  readonly matrix: readonly number[];
  readonly translation: Vec3;
}

export const IDENTITY_TRANSFORM: AffineTransform = { matrix: [1, 0, 0, 0, 1, 0, 0, 0, 1], translation: [0, 0, 0] };

export function applyAffine(t: AffineTransform, p: Vec3): Vec3 {
  const m = t.matrix;
  return [
    m[0]! * p[0] + m[1]! * p[1] + m[2]! * p[2] + t.translation[0],
    m[3]! * p[0] + m[4]! * p[1] + m[5]! * p[2] + t.translation[1],
    m[6]! * p[0] + m[7]! * p[1] + m[8]! * p[2] + t.translation[2],
  ];
}

/** The transform that applies `inner` first, then `outer`. */
export function composeAffine(outer: AffineTransform, inner: AffineTransform): AffineTransform {
  const a = outer.matrix;
  const b = inner.matrix;
  const matrix: number[] = [];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) matrix.push(a[3 * r]! * b[c]! + a[3 * r + 1]! * b[3 + c]! + a[3 * r + 2]! * b[6 + c]!);
  }
  return { matrix, translation: applyAffine(outer, inner.translation) };
}

export function determinant(m: readonly number[]): number {
  return m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) - m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) + m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
}

/**
 * Singular values of a 3×3 matrix (row-major), largest first: the square roots of the eigenvalues
 * of MᵀM, found in closed form for a symmetric matrix (Smith, "Eigenvalues of a symmetric 3 × 3
 * matrix", Communications of the ACM 4(4), 1961). They are the scalings along the principal axes.
 */
export function singularValues(m: readonly number[]): [number, number, number] {
  // S = MᵀM
  const s = (r: number, c: number) => m[r]! * m[c]! + m[3 + r]! * m[3 + c]! + m[6 + r]! * m[6 + c]!;
  const a00 = s(0, 0), a11 = s(1, 1), a22 = s(2, 2), a01 = s(0, 1), a02 = s(0, 2), a12 = s(1, 2);
  const off = a01 * a01 + a02 * a02 + a12 * a12;
  let e: number[];
  if (off < 1e-30) {
    e = [a00, a11, a22];
  } else {
    const q = (a00 + a11 + a22) / 3;
    const p2 = (a00 - q) ** 2 + (a11 - q) ** 2 + (a22 - q) ** 2 + 2 * off;
    const p = Math.sqrt(p2 / 6);
    const b00 = (a00 - q) / p, b11 = (a11 - q) / p, b22 = (a22 - q) / p, b01 = a01 / p, b02 = a02 / p, b12 = a12 / p;
    const detB = b00 * (b11 * b22 - b12 * b12) - b01 * (b01 * b22 - b12 * b02) + b02 * (b01 * b12 - b11 * b02);
    const r = Math.min(1, Math.max(-1, detB / 2));
    const phi = Math.acos(r) / 3;
    const e1 = q + 2 * p * Math.cos(phi);
    const e3 = q + 2 * p * Math.cos(phi + (2 * Math.PI) / 3);
    e = [e1, 3 * q - e1 - e3, e3];
  }
  const values = e.map((x) => Math.sqrt(Math.max(0, x))).sort((x, y) => y - x);
  return [values[0]!, values[1]!, values[2]!];
}

export function invertAffine(t: AffineTransform): AffineTransform {
  const m = t.matrix;
  const det = determinant(m);
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new RangeError('the affine transform is singular and cannot be inverted');
  const inv = 1 / det;
  const matrix = [
    (m[4]! * m[8]! - m[5]! * m[7]!) * inv, (m[2]! * m[7]! - m[1]! * m[8]!) * inv, (m[1]! * m[5]! - m[2]! * m[4]!) * inv,
    (m[5]! * m[6]! - m[3]! * m[8]!) * inv, (m[0]! * m[8]! - m[2]! * m[6]!) * inv, (m[2]! * m[3]! - m[0]! * m[5]!) * inv,
    (m[3]! * m[7]! - m[4]! * m[6]!) * inv, (m[1]! * m[6]! - m[0]! * m[7]!) * inv, (m[0]! * m[4]! - m[1]! * m[3]!) * inv,
  ];
  const back = applyAffine({ matrix, translation: [0, 0, 0] }, t.translation);
  return { matrix, translation: [-back[0], -back[1], -back[2]] };
}

/** Voxel index (i, j, k) → patient coordinates: the grid convention of volume.ts as an affine map. */
export function indexToWorldTransform(grid: Grid): AffineTransform {
  const d = grid.direction;
  const [si, sj, sk] = grid.spacing;
  return {
    matrix: [d[0]! * si, d[3]! * sj, d[6]! * sk, d[1]! * si, d[4]! * sj, d[7]! * sk, d[2]! * si, d[5]! * sj, d[8]! * sk],
    translation: grid.origin,
  };
}

/** Target voxel index → source voxel index, through `targetToSource` (world → world). */
function indexMap(target: Grid, source: Grid, targetToSource: AffineTransform): AffineTransform {
  return composeAffine(invertAffine(indexToWorldTransform(source)), composeAffine(targetToSource, indexToWorldTransform(target)));
}

/**
 * A grid with the identity direction (axes along L, P, S) and the given spacing that covers the
 * bounding box of `grid`'s voxel centres. Registration runs on such grids so that no direction
 * matrix has to cross into elastix, whose storage order of it would otherwise matter.
 */
export function axisAlignedGrid(grid: Grid, spacing: number): Grid {
  if (!(spacing > 0) || !Number.isFinite(spacing)) throw new RangeError(`spacing must be a positive number of millimetres, got ${spacing}`);
  const toWorld = indexToWorldTransform(grid);
  const lo: [number, number, number] = [Infinity, Infinity, Infinity];
  const hi: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  for (const i of [0, grid.dims[0] - 1]) {
    for (const j of [0, grid.dims[1] - 1]) {
      for (const k of [0, grid.dims[2] - 1]) {
        const p = applyAffine(toWorld, [i, j, k]);
        for (let a = 0; a < 3; a++) {
          lo[a] = Math.min(lo[a]!, p[a]!);
          hi[a] = Math.max(hi[a]!, p[a]!);
        }
      }
    }
  }
  const dims = [0, 1, 2].map((a) => Math.max(1, Math.floor((hi[a]! - lo[a]!) / spacing + 1e-6) + 1)) as [number, number, number];
  // Centre the new grid on the old bounding box.
  const origin = [0, 1, 2].map((a) => (lo[a]! + hi[a]!) / 2 - ((dims[a]! - 1) * spacing) / 2) as [number, number, number];
  return { dims, spacing: [spacing, spacing, spacing], origin, direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
}

export interface ResampleOptions {
  /** Value of target voxels whose centre maps outside the source (default 0). */
  readonly outside?: number;
}

/**
 * Trilinear resampling of `source` onto `target`: each target voxel centre x is read in the source
 * at targetToSource(x). Points up to half a voxel outside the source's outer voxel centres read the
 * edge voxels; points further out get `outside`. Returns float32 values. To go to a much coarser
 * grid, average blocks first (downsampleByBlocks), or the result aliases.
 */
export function resampleLinear(source: Volume, target: Grid, targetToSource: AffineTransform = IDENTITY_TRANSFORM, options: ResampleOptions = {}): Volume<Float32Array> {
  const outside = options.outside ?? 0;
  const map = indexMap(target, source.grid, targetToSource);
  const a = map.matrix;
  const [nx, ny, nz] = source.grid.dims;
  const src = source.data;
  const out = new Float32Array(voxelCount(target));
  const [tx, ty, tz] = target.dims;
  // Strides to the next voxel along each axis (0 along an axis of one voxel).
  const si = nx > 1 ? 1 : 0;
  const sj = ny > 1 ? nx : 0;
  const sk = nz > 1 ? nx * ny : 0;
  const maxI = Math.max(nx - 2, 0);
  const maxJ = Math.max(ny - 2, 0);
  const maxK = Math.max(nz - 2, 0);
  let n = 0;
  for (let k = 0; k < tz; k++) {
    for (let j = 0; j < ty; j++) {
      let fi = a[1]! * j + a[2]! * k + map.translation[0];
      let fj = a[4]! * j + a[5]! * k + map.translation[1];
      let fk = a[7]! * j + a[8]! * k + map.translation[2];
      for (let i = 0; i < tx; i++, n++, fi += a[0]!, fj += a[3]!, fk += a[6]!) {
        if (fi < -0.5 || fj < -0.5 || fk < -0.5 || fi > nx - 0.5 || fj > ny - 0.5 || fk > nz - 0.5) {
          out[n] = outside;
          continue;
        }
        const ci = fi < 0 ? 0 : fi > nx - 1 ? nx - 1 : fi;
        const cj = fj < 0 ? 0 : fj > ny - 1 ? ny - 1 : fj;
        const ck = fk < 0 ? 0 : fk > nz - 1 ? nz - 1 : fk;
        const i0 = Math.min(Math.floor(ci), maxI);
        const j0 = Math.min(Math.floor(cj), maxJ);
        const k0 = Math.min(Math.floor(ck), maxK);
        const di = si ? ci - i0 : 0;
        const dj = sj ? cj - j0 : 0;
        const dk = sk ? ck - k0 : 0;
        const p = i0 + nx * (j0 + ny * k0);
        const c00 = src[p]! + (src[p + si]! - src[p]!) * di;
        const c10 = src[p + sj]! + (src[p + sj + si]! - src[p + sj]!) * di;
        const c01 = src[p + sk]! + (src[p + sk + si]! - src[p + sk]!) * di;
        const c11 = src[p + sk + sj]! + (src[p + sk + sj + si]! - src[p + sk + sj]!) * di;
        const c0 = c00 + (c10 - c00) * dj;
        const c1 = c01 + (c11 - c01) * dj;
        out[n] = c0 + (c1 - c0) * dk;
      }
    }
  }
  return { grid: target, data: out };
}

/**
 * The mean of each block of `factors` voxels (float32), on the grid of the block centres: the
 * anti-aliasing step before resampling an image to a grid a few times coarser. Voxels past the
 * last whole block are dropped; non-finite values are left out of a block's mean.
 */
export function downsampleByBlocks(volume: Volume, factors: readonly [number, number, number]): Volume<Float32Array> {
  const [fx, fy, fz] = factors.map((f) => Math.max(1, Math.floor(f))) as [number, number, number];
  const [nx, ny, nz] = volume.grid.dims;
  const dims: [number, number, number] = [Math.max(1, Math.floor(nx / fx)), Math.max(1, Math.floor(ny / fy)), Math.max(1, Math.floor(nz / fz))];
  const { spacing, direction, origin } = volume.grid;
  const shift = [((Math.min(fx, nx) - 1) * spacing[0]) / 2, ((Math.min(fy, ny) - 1) * spacing[1]) / 2, ((Math.min(fz, nz) - 1) * spacing[2]) / 2];
  const grid: Grid = {
    dims,
    spacing: [spacing[0] * fx, spacing[1] * fy, spacing[2] * fz],
    origin: [0, 1, 2].map((c) => origin[c]! + direction[c]! * shift[0]! + direction[3 + c]! * shift[1]! + direction[6 + c]! * shift[2]!) as unknown as Vec3,
    direction,
  };
  const sums = new Float64Array(voxelCount(grid));
  const counts = new Uint16Array(sums.length);
  const src = volume.data;
  const [dx, dy, dz] = dims;
  for (let k = 0; k < dz * fz; k++) {
    const bk = Math.floor(k / fz);
    for (let j = 0; j < dy * fy; j++) {
      const rowOut = dx * (Math.floor(j / fy) + dy * bk);
      const rowIn = nx * (j + ny * k);
      for (let i = 0; i < dx * fx; i++) {
        const v = src[rowIn + i]!;
        if (!Number.isFinite(v)) continue;
        const o = rowOut + Math.floor(i / fx);
        sums[o]! += v;
        counts[o]!++;
      }
    }
  }
  const data = new Float32Array(sums.length);
  for (let n = 0; n < data.length; n++) data[n] = counts[n]! > 0 ? sums[n]! / counts[n]! : NaN;
  return { grid, data };
}

/**
 * Nearest-neighbour resampling of a mask onto `target`: a target voxel is inside when the source
 * voxel nearest to targetToSource(its centre) is inside; centres mapping outside the source grid
 * are outside. The source→index map is affine, so it is stepped along i instead of recomputed.
 */
export function resampleMask(mask: Mask, target: Grid, targetToSource: AffineTransform = IDENTITY_TRANSFORM): Mask {
  const map = indexMap(target, mask.grid, targetToSource);
  const a = map.matrix;
  const [nx, ny, nz] = mask.grid.dims;
  const src = mask.data;
  const out = new Uint8Array(voxelCount(target));
  const [tx, ty, tz] = target.dims;
  let n = 0;
  for (let k = 0; k < tz; k++) {
    for (let j = 0; j < ty; j++, n += tx) {
      // Index of voxel (0, j, k) in the source, +0.5 so that floor() rounds to nearest.
      let fi = a[1]! * j + a[2]! * k + map.translation[0] + 0.5;
      let fj = a[4]! * j + a[5]! * k + map.translation[1] + 0.5;
      let fk = a[7]! * j + a[8]! * k + map.translation[2] + 0.5;
      for (let i = 0; i < tx; i++, fi += a[0]!, fj += a[3]!, fk += a[6]!) {
        if (fi < 0 || fj < 0 || fk < 0 || fi >= nx || fj >= ny || fk >= nz) continue;
        if (src[Math.floor(fi) + nx * (Math.floor(fj) + ny * Math.floor(fk))]) out[n + i] = 1;
      }
    }
  }
  return { grid: target, data: out };
}

// ---------------------------------------------------------------------------------------------
// elastix

/** elastix's parameter map: every value is a list of strings (elastix manual, appendix A). */
export type ElastixParameterMap = Record<string, string[]>;

export interface AffineRegistrationOptions {
  /** Levels of the image pyramid (default 3: on a 2 mm grid, 8, 4 and 2 mm). */
  readonly resolutions?: number;
  /** Optimiser iterations per level (default 200). */
  readonly iterations?: number;
  /** Random spatial samples drawn per iteration (default 2000). */
  readonly samples?: number;
  /** Similarity metric: Mattes mutual information (default) or normalised correlation. */
  readonly metric?: 'mutual-information' | 'correlation';
}

/**
 * The parameter map of a 12-parameter affine registration: multi-resolution pyramids (smoothed and
 * downsampled: the recursive pyramid, cheaper than smoothing at full resolution at every level),
 * initialised by aligning the centres of gravity of the two images (AutomaticTransformInitialization,
 * elastix manual 5.4), Advanced Mattes mutual information (or normalised correlation), optimised by
 * adaptive stochastic gradient descent on random samples, with fixed seeds so runs repeat.
 */
export function affineParameterMap(options: AffineRegistrationOptions = {}): ElastixParameterMap {
  const resolutions = options.resolutions ?? 3;
  return {
    Registration: ['MultiResolutionRegistration'],
    FixedImagePyramid: ['FixedRecursiveImagePyramid'],
    MovingImagePyramid: ['MovingRecursiveImagePyramid'],
    NumberOfResolutions: [String(resolutions)],
    Transform: ['AffineTransform'],
    AutomaticTransformInitialization: ['true'],
    AutomaticTransformInitializationMethod: ['CenterOfGravity'],
    AutomaticScalesEstimation: ['true'],
    HowToCombineTransforms: ['Compose'],
    Metric: [options.metric === 'correlation' ? 'AdvancedNormalizedCorrelation' : 'AdvancedMattesMutualInformation'],
    NumberOfHistogramBins: ['32'],
    Optimizer: ['AdaptiveStochasticGradientDescent'],
    AutomaticParameterEstimation: ['true'],
    MaximumNumberOfIterations: [String(options.iterations ?? 200)],
    ImageSampler: ['RandomCoordinate'],
    NumberOfSpatialSamples: [String(options.samples ?? 2000)],
    NewSamplesEveryIteration: ['true'],
    RandomSeed: ['121212'],
    CheckNumberOfSamples: ['true'],
    MaximumNumberOfSamplingAttempts: ['8'],
    Interpolator: ['LinearInterpolator'],
    ResampleInterpolator: ['FinalLinearInterpolator'],
    Resampler: ['DefaultResampler'],
    DefaultPixelValue: ['0'],
    WriteResultImage: ['false'],
    ResultImageFormat: ['nii'],
    WriteIterationInfo: ['false'],
  };
}

type ItkImage = NonNullable<ElastixNodeOptions['fixed']>;

function toItkImage(volume: Volume<Float32Array>, name: string): ItkImage {
  const d = volume.grid.direction;
  if (d.some((v, n) => Math.abs(v - (n % 4 === 0 ? 1 : 0)) > 1e-9)) {
    throw new RangeError(`${name}: registration needs a grid with the identity direction (make one with axisAlignedGrid)`);
  }
  return {
    imageType: { dimension: 3, componentType: 'float32', pixelType: 'Scalar', components: 1 },
    name,
    origin: [...volume.grid.origin],
    spacing: [...volume.grid.spacing],
    direction: new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]),
    size: [...volume.grid.dims],
    metadata: new Map(),
    data: volume.data,
  } as unknown as ItkImage;
}

export class RegistrationError extends Error {
  override readonly name = 'RegistrationError';
}

function numbers(map: Record<string, unknown>, key: string, count: number): number[] {
  const raw = map[key];
  const list = Array.isArray(raw) ? raw : [];
  const values = list.map((v) => Number(v));
  if (values.length !== count || values.some((v) => !Number.isFinite(v))) {
    throw new RegistrationError(`elastix returned an unexpected ${key}: ${JSON.stringify(raw)} (expected ${count} numbers)`);
  }
  return values;
}

/**
 * The fixed → moving transform of elastix's transform parameter object. Supported: a chain of
 * AffineTransform maps (each x ↦ A(x − c) + t + c, with A the first nine TransformParameters row by
 * row, t the last three and c the CenterOfRotationPoint; elastix's AdvancedMatrixOffsetTransformBase)
 * combined by composition, where a later map's transform is applied after its initial transform,
 * i.e. to the output of the maps before it (elastix manual 5.10, HowToCombineTransforms "Compose").
 */
export function elastixAffineTransform(transformParameterObject: unknown): AffineTransform {
  const maps = Array.isArray(transformParameterObject) ? (transformParameterObject as Record<string, unknown>[]) : [transformParameterObject as Record<string, unknown>];
  if (maps.length === 0) throw new RegistrationError('elastix returned no transform');
  let total = IDENTITY_TRANSFORM;
  for (const map of maps) {
    const kind = Array.isArray(map['Transform']) ? String(map['Transform'][0]) : String(map['Transform']);
    if (kind !== 'AffineTransform') throw new RegistrationError(`elastix returned a ${kind}; only AffineTransform is read`);
    const combine = Array.isArray(map['HowToCombineTransforms']) ? String(map['HowToCombineTransforms'][0]) : 'Compose';
    if (combine !== 'Compose') throw new RegistrationError(`elastix combined transforms by ${combine}; only Compose is read`);
    const p = numbers(map, 'TransformParameters', 12);
    const c = numbers(map, 'CenterOfRotationPoint', 3);
    const matrix = p.slice(0, 9);
    const ac = applyAffine({ matrix, translation: [0, 0, 0] }, c as unknown as Vec3);
    const step: AffineTransform = { matrix, translation: [p[9]! + c[0]! - ac[0], p[10]! + c[1]! - ac[1], p[11]! + c[2]! - ac[2]] };
    total = composeAffine(step, total);
  }
  return total;
}

export interface AffineRegistration {
  /** Maps fixed-image points to moving-image points (patient coordinates, mm). */
  readonly transform: AffineTransform;
  /** Wall time of the elastix run, in ms. */
  readonly ms: number;
}

/**
 * Registers `moving` to `fixed` with a 12-parameter affine transform. Both must be float32 on grids
 * with the identity direction (see axisAlignedGrid). Throws RegistrationError when elastix fails.
 */
export async function registerAffine(fixed: Volume<Float32Array>, moving: Volume<Float32Array>, options: AffineRegistrationOptions = {}): Promise<AffineRegistration> {
  const started = performance.now();
  let result: Awaited<ReturnType<typeof elastixNode>>;
  try {
    result = await elastixNode([affineParameterMap(options)] as never, {
      fixed: toItkImage(fixed, 'fixed'),
      moving: toItkImage(moving, 'moving'),
    });
  } catch (e) {
    throw new RegistrationError(`elastix failed: ${(e as Error).message ?? String(e)}`);
  }
  return { transform: elastixAffineTransform(result.transformParameterObject), ms: performance.now() - started };
}

/** Float32 copy of any voxel array (elastix is given float32 images). */
export function toFloat32(volume: Volume<VoxelArray>): Volume<Float32Array> {
  return volume.data instanceof Float32Array ? (volume as Volume<Float32Array>) : { grid: volume.grid, data: Float32Array.from(volume.data as ArrayLike<number>) };
}
