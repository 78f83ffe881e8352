/**
 * RLE Lossless (PS3.5 Annex G), written here rather than taken from a library: the format is a
 * 64-byte header and PackBits segments (one per byte plane of each sample), a few dozen lines each
 * way; decoding in JavaScript avoids a WASM call and a copy per frame, and of the installed
 * libraries only dcmjs-codecs encodes it (cornerstone does not), through a whole-dataset API.
 */
import type { PixelFormat, Samples } from '../types.js';
import { newSamples } from './samples.js';

/** Why an RLE frame cannot be decoded. */
export class RleProblem extends Error {}

/** Decodes one RLE frame to interleaved samples of `format` (machine byte order). */
export function decodeRle(frame: Uint8Array, format: PixelFormat): Samples {
  if (frame.length < 64) throw new RleProblem(`an RLE frame of ${frame.length} bytes is shorter than its 64-byte header`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  const bytesPerSample = format.bitsAllocated >> 3;
  const expected = format.samplesPerPixel * bytesPerSample;
  if (segments !== expected) throw new RleProblem(`the RLE header announces ${segments} segments where ${expected} are needed`);
  const pixels = format.rows * format.columns;
  const out = newSamples(pixels * format.samplesPerPixel, format);
  const outBytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  const stride = format.samplesPerPixel * bytesPerSample;
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || end > frame.length || end < start) throw new RleProblem(`segment ${s} has invalid offsets`);
    const sample = Math.floor(s / bytesPerSample);
    // Segments run from the most significant byte of a sample to the least (G.2); memory is little endian.
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    let o = sample * bytesPerSample + byteInSample;
    let written = 0;
    let p = start;
    while (p < end && written < pixels) {
      const n = frame[p++]!;
      if (n < 128) {
        const count = Math.min(n + 1, pixels - written, end - p);
        for (let k = 0; k < count; k++) {
          outBytes[o] = frame[p++]!;
          o += stride;
        }
        written += count;
      } else if (n > 128) {
        const count = Math.min(257 - n, pixels - written);
        const value = frame[p++]!;
        for (let k = 0; k < count; k++) {
          outBytes[o] = value;
          o += stride;
        }
        written += count;
      }
      // n = 128 (-128): no operation (G.3.2).
    }
    if (written < pixels) throw new RleProblem(`segment ${s} decodes to ${written} of ${pixels} values`);
  }
  return out;
}

/**
 * PackBits of one row of a byte plane (G.3.1): literal runs of up to 128, replicate runs of 2 to
 * 128, written into `out` from `pos`; returns the new position. Typed arrays and plain indexing:
 * a 1760×2140 16-bit frame is 7.5 million bytes to pack, and a number[] with a closure per byte
 * took 0.6 s of it.
 */
function packRow(src: Uint8Array, start: number, count: number, stride: number, out: Uint8Array, pos: number): number {
  const end = start + count * stride;
  let i = start;
  while (i < end) {
    const v = src[i]!;
    let run = 1;
    let j = i + stride;
    while (j < end && run < 128 && src[j] === v) {
      run++;
      j += stride;
    }
    if (run >= 2) {
      out[pos++] = 257 - run;
      out[pos++] = v;
      i = j;
      continue;
    }
    // A literal run ends before two equal bytes (they start a replicate run) or after 128 bytes.
    const header = pos++;
    let lit = 0;
    while (i < end && lit < 128) {
      const next = i + stride;
      if (lit > 0 && next < end && src[i] === src[next]) break;
      out[pos++] = src[i]!;
      lit++;
      i = next;
    }
    out[header] = lit - 1;
  }
  return pos;
}

/** Encodes interleaved samples (machine byte order) as one RLE frame, even length. */
export function encodeRle(data: Samples, format: PixelFormat): Uint8Array {
  const bytesPerSample = format.bitsAllocated >> 3;
  const segments = format.samplesPerPixel * bytesPerSample;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const stride = segments;
  // Never more than two bytes per value (a literal run of one, then a replicate run of two, costs
  // four bytes for three values); plus the even-length pad.
  const perRow = 2 * format.columns;
  const scratch = new Uint8Array(format.rows * perRow + 1);
  const encoded: Uint8Array[] = [];
  for (let s = 0; s < segments; s++) {
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    let pos = 0;
    for (let r = 0; r < format.rows; r++) {
      const rowStart = r * format.columns * stride + sample * bytesPerSample + byteInSample;
      pos = packRow(bytes, rowStart, format.columns, stride, scratch, pos);
    }
    if (pos % 2 === 1) scratch[pos++] = 128; // a no-op byte keeps each segment even (G.5)
    encoded.push(scratch.slice(0, pos));
  }
  const total = 64 + encoded.reduce((n, s) => n + s.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, segments, true);
  let pos = 64;
  encoded.forEach((seg, s) => {
    view.setUint32(4 + 4 * s, pos, true);
    out.set(seg, pos);
    pos += seg.length;
  });
  return out;
}
