/**
 * Types shared by the radiomics engine's stages: image processing produces a `RoiImage`,
 * discretisation a `DiscretisedRoi`, and every feature family returns `Feature` rows named as in
 * the IBSI reference values (chapter 1 of the IBSI reference manual).
 */
import type { Vec3 } from '../volume/volume.js';

/** The IBSI families, by the short names of the IBSI reference value table. */
export type FamilyShort = 'morph' | 'loc' | 'stat' | 'ih' | 'ivh' | 'cm' | 'rlm' | 'szm' | 'dzm' | 'ngt' | 'ngl';

/**
 * How texture features are aggregated (IBSI 3.1.4). Co-occurrence and run-length families use
 * the six combined forms; the others use '2D', '2.5D' or '3D'. Families without aggregation
 * (morphology, local intensity, statistics, histograms) use ''.
 */
export type Aggregation =
  | ''
  | '2D' | '2.5D' | '3D'
  | '2D, averaged' | '2D, slice-merged' | '2.5D, direction-merged' | '2.5D, merged' | '3D, averaged' | '3D, merged';

/** Texture matrices are computed per slice (2D, 2.5D) or over the volume (3D). */
export type TextureDimension = '2D' | '2.5D' | '3D';

export interface Feature {
  readonly family: FamilyShort;
  /**
   * The feature's name in the IBSI reference value table: its `feature` column, or its
   * `table_caption` column where several features share one IBSI code (e.g. "volume fraction at
   * 10% intensity", "volume at intensity fraction" share BC2M).
   */
  readonly name: string;
  /** The IBSI identifier, e.g. "RNU0". */
  readonly code: string;
  readonly aggregation: Aggregation;
  /** NaN where IBSI leaves the feature undefined for this ROI (e.g. a variance of one voxel). */
  readonly value: number;
}

/**
 * The region of interest after interpolation and re-segmentation (IBSI 2.1–2.4), on the
 * processed grid. Slices are planes of constant k; 2-D approaches work slice by slice.
 */
export interface RoiImage {
  readonly dims: Vec3;
  /** Voxel spacing after interpolation (mm). */
  readonly spacing: Vec3;
  /** Intensities of the whole interpolated image (rounded if the settings say so). */
  readonly intensity: Float64Array;
  /** The morphological mask: the ROI after interpolation and partial-volume thresholding. */
  readonly morphMask: Uint8Array;
  /** The intensity mask: the morphological mask after re-segmentation (range and/or outliers). */
  readonly intensityMask: Uint8Array;
}

/**
 * Discretised intensities of the intensity mask (IBSI 2.7): grey levels 1..ng inside the mask,
 * 0 outside. `ng` is the number of grey levels of the discretisation (the highest level that
 * can occur), so matrices have ng rows whether or not every level occurs.
 */
export interface DiscretisedRoi {
  readonly dims: Vec3;
  readonly spacing: Vec3;
  readonly levels: Int32Array;
  readonly ng: number;
}

/** Settings every texture family receives. */
export interface TextureOptions {
  /** Which of 2D, 2.5D and 3D to compute (the 2-D IBSI configurations ask for 2D and 2.5D). */
  readonly dimensions: readonly TextureDimension[];
  /** GLCM, NGTDM, NGLDM neighbourhood distance (Chebyshev), IBSI default 1. */
  readonly distance: number;
  /** GLSZM, GLDZM: voxels of one grey level within this Chebyshev distance form one zone; IBSI default 1. */
  readonly linkageDistance: number;
  /** NGLDM coarseness parameter a, IBSI default 0. */
  readonly ngldmCoarseness: number;
}

/**
 * Discretisation of intensities into grey levels (IBSI 2.7). Fixed bin size places the first
 * bin edge at the re-segmentation range's minimum (or the ROI's minimum without one).
 */
export type Discretisation =
  | { readonly method: 'none' }
  | { readonly method: 'FBN'; readonly bins: number }
  | { readonly method: 'FBS'; readonly binWidth: number };
