import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { asciiValue, type Dataset } from '../../../src/dicom/dataset.js';
import { readDicom } from '../../../src/dicom/reader.js';
import { tag, Tags, type Tag } from '../../../src/dicom/tag.js';
import { readDicomSeries, type DicomSeriesVolume } from '../../../src/volume/dicom-series.js';
import { derivedUid, VOLUME_EDITING, writeDicomSeries } from '../../../src/volume/dicom-series-writer.js';

const KEY = Buffer.alloc(32, 7);
import { VolumeFormatError, VolumeGeometryError } from '../../../src/volume/errors.js';
import { gridDifference } from '../../../src/volume/geometry.js';
import type { Volume } from '../../../src/volume/volume.js';
import { binaryElement } from '../support/dicom.js';
import { ctSlice, decimals, ds, pixelBytes, seq, str, t, temporaryFolder, TS, us, writeDicom } from '../volume/builders.js';

const root = temporaryFolder('radanon-dicom-writer-');
let count = 0;
function folder(name: string): string {
  const dir = path.join(root, `${count++}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const ImageType = tag(0x0008, 0x0008);
const DerivationDescription = tag(0x0008, 0x2111);
const DerivationCodeSequence = tag(0x0008, 0x9215);
const SourceImageSequence = tag(0x0008, 0x2112);
const LargestImagePixelValue = tag(0x0028, 0x0107);
const FrameType = tag(0x0008, 0x9007);
const MRImageFrameTypeSequence = tag(0x0018, 0x9226);
const CodeValue = tag(0x0008, 0x0100);

const ROWS = 6;
const COLUMNS = 5;
const SLICES = 4;
const SERIES_UID = '1.2.826.0.1.3680043.10.999.77';
const storedAt = (i: number, j: number, k: number) => 10 + i + 7 * j + 50 * k;

interface ClassicSpec {
  readonly transferSyntax?: string;
  readonly bitsStored?: number;
  readonly signed?: boolean;
  /** Rescale slope of slice k (default 1). */
  readonly slope?: (k: number) => number;
  readonly intercept?: number;
}

/** A classic series of SLICES axial slices in a subfolder, files named out of slice order. */
function classicSeries(dir: string, spec: ClassicSpec = {}): string[] {
  const little = spec.transferSyntax !== TS.explicitBig;
  return [2, 0, 3, 1].map((k) => {
    const dataset = ctSlice({
      sopInstanceUid: `${SERIES_UID}.${k + 1}`,
      seriesInstanceUid: SERIES_UID,
      frameOfReferenceUid: `${SERIES_UID}.0`,
      position: [-20, -30, 40 + 3 * k],
      pixelSpacing: [0.8, 0.6],
      rows: ROWS,
      columns: COLUMNS,
      stored: Array.from({ length: ROWS * COLUMNS }, (_, p) => storedAt(p % COLUMNS, Math.floor(p / COLUMNS), k)),
      bitsStored: spec.bitsStored ?? 16,
      signed: spec.signed ?? true,
      slope: spec.slope?.(k) ?? 1,
      intercept: spec.intercept ?? -1024,
      little,
      instanceNumber: k + 1,
    });
    dataset.set(ImageType, str(ImageType, 'CS', 'ORIGINAL\\PRIMARY\\AXIAL'));
    dataset.set(LargestImagePixelValue, us(LargestImagePixelValue, 999, little));
    const sub = path.join(dir, 'sub');
    mkdirSync(sub, { recursive: true });
    return writeDicom(path.join(sub, `image-${(7 * k + 3) % 10}.dcm`), dataset, spec.transferSyntax ?? TS.explicitLittle);
  });
}

/** A copy of the volume with a block of voxels set to `value` (as defacing does). */
function edited(volume: Volume, value: number): Volume {
  const data = volume.data.slice();
  const [nx, ny] = volume.grid.dims;
  for (let k = 1; k < 3; k++) for (let j = 0; j < 3; j++) for (let i = 2; i < nx; i++) data[i + nx * (j + ny * k)] = value;
  return { grid: volume.grid, data };
}

function text(d: Dataset, tg: Tag): string | undefined {
  return asciiValue(d.get(tg));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

describe('writeDicomSeries on a classic single-frame series', () => {
  it('round-trips the values on the same grid, one file per source file, with new UIDs and the derivation recorded', async () => {
    const input = folder('in');
    const sources = classicSeries(input);
    const source = await readDicomSeries(input);
    const defaced = edited(source, -1024);
    const output = folder('out');
    const written = await writeDicomSeries(defaced, source, output, { derivationDescription: 'defaced by radanon test: face voxels set to background', uidSeed: 'test-a', uidKey: KEY });

    // One file per source file, under the same names (relative to the folder holding them all).
    const sub = path.join(input, 'sub');
    expect(written.files.map((f) => f.output).sort()).toEqual(sources.map((f) => path.relative(sub, f)).sort());
    expect(filesUnder(output)).toEqual(sources.map((f) => path.join(output, path.relative(sub, f))).sort());
    expect(written.clampedVoxels).toBe(0);

    const back = await readDicomSeries(output);
    expect(gridDifference(source.grid, back.grid)).toBeUndefined();
    expect(back.grid).toEqual(source.grid);
    expect(back.data).toBeInstanceOf(Int16Array);
    expect(Array.from(back.data)).toEqual(Array.from(defaced.data));
    // The edit is really in there: it differs from the original.
    expect(Array.from(back.data)).not.toEqual(Array.from(source.data));

    const originalSops = new Set(sources.map((f) => text(readDicom(readFileSync(f)).dataset, Tags.SOPInstanceUID)));
    const seriesUids = new Set<string>();
    const sops = new Set<string>();
    for (const f of written.files) {
      const file = readDicom(readFileSync(path.join(output, f.output)));
      const d = file.dataset;
      const sop = text(d, Tags.SOPInstanceUID)!;
      sops.add(sop);
      seriesUids.add(text(d, Tags.SeriesInstanceUID)!);
      expect(originalSops.has(sop)).toBe(false);
      expect(sop).toBe(f.sopInstanceUid);
      expect(text(file.meta, Tags.MediaStorageSOPInstanceUID)).toBe(sop);
      expect(file.transferSyntax.uid).toBe(TS.explicitLittle);
      expect(text(d, ImageType)).toBe('DERIVED\\PRIMARY\\AXIAL');
      expect(text(d, DerivationDescription)).toBe('defaced by radanon test: face voxels set to background');
      const code = d.get(DerivationCodeSequence);
      expect(code?.kind === 'sequence' && text(code.items[0]!, CodeValue)).toBe(VOLUME_EDITING.value);
      const sourceRef = d.get(SourceImageSequence);
      expect(sourceRef?.kind === 'sequence' && originalSops.has(text(sourceRef.items[0]!, t.ReferencedSOPInstanceUID))).toBe(true);
      expect(d.has(LargestImagePixelValue)).toBe(false);
      // The header otherwise is the source's: the Frame of Reference is the same.
      expect(text(d, t.FrameOfReferenceUID)).toBe(`${SERIES_UID}.0`);
    }
    expect(sops.size).toBe(SLICES);
    expect([...seriesUids]).toEqual([written.seriesInstanceUid]);
    expect(written.seriesInstanceUid).not.toBe(SERIES_UID);
    expect(written.seriesInstanceUid).toBe(derivedUid(KEY, 'test-a', SERIES_UID));
  });

  it('derives the same UIDs for the same seed and key, other UIDs for another seed or key', async () => {
    const input = folder('in');
    classicSeries(input);
    const source = await readDicomSeries(input);
    const a = await writeDicomSeries(source, source, folder('a'), { derivationDescription: 'x', uidSeed: 'seed-1', uidKey: KEY });
    const b = await writeDicomSeries(source, source, folder('b'), { derivationDescription: 'x', uidSeed: 'seed-1', uidKey: KEY });
    const c = await writeDicomSeries(source, source, folder('c'), { derivationDescription: 'x', uidSeed: 'seed-2', uidKey: KEY });
    // The UIDs are keyed: the same seed under another key gives other UIDs.
    const d = await writeDicomSeries(source, source, folder('d'), { derivationDescription: 'x', uidSeed: 'seed-1', uidKey: Buffer.alloc(32, 8) });
    expect(d.seriesInstanceUid).not.toBe(a.seriesInstanceUid);
    expect(b.seriesInstanceUid).toBe(a.seriesInstanceUid);
    expect(b.files.map((f) => f.sopInstanceUid)).toEqual(a.files.map((f) => f.sopInstanceUid));
    expect(c.seriesInstanceUid).not.toBe(a.seriesInstanceUid);
    expect(c.files.map((f) => f.sopInstanceUid).some((u) => a.files.some((f) => f.sopInstanceUid === u))).toBe(false);
    for (const u of [a.seriesInstanceUid, ...a.files.map((f) => f.sopInstanceUid)]) expect(u).toMatch(/^2\.25\.[1-9]\d{0,38}$/);
  });

  it('keeps big endian, 12 of 16 bits, unsigned values and a slope per slice; clamps what the stored range cannot hold', async () => {
    const input = folder('in');
    const slope = (k: number) => [1, 2, 0.5, 4][k]!;
    const sources = classicSeries(input, { transferSyntax: TS.explicitBig, bitsStored: 12, signed: false, slope, intercept: -1000 });
    const source = await readDicomSeries(input);
    // Background −1000 is stored value 0 in every slice; a value above the 12-bit range is clamped.
    const defaced = edited(source, -1000);
    const [nx, ny] = source.grid.dims;
    const data = defaced.data as Float32Array;
    data[0 + nx * (0 + ny * 3)] = 4095 * 4 - 1000 + 400; // slice 3 (slope 4): stored 4195 > 4095
    const output = folder('out');
    const written = await writeDicomSeries(defaced, source, output, { derivationDescription: 'x', uidSeed: 's', uidKey: KEY });
    expect(written.clampedVoxels).toBe(1);

    const back = await readDicomSeries(output);
    expect(back.grid).toEqual(source.grid);
    const expected = Array.from(data);
    expected[0 + nx * (0 + ny * 3)] = 4095 * 4 - 1000;
    expect(Array.from(back.data)).toEqual(expected);
    for (const f of written.files) {
      const file = readDicom(readFileSync(path.join(output, f.output)));
      expect(file.transferSyntax.uid).toBe(TS.explicitBig);
      const px = file.dataset.get(Tags.PixelData);
      expect(px?.kind).toBe('value');
      const bytes = (px as { bytes: Uint8Array }).bytes;
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      // Big endian, and the 4 bits above Bits Stored are zero.
      for (let n = 0; n < ROWS * COLUMNS; n++) expect(view.getUint16(2 * n, false) & 0xf000).toBe(0);
    }
    // The original files keep their stored values: the input is never touched.
    expect(sources.every((f) => readDicom(readFileSync(f)).dataset.get(t.SeriesInstanceUID))).toBe(true);
  });

  it('refuses a volume on another grid, and never overwrites a file', async () => {
    const input = folder('in');
    classicSeries(input);
    const source = await readDicomSeries(input);
    const shifted: Volume = { grid: { ...source.grid, origin: [0, 0, 0] }, data: source.data };
    await expect(writeDicomSeries(shifted, source, folder('x'), { derivationDescription: 'x', uidSeed: 's', uidKey: KEY })).rejects.toThrow(VolumeGeometryError);
    const output = folder('twice');
    await writeDicomSeries(source, source, output, { derivationDescription: 'x', uidSeed: 's', uidKey: KEY });
    const before = filesUnder(output).map((f) => readFileSync(f));
    await expect(writeDicomSeries(edited(source, 0), source, output, { derivationDescription: 'x', uidSeed: 's', uidKey: KEY })).rejects.toThrow(VolumeFormatError);
    expect(filesUnder(output).map((f) => readFileSync(f))).toEqual(before);
  });
});

describe('writeDicomSeries on an enhanced multi-frame image', () => {
  it('writes one file with every frame in its own place and rescale, and Frame Type DERIVED', async () => {
    const dir = folder('enhanced');
    const uid = '1.2.826.0.1.3680043.10.999.600';
    const order = [1, 3, 0, 2];
    const stored: number[] = [];
    const perFrame = order.map((k, f) => {
      for (let p = 0; p < ROWS * COLUMNS; p++) stored.push(storedAt(p % COLUMNS, Math.floor(p / COLUMNS), k));
      const item = [
        seq(t.PlanePositionSequence, [[decimals(t.ImagePositionPatient, [5, -7, -30 + 2 * k])]]),
        seq(MRImageFrameTypeSequence, [[str(FrameType, 'CS', 'ORIGINAL\\PRIMARY\\M\\NONE')]]),
      ];
      if (f === 2) item.push(seq(t.PixelValueTransformationSequence, [[decimals(t.RescaleSlope, [3]), decimals(t.RescaleIntercept, [5])]]));
      return item;
    });
    const file = writeDicom(
      path.join(dir, 'multiframe.dcm'),
      ds(
        str(t.SOPClassUID, 'UI', '1.2.840.10008.5.1.4.1.1.4.1'),
        str(t.SOPInstanceUID, 'UI', uid),
        str(t.Modality, 'CS', 'MR'),
        str(t.SeriesInstanceUID, 'UI', `${uid}.1`),
        str(ImageType, 'CS', 'ORIGINAL\\PRIMARY\\M\\NONE'),
        str(t.NumberOfFrames, 'IS', String(order.length)),
        us(t.SamplesPerPixel, 1),
        str(t.PhotometricInterpretation, 'CS', 'MONOCHROME2'),
        us(t.Rows, ROWS),
        us(t.Columns, COLUMNS),
        us(t.BitsAllocated, 16),
        us(t.BitsStored, 16),
        us(t.HighBit, 15),
        us(t.PixelRepresentation, 0),
        seq(t.SharedFunctionalGroupsSequence, [[
          seq(t.PlaneOrientationSequence, [[decimals(t.ImageOrientationPatient, [1, 0, 0, 0, 1, 0])]]),
          seq(t.PixelMeasuresSequence, [[decimals(t.PixelSpacing, [1, 1])]]),
          seq(t.PixelValueTransformationSequence, [[decimals(t.RescaleSlope, [1]), decimals(t.RescaleIntercept, [0])]]),
        ]]),
        seq(t.PerFrameFunctionalGroupsSequence, perFrame),
        binaryElement(t.PixelData, 'OW', pixelBytes(stored, 16, true)),
      ),
    );
    const source: DicomSeriesVolume = await readDicomSeries([file]);
    const defaced = edited(source, 5); // stored 0 under slope 3 / intercept 5, and 5 under slope 1
    const output = folder('out');
    const written = await writeDicomSeries(defaced, source, output, { derivationDescription: 'defaced', uidSeed: 's', uidKey: KEY });
    expect(written.files).toHaveLength(1);
    expect(written.files[0]!.frames).toBe(order.length);
    expect(written.files[0]!.output).toBe('multiframe.dcm');
    const back = await readDicomSeries([path.join(output, 'multiframe.dcm')]);
    expect(back.grid).toEqual(source.grid);
    expect(Array.from(back.data)).toEqual(Array.from(defaced.data));
    const d = readDicom(readFileSync(path.join(output, 'multiframe.dcm'))).dataset;
    expect(text(d, ImageType)).toBe('DERIVED\\PRIMARY\\M\\NONE');
    const perFrameOut = d.get(t.PerFrameFunctionalGroupsSequence);
    expect(perFrameOut?.kind).toBe('sequence');
    for (const item of (perFrameOut as { items: Dataset[] }).items) {
      const frameType = item.get(MRImageFrameTypeSequence);
      expect(frameType?.kind === 'sequence' && text(frameType.items[0]!, FrameType)).toBe('DERIVED\\PRIMARY\\M\\NONE');
    }
  });
});
