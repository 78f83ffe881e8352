/**
 * GLCM (IBSI 3.6) and GLRLM (IBSI 3.7) features of the IBSI CT phantom under configuration A
 * against the IBSI consensus values (ibsi1_reference_values.csv, data = "config. A").
 *
 * Configuration A (IBSI reference manual, chapter 5): 2-D, no interpolation, re-segmentation to
 * [−500, 400] HU, fixed bin size 25 HU. The discretised ROI is built here from the NIfTI files
 * directly (read with nifti-reader-js), so the test depends on the two families only:
 * intensities rounded to the nearest integer (chapter 5: convert to floating point and round),
 * intensity mask = mask voxels within the range, level = ⌊(x − (−500)) / 25⌋ + 1.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { describe, expect, it } from 'vitest';
import { glcmFeatures } from '../../src/radiomics/features/glcm.js';
import { glrlmFeatures } from '../../src/radiomics/features/glrlm.js';
import type { DiscretisedRoi, Feature } from '../../src/radiomics/types.js';
import type { Vec3 } from '../../src/volume/volume.js';
import { sharedDataDir } from './helpers.js';

const ibsiDir = path.join(sharedDataDir, 'ibsi');

function readNifti(file: string): { dims: Vec3; spacing: Vec3; data: ArrayLike<number> } {
  const bytes = zlib.gunzipSync(fs.readFileSync(file));
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  const header = nifti.readHeader(buffer);
  if (!header) throw new Error(`${file}: not a NIfTI image`);
  const raw = nifti.readImage(header, buffer);
  const views: Record<number, (b: ArrayBuffer) => ArrayLike<number>> = {
    [nifti.NIFTI1.TYPE_UINT8]: (b) => new Uint8Array(b),
    [nifti.NIFTI1.TYPE_INT16]: (b) => new Int16Array(b),
    [nifti.NIFTI1.TYPE_FLOAT32]: (b) => new Float32Array(b),
    [nifti.NIFTI1.TYPE_FLOAT64]: (b) => new Float64Array(b),
  };
  const view = views[header.datatypeCode];
  if (!view) throw new Error(`${file}: unexpected NIfTI data type ${header.datatypeCode}`);
  const [, nx = 0, ny = 0, nz = 0] = header.dims;
  const [, sx = 0, sy = 0, sz = 0] = header.pixDims;
  return { dims: [nx, ny, nz], spacing: [sx, sy, sz], data: view(raw) };
}

/** The configuration A discretised ROI of the CT phantom. */
function configurationA(): DiscretisedRoi {
  const image = readNifti(path.join(ibsiDir, 'ct_phantom/nifti/phantom.nii.gz'));
  const mask = readNifti(path.join(ibsiDir, 'ct_phantom/nifti/mask.nii.gz'));
  const [low, high, binWidth] = [-500, 400, 25];
  const levels = new Int32Array(image.data.length);
  let ng = 0;
  for (let x = 0; x < levels.length; x++) {
    if (!(mask.data[x]! > 0.5)) continue;
    const hu = Math.round(image.data[x]!);
    if (hu < low || hu > high) continue;
    const level = Math.floor((hu - low) / binWidth) + 1;
    levels[x] = level;
    if (level > ng) ng = level;
  }
  return { dims: image.dims, spacing: image.spacing, levels, ng };
}

interface ReferenceValue {
  readonly name: string;
  readonly code: string;
  readonly aggregation: string;
  readonly value: number;
  readonly tolerance: number;
}

function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

/** The reference values of `family` for `data` (e.g. "config. A"). */
function referenceValues(family: string, data: string): ReferenceValue[] {
  const [header, ...lines] = fs.readFileSync(path.join(ibsiDir, 'ibsi1_reference_values.csv'), 'utf8').trim().split(/\r?\n/);
  const columns = parseCsvLine(header!);
  const col = (name: string) => columns.indexOf(name);
  return lines
    .map(parseCsvLine)
    .filter((f) => f[col('family_short')] === family && f[col('data')] === data)
    .map((f) => ({
      name: f[col('feature')]!,
      code: f[col('ibsi_code')]!,
      aggregation: f[col('aggregation')]!,
      value: Number(f[col('value')]),
      tolerance: Number(f[col('tolerance')]),
    }));
}

const key = (f: { name: string; code: string; aggregation: string }) => `${f.name}|${f.code}|${f.aggregation}`;

function timed<T>(run: () => T): { result: T; ms: number } {
  const start = performance.now();
  const result = run();
  return { result, ms: performance.now() - start };
}

describe('GLCM and GLRLM of the IBSI CT phantom, configuration A', () => {
  const roi = configurationA();
  const options = { dimensions: ['2D', '2.5D'] as const, distance: 1, linkageDistance: 1, ngldmCoarseness: 0 };
  const cm = timed(() => glcmFeatures(roi, options));
  const rlm = timed(() => glrlmFeatures(roi, options));
  const voxels = roi.levels.reduce((n, g) => n + (g > 0 ? 1 : 0), 0);
  console.log(`config. A: ${voxels} voxels, ng = ${roi.ng}; GLCM ${cm.ms.toFixed(1)} ms, GLRLM ${rlm.ms.toFixed(1)} ms (2D and 2.5D)`);

  for (const [family, features] of [['cm', cm.result], ['rlm', rlm.result]] as const) {
    const references = referenceValues(family, 'config. A');

    it(`${family}: emits exactly the features and aggregations of the reference values`, () => {
      expect(references.length).toBeGreaterThan(0);
      expect(features.map(key).sort()).toEqual(references.map(key).sort());
    });

    it.each(references)(`${family}: $name ($code, $aggregation) = $value ± $tolerance`, (reference) => {
      const ours: Feature | undefined = features.find((f) => key(f) === key(reference));
      expect(ours).toBeDefined();
      expect(Math.abs(ours!.value - reference.value)).toBeLessThanOrEqual(reference.tolerance);
    });
  }
});
