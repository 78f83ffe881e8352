/**
 * The IBSI digital phantom (test/fixtures/ibsi), as a volume and a mask. Read with
 * nifti-reader-js directly so feature tests do not depend on radanon's own NIfTI reader.
 * The phantom's voxels are 2 mm cubes; its grey levels 1..6 need no discretisation.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as nifti from 'nifti-reader-js';
import { expect } from 'vitest';
import type { DiscretisedRoi, TextureOptions } from '../../../src/radiomics/types.js';
import type { Grid, Mask, Volume } from '../../../src/volume/volume.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/ibsi');

function readVoxels(name: string): { grid: Grid; data: ArrayLike<number> } {
  const bytes = zlib.gunzipSync(fs.readFileSync(path.join(dir, name)));
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  const header = nifti.readHeader(buffer);
  if (!header) throw new Error(`${name}: not a NIfTI image`);
  const [, nx = 0, ny = 0, nz = 0] = header.dims;
  const [, sx = 0, sy = 0, sz = 0] = header.pixDims;
  const raw = nifti.readImage(header, buffer);
  const types: Record<number, (b: ArrayBuffer) => ArrayLike<number>> = {
    [nifti.NIFTI1.TYPE_UINT8]: (b) => new Uint8Array(b),
    [nifti.NIFTI1.TYPE_INT16]: (b) => new Int16Array(b),
    [nifti.NIFTI1.TYPE_FLOAT32]: (b) => new Float32Array(b),
    [nifti.NIFTI1.TYPE_FLOAT64]: (b) => new Float64Array(b),
  };
  const view = types[header.datatypeCode];
  if (!view) throw new Error(`${name}: unexpected NIfTI data type ${header.datatypeCode}`);
  const data = view(raw);
  return { grid: { dims: [nx, ny, nz], spacing: [sx, sy, sz], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, data };
}

export function digitalPhantom(): { image: Volume<Float64Array>; mask: Mask } {
  const image = readVoxels('phantom.nii.gz');
  const mask = readVoxels('mask.nii.gz');
  return {
    image: { grid: image.grid, data: Float64Array.from(image.data) },
    mask: { grid: mask.grid, data: Uint8Array.from(mask.data, (v) => (v > 0.5 ? 1 : 0)) },
  };
}

/** The phantom as texture families receive it: its grey levels 1..6 inside the mask, 0 outside. */
export function phantomLevels(): DiscretisedRoi {
  const { image, mask } = digitalPhantom();
  const levels = Int32Array.from(image.data, (x, v) => (mask.data[v] ? Math.round(x) : 0));
  return { dims: image.grid.dims, spacing: image.grid.spacing, levels, ng: 6 };
}

/** Every texture aggregation, at IBSI's default distances: what the phantom's reference values use. */
export const ALL_TEXTURE: TextureOptions = { dimensions: ['2D', '2.5D', '3D'], distance: 1, linkageDistance: 1, ngldmCoarseness: 0 };

/** Reference values are published to 3 significant digits: within half a unit of the last one. */
export function expectPublished(value: number, published: number, what: string): void {
  if (published === 0) {
    expect(Math.abs(value), what).toBeLessThan(1e-12);
    return;
  }
  const halfUnit = 0.5 * 10 ** (Math.floor(Math.log10(Math.abs(published))) - 2);
  expect(Math.abs(value - published), `${what}: ${value} vs ${published}`).toBeLessThanOrEqual(halfUnit * (1 + 1e-9));
}
