import { createCipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { graphDegree, neighbourGraph } from '../../../src/federated/secagg/graph.js';
import { agree, generateKeyPair, importPrivateKey, importPublicKey, isUsablePublicKey, open, publicKeyOf, seal, shareAssociatedData } from '../../../src/federated/secagg/keys.js';
import { decodeBytes, decodeWords, encodeBytes, encodeWords } from '../../../src/federated/secagg/messages.js';
import { expandSeed, SeededRandom } from '../../../src/federated/secagg/prg.js';
import { dequantiseSum, maxQuantisationBits, quantise, QuantisationError } from '../../../src/federated/secagg/quantise.js';
import { addInto, bytesToWords, subtractInto, wordsToBytes } from '../../../src/federated/secagg/ring.js';
import {
  bigintToBytes,
  bytesToBigint,
  reconstructSecret,
  SHAMIR_PRIME,
  ShamirError,
  shareSecret,
  type Share,
} from '../../../src/federated/secagg/shamir.js';

function seed(label: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(label).digest());
}

function rng(label: string): SeededRandom {
  return new SeededRandom(seed(label));
}

// --- arithmetic mod p written independently of the module, to check its claims --------------

function modP(a: bigint): bigint {
  const r = a % SHAMIR_PRIME;
  return r < 0n ? r + SHAMIR_PRIME : r;
}

function powMod(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

/** The value at `at` of the polynomial through `points`, using Fermat inverses. */
function lagrangeAt(points: readonly { x: bigint; y: bigint }[], at: bigint): bigint {
  let value = 0n;
  for (const [i, pi] of points.entries()) {
    let term = pi.y;
    for (const [j, pj] of points.entries()) {
      if (i === j) continue;
      term = modP(term * modP(at - pj.x) * powMod(modP(pi.x - pj.x), SHAMIR_PRIME - 2n, SHAMIR_PRIME));
    }
    value = modP(value + term);
  }
  return value;
}

function millerRabin(n: bigint, bases: readonly bigint[]): boolean {
  let d = n - 1n;
  let r = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    r++;
  }
  for (const a of bases) {
    let x = powMod(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    let composite = true;
    for (let i = 1; i < r; i++) {
      x = (x * x) % n;
      if (x === n - 1n) {
        composite = false;
        break;
      }
    }
    if (composite) return false;
  }
  return true;
}

const SMALL_PRIMES = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n, 41n, 43n, 47n, 53n, 59n, 61n, 67n, 71n];

describe('Shamir secret sharing over GF(2^256 + 297)', () => {
  it('uses a prime just above 2^256, so every 32-byte string is a field element', () => {
    expect(SHAMIR_PRIME > 1n << 256n).toBe(true);
    expect(millerRabin(SHAMIR_PRIME, SMALL_PRIMES)).toBe(true);
    // The same test rejects the odd numbers between 2^256 and p: p is the smallest prime above 2^256.
    for (let d = 1n; d < 297n; d += 2n) expect(millerRabin((1n << 256n) + d, SMALL_PRIMES)).toBe(false);
  });

  it('reconstructs the secret from every subset of t of the n shares', () => {
    const random = rng('shamir subsets');
    const secret = random.bytes(32);
    const holders = [1, 2, 3, 4, 5];
    const shares = shareSecret(secret, 3, holders, random.source);
    expect([...shares.keys()]).toEqual(holders);
    for (let a = 0; a < 5; a++) {
      for (let b = a + 1; b < 5; b++) {
        for (let c = b + 1; c < 5; c++) {
          const subset = [holders[a]!, holders[b]!, holders[c]!].map((x) => ({ x, y: shares.get(x)! }));
          expect(reconstructSecret(subset, 3)).toEqual(secret);
        }
      }
    }
  });

  it('round-trips extreme secrets (all zeros, all ones) and holder ids far from 1..n', () => {
    const random = rng('shamir extremes');
    for (const secret of [new Uint8Array(32), new Uint8Array(32).fill(0xff)]) {
      const shares = shareSecret(secret, 4, [7, 100, 3, 65_000, 12], random.source);
      const list: Share[] = [...shares].map(([x, y]) => ({ x, y }));
      expect(reconstructSecret(list.slice(1), 4)).toEqual(secret);
      expect(reconstructSecret(list, 4)).toEqual(secret);
    }
  });

  it('t − 1 shares are consistent with any secret at all', () => {
    const random = rng('shamir hiding');
    const secret = random.bytes(32);
    const shares = shareSecret(secret, 3, [1, 2, 3, 4, 5], random.source);
    const seen = [1, 2].map((x) => ({ x: BigInt(x), y: shares.get(x)! }));
    for (let trial = 0; trial < 5; trial++) {
      // Any other secret, with the two shares seen, fixes a polynomial of degree 2; its value at
      // holder 3 is a share that, with the two seen, reconstructs that other secret.
      const other = random.bytes(32);
      const forged = lagrangeAt([{ x: 0n, y: bytesToBigint(other) }, ...seen], 3n);
      const rebuilt = reconstructSecret([...seen.map((s) => ({ x: Number(s.x), y: s.y })), { x: 3, y: forged }], 3);
      expect(rebuilt).toEqual(other);
      expect(rebuilt).not.toEqual(secret);
    }
  });

  it('refuses too few shares, duplicate holders and shares that do not lie on one polynomial', () => {
    const random = rng('shamir errors');
    const secret = random.bytes(32);
    const shares = [...shareSecret(secret, 3, [1, 2, 3, 4], random.source)].map(([x, y]) => ({ x, y }));
    expect(() => reconstructSecret(shares.slice(0, 2), 3)).toThrow(ShamirError);
    expect(() => reconstructSecret([shares[0]!, shares[0]!, shares[1]!], 3)).toThrow(/twice|holder id 1/);
    const altered = shares.map((s) => (s.x === 2 ? { x: 2, y: modP(s.y + 1n) } : s));
    expect(() => reconstructSecret(altered, 3)).toThrow(/do not lie on one polynomial/);
    // With exactly t shares an alteration cannot be detected by Shamir alone: the secret differs.
    expect(reconstructSecret(shares.slice(0, 3), 3)).toEqual(secret);
    expect(() => shareSecret(secret, 5, [1, 2, 3, 4], random.source)).toThrow(/needs at least as many holders/);
    expect(() => shareSecret(secret, 2, [0, 1], random.source)).toThrow(/holder id/);
    expect(() => shareSecret(new Uint8Array(31), 2, [1, 2], random.source)).toThrow(/32 bytes/);
  });

  it('encodes integers big-endian', () => {
    expect(bigintToBytes(0x0102n, 3)).toEqual(new Uint8Array([0, 1, 2]));
    expect(bytesToBigint(new Uint8Array([1, 0]))).toBe(256n);
    expect(() => bigintToBytes(1n << 24n, 3)).toThrow(RangeError);
  });
});

describe('the PRG (AES-256-CTR from a 32-byte seed)', () => {
  it('is AES-256 applied to the big-endian counter 0, 1, 2, ..., read as little-endian words', () => {
    const key = seed('prg key');
    const words = expandSeed(key, 12); // three AES blocks
    const ecb = createCipheriv('aes-256-ecb', key, null);
    ecb.setAutoPadding(false);
    const counters = new Uint8Array(48);
    counters[15] = 0;
    counters[31] = 1;
    counters[47] = 2;
    const expected = Buffer.concat([ecb.update(counters), ecb.final()]);
    expect(wordsToBytes(words)).toEqual(new Uint8Array(expected));
  });

  it('is deterministic, differs between seeds, and a prefix does not depend on the length', () => {
    const a = expandSeed(seed('a'), 1000);
    expect(expandSeed(seed('a'), 1000)).toEqual(a);
    expect(expandSeed(seed('a'), 10)).toEqual(a.subarray(0, 10));
    const b = expandSeed(seed('b'), 1000);
    expect(b.filter((w, i) => w === a[i]!).length).toBeLessThan(3);
    expect(() => expandSeed(new Uint8Array(16), 4)).toThrow(/32 bytes/);
  });

  it('gives a seeded stream and unbiased bounded integers', () => {
    const r1 = rng('stream');
    const r2 = rng('stream');
    expect(r1.bytes(5000)).toEqual(r2.bytes(5000));
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 6000; i++) counts[r1.below(6)]! += 1;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
    expect(() => r1.below(0)).toThrow(RangeError);
  });
});

describe('the ring Z_2^32', () => {
  it('adds and subtracts modulo 2^32 and travels little-endian', () => {
    const x = new Uint32Array([0xffffffff, 5, 0]);
    addInto(x, new Uint32Array([2, 0xfffffffe, 0]));
    expect([...x]).toEqual([1, 3, 0]);
    subtractInto(x, new Uint32Array([2, 4, 1]));
    expect([...x]).toEqual([0xffffffff, 0xffffffff, 0xffffffff]);
    expect([...wordsToBytes(new Uint32Array([0x04030201]))]).toEqual([1, 2, 3, 4]);
    expect([...bytesToWords(new Uint8Array([1, 2, 3, 4, 0, 0, 0, 0x80]))]).toEqual([0x04030201, 0x80000000]);
    expect(() => bytesToWords(new Uint8Array(3))).toThrow(RangeError);
    expect(() => addInto(new Uint32Array(2), new Uint32Array(3))).toThrow(RangeError);
  });

  it('round-trips vectors through strict base64 and refuses malformed text', () => {
    const words = new Uint32Array([1, 0xdeadbeef, 7]);
    expect(decodeWords(encodeWords(words), 'v', 3)).toEqual(words);
    expect(() => decodeWords(encodeWords(words), 'v', 4)).toThrow(/must hold 16 bytes/);
    expect(() => decodeBytes('AAA*', 'v', 3)).toThrow(/not valid base64/);
    expect(() => decodeBytes(42, 'v')).toThrow(/base64 string/);
    expect(decodeBytes(encodeBytes(new Uint8Array([9, 8])), 'v', 2)).toEqual(new Uint8Array([9, 8]));
  });
});

describe('X25519 agreement and share encryption', () => {
  const random = rng('keys');
  const alice = generateKeyPair(random.source);
  const bob = generateKeyPair(random.source);
  const session = random.bytes(16);
  const alicePublic = importPublicKey(alice.publicKey);
  const bobPublic = importPublicKey(bob.publicKey);

  it('derives the same key on both sides, a different one per purpose and per session', () => {
    const ab = agree(alice.privateKeyObject, bobPublic, session, 'pairwise-mask');
    expect(agree(bob.privateKeyObject, alicePublic, session, 'pairwise-mask')).toEqual(ab);
    expect(agree(alice.privateKeyObject, bobPublic, session, 'share-encryption')).not.toEqual(ab);
    expect(agree(alice.privateKeyObject, bobPublic, random.bytes(16), 'pairwise-mask')).not.toEqual(ab);
    // A private key rebuilt from its raw bytes (as the server rebuilds a dropped client's) agrees the same.
    expect(agree(importPrivateKey(Uint8Array.from(alice.privateKey)), bobPublic, session, 'pairwise-mask')).toEqual(ab);
    expect(publicKeyOf(alice.privateKeyObject)).toEqual(alice.publicKey);
  });

  it('opens only with the same key, sender, receiver and session', () => {
    const key = agree(alice.privateKeyObject, bobPublic, session, 'share-encryption');
    const plaintext = random.bytes(66);
    const sealed = seal(key, plaintext, shareAssociatedData(session, 1, 2), random.source);
    expect(sealed.length).toBe(12 + 66 + 16);
    expect(open(key, sealed, shareAssociatedData(session, 1, 2))).toEqual(plaintext);
    expect(open(key, sealed, shareAssociatedData(session, 2, 1))).toBeUndefined();
    expect(open(key, sealed, shareAssociatedData(random.bytes(16), 1, 2))).toBeUndefined();
    const altered = Uint8Array.from(sealed);
    altered[20] = altered[20]! ^ 1;
    expect(open(key, altered, shareAssociatedData(session, 1, 2))).toBeUndefined();
    expect(open(seed('other key'), sealed, shareAssociatedData(session, 1, 2))).toBeUndefined();
  });

  it('refuses public keys of small order', () => {
    expect(isUsablePublicKey(alice.publicKey)).toBe(true);
    expect(isUsablePublicKey(new Uint8Array(32))).toBe(false);
    const one = new Uint8Array(32);
    one[0] = 1;
    expect(isUsablePublicKey(one)).toBe(false);
    expect(isUsablePublicKey(new Uint8Array(31))).toBe(false);
  });
});

describe('the neighbour graph', () => {
  const ids = Array.from({ length: 10 }, (_, i) => i + 1);

  function check(graph: Map<number, number[]>, degree: number): void {
    for (const [u, list] of graph) {
      expect(list).toHaveLength(degree);
      expect(list).not.toContain(u);
      expect(new Set(list).size).toBe(list.length);
      for (const v of list) expect(graph.get(v)).toContain(u);
    }
  }

  it("is complete for 'all' and for k ≥ n − 1", () => {
    check(neighbourGraph(ids, 'all', seed('g')), 9);
    check(neighbourGraph(ids, 12, seed('g')), 9);
  });

  it('is k-regular, symmetric and connected for k < n − 1, and repeatable from its seed', () => {
    for (const k of [2, 3, 4, 5]) {
      const graph = neighbourGraph(ids, k, seed('g'));
      check(graph, k);
      const reached = new Set([1]);
      const queue = [1];
      while (queue.length > 0) for (const v of graph.get(queue.pop()!)!) if (!reached.has(v)) (reached.add(v), queue.push(v));
      expect(reached.size).toBe(10);
      expect(neighbourGraph(ids, k, seed('g'))).toEqual(graph);
    }
    const a = neighbourGraph(ids, 4, seed('g1'));
    const b = neighbourGraph(ids, 4, seed('g2'));
    expect([...a.values()]).not.toEqual([...b.values()]);
  });

  it('uses k + 1 when k and the number of clients are both odd (no odd-degree regular graph exists)', () => {
    const odd = ids.slice(0, 9);
    expect(graphDegree(3, 9)).toBe(4);
    check(neighbourGraph(odd, 3, seed('g')), 4);
    expect(() => neighbourGraph([1, 1, 2], 'all', seed('g'))).toThrow(/twice/);
    expect(() => neighbourGraph(ids, 0, seed('g'))).toThrow(/neighbours/);
  });
});

describe('quantisation into the ring', () => {
  it('chooses the most bits whose sum of n values cannot wrap', () => {
    expect(maxQuantisationBits(1)).toBe(32);
    expect(maxQuantisationBits(2)).toBe(31);
    expect(maxQuantisationBits(10)).toBe(28);
    expect(maxQuantisationBits(50)).toBe(26);
    for (const n of [3, 7, 10, 50, 1000]) {
      const b = maxQuantisationBits(n);
      expect(n * (2 ** b - 1)).toBeLessThan(2 ** 32);
      expect(n * (2 ** (b + 1) - 1)).toBeGreaterThanOrEqual(2 ** 32);
    }
  });

  it('decodes the ring sum of n quantised vectors within clip·2^(1−bits)·n of the true sum', () => {
    const random = rng('quantise');
    for (const [n, bits, clip] of [
      [5, 16, 1],
      [10, 28, 0.5],
      [10, 8, 2],
      [50, 26, 3],
    ] as const) {
      const length = 200;
      const exact = new Float64Array(length);
      const sum = new Uint32Array(length);
      for (let c = 0; c < n; c++) {
        const v = Float64Array.from({ length }, () => (random.below(2 ** 32) / 2 ** 32) * 2 * clip - clip);
        v[0] = clip; // the ends of the range are exact
        v[1] = -clip;
        for (let i = 0; i < length; i++) exact[i]! += v[i]!;
        addInto(sum, quantise(v, clip, bits));
      }
      const decoded = dequantiseSum(sum, clip, bits, n);
      const bound = clip * 2 ** (1 - bits) * n;
      let worst = 0;
      for (let i = 0; i < length; i++) worst = Math.max(worst, Math.abs(decoded[i]! - exact[i]!));
      expect(worst).toBeLessThanOrEqual(bound);
      expect(Math.abs(decoded[0]! - n * clip)).toBeLessThan(1e-9 * n * clip);
      expect(Math.abs(decoded[1]! + n * clip)).toBeLessThan(1e-9 * n * clip);
    }
  });

  it('clips to [−clip, clip] and refuses NaN and bad settings', () => {
    const q = quantise(Float64Array.of(-5, 5, 0), 1, 8);
    expect([...q]).toEqual([0, 255, 128]);
    expect([...dequantiseSum(q, 1, 8, 1)].map((x) => Math.round(x * 1000) / 1000)).toEqual([-1, 1, 0.004]);
    expect(() => quantise(Float64Array.of(Number.NaN), 1, 8)).toThrow(/element 0 is NaN/);
    expect(() => quantise(Float64Array.of(0), 0, 8)).toThrow(QuantisationError);
    expect(() => quantise(Float64Array.of(0), 1, 33)).toThrow(/bits/);
    expect(() => dequantiseSum(new Uint32Array(1), 1, 29, 10)).toThrow(/can wrap.*at most 28 bits/);
    expect(() => dequantiseSum(Uint32Array.of(2 ** 20), 1, 8, 2)).toThrow(/more than 2 quantised values/);
  });

  it('rounds stochastically without bias when given a uniform source', () => {
    const random = rng('stochastic');
    const uniform = (): number => random.below(2 ** 32) / 2 ** 32;
    const v = new Float64Array(20_000).fill(0.3); // 0.3 lies between grid points at 8 bits
    const stochastic = dequantiseSum(quantise(v, 1, 8, { stochastic: uniform }), 1, 8, 1);
    const nearest = dequantiseSum(quantise(v, 1, 8), 1, 8, 1);
    const step = 2 / 255;
    const mean = stochastic.reduce((a, b) => a + b, 0) / v.length;
    expect(Math.abs(mean - 0.3)).toBeLessThan(step / 50);
    expect(Math.abs(nearest[0]! - 0.3)).toBeGreaterThan(step / 10); // the bias the stochastic rounding removes
    for (const x of stochastic) expect(Math.abs(x - 0.3)).toBeLessThan(step);
    expect(() => quantise(v, 1, 8, { stochastic: () => 1 })).toThrow(/\[0, 1\)/);
  });
});

describe('base64 on the wire', () => {
  it('decodes a vector of a million words (the check is linear, not a backtracking pattern)', () => {
    const words = new Uint32Array(1_000_000).map((_, i) => (i * 2654435761) >>> 0);
    const text = encodeWords(words);
    expect(Array.from(decodeWords(text, 'masked input', words.length).subarray(0, 5))).toEqual(Array.from(words.subarray(0, 5)));
    expect(decodeWords(text, 'masked input', words.length)[999_999]).toBe(words[999_999]);
  });

  it('refuses characters outside the alphabet, misplaced padding and lengths that are not whole quads', () => {
    expect(() => decodeBytes('AAA*', 'key')).toThrow(/not valid base64/);
    expect(() => decodeBytes('A=AA', 'key')).toThrow(/not valid base64/);
    expect(() => decodeBytes('AAAAA', 'key')).toThrow(/not valid base64/);
    expect(Array.from(decodeBytes(encodeBytes(Uint8Array.from([1, 2])), 'key'))).toEqual([1, 2]);
  });
});
