/**
 * Vectors on the wire: the bytes of a Float64Array or Uint32Array, little endian, in base64
 * (RFC 4648 §4), with the element type and count stated so a receiver can check them before
 * trusting a single value. JSON numbers would cost three times the bytes and lose nothing but
 * time; base64 of IEEE 754 doubles is exact.
 */
import { endianness } from 'node:os';
import { MessageError } from './validate.js';

export type VectorType = 'f64' | 'u32';

/** A vector as it travels. */
export interface WireVector {
  readonly type: VectorType;
  readonly length: number;
  readonly base64: string;
}

const LITTLE_ENDIAN_HOST = endianness() === 'LE';
const BYTES: Record<VectorType, number> = { f64: 8, u32: 4 };

function bytesOf(v: Float64Array | Uint32Array): Buffer {
  if (LITTLE_ENDIAN_HOST) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const out = Buffer.alloc(v.byteLength);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (v instanceof Float64Array) v.forEach((x, i) => view.setFloat64(i * 8, x, true));
  else v.forEach((x, i) => view.setUint32(i * 4, x, true));
  return out;
}

export function encodeVector(v: Float64Array | Uint32Array): WireVector {
  return { type: v instanceof Float64Array ? 'f64' : 'u32', length: v.length, base64: bytesOf(v).toString('base64') };
}

function decodedBytes(value: unknown, path: string, type: VectorType, expectedLength: number | undefined, maxLength: number): Buffer {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MessageError(path, 'must be an encoded vector {type, length, base64}');
  const v = value as Record<string, unknown>;
  if (v.type !== type) throw new MessageError(`${path}.type`, `must be "${type}", got ${JSON.stringify(v.type)}`);
  const length = v.length;
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0 || length > maxLength) {
    throw new MessageError(`${path}.length`, `must be an integer from 0 to ${maxLength}`);
  }
  if (expectedLength !== undefined && length !== expectedLength) throw new MessageError(`${path}.length`, `must be ${expectedLength}, got ${length}`);
  if (typeof v.base64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v.base64)) throw new MessageError(`${path}.base64`, 'must be a base64 string');
  const bytes = Buffer.from(v.base64, 'base64');
  if (bytes.length !== length * BYTES[type]) throw new MessageError(`${path}.base64`, `holds ${bytes.length} bytes, ${length} ${type} values need ${length * BYTES[type]}`);
  return bytes;
}

export interface VectorLimits {
  /** The exact length required, when known. */
  readonly length?: number;
  /** The largest length accepted otherwise (default 2^26). */
  readonly maxLength?: number;
}

/** A Float64Array from its wire form; every value must be finite. */
export function decodeFloat64(value: unknown, path: string, limits: VectorLimits = {}): Float64Array {
  const bytes = decodedBytes(value, path, 'f64', limits.length, limits.maxLength ?? 1 << 26);
  const out = new Float64Array(bytes.length / 8);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) {
    const x = view.getFloat64(i * 8, true);
    if (!Number.isFinite(x)) throw new MessageError(`${path}[${i}]`, `must be a finite number, got ${x}`);
    out[i] = x;
  }
  return out;
}

export function decodeUint32(value: unknown, path: string, limits: VectorLimits = {}): Uint32Array {
  const bytes = decodedBytes(value, path, 'u32', limits.length, limits.maxLength ?? 1 << 26);
  const out = new Uint32Array(bytes.length / 4);
  if (LITTLE_ENDIAN_HOST) {
    // Copy: the Buffer may sit at an offset of its pool that is not 4-aligned.
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
  }
  return out;
}
