/**
 * Directional texture matrices (IBSI 3.6 and 3.7, and the families that reuse their
 * neighbourhoods): the direction vectors, the box of the ROI that every walk along a direction
 * stays in, and the six ways IBSI aggregates features of matrices computed per direction and per
 * slice (IBSI 3.6.1 / 3.7.1: BTW3, SUJT, JJUI, ZW7Z, ITBB, IAZD).
 *
 * A direction is a step (di, dj, dk) along the volume's i, j and k axes, which IBSI writes as
 * (x, y, z); slices are planes of constant k.
 */
import { RadiomicsInputError } from '../errors.js';
import type { Aggregation, DiscretisedRoi, TextureDimension } from '../types.js';

/** A step between neighbouring voxels along i, j and k. */
export type Direction = readonly [di: number, dj: number, dk: number];

/**
 * The 13 unique directions of the 26-connected neighbourhood at Chebyshev distance 1, in the
 * order of the IBSI reference manual's digital phantom texture matrices (chapter 6: sorted by
 * component). IBSI 3.6 lists the same set in another order. Each direction stands for itself and
 * its opposite: symmetric matrices count both, and a run along m is a run along −m.
 */
export const DIRECTIONS_3D: readonly Direction[] = Object.freeze([
  [0, 0, 1],
  [0, 1, -1],
  [0, 1, 0],
  [0, 1, 1],
  [1, -1, -1],
  [1, -1, 0],
  [1, -1, 1],
  [1, 0, -1],
  [1, 0, 0],
  [1, 0, 1],
  [1, 1, -1],
  [1, 1, 0],
  [1, 1, 1],
] as const);

/**
 * The 4 unique in-plane directions of the 8-connected neighbourhood (IBSI 3.6: 0°, 45°, 90°,
 * 135°), in the order of the manual's chapter 6: (0, 1, 0), (1, −1, 0), (1, 0, 0), (1, 1, 0).
 */
export const DIRECTIONS_2D: readonly Direction[] = Object.freeze([
  [0, 1, 0],
  [1, -1, 0],
  [1, 0, 0],
  [1, 1, 0],
] as const);

/** The smallest box holding every voxel of the intensity mask; bounds are inclusive. */
export interface RoiBox {
  readonly i0: number;
  readonly i1: number;
  readonly j0: number;
  readonly j1: number;
  readonly k0: number;
  readonly k1: number;
  /** Voxels of the intensity mask (levels > 0). */
  readonly voxels: number;
}

/**
 * Checks a discretised ROI (dimensions, array length, levels within 0..ng) and finds its box.
 * Matrices are built over the box only: the ROI is usually a small part of the image. `box` is
 * undefined for an empty intensity mask.
 */
export function roiBox(d: DiscretisedRoi): RoiBox | undefined {
  const [nx, ny, nz] = d.dims;
  for (const n of d.dims) {
    if (!Number.isInteger(n) || n < 1) throw new RadiomicsInputError(`discretised ROI: dimensions must be positive integers, got ${d.dims.join(' × ')}`);
  }
  if (d.levels.length !== nx * ny * nz) {
    throw new RadiomicsInputError(`discretised ROI: ${d.levels.length} levels for a grid of ${nx} × ${ny} × ${nz} voxels`);
  }
  if (!Number.isInteger(d.ng) || d.ng < 1) throw new RadiomicsInputError(`discretised ROI: the number of grey levels must be a positive integer, got ${d.ng}`);
  let i0 = nx, i1 = -1, j0 = ny, j1 = -1, k0 = nz, k1 = -1;
  let voxels = 0;
  const { levels, ng } = d;
  for (let k = 0, index = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, index++) {
        const g = levels[index]!;
        if (g === 0) continue;
        if (g < 0 || g > ng) throw new RadiomicsInputError(`discretised ROI: grey level ${g} at voxel (${i}, ${j}, ${k}) is outside 1..${ng}`);
        voxels++;
        if (i < i0) i0 = i;
        if (i > i1) i1 = i;
        if (j < j0) j0 = j;
        if (j > j1) j1 = j;
        if (k < k0) k0 = k;
        if (k > k1) k1 = k;
      }
    }
  }
  return voxels === 0 ? undefined : { i0, i1, j0, j1, k0, k1, voxels };
}

/** Throws unless `direction` is one step of a Chebyshev neighbourhood (components −1, 0, 1, not all 0). */
export function checkDirection(direction: Direction): void {
  const valid = direction.length === 3 && direction.every((c) => c === -1 || c === 0 || c === 1) && direction.some((c) => c !== 0);
  if (!valid) throw new RadiomicsInputError(`texture direction must have components in {−1, 0, 1}, not all 0: got (${direction.join(', ')})`);
}

/** Throws unless `slice` is a slice index (k) of the ROI's grid and `direction` lies in the slice plane. */
export function checkSlice(d: DiscretisedRoi, direction: Direction, slice: number): void {
  if (!Number.isInteger(slice) || slice < 0 || slice >= d.dims[2]) {
    throw new RadiomicsInputError(`slice ${slice} is not a slice of a grid with ${d.dims[2]} slices`);
  }
  if (direction[2] !== 0) throw new RadiomicsInputError(`direction (${direction.join(', ')}) leaves the slice plane: a 2-D matrix needs dk = 0`);
}

/** How to merge matrices of one family and compute its features from one matrix. */
export interface MatrixFamily<M> {
  /** Number of features `features` returns. */
  readonly featureCount: number;
  /** The element-wise sum of matrices (IBSI: merged matrices sum their counts). */
  merge(parts: readonly M[]): M;
  /** The family's features of one matrix, NaN where undefined (e.g. an empty matrix). */
  features(m: M): Float64Array;
}

/** The aggregation methods of each texture dimension (IBSI 3.6.1, 3.7.1), as the reference values name them. */
export const DIRECTIONAL_AGGREGATIONS: Readonly<Record<TextureDimension, readonly [averaged: Aggregation, merged: Aggregation]>> = {
  '2D': ['2D, averaged', '2D, slice-merged'],
  '2.5D': ['2.5D, direction-merged', '2.5D, merged'],
  '3D': ['3D, averaged', '3D, merged'],
};

/** The texture dimensions in the order their features are reported. */
export const TEXTURE_DIMENSIONS: readonly TextureDimension[] = ['2D', '2.5D', '3D'];

/**
 * Feature values of one texture dimension under its two aggregation methods.
 *
 * `matrices[direction][slice]`: for '2D' and '2.5D' the in-plane matrices of every slice, for
 * '3D' one volumetric matrix per direction (`matrices[direction][0]`).
 * - 2D, averaged (BTW3): features of every slice and direction matrix, averaged.
 * - 2D, slice-merged (SUJT): per slice, the directions merged; features averaged over slices.
 * - 2.5D, direction-merged (JJUI): per direction, the slices merged; features averaged over directions.
 * - 2.5D, merged (ZW7Z), 3D, merged (IAZD): one matrix of everything.
 * - 3D, averaged (ITBB): features per direction, averaged.
 *
 * Averages skip undefined values (an empty matrix of a slice without neighbouring voxel pairs,
 * a correlation of a single grey level): a value is NaN only when no matrix defines it.
 */
export function aggregateDirectional<M>(dimension: TextureDimension, matrices: readonly (readonly M[])[], family: MatrixFamily<M>): Array<{ aggregation: Aggregation; values: Float64Array }> {
  const [averagedName, mergedName] = DIRECTIONAL_AGGREGATIONS[dimension];
  const mean = (vectors: readonly Float64Array[]) => nanMean(vectors, family.featureCount);
  const all = matrices.flat();
  let averaged: Float64Array;
  let merged: Float64Array;
  if (dimension === '2D') {
    averaged = mean(all.map((m) => family.features(m)));
    const slices = matrices[0]?.length ?? 0;
    const perSlice: Float64Array[] = [];
    for (let s = 0; s < slices; s++) perSlice.push(family.features(family.merge(matrices.map((bySlice) => bySlice[s]!))));
    merged = mean(perSlice);
  } else if (dimension === '2.5D') {
    averaged = mean(matrices.map((bySlice) => family.features(family.merge(bySlice))));
    merged = family.features(family.merge(all));
  } else {
    averaged = mean(all.map((m) => family.features(m)));
    merged = family.features(family.merge(all));
  }
  return [
    { aggregation: averagedName, values: averaged },
    { aggregation: mergedName, values: merged },
  ];
}

/** Per-feature mean of the defined (non-NaN) values; NaN where none is defined. */
function nanMean(vectors: readonly Float64Array[], length: number): Float64Array {
  const sum = new Float64Array(length);
  const count = new Float64Array(length);
  for (const v of vectors) {
    for (let f = 0; f < length; f++) {
      const x = v[f]!;
      if (Number.isNaN(x)) continue;
      sum[f] = sum[f]! + x;
      count[f] = count[f]! + 1;
    }
  }
  for (let f = 0; f < length; f++) sum[f] = count[f]! > 0 ? sum[f]! / count[f]! : NaN;
  return sum;
}
