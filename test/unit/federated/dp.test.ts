import { describe, expect, it } from 'vitest';
import {
  DpConfigurationError,
  DpInputError,
  InsufficientSitesError,
  addGaussianNoise,
  assertEnoughSites,
  clipToNorm,
  cryptoRng,
  dpAggregate,
  l2Norm,
  planDp,
  roundSamplingRate,
  validateDpPlan,
  type DpPlan,
} from '../../../src/federated/dp.js';
import { createRng } from '../../../src/federated/random.js';
import { epsilonFor } from '../../../src/federated/rdp.js';

function meanAndSd(v: Float64Array): { mean: number; sd: number } {
  let s = 0;
  for (const x of v) s += x;
  const mean = s / v.length;
  let ss = 0;
  for (const x of v) ss += (x - mean) ** 2;
  return { mean, sd: Math.sqrt(ss / (v.length - 1)) };
}

/** Mean within 4 standard errors of 0 and standard deviation within 4 of its standard errors of `sigma`. */
function expectNormalNoise(noise: Float64Array, sigma: number): void {
  const n = noise.length;
  const { mean, sd } = meanAndSd(noise);
  expect(Math.abs(mean)).toBeLessThan((4 * sigma) / Math.sqrt(n));
  expect(Math.abs(sd - sigma)).toBeLessThan((4 * sigma) / Math.sqrt(2 * n));
  // Shape: the share within one standard deviation is Φ(1) − Φ(−1) = 0.6827.
  let inside = 0;
  for (const x of noise) if (Math.abs(x) < sigma) inside++;
  const p = 0.682689492;
  expect(Math.abs(inside / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
}

describe('l2Norm and clipToNorm', () => {
  it('computes the Euclidean norm without overflow or underflow', () => {
    expect(l2Norm(Float64Array.of(3, 4))).toBe(5);
    expect(l2Norm(Float64Array.of(3e200, 4e200))).toBeCloseTo(5e200, -190);
    expect(l2Norm(Float64Array.of(3e-200, 4e-200)) / 5e-200).toBeCloseTo(1, 12);
    expect(l2Norm(new Float64Array(4))).toBe(0);
  });

  it('scales a long vector down to the clip norm, keeping its direction', () => {
    const v = Float64Array.of(3, -4, 12); // norm 13
    const clipped = clipToNorm(v, 2);
    expect(l2Norm(clipped)).toBeCloseTo(2, 14);
    for (let i = 0; i < v.length; i++) expect(clipped[i]!).toBeCloseTo((v[i]! * 2) / 13, 14);
    expect(Array.from(v)).toEqual([3, -4, 12]); // input untouched
  });

  it('leaves a short vector as it is, in a new array', () => {
    const v = Float64Array.of(0.1, 0.2);
    const clipped = clipToNorm(v, 1);
    expect(Array.from(clipped)).toEqual([0.1, 0.2]);
    expect(clipped).not.toBe(v);
    expect(Array.from(clipToNorm(new Float64Array(3), 1))).toEqual([0, 0, 0]);
  });

  it('refuses a bad clip norm or a non-finite vector', () => {
    expect(() => clipToNorm(Float64Array.of(1), 0)).toThrow(DpConfigurationError);
    expect(() => clipToNorm(Float64Array.of(1), Number.NaN)).toThrow(/clip norm/);
    expect(() => clipToNorm(Float64Array.of(1, Number.NaN), 1)).toThrow(DpInputError);
    expect(() => clipToNorm(Float64Array.of(Infinity), 1)).toThrow(/index 0/);
  });
});

describe('addGaussianNoise', () => {
  it('adds N(0, σ²) noise: mean, standard deviation and shape within their confidence intervals (seeded)', () => {
    const noise = addGaussianNoise(new Float64Array(40_000), 2.5, 20240601);
    expectNormalNoise(noise, 2.5);
  });

  it('is reproducible with a seed and differs between seeds', () => {
    const v = Float64Array.of(1, 2, 3, 4);
    expect(Array.from(addGaussianNoise(v, 1, 7))).toEqual(Array.from(addGaussianNoise(v, 1, 7)));
    expect(Array.from(addGaussianNoise(v, 1, 7))).not.toEqual(Array.from(addGaussianNoise(v, 1, 8)));
    expect(Array.from(v)).toEqual([1, 2, 3, 4]);
    expect(Array.from(addGaussianNoise(v, 0, 7))).toEqual([1, 2, 3, 4]);
  });

  it('draws from the operating system by default, with the same statistics', () => {
    const a = addGaussianNoise(new Float64Array(40_000), 0.5);
    const b = addGaussianNoise(new Float64Array(40_000), 0.5);
    expectNormalNoise(a, 0.5);
    expect(a[0]).not.toBe(b[0]);
    const rng = cryptoRng();
    for (let k = 0; k < 1000; k++) {
      const u = rng.next();
      expect(u >= 0 && u < 1).toBe(true);
      expect(rng.nextInt(6)).toBeLessThan(6);
    }
  });

  it('refuses a negative or non-finite σ', () => {
    expect(() => addGaussianNoise(Float64Array.of(1), -1, 1)).toThrow(DpConfigurationError);
    expect(() => addGaussianNoise(Float64Array.of(1), Infinity, 1)).toThrow(/standard deviation/);
  });
});

describe('dpAggregate', () => {
  const current = Float64Array.of(1, 1, 1);

  it('without noise adds the mean of the clipped updates', () => {
    const updates = [Float64Array.of(0.3, 0, 0.4), Float64Array.of(0, 6, 8)]; // norms 0.5 and 10
    const next = dpAggregate(current, updates, 2, 1, 0, createRng(1));
    // The second update is clipped to (0, 0.6, 0.8).
    expect(next[0]!).toBeCloseTo(1 + 0.3 / 2, 14);
    expect(next[1]!).toBeCloseTo(1 + 0.6 / 2, 14);
    expect(next[2]!).toBeCloseTo(1 + (0.4 + 0.8) / 2, 14);
    expect(Array.from(current)).toEqual([1, 1, 1]);
    expect(Array.from(updates[1]!)).toEqual([0, 6, 8]);
  });

  it('gives the same result from the updates or from their sum (secure aggregation)', () => {
    const updates = [Float64Array.of(0.1, -0.2, 0.05), Float64Array.of(-0.3, 0.1, 0.2), Float64Array.of(0, 0.4, -0.1)];
    const sum = new Float64Array(3);
    for (const u of updates) for (let i = 0; i < 3; i++) sum[i]! += u[i]!;
    const fromUpdates = dpAggregate(current, updates, 3, 1, 1.3, createRng(99));
    const fromSum = dpAggregate(current, sum, 3, 1, 1.3, createRng(99));
    for (let i = 0; i < 3; i++) expect(fromUpdates[i]!).toBeCloseTo(fromSum[i]!, 14);
  });

  it('adds noise of standard deviation zC to the sum', () => {
    const d = 30_000;
    const zero = new Float64Array(d);
    const z = 1.7;
    const c = 0.4;
    const count = 5;
    const next = dpAggregate(zero, [new Float64Array(d)], count, c, z, createRng(3));
    const noiseOnSum = next.map((v) => v * count);
    expectNormalNoise(noiseOnSum, z * c);
  });

  it('refuses vectors that do not fit the model and bad settings', () => {
    expect(() => dpAggregate(current, [Float64Array.of(1, 2)], 1, 1, 1, createRng(1))).toThrow(/update 0 has 2 values, the model 3/);
    expect(() => dpAggregate(current, Float64Array.of(1), 1, 1, 1, createRng(1))).toThrow(DpInputError);
    expect(() => dpAggregate(current, [], 1, 1, 1, createRng(1))).toThrow(/no updates/);
    expect(() => dpAggregate(current, Float64Array.of(1, Number.NaN, 0), 1, 1, 1, createRng(1))).toThrow(/non-finite/);
    expect(() => dpAggregate(current, [current], 0, 1, 1, createRng(1))).toThrow(/divisor/);
    expect(() => dpAggregate(current, [current], 1, -1, 1, createRng(1))).toThrow(/clip norm/);
  });
});

describe('DpPlan', () => {
  const plan: DpPlan = { clipNorm: 1, noiseMultiplier: 1.1, minSites: 3, totalSites: 5, delta: 1e-5 };

  it('accepts a valid plan and refuses each field out of range', () => {
    expect(validateDpPlan(plan)).toBe(plan);
    expect(() => validateDpPlan({ ...plan, clipNorm: 0 })).toThrow(/clip norm/);
    expect(() => validateDpPlan({ ...plan, noiseMultiplier: 0 })).toThrow(/noiseMultiplier/);
    expect(() => validateDpPlan({ ...plan, minSites: 6 })).toThrow(/minSites/);
    expect(() => validateDpPlan({ ...plan, minSites: 0 })).toThrow(/minSites/);
    expect(() => validateDpPlan({ ...plan, totalSites: 2.5 })).toThrow(/totalSites/);
    expect(() => validateDpPlan({ ...plan, delta: 1 })).toThrow(/delta/);
  });

  it('refuses a round with fewer sites than the minimum, saying how many are needed and how many remain', () => {
    expect(() => assertEnoughSites(plan, 3)).not.toThrow();
    expect(() => assertEnoughSites(plan, 5)).not.toThrow();
    let error: unknown;
    try {
      assertEnoughSites(plan, 2);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InsufficientSitesError);
    expect((error as InsufficientSitesError).required).toBe(3);
    expect((error as InsufficientSitesError).available).toBe(2);
    expect((error as Error).message).toMatch(/at least 3 participating sites per round, only 2 remain/);
  });

  it('gives the sampling rate of a round as participating / all sites', () => {
    expect(roundSamplingRate(plan, 5)).toBe(1);
    expect(roundSamplingRate(plan, 4)).toBe(0.8);
    expect(() => roundSamplingRate(plan, 6)).toThrow(DpConfigurationError);
  });

  it('plans the noise multiplier that meets a target ε', () => {
    const planned = planDp({ epsilon: 2, delta: 1e-5, rounds: 20, clipNorm: 0.5, minSites: 3, totalSites: 5 });
    expect(planned.clipNorm).toBe(0.5);
    expect(epsilonFor(planned.noiseMultiplier, 1e-5, 20, 1).epsilon).toBeLessThanOrEqual(2);
    expect(epsilonFor(planned.noiseMultiplier * 0.99, 1e-5, 20, 1).epsilon).toBeGreaterThan(2);
    // Sampling 2 of 5 sites per round needs less noise for the same ε.
    const sampled = planDp({ epsilon: 2, delta: 1e-5, rounds: 20, clipNorm: 0.5, minSites: 2, totalSites: 5, sitesPerRound: 2 });
    expect(sampled.noiseMultiplier).toBeLessThan(planned.noiseMultiplier);
    expect(() => planDp({ epsilon: 2, delta: 1e-5, rounds: 20, clipNorm: 0.5, minSites: 3, totalSites: 5, sitesPerRound: 9 })).toThrow(/sitesPerRound/);
  });
});
