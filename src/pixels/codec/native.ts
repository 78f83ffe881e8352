/**
 * Native (uncompressed) pixel data, PS3.5 8.1 and PS3.3 C.7.6.3: frames one after the other,
 * Bits Allocated per sample in the data set's byte order, colour interleaved or planar, 4:2:2
 * chroma shared by pairs of pixels.
 *
 * Decoding must cost close to nothing for the common greyscale case (the whole issue's budget is
 * 30 ms per 512² CT frame): a little-endian frame whose bytes are aligned is returned as a typed
 * array VIEW on the file's bytes (callers must not write into it); anything else is copied once
 * (big endian swapped, unaligned, planar, 4:2:2, or values with bits outside Bits Stored).
 */
import type { Frame, PixelFormat, Samples } from '../types.js';
import type { StoredLayout } from './layout.js';
import { bytesOf, copyBytes, interleave, newSamples, samplesView } from './samples.js';

/** Stored bytes of one frame (4:2:2 keeps two samples per pixel: Y, and Cb or Cr). */
export function storedFrameBytes(layout: StoredLayout): number {
  const perPixel = layout.photometric === 'YBR_FULL_422' && layout.samplesPerPixel === 3 ? 2 : layout.samplesPerPixel;
  return layout.rows * layout.columns * perPixel * (layout.bitsAllocated >> 3);
}

/** The byte order of the stored samples, and whether 8-bit samples sit in a byte-swapped OW value. */
export interface NativeEncoding {
  readonly littleEndian: boolean;
  /** Value Representation of the Pixel Data element: 8-bit samples in OW of a big-endian set are swapped in pairs. */
  readonly vr: string;
}

function swapsPairs(layout: StoredLayout, enc: NativeEncoding): boolean {
  return layout.bitsAllocated === 8 && !enc.littleEndian && enc.vr === 'OW';
}

/** Stored bytes of frame `index` in machine order (copied only when they have to be). */
function frameSamples(pixel: Uint8Array, layout: StoredLayout, enc: NativeEncoding, index: number, shape: PixelFormat): { samples: Samples; copied: boolean } {
  const size = storedFrameBytes(layout);
  const start = index * size;
  let bytes = pixel.subarray(start, start + size);
  const width = layout.bitsAllocated >> 3;
  if (swapsPairs(layout, enc)) {
    // An odd frame start in a pair-swapped value: the swap pairs bytes of the whole value, not of the frame.
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) out[i] = pixel[(start + i) ^ 1] ?? 0;
    return { samples: samplesView(out, shape), copied: true };
  }
  if (!enc.littleEndian && width > 1) {
    // One copy, then Node's native in-place swap (about 30× faster than a JavaScript loop).
    const out = Buffer.from(bytes);
    if (width === 2) out.swap16();
    else out.swap32();
    return { samples: samplesView(out, shape), copied: true };
  }
  if (bytes.byteOffset % width !== 0) {
    bytes = copyBytes(bytes);
    return { samples: samplesView(bytes, shape), copied: true };
  }
  return { samples: samplesView(bytes, shape), copied: false };
}

/**
 * Decodes frame `index`. The frame's format is `format` (built by the caller from the layout):
 * samples interleaved, 4:2:2 upsampled to full resolution (each pixel of a pair gets the pair's
 * Cb and Cr), values moved down to bit 0 and sign-extended when High Bit or unused bits ask for it.
 */
export function decodeNativeFrame(pixel: Uint8Array, layout: StoredLayout, enc: NativeEncoding, index: number, format: PixelFormat): Frame {
  let { samples } = frameSamples(pixel, layout, enc, index, format);
  if (layout.samplesPerPixel === 3) {
    if (layout.photometric === 'YBR_FULL_422') samples = upsample422(samples, layout, format);
    else if (layout.planarConfiguration === 1) samples = interleave(samples, format);
  }
  samples = normaliseBits(samples, layout, format);
  return { format, data: samples };
}

function deinterleave(data: Samples, format: PixelFormat): Samples {
  const n = format.rows * format.columns;
  const out = newSamples(n * 3, format);
  for (let i = 0; i < n; i++) {
    out[i] = data[3 * i]!;
    out[n + i] = data[3 * i + 1]!;
    out[2 * n + i] = data[3 * i + 2]!;
  }
  return out;
}

/**
 * 4:2:2 (PS3.3 C.7.6.3.1.2): each horizontal pair of pixels is stored Y1 Y2 Cb Cr. An odd last
 * column has no partner; the standard requires an even number of columns, so such files are
 * read as if the missing Y were the last one stored.
 */
function upsample422(stored: Samples, layout: StoredLayout, format: PixelFormat): Samples {
  const { rows, columns } = layout;
  const out = newSamples(rows * columns * 3, format);
  let s = 0;
  for (let r = 0; r < rows; r++) {
    const rowStart = r * columns * 3;
    for (let c = 0; c < columns; c += 2) {
      const y1 = stored[s]!;
      const y2 = stored[s + 1]!;
      const cb = stored[s + 2]!;
      const cr = stored[s + 3]!;
      s += 4;
      const p = rowStart + c * 3;
      out[p] = y1;
      out[p + 1] = cb;
      out[p + 2] = cr;
      if (c + 1 < columns) {
        out[p + 3] = y2;
        out[p + 4] = cb;
        out[p + 5] = cr;
      }
    }
  }
  return out;
}

/** The opposite of upsample422: the pair's chroma is the rounded mean of its two pixels'. */
function downsample422(data: Samples, layout: StoredLayout, format: PixelFormat): Samples {
  const { rows, columns } = layout;
  const pairs = Math.ceil(columns / 2);
  const out = newSamples(rows * pairs * 4, format);
  let s = 0;
  for (let r = 0; r < rows; r++) {
    const rowStart = r * columns * 3;
    for (let c = 0; c < columns; c += 2) {
      const p = rowStart + c * 3;
      const q = c + 1 < columns ? p + 3 : p;
      out[s] = data[p]!;
      out[s + 1] = data[q]!;
      out[s + 2] = Math.round((data[p + 1]! + data[q + 1]!) / 2);
      out[s + 3] = Math.round((data[p + 2]! + data[q + 2]!) / 2);
      s += 4;
    }
  }
  return out;
}

/**
 * Values whose High Bit is not Bits Stored − 1, or whose unused high bits are not clean (old
 * files keep overlays there; signed values may not be sign-extended), are extracted and
 * sign-extended into a copy. A scan decides, so the common clean case stays a view.
 */
function normaliseBits(samples: Samples, layout: StoredLayout, format: PixelFormat): Samples {
  const { bitsStored, bitsAllocated, highBit } = layout;
  if (bitsStored === bitsAllocated) return samples;
  const shift = highBit + 1 - bitsStored;
  const signed = layout.pixelRepresentation === 1;
  const lo = signed ? -(2 ** (bitsStored - 1)) : 0;
  const hi = signed ? 2 ** (bitsStored - 1) - 1 : 2 ** bitsStored - 1;
  if (shift === 0) {
    let clean = true;
    for (let i = 0; i < samples.length; i++) {
      const v = samples[i]!;
      if (v < lo || v > hi) {
        clean = false;
        break;
      }
    }
    if (clean) return samples;
  }
  const out = newSamples(samples.length, format);
  const mask = 2 ** bitsStored - 1;
  const range = 2 ** bitsStored;
  const signBit = 2 ** (bitsStored - 1);
  const unsignedMax = 2 ** bitsAllocated;
  for (let i = 0; i < samples.length; i++) {
    let raw = samples[i]!;
    if (raw < 0) raw += unsignedMax; // the container's two's complement, as unsigned bits
    let v = Math.floor(raw / 2 ** shift) % (mask + 1);
    if (signed && v >= signBit) v -= range;
    out[i] = v;
  }
  return out;
}

/**
 * Encodes one frame back to its stored bytes (in the data set's byte order, planar or 4:2:2 as
 * the layout says). Values go to bits highBit−bitsStored+1 … highBit; unused bits are zero for
 * unsigned and the sign for signed values (what a clean writer stores).
 */
export function encodeNativeFrame(frame: Frame, layout: StoredLayout, enc: NativeEncoding): Uint8Array {
  const format = frame.format;
  let data: Samples = frame.data;
  const shift = layout.highBit + 1 - layout.bitsStored;
  if (shift > 0) {
    const out = newSamples(data.length, format);
    const mask = 2 ** layout.bitsStored - 1;
    for (let i = 0; i < data.length; i++) {
      let v = data[i]!;
      if (v < 0) v += 2 ** layout.bitsStored;
      out[i] = (v & mask) * 2 ** shift;
    }
    data = out;
  }
  if (layout.samplesPerPixel === 3) {
    if (layout.photometric === 'YBR_FULL_422') data = downsample422(data, layout, format);
    else if (layout.planarConfiguration === 1) data = deinterleave(data, format);
  }
  let bytes = bytesOf(data);
  const width = layout.bitsAllocated >> 3;
  if (!enc.littleEndian && width > 1) {
    const out = Buffer.from(bytes);
    if (width === 2) out.swap16();
    else out.swap32();
    bytes = out;
  }
  return bytes;
}

/** Writes a frame's stored bytes into a copy of the whole value at the frame's place. */
export function placeNativeFrame(target: Uint8Array, frameBytes: Uint8Array, layout: StoredLayout, enc: NativeEncoding, index: number): void {
  const start = index * storedFrameBytes(layout);
  if (swapsPairs(layout, enc)) {
    for (let i = 0; i < frameBytes.length; i++) target[(start + i) ^ 1] = frameBytes[i]!;
  } else {
    target.set(frameBytes, start);
  }
}

