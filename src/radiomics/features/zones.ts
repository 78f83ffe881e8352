/**
 * What the zone and neighbourhood families (GLSZM, GLDZM, NGTDM, NGLDM; IBSI 3.8–3.11) share:
 * checks of their input, the smallest box around the ROI they work on, the labelling of zones
 * (connected voxels of equal grey level), and the averaging of per-slice feature values.
 *
 * Slices are planes of constant k. Voxels outside the box or outside the image count as outside
 * the ROI, which is what every one of these definitions asks for, so cropping changes no value.
 */
import type { Vec3 } from '../../volume/volume.js';
import type { DiscretisedRoi, FamilyShort, Feature, TextureDimension, TextureOptions } from '../types.js';

/** Input a texture family cannot work on: sizes that disagree, levels out of range, bad options. */
export class TextureInputError extends Error {
  override readonly name = 'TextureInputError';
}

/** Throws a TextureInputError naming `family` unless `distance` is a positive integer (a Chebyshev distance in voxels). */
export function checkDistance(distance: number, family: string): void {
  if (!Number.isInteger(distance) || distance < 1) throw new TextureInputError(`${family}: the neighbourhood distance must be a positive integer, got ${distance}`);
}

/** Throws a TextureInputError naming `family` when the texture options make no sense. */
export function checkTextureOptions(o: TextureOptions, family: string): void {
  checkDistance(o.distance, family);
  checkDistance(o.linkageDistance, family);
  if (!Number.isFinite(o.ngldmCoarseness) || o.ngldmCoarseness < 0) {
    throw new TextureInputError(`${family}: the NGLDM coarseness must be a non-negative number, got ${o.ngldmCoarseness}`);
  }
  for (const dim of o.dimensions) {
    if (dim !== '2D' && dim !== '2.5D' && dim !== '3D') throw new TextureInputError(`${family}: unknown texture dimension "${String(dim)}"`);
  }
}

/** The ROI on the smallest box holding every voxel of the intensity mask (and of `morphMask`, when given). */
export interface CroppedRoi {
  readonly dims: Vec3;
  /** Grey levels 1..ng inside the intensity mask, 0 outside; index i + nx·(j + ny·k) on the box. */
  readonly levels: Int32Array;
  /** The morphological mask on the same box; all zeros when none was given. */
  readonly morphMask: Uint8Array;
  readonly ng: number;
}

/**
 * Checks `d` (and `morphMask`) and crops them to the ROI's bounding box, in one pass over the
 * grid: throws a TextureInputError naming `family` when the sizes disagree or a grey level lies
 * outside 0..ng.
 */
export function cropToRoi(d: DiscretisedRoi, family: string, morphMask?: Uint8Array): CroppedRoi {
  const [nx, ny, nz] = d.dims;
  for (const n of d.dims) {
    if (!Number.isInteger(n) || n < 0) throw new TextureInputError(`${family}: grid dimensions must be non-negative integers, got [${d.dims.join(', ')}]`);
  }
  const levels = d.levels;
  if (levels.length !== nx * ny * nz) {
    throw new TextureInputError(`${family}: ${levels.length} grey levels for a ${nx}×${ny}×${nz} grid (${nx * ny * nz} voxels)`);
  }
  const ng = d.ng;
  if (!Number.isInteger(ng) || ng < 1) throw new TextureInputError(`${family}: the number of grey levels must be a positive integer, got ${ng}`);
  if (morphMask !== undefined && morphMask.length !== levels.length) {
    throw new TextureInputError(`${family}: the morphological mask has ${morphMask.length} voxels, the grey levels ${levels.length}`);
  }
  let i0 = nx, j0 = ny, k0 = nz, i1 = -1, j1 = -1, k1 = -1;
  for (let k = 0, row = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++, row += nx) {
      let first = -1, last = -1;
      for (let i = 0; i < nx; i++) {
        const g = levels[row + i]!;
        if (g !== 0 || (morphMask !== undefined && morphMask[row + i] !== 0)) {
          if (g < 0 || g > ng) throw new TextureInputError(`${family}: voxel ${row + i} has grey level ${g}, outside 0..${ng}`);
          if (first < 0) first = i;
          last = i;
        }
      }
      if (first < 0) continue;
      if (first < i0) i0 = first;
      if (last > i1) i1 = last;
      if (j < j0) j0 = j;
      if (j > j1) j1 = j;
      if (k < k0) k0 = k;
      k1 = k;
    }
  }
  if (i1 < 0) return { dims: [0, 0, 0], levels: new Int32Array(0), morphMask: new Uint8Array(0), ng };
  const cx = i1 - i0 + 1, cy = j1 - j0 + 1, cz = k1 - k0 + 1;
  const outLevels = new Int32Array(cx * cy * cz);
  const outMorph = new Uint8Array(cx * cy * cz);
  for (let k = 0, w = 0; k < cz; k++) {
    for (let j = 0; j < cy; j++, w += cx) {
      const from = i0 + nx * (j0 + j + ny * (k0 + k));
      outLevels.set(levels.subarray(from, from + cx), w);
      if (morphMask !== undefined) outMorph.set(morphMask.subarray(from, from + cx), w);
    }
  }
  return { dims: [cx, cy, cz], levels: outLevels, morphMask: outMorph, ng };
}

/**
 * Neighbour offsets within Chebyshev distance `distance`, the centre excluded: the (2δ+1)²−1
 * in-plane offsets for slice-wise work, the (2δ+1)³−1 offsets of the volume otherwise.
 */
export interface NeighbourOffsets {
  readonly di: Int32Array;
  readonly dj: Int32Array;
  readonly dk: Int32Array;
  /** di + nx·(dj + ny·dk) on the grid the offsets were made for. */
  readonly linear: Int32Array;
}

export function neighbourOffsets(dims: Vec3, distance: number, inSlice: boolean): NeighbourOffsets {
  const [nx, ny] = dims;
  const di: number[] = [], dj: number[] = [], dk: number[] = [], linear: number[] = [];
  const dz = inSlice ? 0 : distance;
  for (let c = -dz; c <= dz; c++) {
    for (let b = -distance; b <= distance; b++) {
      for (let a = -distance; a <= distance; a++) {
        if (a === 0 && b === 0 && c === 0) continue;
        di.push(a);
        dj.push(b);
        dk.push(c);
        linear.push(a + nx * (b + ny * c));
      }
    }
  }
  return { di: Int32Array.from(di), dj: Int32Array.from(dj), dk: Int32Array.from(dk), linear: Int32Array.from(linear) };
}

/** Zones: groups of linked voxels of one grey level (IBSI 3.8). */
export interface ZoneLabels {
  /** Per voxel of the grid: the zone it belongs to, −1 outside the ROI. */
  readonly zoneOf: Int32Array;
  readonly count: number;
  /** Per zone: its grey level, its number of voxels, and the slice (k) of its first voxel. */
  readonly grey: Int32Array;
  readonly size: Int32Array;
  readonly slice: Int32Array;
}

/**
 * Labels zones as IBSI 3.8 links voxels: 8-connected within a slice for the 2-D approach
 * (`inSlice`), 26-connected in the volume for the 3-D one. An explicit stack replaces recursion
 * so that zones of any size are labelled; each voxel is pushed once, when it is labelled.
 */
export function labelZones(levels: Int32Array, dims: Vec3, inSlice: boolean, linkage = 1): ZoneLabels {
  checkDistance(linkage, 'zone linkage');
  const [nx, ny, nz] = dims;
  const n = levels.length;
  const zoneOf = new Int32Array(n).fill(-1);
  const grey = new Int32Array(n);
  const size = new Int32Array(n);
  const slice = new Int32Array(n);
  const stack = new Int32Array(n);
  const { di, dj, dk, linear } = neighbourOffsets(dims, linkage, inSlice);
  const m = linear.length;
  const kInteriorLow = inSlice ? 0 : linkage;
  const kInteriorHigh = inSlice ? nz : nz - linkage;
  let count = 0;
  for (let seed = 0; seed < n; seed++) {
    const g = levels[seed]!;
    if (g <= 0 || zoneOf[seed]! >= 0) continue;
    const zone = count++;
    zoneOf[seed] = zone;
    let top = 0;
    stack[top++] = seed;
    let voxels = 0;
    while (top > 0) {
      const v = stack[--top]!;
      voxels++;
      const i = v % nx;
      const t = (v - i) / nx;
      const j = t % ny;
      const k = (t - j) / ny;
      if (i >= linkage && i < nx - linkage && j >= linkage && j < ny - linkage && k >= kInteriorLow && k < kInteriorHigh) {
        // Away from the box's faces every neighbour exists: no bounds checks.
        for (let o = 0; o < m; o++) {
          const w = v + linear[o]!;
          if (levels[w] === g && zoneOf[w]! < 0) {
            zoneOf[w] = zone;
            stack[top++] = w;
          }
        }
      } else {
        for (let o = 0; o < m; o++) {
          const a = i + di[o]!, b = j + dj[o]!, c = k + dk[o]!;
          if (a < 0 || a >= nx || b < 0 || b >= ny || c < 0 || c >= nz) continue;
          const w = v + linear[o]!;
          if (levels[w] === g && zoneOf[w]! < 0) {
            zoneOf[w] = zone;
            stack[top++] = w;
          }
        }
      }
    }
    grey[zone] = g;
    size[zone] = voxels;
    slice[zone] = Math.floor(seed / (nx * ny));
  }
  return { zoneOf, count, grey: grey.slice(0, count), size: size.slice(0, count), slice: slice.slice(0, count) };
}

/** Number of ROI voxels (grey level > 0) in each slice k. */
export function voxelsPerSlice(levels: Int32Array, dims: Vec3): Int32Array {
  const plane = dims[0] * dims[1];
  const out = new Int32Array(dims[2]);
  for (let k = 0, v = 0; k < dims[2]; k++) {
    let n = 0;
    for (const end = v + plane; v < end; v++) if (levels[v]! > 0) n++;
    out[k] = n;
  }
  return out;
}

/**
 * The '2D' aggregation of IBSI 3.8–3.11 (8QNN): the mean over slices of the values computed
 * from each slice's matrix. A slice whose matrix leaves a feature undefined (NaN) does not
 * count for that feature; the mean is NaN only when no slice defines it.
 */
export function meanOverSlices(values: readonly number[]): number {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    sum += v;
    n++;
  }
  return n === 0 ? Number.NaN : sum / n;
}

/** The texture dimensions to compute, each once, in the order '2D', '2.5D', '3D'. */
export function requestedDimensions(o: TextureOptions): TextureDimension[] {
  const order: TextureDimension[] = ['2D', '2.5D', '3D'];
  return order.filter((dim) => o.dimensions.includes(dim));
}

/** One feature of a family: its name and code in the IBSI reference table, and where its value is. */
export interface FeatureDefinition<K extends string> {
  readonly name: string;
  readonly code: string;
  readonly key: K;
}

/** The '2D' aggregation of a whole record of features: each feature averaged by `meanOverSlices`. */
export function meanRecordOverSlices<K extends string>(records: readonly Readonly<Record<K, number>>[], keys: readonly K[]): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const key of keys) out[key] = meanOverSlices(records.map((r) => r[key]));
  return out;
}

/**
 * Feature rows in the order of the IBSI reference table: feature by feature, and for each its
 * aggregations ('2D', '2.5D', '3D') as computed.
 */
export function featureRows<K extends string>(
  family: FamilyShort,
  definitions: readonly FeatureDefinition<K>[],
  results: readonly { readonly dimension: TextureDimension; readonly values: Readonly<Record<K, number>> }[],
): Feature[] {
  const rows: Feature[] = [];
  for (const def of definitions) {
    for (const r of results) rows.push({ family, name: def.name, code: def.code, aggregation: r.dimension, value: r.values[def.key] });
  }
  return rows;
}
