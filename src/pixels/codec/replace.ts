/**
 * Writing changed frames back. The input file is never modified; the result is a new DicomFile
 * that shares every unchanged element (and, in encapsulated data, every unchanged fragment item)
 * with the input, so the writer emits them byte for byte.
 *
 * - Native data: the changed frames' bytes are replaced in a copy of the value; the others are
 *   the same bytes. Deflated files stay deflated (the writer re-deflates the data set).
 * - Encapsulated data in a lossless encoding: only the changed frames are encoded (one fragment
 *   each), each new codestream is decoded again and must give back exactly the frame it was made
 *   from, and the Basic (or Extended) Offset Table is rebuilt to match.
 * - Encapsulated data in a lossy encoding: every frame is written decoded in Explicit VR Little
 *   Endian, so no second lossy generation is added; Lossy Image Compression stays 01 with its
 *   ratio and method, and Photometric Interpretation and Planar Configuration describe the
 *   decoded samples.
 */
import { encodeAscii, transferSyntaxOf, type Dataset, type DicomFile, type Element } from '../../dicom/dataset.js';
import { Tags, type Tag } from '../../dicom/tag.js';
import type { Frame, PixelFormat } from '../types.js';
import { buildItems, encodeOV, type FrameItems } from './encapsulated.js';
import { PixelEncodeError } from './errors.js';
import { PixelTags } from './layout.js';
import { encodeNativeFrame, placeNativeFrame } from './native.js';
import { messageOf, openPixelData, type OpenedPixelData, type OpenOptions } from './pixel-data.js';
import { defaultRegistry } from './registry.js';
import { bytesOf, copyBytes, expectedArrayName, hasExpectedType } from './samples.js';
import { Syntax, syntaxInfo, syntaxLabel } from './syntax.js';

/** How the pixel data was written. */
export type ReplaceEncoding =
  /** No frame was replaced: the file is returned as it was. */
  | 'unchanged'
  /** Changed frames re-encoded (losslessly) in the file's own transfer syntax; others untouched. */
  | 'same-syntax'
  /** Lossy input: all frames written decoded in Explicit VR Little Endian. */
  | 'explicit-little-endian';

export interface ReplaceResult {
  readonly file: DicomFile;
  readonly encoding: ReplaceEncoding;
  /** What happened, for the report (no pixel value, no header text). */
  readonly note?: string;
}

/**
 * A new DicomFile with the given frames (by 0-based index) replaced. Each replacement must have
 * exactly the format `openPixelData` reports for the file. Throws PixelEncodeError (bad frame,
 * no encoder, a re-encoded frame that does not decode back exactly) or PixelDecodeError (a frame
 * that has to be decoded for writing cannot be); nothing is returned half-done.
 */
export async function replaceFrames(file: DicomFile, replacements: ReadonlyMap<number, Frame>, options: OpenOptions = {}): Promise<ReplaceResult> {
  if (replacements.size === 0) return { file, encoding: 'unchanged' };
  const pixels = await openPixelData(file, options);
  const syntax = file.transferSyntax.uid;
  if (!pixels) throw new PixelEncodeError(syntax, 'the file has no Pixel Data to replace frames in');
  for (const [index, frame] of replacements) checkReplacement(pixels, index, frame);

  if (!pixels.encapsulated) return replaceNative(file, pixels, replacements);
  if (pixels.encodingLossy) return writeDecoded(file, pixels, replacements);
  return replaceEncapsulated(file, pixels, replacements, options);
}

function checkReplacement(pixels: OpenedPixelData, index: number, frame: Frame): void {
  const syntax = pixels.transferSyntax;
  if (!Number.isInteger(index) || index < 0 || index >= pixels.frameCount) {
    throw new PixelEncodeError(syntax, `there is no frame ${index} (the file has ${pixels.frameCount})`);
  }
  const a = pixels.format;
  const b = frame.format;
  const keys: (keyof PixelFormat)[] = ['rows', 'columns', 'samplesPerPixel', 'bitsAllocated', 'bitsStored', 'highBit', 'pixelRepresentation', 'photometric'];
  for (const k of keys) {
    if (a[k] !== b[k]) throw new PixelEncodeError(syntax, `the replacement's ${k} is ${String(b[k])} where the file's frames have ${String(a[k])}`, index);
  }
  const count = a.rows * a.columns * a.samplesPerPixel;
  if (frame.data.length !== count) throw new PixelEncodeError(syntax, `the replacement holds ${frame.data.length} samples where ${count} are needed`, index);
  if (!hasExpectedType(frame.data, a)) throw new PixelEncodeError(syntax, `the replacement's samples are a ${frame.data.constructor.name}, not a ${expectedArrayName(a)}`, index);
}

function withElements(ds: Dataset, set: readonly Element[], remove: readonly Tag[] = []): Dataset {
  const out = new Map(ds);
  for (const t of remove) out.delete(t);
  for (const el of set) out.set(el.tag, el);
  return out;
}

function replaceNative(file: DicomFile, pixels: OpenedPixelData, replacements: ReadonlyMap<number, Frame>): ReplaceResult {
  const element = pixels.element;
  if (element.kind !== 'value') throw new PixelEncodeError(pixels.transferSyntax, 'native pixel data expected');
  const enc = { littleEndian: file.transferSyntax.littleEndian, vr: element.vr };
  const bytes = copyBytes(element.bytes);
  for (const [index, frame] of replacements) placeNativeFrame(bytes, encodeNativeFrame(frame, pixels.stored, enc), pixels.stored, enc, index);
  const dataset = withElements(file.dataset, [{ ...element, bytes }]);
  const note =
    pixels.stored.photometric === 'YBR_FULL_422'
      ? 'changed frames written back as YBR_FULL_422: each pair of pixels takes the mean of their chroma'
      : undefined;
  return { file: { ...file, dataset }, encoding: 'same-syntax', ...(note ? { note } : {}) };
}

async function replaceEncapsulated(file: DicomFile, pixels: OpenedPixelData, replacements: ReadonlyMap<number, Frame>, options: OpenOptions): Promise<ReplaceResult> {
  const syntax = pixels.transferSyntax;
  const registry = options.registry ?? defaultRegistry;
  const loaded = await registry.encoders(syntax);
  if (loaded.codecs.length === 0) {
    throw new PixelEncodeError(syntax, loaded.failures.length > 0 ? `no encoder could be loaded (${loaded.failures.join('; ')})` : 'no lossless encoder is registered for this transfer syntax');
  }
  const items = pixels.items!;
  const groups = pixels.groups!;
  const frames: FrameItems[] = [];
  const encoderNames = new Set<string>();
  for (let i = 0; i < pixels.frameCount; i++) {
    const replacement = replacements.get(i);
    if (!replacement) {
      frames.push({ kind: 'kept', items: groups[i]!.map((f) => items.fragments[f]!.item) });
      continue;
    }
    const failures: string[] = [];
    let codestream: Uint8Array | undefined;
    for (const encoder of loaded.codecs) {
      try {
        const candidate = encoder.encode(replacement, pixels.stored, syntax);
        verifyRoundTrip(candidate, replacement, pixels, i);
        codestream = candidate;
        encoderNames.add(encoder.name);
        break;
      } catch (e) {
        failures.push(`${encoder.name}: ${messageOf(e)}`);
      }
    }
    if (!codestream) throw new PixelEncodeError(syntax, failures.join('; '), i);
    frames.push({ kind: 'new', codestream });
  }
  const keepBasic = items.basicOffsets.length > 0 && !pixels.extendedOffsets;
  const built = buildItems(frames, keepBasic);
  const set: Element[] = [{ kind: 'encapsulated', tag: Tags.PixelData, vr: pixels.element.vr as 'OB' | 'OW', bytes: built.bytes }];
  if (pixels.extendedOffsets) {
    set.push({ kind: 'value', tag: PixelTags.ExtendedOffsetTable, vr: 'OV', bytes: encodeOV(built.offsets) });
    // The lengths count the frame's fragment values; for one fragment that is its item length less the header.
    set.push({ kind: 'value', tag: PixelTags.ExtendedOffsetTableLengths, vr: 'OV', bytes: encodeOV(built.lengths.map((n, i) => extendedLength(frames[i]!, n))) });
  }
  return {
    file: { ...file, dataset: withElements(file.dataset, set) },
    encoding: 'same-syntax',
    note: `${replacements.size} of ${pixels.frameCount} frame(s) re-encoded losslessly in ${syntaxLabel(syntax)} with ${[...encoderNames].join(', ')}`,
  };
}

/** Extended Offset Table Lengths hold the length of the frame's data (PS3.3 C.7.6.3.1.8), without item headers. */
function extendedLength(frame: FrameItems, total: number): number {
  const headers = frame.kind === 'kept' ? 8 * frame.items.length : 8;
  return total - headers;
}

/** A new codestream must decode to exactly the frame it was made from, or it is not written. */
function verifyRoundTrip(codestream: Uint8Array, frame: Frame, pixels: OpenedPixelData, index: number): void {
  const decoded = pixels.decodeCodestream(codestream, index);
  const a = bytesOf(decoded.data);
  const b = bytesOf(frame.data);
  if (a.length !== b.length) throw new Error(`the new codestream decodes to ${a.length} bytes, not ${b.length}`);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) throw new Error('the new codestream does not decode to the frame exactly');
}

async function writeDecoded(file: DicomFile, pixels: OpenedPixelData, replacements: ReadonlyMap<number, Frame>): Promise<ReplaceResult> {
  const f = pixels.format;
  const frameSize = f.rows * f.columns * f.samplesPerPixel * (f.bitsAllocated >> 3);
  const total = frameSize * pixels.frameCount;
  const bytes = new Uint8Array(total + (total & 1));
  for (let i = 0; i < pixels.frameCount; i++) {
    const frame = replacements.get(i) ?? pixels.decodeFrame(i);
    bytes.set(bytesOf(frame.data), i * frameSize);
  }
  const info = syntaxInfo(pixels.transferSyntax);
  const ds = file.dataset;
  const us = (t: Tag, v: number): Element => ({ kind: 'value', tag: t, vr: 'US', bytes: Uint8Array.of(v & 0xff, v >> 8) });
  const cs = (t: Tag, text: string): Element => ({ kind: 'value', tag: t, vr: 'CS', bytes: encodeAscii(text, 0x20) });
  const set: Element[] = [
    { kind: 'value', tag: Tags.PixelData, vr: f.bitsAllocated === 8 ? 'OB' : 'OW', bytes },
    cs(PixelTags.PhotometricInterpretation, f.photometric),
    cs(PixelTags.LossyImageCompression, '01'),
  ];
  if (f.samplesPerPixel === 3) set.push(us(PixelTags.PlanarConfiguration, 0));
  if (!ds.has(PixelTags.LossyImageCompressionMethod) && info?.lossyMethod) set.push(cs(PixelTags.LossyImageCompressionMethod, info.lossyMethod));
  const remove = [PixelTags.ExtendedOffsetTable, PixelTags.ExtendedOffsetTableLengths];
  const dataset = withElements(ds, set, remove);
  const ts = transferSyntaxOf(Syntax.ExplicitVRLittleEndian);
  const meta = withElements(file.meta, [{ kind: 'value', tag: Tags.TransferSyntaxUID, vr: 'UI', bytes: encodeAscii(ts.uid, 0x00) }]);
  const replaced = replacements.size;
  return {
    file: { ...file, meta, dataset, transferSyntax: ts },
    encoding: 'explicit-little-endian',
    note:
      `lossy ${syntaxLabel(pixels.transferSyntax)} pixel data written decoded in Explicit VR Little Endian (${replaced} of ${pixels.frameCount} frame(s) changed, none re-compressed); ` +
      `Lossy Image Compression kept at 01${f.photometric !== pixels.stored.photometric ? `, Photometric Interpretation now ${f.photometric}` : ''}`,
  };
}
