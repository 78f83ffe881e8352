import { describe, expect, it } from 'vitest';
import { RadiomicsInputError } from '../../../src/radiomics/errors.js';
import { intensityVolumeFeatures, intensityVolumeHistogram, ivhAreaUnderCurve } from '../../../src/radiomics/features/ivh.js';
import type { Feature } from '../../../src/radiomics/types.js';
import { digitalPhantom } from '../support/ibsi-phantom.js';

function phantomValues(): Float64Array {
  const { image, mask } = digitalPhantom();
  return Float64Array.from(image.data.filter((_, v) => mask.data[v] === 1));
}

/** IBSI publishes values to 3 significant digits (or more, when written): ours must round to them. */
function roundsTo(value: number, published: string): boolean {
  const digits = Math.max(3, published.replace(/^[-+]?0*\.?0*/, '').replace('.', '').replace(/0+$/, '').length);
  return Number(value.toPrecision(digits)) === Number(published);
}

/** The six features by name: V10, V90, I10, I90, V10 − V90, I10 − I90. */
function values(features: Feature[]): number[] {
  const order = [
    'volume fraction at 10% intensity',
    'volume fraction at 90% intensity',
    'intensity at 10% volume',
    'intensity at 90% volume',
    'Volume fraction difference between intensity fractions',
    'Intensity fraction difference between volume fractions',
  ];
  const map = new Map(features.map((f) => [f.name, f.value]));
  return order.map((name) => map.get(name)!);
}

describe('intensity-volume histogram features (IBSI 3.5)', () => {
  it('reproduces every consensus value of the digital phantom (intensities used as they are)', () => {
    const features = intensityVolumeFeatures(phantomValues(), { method: 'none' }, null);
    // [name (table caption for the shared codes), IBSI code, published value for "dig. phantom"]
    const reference: [string, string, string][] = [
      ['volume fraction at 10% intensity', 'BC2M', '0.324'],
      ['volume fraction at 90% intensity', 'BC2M', '0.0946'],
      ['intensity at 10% volume', 'GBPN', '5'],
      ['intensity at 90% volume', 'GBPN', '2'],
      ['Volume fraction difference between intensity fractions', 'DDTU', '0.23'],
      ['Intensity fraction difference between volume fractions', 'CNV2', '3'],
    ];
    expect(features.map((f) => f.name)).toEqual(reference.map((r) => r[0]));
    for (const [i, [name, code, published]] of reference.entries()) {
      const f = features[i]!;
      expect(f.code, name).toBe(code);
      expect(f.family).toBe('ivh');
      expect(f.aggregation).toBe('');
      expect(roundsTo(f.value, published), `${name} (${code}) = ${f.value}, published ${published}`).toBe(true);
    }
  });

  it("evaluates the phantom's curve at every grey level, absent ones included (IBSI table of γ and ν)", () => {
    const curve = intensityVolumeHistogram(phantomValues(), { method: 'none' }, null);
    expect([...curve.intensity]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...curve.intensityFraction].map((g) => Number(g.toFixed(3)))).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect([...curve.volumeFraction].map((v) => Number(v.toFixed(3)))).toEqual([1, 0.324, 0.324, 0.311, 0.095, 0.095]);
    // trapezoids of width 0.2 over ν = (voxels at or above i)/74
    const nu = [74, 24, 24, 23, 7, 7].map((n) => n / 74);
    let expected = 0;
    for (let k = 0; k < 5; k++) expected += (0.2 * (nu[k]! + nu[k + 1]!)) / 2;
    expect(ivhAreaUnderCurve(curve)).toBeCloseTo(expected, 12);
  });

  it('uses the re-segmentation range as G, an open upper bound meaning the ROI maximum', () => {
    // G = [−2, 7], w = 1: ν_k = (10 − k)/10, γ_k = k/9
    const x = Float64Array.from([-2, -1, 0, 1, 2, 3, 4, 5, 6, 7]);
    const open = values(intensityVolumeFeatures(x, { method: 'none' }, [-2, Infinity]));
    expect(open[0]).toBeCloseTo(0.9, 12); // γ ≥ 0.1 first at k = 1
    expect(open[1]).toBeCloseTo(0.1, 12); // γ ≥ 0.9 first at k = 9
    expect(open[2]).toBe(7);
    expect(open[3]).toBe(-1);
    // A wider range stretches γ but not ν: G = [−12, 17], γ_k = k/29 ≥ 0.1 from k = 3 (i = −9: ν = 1)
    const wide = values(intensityVolumeFeatures(x, { method: 'none' }, [-12, 17]));
    expect(wide[0]).toBe(1);
    expect(wide[1]).toBe(0); // γ ≥ 0.9 from k = 27 (i = 15): no voxel
    expect(wide[2]).toBe(7); // ν ≤ 0.1 first at i = 7
    expect(wide[3]).toBe(-1);
  });

  it('maps fixed-bin-size bins to their centres on the range', () => {
    // range [0, 12], w = 2: bins 1..5 hold two voxels each; centres 1, 3, …, 11 (k = 0..5)
    const x = Float64Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const v = values(intensityVolumeFeatures(x, { method: 'FBS', binWidth: 2 }, [0, 12]));
    expect(v[0]).toBeCloseTo(0.8, 12); // γ = 2k/10 ≥ 0.1 at k = 1
    expect(v[1]).toBe(0); // γ ≥ 0.9 at k = 5, centre 11, empty
    expect(v[2]).toBe(11); // ν_4 = 0.2, ν_5 = 0
    expect(v[3]).toBe(3); // ν_1 = 0.8
    expect(v[5]).toBe(8);
    const curve = intensityVolumeHistogram(x, { method: 'FBS', binWidth: 2 }, [0, 12]);
    expect([...curve.intensity]).toEqual([1, 3, 5, 7, 9, 11]);
    // without a range the ROI's extremes bound G: [0 + 1, 9 − 1], and the bin of 8 and 9 (centre 9) lies beyond
    const own = intensityVolumeHistogram(x, { method: 'FBS', binWidth: 2 }, null);
    expect([...own.intensity]).toEqual([1, 3, 5, 7, 9]);
    expect(own.intensityFraction[4]).toBeCloseTo(8 / 7, 12);
  });

  it('uses bin numbers for fixed bin number, ignoring the range', () => {
    // 5 bins over [0, 9]: two voxels per bin; G = [1, 5]
    const x = Float64Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const withRange = values(intensityVolumeFeatures(x, { method: 'FBN', bins: 5 }, [-1000, 400]));
    const without = values(intensityVolumeFeatures(x, { method: 'FBN', bins: 5 }, null));
    expect(withRange).toEqual(without);
    expect(without[0]).toBeCloseTo(0.8, 12);
    expect(without[1]).toBeCloseTo(0.2, 12);
    expect(without[2]).toBeNaN(); // the top bin holds 20 %: no level is in at most 10 % of the volume
    expect(without[3]).toBe(2);
  });

  it('gives NaN, not an error, for a single voxel', () => {
    // G collapses to one intensity (or less than one bin): γ is undefined
    for (const d of [{ method: 'none' } as const, { method: 'FBS', binWidth: 25 } as const]) {
      const v = values(intensityVolumeFeatures(Float64Array.from([42]), d, null));
      expect(v[0], d.method).toBeNaN();
      expect(v[1], d.method).toBeNaN();
      expect(v[4], d.method).toBeNaN();
    }
    // FBN fixes G = [1, Ng]: the voxel fills bin 1 and the curve is defined
    const fbn = values(intensityVolumeFeatures(Float64Array.from([42]), { method: 'FBN', bins: 32 }, null));
    expect(fbn).toEqual([0, 0, 2, 2, 0, 0]);
    // with a range the single voxel has a place in it
    const ranged = values(intensityVolumeFeatures(Float64Array.from([42]), { method: 'none' }, [0, 100]));
    expect(ranged[0]).toBe(1);
    expect(ranged[1]).toBe(0);
    expect(ranged[2]).toBe(43);
    expect(ranged[3]).toBe(43);
    expect(ivhAreaUnderCurve(intensityVolumeHistogram(Float64Array.from([42]), { method: 'none' }, [0, 100]))).toBe(0);
  });

  it('refuses bad input with a clear error', () => {
    expect(() => intensityVolumeFeatures(Float64Array.from([1, NaN]), { method: 'none' }, null)).toThrow(/intensity NaN at position 1 is not finite/);
    expect(() => intensityVolumeFeatures(Float64Array.from([1]), { method: 'FBS', binWidth: 0 }, null)).toThrow(RadiomicsInputError);
    expect(() => intensityVolumeFeatures(Float64Array.from([1]), { method: 'FBN', bins: 2.5 }, null)).toThrow(RadiomicsInputError);
    expect(() => intensityVolumeHistogram(Float64Array.from([0, 1e9]), { method: 'none' }, null)).toThrow(/discretise the IVH/);
  });
});
