/**
 * The ring Z_{2^32} in which masked inputs live, and the byte order they travel in.
 *
 * Why 2^32: a Uint32Array stores exactly one ring element per word, and storing a double into it
 * reduces it modulo 2^32 (ECMA-262 ToUint32), so x + y and x − y are one addition or subtraction
 * per element with no bigint and no branch. Masks are uniform in the whole ring; the inputs use
 * only `bits` ≤ 32 − ⌈log2 n⌉ of it (see quantise.ts), so the sum of n inputs never wraps.
 * Words travel little-endian whatever the machine's own byte order.
 */
import { endianness } from 'node:os';

/** Number of bits of the ring Z_{2^RING_BITS}. */
export const RING_BITS = 32;

/** Whether this machine stores words little-endian (then words and their wire bytes share memory). */
export const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** target ← target + mask (mod 2^32), in place. */
export function addInto(target: Uint32Array, mask: Uint32Array): void {
  checkSameLength(target, mask);
  for (let i = 0; i < target.length; i++) target[i] = target[i]! + mask[i]!;
}

/** target ← target − mask (mod 2^32), in place. */
export function subtractInto(target: Uint32Array, mask: Uint32Array): void {
  checkSameLength(target, mask);
  for (let i = 0; i < target.length; i++) target[i] = target[i]! - mask[i]!;
}

function checkSameLength(a: Uint32Array, b: Uint32Array): void {
  if (a.length !== b.length) throw new RangeError(`ring vectors differ in length: ${a.length} and ${b.length}`);
}

/** The little-endian bytes of `words` (a view, without copying, on little-endian machines). */
export function wordsToBytes(words: Uint32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < words.length; i++) view.setUint32(i * 4, words[i]!, true);
  return bytes;
}

/**
 * Reads little-endian 32-bit words; `bytes.length` must be a multiple of 4. Bytes that own their
 * whole memory (a fresh buffer, not a slice of Node's buffer pool or of another array) become the
 * words' memory on little-endian machines; other bytes are copied.
 */
export function bytesToWords(bytes: Uint8Array): Uint32Array {
  if (bytes.length % 4 !== 0) throw new RangeError(`${bytes.length} bytes are not a whole number of 32-bit words`);
  if (LITTLE_ENDIAN_HOST && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
    return new Uint32Array(bytes.buffer, 0, bytes.length / 4);
  }
  const words = new Uint32Array(bytes.length / 4);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(words.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < words.length; i++) words[i] = view.getUint32(i * 4, true);
  }
  return words;
}
