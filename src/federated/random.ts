/**
 * A small seeded pseudo-random generator for reproducible training: initialisation, shuffling
 * and any noise a test or simulation needs. xoshiro128** (Blackman and Vigna, "Scrambled linear
 * pseudorandom number generators", 2018) seeded through a splitmix-style mixer, so nearby seeds
 * (0, 1, 2, …) give unrelated streams. Not cryptographic: secrets and masks use `node:crypto`.
 *
 * Everything is integer arithmetic on 32-bit words (`Math.imul`, shifts), so a seed gives the
 * same stream on every machine and Node version.
 */

/** A seeded stream of numbers. Each call advances the stream. */
export interface Rng {
  /** Uniform in [0, 1), 53 random bits (two 32-bit outputs). */
  next(): number;
  /** An unsigned 32-bit integer, uniform. */
  nextUint32(): number;
  /** An integer uniform in [0, bound), bound a positive integer up to 2^32 (rejection sampling, no bias). */
  nextInt(bound: number): number;
  /** Standard normal N(0, 1), by the Box–Muller transform (the second value of each pair is kept for the next call). */
  gaussian(): number;
}

/** MurmurHash3's 32-bit finaliser: a bijection on 32-bit words that mixes every input bit into every output bit. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const TWO_32 = 4294967296;

/** The low and high 32-bit words of a safe integer (two's complement for negatives). */
function words(seed: number, what: string): [number, number] {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`${what} must be a safe integer, got ${seed}`);
  const lo = ((seed % TWO_32) + TWO_32) % TWO_32;
  const hi = ((Math.floor(seed / TWO_32) % TWO_32) + TWO_32) % TWO_32;
  return [lo >>> 0, hi >>> 0];
}

/**
 * One 32-bit seed from several (for example a round's seed and a site's): order matters, and a
 * change in any part changes the result. Parts must be safe integers.
 */
export function mixSeeds(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    const [lo, hi] = words(part, 'a seed');
    h = fmix32((h ^ lo) + 0x7f4a7c15);
    h = fmix32((h ^ hi) + 0x6a09e667);
  }
  return h;
}

const SPLITMIX_GAMMA = 0x9e3779b9;
/** 2^-53, 2^26: for turning two 32-bit words into a double in [0, 1). */
const TWO_MINUS_53 = 1 / 9007199254740992;
const TWO_26 = 67108864;

class Xoshiro128StarStar implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  constructor(seed: number) {
    const [lo, hi] = words(seed, 'the seed');
    // Injective in the low word for a fixed high word, so distinct 32-bit seeds start distinct streams.
    let state = (lo ^ fmix32(hi)) >>> 0;
    const step = (): number => {
      state = (state + SPLITMIX_GAMMA) >>> 0;
      return fmix32(state);
    };
    this.s0 = step();
    this.s1 = step();
    this.s2 = step();
    this.s3 = step();
    // The all-zero state is xoshiro's one fixed point.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  nextUint32(): number {
    const s1 = this.s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result >>> 0;
  }

  next(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * TWO_26 + b) * TWO_MINUS_53;
  }

  nextInt(bound: number): number {
    if (!Number.isInteger(bound) || bound < 1 || bound > TWO_32) throw new RangeError(`nextInt needs an integer bound in [1, 2^32], got ${bound}`);
    // Reject the top partial copy of [0, bound) so every value is equally likely.
    const limit = TWO_32 - (TWO_32 % bound);
    for (;;) {
      const r = this.nextUint32();
      if (r < limit) return r % bound;
    }
  }

  gaussian(): number {
    if (this.spare !== undefined) {
      const z = this.spare;
      this.spare = undefined;
      return z;
    }
    // 1 − next() lies in (0, 1], so the logarithm is finite.
    const u1 = 1 - this.next();
    const u2 = this.next();
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    this.spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }
}

/** A new generator; the same seed (a safe integer) always gives the same stream. */
export function createRng(seed: number): Rng {
  return new Xoshiro128StarStar(seed);
}

/** Shuffles `order` in place (Fisher–Yates), drawing from `rng`. */
export function shuffleInPlace(order: Uint32Array, rng: Rng): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
}
