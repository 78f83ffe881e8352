/**
 * Fixed-point encoding of real vectors into the ring Z_{2^32} of secure aggregation, and decoding
 * of their sum (the quantisation step of Bonawitz et al. 2017, §2, and of Flower's SecAgg+).
 *
 * A value v is clipped to [−clip, clip] and mapped to the integer q = round((v + clip)·s) in
 * [0, 2^bits − 1], with scale s = (2^bits − 1) / (2·clip): one step is 2·clip/(2^bits − 1).
 * The sum of `count` such integers is below count·(2^bits − 1); as long as that is < 2^32 the sum
 * in the ring is the true integer sum, and Σv ≈ sum/s − count·clip. So `bits` must leave
 * ⌈log2 count⌉ bits of headroom: `maxQuantisationBits(count)` gives the largest safe value, and
 * `dequantiseSum` refuses a count that could have wrapped.
 *
 * Rounding: to nearest by default — deterministic, so every run of a round gives the same sum, and
 * the error of one value is at most half a step, clip/(2^bits − 1). Stochastic rounding (round up
 * with probability equal to the fractional part) is unbiased, which matters when many small
 * updates are averaged; it needs a source of uniform numbers in [0, 1) and errs by less than one
 * step. Either way the error of a decoded sum of `count` values is below
 * count·2·clip/(2^bits − 1) ≈ clip·2^(1−bits)·count.
 */
import { RING_BITS } from './ring.js';

/** A quantisation setting that cannot be used (clip not positive, bits out of range, NaN input...). */
export class QuantisationError extends Error {
  override readonly name = 'QuantisationError';
}

/** How to round to the fixed-point grid: to nearest, or stochastically with uniform numbers in [0, 1). */
export type Rounding = 'nearest' | { readonly stochastic: () => number };

function checkSetting(clip: number, bits: number): void {
  if (!Number.isFinite(clip) || clip <= 0) throw new QuantisationError(`the clip bound must be a finite number > 0, got ${clip}`);
  if (!Number.isInteger(bits) || bits < 1 || bits > RING_BITS) throw new QuantisationError(`bits must be a whole number 1..${RING_BITS}, got ${bits}`);
}

/** Steps per unit: (2^bits − 1) / (2·clip). */
function scaleOf(clip: number, bits: number): number {
  return (2 ** bits - 1) / (2 * clip);
}

/**
 * The largest `bits` with which the sum of `count` quantised vectors cannot wrap around the ring:
 * count·(2^bits − 1) < 2^32. E.g. 28 for 10 summands, 26 for 50.
 */
export function maxQuantisationBits(count: number): number {
  if (!Number.isSafeInteger(count) || count < 1) throw new QuantisationError(`the number of summands must be a whole number ≥ 1, got ${count}`);
  let bits = RING_BITS;
  while (bits > 0 && count * (2 ** bits - 1) > 2 ** RING_BITS - 1) bits--;
  if (bits === 0) throw new QuantisationError(`${count} summands do not fit in a ring of 2^${RING_BITS}`);
  return bits;
}

/** Clips `v` to [−clip, clip] and encodes it on a grid of 2^bits levels (see the module's comment). */
export function quantise(v: Float64Array, clip: number, bits: number, rounding: Rounding = 'nearest'): Uint32Array {
  checkSetting(clip, bits);
  const scale = scaleOf(clip, bits);
  const top = 2 ** bits - 1;
  const out = new Uint32Array(v.length);
  const uniform = rounding === 'nearest' ? undefined : rounding.stochastic;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (Number.isNaN(x)) throw new QuantisationError(`element ${i} is NaN`);
    const position = (Math.min(clip, Math.max(-clip, x)) + clip) * scale;
    let q: number;
    if (uniform === undefined) {
      q = Math.round(position);
    } else {
      const floor = Math.floor(position);
      const u = uniform();
      if (!(u >= 0 && u < 1)) throw new QuantisationError(`the stochastic rounding source gave ${u}, not a number in [0, 1)`);
      q = floor + (u < position - floor ? 1 : 0);
    }
    out[i] = Math.min(top, q);
  }
  return out;
}

/**
 * Decodes the ring sum of `count` vectors quantised with the same clip and bits into the sum of
 * the (clipped) real vectors, within count·2·clip/(2^bits − 1) of it.
 */
export function dequantiseSum(sum: Uint32Array, clip: number, bits: number, count: number): Float64Array {
  checkSetting(clip, bits);
  if (!Number.isSafeInteger(count) || count < 1) throw new QuantisationError(`the number of summands must be a whole number ≥ 1, got ${count}`);
  if (bits > maxQuantisationBits(count)) {
    throw new QuantisationError(`${count} values of ${bits} bits can wrap around the ring of 2^${RING_BITS}; use at most ${maxQuantisationBits(count)} bits`);
  }
  const scale = scaleOf(clip, bits);
  const top = count * (2 ** bits - 1);
  const out = new Float64Array(sum.length);
  for (let i = 0; i < sum.length; i++) {
    const s = sum[i]!;
    if (s > top) throw new QuantisationError(`element ${i} of the sum is ${s}, more than ${count} quantised values can add up to: the inputs did not use ${bits} bits`);
    out[i] = s / scale - count * clip;
  }
  return out;
}
