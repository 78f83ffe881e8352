import { describe, expect, it } from 'vitest';
import { RadiomicsInputError } from '../../../src/radiomics/errors.js';
import { histogramFeatures } from '../../../src/radiomics/features/histogram.js';
import type { Feature } from '../../../src/radiomics/types.js';
import { digitalPhantom } from '../support/ibsi-phantom.js';

/** The digital phantom's grey levels in its mask: used as they are (IBSI 5: no discretisation). */
function phantomLevels(): Int32Array {
  const { image, mask } = digitalPhantom();
  return Int32Array.from(image.data.filter((_, v) => mask.data[v] === 1));
}

/** IBSI publishes values to 3 significant digits (or more, when written): ours must round to them. */
function roundsTo(value: number, published: string): boolean {
  const digits = Math.max(3, published.replace(/^[-+]?0*\.?0*/, '').replace('.', '').replace(/0+$/, '').length);
  return Number(value.toPrecision(digits)) === Number(published);
}

function byName(features: Feature[]): Map<string, Feature> {
  return new Map(features.map((f) => [f.name, f]));
}

describe('intensity histogram features (IBSI 3.4)', () => {
  it('reproduces every consensus value of the digital phantom (6 grey levels)', () => {
    const features = histogramFeatures(phantomLevels(), 6);
    // [name, IBSI code as the reference table gives it, published value for "dig. phantom"]
    const reference: [string, string, string][] = [
      ['Mean discretised intensity', 'X6K6', '2.15'],
      ['Discretised intensity variance', 'CH89', '3.05'],
      ['Discretised intensity skewness', '88K1', '1.08'],
      ['(Excess) discretised intensity kurtosis', 'C3I7', '-0.355'],
      ['Median discretised intensity', 'WIFQ', '1'],
      ['Minimum discretised intensity', '1PR8', '1'],
      ['10th discretised intensity percentile', '1PR8', '1'],
      ['90th discretised intensity percentile', 'GPMT', '4'],
      ['Maximum discretised intensity', '3NCY', '6'],
      ['Intensity histogram mode', 'AMMC', '1'],
      ['Discretised intensity interquartile range', 'WR0O', '3'],
      ['Discretised intensity range', '5Z3W', '5'],
      ['Intensity histogram mean absolute deviation', 'D2ZX', '1.55'],
      ['Intensity histogram robust mean absolute deviation', 'WRZB', '1.11'],
      ['Intensity histogram median absolute deviation', '4RNL', '1.15'],
      ['Intensity histogram coefficient of variation', 'CWYJ', '0.812'],
      ['Intensity histogram quartile coefficient of dispersion', 'SLWD', '0.6'],
      ['Discretised intensity entropy', 'TLU2', '1.27'],
      ['Discretised intensity uniformity', 'BJ5W', '0.512'],
      ['Maximum histogram gradient', '12CE', '8'],
      ['Maximum histogram gradient intensity', '8E6O', '3'],
      ['Minimum histogram gradient', 'VQB3', '-50'],
      ['Minimum histogram gradient intensity', 'RHQZ', '1'],
    ];
    expect(features.map((f) => f.name).sort()).toEqual(reference.map((r) => r[0]).sort());
    const f = byName(features);
    for (const [name, code, published] of reference) {
      const feature = f.get(name)!;
      expect(feature.code, name).toBe(code);
      expect(feature.family).toBe('ih');
      expect(feature.aggregation).toBe('');
      expect(roundsTo(feature.value, published), `${name} (${code}) = ${feature.value}, published ${published}`).toBe(true);
    }
  });

  it('breaks ties of the mode towards the mean, then towards the lower level', () => {
    // counts [2, 0, 0, 2, 1], mean 3: levels 1 and 4 are equally frequent, 4 is nearer the mean
    expect(byName(histogramFeatures(Int32Array.from([1, 1, 4, 4, 5]), 5)).get('Intensity histogram mode')!.value).toBe(4);
    // counts [2, 0, 2], mean 2: levels 1 and 3 are equally near; the lower one is chosen
    expect(byName(histogramFeatures(Int32Array.from([3, 1, 3, 1]), 3)).get('Intensity histogram mode')!.value).toBe(1);
    // a clear winner regardless of distance
    expect(byName(histogramFeatures(Int32Array.from([1, 5, 5, 5, 1, 2]), 5)).get('Intensity histogram mode')!.value).toBe(5);
  });

  it('takes the gradient over every level up to ng, occurring or not', () => {
    // counts [1, 3, 0, 0, 2]: H' = [2, -0.5, -1.5, 1, 2]
    const f = byName(histogramFeatures(Int32Array.from([1, 2, 2, 2, 5, 5]), 5));
    expect(f.get('Maximum histogram gradient')!.value).toBe(2);
    expect(f.get('Maximum histogram gradient intensity')!.value).toBe(1); // first of the two maxima
    expect(f.get('Minimum histogram gradient')!.value).toBe(-1.5);
    expect(f.get('Minimum histogram gradient intensity')!.value).toBe(3);
    // p = [1/6, 1/2, 1/3]
    expect(f.get('Discretised intensity entropy')!.value).toBeCloseTo(-(1 / 6) * Math.log2(1 / 6) - 0.5 * Math.log2(0.5) - (1 / 3) * Math.log2(1 / 3), 12);
    expect(f.get('Discretised intensity uniformity')!.value).toBeCloseTo(1 / 36 + 1 / 4 + 1 / 9, 12);
    // Levels above the highest present still count: ng = 7 gives H'(5) = (0 − 0)/2, H'(6) = −1.
    const wider = byName(histogramFeatures(Int32Array.from([1, 2, 2, 2, 5, 5]), 7));
    expect(wider.get('Minimum histogram gradient')!.value).toBe(-1.5);
    expect(wider.get('Maximum discretised intensity')!.value).toBe(5);
  });

  it('handles a single voxel: zero spread, NaN gradient only where there is no neighbour level', () => {
    const one = byName(histogramFeatures(Int32Array.from([2]), 3));
    expect(one.get('Mean discretised intensity')!.value).toBe(2);
    expect(one.get('Discretised intensity variance')!.value).toBe(0);
    expect(one.get('Discretised intensity skewness')!.value).toBe(0);
    expect(one.get('Intensity histogram mode')!.value).toBe(2);
    expect(one.get('Discretised intensity entropy')!.value).toBe(0);
    expect(one.get('Discretised intensity uniformity')!.value).toBe(1);
    expect(one.get('Maximum histogram gradient')!.value).toBe(1);
    expect(one.get('Maximum histogram gradient intensity')!.value).toBe(1);
    expect(one.get('Minimum histogram gradient')!.value).toBe(-1);
    expect(one.get('Minimum histogram gradient intensity')!.value).toBe(3);
    const single = byName(histogramFeatures(Int32Array.from([1]), 1));
    expect(single.get('Maximum histogram gradient')!.value).toBeNaN();
    expect(single.get('Minimum histogram gradient intensity')!.value).toBeNaN();
    expect(single.get('Intensity histogram quartile coefficient of dispersion')!.value).toBe(0);
  });

  it('returns NaN for an empty ROI and refuses levels outside 1..ng', () => {
    const empty = histogramFeatures(new Int32Array(0), 4);
    expect(empty).toHaveLength(23);
    for (const f of empty) expect(f.value, f.name).toBeNaN();
    expect(() => histogramFeatures(Int32Array.from([1, 5]), 4)).toThrow(RadiomicsInputError);
    expect(() => histogramFeatures(Int32Array.from([0]), 4)).toThrow(/grey level 0 at position 0 is outside 1\.\.4/);
    expect(() => histogramFeatures(Int32Array.from([1]), 0)).toThrow(RadiomicsInputError);
  });
});
