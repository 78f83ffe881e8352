/**
 * Grey level distance zone matrix features (IBSI 3.9, family "dzm"). Zones are those of the
 * GLSZM (3.8), found in the intensity mask; element d_ij counts the zones of grey level i whose
 * distance to the ROI edge is j. The distance of a voxel is the number of voxel steps
 * (4-connected in a slice for the 2-D approach, 6-connected in the volume for the 3-D one) to
 * the nearest voxel outside the morphological mask, so voxels on the edge are at distance 1; a
 * zone's distance is the smallest of its voxels'. N_v is the number of voxels of the intensity mask.
 */
import type { Vec3 } from '../../volume/volume.js';
import type { DiscretisedRoi, Feature, TextureDimension, TextureOptions } from '../types.js';
import { COUNT_MATRIX_FEATURES, CountMatrixBuilder, countMatrixFeatures, mergeCountMatrices, type CountMatrix, type CountMatrixFeature, type CountMatrixFeatures } from './zone-matrix.js';
import {
  checkTextureOptions, cropToRoi, featureRows, labelZones, meanRecordOverSlices, requestedDimensions, TextureInputError, voxelsPerSlice,
  type CroppedRoi, type FeatureDefinition,
} from './zones.js';

const FAMILY = 'GLDZM';

/** Names and codes as in the IBSI reference table. */
const FEATURES: readonly FeatureDefinition<CountMatrixFeature>[] = [
  { name: 'Small distance emphasis', code: '0GBI', key: 'smallColumnEmphasis' },
  { name: 'Large distance emphasis', code: 'MB4I', key: 'largeColumnEmphasis' },
  { name: 'Low grey level zone emphasis', code: 'S1RA', key: 'lowGreyEmphasis' },
  { name: 'High grey level zone emphasis', code: 'K26C', key: 'highGreyEmphasis' },
  { name: 'Small distance low grey level emphasis', code: 'RUVG', key: 'smallColumnLowGreyEmphasis' },
  { name: 'Small distance high grey level emphasis', code: 'DKNJ', key: 'smallColumnHighGreyEmphasis' },
  { name: 'Large distance low grey level emphasis', code: 'A7WM', key: 'largeColumnLowGreyEmphasis' },
  { name: 'Large distance high grey level emphasis', code: 'KLTH', key: 'largeColumnHighGreyEmphasis' },
  { name: 'Grey level non-uniformity', code: 'VFT7', key: 'greyNonUniformity' },
  { name: 'Normalised grey level non-uniformity', code: '7HP3', key: 'greyNonUniformityNormalised' },
  { name: 'Zone distance non-uniformity', code: 'V294', key: 'columnNonUniformity' },
  { name: 'Normalised zone distance non-uniformity', code: 'IATH', key: 'columnNonUniformityNormalised' },
  { name: 'Zone percentage', code: 'VIWW', key: 'percentage' },
  { name: 'Grey level variance', code: 'QK93', key: 'greyVariance' },
  { name: 'Zone distance variance', code: '7WT1', key: 'columnVariance' },
  { name: 'Zone distance entropy', code: 'GBDU', key: 'entropy' },
];

/**
 * Distance of every voxel of `mask` to the mask's edge (IBSI 3.9): the city-block distance, in
 * voxel steps, to the nearest voxel outside the mask, voxels beyond the grid counting as
 * outside; 0 outside the mask, 1 on its edge. `inSlice` measures within each slice
 * (4-connectivity), otherwise in the volume (6-connectivity).
 *
 * IBSI describes repeated erosion; two raster passes (forward, then backward) give the same
 * city-block distances in linear time (Rosenfeld & Pfaltz 1966).
 */
export function edgeDistanceMap(mask: Uint8Array, dims: Vec3, inSlice: boolean): Int32Array {
  const [nx, ny, nz] = dims;
  if (mask.length !== nx * ny * nz) throw new TextureInputError(`${FAMILY}: a mask of ${mask.length} voxels for a ${nx}×${ny}×${nz} grid`);
  const plane = nx * ny;
  const dist = new Int32Array(mask.length);
  const useK = !inSlice;
  for (let k = 0, v = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, v++) {
        if (mask[v] === 0) continue;
        let d = i > 0 ? dist[v - 1]! : 0;
        const b = j > 0 ? dist[v - nx]! : 0;
        if (b < d) d = b;
        if (useK) {
          const c = k > 0 ? dist[v - plane]! : 0;
          if (c < d) d = c;
        }
        dist[v] = d + 1;
      }
    }
  }
  for (let k = nz - 1, v = mask.length - 1; k >= 0; k--) {
    for (let j = ny - 1; j >= 0; j--) {
      for (let i = nx - 1; i >= 0; i--, v--) {
        if (mask[v] === 0) continue;
        let d = i < nx - 1 ? dist[v + 1]! : 0;
        const b = j < ny - 1 ? dist[v + nx]! : 0;
        if (b < d) d = b;
        if (useK) {
          const c = k < nz - 1 ? dist[v + plane]! : 0;
          if (c < d) d = c;
        }
        if (d + 1 < dist[v]!) dist[v] = d + 1;
      }
    }
  }
  return dist;
}

/** Builds the GLDZM of each slice (k ascending, slices holding intensity-mask voxels) or of the volume. */
function distanceZoneMatrices(roi: CroppedRoi, inSlice: boolean, linkage: number): CountMatrix[] {
  const zones = labelZones(roi.levels, roi.dims, inSlice, linkage);
  const dist = edgeDistanceMap(roi.morphMask, roi.dims, inSlice);
  const zoneDistance = new Int32Array(zones.count).fill(0x7fffffff);
  const { zoneOf } = zones;
  for (let v = 0; v < zoneOf.length; v++) {
    const z = zoneOf[v]!;
    if (z < 0) continue;
    const d = dist[v]!;
    if (d === 0) throw new TextureInputError(`${FAMILY}: a voxel of the intensity mask lies outside the morphological mask`);
    if (d < zoneDistance[z]!) zoneDistance[z] = d;
  }
  if (!inSlice) {
    const builder = new CountMatrixBuilder(roi.ng);
    let voxels = 0;
    for (let z = 0; z < zones.count; z++) {
      builder.add(zones.grey[z]!, zoneDistance[z]!);
      voxels += zones.size[z]!;
    }
    builder.addVoxels(voxels);
    return [builder.build()];
  }
  const voxels = voxelsPerSlice(roi.levels, roi.dims);
  const builders = Array.from(voxels, () => new CountMatrixBuilder(roi.ng));
  for (let z = 0; z < zones.count; z++) builders[zones.slice[z]!]!.add(zones.grey[z]!, zoneDistance[z]!);
  const out: CountMatrix[] = [];
  voxels.forEach((n, k) => {
    if (n === 0) return;
    const builder = builders[k]!;
    builder.addVoxels(n);
    out.push(builder.build());
  });
  return out;
}

/** The GLDZM of each slice (k ascending) that holds voxels of the intensity mask: 2-D zones and distances. */
export function gldzmSliceMatrices(d: DiscretisedRoi, morphMask: Uint8Array, linkage = 1): CountMatrix[] {
  return distanceZoneMatrices(cropToRoi(d, FAMILY, morphMask), true, linkage);
}

/** The GLDZM of the volume: 26-connected zones, 6-connected distances. */
export function gldzmVolumeMatrix(d: DiscretisedRoi, morphMask: Uint8Array, linkage = 1): CountMatrix {
  return distanceZoneMatrices(cropToRoi(d, FAMILY, morphMask), false, linkage)[0]!;
}

/**
 * The 16 GLDZM features for each requested aggregation ('2D', '2.5D', '3D'). Zones come from
 * the intensity mask (`d.levels > 0`), distances from `morphMask` (IBSI 3.9, "Morphological and
 * intensity masks"); NaN for an empty ROI.
 */
export function gldzmFeatures(d: DiscretisedRoi, morphMask: Uint8Array, o: TextureOptions): Feature[] {
  checkTextureOptions(o, FAMILY);
  const roi = cropToRoi(d, FAMILY, morphMask);
  let slices: CountMatrix[] | undefined;
  const perSlice = () => (slices ??= distanceZoneMatrices(roi, true, o.linkageDistance));
  const results = requestedDimensions(o).map((dimension: TextureDimension) => {
    let values: CountMatrixFeatures;
    if (dimension === '2D') values = meanRecordOverSlices(perSlice().map(countMatrixFeatures), COUNT_MATRIX_FEATURES);
    else if (dimension === '2.5D') values = countMatrixFeatures(mergeCountMatrices(roi.ng, perSlice()));
    else values = countMatrixFeatures(distanceZoneMatrices(roi, false, o.linkageDistance)[0]!);
    return { dimension, values };
  });
  return featureRows('dzm', FEATURES, results);
}
