/**
 * Shamir's t-of-n secret sharing (Shamir 1979) of 32-byte secrets — the self-mask seeds b_u and
 * the mask private keys s_u^SK of Bonawitz et al. 2017, §3.1 — over the prime field GF(p) with
 * p = 2^256 + 297, the smallest prime above 2^256, so every 32-byte string is a field element
 * (X25519 private keys are arbitrary 32-byte strings; a 255-bit field would not hold them all).
 *
 * A secret is the constant term of a random polynomial of degree t − 1; holder x receives the
 * polynomial's value at x, x being the holder's client id (≥ 1). Any t shares determine the
 * polynomial (Lagrange interpolation at 0); any t − 1 are consistent with every secret, so they
 * tell nothing about it.
 */
import type { RandomBytes } from './prg.js';

/** The field's prime, 2^256 + 297. */
export const SHAMIR_PRIME = (1n << 256n) + 297n;

/** Bytes of a share's value (big-endian; values are < p < 2^257). */
export const SHARE_BYTES = 33;

/** Bytes of a shared secret. */
export const SECRET_BYTES = 32;

/** One holder's share: the polynomial's value `y` at the holder's id `x`. */
export interface Share {
  readonly x: number;
  readonly y: bigint;
}

/** Raised when shares cannot give back a secret: too few, duplicated, or not on one polynomial. */
export class ShamirError extends Error {
  override readonly name = 'ShamirError';
}

function mod(a: bigint): bigint {
  const r = a % SHAMIR_PRIME;
  return r < 0n ? r + SHAMIR_PRIME : r;
}

/** a^{-1} mod p by the extended Euclidean algorithm (a ≠ 0 mod p). */
function inverse(a: bigint): bigint {
  let [oldR, r] = [mod(a), SHAMIR_PRIME];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new ShamirError('division by zero in the field');
  return mod(oldS);
}

export function bytesToBigint(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return value;
}

export function bigintToBytes(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new RangeError(`${value} does not fit in ${length} bytes`);
  return out;
}

/** A uniform field element, by rejection from 257-bit strings (no modulo bias). */
function randomFieldElement(random: RandomBytes): bigint {
  for (;;) {
    const bytes = random(SHARE_BYTES);
    bytes[0] = bytes[0]! & 0x01;
    const value = bytesToBigint(bytes);
    if (value < SHAMIR_PRIME) return value;
  }
}

function checkHolderId(x: number): void {
  if (!Number.isSafeInteger(x) || x < 1) throw new ShamirError(`a holder id must be a whole number ≥ 1, got ${x}`);
}

/**
 * Splits a 32-byte `secret` into shares for `holders` (distinct ids ≥ 1) so that any `threshold`
 * of them reconstruct it. Returns holder id → share value.
 */
export function shareSecret(secret: Uint8Array, threshold: number, holders: readonly number[], random: RandomBytes): Map<number, bigint> {
  if (secret.length !== SECRET_BYTES) throw new ShamirError(`a secret has ${SECRET_BYTES} bytes, got ${secret.length}`);
  if (!Number.isSafeInteger(threshold) || threshold < 1) throw new ShamirError(`the threshold must be a whole number ≥ 1, got ${threshold}`);
  if (threshold > holders.length) throw new ShamirError(`a threshold of ${threshold} needs at least as many holders, got ${holders.length}`);
  const seen = new Set<number>();
  for (const x of holders) {
    checkHolderId(x);
    if (seen.has(x)) throw new ShamirError(`holder ${x} is listed twice`);
    seen.add(x);
  }
  // coefficients[0] is the secret; the others are uniform, which is what hides it from t − 1 shares.
  const coefficients = [bytesToBigint(secret)];
  for (let i = 1; i < threshold; i++) coefficients.push(randomFieldElement(random));
  const shares = new Map<number, bigint>();
  for (const x of holders) {
    const bx = BigInt(x);
    let y = 0n;
    for (let i = coefficients.length - 1; i >= 0; i--) y = mod(y * bx + coefficients[i]!);
    shares.set(x, y);
  }
  return shares;
}

/**
 * The value at `at` of the polynomial of degree < points.length through `points` (Lagrange's
 * formula: Σ_i y_i Π_{j≠i} (at − x_j) / (x_i − x_j)).
 */
function interpolate(points: readonly Share[], at: bigint): bigint {
  let value = 0n;
  for (let i = 0; i < points.length; i++) {
    let numerator = 1n;
    let denominator = 1n;
    const xi = BigInt(points[i]!.x);
    for (let j = 0; j < points.length; j++) {
      if (j === i) continue;
      const xj = BigInt(points[j]!.x);
      numerator = mod(numerator * (at - xj));
      denominator = mod(denominator * (xi - xj));
    }
    value = mod(value + points[i]!.y * numerator * inverse(denominator));
  }
  return value;
}

/**
 * Reconstructs a 32-byte secret from at least `threshold` shares with distinct holder ids. When
 * more shares than needed are given, one extra share is checked against the polynomial through
 * the first `threshold`: a share altered in storage or transit is then detected instead of
 * silently giving a wrong secret.
 */
export function reconstructSecret(shares: readonly Share[], threshold: number): Uint8Array {
  if (!Number.isSafeInteger(threshold) || threshold < 1) throw new ShamirError(`the threshold must be a whole number ≥ 1, got ${threshold}`);
  if (shares.length < threshold) throw new ShamirError(`${threshold} shares are needed, got ${shares.length}`);
  const seen = new Set<number>();
  for (const s of shares) {
    checkHolderId(s.x);
    if (seen.has(s.x)) throw new ShamirError(`two shares have holder id ${s.x}`);
    seen.add(s.x);
    if (s.y < 0n || s.y >= SHAMIR_PRIME) throw new ShamirError(`the share of holder ${s.x} is not a field element`);
  }
  const used = shares.slice(0, threshold);
  const check = shares[threshold];
  if (check !== undefined && interpolate(used, BigInt(check.x)) !== check.y) {
    throw new ShamirError(`the shares of holders ${shares.map((s) => s.x).join(', ')} do not lie on one polynomial of degree ${threshold - 1}`);
  }
  const secret = interpolate(used, 0n);
  if (secret >= 1n << 256n) throw new ShamirError('the reconstructed value is not a 32-byte secret: the shares are inconsistent');
  return bigintToBytes(secret, SECRET_BYTES);
}

/** A share value as 33 big-endian bytes. */
export function encodeShareValue(y: bigint): Uint8Array {
  if (y < 0n || y >= SHAMIR_PRIME) throw new ShamirError('a share value must be a field element');
  return bigintToBytes(y, SHARE_BYTES);
}

/** Reads 33 big-endian bytes as a share value; throws when they are not a field element. */
export function decodeShareValue(bytes: Uint8Array): bigint {
  if (bytes.length !== SHARE_BYTES) throw new ShamirError(`a share value has ${SHARE_BYTES} bytes, got ${bytes.length}`);
  const y = bytesToBigint(bytes);
  if (y >= SHAMIR_PRIME) throw new ShamirError('a share value is not below the field prime');
  return y;
}
