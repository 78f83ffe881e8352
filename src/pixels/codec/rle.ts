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

/** PackBits of one row of a byte plane (G.3.1): literal runs of up to 128, replicate runs of 2 to 128. */
function packRow(src: Uint8Array, start: number, count: number, stride: number, out: number[]): void {
  const at = (i: number) => src[start + i * stride]!;
  let i = 0;
  while (i < count) {
    let run = 1;
    while (i + run < count && run < 128 && at(i + run) === at(i)) run++;
    if (run >= 2) {
      out.push(257 - run, at(i));
      i += run;
      continue;
    }
    let lit = 1;
    while (i + lit < count && lit < 128 && !(i + lit + 1 < count && at(i + lit) === at(i + lit + 1))) lit++;
    out.push(lit - 1);
    for (let k = 0; k < lit; k++) out.push(at(i + k));
    i += lit;
  }
}

/** Encodes interleaved samples (machine byte order) as one RLE frame, even length. */
export function encodeRle(data: Samples, format: PixelFormat): Uint8Array {
  const bytesPerSample = format.bitsAllocated >> 3;
  const segments = format.samplesPerPixel * bytesPerSample;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const stride = segments;
  const encoded: number[][] = [];
  for (let s = 0; s < segments; s++) {
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    const seg: number[] = [];
    for (let r = 0; r < format.rows; r++) {
      const rowStart = r * format.columns * stride + sample * bytesPerSample + byteInSample;
      packRow(bytes, rowStart, format.columns, stride, seg);
    }
    if (seg.length % 2 === 1) seg.push(128); // a no-op byte keeps each segment even (G.5)
    encoded.push(seg);
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
