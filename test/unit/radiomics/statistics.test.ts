import { describe, expect, it } from 'vitest';
import { percentile, statisticalFeatures } from '../../../src/radiomics/features/statistics.js';
import type { Feature } from '../../../src/radiomics/types.js';
import { digitalPhantom } from '../support/ibsi-phantom.js';

/** The digital phantom's intensities in its mask (intensity mask = mask: no re-segmentation). */
function phantomValues(): Float64Array {
  const { image, mask } = digitalPhantom();
  return Float64Array.from(image.data.filter((_, v) => mask.data[v] === 1));
}

/** IBSI publishes values to 3 significant digits (or more, when written): ours must round to them. */
function roundsTo(value: number, published: string): boolean {
  const digits = Math.max(3, published.replace(/^[-+]?0*\.?0*/, '').replace('.', '').replace(/0+$/, '').length);
  return Number(value.toPrecision(digits)) === Number(published);
}

function byName(features: Feature[]): Map<string, Feature> {
  return new Map(features.map((f) => [f.name, f]));
}

describe('intensity-based statistical features (IBSI 3.3)', () => {
  it('reproduces every consensus value of the digital phantom', () => {
    const values = phantomValues();
    expect(values.length).toBe(74);
    const features = byName(statisticalFeatures(values));
    // [name, IBSI code, published value for "dig. phantom"]
    const reference: [string, string, string][] = [
      ['Mean intensity', 'Q4LE', '2.15'],
      ['Intensity variance', 'ECT3', '3.05'],
      ['Intensity skewness', 'KE2A', '1.08'],
      ['(Excess) intensity kurtosis', 'IPH6', '-0.355'],
      ['Median intensity', 'Y12H', '1'],
      ['Minimum intensity', '1GSF', '1'],
      ['10th intensity percentile', 'QG58', '1'],
      ['90th intensity percentile', '8DWT', '4'],
      ['Maximum intensity', '84IY', '6'],
      ['Intensity interquartile range', 'SALO', '3'],
      ['Intensity range', '2OJQ', '5'],
      ['Intensity-based mean absolute deviation', '4FUA', '1.55'],
      ['Intensity-based robust mean absolute deviation', '1128', '1.11'],
      ['Intensity-based median absolute deviation', 'N72L', '1.15'],
      ['Intensity-based coefficient of variation', '7TET', '0.812'],
      ['Intensity-based quartile coefficient of dispersion', '9S40', '0.6'],
      ['Intensity-based energy', 'N8CA', '567'],
      ['Root mean square intensity', '5ZWQ', '2.77'],
    ];
    expect([...features.keys()].sort()).toEqual(reference.map((r) => r[0]).sort());
    for (const [name, code, published] of reference) {
      const f = features.get(name)!;
      expect(f.code, name).toBe(code);
      expect(f.family).toBe('stat');
      expect(f.aggregation).toBe('');
      expect(roundsTo(f.value, published), `${name} (${code}) = ${f.value}, published ${published}`).toBe(true);
    }
  });

  it('interpolates percentiles linearly between order statistics', () => {
    const sorted = Float64Array.from([1, 2, 3, 4]);
    expect(percentile(sorted, 0)).toBe(1);
    expect(percentile(sorted, 10)).toBeCloseTo(1.3, 12);
    expect(percentile(sorted, 25)).toBeCloseTo(1.75, 12);
    expect(percentile(sorted, 50)).toBe(2.5);
    expect(percentile(sorted, 90)).toBeCloseTo(3.7, 12);
    expect(percentile(sorted, 100)).toBe(4);
    expect(percentile(new Float64Array(0), 50)).toBeNaN();
  });

  it('computes a small set by hand, whatever the input order', () => {
    const f = byName(statisticalFeatures(Float64Array.from([4, 1, 3, 2])));
    expect(f.get('Mean intensity')!.value).toBe(2.5);
    expect(f.get('Intensity variance')!.value).toBe(1.25);
    expect(f.get('Intensity skewness')!.value).toBe(0);
    // m4 = (2·1.5⁴ + 2·0.5⁴)/4 = 2.5625; 2.5625/1.25² − 3 = −1.36
    expect(f.get('(Excess) intensity kurtosis')!.value).toBeCloseTo(-1.36, 12);
    expect(f.get('Median intensity')!.value).toBe(2.5);
    expect(f.get('10th intensity percentile')!.value).toBeCloseTo(1.3, 12);
    expect(f.get('90th intensity percentile')!.value).toBeCloseTo(3.7, 12);
    expect(f.get('Intensity interquartile range')!.value).toBeCloseTo(1.5, 12);
    // [P10, P90] = [1.3, 3.7] keeps {2, 3}: mean 2.5, deviations 0.5
    expect(f.get('Intensity-based robust mean absolute deviation')!.value).toBeCloseTo(0.5, 12);
    expect(f.get('Intensity-based mean absolute deviation')!.value).toBe(1);
    expect(f.get('Intensity-based median absolute deviation')!.value).toBe(1);
    expect(f.get('Intensity-based quartile coefficient of dispersion')!.value).toBeCloseTo(1.5 / 5, 12);
    expect(f.get('Intensity-based energy')!.value).toBe(30);
    expect(f.get('Root mean square intensity')!.value).toBeCloseTo(Math.sqrt(7.5), 12);
  });

  it('keeps accuracy on large offsets (CT-like values)', () => {
    const values = Float64Array.from({ length: 1000 }, (_, k) => 1e6 + (k % 2));
    const f = byName(statisticalFeatures(values));
    expect(f.get('Intensity variance')!.value).toBeCloseTo(0.25, 10);
    expect(f.get('(Excess) intensity kurtosis')!.value).toBeCloseTo(-2, 10);
  });

  it('gives a single voxel zero spread and NaN only where a ratio has no denominator', () => {
    const f = byName(statisticalFeatures(Float64Array.from([-7])));
    expect(f.get('Mean intensity')!.value).toBe(-7);
    expect(f.get('Intensity variance')!.value).toBe(0);
    expect(f.get('Intensity skewness')!.value).toBe(0);
    expect(f.get('(Excess) intensity kurtosis')!.value).toBe(0);
    expect(f.get('10th intensity percentile')!.value).toBe(-7);
    expect(f.get('Intensity-based robust mean absolute deviation')!.value).toBe(0);
    expect(Math.abs(f.get('Intensity-based coefficient of variation')!.value)).toBe(0);
    const zero = byName(statisticalFeatures(Float64Array.from([0])));
    expect(zero.get('Intensity-based coefficient of variation')!.value).toBeNaN();
    expect(zero.get('Intensity-based quartile coefficient of dispersion')!.value).toBeNaN();
    expect(zero.get('Root mean square intensity')!.value).toBe(0);
  });

  it('returns NaN rather than throwing for an empty set', () => {
    const features = statisticalFeatures(new Float64Array(0));
    expect(features).toHaveLength(18);
    const f = byName(features);
    expect(f.get('Mean intensity')!.value).toBeNaN();
    expect(f.get('Median intensity')!.value).toBeNaN();
    expect(f.get('Intensity-based energy')!.value).toBe(0);
  });
});
