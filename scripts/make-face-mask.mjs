#!/usr/bin/env node
/**
 * Makes assets/deface/: the template defacing registers to a subject, its brain mask, and the face
 * and ear masks drawn in the template's space (MNI space).
 *
 * 1. Copies avg152T1.nii.gz and avg152T1_brain_mask.nii.gz unchanged from the templates folder of
 *    the shared data (../shared/data/deface/templates, or $RADANON_SHARED_DATA/deface/templates).
 * 2. Builds the face and ear masks from the brain mask with buildFaceMasks
 *    (src/volume/deface/face-mask.ts, where each step is described) and its default parameters,
 *    and writes them as gzip-compressed uint8 NIfTI: face_mask.nii.gz, ear_mask.nii.gz.
 * 3. Prints the landmarks it found and the size of each mask.
 *
 * The masks depend only on the brain mask and the parameters, so re-running the script gives the
 * same voxels; the unit tests rebuild them from the shipped brain mask and compare. The assets are
 * committed; the script documents and redoes how they were made, and needs ../shared only then.
 *
 * Usage: npm run build && node scripts/make-face-mask.mjs
 */
import { chmod, copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNifti, writeNifti } from '../dist/volume/nifti.js';
import { buildFaceMasks, DEFAULT_FACE_MASK_PARAMETERS } from '../dist/volume/deface/face-mask.js';
import { EAR_MASK_FILE, FACE_MASK_FILE, TEMPLATE_FILES } from '../dist/volume/deface/templates.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = process.env.RADANON_SHARED_DATA ?? resolve(repo, '../shared/data');
const sourceDir = join(dataDir, 'deface', 'templates');
const assetsDir = join(repo, 'assets', 'deface');

const files = TEMPLATE_FILES['avg152-2mm'];
await mkdir(assetsDir, { recursive: true });
for (const name of [files.image, files.brainMask]) {
  await copyFile(join(sourceDir, name), join(assetsDir, name));
  await chmod(join(assetsDir, name), 0o644); // the source may be read-only; the copy is the repository's
}

const template = await readNifti(join(assetsDir, files.image));
const brainVolume = await readNifti(join(assetsDir, files.brainMask));
const brain = { grid: brainVolume.grid, data: Uint8Array.from(brainVolume.data, (v) => (v > 0.5 ? 1 : 0)) };
const masks = buildFaceMasks(template.grid, brain, DEFAULT_FACE_MASK_PARAMETERS);
await writeNifti(join(assetsDir, FACE_MASK_FILE), masks.face, { description: 'radanon face region, MNI space (make-face-mask.mjs)' });
await writeNifti(join(assetsDir, EAR_MASK_FILE), masks.ears, { description: 'radanon ear region, MNI space (make-face-mask.mjs)' });

const count = (m) => m.data.reduce((s, v) => s + v, 0);
console.log(`grid ${masks.face.grid.dims.join('×')} at ${masks.face.grid.spacing[0]} mm, origin [${masks.face.grid.origin.join(', ')}] (LPS)`);
console.log(`inferior-frontal edge at [${masks.landmarks.inferiorFrontalEdge.join(', ')}] mm (LPS); brainstem front + clearance at ${masks.landmarks.brainstemFront} mm anterior`);
console.log(`face: ${count(masks.face)} voxels; ears: ${count(masks.ears)} voxels; written to ${assetsDir}`);
