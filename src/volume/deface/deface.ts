/**
 * Defacing of a head image: a template with a face mask and a brain mask is registered to the
 * subject with an affine transform, both masks are carried into the subject's grid, and the face
 * voxels are set to the background, except those within a safety margin of the carried brain.
 *
 * ```
 * subject ─► float32, 2 mm, axis-aligned (a CT clamped to −1000…1500 HU) ─┐
 *                                          ├─► elastix affine (subject → template points) ─► similarity check
 * template ─► float32, 2 mm, axis-aligned ─┘                   │
 *                                                              ▼
 * face (+ ears) and brain masks (template space) ─► nearest-neighbour resampling onto the subject's grid
 *                                                              │
 *            copy of the subject ─► face ∖ dilate(brain, margin) := background ─► metrics (input vs output)
 * ```
 *
 * The input is never modified: the output is a copy with the same grid and typed-array kind.
 */
import { worldToIndex } from '../geometry.js';
import type { Mask, Volume, VoxelArray } from '../volume.js';
import { voxelCount } from '../volume.js';
import { dilateMask } from './face-mask.js';
import { clampInPlace, CT_AIR_HU, CT_WINDOW_HU, intensityKind, type IntensityKind } from './intensity.js';
import { brainPreservation, correlationRatio, faceRemoval, quantileValue, storedAs } from './metrics.js';
import {
  axisAlignedGrid,
  downsampleByBlocks,
  IDENTITY_TRANSFORM,
  RegistrationError,
  registerAffine,
  resampleLinear,
  resampleMask,
  singularValues,
  type AffineTransform,
} from './register.js';
import { loadDefaceTemplate, TemplateError, type DefaceTemplate, type TemplateName } from './templates.js';

/** The image cannot be defaced: not a head, no usable geometry, a registration that failed. */
export class DefaceError extends Error {
  override readonly name = 'DefaceError';
  constructor(
    /** What is wrong, without the file name. */
    readonly reason: string,
    /** The file concerned, when there is one. */
    readonly file?: string,
  ) {
    super(file === undefined ? reason : `${file}: ${reason}`);
  }
}

export interface DefaceOptions {
  /** Remove the external ears too (default false). */
  readonly ears?: boolean;
  /**
   * Safety margin around the brain mask carried from the template, in millimetres: no voxel within
   * it is changed (default 4).
   */
  readonly brainMargin?: number;
  /** The template registered to the subject (default 'avg152-2mm', shipped). */
  readonly template?: TemplateName;
  /** Folder of the template's image and brain mask (needed for 'mni152-1mm', which is not shipped). */
  readonly templateDir?: string;
  /**
   * Least correlation ratio of the registered template given the subject, within the head
   * (metrics.correlationRatio), for the registration to count as converged (default
   * DEFAULT_MIN_SIMILARITY; see there for what heads and non-heads score).
   */
  readonly minSimilarity?: number;
  /** A template already loaded (loadDefaceTemplate), to save reading it again for each image. */
  readonly loadedTemplate?: DefaceTemplate;
  /** The file the image came from, named in errors. */
  readonly file?: string;
  /**
   * A second, independent brain mask to check the result against: 'brainchop' runs brainchop's
   * MeshNet grey/white matter model (model5_gw_ae, shipped) on the original head and measures how
   * much of its grey ∪ white matter is left unaltered (metrics.brainchop). About a minute on two cores.
   * T1-weighted MR only: a CT (values in Hounsfield units, see intensityKind) is refused with a DefaceError.
   */
  readonly brainCheck?: BrainCheck;
  /** Worker threads of the brain check's model (default: every core). */
  readonly brainCheckThreads?: number;
}

/** The independent brain checks there are. */
export type BrainCheck = 'brainchop';
export const BRAIN_CHECKS: readonly BrainCheck[] = ['brainchop'];

/** The brainchop check's measures: its brain mask compared before and after. */
export interface BrainchopCheck {
  readonly model: string;
  /** Voxels of the brainchop brain mask (grey ∪ white matter) on the image's grid. */
  readonly voxels: number;
  /** Dice of the brainchop mask and its voxels left unaltered: 1 when none changed. */
  readonly dice: number;
  /** Brainchop-mask voxels whose value changed. */
  readonly voxelsAltered: number;
  /** Wall time of the check (conforming, the model, mapping back), ms. */
  readonly ms: number;
}

export const DEFAULT_BRAIN_MARGIN_MM = 4;
/**
 * Least correlation ratio η² (template given subject, metrics.correlationRatio) of a registration
 * that found a head. Measured on the 2 mm copies the registration runs on: the real T1 heads
 * (chris_t1, t1_crop) score 0.60–0.64 against the avg152 template and 0.50–0.52 against the MNI152
 * 1 mm template, the MNI152 1 mm template as a subject 0.91 and 1.0, the pseudo-CT heads made from
 * the T1 heads (test/conformance/support/pseudo-ct.ts) 0.67–0.69; a head turned back to front
 * 0.15–0.25 (T1) and 0.28 (pseudo-CT), uniform noise 0.02–0.03. (Pearson's correlation, used
 * before, cannot judge a CT against a T1 template: bone is bright in one and dark in the other.)
 */
export const DEFAULT_MIN_SIMILARITY = 0.35;
/** Grid spacing of the registration (mm): fine enough for an affine fit of a head, and fast. */
export const REGISTRATION_SPACING_MM = 2;
/** Smallest field of view, in mm along each axis, that can hold a head. */
const MIN_HEAD_EXTENT_MM = 100;
/**
 * Scalings the affine may apply along any axis to fit the template to the subject: heads from 0.6
 * to 1.6 times the template's size. A registration that squashes the template along one axis has
 * matched something else (an image lying on its side or upside down scores well otherwise).
 */
const SCALE_RANGE: readonly [number, number] = [0.6, 1.6];

export interface DefaceMetrics {
  /** Voxels of the face region carried into the subject's grid (face, and ears when asked), before the brain guard. */
  readonly faceRegionVoxels: number;
  /** Face-region voxels that hold the background in the output, over faceRegionVoxels. */
  readonly faceRemovedFraction: number;
  /** Dice of the carried brain mask before and after (unchanged voxels): 1 when no brain voxel changed. */
  readonly brainDice: number;
  /** Voxels of the carried brain mask whose value changed (must be 0). */
  readonly brainVoxelsAltered: number;
  readonly registration: {
    /**
     * Correlation ratio η² of the registered template given the subject's intensities, within the
     * head: how much of the template's variation the subject explains, whatever its modality.
     */
    readonly similarity: number;
    /** similarity ≥ the threshold (a result is only returned when true). */
    readonly converged: boolean;
    /** Wall time of the registration, ms. */
    readonly ms: number;
  };
  /** The independent brain check, when asked for (DefaceOptions.brainCheck). */
  readonly brainchop?: BrainchopCheck;
}

export interface DefaceResult {
  /** The defaced image: same grid and typed-array kind as the input. */
  readonly defaced: Volume;
  /** Subject space: the voxels set to background. */
  readonly faceMask: Mask;
  /** The template's brain carried to the subject, before dilation. */
  readonly brainMask: Mask;
  /** The brain check's mask (grey ∪ white matter) on the subject's grid, when asked for. */
  readonly brainchopMask?: Mask;
  readonly metrics: DefaceMetrics;
  /** The value removed voxels were set to: air (see backgroundValue). */
  readonly background: number;
  /** What the values were taken to be: Hounsfield units ('ct') or an MR scale ('mr'). */
  readonly intensity: IntensityKind;
  /** Subject point → template point (patient coordinates, mm), as registered. */
  readonly transform: AffineTransform;
}

/**
 * The value face voxels are set to: air. In a CT (values in Hounsfield units, see intensityKind)
 * that is −1000 HU, whatever the padding outside the reconstruction circle holds (−2000, −3024):
 * a defaced face must look like air, not like a hole in the reconstruction. In an MR image it is
 * the 1st percentile of the values: at least a few percent of a head image's field of view is air,
 * and unlike the minimum it is not set by a few outliers (negative reconstruction artefacts).
 */
export function backgroundValue(image: Volume, kind: IntensityKind = intensityKind(image.data)): number {
  if (kind === 'ct' && storedAs(image.data, CT_AIR_HU) === CT_AIR_HU) return CT_AIR_HU;
  return quantileValue(image.data, 0.01);
}

/**
 * The removal step: a copy of the image (same grid, same typed-array kind) in which every voxel of
 * `face` that is not in `keep` holds `background`. The input is not modified.
 */
export function removeFace(image: Volume, face: Mask, keep: Mask, background: number): { defaced: Volume; removed: Mask } {
  const count = image.data.length;
  if (face.data.length !== count || keep.data.length !== count) {
    throw new RangeError(`the image (${count} voxels), the face mask (${face.data.length}) and the kept mask (${keep.data.length}) must share one grid`);
  }
  const data = image.data.slice() as VoxelArray;
  const removed = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    if (face.data[n] && !keep.data[n]) {
      data[n] = background;
      removed[n] = 1;
    }
  }
  return { defaced: { grid: image.grid, data }, removed: { grid: image.grid, data: removed } };
}

function checkImage(image: Volume, file: string | undefined): void {
  const { dims, spacing, direction } = image.grid;
  if (dims.some((d) => !Number.isInteger(d) || d < 1)) throw new DefaceError(`invalid dimensions ${dims.join('×')}`, file);
  if (dims.filter((d) => d > 1).length < 3) throw new DefaceError(`a ${dims.filter((d) => d > 1).length <= 1 ? '1' : '2'}-D image (${dims.join('×')} voxels): defacing needs a 3-D head volume`, file);
  if (image.data.length !== voxelCount(image.grid)) throw new DefaceError(`the image has ${image.data.length} values for ${voxelCount(image.grid)} voxels`, file);
  if (spacing.some((s) => !(s > 0) || !Number.isFinite(s)) || direction.length !== 9 || direction.some((d) => !Number.isFinite(d))) {
    throw new DefaceError('the image has no usable orientation: its spacing or direction is missing or not finite', file);
  }
  try {
    worldToIndex(image.grid);
  } catch {
    throw new DefaceError('the image has a degenerate orientation: its axes are not linearly independent', file);
  }
  // Orthonormal axes: an image whose direction cosines are not perpendicular has a broken orientation.
  for (let a = 0; a < 3; a++) {
    for (let b = a; b < 3; b++) {
      const d = direction[3 * a]! * direction[3 * b]! + direction[3 * a + 1]! * direction[3 * b + 1]! + direction[3 * a + 2]! * direction[3 * b + 2]!;
      if (Math.abs(d - (a === b ? 1 : 0)) > 1e-3) throw new DefaceError('the image has a degenerate orientation: its direction cosines are not orthonormal', file);
    }
  }
  const extent = dims.map((d, a) => d * spacing[a]!);
  if (extent.some((e) => e < MIN_HEAD_EXTENT_MM)) {
    throw new DefaceError(`the field of view (${extent.map((e) => Math.round(e)).join(' × ')} mm) is too small to hold a head (at least ${MIN_HEAD_EXTENT_MM} mm along each axis)`, file);
  }
}

/**
 * A float32 copy on an axis-aligned grid of `spacing` mm, for the registration: blocks of voxels
 * are averaged first when the image is finer than half that spacing (anti-aliasing), then the
 * result is resampled trilinearly; non-finite values become `fill`.
 */
function registrationImage(image: Volume, spacing: number, fill: number, window?: readonly [number, number]): Volume<Float32Array> {
  const factors = image.grid.spacing.map((s) => Math.max(1, Math.floor(spacing / s + 0.25))) as [number, number, number];
  const reduced = factors.some((f) => f > 1) ? downsampleByBlocks(image, factors) : image;
  const out = resampleLinear(reduced, axisAlignedGrid(image.grid, spacing), IDENTITY_TRANSFORM, { outside: fill });
  for (let n = 0; n < out.data.length; n++) if (!Number.isFinite(out.data[n]!)) out.data[n] = fill;
  if (window) clampInPlace(out.data, window[0], window[1]);
  return out;
}

/**
 * Voxels brighter than 10% of the way from the 1st to the 99th percentile: the head, roughly, in a
 * T1, or in a CT once clamped to CT_WINDOW_HU (unclamped, the padding would set the 1st percentile
 * and the air inside the reconstruction circle would count as head).
 */
function headMask(data: Float32Array): Uint8Array {
  const threshold = 0.1 * quantileValue(data, 0.99) + 0.9 * quantileValue(data, 0.01);
  const mask = new Uint8Array(data.length);
  for (let n = 0; n < data.length; n++) mask[n] = data[n]! > threshold ? 1 : 0;
  return mask;
}

/**
 * Removes the face of a head image. Throws DefaceError when the image cannot be defaced (2-D,
 * degenerate orientation, too small a field of view, a registration that failed or did not match
 * a head), and never returns a result that pretends to be defaced.
 */
export async function defaceVolume(image: Volume, options: DefaceOptions = {}): Promise<DefaceResult> {
  const file = options.file;
  checkImage(image, file);
  const brainMargin = options.brainMargin ?? DEFAULT_BRAIN_MARGIN_MM;
  if (!(brainMargin >= 0) || !Number.isFinite(brainMargin)) throw new RangeError(`brainMargin must be a finite number of millimetres ≥ 0, got ${brainMargin}`);
  const minSimilarity = options.minSimilarity ?? DEFAULT_MIN_SIMILARITY;
  if (options.brainCheck !== undefined && !BRAIN_CHECKS.includes(options.brainCheck)) {
    throw new RangeError(`brainCheck must be ${BRAIN_CHECKS.join(' or ')}, got ${JSON.stringify(options.brainCheck)}`);
  }
  // Decided before any work: brainchop's model was trained on T1-weighted MR, and on Hounsfield
  // units its brain mask means nothing, so a check that would pass or fail at random is refused.
  const intensity = intensityKind(image.data);
  if (options.brainCheck === 'brainchop' && intensity === 'ct') {
    throw new DefaceError('the brainchop check needs a T1-weighted MR; this image holds CT values (Hounsfield units)', file);
  }
  let template: DefaceTemplate;
  try {
    template = options.loadedTemplate ?? (await loadDefaceTemplate(options.template ?? 'avg152-2mm', options.templateDir === undefined ? {} : { templateDir: options.templateDir }));
  } catch (e) {
    if (e instanceof TemplateError) throw new DefaceError(e.message, file);
    throw e;
  }

  const background = backgroundValue(image, intensity);
  const fixed = registrationImage(image, REGISTRATION_SPACING_MM, background, intensity === 'ct' ? CT_WINDOW_HU : undefined);
  const moving = registrationImage(template.image, REGISTRATION_SPACING_MM, 0);
  let transform: AffineTransform;
  let ms: number;
  try {
    ({ transform, ms } = await registerAffine(fixed, moving));
  } catch (e) {
    if (e instanceof RegistrationError) throw new DefaceError(`registration did not converge: ${e.message}`, file);
    throw e;
  }
  // The transform maps subject → template, so the template is scaled by the inverse of its singular values.
  const scales = singularValues(transform.matrix).map((s) => 1 / s);
  if (scales.some((s) => !(s >= SCALE_RANGE[0] && s <= SCALE_RANGE[1]))) {
    throw new DefaceError(
      `registration did not converge or this is not a head: the template would have to be scaled by ${scales.map((s) => s.toFixed(2)).join(', ')} along its principal axes to fit (${SCALE_RANGE[0]} to ${SCALE_RANGE[1]} expected)`,
      file,
    );
  }
  const warped = resampleLinear(moving, fixed.grid, transform, { outside: NaN });
  const within = headMask(fixed.data);
  const templateHead = headMask(warped.data.map((v) => (Number.isNaN(v) ? 0 : v)));
  for (let n = 0; n < within.length; n++) within[n] = within[n]! | templateHead[n]!;
  const similarity = correlationRatio(warped.data, fixed.data, within);
  if (!(similarity >= minSimilarity)) {
    throw new DefaceError(
      `registration did not converge or this is not a head: the image explains ${(100 * similarity).toFixed(1)}% of the registered template's variation within the head (correlation ratio ${similarity.toFixed(3)}, below ${minSimilarity})`,
      file,
    );
  }

  const face = resampleMask(template.faceMask, image.grid, transform);
  if (options.ears) {
    const ears = resampleMask(template.earMask, image.grid, transform);
    for (let n = 0; n < face.data.length; n++) face.data[n] = face.data[n]! | ears.data[n]!;
  }
  const brainMask = resampleMask(template.brainMask, image.grid, transform);
  const guard = dilateMask(brainMask, brainMargin);

  const { defaced, removed } = removeFace(image, face, guard, background);
  const brain = brainPreservation(image, defaced, brainMask);
  const faceMeasure = faceRemoval(defaced, face, background);
  let brainchop: { mask: Mask; check: BrainchopCheck } | undefined;
  if (options.brainCheck === 'brainchop') {
    // Loaded only when asked for: the model and its worker threads.
    const { brainchopBrainMask } = await import('./brainchop.js');
    const found = await brainchopBrainMask(image, options.brainCheckThreads === undefined ? {} : { threads: options.brainCheckThreads });
    const kept = brainPreservation(image, defaced, found.mask);
    brainchop = { mask: found.mask, check: { model: found.model, voxels: kept.voxels, dice: kept.dice, voxelsAltered: kept.altered, ms: Math.round(found.ms) } };
  }
  return {
    defaced,
    faceMask: removed,
    brainMask,
    ...(brainchop ? { brainchopMask: brainchop.mask } : {}),
    metrics: {
      faceRegionVoxels: faceMeasure.voxels,
      faceRemovedFraction: faceMeasure.fraction,
      brainDice: brain.dice,
      brainVoxelsAltered: brain.altered,
      registration: { similarity, converged: true, ms },
      ...(brainchop ? { brainchop: brainchop.check } : {}),
    },
    background: storedAs(defaced.data, background),
    intensity,
    transform,
  };
}
