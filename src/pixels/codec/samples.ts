/** Typed arrays for frame samples, chosen by Bits Allocated and Pixel Representation. */
import type { PixelFormat, Samples } from '../types.js';

type SampleShape = Pick<PixelFormat, 'bitsAllocated' | 'pixelRepresentation'>;

/** A typed-array view of `bytes` (which must be aligned to the sample size) as samples. */
export function samplesView(bytes: Uint8Array, shape: SampleShape): Samples {
  const signed = shape.pixelRepresentation === 1;
  const { buffer, byteOffset, byteLength } = bytes;
  switch (shape.bitsAllocated) {
    case 8:
      // A plain Uint8Array even when `bytes` is a Node Buffer: frames have one array type per format.
      return signed ? new Int8Array(buffer, byteOffset, byteLength) : new Uint8Array(buffer, byteOffset, byteLength);
    case 16:
      return signed ? new Int16Array(buffer, byteOffset, byteLength >> 1) : new Uint16Array(buffer, byteOffset, byteLength >> 1);
    case 32:
      return signed ? new Int32Array(buffer, byteOffset, byteLength >> 2) : new Uint32Array(buffer, byteOffset, byteLength >> 2);
  }
}

/**
 * A copy of `bytes` in a new, aligned buffer. Not `bytes.slice()`: on a Node Buffer (which the
 * reader's values and zlib's output are) `slice` is a view on the same memory, so writing into
 * the "copy" would change the input file's bytes and a misaligned view would stay misaligned.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** A new zeroed array of `count` samples. */
export function newSamples(count: number, shape: SampleShape): Samples {
  return samplesView(new Uint8Array(count * (shape.bitsAllocated >> 3)), shape);
}

/** The bytes of a typed array (little endian, as the machine holds them: Node only runs little-endian here). */
export function bytesOf(samples: Samples): Uint8Array {
  return samples instanceof Uint8Array ? samples : new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
}

/** The array type a format's frames must come in. */
export function expectedArrayName(shape: SampleShape): string {
  const signed = shape.pixelRepresentation === 1;
  return `${signed ? 'Int' : 'Uint'}${shape.bitsAllocated}Array`;
}

/** Whether `data` is of the array type the format asks for (a Node Buffer counts as a Uint8Array). */
export function hasExpectedType(data: Samples, shape: SampleShape): boolean {
  const signed = shape.pixelRepresentation === 1;
  switch (shape.bitsAllocated) {
    case 8:
      return signed ? data instanceof Int8Array : data instanceof Uint8Array;
    case 16:
      return signed ? data instanceof Int16Array : data instanceof Uint16Array;
    case 32:
      return signed ? data instanceof Int32Array : data instanceof Uint32Array;
  }
}

/** Colour planes one after another (R…, G…, B…) as interleaved samples (R, G, B, R, G, B…). */
export function interleave(planar: Samples, format: PixelFormat): Samples {
  const n = format.rows * format.columns;
  const out = newSamples(n * 3, format);
  for (let i = 0; i < n; i++) {
    out[3 * i] = planar[i]!;
    out[3 * i + 1] = planar[n + i]!;
    out[3 * i + 2] = planar[2 * n + i]!;
  }
  return out;
}
