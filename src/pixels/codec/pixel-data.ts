/**
 * Opening a file's pixel data: its format, frame count and whether its encoding is lossy, with
 * frames decoded one at a time on request. Native frames are typed-array views where possible
 * (see native.ts); encapsulated frames go through the registry's decoders, which are loaded
 * (asynchronously, once per process) when the file is opened, so decoding itself is synchronous.
 */
import type { DicomFile, Element } from '../../dicom/dataset.js';
import type { Frame, PixelFormat } from '../types.js';
import { EncapsulationProblem, frameBytes, frameFragments, parseItems, readExtendedOffsets, type ItemList } from './encapsulated.js';
import { PixelDecodeError } from './errors.js';
import { j2kWavelet } from './j2k.js';
import { decodedPhotometric, formatOf, LayoutProblem, PixelTags, readStoredLayout, textAttribute, type StoredLayout } from './layout.js';
import { decodeNativeFrame, storedFrameBytes, type NativeEncoding } from './native.js';
import type { FrameDecoder } from './plugin.js';
import { defaultRegistry, type CodecRegistry } from './registry.js';
import { hasExpectedType } from './samples.js';
import { syntaxInfo, Syntax } from './syntax.js';

/** The pixel data of one file: format, frame count, and frames decoded on request. */
export interface PixelData {
  /** The format decoded frames have (the same for every frame). */
  readonly format: PixelFormat;
  readonly frameCount: number;
  /** Transfer Syntax UID of the file. */
  readonly transferSyntax: string;
  /** The stored encoding is lossy, or Lossy Image Compression (0028,2110) says the pixels were lossy compressed before. */
  readonly lossy: boolean;
  /** The stored encoding itself is lossy (what decides how changed frames are written back). */
  readonly encodingLossy: boolean;
  /** The layout as the file's attributes state it. */
  readonly stored: StoredLayout;
  /** Whether the pixel data is encapsulated (compressed frames in fragments). */
  readonly encapsulated: boolean;
  /**
   * Decodes one frame (0-based). A native frame may be a view on the file's bytes: treat it as
   * read-only, or ask for `{ writable: true }` to get samples of its own (a copy only when the
   * frame is a view). Throws PixelDecodeError naming the syntax, the frame and the reason.
   */
  decodeFrame(index: number, options?: DecodeOptions): Frame;
}

export interface DecodeOptions {
  /** The caller will write into the samples: never return a view on the file's bytes. */
  readonly writable?: boolean;
}

/** Internals replaceFrames needs beyond the public view. */
export interface OpenedPixelData extends PixelData {
  readonly element: Element;
  readonly items?: ItemList;
  readonly groups?: readonly (readonly number[])[];
  readonly extendedOffsets: boolean;
  /** Encapsulated data: decodes a codestream as frame `index` of this file would be decoded. */
  decodeCodestream(codestream: Uint8Array, index: number): Frame;
}

export interface OpenOptions {
  /** Codecs to use (tests); the process-wide registry by default. */
  readonly registry?: CodecRegistry;
}

/**
 * Opens the Pixel Data (7FE0,0010) of a file. Undefined when it has none (Float and Double Float
 * Pixel Data are not images for OCR and are not opened). Throws PixelDecodeError when the
 * attributes are inconsistent, the fragments cannot be matched to frames, or no decoder for the
 * syntax can be loaded.
 */
export async function openPixelData(file: DicomFile, options: OpenOptions = {}): Promise<OpenedPixelData | undefined> {
  const element = file.dataset.get(PixelTags.PixelData);
  if (!element) return undefined;
  const syntax = file.transferSyntax.uid;
  const err = (reason: string): PixelDecodeError => new PixelDecodeError(syntax, reason);
  if (element.kind === 'sequence') throw err('the Pixel Data element is a sequence');
  const little = file.transferSyntax.littleEndian;
  let stored: StoredLayout;
  try {
    stored = readStoredLayout(file.dataset, little);
  } catch (e) {
    if (e instanceof LayoutProblem) throw err(e.message);
    throw e;
  }
  const info = syntaxInfo(syntax);
  const lossyAttribute = textAttribute(file.dataset, PixelTags.LossyImageCompression) === '01';

  if (element.kind === 'value') {
    // Native data (also when a file names a compressed syntax but stores native data, which
    // some converters leave behind: the element's form is what counts).
    const enc: NativeEncoding = { littleEndian: little, vr: element.vr };
    let format: PixelFormat;
    try {
      format = formatOf(stored, decodedPhotometric(stored, { lossyJpegToRgb: false }));
    } catch (e) {
      if (e instanceof LayoutProblem) throw err(e.message);
      throw e;
    }
    const perFrame = storedFrameBytes(stored);
    const needed = perFrame * stored.frames;
    if (element.bytes.length < needed) {
      throw err(`the pixel data holds ${element.bytes.length} bytes, but ${stored.frames} frame(s) of ${stored.columns}×${stored.rows}×${stored.samplesPerPixel} samples of ${stored.bitsAllocated} bits need ${needed}`);
    }
    return {
      format: format,
      frameCount: stored.frames,
      transferSyntax: syntax,
      lossy: lossyAttribute,
      encodingLossy: false,
      stored: stored,
      encapsulated: false,
      element,
      extendedOffsets: false,
      decodeFrame(index: number, options: DecodeOptions = {}): Frame {
        checkIndex(index, stored.frames, syntax);
        const frame = decodeNativeFrame(element.bytes, stored, enc, index, format);
        return options.writable && frame.data.buffer === element.bytes.buffer ? { format, data: frame.data.slice() } : frame;
      },
      decodeCodestream(): Frame {
        throw err('native pixel data has no codestreams');
      },
    };
  }

  // Encapsulated.
  if (!info) throw err('the transfer syntax is not one radanon knows how to decode');
  const registry = options.registry ?? defaultRegistry;
  let items: ItemList;
  let groups: number[][];
  const eotElement = file.dataset.get(PixelTags.ExtendedOffsetTable);
  const eotLengths = file.dataset.get(PixelTags.ExtendedOffsetTableLengths);
  const extended = eotElement?.kind === 'value' && eotLengths?.kind === 'value' && eotElement.bytes.length > 0 ? readExtendedOffsets(eotElement.bytes, eotLengths.bytes) : undefined;
  try {
    items = parseItems(element.bytes);
    groups = frameFragments(items, stored.frames, info.frameStart, extended);
  } catch (e) {
    if (e instanceof EncapsulationProblem) throw err(e.message);
    throw e;
  }
  const isLossyJpeg = syntax === Syntax.JpegBaseline || syntax === Syntax.JpegExtended;
  let format: PixelFormat;
  try {
    format = formatOf(stored, decodedPhotometric(stored, { lossyJpegToRgb: isLossyJpeg }));
  } catch (e) {
    if (e instanceof LayoutProblem) throw err(e.message);
    throw e;
  }
  let encodingLossy = info.lossy === 'lossy';
  if (info.lossy === 'per-stream') {
    // Lossy when the file says so or the first codestream uses the irreversible wavelet (or
    // cannot be read that far: then the cautious answer).
    encodingLossy = lossyAttribute || j2kWavelet(frameBytes(items, groups[0]!)) !== 'reversible';
  }
  const loaded = await registry.decoders(syntax);
  if (loaded.codecs.length === 0) {
    throw err(loaded.failures.length > 0 ? `no decoder could be loaded (${loaded.failures.join('; ')})` : 'no decoder is registered for this transfer syntax');
  }
  const decoders: readonly FrameDecoder[] = loaded.codecs;
  const decodeCodestream = (codestream: Uint8Array, index: number): Frame => {
    const failures: string[] = [];
    for (const decoder of decoders) {
      try {
        const data = decoder.decode(codestream, stored, format, syntax);
        if (!hasExpectedType(data, format) || data.length !== format.rows * format.columns * format.samplesPerPixel) {
          throw new Error(`returned ${data.length} samples in a ${data.constructor.name}`);
        }
        return { format: format, data };
      } catch (e) {
        failures.push(`${decoder.name}: ${messageOf(e)}`);
      }
    }
    throw new PixelDecodeError(syntax, failures.join('; '), index);
  };
  return {
    format: format,
    frameCount: stored.frames,
    transferSyntax: syntax,
    lossy: encodingLossy || lossyAttribute,
    encodingLossy,
    stored: stored,
    encapsulated: true,
    element,
    items: items,
    groups: groups,
    extendedOffsets: extended !== undefined,
    decodeFrame(index: number): Frame {
      checkIndex(index, stored.frames, syntax);
      return decodeCodestream(frameBytes(items, groups[index]!), index);
    },
    decodeCodestream,
  };
}

function checkIndex(index: number, frames: number, syntax: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= frames) throw new PixelDecodeError(syntax, `there is no frame ${index} (the file has ${frames})`);
}

/** A codec's error as text: WASM codecs throw numbers or strings as well as Errors. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === 'string' ? e : `error ${String(e)}`;
}
