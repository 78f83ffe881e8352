import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { binaryElement } from '../support/dicom.js';
import { listDicomSeries, readDicomSeries } from '../../../src/volume/dicom-series.js';
import { VolumeFormatError, VolumeGeometryError, VolumeSelectionError } from '../../../src/volume/errors.js';
import { indexToWorld } from '../../../src/volume/geometry.js';
import { loadImage } from '../../../src/volume/load.js';
import { seriesOf, sourceOf } from '../../../src/volume/source.js';
import { ctSlice, decimals, ds, pixelBytes, seq, SOP_CLASS, str, t, temporaryFolder, TS, us, writeDicom, type SliceSpec } from './builders.js';

const root = temporaryFolder();
let folderCount = 0;
function folder(name: string): string {
  const dir = path.join(root, `${folderCount++}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const ROWS = 3;
const COLUMNS = 4;
/** Stored value of pixel (i = column, j = row) of slice k: every voxel distinct. */
const storedAt = (i: number, j: number, k: number) => 1100 + i + 10 * j + 100 * k;
const SHUFFLED = [3, 0, 4, 1, 2];

interface SeriesSpec {
  readonly dir: string;
  readonly uid?: string;
  /** Position of slice k. */
  readonly position?: (k: number) => number[];
  readonly orientation?: readonly number[];
  readonly slices?: number;
  readonly transferSyntax?: string;
  readonly slice?: (k: number) => Partial<SliceSpec>;
}

/** Writes a 4×3×5 CT series, slice files in shuffled order under unrelated names. */
function writeSeries(spec: SeriesSpec): string[] {
  const uid = spec.uid ?? '1.2.826.0.1.3680043.10.999.1';
  const slices = spec.slices ?? 5;
  const order = slices === 5 ? SHUFFLED : Array.from({ length: slices }, (_, k) => k);
  return order.map((k, n) => {
    const stored = Array.from({ length: ROWS * COLUMNS }, (_, p) => storedAt(p % COLUMNS, Math.floor(p / COLUMNS), k));
    const little = spec.transferSyntax !== TS.explicitBig;
    const dataset = ctSlice({
      sopInstanceUid: `${uid}.${k + 1}`,
      seriesInstanceUid: uid,
      frameOfReferenceUid: '1.2.826.0.1.3680043.10.999.99',
      position: spec.position?.(k) ?? [-50, 20, 10 + 2.5 * k],
      orientation: spec.orientation,
      pixelSpacing: [0.7, 0.5],
      rows: ROWS,
      columns: COLUMNS,
      stored,
      signed: true,
      slope: 1,
      intercept: -1024,
      little,
      instanceNumber: k + 1,
      ...spec.slice?.(k),
    });
    return writeDicom(path.join(spec.dir, `IM${String(n).padStart(4, '0')}`), dataset, spec.transferSyntax ?? TS.explicitLittle);
  });
}

function expectValues(data: ArrayLike<number>, value: (i: number, j: number, k: number) => number, slices = 5): void {
  for (let k = 0; k < slices; k++) {
    for (let j = 0; j < ROWS; j++) {
      for (let i = 0; i < COLUMNS; i++) expect(data[i + COLUMNS * (j + ROWS * k)]).toBe(value(i, j, k));
    }
  }
}

describe('a classic single-frame series', () => {
  it('sorts slices written in random order, with spacing from the positions and Pixel Spacing as [rows, columns]', async () => {
    const dir = folder('ct');
    writeSeries({ dir });
    writeFileSync(path.join(dir, 'README.txt'), 'not DICOM: passed over');
    const volume = await readDicomSeries(dir);
    expect(volume.grid.dims).toEqual([COLUMNS, ROWS, 5]);
    expect(volume.grid.spacing[0]).toBe(0.5); // between columns: along i
    expect(volume.grid.spacing[1]).toBe(0.7); // between rows: along j
    expect(volume.grid.spacing[2]).toBeCloseTo(2.5, 9);
    expect(volume.grid.origin).toEqual([-50, 20, 10]);
    expect(volume.grid.direction).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(volume.data).toBeInstanceOf(Int16Array);
    expectValues(volume.data, (i, j, k) => storedAt(i, j, k) - 1024);
    expect(sourceOf(volume.grid)).toBe(dir);
    const series = seriesOf(volume.grid)!;
    expect(series.seriesInstanceUid).toBe('1.2.826.0.1.3680043.10.999.1');
    expect(series.sliceOfInstance.get('1.2.826.0.1.3680043.10.999.1.4')).toBe(3);
  });

  it('orders slices along the normal of an oblique orientation, whatever the order of z', async () => {
    const dir = folder('oblique');
    // Rows run along (cos 20°, sin 20°, 0); columns tilt towards −z; the normal points partly along −y.
    const a = (20 * Math.PI) / 180;
    const b = (30 * Math.PI) / 180;
    const row = [Math.cos(a), Math.sin(a), 0];
    const column = [-Math.sin(a) * Math.cos(b), Math.cos(a) * Math.cos(b), -Math.sin(b)];
    const normal = [row[1]! * column[2]! - row[2]! * column[1]!, row[2]! * column[0]! - row[0]! * column[2]!, row[0]! * column[1]! - row[1]! * column[0]!];
    const start = [12, -40, 88];
    const position = (k: number) => start.map((v, n) => v + normal[n]! * 3 * k);
    writeSeries({ dir, orientation: [...row, ...column], position });
    const volume = await readDicomSeries(dir);
    expect(volume.grid.spacing[2]).toBeCloseTo(3, 6);
    for (const [i, j, k] of [[0, 0, 0], [3, 2, 4], [1, 2, 3]] as const) {
      const world = indexToWorld(volume.grid, i, j, k);
      const expected = [0, 1, 2].map((n) => position(k)[n]! + row[n]! * 0.5 * i + column[n]! * 0.7 * j);
      world.forEach((v, n) => expect(v).toBeCloseTo(expected[n]!, 3));
    }
    expectValues(volume.data, (i, j, k) => storedAt(i, j, k) - 1024);
  });

  it('sorts a series whose instance numbers run against the normal', async () => {
    const dir = folder('descending');
    writeSeries({ dir, position: (k) => [-50, 20, 100 - 2 * k] });
    const volume = await readDicomSeries(dir);
    expect(volume.grid.origin).toEqual([-50, 20, 92]);
    // Slice k of the volume is file slice 4 − k.
    expectValues(volume.data, (i, j, k) => storedAt(i, j, 4 - k) - 1024);
  });

  it('reads Explicit VR Big Endian', async () => {
    const dir = folder('big-endian');
    writeSeries({ dir, transferSyntax: TS.explicitBig });
    const volume = await readDicomSeries(dir);
    expect(volume.data).toBeInstanceOf(Int16Array);
    expectValues(volume.data, (i, j, k) => storedAt(i, j, k) - 1024);
  });

  it('gives Float32Array when the rescale is not integer, per slice', async () => {
    const dir = folder('float-rescale');
    writeSeries({ dir, slice: (k) => ({ slope: k === 2 ? 0.25 : 1, intercept: -1000.5 }) });
    const volume = await readDicomSeries(dir);
    expect(volume.data).toBeInstanceOf(Float32Array);
    expectValues(volume.data, (i, j, k) => storedAt(i, j, k) * (k === 2 ? 0.25 : 1) - 1000.5);
  });

  it('widens to Int32Array when unsigned values do not fit 16 bits, and reads 8-bit images', async () => {
    const wide = folder('uint16');
    writeSeries({ dir: wide, slice: () => ({ signed: false, intercept: 0 }) });
    // Unsigned 16-bit: 1100 + … stays small, so add 40000 through the slope-1 intercept.
    const big = folder('uint16-big');
    writeSeries({ dir: big, slice: () => ({ signed: false, intercept: 40000 }) });
    const small = await readDicomSeries(wide);
    expect(small.data).toBeInstanceOf(Int16Array);
    const widened = await readDicomSeries(big);
    expect(widened.data).toBeInstanceOf(Int32Array);
    expectValues(widened.data, (i, j, k) => storedAt(i, j, k) + 40000);

    const bytes = folder('uint8');
    writeSeries({ dir: bytes, slice: (k) => ({ bitsAllocated: 8, signed: false, intercept: 0, stored: Array.from({ length: ROWS * COLUMNS }, (_, p) => (p + 40 * k) % 256) }) });
    const eight = await readDicomSeries(bytes);
    expectValues(eight.data, (i, j, k) => (i + COLUMNS * j + 40 * k) % 256);
  });

  it('keeps only Bits Stored bits and extends their sign', async () => {
    const dir = folder('12-bit');
    // Signed 12-bit values with junk in the top 4 bits: −5 is 0xFFB, stored here as 0xAFFB.
    writeSeries({ dir, slice: () => ({ bitsStored: 12, intercept: 0, stored: Array.from({ length: ROWS * COLUMNS }, (_, p) => (p % 2 === 0 ? 0xaffb : 0x5007)) }) });
    const volume = await readDicomSeries(dir);
    expect(Array.from(volume.data.subarray(0, 4))).toEqual([-5, 7, -5, 7]);
  });

  it('rejects a gap in the slices', async () => {
    const dir = folder('gap');
    writeSeries({ dir, position: (k) => [-50, 20, 10 + 2.5 * k + (k >= 3 ? 2.5 : 0)] });
    const error = await readDicomSeries(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VolumeGeometryError);
    expect((error as Error).message).toMatch(/not evenly spaced: 5 mm between IM\d+ and IM\d+, where slices are 2.5 mm apart elsewhere/);
  });

  it('rejects two slices at the same position', async () => {
    const dir = folder('duplicate');
    writeSeries({ dir, position: (k) => [-50, 20, 10 + 2.5 * Math.min(k, 3)] });
    await expect(readDicomSeries(dir)).rejects.toThrow(/lie at the same position/);
  });

  it('rejects a gantry tilt (slices not stacked along their normal)', async () => {
    const dir = folder('tilt');
    writeSeries({ dir, position: (k) => [-50, 20 + 0.8 * k, 10 + 2.5 * k] });
    await expect(readDicomSeries(dir)).rejects.toThrow(/off the line of slices along their normal/);
  });

  it('reports a compressed frame that cannot be decoded, naming the file, the frame and the transfer syntax', async () => {
    const dir = folder('jpeg');
    const [, , file] = writeSeries({ dir, slices: 3 });
    // One slice re-written with JPEG Baseline encapsulated pixel data (empty offset table, one
    // fragment) whose codestream is an empty JPEG: start and end of image, nothing between.
    const fragments = Uint8Array.from([
      0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0,
      0xfe, 0xff, 0x00, 0xe0, 4, 0, 0, 0, 0xff, 0xd8, 0xff, 0xd9,
      0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0,
    ]);
    const dataset = ctSlice({
      sopInstanceUid: '1.2.3.9',
      seriesInstanceUid: '1.2.826.0.1.3680043.10.999.1',
      position: [-50, 20, 10 + 2.5 * 2],
      pixelSpacing: [0.7, 0.5],
      rows: ROWS,
      columns: COLUMNS,
      stored: [],
    });
    dataset.set(t.PixelData, { kind: 'encapsulated', tag: t.PixelData, vr: 'OB', bytes: fragments });
    writeDicom(file!, dataset, TS.jpegBaseline);
    const error = await readDicomSeries(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VolumeFormatError);
    expect((error as Error).message).toMatch(/^\S+: cannot decode frame 0 of the pixel data \(1\.2\.840\.10008\.1\.2\.4\.50, JPEG Baseline\): \S/);
    expect((error as VolumeFormatError).file).toBe(file);
  });

  it('rejects pixel data shorter than its frames, naming the file', async () => {
    const dir = folder('short');
    const files = writeSeries({ dir, slices: 3 });
    writeDicom(files[1]!, ctSlice({ sopInstanceUid: '1.2.3.8', seriesInstanceUid: '1.2.826.0.1.3680043.10.999.1', position: [-50, 20, 12.5], pixelSpacing: [0.7, 0.5], rows: ROWS, columns: COLUMNS, stored: [1, 2, 3] }));
    await expect(readDicomSeries(dir)).rejects.toThrow(`${files[1]}: pixel data holds 6 bytes, but 1 frame(s) of 4×3 × 16 bits need 24`);
  });

  it('lists the series of a folder holding several, and reads the one chosen', async () => {
    const dir = folder('two-series');
    mkdirSync(path.join(dir, 'a'));
    mkdirSync(path.join(dir, 'b'));
    writeSeries({ dir: path.join(dir, 'a'), uid: '1.2.3.100' });
    writeSeries({ dir: path.join(dir, 'b'), uid: '1.2.3.200', slices: 2, position: (k) => [0, 0, 4 * k] });
    const error = await readDicomSeries(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VolumeSelectionError);
    expect((error as Error).message).toContain('2 series found');
    expect((error as VolumeSelectionError).choices).toEqual(['1.2.3.100 (CT, 5 files)', '1.2.3.200 (CT, 2 files)']);
    expect((await listDicomSeries(dir)).map((s) => [s.seriesInstanceUid, s.files])).toEqual([['1.2.3.100', 5], ['1.2.3.200', 2]]);
    const chosen = await readDicomSeries(dir, { seriesInstanceUid: '1.2.3.200' });
    expect(chosen.grid.dims).toEqual([COLUMNS, ROWS, 2]);
    expect(chosen.grid.spacing[2]).toBe(4);
    await expect(readDicomSeries(dir, { seriesInstanceUid: '9.9' })).rejects.toThrow(/no series with Series Instance UID 9\.9; available: 1\.2\.3\.100/);
  });

  it('reads a list of files, and one slice through loadImage reads its whole series', async () => {
    const dir = folder('list');
    const files = writeSeries({ dir });
    const fromList = await readDicomSeries([files[4]!, files[1]!, files[3]!]); // slices 2, 0, 1
    expect(fromList.grid.dims[2]).toBe(3);
    const fromOne = await loadImage(files[2]!);
    expect(fromOne.grid.dims).toEqual([COLUMNS, ROWS, 5]);
    expectValues(fromOne.data, (i, j, k) => storedAt(i, j, k) - 1024);
  });
});

describe('an enhanced multi-frame image', () => {
  /** Frames given in shuffled order; frame f lies at slice SHUFFLED[f]. */
  function enhancedImage(file: string, options: { perFrameRescaleOf?: number } = {}): void {
    const uid = '1.2.826.0.1.3680043.10.999.500';
    const stored: number[] = [];
    const perFrame = SHUFFLED.map((k, f) => {
      for (let p = 0; p < ROWS * COLUMNS; p++) stored.push(storedAt(p % COLUMNS, Math.floor(p / COLUMNS), k));
      // Coronal frames (rows along +x, columns along −z): the normal row × column is +y.
      const item = [seq(t.PlanePositionSequence, [[decimals(t.ImagePositionPatient, [5, -7 + 1.5 * k, -30])]])];
      if (options.perFrameRescaleOf === f) item.push(seq(t.PixelValueTransformationSequence, [[decimals(t.RescaleSlope, [2]), decimals(t.RescaleIntercept, [0])]]));
      return item;
    });
    const dataset = ds(
      str(t.SOPClassUID, 'UI', SOP_CLASS.enhancedCt),
      str(t.SOPInstanceUID, 'UI', uid),
      str(t.Modality, 'CS', 'CT'),
      str(t.SeriesInstanceUID, 'UI', `${uid}.1`),
      str(t.NumberOfFrames, 'IS', String(SHUFFLED.length)),
      us(t.SamplesPerPixel, 1),
      str(t.PhotometricInterpretation, 'CS', 'MONOCHROME2'),
      us(t.Rows, ROWS),
      us(t.Columns, COLUMNS),
      us(t.BitsAllocated, 16),
      us(t.BitsStored, 16),
      us(t.HighBit, 15),
      us(t.PixelRepresentation, 0),
      seq(t.SharedFunctionalGroupsSequence, [[
        seq(t.PlaneOrientationSequence, [[decimals(t.ImageOrientationPatient, [1, 0, 0, 0, 0, -1])]]),
        seq(t.PixelMeasuresSequence, [[decimals(t.PixelSpacing, [0.9, 0.6])]]),
        seq(t.PixelValueTransformationSequence, [[decimals(t.RescaleSlope, [1]), decimals(t.RescaleIntercept, [-1024])]]),
      ]]),
      seq(t.PerFrameFunctionalGroupsSequence, perFrame),
      binaryElement(t.PixelData, 'OW', pixelBytes(stored, 16, true)),
    );
    writeDicom(file, dataset);
  }

  it('places frames by their Plane Position, with shared orientation, pixel measures and rescale', async () => {
    const dir = folder('enhanced');
    const file = path.join(dir, 'enhanced.dcm');
    enhancedImage(file, { perFrameRescaleOf: 1 }); // frame 2 (index 1) holds slice 0: slope 2, intercept 0
    const volume = await loadImage(file);
    expect(volume.grid.dims).toEqual([COLUMNS, ROWS, 5]);
    expect(volume.grid.spacing[0]).toBe(0.6);
    expect(volume.grid.spacing[1]).toBe(0.9);
    expect(volume.grid.spacing[2]).toBeCloseTo(1.5, 9);
    expect(volume.grid.direction).toEqual([1, 0, 0, 0, 0, -1, 0, 1, 0]);
    expect(volume.grid.origin).toEqual([5, -7, -30]);
    expect(volume.data).toBeInstanceOf(Int16Array);
    expectValues(volume.data, (i, j, k) => (k === 0 ? 2 * storedAt(i, j, k) : storedAt(i, j, k) - 1024));
    // Frames are known by "SOP Instance UID#frame number": frame 1 holds slice 3.
    expect(seriesOf(volume.grid)!.sliceOfInstance.get('1.2.826.0.1.3680043.10.999.500#1')).toBe(3);
    expect(seriesOf(volume.grid)!.sliceOfInstance.get('1.2.826.0.1.3680043.10.999.500#2')).toBe(0);
  });
});
