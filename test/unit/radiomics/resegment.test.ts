import { describe, expect, test } from 'vitest';
import { meanAndSd, resegment, resegmentationInterval } from '../../../src/radiomics/resegment.js';

const count = (m: Uint8Array) => m.reduce((a, b) => a + b, 0);

describe('range re-segmentation', () => {
  // 10 voxels, the last two outside the morphological mask.
  const intensity = Float64Array.from([-1200, -1000, -600, -500, 0, 400, 401, 3000, -5000, 50]);
  const morph = Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);

  test('keeps intensities in [lower, upper], bounds included, and only inside the morphological mask', () => {
    const m = resegment(intensity, morph, { range: [-1000, 400], outlierSigma: null });
    expect([...m]).toEqual([0, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
    expect(count(resegment(intensity, morph, { range: [-500, 400], outlierSigma: null }))).toBe(3);
  });

  test('an open upper bound', () => {
    const m = resegment(intensity, morph, { range: [-500, Infinity], outlierSigma: null });
    expect([...m]).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 0, 0]);
  });

  test('no re-segmentation copies the morphological mask, and the inputs are not modified', () => {
    const before = Uint8Array.from(morph);
    const m = resegment(intensity, morph, { range: null, outlierSigma: null });
    expect(m).toEqual(morph);
    expect(m).not.toBe(morph);
    m[0] = 0;
    expect(morph).toEqual(before);
  });
});

describe('outlier filtering (μ ± 3σ over the morphological mask)', () => {
  // 99 voxels of 0 and one of 100: μ = 1, σ² = (99·1 + 99²)/100 = 99, σ = 9.95, μ + 3σ = 30.85.
  const intensity = new Float64Array(101);
  intensity[99] = 100;
  intensity[100] = 1e6; // outside the mask: must not count in μ and σ
  const morph = new Uint8Array(101).fill(1);
  morph[100] = 0;

  test('μ and σ (population) by hand', () => {
    const { mean, sd, count: n } = meanAndSd(intensity, morph);
    expect(n).toBe(100);
    expect(mean).toBeCloseTo(1, 12);
    expect(sd).toBeCloseTo(Math.sqrt(99), 12);
  });

  test('the outlier is removed, the rest kept', () => {
    const [lower, upper] = resegmentationInterval(intensity, morph, { range: null, outlierSigma: 3 });
    expect(lower).toBeCloseTo(1 - 3 * Math.sqrt(99), 10);
    expect(upper).toBeCloseTo(1 + 3 * Math.sqrt(99), 10);
    const m = resegment(intensity, morph, { range: null, outlierSigma: 3 });
    expect(count(m)).toBe(99);
    expect(m[99]).toBe(0);
  });

  test('a wider σ keeps the outlier', () => {
    // (100 − 1)/√99 = 9.95σ
    expect(count(resegment(intensity, morph, { range: null, outlierSigma: 10 }))).toBe(100);
  });
});

describe('range and outlier filtering together', () => {
  test('μ and σ come from the whole morphological mask, and the intervals intersect', () => {
    // Intensities 1..10 and 100: μ = 155/11 = 14.09, σ = 27.30; μ + 1σ = 41.40 removes 100.
    const intensity = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100]);
    const morph = new Uint8Array(11).fill(1);
    const { mean, sd } = meanAndSd(intensity, morph);
    const settings = { range: [3, 1000] as const, outlierSigma: 1 };
    const [lower, upper] = resegmentationInterval(intensity, morph, settings);
    expect(lower).toBe(3); // μ − σ < 3: the range's bound
    expect(upper).toBeCloseTo(mean + sd, 12); // below 1000: the outlier bound
    const m = resegment(intensity, morph, settings);
    expect([...m]).toEqual([0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    // Computing μ ± σ over the range-filtered voxels instead (3..10, 100: μ = 16.89, σ = 29.46)
    // would give another upper bound: the order is a real choice.
    const ranged = Uint8Array.from(intensity, (x) => (x >= 3 ? 1 : 0));
    const after = meanAndSd(intensity, ranged);
    expect(Math.abs(after.mean + after.sd - upper)).toBeGreaterThan(1);
  });

  test('an interval that excludes every voxel gives an empty mask', () => {
    const m = resegment(Float64Array.from([1, 2, 3]), Uint8Array.from([1, 1, 1]), { range: [10, 20], outlierSigma: 3 });
    expect(count(m)).toBe(0);
  });

  test('intensity and mask of different sizes are refused', () => {
    expect(() => resegment(new Float64Array(3), new Uint8Array(4), { range: null, outlierSigma: null })).toThrow(RangeError);
  });
});
