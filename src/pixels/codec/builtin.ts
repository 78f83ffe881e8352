/**
 * Codecs written here, with no library: RLE Lossless (see rle.ts for why) and Deflated Image
 * Frame Compression (each frame is a raw deflate stream of native little-endian samples, PS3.5
 * 8.2.x; node:zlib does the work).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Frame, PixelFormat, Samples } from '../types.js';
import type { StoredLayout } from './layout.js';
import type { CodecPlugin } from './plugin.js';
import { decodeRle, encodeRle } from './rle.js';
import { bytesOf, copyBytes, samplesView } from './samples.js';
import { Syntax } from './syntax.js';

export const rlePlugin: CodecPlugin = {
  name: 'radanon RLE',
  decodes: [Syntax.RleLossless],
  encodes: [Syntax.RleLossless],
  load: async () => ({
    decoder: { name: 'radanon RLE', decode: (stream: Uint8Array, _layout: StoredLayout, format: PixelFormat) => decodeRle(stream, format) },
    encoder: { name: 'radanon RLE', encode: (frame: Frame) => encodeRle(frame.data, frame.format) },
  }),
};

function inflateFrame(stream: Uint8Array, _layout: StoredLayout, format: PixelFormat): Samples {
  const bytes = inflateRawSync(stream);
  const expected = format.rows * format.columns * format.samplesPerPixel * (format.bitsAllocated >> 3);
  if (bytes.length < expected) throw new Error(`the frame inflates to ${bytes.length} bytes where ${expected} are needed`);
  // A fresh buffer from zlib may start at any offset of a pooled slab: copy when not aligned.
  const aligned = bytes.byteOffset % (format.bitsAllocated >> 3) === 0 ? bytes : copyBytes(bytes);
  return samplesView(new Uint8Array(aligned.buffer, aligned.byteOffset, expected), format);
}

export const deflateFramePlugin: CodecPlugin = {
  name: 'node:zlib',
  decodes: [Syntax.DeflatedImageFrame],
  encodes: [Syntax.DeflatedImageFrame],
  load: async () => ({
    decoder: { name: 'node:zlib', decode: inflateFrame },
    encoder: { name: 'node:zlib', encode: (frame: Frame) => deflateRawSync(bytesOf(frame.data)) },
  }),
};
