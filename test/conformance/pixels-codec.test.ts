/**
 * The pixel codecs on the shared corpus: every frame of every image is decoded and compared with
 * a reference decode made by other programs (dcmtk's dcmdjpeg/dcmdjpls/dcmdrle/dcmconv and GDCM's
 * gdcmconv --raw, whose native output is then read), exactly for lossless encodings and within a
 * small tolerance for lossy ones; HTJ2K, which neither tool here reads, is compared with another
 * build of OpenJPH (cornerstone's). Then the write-back rules: nothing replaced → the same bytes;
 * one frame replaced in a lossless file → the others byte-identical and the changed one exact;
 * a lossy file → Explicit VR Little Endian with its Lossy Image Compression attributes; every
 * rewritten file re-reads with our reader, dcmdump and dciodvfy without new errors.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asciiValue, type DicomFile } from '../../src/dicom/dataset.js';
import { readDicom } from '../../src/dicom/reader.js';
import { Tags } from '../../src/dicom/tag.js';
import { encodeDicomToBuffer } from '../../src/dicom/writer.js';
import { openPixelData, PixelDecodeError, replaceFrames, Syntax, type PixelData } from '../../src/pixels/codec/index.js';
import { PixelTags } from '../../src/pixels/codec/layout.js';
import type { Frame } from '../../src/pixels/types.js';
import { dciodvfyMissing, dicomDir, independentBytes, normaliseDciodvfyError, parseIndependent, readManifest, runDciodvfy } from './helpers.js';

/**
 * Files of the corpus whose pixel data is not decoded, and why: each a genuine limitation or a
 * genuinely broken file, checked to fail with this reason (and nothing else).
 */
const NOT_DECODABLE: Readonly<Record<string, RegExp>> = {
  // DICOM SEG binary segmentations: 1-bit samples are not images that can carry burned-in text.
  'pydicom/liver_1frame.dcm': /Bits Allocated 1 is not supported/,
  'pydicom-data/liver_deflate.dcm': /Bits Allocated 1 is not supported/,
  // The J2K codestream itself is corrupt (its SIZ announces 4292730882 tiles); GDCM fails the same way.
  'pydicom/JPEG2000-embedded-sequence-delimiter.dcm': /Invalid number of tiles/,
  // Number of Frames holds a value that is not a positive integer.
  'pydicom/badVR.dcm': /Number of Frames is not a positive integer/,
  // Pixel Data without the Image Pixel module (test files of the reader, not images).
  'pydicom/meta_missing_tsyntax.dcm': /Rows is missing/,
  'pydicom/nested_priv_SQ.dcm': /Rows is missing/,
};

const LOSSY_TOLERANCE = 2;
let refDir = '';

function tool(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { encoding: 'latin1', timeout: 120_000 });
  return r.status === 0;
}

/** Reference decodes of a file by other programs, as native DICOM files. */
function referenceFiles(rel: string, syntax: string, bitsAllocated: number): string[] {
  const src = path.join(dicomDir, rel);
  const base = path.join(refDir, rel.replaceAll('/', '_'));
  const out: string[] = [];
  const run = (suffix: string, cmd: string, args: string[]) => {
    const target = base + suffix;
    if (tool(cmd, [...args, src, target]) && fs.existsSync(target)) out.push(target);
  };
  if (syntax.startsWith('1.2.840.10008.1.2.4.5') || syntax === Syntax.JpegLosslessSV1) run('.dcmdjpeg', 'dcmdjpeg', []);
  else if (syntax === Syntax.JpegLsLossless || syntax === Syntax.JpegLsNearLossless) run('.dcmdjpls', 'dcmdjpls', []);
  else if (syntax === Syntax.RleLossless) run('.dcmdrle', 'dcmdrle', []);
  if (syntax.startsWith('1.2.840.10008.1.2.4.') || syntax === Syntax.RleLossless) run('.gdcm', 'gdcmconv', ['--raw']);
  // Native data: dcmtk's byte-order conversion is the independent reading (big ↔ little endian).
  if (syntax === Syntax.ExplicitVRBigEndian) run('.le', 'dcmconv', ['+te']);
  // (Not for 32-bit samples: dcmtk swaps OW in 16-bit words, and 32-bit values in a big-endian OW
  // are read in as many ways as there are toolkits; those files are read with dicom-parser below.)
  if ((syntax === Syntax.ExplicitVRLittleEndian || syntax === Syntax.ImplicitVRLittleEndian || syntax === Syntax.DeflatedExplicitVRLittleEndian) && bitsAllocated < 32) {
    run('.be', 'dcmconv', ['+tb']);
  }
  return out;
}

/** HTJ2K: the frame as cornerstone's OpenJPH build decodes it (8-bit and 16-bit samples). */
async function openjphDecode(codestream: Uint8Array): Promise<Uint8Array> {
  const require = createRequire(import.meta.url);
  const factory = require('@cornerstonejs/codec-openjph') as () => Promise<{ HTJ2KDecoder: new () => { getEncodedBuffer(n: number): Uint8Array; decode(): void; getDecodedBuffer(): Uint8Array; delete(): void } }>;
  const lib = await factory();
  const d = new lib.HTJ2KDecoder();
  d.getEncodedBuffer(codestream.length).set(codestream);
  d.decode();
  const out = d.getDecodedBuffer().slice();
  d.delete();
  return out;
}

interface Entry {
  readonly rel: string;
  readonly file: DicomFile;
}

const manifest = readManifest().filter((e) => e.dicom);
const images: Entry[] = [];
for (const e of manifest) {
  let file: DicomFile;
  try {
    file = readDicom(fs.readFileSync(path.join(dicomDir, e.path)));
  } catch {
    continue; // files the core reader rejects are the reader suite's business
  }
  if (file.dataset.has(Tags.PixelData)) images.push({ rel: e.path, file });
}

function diff(a: ArrayLike<number>, b: ArrayLike<number>): { count: number; max: number } {
  let count = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > 0) {
      count++;
      if (d > max) max = d;
    }
  }
  return { count, max };
}

/** A changed copy of a frame: a box of the frame's first sample value, as a redaction would leave. */
function edited(frame: Frame): Frame {
  const { rows, columns, samplesPerPixel: spp } = frame.format;
  const data = frame.data.slice();
  const fill = frame.data[0]! === frame.data[data.length - 1]! ? frame.data[0]! ^ 1 : frame.data[data.length - 1]!;
  for (let r = Math.floor(rows / 4); r < Math.floor(rows / 2); r++) {
    for (let c = Math.floor(columns / 4); c < Math.floor(columns / 2); c++) for (let s = 0; s < spp; s++) data[(r * columns + c) * spp + s] = fill;
  }
  return { format: frame.format, data };
}

function fragmentsOf(file: DicomFile): Uint8Array[] {
  const el = file.dataset.get(Tags.PixelData);
  if (!el || el.kind !== 'encapsulated') return [];
  const out: Uint8Array[] = [];
  const v = new DataView(el.bytes.buffer, el.bytes.byteOffset, el.bytes.byteLength);
  let p = 8 + v.getUint32(4, true);
  while (v.getUint16(p + 2, true) === 0xe000) {
    const n = v.getUint32(p + 4, true);
    out.push(el.bytes.subarray(p + 8, p + 8 + n));
    p += 8 + n;
  }
  return out;
}

/**
 * 4:2:2 keeps one Cb and Cr per pair of pixels: a changed frame comes back with each pair's
 * chroma replaced by the pair's rounded mean (luma exact).
 */
function through422(frame: Frame): Frame {
  const { rows, columns } = frame.format;
  const data = frame.data.slice();
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c + 1 < columns; c += 2) {
      const p = (r * columns + c) * 3;
      for (const k of [1, 2]) {
        const m = Math.round((data[p + k]! + data[p + 3 + k]!) / 2);
        data[p + k] = m;
        data[p + 3 + k] = m;
      }
    }
  }
  return { format: frame.format, data };
}

function dcmdumpReads(file: string): boolean {
  return spawnSync('dcmdump', ['-q', file], { stdio: 'pipe', maxBuffer: 256 * 1024 * 1024 }).status === 0;
}

function writeTemp(name: string, bytes: Uint8Array): string {
  const f = path.join(refDir, name);
  fs.writeFileSync(f, bytes);
  return f;
}

describe('pixel codecs on the shared corpus', () => {
  beforeAll(() => {
    refDir = fs.mkdtempSync(path.join(os.tmpdir(), 'radanon-pixels-codec-'));
  });
  afterAll(() => {
    if (refDir) fs.rmSync(refDir, { recursive: true, force: true });
  });

  it('finds the images of the corpus, in every syntax the issue names', () => {
    const syntaxes = new Set(images.map((i) => i.file.transferSyntax.uid));
    for (const uid of [Syntax.ImplicitVRLittleEndian, Syntax.ExplicitVRLittleEndian, Syntax.ExplicitVRBigEndian, Syntax.DeflatedExplicitVRLittleEndian, Syntax.RleLossless, Syntax.JpegBaseline, Syntax.JpegExtended, Syntax.JpegLossless, Syntax.JpegLosslessSV1, Syntax.JpegLsLossless, Syntax.JpegLsNearLossless, Syntax.Jpeg2000Lossless, Syntax.Jpeg2000, Syntax.HtJpeg2000]) {
      expect(syntaxes, uid).toContain(uid);
    }
    expect(images.length).toBeGreaterThan(50);
  });

  it.each(images.map((i) => [i.rel, i] as const))('%s decodes like the reference decoders', async (rel, { file }) => {
    const known = NOT_DECODABLE[rel];
    let pixels: PixelData | undefined;
    const frames: Frame[] = [];
    try {
      pixels = await openPixelData(file);
      for (let i = 0; i < (pixels?.frameCount ?? 0); i++) frames.push(pixels!.decodeFrame(i));
    } catch (e) {
      expect(e, rel).toBeInstanceOf(PixelDecodeError);
      expect(known, `${rel} failed: ${(e as Error).message}`).toBeDefined();
      expect((e as Error).message).toMatch(known!);
      return;
    }
    expect(known, `${rel} is listed as not decodable but decodes`).toBeUndefined();
    expect(pixels).toBeDefined();
    const px = pixels!;
    const syntax = file.transferSyntax.uid;
    const tolerance = px.encodingLossy ? LOSSY_TOLERANCE : 0;
    let compared = 0;
    if (syntax === Syntax.HtJpeg2000) {
      const stream = fragmentsOf(file)[0]!;
      const ref = await openjphDecode(stream);
      const d = diff(frames[0]!.data, px.format.bitsAllocated === 8 ? ref : new Uint16Array(ref.buffer, ref.byteOffset, ref.byteLength / 2));
      expect(d.max, 'HTJ2K against OpenJPH (cornerstone build)').toBeLessThanOrEqual(tolerance);
      compared++;
    }
    for (const refFile of referenceFiles(rel, syntax, px.format.bitsAllocated)) {
      const ref = await openPixelData(readDicom(fs.readFileSync(refFile)));
      expect(ref, refFile).toBeDefined();
      // GDCM leaves lossy JPEG's YCbCr unconverted; dcmtk converts as we do: compare like with like.
      if (ref!.format.photometric !== px.format.photometric) continue;
      expect(ref!.frameCount).toBe(px.frameCount);
      for (let i = 0; i < px.frameCount; i++) {
        const d = diff(frames[i]!.data, ref!.decodeFrame(i).data);
        expect(d.max, `${rel} frame ${i} against ${path.basename(refFile)} (${d.count} samples differ)`).toBeLessThanOrEqual(tolerance);
      }
      compared++;
    }
    if (compared === 0 && !px.encapsulated && file.transferSyntax.littleEndian && px.stored.bitsStored === px.stored.bitsAllocated && px.stored.samplesPerPixel === 1) {
      // 32-bit little-endian samples: the value bytes as dicom-parser finds them, read as such.
      const ds = parseIndependent(fs.readFileSync(path.join(dicomDir, rel)));
      const raw = independentBytes(ds, 'x7fe00010')!.slice();
      const ref = px.format.pixelRepresentation === 1 ? new Int32Array(raw.buffer) : new Uint32Array(raw.buffer);
      const n = px.format.rows * px.format.columns;
      for (let i = 0; i < px.frameCount; i++) expect(diff(frames[i]!.data, ref.subarray(i * n, (i + 1) * n)).count, `${rel} frame ${i} against dicom-parser`).toBe(0);
      compared++;
    }
    // An image without any comparison would be a hole in this test.
    expect(compared, `${rel}: no reference decode could be made`).toBeGreaterThan(0);
  });

  const decodable = images.filter((i) => NOT_DECODABLE[i.rel] === undefined);

  it.each(decodable.map((i) => [i.rel, i] as const))('%s: nothing replaced gives the same pixel bytes', async (_rel, { file }) => {
    const out = await replaceFrames(file, new Map());
    expect(out.encoding).toBe('unchanged');
    const reread = readDicom(encodeDicomToBuffer(out.file));
    const a = file.dataset.get(Tags.PixelData)!;
    const b = reread.dataset.get(Tags.PixelData)!;
    expect(b.kind).toBe(a.kind);
    expect(Buffer.from((b as { bytes: Uint8Array }).bytes).equals(Buffer.from((a as { bytes: Uint8Array }).bytes))).toBe(true);
  });

  it.each(decodable.map((i) => [i.rel, i] as const))('%s: one frame replaced is written back by the rules', async (rel, { file }) => {
    const px = (await openPixelData(file))!;
    const index = px.frameCount - 1;
    const changed = edited(px.decodeFrame(index));
    const input = (file.dataset.get(Tags.PixelData) as { bytes: Uint8Array }).bytes;
    const inputBefore = Buffer.from(input);
    const result = await replaceFrames(file, new Map([[index, changed]]));
    // The file as read is never written into (its values are views on the bytes read from disk).
    expect(Buffer.from(input).equals(inputBefore), 'the input pixel data is unchanged').toBe(true);
    const bytes = encodeDicomToBuffer(result.file);
    const reread = readDicom(bytes);
    const again = (await openPixelData(reread))!;
    expect(again.frameCount).toBe(px.frameCount);

    if (px.encodingLossy) {
      expect(result.encoding).toBe('explicit-little-endian');
      expect(result.note).toMatch(/Explicit VR Little Endian/);
      expect(reread.transferSyntax.uid).toBe(Syntax.ExplicitVRLittleEndian);
      expect(asciiValue(reread.dataset.get(PixelTags.LossyImageCompression as never))).toBe('01');
      for (const t of [PixelTags.LossyImageCompressionRatio, PixelTags.LossyImageCompressionMethod]) {
        const before = file.dataset.get(t as never);
        if (before) expect(asciiValue(reread.dataset.get(t as never))).toBe(asciiValue(before));
      }
      expect(asciiValue(reread.dataset.get(PixelTags.PhotometricInterpretation as never))).toBe(px.format.photometric);
      for (let i = 0; i < px.frameCount; i++) {
        const expected = i === index ? changed.data : px.decodeFrame(i).data;
        expect(diff(again.decodeFrame(i).data, expected).count, `frame ${i}`).toBe(0);
      }
    } else {
      expect(result.encoding).toBe('same-syntax');
      expect(reread.transferSyntax.uid).toBe(file.transferSyntax.uid);
      const expectedChange = px.stored.photometric === 'YBR_FULL_422' ? through422(changed) : changed;
      expect(diff(again.decodeFrame(index).data, expectedChange.data).count, 'the changed frame').toBe(0);
      if (px.encapsulated) {
        // Unchanged frames keep their fragments byte for byte, found again through the new offsets.
        const before = px as unknown as { items: { fragments: { bytes: Uint8Array }[] }; groups: number[][] };
        const after = again as unknown as { items: { fragments: { bytes: Uint8Array }[] }; groups: number[][] };
        for (let i = 0; i < px.frameCount; i++) {
          if (i === index) continue;
          const a = before.groups[i]!.map((f) => Buffer.from(before.items.fragments[f]!.bytes));
          const b = after.groups[i]!.map((f) => Buffer.from(after.items.fragments[f]!.bytes));
          expect(Buffer.concat(b).equals(Buffer.concat(a)), `frame ${i} fragments`).toBe(true);
        }
      } else {
        const a = (file.dataset.get(Tags.PixelData) as { bytes: Uint8Array }).bytes;
        const b = (reread.dataset.get(Tags.PixelData) as { bytes: Uint8Array }).bytes;
        const perFrame = a.length / px.frameCount;
        for (let i = 0; i < px.frameCount; i++) {
          if (i === index || !Number.isInteger(perFrame)) continue;
          expect(Buffer.from(b.subarray(i * perFrame, (i + 1) * perFrame)).equals(Buffer.from(a.subarray(i * perFrame, (i + 1) * perFrame))), `frame ${i} bytes`).toBe(true);
        }
      }
      for (let i = 0; i < px.frameCount; i++) {
        if (i !== index) expect(diff(again.decodeFrame(i).data, px.decodeFrame(i).data).count, `frame ${i}`).toBe(0);
      }
    }

    // Other programs read the rewritten file, and dciodvfy finds no error the original did not have.
    const name = rel.replaceAll('/', '_');
    const written = writeTemp(`${name}.out.dcm`, bytes);
    const original = writeTemp(`${name}.in.dcm`, encodeDicomToBuffer(file));
    if (dcmdumpReads(original)) expect(dcmdumpReads(written), 'dcmdump reads the rewritten file').toBe(true);
    if (dciodvfyMissing() === undefined) {
      const [was, now] = await Promise.all([runDciodvfy(original), runDciodvfy(written)]);
      const old = new Set(was.errors.map(normaliseDciodvfyError));
      const added = now.errors.map(normaliseDciodvfyError).filter((e) => !old.has(e));
      expect(added, `${rel}: new dciodvfy errors`).toEqual([]);
    }
  });
});
