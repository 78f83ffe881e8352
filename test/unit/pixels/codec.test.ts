/**
 * The pixel codec layer on datasets built here: native layouts (byte orders, alignment, planar,
 * 4:2:2, unused bits), encapsulated item lists (offset tables, grouping without them), the RLE
 * codec, the WASM codecs through the registry, frame replacement and its rules, display images.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { encodeAscii, transferSyntaxOf, type Dataset, type DicomFile, type Element } from '../../../src/dicom/dataset.js';
import { readDicom } from '../../../src/dicom/reader.js';
import { Tags, type Tag } from '../../../src/dicom/tag.js';
import { encodeDicomToBuffer } from '../../../src/dicom/writer.js';
import { CodecRegistry, defaultRegistry, displayImage, openPixelData, PixelDecodeError, PixelEncodeError, replaceFrames, Syntax, type CodecPlugin } from '../../../src/pixels/codec/index.js';
import { buildItems, EncapsulationProblem, frameFragments, parseItems, type FrameItems } from '../../../src/pixels/codec/encapsulated.js';
import { j2kWavelet } from '../../../src/pixels/codec/j2k.js';
import { PixelTags } from '../../../src/pixels/codec/layout.js';
import { decodeRle, encodeRle, RleProblem } from '../../../src/pixels/codec/rle.js';
import type { Frame, PixelFormat, Samples } from '../../../src/pixels/types.js';

// ---------------------------------------------------------------------------------------------
// Building files in memory

interface ImageSpec {
  rows: number;
  columns: number;
  samples?: 1 | 3;
  bitsAllocated: 8 | 16 | 32;
  bitsStored?: number;
  highBit?: number;
  signed?: boolean;
  photometric?: string;
  planar?: 0 | 1;
  frames?: number;
  syntax?: string;
  /** Native value bytes (as stored, in the syntax's byte order) or an encapsulated item list. */
  pixels: Uint8Array;
  encapsulated?: boolean;
  vr?: 'OB' | 'OW';
  extra?: Element[];
}

function us(t: number, v: number, little = true): Element {
  return { kind: 'value', tag: t as Tag, vr: 'US', bytes: little ? Uint8Array.of(v & 0xff, v >> 8) : Uint8Array.of(v >> 8, v & 0xff) };
}
function cs(t: number, text: string, vr: 'CS' | 'IS' | 'DS' | 'UI' = 'CS'): Element {
  return { kind: 'value', tag: t as Tag, vr, bytes: encodeAscii(text, vr === 'UI' ? 0 : 0x20) };
}

function makeFile(spec: ImageSpec): DicomFile {
  const syntax = spec.syntax ?? Syntax.ExplicitVRLittleEndian;
  const ts = transferSyntaxOf(syntax);
  const little = ts.littleEndian;
  const bitsStored = spec.bitsStored ?? spec.bitsAllocated;
  const elements: Element[] = [
    cs(0x00080016, '1.2.840.10008.5.1.4.1.1.7', 'UI'),
    cs(0x00080018, '2.25.1234', 'UI'),
    us(PixelTags.SamplesPerPixel, spec.samples ?? 1, little),
    cs(PixelTags.PhotometricInterpretation, spec.photometric ?? ((spec.samples ?? 1) === 3 ? 'RGB' : 'MONOCHROME2')),
    us(PixelTags.Rows, spec.rows, little),
    us(PixelTags.Columns, spec.columns, little),
    us(PixelTags.BitsAllocated, spec.bitsAllocated, little),
    us(PixelTags.BitsStored, bitsStored, little),
    us(PixelTags.HighBit, spec.highBit ?? bitsStored - 1, little),
    us(PixelTags.PixelRepresentation, spec.signed ? 1 : 0, little),
    ...(spec.samples === 3 ? [us(PixelTags.PlanarConfiguration, spec.planar ?? 0, little)] : []),
    ...(spec.frames !== undefined ? [cs(PixelTags.NumberOfFrames, String(spec.frames), 'IS')] : []),
    ...(spec.extra ?? []),
    spec.encapsulated
      ? { kind: 'encapsulated', tag: Tags.PixelData, vr: 'OB', bytes: spec.pixels }
      : { kind: 'value', tag: Tags.PixelData, vr: spec.vr ?? (spec.bitsAllocated === 8 ? 'OB' : 'OW'), bytes: spec.pixels },
  ];
  const meta: Dataset = new Map([[Tags.TransferSyntaxUID, cs(Tags.TransferSyntaxUID, syntax, 'UI')]]);
  return { meta, dataset: new Map(elements.map((e) => [e.tag, e])), transferSyntax: ts, layout: { preamble: true, fileMeta: true, inferredTransferSyntax: false } };
}

/** Writes and re-reads a file, as the pipeline would. */
function reread(file: DicomFile): DicomFile {
  return readDicom(encodeDicomToBuffer(file));
}

function le16(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const v = new DataView(out.buffer);
  values.forEach((n, i) => v.setUint16(2 * i, n & 0xffff, true));
  return out;
}
function be16(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const v = new DataView(out.buffer);
  values.forEach((n, i) => v.setUint16(2 * i, n & 0xffff, false));
  return out;
}

function format(f: Partial<PixelFormat> & Pick<PixelFormat, 'rows' | 'columns' | 'bitsAllocated'>): PixelFormat {
  return { samplesPerPixel: 1, bitsStored: f.bitsAllocated, highBit: f.bitsAllocated - 1, pixelRepresentation: 0, photometric: 'MONOCHROME2', ...f };
}

/** A deterministic test image: gradients, flat runs and noise, so codecs meet runs and literals. */
function pattern(count: number, max: number, seed = 7): number[] {
  let s = seed;
  return Array.from({ length: count }, (_, i) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    if (i % 17 < 6) return 3 % (max + 1);
    return i % 5 === 0 ? s % (max + 1) : (i * 37) % (max + 1);
  });
}

// ---------------------------------------------------------------------------------------------

describe('native pixel data', () => {
  it('returns an aligned little-endian frame as a view on the file bytes, signed as stated', async () => {
    const values = [-1000, 0, 1, 3071, -2048, 500];
    const file = makeFile({ rows: 2, columns: 3, bitsAllocated: 16, signed: true, pixels: le16(values) });
    const px = (await openPixelData(file))!;
    expect(px.format).toMatchObject({ rows: 2, columns: 3, bitsAllocated: 16, pixelRepresentation: 1, photometric: 'MONOCHROME2' });
    expect(px.lossy).toBe(false);
    const frame = px.decodeFrame(0);
    expect(frame.data).toBeInstanceOf(Int16Array);
    expect([...frame.data]).toEqual(values);
    const el = file.dataset.get(Tags.PixelData) as { bytes: Uint8Array };
    expect(frame.data.buffer).toBe(el.bytes.buffer);
    const own = px.decodeFrame(0, { writable: true });
    expect(own.data.buffer).not.toBe(el.bytes.buffer);
    own.data[0] = 7;
    expect(px.decodeFrame(0).data[0]).toBe(-1000);
  });

  it('copies an unaligned frame once and swaps big-endian samples', async () => {
    const values = [1, 256, 4095, 77];
    const padded = new Uint8Array(9);
    padded.set(le16(values), 1);
    const unaligned = makeFile({ rows: 2, columns: 2, bitsAllocated: 16, pixels: padded.subarray(1) });
    const a = (await openPixelData(unaligned))!.decodeFrame(0);
    expect([...a.data]).toEqual(values);
    expect(a.data.byteOffset % 2).toBe(0);
    const big = makeFile({ rows: 2, columns: 2, bitsAllocated: 16, syntax: Syntax.ExplicitVRBigEndian, pixels: be16(values) });
    expect([...(await openPixelData(big))!.decodeFrame(0).data]).toEqual(values);
  });

  it('never writes into the bytes of a file read from a Node Buffer, whose slice() is a view and not a copy', async () => {
    const values = [100, -200, 300, -400];
    const file = reread(makeFile({ rows: 2, columns: 2, bitsAllocated: 16, signed: true, pixels: le16(values) }));
    const el = file.dataset.get(Tags.PixelData) as { bytes: Uint8Array };
    expect(Buffer.isBuffer(el.bytes)).toBe(true);
    const before = Uint8Array.from(el.bytes);
    const px = (await openPixelData(file))!;
    const out = await replaceFrames(file, new Map([[0, { format: px.format, data: Int16Array.of(1, 2, 3, 4) }]]));
    expect([...el.bytes]).toEqual([...before]);
    expect([...px.decodeFrame(0).data]).toEqual(values);
    expect([...(await openPixelData(reread(out.file)))!.decodeFrame(0).data]).toEqual([1, 2, 3, 4]);

    // A frame at an odd offset of a Buffer is copied into aligned memory, not viewed at the same offset.
    const buffer = Buffer.alloc(9);
    buffer.set(le16(values), 1);
    const unaligned = makeFile({ rows: 2, columns: 2, bitsAllocated: 16, signed: true, pixels: buffer.subarray(1) });
    const frame = (await openPixelData(unaligned))!.decodeFrame(0);
    expect([...frame.data]).toEqual(values);
    expect(frame.data.buffer).not.toBe(buffer.buffer);
  });

  it('unswaps 8-bit samples held in OW of a big-endian data set, frame by frame', async () => {
    const values = [10, 20, 30, 40, 50, 60]; // 3 frames of 1×2
    const swapped = Uint8Array.from(values.map((_, i) => values[i ^ 1]!));
    const file = makeFile({ rows: 1, columns: 2, bitsAllocated: 8, frames: 3, syntax: Syntax.ExplicitVRBigEndian, vr: 'OW', pixels: swapped });
    const px = (await openPixelData(file))!;
    expect([0, 1, 2].map((i) => [...px.decodeFrame(i).data])).toEqual([[10, 20], [30, 40], [50, 60]]);
    const out = await replaceFrames(file, new Map([[1, { format: px.format, data: Uint8Array.of(31, 41) }]]));
    const again = (await openPixelData(reread(out.file)))!;
    expect([0, 1, 2].map((i) => [...again.decodeFrame(i).data])).toEqual([[10, 20], [31, 41], [50, 60]]);
  });

  it('keeps only Bits Stored bits ending at High Bit, sign-extended', async () => {
    // 12 bits stored at bits 2..13, with an overlay bit (15) set in one value.
    const stored = [5 << 2, (4095 << 2) | 0x8000, 2048 << 2];
    const shifted = makeFile({ rows: 1, columns: 3, bitsAllocated: 16, bitsStored: 12, highBit: 13, pixels: le16(stored) });
    expect([...(await openPixelData(shifted))!.decodeFrame(0).data]).toEqual([5, 4095, 2048]);
    // Signed 12-bit values written without sign extension, and an overlay in bit 12.
    const raw = [0x0fff, 0x0800, 0x07ff, 0x1001];
    const signed = makeFile({ rows: 2, columns: 2, bitsAllocated: 16, bitsStored: 12, signed: true, pixels: le16(raw) });
    expect([...(await openPixelData(signed))!.decodeFrame(0).data]).toEqual([-1, -2048, 2047, 1]);
    // Clean values stay a view.
    const clean = makeFile({ rows: 1, columns: 2, bitsAllocated: 16, bitsStored: 12, pixels: le16([1, 4095]) });
    const frame = (await openPixelData(clean))!.decodeFrame(0);
    expect(frame.data.buffer).toBe((clean.dataset.get(Tags.PixelData) as { bytes: Uint8Array }).bytes.buffer);
  });

  it('interleaves planar colour and writes it back planar, other frames untouched', async () => {
    // Two 1×2 RGB frames, planar: RR GG BB per frame.
    const planar = Uint8Array.of(1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16);
    const file = makeFile({ rows: 1, columns: 2, samples: 3, planar: 1, bitsAllocated: 8, frames: 2, pixels: planar });
    const px = (await openPixelData(file))!;
    expect([...px.decodeFrame(0).data]).toEqual([1, 3, 5, 2, 4, 6]);
    const out = await replaceFrames(file, new Map([[1, { format: px.format, data: Uint8Array.of(21, 23, 25, 22, 24, 26) }]]));
    expect(out.encoding).toBe('same-syntax');
    const bytes = (reread(out.file).dataset.get(Tags.PixelData) as { bytes: Uint8Array }).bytes;
    expect([...bytes]).toEqual([1, 2, 3, 4, 5, 6, 21, 22, 23, 24, 25, 26]);
    expect([...planar]).toEqual([1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16]);
  });

  it('decodes YBR_FULL_422 to full resolution and writes 4:2:2 back', async () => {
    // One row of 4 pixels: Y1 Y2 Cb Cr | Y3 Y4 Cb Cr.
    const stored = Uint8Array.of(10, 20, 100, 200, 30, 40, 110, 210);
    const file = makeFile({ rows: 1, columns: 4, samples: 3, bitsAllocated: 8, photometric: 'YBR_FULL_422', pixels: stored });
    const px = (await openPixelData(file))!;
    expect(px.format.photometric).toBe('YBR_FULL');
    const frame = px.decodeFrame(0);
    expect([...frame.data]).toEqual([10, 100, 200, 20, 100, 200, 30, 110, 210, 40, 110, 210]);
    const changed = Uint8Array.from(frame.data);
    changed[0] = 99; // luma of pixel 0
    changed[7] = 120; // Cb of pixel 2 (pair 2 becomes 120/110 → mean 115)
    const out = await replaceFrames(file, new Map([[0, { format: px.format, data: changed }]]));
    expect(out.note).toMatch(/YBR_FULL_422/);
    expect([...(out.file.dataset.get(Tags.PixelData) as { bytes: Uint8Array }).bytes]).toEqual([99, 20, 100, 200, 30, 40, 115, 210]);
  });

  it('fails a file whose pixel data is short, naming the syntax; refuses frames that do not fit', async () => {
    const short = makeFile({ rows: 4, columns: 4, bitsAllocated: 16, frames: 2, pixels: new Uint8Array(40) });
    await expect(openPixelData(short)).rejects.toThrow(PixelDecodeError);
    await expect(openPixelData(short)).rejects.toThrow(/1\.2\.840\.10008\.1\.2\.1, Explicit VR Little Endian.*holds 40 bytes/);
    const ok = makeFile({ rows: 1, columns: 2, bitsAllocated: 16, pixels: le16([1, 2]) });
    const px = (await openPixelData(ok))!;
    expect(() => px.decodeFrame(1)).toThrow(/there is no frame 1/);
    await expect(replaceFrames(ok, new Map([[0, { format: px.format, data: Int16Array.of(1, 2) }]]))).rejects.toThrow(/Int16Array, not a Uint16Array/);
    await expect(replaceFrames(ok, new Map([[0, { format: { ...px.format, rows: 2 }, data: Uint16Array.of(1, 2) }]]))).rejects.toThrow(PixelEncodeError);
    await expect(replaceFrames(ok, new Map([[3, { format: px.format, data: Uint16Array.of(1, 2) }]]))).rejects.toThrow(/no frame 3/);
    const noRows = makeFile({ rows: 1, columns: 2, bitsAllocated: 16, pixels: le16([1, 2]) });
    (noRows.dataset as Map<Tag, Element>).delete(PixelTags.Rows as Tag);
    await expect(openPixelData(noRows)).rejects.toThrow(/Rows is missing/);
  });

  it('returns undefined without Pixel Data and the same file when nothing is replaced', async () => {
    const file = makeFile({ rows: 1, columns: 1, bitsAllocated: 8, pixels: Uint8Array.of(1, 0) });
    (file.dataset as Map<Tag, Element>).delete(Tags.PixelData);
    expect(await openPixelData(file)).toBeUndefined();
    const withPixels = makeFile({ rows: 1, columns: 2, bitsAllocated: 8, pixels: Uint8Array.of(1, 2) });
    const out = await replaceFrames(withPixels, new Map());
    expect(out).toEqual({ file: withPixels, encoding: 'unchanged' });
  });
});

// ---------------------------------------------------------------------------------------------

describe('RLE Lossless', () => {
  it.each([
    ['8-bit grey', format({ rows: 7, columns: 300, bitsAllocated: 8 }), 255],
    ['16-bit signed', format({ rows: 5, columns: 33, bitsAllocated: 16, pixelRepresentation: 1 }), 65535],
    ['8-bit RGB', format({ rows: 4, columns: 129, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'RGB' }), 255],
    ['32-bit', format({ rows: 3, columns: 9, bitsAllocated: 32 }), 2 ** 31],
  ] as const)('round-trips %s exactly, with even segments', (_name, f, max) => {
    const n = f.rows * f.columns * f.samplesPerPixel;
    const values = pattern(n, max);
    const data: Samples = f.bitsAllocated === 8 ? Uint8Array.from(values) : f.bitsAllocated === 16 ? Int16Array.from(values) : Uint32Array.from(values);
    const stream = encodeRle(data, f);
    expect(stream.length % 2).toBe(0);
    const header = new DataView(stream.buffer);
    expect(header.getUint32(0, true)).toBe(f.samplesPerPixel * (f.bitsAllocated / 8));
    for (let s = 0; s < header.getUint32(0, true); s++) expect(header.getUint32(4 + 4 * s, true) % 2).toBe(0);
    expect([...decodeRle(stream, f)]).toEqual([...data]);
  });

  it('rejects a header that does not match the image, and short segments', () => {
    const f = format({ rows: 2, columns: 2, bitsAllocated: 16 });
    const stream = encodeRle(Uint16Array.of(1, 2, 3, 4), f);
    expect(() => decodeRle(stream, format({ rows: 2, columns: 2, bitsAllocated: 8 }))).toThrow(/announces 2 segments where 1 are needed/);
    expect(() => decodeRle(stream, format({ rows: 4, columns: 2, bitsAllocated: 16 }))).toThrow(RleProblem);
    expect(() => decodeRle(stream.subarray(0, 10), f)).toThrow(/shorter than its 64-byte header/);
  });
});

// ---------------------------------------------------------------------------------------------

function rleFile(frames: Uint16Array[], f: PixelFormat, offsetTable: boolean, extended = false): DicomFile {
  const built = buildItems(frames.map((d) => ({ kind: 'new', codestream: encodeRle(d, f) }) satisfies FrameItems), offsetTable);
  const extra: Element[] = [];
  if (extended) {
    const ov = (values: readonly number[]) => {
      const out = new Uint8Array(8 * values.length);
      values.forEach((v, i) => new DataView(out.buffer).setBigUint64(8 * i, BigInt(v), true));
      return out;
    };
    extra.push({ kind: 'value', tag: PixelTags.ExtendedOffsetTable as Tag, vr: 'OV', bytes: ov(built.offsets) });
    extra.push({ kind: 'value', tag: PixelTags.ExtendedOffsetTableLengths as Tag, vr: 'OV', bytes: ov(built.lengths.map((n) => n - 8)) });
  }
  return makeFile({ rows: f.rows, columns: f.columns, bitsAllocated: 16, frames: frames.length, syntax: Syntax.RleLossless, encapsulated: true, pixels: built.bytes, extra });
}

describe('encapsulated pixel data', () => {
  const f = format({ rows: 16, columns: 16, bitsAllocated: 16 });
  const frames = [0, 1, 2].map((k) => Uint16Array.from(pattern(256, 4095, k + 3)));

  it.each([
    ['a Basic Offset Table', true, false],
    ['no offset table (one fragment per frame)', false, false],
    ['an Extended Offset Table', false, true],
  ] as const)('replaces one frame of a multi-frame file with %s, keeping the other fragments byte for byte', async (_name, bot, eot) => {
    const file = rleFile(frames, f, bot, eot);
    const original = Uint8Array.from((file.dataset.get(Tags.PixelData) as { bytes: Uint8Array }).bytes);
    const px = (await openPixelData(file))!;
    expect(px.frameCount).toBe(3);
    expect(px.lossy).toBe(false);
    frames.forEach((d, i) => expect([...px.decodeFrame(i).data]).toEqual([...d]));
    const changed = Uint16Array.from(frames[1]!, (v, i) => (i < 40 ? 0 : v));
    const out = await replaceFrames(file, new Map([[1, { format: px.format, data: changed }]]));
    expect(out.encoding).toBe('same-syntax');
    expect(out.note).toMatch(/1 of 3 frame\(s\) re-encoded losslessly.*radanon RLE/);
    const back = reread(out.file);
    const items = parseItems((back.dataset.get(Tags.PixelData) as { bytes: Uint8Array }).bytes);
    const before = parseItems(original);
    expect(Buffer.from(items.fragments[0]!.item).equals(Buffer.from(before.fragments[0]!.item))).toBe(true);
    expect(Buffer.from(items.fragments[2]!.item).equals(Buffer.from(before.fragments[2]!.item))).toBe(true);
    if (bot) expect(items.basicOffsets).toEqual(items.fragments.map((x) => x.offset));
    else expect(items.basicOffsets).toEqual([]);
    const again = (await openPixelData(back))!;
    expect([...again.decodeFrame(1).data]).toEqual([...changed]);
    expect([...again.decodeFrame(2).data]).toEqual([...frames[2]!]);
    if (eot) {
      const table = back.dataset.get(PixelTags.ExtendedOffsetTable as Tag) as { bytes: Uint8Array };
      const offsets = [0, 1, 2].map((i) => Number(new DataView(table.bytes.buffer, table.bytes.byteOffset).getBigUint64(8 * i, true)));
      expect(offsets).toEqual(items.fragments.map((x) => x.offset));
    }
    // The input's bytes were not touched.
    expect(Buffer.from((file.dataset.get(Tags.PixelData) as { bytes: Uint8Array }).bytes).equals(Buffer.from(original))).toBe(true);
  });

  it('groups several fragments per frame by codestream start markers when there is no offset table', () => {
    const jpeg = (n: number) => Uint8Array.of(0xff, 0xd8, n, n);
    const tail = (n: number) => Uint8Array.of(n, n, 0xff, 0xd9);
    const built = buildItems([{ kind: 'kept', items: [] }], false);
    expect(built.bytes.length).toBe(16); // empty table + delimiter only
    const item = (b: Uint8Array) => {
      const out = new Uint8Array(8 + b.length);
      const v = new DataView(out.buffer);
      v.setUint16(0, 0xfffe, true);
      v.setUint16(2, 0xe000, true);
      v.setUint32(4, b.length, true);
      out.set(b, 8);
      return out;
    };
    const list = Buffer.concat([item(new Uint8Array(0)), item(jpeg(1)), item(tail(1)), item(tail(1)), item(jpeg(2)), item(tail(2)), Uint8Array.of(0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0)]);
    const items = parseItems(list);
    expect(frameFragments(items, 2, 'jpeg')).toEqual([[0, 1, 2], [3, 4]]);
    expect(() => frameFragments(items, 3, 'jpeg')).toThrow(/2 codestreams found in 5 fragments for 3 frames/);
    expect(() => frameFragments(items, 2, 'any')).toThrow(EncapsulationProblem);
    expect(frameFragments(items, 1, 'jpeg')).toEqual([[0, 1, 2, 3, 4]]);
  });

  it('fails a broken item list or a frame that does not decode, naming syntax and frame', async () => {
    const file = rleFile(frames, f, true);
    const bytes = Uint8Array.from((file.dataset.get(Tags.PixelData) as { bytes: Uint8Array }).bytes);
    const cut = makeFile({ rows: 16, columns: 16, bitsAllocated: 16, frames: 3, syntax: Syntax.RleLossless, encapsulated: true, pixels: bytes.subarray(0, 40) });
    await expect(openPixelData(cut)).rejects.toThrow(/RLE Lossless.*past the end|RLE Lossless.*truncated/);
    // Corrupt frame 2's segment offset.
    const items = parseItems(bytes);
    const at = items.offsetTableItem.length + items.fragments[2]!.offset + 8 + 4;
    bytes[at] = 0xff;
    bytes[at + 1] = 0xff;
    const corrupt = makeFile({ rows: 16, columns: 16, bitsAllocated: 16, frames: 3, syntax: Syntax.RleLossless, encapsulated: true, pixels: bytes });
    const px = (await openPixelData(corrupt))!;
    expect(() => px.decodeFrame(0)).not.toThrow();
    expect(() => px.decodeFrame(2)).toThrow(/cannot decode frame 2 of the pixel data \(1\.2\.840\.10008\.1\.2\.5, RLE Lossless\): radanon RLE: segment 0 has invalid offsets/);
  });
});

// ---------------------------------------------------------------------------------------------

describe('the WASM codecs through the registry', () => {
  async function encodedFile(syntax: string, f: PixelFormat, data: Samples[]): Promise<DicomFile> {
    const { codecs } = await defaultRegistry.encoders(syntax);
    const encoder = codecs[0]!;
    const layout = { ...f, photometric: f.photometric as string, planarConfiguration: 0 as const, frames: data.length };
    const built = buildItems(data.map((d) => ({ kind: 'new', codestream: encoder.encode({ format: f, data: d }, layout, syntax) }) satisfies FrameItems), true);
    return makeFile({ rows: f.rows, columns: f.columns, bitsAllocated: f.bitsAllocated, bitsStored: f.bitsStored, signed: f.pixelRepresentation === 1, samples: f.samplesPerPixel, frames: data.length, syntax, encapsulated: true, pixels: built.bytes });
  }

  it.each([
    [Syntax.JpegLosslessSV1, 'JPEG Lossless SV1'],
    [Syntax.JpegLsLossless, 'JPEG-LS Lossless'],
    [Syntax.Jpeg2000Lossless, 'JPEG 2000 Lossless'],
    [Syntax.HtJpeg2000Lossless, 'HTJ2K Lossless'],
  ] as [string, string][])('%s (%s): 12-bit signed frames round-trip exactly; one replaced frame leaves the other untouched', async (syntax) => {
    const f = format({ rows: 32, columns: 24, bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 1 });
    const frames = [1, 2].map((k) => Int16Array.from(pattern(32 * 24, 4095, k), (v) => v - 2048));
    const file = await encodedFile(syntax, f, frames);
    const px = (await openPixelData(file))!;
    expect(px.lossy).toBe(false);
    frames.forEach((d, i) => expect([...px.decodeFrame(i).data]).toEqual([...d]));
    const changed = Int16Array.from(frames[0]!, (v, i) => (i % 24 < 5 ? -2048 : v));
    const before = parseItems((file.dataset.get(Tags.PixelData) as { bytes: Uint8Array }).bytes);
    const out = await replaceFrames(file, new Map([[0, { format: px.format, data: changed }]]));
    const back = reread(out.file);
    const after = parseItems((back.dataset.get(Tags.PixelData) as { bytes: Uint8Array }).bytes);
    expect(Buffer.from(after.fragments[1]!.bytes).equals(Buffer.from(before.fragments[1]!.bytes))).toBe(true);
    expect(after.basicOffsets).toEqual([0, after.fragments[1]!.offset]);
    const again = (await openPixelData(back))!;
    expect([...again.decodeFrame(0).data]).toEqual([...changed]);
  });

  it('writes a lossy JPEG decoded in Explicit VR Little Endian, converted to RGB, with the Lossy attributes', async () => {
    const require = createRequire(import.meta.url);
    const { NativeCodecs, Context } = require('dcmjs-codecs') as {
      NativeCodecs: { encodeJpeg(c: unknown, p: Record<string, unknown>): { getEncodedBuffer(): Uint8Array } };
      Context: new (a: Record<string, unknown>) => unknown;
    };
    await defaultRegistry.decoders(Syntax.JpegBaseline); // initialises the module once
    const rgb = Uint8Array.from(pattern(16 * 16 * 3, 255));
    const stream = NativeCodecs.encodeJpeg(
      new Context({ width: 16, height: 16, bitsAllocated: 8, bitsStored: 8, samplesPerPixel: 3, pixelRepresentation: 0, planarConfiguration: 0, photometricInterpretation: 'RGB', decodedBuffer: rgb }),
      { lossy: true, quality: 90, sampleFactor: 1 },
    ).getEncodedBuffer();
    const built = buildItems([{ kind: 'new', codestream: stream }], false);
    const file = makeFile({
      rows: 16,
      columns: 16,
      samples: 3,
      bitsAllocated: 8,
      photometric: 'YBR_FULL_422',
      syntax: Syntax.JpegBaseline,
      encapsulated: true,
      pixels: built.bytes,
      extra: [cs(PixelTags.LossyImageCompressionRatio, '9.5', 'DS')],
    });
    const px = (await openPixelData(file))!;
    expect(px.lossy).toBe(true);
    expect(px.format.photometric).toBe('RGB');
    const decoded = px.decodeFrame(0);
    const near = [...decoded.data].filter((v, i) => Math.abs(v - rgb[i]!) <= 64).length;
    expect(near / rgb.length).toBeGreaterThan(0.8);
    const changed = Uint8Array.from(decoded.data, (v, i) => (i < 48 ? 0 : v));
    const out = await replaceFrames(file, new Map([[0, { format: px.format, data: changed }]]));
    expect(out.encoding).toBe('explicit-little-endian');
    expect(out.note).toMatch(/lossy 1\.2\.840\.10008\.1\.2\.4\.50, JPEG Baseline pixel data written decoded in Explicit VR Little Endian.*Photometric Interpretation now RGB/);
    const back = reread(out.file);
    expect(back.transferSyntax.uid).toBe(Syntax.ExplicitVRLittleEndian);
    const text = (t: number) => new TextDecoder().decode((back.dataset.get(t as Tag) as { bytes: Uint8Array }).bytes).trim();
    expect(text(PixelTags.LossyImageCompression)).toBe('01');
    expect(text(PixelTags.LossyImageCompressionRatio)).toBe('9.5');
    expect(text(PixelTags.LossyImageCompressionMethod)).toBe('ISO_10918_1');
    expect(text(PixelTags.PhotometricInterpretation)).toBe('RGB');
    expect([...(await openPixelData(back))!.decodeFrame(0).data]).toEqual([...changed]);
  });
});

describe('the registry', () => {
  it('loads a plug-in once, tries decoders in order and gathers every failure into one error', async () => {
    let loads = 0;
    const broken: CodecPlugin = { name: 'broken', decodes: [Syntax.RleLossless], encodes: [], load: async () => Promise.reject(new Error('module missing')) };
    const throwing: CodecPlugin = {
      name: 'throwing',
      decodes: [Syntax.RleLossless],
      encodes: [],
      load: async () => {
        loads++;
        return { decoder: { name: 'throwing', decode: () => { throw new Error('bad stream'); } } };
      },
    };
    const registry = new CodecRegistry([broken, throwing]);
    const f = format({ rows: 2, columns: 2, bitsAllocated: 16 });
    const file = rleFile([Uint16Array.of(1, 2, 3, 4)], f, false);
    const px = (await openPixelData(file, { registry }))!;
    await openPixelData(file, { registry });
    expect(loads).toBe(1);
    expect(() => px.decodeFrame(0)).toThrow(/frame 0 .*RLE Lossless\): throwing: bad stream/);
    const none = new CodecRegistry([broken]);
    await expect(openPixelData(file, { registry: none })).rejects.toThrow(/no decoder could be loaded \(broken: module missing\)/);
    await expect(openPixelData(file, { registry: new CodecRegistry() })).rejects.toThrow(/no decoder is registered/);
    await expect(replaceFrames(file, new Map([[0, { format: px.format, data: Uint16Array.of(0, 0, 0, 0) }]]), { registry })).rejects.toThrow(/no lossless encoder is registered/);
  });

  it('tells reversible from irreversible JPEG 2000 streams', () => {
    const cod = (t: number) => Uint8Array.of(0xff, 0x4f, 0xff, 0x51, 0x00, 0x04, 0, 0, 0xff, 0x52, 0x00, 0x0c, 0, 0, 0, 1, 0, 5, 4, 4, 0, t, 0, 0);
    expect(j2kWavelet(cod(1))).toBe('reversible');
    expect(j2kWavelet(cod(0))).toBe('irreversible');
    expect(j2kWavelet(Uint8Array.of(1, 2, 3))).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------

describe('display images', () => {
  const frame = (f: PixelFormat, data: Samples): Frame => ({ format: f, data });
  const empty: Dataset = new Map();

  it('stretches greyscale over the frame or a window, inverting MONOCHROME1', () => {
    const f = format({ rows: 1, columns: 3, bitsAllocated: 16, pixelRepresentation: 1 });
    expect([...displayImage(frame(f, Int16Array.of(-1000, 0, 1000)), empty).data]).toEqual([0, 128, 255]);
    expect([...displayImage(frame({ ...f, photometric: 'MONOCHROME1' }, Int16Array.of(-1000, 0, 1000)), empty).data]).toEqual([255, 127, 0]);
    // PS3.3 C.11.2.1.2: centre 40, width 81 maps −0.5 … 79.5 onto 0 … 255, so 40 → 129.
    expect([...displayImage(frame(f, Int16Array.of(-1000, 40, 1000)), empty, { window: { center: 40, width: 81 } }).data]).toEqual([0, 129, 255]);
  });

  it('converts YBR_FULL to RGB and looks up palettes', () => {
    const ybr = format({ rows: 1, columns: 2, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'YBR_FULL' });
    expect([...displayImage(frame(ybr, Uint8Array.of(128, 128, 128, 76, 85, 255)), empty).data]).toEqual([128, 128, 128, 254, 0, 0]);
    const pal = format({ rows: 1, columns: 3, bitsAllocated: 8, photometric: 'PALETTE COLOR' });
    const descriptor = (t: number) => ({ kind: 'value', tag: t as Tag, vr: 'US', bytes: le16([3, 1, 16]) }) as Element;
    const lut = (t: number, values: number[]) => ({ kind: 'value', tag: t as Tag, vr: 'OW', bytes: le16(values) }) as Element;
    const ds: Dataset = new Map(
      [
        descriptor(PixelTags.RedPaletteDescriptor),
        descriptor(PixelTags.GreenPaletteDescriptor),
        descriptor(PixelTags.BluePaletteDescriptor),
        lut(PixelTags.RedPaletteData, [0xff00, 0, 0]),
        lut(PixelTags.GreenPaletteData, [0, 0xff00, 0]),
        lut(PixelTags.BluePaletteData, [0, 0, 0xff00]),
      ].map((e) => [e.tag, e]),
    );
    // Values below the first mapped value take the first entry; above the last, the last.
    expect([...displayImage(frame(pal, Uint8Array.of(0, 2, 9)), ds).data]).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255]);
    expect(() => displayImage(frame(pal, Uint8Array.of(0, 1, 2)), empty)).toThrow(/Red Palette Color Lookup Table Descriptor is missing/);
  });
});
