import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultRegistry, Syntax, type FrameEncoder, type StoredLayout } from '../../../src/pixels/codec/index.js';
import type { Element } from '../../../src/dicom/dataset.js';
import { readDicomSeries } from '../../../src/volume/dicom-series.js';
import { VolumeFormatError, VolumeGeometryError, VolumeSelectionError } from '../../../src/volume/errors.js';
import { indexToWorld } from '../../../src/volume/geometry.js';
import { listSegments, readSegmentation } from '../../../src/volume/segmentation.js';
import type { Grid } from '../../../src/volume/volume.js';
import { binaryElement } from '../support/dicom.js';
import { ctSlice, decimals, ds, encapsulate, packBits, seq, SOP_CLASS, str, t, temporaryFolder, us, writeDicom } from './builders.js';

const dir = temporaryFolder();
const COLUMNS = 5;
const ROWS = 3; // 15 pixels a frame: BINARY frames do not start on byte boundaries
const grid: Grid = { dims: [COLUMNS, ROWS, 4], spacing: [0.5, 0.8, 2], origin: [10, -20, 30], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
const FRAME_OF_REFERENCE = '1.2.826.0.1.3680043.10.999.77';

interface FrameSpec {
  readonly segment: number;
  /** Slice index: the frame is placed at the grid's slice k … */
  readonly k: number;
  /** … by Plane Position (default), or by its source image only, or at a given position. */
  readonly place?: 'position' | { sourceImage: string } | { position: number[] };
  /** Pixel values, row by row (0/1 for BINARY). */
  readonly values: readonly number[];
}

interface SegSpec {
  readonly type: 'BINARY' | 'FRACTIONAL' | 'LABELMAP';
  readonly frames: readonly FrameSpec[];
  readonly segments?: readonly [number, string][];
  readonly maxFractional?: number;
  readonly orientation?: readonly number[];
  readonly frameOfReference?: string;
  /** Pixel data compressed in this transfer syntax, one fragment per frame (RLE with radanon's encoder, deflated frames with node:zlib). */
  readonly compress?: typeof Syntax.RleLossless | typeof Syntax.DeflatedImageFrame;
}

function writeSeg(name: string, spec: SegSpec): string {
  const perFrame = spec.frames.map((f) => {
    // A label map's frames hold every segment: they name none.
    const items: Element[] = spec.type === 'LABELMAP' ? [] : [seq(t.SegmentIdentificationSequence, [[us(t.ReferencedSegmentNumber, f.segment)]])];
    const place = f.place ?? 'position';
    if (place === 'position' || 'position' in place) {
      const position = place === 'position' ? [...indexToWorld(grid, 0, 0, f.k)] : place.position;
      items.push(seq(t.PlanePositionSequence, [[decimals(t.ImagePositionPatient, position)]]));
    } else {
      items.push(seq(t.DerivationImageSequence, [[seq(t.SourceImageSequence, [[str(t.ReferencedSOPInstanceUID, 'UI', place.sourceImage)]])]]));
    }
    return items;
  });
  const values = spec.frames.flatMap((f) => f.values);
  const binary = spec.type === 'BINARY';
  const segments = spec.segments ?? [[1, 'Liver'], [2, 'Tumour']];
  const dataset = ds(
    str(t.SOPClassUID, 'UI', SOP_CLASS.seg),
    str(t.SOPInstanceUID, 'UI', '1.2.826.0.1.3680043.10.999.900'),
    str(t.Modality, 'CS', 'SEG'),
    str(t.SeriesInstanceUID, 'UI', '1.2.826.0.1.3680043.10.999.901'),
    str(t.FrameOfReferenceUID, 'UI', spec.frameOfReference ?? FRAME_OF_REFERENCE),
    str(t.NumberOfFrames, 'IS', String(spec.frames.length)),
    us(t.SamplesPerPixel, 1),
    str(t.PhotometricInterpretation, 'CS', 'MONOCHROME2'),
    us(t.Rows, ROWS),
    us(t.Columns, COLUMNS),
    us(t.BitsAllocated, binary ? 1 : 8),
    us(t.BitsStored, binary ? 1 : 8),
    us(t.HighBit, binary ? 0 : 7),
    us(t.PixelRepresentation, 0),
    str(t.SegmentationType, 'CS', spec.type),
    seq(t.SegmentSequence, segments.map(([number, label]) => [us(t.SegmentNumber, number), str(t.SegmentLabel, 'LO', label)])),
    seq(t.SharedFunctionalGroupsSequence, [[
      seq(t.PlaneOrientationSequence, [[decimals(t.ImageOrientationPatient, spec.orientation ?? [1, 0, 0, 0, 1, 0])]]),
      seq(t.PixelMeasuresSequence, [[decimals(t.PixelSpacing, [0.8, 0.5])]]),
    ]]),
    seq(t.PerFrameFunctionalGroupsSequence, perFrame),
    binaryElement(t.PixelData, 'OB', binary ? packBits(values) : Uint8Array.from(values.length % 2 ? [...values, 0] : values)),
  );
  if (spec.type === 'FRACTIONAL') dataset.set(t.MaximumFractionalValue, us(t.MaximumFractionalValue, spec.maxFractional ?? 255));
  if (spec.compress) {
    const frames = spec.frames.map((f) =>
      spec.compress === Syntax.DeflatedImageFrame
        ? deflateRawSync(binary ? packBits(f.values) : Uint8Array.from(f.values))
        : rle.encode({ format: { ...frameFormat, photometric: 'MONOCHROME2' }, data: Uint8Array.from(f.values) }, frameFormat, Syntax.RleLossless),
    );
    dataset.set(t.PixelData, { kind: 'encapsulated', tag: t.PixelData, vr: 'OB', bytes: encapsulate(frames) });
  }
  return writeDicom(path.join(dir, name), dataset, spec.compress);
}

const frameFormat: StoredLayout = {
  rows: ROWS,
  columns: COLUMNS,
  samplesPerPixel: 1,
  bitsAllocated: 8,
  bitsStored: 8,
  highBit: 7,
  pixelRepresentation: 0,
  photometric: 'MONOCHROME2',
  planarConfiguration: 0,
  frames: 1,
};
let rle: FrameEncoder;
beforeAll(async () => {
  rle = (await defaultRegistry.encoders(Syntax.RleLossless)).codecs[0]!;
});

const liver = (i: number, j: number, k: number) => (i + j + k) % 3 === 0;
const tumour = (i: number, j: number) => (i * j) % 2 === 1;
const frameValues = (f: (i: number, j: number) => boolean) => Array.from({ length: ROWS * COLUMNS }, (_, p) => (f(p % COLUMNS, Math.floor(p / COLUMNS)) ? 1 : 0));

/** Liver on slices 2, 0, 3 and the tumour on slice 1, interleaved. */
const twoSegments: SegSpec = {
  type: 'BINARY',
  frames: [
    { segment: 1, k: 2, values: frameValues((i, j) => liver(i, j, 2)) },
    { segment: 2, k: 1, values: frameValues(tumour) },
    { segment: 1, k: 0, values: frameValues((i, j) => liver(i, j, 0)) },
    { segment: 1, k: 3, values: frameValues((i, j) => liver(i, j, 3)) },
  ],
};

function expectMask(data: Uint8Array, inside: (i: number, j: number, k: number) => boolean): void {
  const expected: number[] = [];
  for (let k = 0; k < grid.dims[2]; k++) for (let j = 0; j < ROWS; j++) for (let i = 0; i < COLUMNS; i++) expected.push(inside(i, j, k) ? 1 : 0);
  expect(Array.from(data)).toEqual(expected);
}

describe('DICOM SEG, BINARY', () => {
  it('unpacks bits across frame boundaries and places each frame on its slice', async () => {
    const file = writeSeg('binary.dcm', twoSegments);
    const liverMask = await readSegmentation(file, grid, { segment: 'Liver' });
    expect(liverMask.grid).toBe(grid);
    expectMask(liverMask.data, (i, j, k) => k !== 1 && liver(i, j, k));
    const tumourMask = await readSegmentation(file, grid, { segment: 2 });
    expectMask(tumourMask.data, (i, j, k) => k === 1 && tumour(i, j));
  });

  it('lists the segments and asks for one when there are several', async () => {
    const file = writeSeg('two.dcm', twoSegments);
    expect(await listSegments(file)).toEqual([
      { number: 1, label: 'Liver', frames: 3 },
      { number: 2, label: 'Tumour', frames: 1 },
    ]);
    const error = await readSegmentation(file, grid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VolumeSelectionError);
    expect((error as Error).message).toBe(`${file}: the file holds 2 segments; choose one by number or name; available: 1: Liver, 2: Tumour`);
    await expect(readSegmentation(file, grid, { segment: 'Spleen' })).rejects.toThrow(/no segment named "Spleen"; available: 1: Liver, 2: Tumour/);
    // Labels match ignoring case; a string of digits falls back to the number.
    expectMask((await readSegmentation(file, grid, { segment: ' tumour' })).data, (i, j, k) => k === 1 && tumour(i, j));
    expectMask((await readSegmentation(file, grid, { segment: '2' })).data, (i, j, k) => k === 1 && tumour(i, j));
  });

  it('takes the only segment without being told', async () => {
    const file = writeSeg('one.dcm', { type: 'BINARY', segments: [[1, 'Liver']], frames: [twoSegments.frames[0]!] });
    expectMask((await readSegmentation(file, grid)).data, (i, j, k) => k === 2 && liver(i, j, k));
  });

  it('rejects a frame that falls between slices', async () => {
    const position = [...indexToWorld(grid, 0, 0, 1)];
    position[2] = position[2]! + 0.6; // 0.3 of a slice spacing
    const file = writeSeg('between.dcm', { type: 'BINARY', segments: [[1, 'Liver']], frames: [{ segment: 1, k: 1, place: { position }, values: frameValues(() => true) }] });
    const error = await readSegmentation(file, grid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VolumeGeometryError);
    expect((error as Error).message).toMatch(/frame 1 at \[10, -20, 32\.6\] mm does not fall on the voxel grid of the image \(voxel index \[0\.000, 0\.000, 1\.300\]\)/);
  });

  it('rejects frames not parallel to the slices or with another pixel spacing', async () => {
    const file = writeSeg('sagittal.dcm', { ...twoSegments, orientation: [0, 1, 0, 0, 0, -1] });
    await expect(readSegmentation(file, grid, { segment: 1 })).rejects.toThrow(/frame orientation \[0, 1, 0, 0, 0, -1\] differs from the in-plane axes of the image/);
    const coarse: Grid = { ...grid, spacing: [1, 0.8, 2] };
    const other = writeSeg('spacing.dcm', twoSegments);
    await expect(readSegmentation(other, coarse, { segment: 1 })).rejects.toThrow(/pixel spacing \[0\.8, 0\.5\] differs from that of the image \[0\.8, 1\]/);
  });
});

describe('DICOM SEG, FRACTIONAL', () => {
  it('counts a voxel in from half the Maximum Fractional Value', async () => {
    const values = [0, 99, 100, 101, 200, 150, 50, 1, 199, 100, 0, 0, 0, 0, 120];
    const file = writeSeg('fractional.dcm', { type: 'FRACTIONAL', maxFractional: 200, segments: [[1, 'Lesion']], frames: [{ segment: 1, k: 3, values }] });
    const mask = await readSegmentation(file, grid);
    expectMask(mask.data, (i, j, k) => k === 3 && values[i + COLUMNS * j]! >= 100);
    expect(mask.data.reduce((a, b) => a + b, 0)).toBe(7);
  });
});

describe('DICOM SEG, LABELMAP', () => {
  it('takes the voxels whose value is the segment number', async () => {
    const labels = (k: number) => Array.from({ length: ROWS * COLUMNS }, (_, p) => (p + k) % 3);
    const file = writeSeg('labelmap.dcm', { type: 'LABELMAP', frames: [0, 1, 2, 3].map((k) => ({ segment: 0, k, values: labels(k) })) });
    expect((await listSegments(file)).map((s) => s.frames)).toEqual([4, 4]);
    const mask = await readSegmentation(file, grid, { segment: 'Tumour' });
    expectMask(mask.data, (i, j, k) => labels(k)[i + COLUMNS * j] === 2);
  });
});

describe('DICOM SEG frames placed by their source image', () => {
  async function series(frameOfReference: string): Promise<Grid> {
    const folder = path.join(dir, `series-${frameOfReference.slice(-3)}`);
    mkdirSync(folder, { recursive: true });
    for (const k of [2, 0, 3, 1]) {
      writeDicom(
        path.join(folder, `slice${k}.dcm`),
        ctSlice({
          sopInstanceUid: `1.2.826.0.1.3680043.10.999.50.${k}`,
          seriesInstanceUid: '1.2.826.0.1.3680043.10.999.50',
          frameOfReferenceUid: frameOfReference,
          position: [...indexToWorld(grid, 0, 0, k)],
          pixelSpacing: [0.8, 0.5],
          rows: ROWS,
          columns: COLUMNS,
          stored: new Array<number>(ROWS * COLUMNS).fill(k),
        }),
      );
    }
    return (await readDicomSeries(folder)).grid;
  }

  const derived: SegSpec = {
    type: 'BINARY',
    segments: [[1, 'Liver']],
    frames: [0, 3].map((k) => ({ segment: 1, k, place: { sourceImage: `1.2.826.0.1.3680043.10.999.50.${k}` }, values: frameValues((i, j) => liver(i, j, k)) })),
  };

  it('finds the slice of each source image in the series the grid was read from', async () => {
    const seriesGrid = await series(FRAME_OF_REFERENCE);
    const file = writeSeg('derived.dcm', derived);
    const mask = await readSegmentation(file, seriesGrid);
    expectMask(mask.data, (i, j, k) => (k === 0 || k === 3) && liver(i, j, k));
  });

  it('cannot place such frames on a grid that is not a DICOM series', async () => {
    const file = writeSeg('derived-plain.dcm', derived);
    await expect(readSegmentation(file, grid)).rejects.toThrow(/frame 1 has no Plane Position and names its source image only \(1\.2\.826\.0\.1\.3680043\.10\.999\.50\.0\)/);
  });

  it('rejects a segmentation drawn in another frame of reference', async () => {
    const seriesGrid = await series('1.2.826.0.1.3680043.10.999.123');
    const file = writeSeg('other-frame.dcm', twoSegments);
    await expect(readSegmentation(file, seriesGrid, { segment: 1 })).rejects.toThrow(/Frame of Reference UID 1\.2\.826\.0\.1\.3680043\.10\.999\.77 is not that of .*series-123/);
  });
});

describe('DICOM SEG with compressed pixel data', () => {
  const fractional: SegSpec = {
    type: 'FRACTIONAL',
    maxFractional: 200,
    segments: [[1, 'Liver']],
    frames: [
      { segment: 1, k: 0, values: Array.from({ length: ROWS * COLUMNS }, (_, p) => (p * 17) % 201) },
      { segment: 1, k: 2, values: Array.from({ length: ROWS * COLUMNS }, (_, p) => (p * 53) % 201) },
    ],
  };

  it('decodes FRACTIONAL frames compressed with RLE or deflated, to the mask their native form gives', async () => {
    const native = await readSegmentation(writeSeg('fractional-native.dcm', fractional), grid);
    expect(native.data.reduce((a, b) => a + b, 0)).toBeGreaterThan(5);
    for (const compress of [Syntax.RleLossless, Syntax.DeflatedImageFrame] as const) {
      const mask = await readSegmentation(writeSeg(`fractional-${compress}.dcm`, { ...fractional, compress }), grid);
      expect(Array.from(mask.data)).toEqual(Array.from(native.data));
    }
  });

  it('decodes a compressed LABELMAP', async () => {
    const labels: SegSpec = {
      type: 'LABELMAP',
      frames: [0, 1, 2, 3].map((k) => ({ segment: 0, k, values: Array.from({ length: ROWS * COLUMNS }, (_, p) => (p + k) % 3) })),
    };
    const native = await readSegmentation(writeSeg('labels-native.dcm', labels), grid, { segment: 2 });
    const compressed = await readSegmentation(writeSeg('labels-rle.dcm', { ...labels, compress: Syntax.RleLossless }), grid, { segment: 2 });
    expect(Array.from(compressed.data)).toEqual(Array.from(native.data));
    expect(native.data.includes(1)).toBe(true);
  });

  it('refuses compressed 1-bit BINARY frames with the reason, and lists their segments all the same', async () => {
    const file = writeSeg('binary-deflated.dcm', { ...twoSegments, compress: Syntax.DeflatedImageFrame });
    const error = await readSegmentation(file, grid, { segment: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VolumeFormatError);
    expect((error as Error).message).toBe(`${file}: compressed 1-bit segmentation frames (transfer syntax 1.2.840.10008.1.2.8.1) are not decoded: the codecs take frames of 8, 16 or 32 bits`);
    expect((await listSegments(file)).map((s) => [s.number, s.frames])).toEqual([
      [1, 3],
      [2, 1],
    ]);
  });
});
