/**
 * What the intensities of a head image mean: Hounsfield units of a CT, or the arbitrary scale of
 * an MR image. Defacing needs to know in three places: the value a removed face voxel gets (air,
 * not the padding outside a CT's reconstruction circle), the window the registration sees (so the
 * padding and the bone do not fill the mutual-information histogram), and the skin threshold of
 * the face check's renders (air against skin, not padding against air).
 *
 * The kind is read from the values, not from a header, because a NIfTI file has no modality: a
 * CT converted by dcm2niix holds Hounsfield units (its scl_slope/scl_inter applied), and Hounsfield
 * units put air at −1000 by definition. An MR image never holds a large share of voxels at or
 * below −900: its values are magnitudes, at most slightly negative after reconstruction.
 */
import type { VoxelArray } from '../volume.js';

export type IntensityKind = 'ct' | 'mr';

/** Air in Hounsfield units (the definition of the scale: water 0, air −1000). */
export const CT_AIR_HU = -1000;
/**
 * The window a CT is clamped to before registration: air to dense bone. Padding (−2000, −3024)
 * becomes air and metal becomes bone, so neither stretches the histogram that the mutual
 * information is estimated on.
 */
export const CT_WINDOW_HU: readonly [number, number] = [-1000, 1500];
/** Values at or below this are air (or padding) in a CT. */
const CT_AIR_CEILING_HU = -900;
/** Share of the finite voxels that must be air or padding for the image to count as a CT: a head's field of view holds air around it. */
const CT_MIN_AIR_SHARE = 0.05;
/** Share of the finite voxels that must lie in the air band itself (−1100 to −900 HU), so that a scale merely offset below −900 does not count. */
const CT_MIN_AIR_BAND_SHARE = 0.02;

/**
 * 'ct' when the values are Hounsfield units: at least 5% of the voxels at or below −900 (air and
 * padding) and at least 2% in the air band from −1100 to −900; 'mr' otherwise.
 */
export function intensityKind(data: VoxelArray): IntensityKind {
  let finite = 0;
  let low = 0;
  let band = 0;
  for (let n = 0; n < data.length; n++) {
    const v = data[n]!;
    if (!Number.isFinite(v)) continue;
    finite++;
    if (v <= CT_AIR_CEILING_HU) {
      low++;
      if (v >= -1100) band++;
    }
  }
  if (finite === 0) return 'mr';
  return low >= CT_MIN_AIR_SHARE * finite && band >= CT_MIN_AIR_BAND_SHARE * finite ? 'ct' : 'mr';
}

/** Clamps every finite value into [lo, hi], in place; returns the array. */
export function clampInPlace<T extends Float32Array>(data: T, lo: number, hi: number): T {
  for (let n = 0; n < data.length; n++) {
    const v = data[n]!;
    if (v < lo) data[n] = lo;
    else if (v > hi) data[n] = hi;
  }
  return data;
}
