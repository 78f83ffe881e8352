/**
 * The pseudorandom generator that expands a 32-byte seed into a mask (Bonawitz et al. 2017, §3.2:
 * PRG(b_u), PRG(s_{u,v})), and a seeded stream of random numbers for choices the server must be
 * able to repeat (the SecAgg+ neighbour graph).
 *
 * The PRG is AES-256 in counter mode keyed with the seed, counter starting at zero, encrypting
 * zeros: the keystream is indistinguishable from uniform bytes to anyone without the seed, and
 * common x86 and ARM processors run AES in hardware. A seed is used as a key exactly once per
 * protocol run (self-mask seeds are fresh; pairwise seeds are derived from fresh keys and the
 * session), so the fixed counter start never repeats a keystream across runs.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { bytesToWords } from './ring.js';

/** Bytes of a PRG seed (an AES-256 key). */
export const SEED_BYTES = 32;

/** A source of cryptographically random bytes; tests may pass a seeded one to be reproducible. */
export type RandomBytes = (size: number) => Uint8Array;

/** Node's CSPRNG: the default random source of every secure aggregation object. */
export const systemRandom: RandomBytes = (size) => new Uint8Array(randomBytes(size));

const ZERO_COUNTER = new Uint8Array(16);

function keystream(seed: Uint8Array): ReturnType<typeof createCipheriv> {
  if (seed.length !== SEED_BYTES) throw new RangeError(`a PRG seed has ${SEED_BYTES} bytes, got ${seed.length}`);
  return createCipheriv('aes-256-ctr', seed, ZERO_COUNTER);
}

/** `length` uniform elements of Z_{2^32} expanded from `seed`: the first 4·length keystream bytes, little-endian. */
export function expandSeed(seed: Uint8Array, length: number): Uint32Array {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`a mask length must be a whole number ≥ 0, got ${length}`);
  return bytesToWords(keystream(seed).update(new Uint8Array(length * 4)));
}

/**
 * A deterministic stream of random bytes and integers from a 32-byte seed (the same AES-CTR
 * keystream, read sequentially). Not for keys in production: use `systemRandom` there.
 */
export class SeededRandom {
  private readonly stream: ReturnType<typeof createCipheriv>;
  private buffer: Uint8Array = new Uint8Array(0);
  private position = 0;

  constructor(seed: Uint8Array) {
    this.stream = keystream(seed);
  }

  /** The next `size` bytes of the stream. */
  bytes(size: number): Uint8Array {
    const out = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      if (this.position === this.buffer.length) {
        this.buffer = this.stream.update(new Uint8Array(4096));
        this.position = 0;
      }
      const take = Math.min(size - filled, this.buffer.length - this.position);
      out.set(this.buffer.subarray(this.position, this.position + take), filled);
      this.position += take;
      filled += take;
    }
    return out;
  }

  /** A uniform integer in [0, bound), bound ≤ 2^32, by rejection (no modulo bias). */
  below(bound: number): number {
    if (!Number.isInteger(bound) || bound < 1 || bound > 2 ** 32) throw new RangeError(`a bound must be an integer in [1, 2^32], got ${bound}`);
    const limit = 2 ** 32 - (2 ** 32 % bound);
    for (;;) {
      const value = this.nextUint32();
      if (value < limit) return value % bound;
    }
  }

  /** The next 4 bytes as a little-endian unsigned integer. */
  nextUint32(): number {
    if (this.position + 4 > this.buffer.length) {
      const b = this.bytes(4);
      return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    }
    const b = this.buffer;
    const p = this.position;
    this.position += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  /** This stream as a `RandomBytes` source. */
  readonly source: RandomBytes = (size) => this.bytes(size);
}
