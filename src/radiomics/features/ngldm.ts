/**
 * Neighbouring grey level dependence matrix features (IBSI 3.11, family "ngl"). Every voxel k of
 * the intensity mask is the centre of a neighbourhood: the voxels within Chebyshev distance δ (in
 * its slice for the 2-D approach). Its dependence count j_k is 1 (the centre itself) plus the
 * neighbours in the intensity mask whose grey level differs from the centre's by at most the
 * coarseness α. Element s_ij counts the centres of grey level i with dependence count j, so
 * N_s = N_v.
 */
import type { Vec3 } from '../../volume/volume.js';
import type { DiscretisedRoi, Feature, TextureDimension, TextureOptions } from '../types.js';
import { COUNT_MATRIX_FEATURES, countMatrixFeatures, countMatrixFromDense, mergeCountMatrices, type CountMatrix, type CountMatrixFeature, type CountMatrixFeatures } from './zone-matrix.js';
import {
  checkDistance, checkTextureOptions, cropToRoi, featureRows, meanRecordOverSlices, neighbourOffsets, requestedDimensions, TextureInputError,
  type FeatureDefinition,
} from './zones.js';

const FAMILY = 'NGLDM';

/** Names and codes as in the IBSI reference table. */
const FEATURES: readonly FeatureDefinition<CountMatrixFeature>[] = [
  { name: 'Low dependence emphasis', code: 'SODN', key: 'smallColumnEmphasis' },
  { name: 'High dependence emphasis', code: 'IMOQ', key: 'largeColumnEmphasis' },
  { name: 'Low grey level count emphasis', code: 'TL9H', key: 'lowGreyEmphasis' },
  { name: 'High grey level count emphasis', code: 'OAE7', key: 'highGreyEmphasis' },
  { name: 'Low dependence low grey level emphasis', code: 'EQ3F', key: 'smallColumnLowGreyEmphasis' },
  { name: 'Low dependence high grey level emphasis', code: 'JA6D', key: 'smallColumnHighGreyEmphasis' },
  { name: 'High dependence low grey level emphasis', code: 'NBZI', key: 'largeColumnLowGreyEmphasis' },
  { name: 'High dependence high grey level emphasis', code: '9QMG', key: 'largeColumnHighGreyEmphasis' },
  { name: 'Grey level non-uniformity', code: 'FP8K', key: 'greyNonUniformity' },
  { name: 'Normalised grey level non-uniformity', code: '5SPA', key: 'greyNonUniformityNormalised' },
  { name: 'Dependence count non-uniformity', code: 'Z87G', key: 'columnNonUniformity' },
  { name: 'Normalised dependence count non-uniformity', code: 'OKJI', key: 'columnNonUniformityNormalised' },
  { name: 'Dependence count percentage', code: '6XV8', key: 'percentage' },
  { name: 'Grey level variance', code: '1PFV', key: 'greyVariance' },
  { name: 'Dependence count variance', code: 'DNX2', key: 'columnVariance' },
  { name: 'Dependence count entropy', code: 'FCBV', key: 'entropy' },
  { name: 'Dependence count energy', code: 'CAS9', key: 'energy' },
];

/**
 * The NGLDM of each slice k (`inSlice`, 2-D neighbourhoods; slices without intensity-mask voxels
 * give an empty matrix) or of the volume (3-D neighbourhoods).
 */
function dependenceMatrices(levels: Int32Array, dims: Vec3, ng: number, distance: number, coarseness: number, inSlice: boolean): CountMatrix[] {
  const [nx, ny, nz] = dims;
  const { di, dj, dk, linear } = neighbourOffsets(dims, distance, inSlice);
  const m = linear.length;
  const columns = m + 1;
  const cells = ng * columns;
  const matrices = inSlice ? nz : 1;
  const dense = new Float64Array(matrices * cells);
  const voxels = new Float64Array(matrices);
  const kLow = inSlice ? 0 : distance;
  const kHigh = inSlice ? nz : nz - distance;
  for (let k = 0, v = 0; k < nz; k++) {
    const matrix = inSlice ? k : 0;
    const base = matrix * cells;
    const kInterior = k >= kLow && k < kHigh;
    for (let j = 0; j < ny; j++) {
      const jInterior = kInterior && j >= distance && j < ny - distance;
      for (let i = 0; i < nx; i++, v++) {
        const g = levels[v]!;
        if (g <= 0) continue;
        let dependence = 1;
        if (jInterior && i >= distance && i < nx - distance) {
          for (let o = 0; o < m; o++) {
            const h = levels[v + linear[o]!]!;
            if (h > 0 && Math.abs(h - g) <= coarseness) dependence++;
          }
        } else {
          for (let o = 0; o < m; o++) {
            const a = i + di[o]!, b = j + dj[o]!, c = k + dk[o]!;
            if (a < 0 || a >= nx || b < 0 || b >= ny || c < 0 || c >= nz) continue;
            const h = levels[v + linear[o]!]!;
            if (h > 0 && Math.abs(h - g) <= coarseness) dependence++;
          }
        }
        const cell = base + (g - 1) * columns + (dependence - 1);
        dense[cell] = dense[cell]! + 1;
        voxels[matrix] = voxels[matrix]! + 1;
      }
    }
  }
  return Array.from(voxels, (n, matrix) => countMatrixFromDense(ng, columns, dense.subarray(matrix * cells, (matrix + 1) * cells), n));
}

function checkCoarseness(coarseness: number): void {
  if (!Number.isFinite(coarseness) || coarseness < 0) throw new TextureInputError(`${FAMILY}: the coarseness must be a non-negative number, got ${coarseness}`);
}

/** The NGLDM of each slice (k ascending) that holds voxels of the intensity mask, 2-D neighbourhoods. */
export function ngldmSliceMatrices(d: DiscretisedRoi, distance = 1, coarseness = 0): CountMatrix[] {
  checkDistance(distance, FAMILY);
  checkCoarseness(coarseness);
  const roi = cropToRoi(d, FAMILY);
  return dependenceMatrices(roi.levels, roi.dims, roi.ng, distance, coarseness, true).filter((m) => m.voxels > 0);
}

/** The NGLDM of the volume, 3-D neighbourhoods. */
export function ngldmVolumeMatrix(d: DiscretisedRoi, distance = 1, coarseness = 0): CountMatrix {
  checkDistance(distance, FAMILY);
  checkCoarseness(coarseness);
  const roi = cropToRoi(d, FAMILY);
  return dependenceMatrices(roi.levels, roi.dims, roi.ng, distance, coarseness, false)[0]!;
}

/**
 * The 17 NGLDM features for each requested aggregation ('2D', '2.5D', '3D'), at Chebyshev
 * distance `o.distance` and coarseness `o.ngldmCoarseness`; NaN for an empty ROI.
 */
export function ngldmFeatures(d: DiscretisedRoi, o: TextureOptions): Feature[] {
  checkTextureOptions(o, FAMILY);
  const roi = cropToRoi(d, FAMILY);
  let slices: CountMatrix[] | undefined;
  const perSlice = () => (slices ??= dependenceMatrices(roi.levels, roi.dims, roi.ng, o.distance, o.ngldmCoarseness, true).filter((m) => m.voxels > 0));
  const results = requestedDimensions(o).map((dimension: TextureDimension) => {
    let values: CountMatrixFeatures;
    if (dimension === '2D') values = meanRecordOverSlices(perSlice().map(countMatrixFeatures), COUNT_MATRIX_FEATURES);
    else if (dimension === '2.5D') values = countMatrixFeatures(mergeCountMatrices(roi.ng, perSlice()));
    else {
      const volume = dependenceMatrices(roi.levels, roi.dims, roi.ng, o.distance, o.ngldmCoarseness, false)[0];
      values = countMatrixFeatures(volume ?? mergeCountMatrices(roi.ng, []));
    }
    return { dimension, values };
  });
  return featureRows('ngl', FEATURES, results);
}
