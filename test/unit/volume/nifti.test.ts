import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { describe, expect, it } from 'vitest';
import { VolumeFormatError } from '../../../src/volume/errors.js';
import { indexToWorld } from '../../../src/volume/geometry.js';
import { encodeNifti, readNifti, writeNifti } from '../../../src/volume/nifti.js';
import type { Grid, Vec3, Volume, VoxelArray } from '../../../src/volume/volume.js';
import { niftiBody, niftiBytes, temporaryFolder } from './builders.js';

const dir = temporaryFolder();

/** An oblique grid: axes rotated 30° about z, then the k axis flipped (a left-handed grid). */
const c = Math.cos(Math.PI / 6);
const s = Math.sin(Math.PI / 6);
const obliqueGrid: Grid = {
  dims: [4, 3, 2],
  spacing: [0.75, 1.25, 3],
  origin: [-120.5, 33.25, 410],
  direction: [c, s, 0, -s, c, 0, 0, 0, -1],
};

const ARRAYS: readonly { name: string; make: (values: number[]) => VoxelArray }[] = [
  { name: 'uint8', make: (v) => Uint8Array.from(v, (x) => Math.abs(x) % 256) },
  { name: 'int8', make: (v) => Int8Array.from(v, (x) => (x % 128) - 5) },
  { name: 'int16', make: (v) => Int16Array.from(v, (x) => x * 1000 - 12000) },
  { name: 'uint16', make: (v) => Uint16Array.from(v, (x) => x * 2500) },
  { name: 'int32', make: (v) => Int32Array.from(v, (x) => x * 100_000 - 1_000_000) },
  { name: 'uint32', make: (v) => Uint32Array.from(v, (x) => x * 150_000_000) },
  { name: 'float32', make: (v) => Float32Array.from(v, (x) => x * 0.1 - 1.5) },
  { name: 'float64', make: (v) => Float64Array.from(v, (x) => x / 3 - 1e-9) },
];

function expectGridClose(actual: Grid, expected: Grid): void {
  expect(actual.dims).toEqual(expected.dims);
  actual.spacing.forEach((v, n) => expect(v).toBeCloseTo(expected.spacing[n]!, 5));
  actual.origin.forEach((v, n) => expect(v).toBeCloseTo(expected.origin[n]!, 4));
  actual.direction.forEach((v, n) => expect(v).toBeCloseTo(expected.direction[n]!, 6));
}

describe('NIfTI round trip', () => {
  const values = Array.from({ length: 24 }, (_, n) => n);
  for (const { name, make } of ARRAYS) {
    for (const ext of ['.nii', '.nii.gz']) {
      it(`keeps ${name} values, their type and the geometry (${ext})`, async () => {
        const volume: Volume = { grid: obliqueGrid, data: make(values) };
        const file = path.join(dir, `${name}${ext}`);
        await writeNifti(file, volume, { description: `radanon ${name}` });
        const raw = readFileSync(file);
        expect(raw[0] === 0x1f && raw[1] === 0x8b).toBe(ext === '.nii.gz');
        const back = await readNifti(file);
        expect(back.data.constructor).toBe(volume.data.constructor);
        expect(Array.from(back.data)).toEqual(Array.from(volume.data));
        expectGridClose(back.grid, obliqueGrid);
      });
    }
  }

  it('writes a header an independent reader understands: dims, datatype, and the qform matching the RAS affine', () => {
    const bytes = encodeNifti({ grid: obliqueGrid, data: new Int16Array(24) });
    const buffer = new Uint8Array(bytes).buffer;
    const header = nifti.readHeader(buffer);
    expect(header.dims.slice(0, 4)).toEqual([3, 4, 3, 2]);
    expect(header.datatypeCode).toBe(nifti.NIFTI1.TYPE_INT16);
    expect(header.qform_code).toBe(1);
    expect(header.sform_code).toBe(1);
    // With equal codes nifti-reader-js builds its affine from the quaternion: it must give the
    // same RAS map as our sform, i.e. the LPS grid with x and y negated.
    for (const [i, j, k] of [[0, 0, 0], [3, 2, 1], [1, 2, 0]] as const) {
      const lps = indexToWorld(obliqueGrid, i, j, k);
      const a = header.affine;
      const ras = [0, 1, 2].map((r) => a[r]![0]! * i + a[r]![1]! * j + a[r]![2]! * k + a[r]![3]!);
      expect(ras[0]).toBeCloseTo(-lps[0], 3);
      expect(ras[1]).toBeCloseTo(-lps[1], 3);
      expect(ras[2]).toBeCloseTo(lps[2], 3);
    }
  });

  it('replaces an existing file and leaves no temporary file behind', async () => {
    const file = path.join(dir, 'replace.nii');
    writeFileSync(file, 'old contents');
    await writeNifti(file, { grid: obliqueGrid, data: new Float32Array(24).fill(7) });
    const back = await readNifti(file);
    expect(back.data[23]).toBe(7);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a name that is not .nii or .nii.gz, and data that does not fill the grid', async () => {
    await expect(writeNifti(path.join(dir, 'image.img'), { grid: obliqueGrid, data: new Uint8Array(24) })).rejects.toThrow(/image\.img: .*\.nii or \.nii\.gz/);
    expect(() => encodeNifti({ grid: obliqueGrid, data: new Uint8Array(23) })).toThrow(/23 values for a 4×3×2 grid/);
  });
});

describe('NIfTI geometry', () => {
  /** World (LPS) position of voxel (i, j, k) for a RAS affine given as srow rows. */
  function expectedLps(srow: readonly number[], i: number, j: number, k: number): Vec3 {
    const row = (r: number) => srow[4 * r]! * i + srow[4 * r + 1]! * j + srow[4 * r + 2]! * k + srow[4 * r + 3]!;
    return [-row(0), -row(1), row(2)];
  }

  it('takes the sform (RAS) and converts it to LPS: the world position of a voxel is the affine’s, x and y negated', async () => {
    // A sheared-free oblique affine: axes of lengths 0.8, 1.5, 2.5.
    const srow = [0, -1.5, 0, 90.5, 0.8, 0, 0, -126.25, 0, 0, 2.5, -72];
    const file = path.join(dir, 'sform.nii');
    writeFileSync(file, niftiBytes({ dims: [3, 2, 3, 4, 1, 1, 1, 1], datatype: 4, bitpix: 16, sformCode: 2, srow, body: niftiBody(Array.from({ length: 24 }, (_, n) => n), 'int16') }));
    const { grid, data } = await readNifti(file);
    expect(grid.spacing[0]).toBeCloseTo(0.8, 6);
    expect(grid.spacing[1]).toBeCloseTo(1.5, 6);
    expect(grid.spacing[2]).toBeCloseTo(2.5, 6);
    for (const [i, j, k] of [[0, 0, 0], [1, 2, 3], [1, 0, 2]] as const) {
      const world = indexToWorld(grid, i, j, k);
      const expected = expectedLps(srow, i, j, k);
      world.forEach((v, n) => expect(v).toBeCloseTo(expected[n]!, 4));
    }
    expect(data[1 + 2 * (2 + 3 * 3)]).toBe(1 + 2 * (2 + 3 * 3));
  });

  it('prefers the sform to a qform that disagrees', async () => {
    const srow = [2, 0, 0, 10, 0, 2, 0, 20, 0, 0, 2, 30];
    const file = path.join(dir, 'both.nii');
    writeFileSync(file, niftiBytes({ dims: [3, 1, 1, 1, 1, 1, 1, 1], datatype: 2, bitpix: 8, pixdim: [1, 5, 5, 5], qformCode: 1, qoffset: [-1, -2, -3], sformCode: 1, srow, body: Uint8Array.of(1) }));
    const { grid } = await readNifti(file);
    expect(grid.origin).toEqual([-10, -20, 30]);
    expect(grid.spacing).toEqual([2, 2, 2]);
  });

  it('uses the qform when there is no sform: a 90° rotation about z, and qfac = −1 flipping k', async () => {
    const h = Math.SQRT1_2; // quaternion (a, b, c, d) = (cos 45°, 0, 0, sin 45°)
    const file = path.join(dir, 'qform.nii');
    writeFileSync(file, niftiBytes({ dims: [3, 2, 2, 2, 1, 1, 1, 1], datatype: 2, bitpix: 8, pixdim: [-1, 0.5, 2, 4], qformCode: 1, quatern: [0, 0, h], qoffset: [7, 8, 9], body: new Uint8Array(8) }));
    const { grid } = await readNifti(file);
    expect(grid.spacing).toEqual([0.5, 2, 4]);
    // RAS: i → +y, j → −x, k → −z (qfac); LPS negates x and y.
    const expected = [0, -1, 0, 1, 0, 0, 0, 0, -1];
    grid.direction.forEach((v, n) => expect(v).toBeCloseTo(expected[n]!, 6));
    expect(grid.origin).toEqual([-7, -8, 9]);
    const world = indexToWorld(grid, 1, 1, 1);
    // RAS (7 − 2, 8 + 0.5, 9 − 4) → LPS (−5, −8.5, 5)
    world.forEach((v, n) => expect(v).toBeCloseTo([-5, -8.5, 5][n]!, 6));
  });

  it('reads NIfTI-2 (64-bit fields, sform in doubles)', async () => {
    // nifti2.h: 540-byte header, magic "n+2\0\r\n\032\n" at byte 4, then a 4-byte extension flag.
    const out = new Uint8Array(544 + 6 * 2);
    const v = new DataView(out.buffer);
    v.setInt32(0, 540, true);
    out.set([0x6e, 0x2b, 0x32, 0x00, 0x0d, 0x0a, 0x1a, 0x0a], 4);
    v.setInt16(12, 4, true); // int16
    v.setInt16(14, 16, true);
    [3, 3, 2, 1, 1, 1, 1, 1].forEach((d, n) => v.setBigInt64(16 + 8 * n, BigInt(d), true));
    [1, 0.25, 0.5, 4, 0, 0, 0, 0].forEach((d, n) => v.setFloat64(104 + 8 * n, d, true));
    v.setBigInt64(168, 544n, true);
    v.setInt32(348, 1, true); // sform_code
    [0.25, 0, 0, -1.125, 0, 0.5, 0, 2.5, 0, 0, 4, 1000.0625].forEach((x, n) => v.setFloat64(400 + 8 * n, x, true));
    v.setInt32(500, 2, true); // mm
    [1, -2, 3, -4, 5, -6].forEach((x, n) => v.setInt16(544 + 2 * n, x, true));
    const file = path.join(dir, 'two.nii');
    writeFileSync(file, out);
    const { grid, data } = await readNifti(file);
    expect(grid.dims).toEqual([3, 2, 1]);
    expect(grid.spacing).toEqual([0.25, 0.5, 4]);
    expect(grid.origin).toEqual([1.125, -2.5, 1000.0625]);
    expect(Array.from(data)).toEqual([1, -2, 3, -4, 5, -6]);
  });

  it('falls back to pixdim alone, and converts metres to millimetres', async () => {
    const file = path.join(dir, 'pixdim.nii');
    writeFileSync(file, niftiBytes({ dims: [3, 2, 1, 1, 1, 1, 1, 1], datatype: 2, bitpix: 8, pixdim: [1, 0.002, 0.003, 0.004], xyztUnits: 1, body: new Uint8Array(2) }));
    const { grid } = await readNifti(file);
    grid.spacing.forEach((v, n) => expect(v).toBeCloseTo([2, 3, 4][n]!, 4));
    expect(grid.origin).toEqual([0, 0, 0]);
    expect(grid.direction).toEqual([-1, 0, 0, 0, -1, 0, 0, 0, 1]);
  });
});

describe('NIfTI values', () => {
  it('applies scl_slope and scl_inter: Float32Array from integers', async () => {
    const file = path.join(dir, 'scaled.nii');
    writeFileSync(file, niftiBytes({ dims: [3, 3, 1, 1, 1, 1, 1, 1], datatype: 4, bitpix: 16, sclSlope: 0.5, sclInter: -100, body: niftiBody([0, 10, -31], 'int16') }));
    const { data } = await readNifti(file);
    expect(data).toBeInstanceOf(Float32Array);
    expect(Array.from(data)).toEqual([-100, -95, -115.5]);
  });

  it('scales float64 data into a Float64Array, and treats slope 0 as no scaling', async () => {
    const a = path.join(dir, 'scaled64.nii');
    writeFileSync(a, niftiBytes({ dims: [3, 2, 1, 1, 1, 1, 1, 1], datatype: 64, bitpix: 64, sclSlope: 3, sclInter: 1e-3, body: niftiBody([1 / 3, 1e10], 'float64') }));
    const scaled = await readNifti(a);
    expect(scaled.data).toBeInstanceOf(Float64Array);
    expect(scaled.data[0]).toBeCloseTo(1.001, 6); // 3 · (1/3) + 0.001 (scl_inter is float32 in the header)
    expect(scaled.data[1]).toBeCloseTo(3e10, -2);
    const b = path.join(dir, 'unscaled.nii');
    writeFileSync(b, niftiBytes({ dims: [3, 2, 1, 1, 1, 1, 1, 1], datatype: 4, bitpix: 16, sclSlope: 0, sclInter: 50, body: niftiBody([7, -7], 'int16') }));
    const unscaled = await readNifti(b);
    expect(unscaled.data).toBeInstanceOf(Int16Array);
    expect(Array.from(unscaled.data)).toEqual([7, -7]);
  });

  it('reads big-endian files', async () => {
    const file = path.join(dir, 'big.nii');
    writeFileSync(file, niftiBytes({ dims: [3, 3, 1, 1, 1, 1, 1, 1], datatype: 16, bitpix: 32, littleEndian: false, pixdim: [1, 2, 2, 2], body: niftiBody([1.5, -2.25, 1e6], 'float32', false) }));
    const { data, grid } = await readNifti(file);
    expect(Array.from(data)).toEqual([1.5, -2.25, 1e6]);
    expect(grid.spacing).toEqual([2, 2, 2]);
  });

  it('accepts a 4-D file holding a single volume', async () => {
    const file = path.join(dir, 'one-volume.nii');
    writeFileSync(file, niftiBytes({ dims: [4, 2, 1, 1, 1, 1, 1, 1], datatype: 2, bitpix: 8, body: Uint8Array.of(3, 4) }));
    const { grid, data } = await readNifti(file);
    expect(grid.dims).toEqual([2, 1, 1]);
    expect(Array.from(data)).toEqual([3, 4]);
  });
});

describe('NIfTI errors name the file and the problem', () => {
  const cases: readonly { name: string; bytes: () => Uint8Array; message: RegExp }[] = [
    { name: 'two volumes', bytes: () => niftiBytes({ dims: [4, 2, 1, 1, 2, 1, 1, 1], datatype: 2, bitpix: 8, body: new Uint8Array(4) }), message: /4-D image with dimensions \[2, 1, 1, 2\]/ },
    { name: 'a zero dimension', bytes: () => niftiBytes({ dims: [3, 2, 0, 1, 1, 1, 1, 1], datatype: 2, bitpix: 8, body: new Uint8Array(0) }), message: /every dimension must be at least 1/ },
    { name: 'truncated voxels', bytes: () => niftiBytes({ dims: [3, 4, 4, 4, 1, 1, 1, 1], datatype: 4, bitpix: 16, body: new Uint8Array(100) }), message: /truncated: the image needs 480 bytes/ },
    { name: 'an unsupported datatype', bytes: () => niftiBytes({ dims: [3, 1, 1, 1, 1, 1, 1, 1], datatype: 32, bitpix: 64, body: new Uint8Array(8) }), message: /datatype 32 .* not supported/ },
    { name: 'no NIfTI magic', bytes: () => new Uint8Array(400), message: /not a NIfTI file/ },
    { name: 'a cut gzip stream', bytes: () => zlib.gzipSync(niftiBytes({ dims: [3, 8, 8, 8, 1, 1, 1, 1], datatype: 2, bitpix: 8, body: new Uint8Array(512).fill(9) })).subarray(0, 40), message: /cannot decompress/ },
  ];
  for (const { name, bytes, message } of cases) {
    it(name, async () => {
      const file = path.join(dir, `bad-${name.replace(/\W+/g, '-')}.nii`);
      writeFileSync(file, bytes());
      const error = await readNifti(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VolumeFormatError);
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(message);
    });
  }
});
