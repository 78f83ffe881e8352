/**
 * Stored pixel values of DICOM pixel data (PS3.5 8.1.1; PS3.3 C.7.6.3.1): Bits Allocated per
 * value, of which only the Bits Stored bits ending at High Bit hold the value (the others may
 * carry anything, such as overlays in old files), two's complement when Pixel Representation is
 * 1. Native data is read from its bytes in the data set's byte order; compressed (encapsulated)
 * data is decoded frame by frame by the codec layer (src/pixels/codec), whose samples are read
 * with the same rule.
 */

import type { Dataset } from '../dicom/dataset.js';
import type { Tag } from '../dicom/tag.js';
import { numberOf, textOf, VolumeTags as T } from './dicom-values.js';

/** How the stored pixel values of an image are laid out (PS3.3 C.7.6.3 Image Pixel module). */
export interface PixelLayout {
  readonly rows: number;
  readonly columns: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly highBit: number;
  readonly signed: boolean;
  /** Pixel Data (integers), Float Pixel Data or Double Float Pixel Data. */
  readonly sample: 'integer' | 'float32' | 'float64';
}

/** Bytes a frame occupies. */
export function frameBytes(layout: PixelLayout): number {
  return (layout.rows * layout.columns * layout.bitsAllocated) / 8;
}

/**
 * A reader of value n (counting from the start of `bytes`). `swapPairs`: 8-bit values in an OW
 * element of a big-endian data set, whose bytes are swapped in pairs.
 */
export function storedReader(bytes: Uint8Array, layout: PixelLayout, little: boolean, swapPairs: boolean): (n: number) => number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (layout.sample === 'float32') return (n) => view.getFloat32(4 * n, little);
  if (layout.sample === 'float64') return (n) => view.getFloat64(8 * n, little);
  const shift = layout.highBit + 1 - layout.bitsStored;
  if (layout.bitsStored === 32) return layout.signed ? (n) => view.getInt32(4 * n, little) : (n) => view.getUint32(4 * n, little);
  const signBit = 2 ** (layout.bitsStored - 1);
  const range = 2 ** layout.bitsStored;
  const raw: (n: number) => number =
    layout.bitsAllocated === 8
      ? swapPairs
        ? (n) => bytes[n ^ 1]!
        : (n) => bytes[n]!
      : layout.bitsAllocated === 16
        ? (n) => view.getUint16(2 * n, little)
        : (n) => view.getUint32(4 * n, little);
  if (layout.bitsStored === layout.bitsAllocated && shift === 0) {
    if (!layout.signed) return raw;
    return (n) => {
      const v = raw(n);
      return v >= signBit ? v - range : v;
    };
  }
  const value = valueOfBits(layout);
  return (n) => value(raw(n));
}

/**
 * The stored value a sample's bit pattern holds (Bits Stored < 32): its Bits Stored bits ending
 * at High Bit, two's complement when signed. The pattern may come unsigned (read from bytes) or
 * as the container's signed number (a codec's Int16Array): only the bits up to High Bit count.
 */
function valueOfBits(layout: PixelLayout): (raw: number) => number {
  const shift = layout.highBit + 1 - layout.bitsStored;
  const mask = 2 ** layout.bitsStored - 1;
  const signBit = 2 ** (layout.bitsStored - 1);
  const range = 2 ** layout.bitsStored;
  return (raw) => {
    const v = (raw >>> shift) & mask;
    return layout.signed && v >= signBit ? v - range : v;
  };
}

/**
 * A reader of value n of a frame decoded by the codec layer. Its samples hold each value's bits
 * as the stream stored them: the codecs return values sign-extended from bit 0 when High Bit is
 * Bits Stored − 1, but the whole Bits Allocated pattern (with the value moved up to High Bit, and
 * whatever the unused bits held) when a file says otherwise, as dcmtk's compressors keep it. So
 * the bits are taken as native bits are: shifted down from High Bit, masked, sign-extended.
 */
export function decodedReader(samples: ArrayLike<number>, layout: PixelLayout): (n: number) => number {
  if (layout.bitsStored === layout.bitsAllocated) return (n) => samples[n]!;
  const value = valueOfBits(layout);
  return (n) => value(samples[n]!);
}

/**
 * The sample a codec is given for stored value `s` (the inverse of decodedReader): the value
 * itself when High Bit is Bits Stored − 1 (sign-extended, as the decoders return it), else its
 * Bits Stored bits moved up to end at High Bit with the other bits zero, as native data is written.
 */
export function encodedSample(s: number, layout: PixelLayout): number {
  const shift = layout.highBit + 1 - layout.bitsStored;
  if (shift === 0) return s;
  const bits = (s < 0 ? s + 2 ** layout.bitsStored : s) % 2 ** layout.bitsStored;
  // A signed container's typed array wraps a pattern with its top bit set to the negative number.
  return bits * 2 ** shift;
}

/** The codec layer, loaded when a file with compressed pixel data is met: native series never need it. */
export function loadCodec(): Promise<typeof import('../pixels/codec/index.js')> {
  return import('../pixels/codec/index.js');
}

/** Smallest and largest stored value of `count` values from value `first`. */
export function storedRange(read: (n: number) => number, first: number, count: number): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let n = first; n < first + count; n++) {
    const v = read(n);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/** 8-bit values in an OW element of a big-endian data set are swapped in pairs (PS3.5 8.1.1). */
export function swapsPairs(layout: PixelLayout, little: boolean, vr: string): boolean {
  return layout.bitsAllocated === 8 && !little && vr === 'OW';
}

function requireNumber(ds: Dataset, t: Tag, name: string, little: boolean, problem: (reason: string) => Error): number {
  const v = numberOf(ds, t, little);
  if (v === undefined || !Number.isFinite(v)) throw problem(`${name} is missing or not a number`);
  return v;
}

/**
 * The pixel layout of a greyscale image (PS3.3 C.7.6.3) as volumes read and write it: integer
 * Pixel Data of 8, 16 or 32 bits, or Float / Double Float Pixel Data. `problem` makes the error
 * of the caller's kind.
 */
export function readPixelLayout(ds: Dataset, little: boolean, problem: (reason: string) => Error): PixelLayout {
  const samples = numberOf(ds, T.SamplesPerPixel, little) ?? 1;
  const photometric = textOf(ds, T.PhotometricInterpretation) ?? 'MONOCHROME2';
  if (samples !== 1 || !photometric.startsWith('MONOCHROME')) {
    throw problem(`a colour image (Photometric Interpretation ${photometric}, ${samples} samples per pixel): only greyscale images make a volume`);
  }
  const rows = requireNumber(ds, T.Rows, 'Rows', little, problem);
  const columns = requireNumber(ds, T.Columns, 'Columns', little, problem);
  if (rows < 1 || columns < 1) throw problem(`an empty image (${rows} rows, ${columns} columns)`);
  if (ds.has(T.FloatPixelData)) return { rows, columns, bitsAllocated: 32, bitsStored: 32, highBit: 31, signed: true, sample: 'float32' };
  if (ds.has(T.DoubleFloatPixelData)) return { rows, columns, bitsAllocated: 64, bitsStored: 64, highBit: 63, signed: true, sample: 'float64' };
  const bitsAllocated = requireNumber(ds, T.BitsAllocated, 'Bits Allocated', little, problem);
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    throw problem(`Bits Allocated ${bitsAllocated} is not supported (8, 16 or 32)`);
  }
  const bitsStored = numberOf(ds, T.BitsStored, little) ?? bitsAllocated;
  const highBit = numberOf(ds, T.HighBit, little) ?? bitsStored - 1;
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated) {
    throw problem(`inconsistent Bits Stored ${bitsStored} / High Bit ${highBit} for Bits Allocated ${bitsAllocated}`);
  }
  const signed = (numberOf(ds, T.PixelRepresentation, little) ?? 0) === 1;
  return { rows, columns, bitsAllocated, bitsStored, highBit, signed, sample: 'integer' };
}
