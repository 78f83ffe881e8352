/**
 * Morphological features of the IBSI CT phantom under configuration A (IBSI reference manual,
 * chapter 5): no interpolation, intensity mask = mask voxels with HU in [−500, 400], morphological
 * mask = the mask. Every `morph` row of `config. A` in the reference table must match within its
 * tolerance. Also prints how long each group of features takes on this ROI (125 256 voxels).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { describe, expect, it } from 'vitest';
import { morphologyContext, morphologyFeatures } from '../../src/radiomics/features/morphology.js';
import { orientedMinimumBox } from '../../src/radiomics/geometry/bounding-box.js';
import { convexHull, maximumDistance } from '../../src/radiomics/geometry/convex-hull.js';
import { minimumVolumeEnclosingEllipsoid } from '../../src/radiomics/geometry/enclosing-ellipsoid.js';
import { spatialAutocorrelation } from '../../src/radiomics/geometry/spatial-autocorrelation.js';
import { maskSurfaceMesh, meshArea, meshVolume } from '../../src/radiomics/mesh.js';
import type { RoiImage } from '../../src/radiomics/types.js';
import type { Vec3 } from '../../src/volume/volume.js';
import { sharedDataDir } from './helpers.js';

const ibsiDir = path.join(sharedDataDir, 'ibsi');

interface ReferenceRow {
  readonly family: string;
  readonly feature: string;
  readonly code: string;
  readonly data: string;
  readonly aggregation: string;
  readonly value: number;
  readonly tolerance: number;
}

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}

function referenceRows(): ReferenceRow[] {
  const [header, ...lines] = fs.readFileSync(path.join(ibsiDir, 'ibsi1_reference_values.csv'), 'utf8').trim().split(/\r?\n/);
  const columns = splitCsvLine(header!);
  const col = (name: string): number => {
    const i = columns.indexOf(name);
    if (i < 0) throw new Error(`ibsi1_reference_values.csv has no column ${name}`);
    return i;
  };
  const [family, feature, code, data, aggregation, value, tolerance] = ['family_short', 'feature', 'ibsi_code', 'data', 'aggregation', 'value', 'tolerance'].map(col);
  return lines.map((line) => {
    const f = splitCsvLine(line);
    return {
      family: f[family!]!,
      feature: f[feature!]!,
      code: f[code!]!,
      data: f[data!]!,
      aggregation: f[aggregation!]!,
      value: f[value!] === '' ? NaN : Number(f[value!]),
      tolerance: f[tolerance!] === '' ? NaN : Number(f[tolerance!]),
    };
  });
}

function readNifti(name: string): { dims: Vec3; spacing: Vec3; data: ArrayLike<number> } {
  const file = path.join(ibsiDir, 'ct_phantom', 'nifti', name);
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
  const slope = header.scl_slope || 1;
  const data = Float64Array.from(view(raw), (v) => v * slope + header.scl_inter);
  return { dims: [header.dims[1]!, header.dims[2]!, header.dims[3]!], spacing: [header.pixDims[1]!, header.pixDims[2]!, header.pixDims[3]!], data };
}

/** Configuration A: the image as it is (rounded to whole HU, as chapter 5 asks for the NIfTI copy), re-segmented to [−500, 400] HU. */
function configurationA(): RoiImage {
  const image = readNifti('phantom.nii.gz');
  const mask = readNifti('mask.nii.gz');
  if (mask.dims.join() !== image.dims.join()) throw new Error(`CT phantom: image ${image.dims.join('×')} and mask ${mask.dims.join('×')} differ`);
  const intensity = Float64Array.from(image.data, (v) => Math.round(v));
  const morphMask = Uint8Array.from(mask.data, (v) => (v > 0.5 ? 1 : 0));
  const intensityMask = morphMask.map((m, i) => (m && intensity[i]! >= -500 && intensity[i]! <= 400 ? 1 : 0));
  return { dims: image.dims, spacing: image.spacing, intensity, morphMask, intensityMask };
}

function timed<T>(run: () => T): { result: T; ms: number } {
  const start = performance.now();
  const result = run();
  return { result, ms: performance.now() - start };
}

describe('morphological features of the IBSI CT phantom, configuration A', () => {
  const roi = configurationA();
  const reference = referenceRows().filter((r) => r.family === 'morph' && r.data === 'config. A');

  it('computes every reference feature within tolerance', () => {
    expect(reference.length).toBe(25);
    const { result: features, ms } = timed(() => morphologyFeatures(roi));
    const byCode = new Map(features.map((f) => [f.code, f]));
    const report: string[] = [];
    const failures: string[] = [];
    for (const row of reference) {
      const ours = byCode.get(row.code);
      expect(ours, `${row.code} ${row.feature}`).toBeDefined();
      expect(ours!.name).toBe(row.feature);
      expect(ours!.aggregation).toBe(row.aggregation);
      if (Number.isNaN(row.value)) {
        report.push(`${row.code} ${row.feature}: ${ours!.value} (no reference value)`);
        expect(Number.isFinite(ours!.value)).toBe(true);
        continue;
      }
      const ok = Math.abs(ours!.value - row.value) <= row.tolerance;
      report.push(`${ok ? 'ok  ' : 'FAIL'} ${row.code} ${row.feature}: ${ours!.value} (reference ${row.value} ± ${row.tolerance})`);
      if (!ok) failures.push(`${row.code} ${row.feature}: ${ours!.value}, reference ${row.value} ± ${row.tolerance}`);
    }
    console.log(`configuration A, all morphological features in ${ms.toFixed(0)} ms\n${report.join('\n')}`);
    expect(failures).toEqual([]);
  });

  it('reports the unstandardised features as finite densities below 1 for the bounding volumes', () => {
    const features = morphologyFeatures(roi, { unstandardised: true });
    const value = (code: string): number => features.find((f) => f.code === code)!.value;
    expect(features).toHaveLength(29);
    // The oriented box is never larger than the axis-aligned one; the minimum ellipsoid holds the mesh.
    expect(value('ZH1A')).toBeGreaterThanOrEqual(value('PBX1'));
    expect(value('ZH1A')).toBeLessThan(1);
    expect(value('SWZ1')).toBeGreaterThan(0);
    expect(value('SWZ1')).toBeLessThan(1);
    expect(value('BRI8')).toBeGreaterThan(0);
    expect(Number.isFinite(value('IQYR'))).toBe(true);
  });

  it('times each group of features on this ROI', () => {
    const mesh = timed(() => maskSurfaceMesh(roi.morphMask, roi.dims, roi.spacing));
    const measures = timed(() => [meshVolume(mesh.result), meshArea(mesh.result)]);
    const hull = timed(() => convexHull(mesh.result.vertices));
    const diameter = timed(() => maximumDistance(hull.result.vertices));
    const context = timed(() => morphologyContext(roi));
    const box = timed(() => orientedMinimumBox(hull.result));
    const ellipsoid = timed(() => minimumVolumeEnclosingEllipsoid(hull.result.vertices));
    const autocorrelation = timed(() => spatialAutocorrelation(roi.intensity, roi.intensityMask, roi.dims, roi.spacing));
    const lines = [
      `mesh (marching cubes): ${mesh.ms.toFixed(1)} ms, ${mesh.result.vertices.length / 3} vertices, ${mesh.result.faces.length / 3} faces`,
      `mesh volume and area: ${measures.ms.toFixed(1)} ms`,
      `convex hull: ${hull.ms.toFixed(1)} ms, ${hull.result.vertices.length / 3} vertices; maximum diameter ${diameter.ms.toFixed(1)} ms`,
      `shared context (mesh, hull, moments, centres of mass, AABB): ${context.ms.toFixed(1)} ms`,
      `oriented minimum bounding box: ${box.ms.toFixed(1)} ms`,
      `minimum volume enclosing ellipsoid: ${ellipsoid.ms.toFixed(1)} ms, ${ellipsoid.result.iterations} iterations`,
      `Moran's I and Geary's C: ${autocorrelation.ms.toFixed(1)} ms`,
    ];
    console.log(lines.join('\n'));
    expect(mesh.result.faces.length).toBeGreaterThan(0);
    expect(Number.isFinite(autocorrelation.result.moransI)).toBe(true);
  });
});
