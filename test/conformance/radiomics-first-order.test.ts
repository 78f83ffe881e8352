/**
 * The first-order families (local intensity, intensity statistics, intensity histogram,
 * intensity-volume histogram) on the IBSI CT phantom, against the consensus reference values.
 *
 * Configuration A needs no interpolation, so the phantom is processed here directly (read with
 * nifti-reader-js, independently of radanon's image processing): intensity mask = mask voxels
 * with HU in [−500, 400]; intensity histogram: fixed bin size 25 HU from −500; IVH: no
 * discretisation, range [−500, 400]. Configurations B–E need interpolation: they go through
 * radanon's own `prepareRoi` and `discretise` with the IBSI presets, so a failure there may lie
 * in image processing as well as in these families.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { beforeAll, describe, expect, test } from 'vitest';
import { discretise } from '../../src/radiomics/discretise.js';
import { histogramFeatures } from '../../src/radiomics/features/histogram.js';
import { intensityVolumeFeatures } from '../../src/radiomics/features/ivh.js';
import { localIntensityFeatures } from '../../src/radiomics/features/local-intensity.js';
import { statisticalFeatures } from '../../src/radiomics/features/statistics.js';
import { prepareRoi } from '../../src/radiomics/prepare.js';
import { PRESETS } from '../../src/radiomics/settings.js';
import type { Feature, RoiImage } from '../../src/radiomics/types.js';
import type { Mask, Vec3, Volume } from '../../src/volume/volume.js';
import { sharedDataDir } from './helpers.js';
import { matchesReference, readReferenceValues, type ReferenceValue } from './ibsi-reference.js';

const ibsiDir = path.join(sharedDataDir, 'ibsi');
const FAMILIES = new Set(['loc', 'stat', 'ih', 'ivh']);

function readNifti(file: string): { dims: Vec3; spacing: Vec3; data: Float64Array } {
  const bytes = zlib.gunzipSync(fs.readFileSync(file));
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  const header = nifti.readHeader(buffer);
  if (!header) throw new Error(`${file}: not a NIfTI image`);
  const [, nx = 0, ny = 0, nz = 0] = header.dims;
  const [, sx = 0, sy = 0, sz = 0] = header.pixDims;
  const raw = nifti.readImage(header, buffer);
  const views: Record<number, (b: ArrayBuffer) => ArrayLike<number>> = {
    [nifti.NIFTI1.TYPE_UINT8]: (b) => new Uint8Array(b),
    [nifti.NIFTI1.TYPE_INT16]: (b) => new Int16Array(b),
    [nifti.NIFTI1.TYPE_FLOAT32]: (b) => new Float32Array(b),
    [nifti.NIFTI1.TYPE_FLOAT64]: (b) => new Float64Array(b),
  };
  const view = views[header.datatypeCode];
  if (!view) throw new Error(`${file}: unexpected NIfTI data type ${header.datatypeCode}`);
  const slope = header.scl_slope || 1;
  const intercept = header.scl_inter || 0;
  return { dims: [nx, ny, nz], spacing: [sx, sy, sz], data: Float64Array.from(view(raw), (v) => v * slope + intercept) };
}

const RANGE: readonly [number, number] = [-500, 400];
const BIN_WIDTH = 25;

interface ConfigA {
  readonly roi: RoiImage;
  readonly values: Float64Array;
  readonly levels: Int32Array;
  readonly ng: number;
}

type Image = ReturnType<typeof readNifti>;

function prepareConfigA(image: Image, mask: Image): ConfigA {
  const morphMask = Uint8Array.from(mask.data, (v) => (v > 0.5 ? 1 : 0));
  // Re-segmentation by range (IBSI 2.5): the intensity mask keeps mask voxels within [−500, 400].
  const intensityMask = Uint8Array.from(morphMask, (m, v) => (m && image.data[v]! >= RANGE[0] && image.data[v]! <= RANGE[1] ? 1 : 0));
  const values: number[] = [];
  for (let v = 0; v < intensityMask.length; v++) if (intensityMask[v]) values.push(image.data[v]!);
  // Fixed bin size (IBSI 2.7): level = ⌊(x − X_min)/w⌋ + 1 with X_min the range's lower bound.
  const levels = Int32Array.from(values, (x) => Math.floor((x - RANGE[0]) / BIN_WIDTH) + 1);
  const ng = levels.reduce((a, b) => Math.max(a, b), 0);
  return { roi: { dims: image.dims, spacing: image.spacing, intensity: image.data, morphMask, intensityMask }, values: Float64Array.from(values), levels, ng };
}

let allReferences: ReferenceValue[] = [];
let references: ReferenceValue[] = [];
let config: ConfigA;
let image: Image;
let mask: Image;

beforeAll(() => {
  allReferences = readReferenceValues(path.join(ibsiDir, 'ibsi1_reference_values.csv')).filter((r) => FAMILIES.has(r.family));
  references = allReferences.filter((r) => r.data === 'config. A');
  image = readNifti(path.join(ibsiDir, 'ct_phantom/nifti/phantom.nii.gz'));
  mask = readNifti(path.join(ibsiDir, 'ct_phantom/nifti/mask.nii.gz'));
  config = prepareConfigA(image, mask);
});

const key = (f: { family: string; name: string; code: string; aggregation: string }) => `${f.family}|${f.name}|${f.code}|${f.aggregation}`;

/** Our features against the reference rows: the same set of rows, and the mismatches, printed. */
function compare(label: string, features: Feature[], expected: ReferenceValue[]): string[] {
  const ours = new Map(features.map((f) => [key(f), f]));
  expect(ours.size, 'one row per feature').toBe(features.length);
  expect([...ours.keys()].sort()).toEqual(expected.map(key).sort());
  const wrong: string[] = [];
  for (const reference of expected) {
    const f = ours.get(key(reference))!;
    const ok = matchesReference(f.value, reference);
    const line = `${reference.family} ${reference.name} (${reference.code}): ${f.value} vs ${reference.value} ± ${reference.tolerance}`;
    console.log(`${label} ${ok ? 'ok  ' : 'FAIL'} ${line}`);
    if (!ok) wrong.push(line);
  }
  return wrong;
}

function timed<T>(label: string, run: () => T): T {
  const start = performance.now();
  const result = run();
  console.log(`${label}: ${(performance.now() - start).toFixed(1)} ms`);
  return result;
}

describe('first-order families, CT phantom, configuration A', () => {
  test('every loc, stat, ih and ivh reference value matches', () => {
    expect(references.length).toBe(49);
    const { roi, values, levels, ng } = config;
    console.log(`intensity mask: ${values.length} voxels; ${ng} grey levels`);
    const features: Feature[] = [
      ...timed('local intensity', () => localIntensityFeatures(roi)),
      ...timed('statistics', () => statisticalFeatures(values)),
      ...timed('intensity histogram', () => histogramFeatures(levels, ng)),
      ...timed('intensity-volume histogram', () => intensityVolumeFeatures(values, { method: 'none' }, RANGE)),
    ];
    expect(compare('A', features, references)).toEqual([]);
  });

  test.each(['B', 'C', 'D', 'E'] as const)('configuration %s through prepareRoi and discretise', (c) => {
    const settings = PRESETS[`ibsi-${c}`];
    const grid = (v: { dims: Vec3; spacing: Vec3 }) => ({ dims: v.dims, spacing: v.spacing, origin: [0, 0, 0] as Vec3, direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] });
    const volume: Volume<Float64Array> = { grid: grid(image), data: image.data };
    const roiMask: Mask = { grid: grid(mask), data: Uint8Array.from(mask.data, (v) => (v > 0.5 ? 1 : 0)) };
    const roi = prepareRoi(volume, roiMask, settings);
    const range = settings.resegmentation.range;
    const discretised = discretise(roi, settings.discretisation, range);
    const values: number[] = [];
    for (let v = 0; v < roi.intensityMask.length; v++) if (roi.intensityMask[v]) values.push(roi.intensity[v]!);
    const levels = Int32Array.from(discretised.levels.filter((l) => l > 0));
    console.log(`${c}: intensity mask ${values.length} voxels on ${roi.dims.join(' × ')}; ${discretised.ng} grey levels`);
    const features: Feature[] = [
      ...timed(`${c} local intensity`, () => localIntensityFeatures(roi)),
      ...statisticalFeatures(Float64Array.from(values)),
      ...histogramFeatures(levels, discretised.ng),
      ...intensityVolumeFeatures(Float64Array.from(values), settings.ivhDiscretisation, range),
    ];
    expect(compare(c, features, allReferences.filter((r) => r.data === `config. ${c}`))).toEqual([]);
  });
});
