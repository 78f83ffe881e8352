/**
 * GLSZM, GLDZM, NGTDM and NGLDM (IBSI 3.8–3.11) on the IBSI CT phantom under configuration A,
 * against the IBSI reference value table. The phantom is read in place with nifti-reader-js (its
 * licence keeps it out of the repository) and processed here as configuration A prescribes
 * (IBSI reference manual, chapter 5): no interpolation; the morphological mask is the mask; the
 * intensity mask keeps its voxels with intensities in [−500, 400] HU; fixed bin size 25 HU from
 * −500 HU, i.e. level = ⌊(x + 500) / 25⌋ + 1; texture in slices (2D and 2.5D), distance 1,
 * NGLDM coarseness 0.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { beforeAll, describe, expect, test } from 'vitest';
import { gldzmFeatures } from '../../src/radiomics/features/gldzm.js';
import { glszmFeatures } from '../../src/radiomics/features/glszm.js';
import { ngldmFeatures } from '../../src/radiomics/features/ngldm.js';
import { ngtdmFeatures } from '../../src/radiomics/features/ngtdm.js';
import type { DiscretisedRoi, Feature, TextureOptions } from '../../src/radiomics/types.js';
import type { Vec3 } from '../../src/volume/volume.js';
import { sharedDataDir } from './helpers.js';

const ibsiDir = path.join(sharedDataDir, 'ibsi');

function readNifti(file: string): { dims: Vec3; spacing: Vec3; data: Float64Array } {
  const bytes = zlib.gunzipSync(fs.readFileSync(file));
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  const header = nifti.readHeader(buffer);
  if (!header) throw new Error(`${file}: not a NIfTI image`);
  const raw = nifti.readImage(header, buffer);
  const views: Record<number, (b: ArrayBuffer) => ArrayLike<number>> = {
    [nifti.NIFTI1.TYPE_UINT8]: (b) => new Uint8Array(b),
    [nifti.NIFTI1.TYPE_INT16]: (b) => new Int16Array(b),
    [nifti.NIFTI1.TYPE_INT32]: (b) => new Int32Array(b),
    [nifti.NIFTI1.TYPE_FLOAT32]: (b) => new Float32Array(b),
    [nifti.NIFTI1.TYPE_FLOAT64]: (b) => new Float64Array(b),
  };
  const view = views[header.datatypeCode];
  if (!view) throw new Error(`${file}: unexpected NIfTI data type ${header.datatypeCode}`);
  const slope = header.scl_slope || 1;
  const intercept = header.scl_inter || 0;
  const [, nx = 0, ny = 0, nz = 0] = header.dims;
  const [, sx = 0, sy = 0, sz = 0] = header.pixDims;
  return { dims: [nx, ny, nz], spacing: [sx, sy, sz], data: Float64Array.from(view(raw), (x) => x * slope + intercept) };
}

function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (const c of line) {
    if (quoted) {
      if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

interface ReferenceRow {
  readonly family: string;
  readonly name: string;
  readonly code: string;
  readonly aggregation: string;
  readonly value: number;
  readonly tolerance: number;
}

/** The reference table's rows of `families` for `data`; the feature name is the `feature` column (these families have no shared codes). */
function referenceRows(data: string, families: readonly string[]): ReferenceRow[] {
  const [header, ...lines] = fs.readFileSync(path.join(ibsiDir, 'ibsi1_reference_values.csv'), 'utf8').trim().split(/\r?\n/);
  const cols = parseCsvLine(header!);
  const col = (name: string) => cols.indexOf(name);
  return lines
    .map(parseCsvLine)
    .filter((f) => f[col('data')] === data && families.includes(f[col('family_short')]!))
    .map((f) => ({
      family: f[col('family_short')]!,
      name: f[col('feature')]!,
      code: f[col('ibsi_code')]!,
      aggregation: f[col('aggregation')]!,
      value: Number(f[col('value')]),
      tolerance: Number(f[col('tolerance')]),
    }));
}

const OPTIONS: TextureOptions = { dimensions: ['2D', '2.5D'], distance: 1, linkageDistance: 1, ngldmCoarseness: 0 };

describe('IBSI CT phantom, configuration A: GLSZM, GLDZM, NGTDM, NGLDM', () => {
  let roi: DiscretisedRoi;
  let morphMask: Uint8Array;
  const computed = new Map<string, Feature[]>();

  beforeAll(() => {
    const image = readNifti(path.join(ibsiDir, 'ct_phantom/nifti/phantom.nii.gz'));
    const mask = readNifti(path.join(ibsiDir, 'ct_phantom/nifti/mask.nii.gz'));
    expect(mask.dims).toEqual(image.dims);
    const n = image.data.length;
    const levels = new Int32Array(n);
    morphMask = new Uint8Array(n);
    let ng = 0;
    for (let v = 0; v < n; v++) {
      if (mask.data[v]! < 0.5) continue;
      morphMask[v] = 1;
      const x = image.data[v]!;
      if (x < -500 || x > 400) continue;
      const level = Math.floor((x + 500) / 25) + 1;
      levels[v] = level;
      if (level > ng) ng = level;
    }
    roi = { dims: image.dims, spacing: image.spacing, levels, ng };
    computed.set('szm', glszmFeatures(roi, OPTIONS));
    computed.set('dzm', gldzmFeatures(roi, morphMask, OPTIONS));
    computed.set('ngt', ngtdmFeatures(roi, OPTIONS));
    computed.set('ngl', ngldmFeatures(roi, OPTIONS));
  });

  const families = ['szm', 'dzm', 'ngt', 'ngl'] as const;
  const reference = referenceRows('config. A', families);

  test('the reference table has the 54 features of these families, each for 2D and 2.5D', () => {
    expect(reference).toHaveLength(2 * (16 + 16 + 5 + 17));
  });

  test.each(families)('%s: exactly the (feature, code, aggregation) rows of the reference table', (family) => {
    const key = (r: { name: string; code: string; aggregation: string }) => `${r.name}|${r.code}|${r.aggregation}`;
    const emitted = computed.get(family)!.map(key).sort();
    expect(emitted).toEqual(reference.filter((r) => r.family === family).map(key).sort());
  });

  test.each(reference.map((r) => [r.family, r.name, r.aggregation, r.value, r.tolerance, r] as const))(
    '%s %s, %s: %d ± %d',
    (family, name, aggregation, value, tolerance, r) => {
      const row = computed.get(family)!.find((f) => f.name === name && f.code === r.code && f.aggregation === aggregation);
      expect(row, `${family} ${name} ${aggregation} not computed`).toBeDefined();
      expect(Math.abs(row!.value - value), `${family} ${name} ${aggregation}: ${row!.value} vs ${value} ± ${tolerance}`).toBeLessThanOrEqual(tolerance);
    },
  );
});
