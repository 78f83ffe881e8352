/**
 * Grey level size zone matrix features (IBSI 3.8, family "szm"). Element s_ij counts the zones
 * (voxels linked by 8-connectivity in a slice, 26-connectivity in the volume, of one grey
 * level) of grey level i and size j; N_v is the number of voxels of the intensity mask.
 */
import type { DiscretisedRoi, Feature, TextureDimension, TextureOptions } from '../types.js';
import { COUNT_MATRIX_FEATURES, CountMatrixBuilder, countMatrixFeatures, mergeCountMatrices, type CountMatrix, type CountMatrixFeature, type CountMatrixFeatures } from './zone-matrix.js';
import {
  checkTextureOptions, cropToRoi, featureRows, labelZones, meanRecordOverSlices, requestedDimensions, voxelsPerSlice,
  type CroppedRoi, type FeatureDefinition,
} from './zones.js';

const FAMILY = 'GLSZM';

/** Names and codes as in the IBSI reference table (which gives no code for small zone emphasis). */
const FEATURES: readonly FeatureDefinition<CountMatrixFeature>[] = [
  { name: 'Small zone emphasis', code: '', key: 'smallColumnEmphasis' },
  { name: 'Large zone emphasis', code: '48P8', key: 'largeColumnEmphasis' },
  { name: 'Low grey level zone emphasis', code: 'XMSY', key: 'lowGreyEmphasis' },
  { name: 'High grey level zone emphasis', code: '5GN9', key: 'highGreyEmphasis' },
  { name: 'Small zone low grey level emphasis', code: '5RAI', key: 'smallColumnLowGreyEmphasis' },
  { name: 'Small zone high grey level emphasis', code: 'HW1V', key: 'smallColumnHighGreyEmphasis' },
  { name: 'Large zone low grey level emphasis', code: 'YH51', key: 'largeColumnLowGreyEmphasis' },
  { name: 'Large zone high grey level emphasis', code: 'J17V', key: 'largeColumnHighGreyEmphasis' },
  { name: 'Grey level non-uniformity', code: 'JNSA', key: 'greyNonUniformity' },
  { name: 'Normalised grey level non-uniformity', code: 'Y1RO', key: 'greyNonUniformityNormalised' },
  { name: 'Zone size non-uniformity', code: '4JP3', key: 'columnNonUniformity' },
  { name: 'Normalised zone size non-uniformity', code: 'VB3A', key: 'columnNonUniformityNormalised' },
  { name: 'Zone percentage', code: 'P30P', key: 'percentage' },
  { name: 'Grey level variance', code: 'BYLV', key: 'greyVariance' },
  { name: 'Zone size variance', code: '3NSA', key: 'columnVariance' },
  { name: 'Zone size entropy', code: 'GU8N', key: 'entropy' },
];

function sliceMatrices(roi: CroppedRoi, linkage: number): CountMatrix[] {
  const zones = labelZones(roi.levels, roi.dims, true, linkage);
  const voxels = voxelsPerSlice(roi.levels, roi.dims);
  const builders = Array.from(voxels, () => new CountMatrixBuilder(roi.ng));
  for (let z = 0; z < zones.count; z++) builders[zones.slice[z]!]!.add(zones.grey[z]!, zones.size[z]!);
  const out: CountMatrix[] = [];
  voxels.forEach((n, k) => {
    if (n === 0) return;
    const builder = builders[k]!;
    builder.addVoxels(n);
    out.push(builder.build());
  });
  return out;
}

function volumeMatrix(roi: CroppedRoi, linkage: number): CountMatrix {
  const zones = labelZones(roi.levels, roi.dims, false, linkage);
  const builder = new CountMatrixBuilder(roi.ng);
  let voxels = 0;
  for (let z = 0; z < zones.count; z++) {
    builder.add(zones.grey[z]!, zones.size[z]!);
    voxels += zones.size[z]!;
  }
  builder.addVoxels(voxels);
  return builder.build();
}

/** The GLSZM of each slice (k ascending) that holds voxels of the intensity mask, zones 8-connected. */
export function glszmSliceMatrices(d: DiscretisedRoi, linkage = 1): CountMatrix[] {
  return sliceMatrices(cropToRoi(d, FAMILY), linkage);
}

/** The GLSZM of the volume, zones 26-connected. */
export function glszmVolumeMatrix(d: DiscretisedRoi, linkage = 1): CountMatrix {
  return volumeMatrix(cropToRoi(d, FAMILY), linkage);
}

/** The 16 GLSZM features for each requested aggregation ('2D', '2.5D', '3D'); NaN for an empty ROI. */
export function glszmFeatures(d: DiscretisedRoi, o: TextureOptions): Feature[] {
  checkTextureOptions(o, FAMILY);
  const roi = cropToRoi(d, FAMILY);
  let slices: CountMatrix[] | undefined;
  const perSlice = () => (slices ??= sliceMatrices(roi, o.linkageDistance));
  const results = requestedDimensions(o).map((dimension: TextureDimension) => {
    let values: CountMatrixFeatures;
    if (dimension === '2D') values = meanRecordOverSlices(perSlice().map(countMatrixFeatures), COUNT_MATRIX_FEATURES);
    else if (dimension === '2.5D') values = countMatrixFeatures(mergeCountMatrices(roi.ng, perSlice()));
    else values = countMatrixFeatures(volumeMatrix(roi, o.linkageDistance));
    return { dimension, values };
  });
  return featureRows('szm', FEATURES, results);
}
