/**
 * DICOM series whose pixel data is compressed, read as volumes and written back, with no shared
 * data: the series are built here from known stored values and compressed with the codec layer's
 * own lossless encoders (radanon's RLE, and JPEG-LS through dcmjs-codecs), the fragments laid out
 * as PS3.5 A.4 says. Every compressed series must read exactly as the same values stored natively.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDicom } from '../../../src/dicom/reader.js';
import { defaultRegistry, openPixelData, Syntax, type FrameEncoder, type StoredLayout } from '../../../src/pixels/codec/index.js';
import type { Frame } from '../../../src/pixels/types.js';
import { readDicomSeries } from '../../../src/volume/dicom-series.js';
import { writeDicomSeries } from '../../../src/volume/dicom-series-writer.js';
import { VolumeFormatError } from '../../../src/volume/errors.js';
import { seriesOf } from '../../../src/volume/source.js';
import { ctSlice, encapsulate, str, t, temporaryFolder, TS, writeDicom, type SliceSpec } from './builders.js';
import { tag } from '../../../src/dicom/tag.js';

const root = temporaryFolder('radanon-compressed-');
let folderCount = 0;
function folder(name: string): string {
  const dir = path.join(root, `${folderCount++}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const ROWS = 6;
const COLUMNS = 5;
const SLICES = 4;
const UID = '1.2.826.0.1.3680043.10.999.7';
const LossyImageCompression = tag(0x0028, 0x2110);

let rle: FrameEncoder;
let jpegLs: FrameEncoder;
beforeAll(async () => {
  rle = (await defaultRegistry.encoders(Syntax.RleLossless)).codecs[0]!;
  jpegLs = (await defaultRegistry.encoders(Syntax.JpegLsLossless)).codecs[0]!;
});

interface Bits {
  readonly bitsStored: number;
  readonly highBit: number;
  readonly signed: boolean;
}

/** Stored value of pixel p of slice k: distinct, spanning negative and positive for signed data. */
function storedValues(k: number, bits: Bits, top = 0): number[] {
  const lowest = bits.signed ? -(2 ** (bits.bitsStored - 1)) : 0;
  const highest = bits.signed ? 2 ** (bits.bitsStored - 1) - 1 : 2 ** bits.bitsStored - 1;
  return Array.from({ length: ROWS * COLUMNS }, (_, p) => {
    if (p === 0) return top || lowest + k;
    if (p === 1) return highest - k;
    return Math.max(lowest, Math.min(highest, (bits.signed ? -700 : 300) + 37 * p + 101 * k));
  });
}

/** The stored bits of a value in a 16-bit container: moved up to end at High Bit, as native data holds them. */
function containerSample(v: number, bits: Bits): number {
  const shift = bits.highBit + 1 - bits.bitsStored;
  if (shift === 0) return v;
  return ((v < 0 ? v + 2 ** bits.bitsStored : v) % 2 ** bits.bitsStored) * 2 ** shift;
}

interface SeriesSpec {
  readonly dir: string;
  /** Transfer syntax of slice k: native Explicit VR Little Endian, or a compressed one. */
  readonly syntax: (k: number) => string;
  readonly bits?: Bits;
  readonly values?: (k: number) => number[];
  readonly intercept?: number;
  readonly lossyAttribute?: (k: number) => boolean;
  /** Replaces a slice's codestream (to corrupt it). */
  readonly codestream?: (k: number, stream: Uint8Array) => Uint8Array;
}

/** Writes a series of SLICES axial slices, each in the syntax asked for. */
function writeSeries(spec: SeriesSpec): string[] {
  const bits = spec.bits ?? { bitsStored: 16, highBit: 15, signed: true };
  return Array.from({ length: SLICES }, (_, k) => {
    const values = spec.values?.(k) ?? storedValues(k, bits);
    const slice: SliceSpec = {
      sopInstanceUid: `${UID}.${k + 1}`,
      seriesInstanceUid: UID,
      position: [-20, 10, 5 + 3 * k],
      pixelSpacing: [0.8, 0.6],
      rows: ROWS,
      columns: COLUMNS,
      stored: values.map((v) => containerSample(v, bits)),
      bitsStored: bits.bitsStored,
      signed: bits.signed,
      slope: 1,
      intercept: spec.intercept ?? -1024,
      instanceNumber: k + 1,
    };
    const dataset = ctSlice(slice);
    // ctSlice puts High Bit at Bits Stored − 1; a shifted High Bit is set here.
    dataset.set(t.HighBit, { kind: 'value', tag: t.HighBit, vr: 'US', bytes: Uint8Array.of(bits.highBit, 0) });
    if (spec.lossyAttribute?.(k)) dataset.set(LossyImageCompression, str(LossyImageCompression, 'CS', '01'));
    const syntax = spec.syntax(k);
    if (syntax !== TS.explicitLittle) {
      const layout: StoredLayout = {
        rows: ROWS,
        columns: COLUMNS,
        samplesPerPixel: 1,
        bitsAllocated: 16,
        bitsStored: bits.bitsStored,
        highBit: bits.highBit,
        pixelRepresentation: bits.signed ? 1 : 0,
        photometric: 'MONOCHROME2',
        planarConfiguration: 0,
        frames: 1,
      };
      const samples = bits.signed ? Int16Array.from(values.map((v) => containerSample(v, bits))) : Uint16Array.from(values.map((v) => containerSample(v, bits)));
      const frame: Frame = { format: { ...layout, photometric: 'MONOCHROME2' }, data: samples };
      // A JPEG-LS lossless codestream is also a valid near-lossless one (NEAR = 0): filed under .81 it is a lossy file.
      const encoder = syntax === Syntax.RleLossless ? rle : jpegLs;
      const encodeAs = syntax === Syntax.JpegLsNearLossless ? Syntax.JpegLsLossless : syntax;
      const stream = encoder.encode(frame, layout, encodeAs);
      dataset.set(t.PixelData, { kind: 'encapsulated', tag: t.PixelData, vr: 'OB', bytes: encapsulate([spec.codestream?.(k, stream) ?? stream]) });
    }
    return writeDicom(path.join(spec.dir, `slice${k}.dcm`), dataset, syntax);
  });
}

function filesOf(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.dcm'))
    .sort()
    .map((n) => path.join(dir, n));
}

describe('readDicomSeries on compressed series', () => {
  it('reads RLE and JPEG-LS series exactly as the same values stored natively, and says the series was compressed losslessly', async () => {
    const native = await readDicomSeries(writeSeries({ dir: folder('native'), syntax: () => TS.explicitLittle }));
    for (const syntax of [Syntax.RleLossless, Syntax.JpegLsLossless]) {
      const volume = await readDicomSeries(writeSeries({ dir: folder(`s${syntax}`), syntax: () => syntax }));
      expect(volume.grid).toEqual(native.grid);
      // −32768 − 1024 does not fit 16 bits: both widen.
      expect(volume.data).toBeInstanceOf(Int32Array);
      expect(native.data).toBeInstanceOf(Int32Array);
      expect(Array.from(volume.data)).toEqual(Array.from(native.data));
      expect(seriesOf(volume.grid)!.encoding).toEqual({ transferSyntaxUids: [syntax], compressed: true, lossy: false });
    }
    expect(seriesOf(native.grid)!.encoding).toEqual({ transferSyntaxUids: [TS.explicitLittle], compressed: false, lossy: false });
    // The extremes of 16-bit signed storage, less the intercept, are in the volume.
    expect(native.data[0]).toBe(-32768 - 1024);
    expect(native.data[1]).toBe(32767 - 1024);
  });

  it('reads a series mixing native and compressed slices', async () => {
    const native = await readDicomSeries(writeSeries({ dir: folder('native-2'), syntax: () => TS.explicitLittle }));
    const mixed = await readDicomSeries(writeSeries({ dir: folder('mixed'), syntax: (k) => (k % 2 ? Syntax.RleLossless : TS.explicitLittle) }));
    expect(Array.from(mixed.data)).toEqual(Array.from(native.data));
    expect(seriesOf(mixed.grid)!.encoding.transferSyntaxUids).toEqual([TS.explicitLittle, Syntax.RleLossless]);
  });

  it('keeps Bits Stored of 12 bits ending at a High Bit of 13, and extends their sign, as natively', async () => {
    const bits: Bits = { bitsStored: 12, highBit: 13, signed: true };
    const native = await readDicomSeries(writeSeries({ dir: folder('hb-native'), syntax: () => TS.explicitLittle, bits }));
    const compressed = await readDicomSeries(writeSeries({ dir: folder('hb-rle'), syntax: () => Syntax.RleLossless, bits }));
    expect(Array.from(compressed.data)).toEqual(Array.from(native.data));
    expect(compressed.data[0]).toBe(-2048 - 1024);
    expect(compressed.data[1]).toBe(2047 - 1024);
  });

  it('widens the volume to Int32Array when a decoded value does not fit 16 bits, as natively', async () => {
    const bits: Bits = { bitsStored: 16, highBit: 15, signed: false };
    // Slice 2 holds 65535 − 1024 at its first pixel: beyond Int16 only there.
    const values = (k: number) => storedValues(k, bits, k === 2 ? 65535 : 0).map((v, p) => (p === 0 ? v : Math.min(v, 20000)));
    const native = await readDicomSeries(writeSeries({ dir: folder('wide-native'), syntax: () => TS.explicitLittle, bits, values }));
    const compressed = await readDicomSeries(writeSeries({ dir: folder('wide-rle'), syntax: () => Syntax.RleLossless, bits, values }));
    expect(native.data).toBeInstanceOf(Int32Array);
    expect(compressed.data).toBeInstanceOf(Int32Array);
    expect(Array.from(compressed.data)).toEqual(Array.from(native.data));
    expect(compressed.data[2 * ROWS * COLUMNS]).toBe(65535 - 1024);
    // Without the large value the same series stays Int16Array.
    const narrow = await readDicomSeries(writeSeries({ dir: folder('narrow-rle'), syntax: () => Syntax.RleLossless, bits, values: (k) => values(k).map((v) => Math.min(v, 20000)) }));
    expect(narrow.data).toBeInstanceOf(Int16Array);
    expect(narrow.data[2 * ROWS * COLUMNS]).toBe(20000 - 1024);
  });

  it('reads lossy series as decoded and says so: a lossy syntax, or Lossy Image Compression 01', async () => {
    const native = await readDicomSeries(writeSeries({ dir: folder('lossy-native'), syntax: () => TS.explicitLittle }));
    const nearLossless = await readDicomSeries(writeSeries({ dir: folder('jls-81'), syntax: () => Syntax.JpegLsNearLossless }));
    expect(Array.from(nearLossless.data)).toEqual(Array.from(native.data));
    expect(seriesOf(nearLossless.grid)!.encoding).toEqual({ transferSyntaxUids: [Syntax.JpegLsNearLossless], compressed: true, lossy: true });
    const once = await readDicomSeries(writeSeries({ dir: folder('lossy-once'), syntax: () => Syntax.RleLossless, lossyAttribute: (k) => k === 3 }));
    expect(seriesOf(once.grid)!.encoding.lossy).toBe(true);
    const nativeOnce = await readDicomSeries(writeSeries({ dir: folder('lossy-native-once'), syntax: () => TS.explicitLittle, lossyAttribute: (k) => k === 0 }));
    expect(seriesOf(nativeOnce.grid)!.encoding).toEqual({ transferSyntaxUids: [TS.explicitLittle], compressed: false, lossy: true });
  });

  it('names the file and the frame of a compressed frame that cannot be decoded', async () => {
    const dir = folder('corrupt');
    // Slice 1's RLE header announces 3 segments where 16-bit greyscale has 2.
    const files = writeSeries({ dir, syntax: () => Syntax.RleLossless, codestream: (k, s) => (k === 1 ? Uint8Array.from([3, ...s.subarray(1)]) : s) });
    const error = await readDicomSeries(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VolumeFormatError);
    expect((error as VolumeFormatError).file).toBe(files[1]);
    expect((error as Error).message).toBe(`${files[1]}: cannot decode frame 0 of the pixel data (1.2.840.10008.1.2.5, RLE Lossless): radanon RLE: the RLE header announces 3 segments where 2 are needed`);
  });
});

describe('writeDicomSeries on compressed series', () => {
  const options = { derivationDescription: 'test edit', uidSeed: 'compressed-test', uidKey: Buffer.alloc(32, 7) };

  it('re-encodes only the changed frames in the source syntax; the others keep their codestreams byte for byte', async () => {
    for (const syntax of [Syntax.RleLossless, Syntax.JpegLsLossless]) {
      const dir = folder(`write-src-${syntax}`);
      writeSeries({ dir, syntax: () => syntax, bits: { bitsStored: 12, highBit: 11, signed: true } });
      const source = await readDicomSeries(dir);
      // Slice 1 (the file slice1.dcm) gets air in its first row; the rest is kept.
      const edited = source.data.slice();
      for (let i = 0; i < COLUMNS; i++) edited[ROWS * COLUMNS + i] = -1000;
      const out = folder(`write-out-${syntax}`);
      const written = await writeDicomSeries({ grid: source.grid, data: edited }, source, out, options);
      expect(written.clampedVoxels).toBe(0);
      expect(written.files.map((f) => f.transferSyntaxUid)).toEqual([syntax, syntax, syntax, syntax]);
      const changed = written.files.filter((f) => f.note !== undefined);
      expect(changed.map((f) => path.basename(f.source))).toEqual(['slice1.dcm']);
      expect(changed[0]!.note).toMatch(/^1 of 1 frame\(s\) re-encoded losslessly in /);
      const back = await readDicomSeries(out);
      expect(back.grid).toEqual(source.grid);
      expect(Array.from(back.data)).toEqual(Array.from(edited));
      expect(seriesOf(back.grid)!.encoding).toEqual({ transferSyntaxUids: [syntax], compressed: true, lossy: false });
      for (const f of written.files) {
        const input = readDicom(readFileSync(f.source)).dataset.get(t.PixelData)!;
        const output = readDicom(readFileSync(path.join(out, f.output))).dataset.get(t.PixelData)!;
        expect(output.kind).toBe('encapsulated');
        if (input.kind === 'sequence' || output.kind === 'sequence') throw new Error('pixel data is not a sequence');
        expect(Buffer.compare(Buffer.from(output.bytes), Buffer.from(input.bytes)) === 0).toBe(f.note === undefined);
      }
    }
  });

  it('writes the edited frames of a 12-bit series whose High Bit is 13 back in the same bits', async () => {
    const bits: Bits = { bitsStored: 12, highBit: 13, signed: true };
    const dir = folder('write-hb');
    writeSeries({ dir, syntax: () => Syntax.RleLossless, bits });
    const source = await readDicomSeries(dir);
    const edited = source.data.slice();
    edited.fill(-1000, 0, COLUMNS);
    const out = folder('write-hb-out');
    const written = await writeDicomSeries({ grid: source.grid, data: edited }, source, out, options);
    expect(written.files.filter((f) => f.note !== undefined)).toHaveLength(1);
    const back = await readDicomSeries(out);
    expect(Array.from(back.data)).toEqual(Array.from(edited));
    // The RLE stream holds the stored bits moved up to High Bit, as native data does: −1000 + 1024 = 24 → 24 × 4.
    const changed = readDicom(readFileSync(path.join(out, written.files.find((f) => f.note)!.output)));
    const frame = (await openPixelData(changed))!.decodeFrame(0).data;
    expect(frame[0]).toBe(24 * 4);
  });

  it('clamps values the stored range cannot hold, and counts them', async () => {
    const dir = folder('write-clamp');
    writeSeries({ dir, syntax: () => Syntax.RleLossless, bits: { bitsStored: 12, highBit: 11, signed: true } });
    const source = await readDicomSeries(dir);
    const edited = source.data.slice();
    edited[5] = 5000; // stored 6024 > 2047
    edited[6] = -9000; // stored −7976 < −2048
    const out = folder('write-clamp-out');
    const written = await writeDicomSeries({ grid: source.grid, data: edited }, source, out, options);
    expect(written.clampedVoxels).toBe(2);
    const back = await readDicomSeries(out);
    expect([back.data[5], back.data[6]]).toEqual([2047 - 1024, -2048 - 1024]);
  });

  it('writes a lossy source with a changed frame decoded in Explicit VR Little Endian, Lossy Image Compression kept', async () => {
    const dir = folder('write-lossy');
    writeSeries({ dir, syntax: () => Syntax.JpegLsNearLossless });
    const source = await readDicomSeries(dir);
    const edited = source.data.slice();
    edited[0] = -1000;
    const out = folder('write-lossy-out');
    const written = await writeDicomSeries({ grid: source.grid, data: edited }, source, out, options);
    expect(written.files.map((f) => f.transferSyntaxUid)).toEqual([TS.explicitLittle, Syntax.JpegLsNearLossless, Syntax.JpegLsNearLossless, Syntax.JpegLsNearLossless]);
    expect(written.files[0]!.note).toMatch(/^lossy 1\.2\.840\.10008\.1\.2\.4\.81, JPEG-LS Near-Lossless pixel data written decoded in Explicit VR Little Endian/);
    const first = readDicom(readFileSync(path.join(out, written.files[0]!.output)));
    expect(first.transferSyntax.uid).toBe(TS.explicitLittle);
    expect(first.dataset.get(t.PixelData)!.kind).toBe('value');
    expect(Buffer.from((first.dataset.get(LossyImageCompression) as { bytes: Uint8Array }).bytes).toString('latin1').trim()).toBe('01');
    const back = await readDicomSeries(out);
    expect(Array.from(back.data)).toEqual(Array.from(edited));
    expect(seriesOf(back.grid)!.encoding).toEqual({ transferSyntaxUids: [TS.explicitLittle, Syntax.JpegLsNearLossless], compressed: true, lossy: true });
  });

  it('keeps native sources native', async () => {
    const dir = folder('write-native');
    writeSeries({ dir, syntax: () => TS.explicitLittle });
    const source = await readDicomSeries(dir);
    const out = folder('write-native-out');
    const written = await writeDicomSeries({ grid: source.grid, data: source.data }, source, out, options);
    expect(written.files.every((f) => f.transferSyntaxUid === TS.explicitLittle && f.note === undefined)).toBe(true);
    expect(filesOf(out)).toHaveLength(SLICES);
    expect(Array.from((await readDicomSeries(out)).data)).toEqual(Array.from(source.data));
  });
});
