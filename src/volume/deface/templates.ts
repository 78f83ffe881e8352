/**
 * The templates defacing registers to a subject, with their brain masks, and the face and ear
 * masks drawn once in the templates' space (MNI space) by scripts/make-face-mask.mjs.
 *
 * Shipped in `assets/deface/` (see its README.md for origin, terms and how the masks were made):
 * the avg152T1 template (ICBM 152 linear average, 2 mm) with its brain mask, and the face and ear
 * masks. The MNI152 1 mm template (FSL's MNI152_T1_1mm and its brain mask) is not shipped; it is
 * read from a folder the caller names (`templateDir`, e.g. FSL's `data/standard`). Both templates
 * are in MNI space, so the one pair of face and ear masks serves both.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VolumeError } from '../errors.js';
import { gridDifference } from '../geometry.js';
import { readNifti } from '../nifti.js';
import type { Mask, Volume } from '../volume.js';

export type TemplateName = 'avg152-2mm' | 'mni152-1mm';

export const TEMPLATE_NAMES: readonly TemplateName[] = ['avg152-2mm', 'mni152-1mm'];

/** The files of each template, by name inside its folder. */
export const TEMPLATE_FILES: Readonly<Record<TemplateName, { readonly image: string; readonly brainMask: string; readonly shipped: boolean }>> = {
  'avg152-2mm': { image: 'avg152T1.nii.gz', brainMask: 'avg152T1_brain_mask.nii.gz', shipped: true },
  'mni152-1mm': { image: 'MNI152_T1_1mm.nii.gz', brainMask: 'MNI152_T1_1mm_brain_mask.nii.gz', shipped: false },
};

/** The face and ear masks (MNI space, 2 mm, on a grid extending in front of and below the templates). */
export const FACE_MASK_FILE = 'face_mask.nii.gz';
export const EAR_MASK_FILE = 'ear_mask.nii.gz';

/**
 * `assets/deface/` of the repository: two levels above this module's folder, whether it runs
 * from `src/volume/deface/` or from `dist/volume/deface/`.
 */
export const DEFACE_ASSETS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../assets/deface');

export interface DefaceTemplate {
  readonly name: TemplateName;
  /** The template image (T1-weighted, with skull and face as far as its field of view goes). */
  readonly image: Volume;
  /** Its brain mask, on its grid. */
  readonly brainMask: Mask;
  /** Face region (MNI space, its own grid). */
  readonly faceMask: Mask;
  /** Ear region (MNI space, same grid as the face mask). */
  readonly earMask: Mask;
}

/** A template's files are missing, unreadable or inconsistent. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

export interface TemplateLoadOptions {
  /**
   * The folder holding the template image and brain mask (named as in TEMPLATE_FILES). Default:
   * the shipped assets, which hold only the avg152 template.
   */
  readonly templateDir?: string;
  /** The folder holding the face and ear masks (default: the shipped assets). */
  readonly maskDir?: string;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

function binarise(volume: Volume): Mask {
  const data = new Uint8Array(volume.data.length);
  for (let n = 0; n < data.length; n++) data[n] = volume.data[n]! > 0.5 ? 1 : 0;
  return { grid: volume.grid, data };
}

async function readFile(file: string, what: string): Promise<Volume> {
  try {
    return await readNifti(file);
  } catch (e) {
    if (e instanceof VolumeError) throw new TemplateError(`cannot read the ${what}: ${e.message}`);
    throw e;
  }
}

/** Reads a template, its brain mask and the face and ear masks. Throws TemplateError. */
export async function loadDefaceTemplate(name: TemplateName, options: TemplateLoadOptions = {}): Promise<DefaceTemplate> {
  const files = TEMPLATE_FILES[name];
  if (!files) throw new TemplateError(`unknown template "${String(name)}"; known: ${TEMPLATE_NAMES.join(', ')}`);
  const folder = options.templateDir ?? DEFACE_ASSETS_DIR;
  const imageFile = path.join(folder, files.image);
  const brainFile = path.join(folder, files.brainMask);
  for (const file of [imageFile, brainFile]) {
    if (!(await exists(file))) {
      const hint = files.shipped
        ? 'the shipped template assets are missing from this installation'
        : `the ${name} template is not shipped with radanon: pass the folder that holds ${files.image} and ${files.brainMask} (FSL's data/standard) as the template folder`;
      throw new TemplateError(`${file} not found: ${hint}`);
    }
  }
  const maskFolder = options.maskDir ?? DEFACE_ASSETS_DIR;
  const [image, brain, face, ears] = await Promise.all([
    readFile(imageFile, `${name} template`),
    readFile(brainFile, `${name} brain mask`),
    readFile(path.join(maskFolder, FACE_MASK_FILE), 'face mask'),
    readFile(path.join(maskFolder, EAR_MASK_FILE), 'ear mask'),
  ]);
  const differs = gridDifference(image.grid, brain.grid);
  if (differs) throw new TemplateError(`the ${name} brain mask ${brainFile} is not on the template's grid: ${differs}`);
  const differsMasks = gridDifference(face.grid, ears.grid);
  if (differsMasks) throw new TemplateError(`the ear mask is not on the face mask's grid: ${differsMasks}`);
  return { name, image, brainMask: binarise(brain), faceMask: binarise(face), earMask: binarise(ears) };
}
