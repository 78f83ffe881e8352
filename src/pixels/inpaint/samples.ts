/**
 * The meaningful values of a frame's samples and the way back. Only Bits Stored bits carry the
 * pixel (PS3.5 8.1.1 and PS3.3 C.7.6.3.1); the typed array a codec chose may be signed or
 * unsigned whatever the Pixel Representation, so values are read from the low Bits Stored bits,
 * sign-extended when the representation is two's complement, and written back in the array's own
 * convention. Inpainted values are clamped to what Bits Stored and the signedness can represent.
 */
import type { Box, Frame, PixelFormat, Samples } from '../types.js';
import { InpaintError } from './errors.js';

/** The smallest and largest value Bits Stored and Pixel Representation allow. */
export function valueRange(format: PixelFormat): { readonly min: number; readonly max: number } {
  const bits = format.bitsStored;
  return format.pixelRepresentation === 1 ? { min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 } : { min: 0, max: 2 ** bits - 1 };
}

/** Checks that a frame's layout is consistent, so that every later index is in bounds. */
export function checkFrame(frame: Frame): void {
  const f = frame.format;
  const where = 'frame';
  if (!Number.isInteger(f.rows) || f.rows < 1 || !Number.isInteger(f.columns) || f.columns < 1) {
    throw new InpaintError(`${where}: rows and columns must be positive integers (got ${f.rows}×${f.columns})`);
  }
  if (f.samplesPerPixel !== 1 && f.samplesPerPixel !== 3) throw new InpaintError(`${where}: samplesPerPixel must be 1 or 3 (got ${String(f.samplesPerPixel)})`);
  if (f.bitsAllocated !== 8 && f.bitsAllocated !== 16 && f.bitsAllocated !== 32) throw new InpaintError(`${where}: bitsAllocated must be 8, 16 or 32 (got ${String(f.bitsAllocated)})`);
  if (!Number.isInteger(f.bitsStored) || f.bitsStored < 1 || f.bitsStored > f.bitsAllocated) {
    throw new InpaintError(`${where}: bitsStored ${f.bitsStored} does not fit bitsAllocated ${f.bitsAllocated}`);
  }
  const bytes = frame.data.BYTES_PER_ELEMENT * 8;
  if (bytes !== f.bitsAllocated) throw new InpaintError(`${where}: a ${frame.data.constructor.name} cannot hold ${f.bitsAllocated}-bit samples`);
  const expected = f.rows * f.columns * f.samplesPerPixel;
  if (frame.data.length !== expected) {
    throw new InpaintError(`${where}: ${frame.data.length} samples, but ${f.columns}×${f.rows}×${f.samplesPerPixel} needs ${expected}`);
  }
}

/** Reads the meaningful value of raw sample `raw` (as the typed array returned it). */
export function valueReader(format: PixelFormat): (raw: number) => number {
  const bits = format.bitsStored;
  if (bits === 32) {
    return format.pixelRepresentation === 1 ? (raw) => raw | 0 : (raw) => raw >>> 0;
  }
  const mask = 2 ** bits - 1;
  if (format.pixelRepresentation === 0) return (raw) => (raw >>> 0) & mask;
  const sign = 2 ** (bits - 1);
  return (raw) => {
    const v = (raw >>> 0) & mask;
    return v >= sign ? v - 2 * sign : v;
  };
}

/**
 * Every sample's meaningful value, interleaved as the frame holds them; with `windows`, only the
 * samples inside them (the rest stay 0): the removers read the frame only around the mask, and on
 * a 1024×768 colour frame converting every sample cost more than inpainting its text. Converted
 * in a loop: V8's typed-array constructor across element types (Uint8Array → Float64Array) is
 * several times slower (measured 88 against 24 ms for 2.4 M samples).
 */
export function meaningfulValues(frame: Frame, windows?: readonly Box[]): Float64Array {
  const f = frame.format;
  const data = frame.data;
  const out = new Float64Array(data.length);
  const signedArray = data instanceof Int8Array || data instanceof Int16Array || data instanceof Int32Array;
  // The common case, all bits stored in an array of the right signedness, needs no masking.
  const read = f.bitsStored === f.bitsAllocated && signedArray === (f.pixelRepresentation === 1) ? undefined : valueReader(f);
  const spp = f.samplesPerPixel;
  const convert = (from: number, to: number) => {
    if (read) for (let n = from; n < to; n++) out[n] = read(data[n]!);
    else for (let n = from; n < to; n++) out[n] = data[n]!;
  };
  if (!windows) {
    convert(0, data.length);
    return out;
  }
  for (const w of windows) {
    for (let y = w.y; y < w.y + w.height; y++) {
      const start = (y * f.columns + w.x) * spp;
      convert(start, start + w.width * spp);
    }
  }
  return out;
}

/**
 * Writes value `v` (rounded and clamped to the frame's range) at sample `n` of `target`, in the
 * convention of its typed array: a signed array takes the signed value, an unsigned array the
 * two's complement bit pattern.
 */
export function sampleWriter(format: PixelFormat, target: Samples): (n: number, v: number) => void {
  const { min, max } = valueRange(format);
  const signedArray = target instanceof Int8Array || target instanceof Int16Array || target instanceof Int32Array;
  const modulus = 2 ** format.bitsAllocated;
  return (n, v) => {
    let x = Math.round(v);
    if (!(x >= min)) x = min; // also NaN
    if (x > max) x = max;
    target[n] = signedArray || x >= 0 ? x : x + modulus;
  };
}

/** A copy of a frame's samples in a typed array of the same kind. */
export function copySamples(data: Samples): Samples {
  return data.slice();
}
