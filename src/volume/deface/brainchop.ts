/**
 * An independent brain mask for the defacing checks: brainchop's MeshNet grey/white matter model
 * (model5_gw_ae, shipped in assets/deface/brainchop/) run on the head as brainchop runs it.
 *
 * ```
 * head ─► conform: 256³, 1 mm, LIA, uchar 0–255 (FreeSurfer's mri_convert --conform, as niivue does it)
 *      ─► min–max normalisation to 0–1 ─► crop to the voxels > 0, pad 18 ─► MeshNet (kernel axes i, j, k)
 *      ─► labels back into 256³ ─► largest 26-connected component of grey ∪ white
 *      ─► nearest neighbour onto the head's grid: the brain mask (grey ∪ white)
 * ```
 *
 * Each step follows brainchop's own pipeline (neuroneural/brainchop brainchop-parameters.js and
 * niivue-brainchop brainchop-webworker.js; niivue's conform transform for the conforming): for
 * model5_gw_ae no pre-model, min–max rather than quantile normalisation, cropping at
 * autoThreshold 0 (every voxel above 0) with cropPadding 18, the input transposed so that the
 * model's first axis runs along the conformed volume's i axis, and the post-processing that keeps
 * the largest connected cluster of non-background voxels.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { indexToWorld } from '../geometry.js';
import type { Grid, Mask, Vec3, Volume } from '../volume.js';
import { voxelCount } from '../volume.js';
import { loadMeshNet, runMeshNet, type MeshNetModel } from './meshnet.js';
import { indexToWorldTransform, invertAffine, composeAffine } from './register.js';

/** The brainchop models shipped with radanon. */
export type BrainchopModelName = 'model5_gw_ae';

export const BRAINCHOP_MODELS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../assets/deface/brainchop');

/** Edge of the conformed volume (voxels) and its spacing (mm). */
export const CONFORM_DIM = 256;
/** brainchop's cropPadding for model5_gw_ae: zero voxels added on each side of the cropped head. */
export const CROP_PADDING = 18;

/** A volume conformed as FreeSurfer does: 256³ voxels of 1 mm, LIA, uchar. */
export interface ConformedVolume {
  readonly grid: Grid;
  readonly data: Uint8Array;
}

/**
 * The grid FreeSurfer conforms `grid` to: 256³ voxels of 1 mm with i towards the left, j towards
 * inferior and k towards anterior (LIA), centred on the world point of the input's voxel index
 * dims / 2 (FreeSurfer's and niivue's centre, half a voxel off the geometric centre).
 */
export function conformGrid(grid: Grid): Grid {
  const centre = indexToWorld(grid, grid.dims[0] / 2, grid.dims[1] / 2, grid.dims[2] / 2);
  // LIA in LPS coordinates: L = +x, I = −z, A = −y.
  const direction = [1, 0, 0, 0, 0, -1, 0, -1, 0];
  const half = CONFORM_DIM / 2;
  // Voxel (128, 128, 128) lies on the centre.
  const origin = [0, 1, 2].map((c) => centre[c]! - half * (direction[c]! + direction[3 + c]! + direction[6 + c]!)) as unknown as Vec3;
  return { dims: [CONFORM_DIM, CONFORM_DIM, CONFORM_DIM], spacing: [1, 1, 1], origin, direction };
}

/**
 * FreeSurfer's robust intensity scaling to 0–255 (FastSurfer's getscale with f_low 0, f_high
 * 0.999, as niivue's conform): the source range runs from the minimum to the value below which
 * all but 0.1% of the non-zero voxels fall, found on a histogram of 1000 bins. An image stored
 * as uchar is kept as it is (offset by its minimum, scale 1).
 */
export function conformScale(image: Volume): { readonly min: number; readonly scale: number } {
  const data = image.data;
  let min = Infinity;
  let max = -Infinity;
  let nonZero = 0;
  for (let n = 0; n < data.length; n++) {
    const v = data[n]!;
    if (v < min) min = v;
    if (v > max) max = v;
    if (Math.abs(v) >= 1e-15) nonZero++;
  }
  if (data instanceof Uint8Array) return { min, scale: 1 };
  const bins = 1000;
  const width = (max - min) / bins;
  if (!(width > 0)) return { min, scale: 1 };
  const histogram = new Float64Array(bins);
  for (let n = 0; n < data.length; n++) histogram[Math.min(Math.floor((data[n]! - min) / width), bins - 1)]!++;
  const wanted = data.length - Math.floor((1 - 0.999) * nonZero);
  let cumulative = histogram[0]!;
  let bin = 0;
  while (bin < bins - 1 && cumulative + histogram[bin + 1]! < wanted) {
    cumulative += histogram[bin + 1]!;
    bin++;
  }
  const top = bin * width + min;
  return { min, scale: top !== min ? 255 / (top - min) : 1 };
}

/**
 * Conforms an image as FreeSurfer's `mri_convert --conform` (through niivue's port, which
 * brainchop uses): trilinear resampling onto conformGrid (0 outside the image), then the robust
 * scaling to uchar (values clipped to 0–255 and truncated).
 */
export function conformVolume(image: Volume): ConformedVolume {
  const grid = conformGrid(image.grid);
  const { min, scale } = conformScale(image);
  // Conformed voxel index → image voxel index.
  const map = composeAffine(invertAffine(indexToWorldTransform(image.grid)), indexToWorldTransform(grid));
  const a = map.matrix;
  const t = map.translation;
  const [nx, ny, nz] = image.grid.dims;
  const src = image.data;
  const out = new Uint8Array(voxelCount(grid));
  const sx = nx * ny;
  let n = 0;
  for (let k = 0; k < CONFORM_DIM; k++) {
    for (let j = 0; j < CONFORM_DIM; j++) {
      const bi = a[1]! * j + a[2]! * k + t[0];
      const bj = a[4]! * j + a[5]! * k + t[1];
      const bk = a[7]! * j + a[8]! * k + t[2];
      for (let i = 0; i < CONFORM_DIM; i++, n++) {
        const fi = a[0]! * i + bi;
        const fj = a[3]! * i + bj;
        const fk = a[6]! * i + bk;
        const i0 = Math.floor(fi);
        const j0 = Math.floor(fj);
        const k0 = Math.floor(fk);
        // As niivue: only points whose eight neighbours all lie inside the image get a value.
        if (i0 < 0 || j0 < 0 || k0 < 0 || Math.ceil(fi) >= nx || Math.ceil(fj) >= ny || Math.ceil(fk) >= nz) continue;
        const di = fi - i0;
        const dj = fj - j0;
        const dk = fk - k0;
        const p = i0 + nx * j0 + sx * k0;
        const pi = di > 0 ? 1 : 0;
        const pj = dj > 0 ? nx : 0;
        const pk = dk > 0 ? sx : 0;
        const c00 = src[p]! + (src[p + pi]! - src[p]!) * di;
        const c10 = src[p + pj]! + (src[p + pj + pi]! - src[p + pj]!) * di;
        const c01 = src[p + pk]! + (src[p + pk + pi]! - src[p + pk]!) * di;
        const c11 = src[p + pk + pj]! + (src[p + pk + pj + pi]! - src[p + pk + pj]!) * di;
        const c0 = c00 + (c10 - c00) * dj;
        const c1 = c01 + (c11 - c01) * dj;
        const v = (c0 + (c1 - c0) * dk - min) * scale;
        out[n] = v > 255 ? 255 : v > 0 ? v : 0;
      }
    }
  }
  return { grid, data: out };
}

/** The box of voxels > 0 in a conformed volume, as brainchop crops it (inclusive bounds). */
function nonZeroBox(data: Uint8Array): { lo: [number, number, number]; hi: [number, number, number] } | undefined {
  const lo: [number, number, number] = [CONFORM_DIM, CONFORM_DIM, CONFORM_DIM];
  const hi: [number, number, number] = [-1, -1, -1];
  let n = 0;
  for (let k = 0; k < CONFORM_DIM; k++) {
    for (let j = 0; j < CONFORM_DIM; j++) {
      for (let i = 0; i < CONFORM_DIM; i++, n++) {
        if (data[n] === 0) continue;
        if (i < lo[0]) lo[0] = i;
        if (i > hi[0]) hi[0] = i;
        if (j < lo[1]) lo[1] = j;
        if (j > hi[1]) hi[1] = j;
        if (k < lo[2]) lo[2] = k;
        if (k > hi[2]) hi[2] = k;
      }
    }
  }
  return hi[0] < 0 ? undefined : { lo, hi };
}

/**
 * Keeps the largest 26-connected cluster of non-zero labels (brainchop's post-processing, its
 * bwlabel with binarize and onlyLargestClusterPerClass); other labels become 0. In place.
 */
export function keepLargestComponent(labels: Uint8Array, dims: readonly [number, number, number]): void {
  const [nx, ny, nz] = dims;
  const component = new Int32Array(labels.length);
  const stack = new Int32Array(labels.length);
  let best = 0;
  let bestSize = 0;
  let id = 0;
  for (let start = 0; start < labels.length; start++) {
    if (labels[start] === 0 || component[start] !== 0) continue;
    id++;
    let size = 0;
    let top = 0;
    stack[top++] = start;
    component[start] = id;
    while (top > 0) {
      const v = stack[--top]!;
      size++;
      const i = v % nx;
      const j = Math.floor(v / nx) % ny;
      const k = Math.floor(v / (nx * ny));
      for (let dk = -1; dk <= 1; dk++) {
        const kk = k + dk;
        if (kk < 0 || kk >= nz) continue;
        for (let dj = -1; dj <= 1; dj++) {
          const jj = j + dj;
          if (jj < 0 || jj >= ny) continue;
          for (let di = -1; di <= 1; di++) {
            const ii = i + di;
            if (ii < 0 || ii >= nx) continue;
            const u = ii + nx * (jj + ny * kk);
            if (labels[u] !== 0 && component[u] === 0) {
              component[u] = id;
              stack[top++] = u;
            }
          }
        }
      }
    }
    if (size > bestSize) {
      bestSize = size;
      best = id;
    }
  }
  for (let n = 0; n < labels.length; n++) if (component[n] !== best) labels[n] = 0;
}

export interface BrainchopSegmentation {
  /** The conformed grid (256³, 1 mm, LIA) the labels are on. */
  readonly grid: Grid;
  /** 0 background, 1 grey matter, 2 white matter (model5_gw_ae), after the post-processing. */
  readonly labels: Uint8Array;
  /** The cropped, padded box the model ran on. */
  readonly box: readonly [number, number, number];
  readonly threads: number;
  /** Wall time of the model alone, ms. */
  readonly inferenceMs: number;
}

/** Runs a MeshNet on a conformed volume as brainchop runs model5_gw_ae. */
export async function segmentConformed(conformed: ConformedVolume, model: MeshNetModel, options: { readonly threads?: number } = {}): Promise<BrainchopSegmentation> {
  const data = conformed.data;
  // Min–max normalisation over the whole conformed volume; cropping keeps the voxels above 0 after it.
  let min = 255;
  let max = 0;
  for (let n = 0; n < data.length; n++) {
    const v = data[n]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const labels = new Uint8Array(data.length);
  const box = max > min ? nonZeroBoxAbove(data, min) : undefined;
  if (!box) return { grid: conformed.grid, labels, box: [0, 0, 0], threads: 0, inferenceMs: 0 };
  const size = [0, 1, 2].map((a) => box.hi[a]! - box.lo[a]! + 1 + 2 * CROP_PADDING) as [number, number, number];
  const input = new Float32Array(size[0] * size[1] * size[2]);
  const scale = 1 / (max - min);
  for (let k = box.lo[2]; k <= box.hi[2]; k++) {
    for (let j = box.lo[1]; j <= box.hi[1]; j++) {
      let o = CROP_PADDING + size[0] * (j - box.lo[1] + CROP_PADDING + size[1] * (k - box.lo[2] + CROP_PADDING));
      let n = box.lo[0] + CONFORM_DIM * (j + CONFORM_DIM * k);
      for (let i = box.lo[0]; i <= box.hi[0]; i++) input[o++] = (data[n++]! - min) * scale;
    }
  }
  const run = await runMeshNet(model, input, size, options.threads === undefined ? {} : { threads: options.threads });
  for (let k = box.lo[2]; k <= box.hi[2]; k++) {
    for (let j = box.lo[1]; j <= box.hi[1]; j++) {
      let o = CROP_PADDING + size[0] * (j - box.lo[1] + CROP_PADDING + size[1] * (k - box.lo[2] + CROP_PADDING));
      let n = box.lo[0] + CONFORM_DIM * (j + CONFORM_DIM * k);
      for (let i = box.lo[0]; i <= box.hi[0]; i++) labels[n++] = run.labels[o++]!;
    }
  }
  keepLargestComponent(labels, [CONFORM_DIM, CONFORM_DIM, CONFORM_DIM]);
  return { grid: conformed.grid, labels, box: size, threads: run.threads, inferenceMs: run.ms };
}

/** The box of voxels above the volume's minimum (those > 0 after min–max normalisation). */
function nonZeroBoxAbove(data: Uint8Array, min: number): ReturnType<typeof nonZeroBox> {
  if (min === 0) return nonZeroBox(data);
  const shifted = new Uint8Array(data.length);
  for (let n = 0; n < data.length; n++) shifted[n] = data[n]! > min ? 1 : 0;
  return nonZeroBox(shifted);
}

/**
 * A label volume on the conformed grid carried onto `target` by nearest neighbour: each target
 * voxel takes the label of the conformed voxel nearest its centre (0 outside the conformed box).
 */
export function labelsToGrid(labels: Uint8Array, conformed: Grid, target: Grid, keep: (label: number) => boolean): Mask {
  const map = composeAffine(invertAffine(indexToWorldTransform(conformed)), indexToWorldTransform(target));
  const a = map.matrix;
  const t = map.translation;
  const [cx, cy, cz] = conformed.dims;
  const [tx, ty, tz] = target.dims;
  const out = new Uint8Array(voxelCount(target));
  let n = 0;
  for (let k = 0; k < tz; k++) {
    for (let j = 0; j < ty; j++) {
      const bi = a[1]! * j + a[2]! * k + t[0] + 0.5;
      const bj = a[4]! * j + a[5]! * k + t[1] + 0.5;
      const bk = a[7]! * j + a[8]! * k + t[2] + 0.5;
      for (let i = 0; i < tx; i++, n++) {
        const fi = Math.floor(a[0]! * i + bi);
        const fj = Math.floor(a[3]! * i + bj);
        const fk = Math.floor(a[6]! * i + bk);
        if (fi < 0 || fj < 0 || fk < 0 || fi >= cx || fj >= cy || fk >= cz) continue;
        if (keep(labels[fi + cx * (fj + cy * fk)]!)) out[n] = 1;
      }
    }
  }
  return { grid: target, data: out };
}

export interface BrainchopBrainMask {
  readonly model: BrainchopModelName;
  /** Grey ∪ white matter on the image's grid. */
  readonly mask: Mask;
  /** Its voxels. */
  readonly voxels: number;
  /** Its volume in millilitres. */
  readonly millilitres: number;
  /** Threads the model ran on. */
  readonly threads: number;
  /** Wall time of the model alone, and of the whole step (conform, model, mapping back), ms. */
  readonly inferenceMs: number;
  readonly ms: number;
}

const loadedModels = new Map<string, Promise<MeshNetModel>>();

/** A shipped brainchop model, read once per process. */
export function loadBrainchopModel(name: BrainchopModelName = 'model5_gw_ae'): Promise<MeshNetModel> {
  let model = loadedModels.get(name);
  if (!model) {
    model = loadMeshNet(path.join(BRAINCHOP_MODELS_DIR, name));
    model.catch(() => loadedModels.delete(name));
    loadedModels.set(name, model);
  }
  return model;
}

/**
 * The brain (grey ∪ white matter) of a head image as brainchop's model5_gw_ae finds it, on the
 * image's own grid. The image is not modified.
 */
export async function brainchopBrainMask(image: Volume, options: { readonly threads?: number } = {}): Promise<BrainchopBrainMask> {
  const started = performance.now();
  const model = await loadBrainchopModel('model5_gw_ae');
  const conformed = conformVolume(image);
  const segmentation = await segmentConformed(conformed, model, options);
  const mask = labelsToGrid(segmentation.labels, segmentation.grid, image.grid, (label) => label === 1 || label === 2);
  let voxels = 0;
  for (let n = 0; n < mask.data.length; n++) voxels += mask.data[n]!;
  const [si, sj, sk] = image.grid.spacing;
  return {
    model: 'model5_gw_ae',
    mask,
    voxels,
    millilitres: (voxels * si * sj * sk) / 1000,
    threads: segmentation.threads,
    inferenceMs: segmentation.inferenceMs,
    ms: performance.now() - started,
  };
}
