import { describe, expect, it } from 'vitest';
import {
  AggregationError,
  coordinateMedian,
  createStrategy,
  fedAdamStep,
  krumSelect,
  trimmedMean,
  weightedAverage,
  type StrategyOptions,
} from '../../../src/federated/strategies.js';
import type { SiteResult, StrategyName } from '../../../src/federated/types.js';

const options: StrategyOptions = { rounds: 5, epochs: 2, learningRate: 0.05, batchSize: 16, seed: 3 };
const v = (...values: number[]): Float64Array => Float64Array.from(values);
const result = (site: string, parameters: Float64Array, examples = 1): SiteResult => ({ site, parameters, examples });

describe('aggregation maths', () => {
  it('FedAvg weights each site by its examples', () => {
    const out = weightedAverage([result('a', v(1, 2), 1), result('b', v(3, 6), 3)]);
    expect(Array.from(out)).toEqual([2.5, 5]);
  });

  it('takes the coordinate-wise median of an odd and an even number of vectors', () => {
    const odd = [v(1, 5), v(3, 1), v(2, 9)];
    expect(Array.from(coordinateMedian(odd))).toEqual([2, 5]);
    expect(Array.from(coordinateMedian([...odd, v(10, 0)]))).toEqual([2.5, 3]);
  });

  it('trims ⌊β·n⌋ values from each end per coordinate', () => {
    const vectors = [v(1, -50), v(100, 3), v(3, 0), v(2, 2), v(4, 1)];
    // β = 0.2, n = 5: one value dropped at each end.
    expect(Array.from(trimmedMean(vectors, 0.2))).toEqual([3, 1]);
    // β = 0.1 drops nothing: the plain mean.
    expect(Array.from(trimmedMean(vectors, 0.1))).toEqual([22, -8.8]);
    expect(() => trimmedMean(vectors, 0.5)).toThrow('the trim fraction β must be in [0, 0.5), got 0.5');
  });

  it('Krum picks the honest cluster\'s most central vector, not the outlier', () => {
    const vectors = [v(10, 10), v(0.2, 0.2), v(0.1, 0), v(0, 0), v(0, 0.1)];
    const { index, scores } = krumSelect(vectors, 1);
    expect(index).toBe(3);
    // n − f − 2 = 2 nearest neighbours each.
    expect(scores[3]).toBeCloseTo(0.01 + 0.01, 14);
    expect(scores[2]).toBeCloseTo(0.01 + 0.02, 14);
    expect(scores[1]).toBeCloseTo(0.05 + 0.05, 14);
    expect(scores[0]).toBeCloseTo(192.08 + 198.01, 10);
    expect(() => krumSelect(vectors.slice(0, 4), 1)).toThrow('Krum with f = 1 needs more than 2f + 2 = 4 results, got 4');
  });

  it('FedAdam takes Adam steps on the pseudo-gradient (Reddi et al., Algorithm 2)', () => {
    const settings = { serverLearningRate: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-3 };
    const current = v(1, -1);
    const zero = { m: new Float64Array(2), v: new Float64Array(2) };
    // Δ = (1, −0.5): m = (0.1, −0.05), v = (0.01, 0.0025), √v = (0.1, 0.05).
    const first = fedAdamStep(current, v(2, -1.5), zero, settings);
    expect(first.state.m[0]).toBeCloseTo(0.1, 15);
    expect(first.state.v[1]).toBeCloseTo(0.0025, 15);
    expect(first.parameters[0]).toBeCloseTo(1 + (0.1 * 0.1) / (0.1 + 0.001), 14);
    expect(first.parameters[1]).toBeCloseTo(-1 + (0.1 * -0.05) / (0.05 + 0.001), 14);
    // A second round with Δ = 0 still moves by momentum: m = 0.9·m, v = 0.99·v.
    const second = fedAdamStep(first.parameters, first.parameters, first.state, settings);
    expect(second.parameters[0]).toBeCloseTo(first.parameters[0]! + (0.1 * 0.09) / (Math.sqrt(0.0099) + 0.001), 14);
    expect(second.parameters[1]).toBeCloseTo(first.parameters[1]! + (0.1 * -0.045) / (Math.sqrt(0.002475) + 0.001), 14);
    expect(Array.from(zero.m)).toEqual([0, 0]); // the state passed in is not modified
  });
});

describe('strategy objects', () => {
  const results = [result('a', v(1, 2), 1), result('b', v(3, 6), 3), result('c', v(2, 4), 2)];

  it('aggregate FedAvg and FedProx identically, leaving inputs untouched', () => {
    const current = v(0, 0);
    const fedavg = createStrategy('fedavg', options).aggregate(current, results, ['d']);
    const fedprox = createStrategy('fedprox', options).aggregate(current, results, []);
    expect(fedavg[0]).toBeCloseTo((1 + 9 + 4) / 6, 15);
    expect(fedavg[1]).toBeCloseTo((2 + 18 + 8) / 6, 15);
    expect(fedprox).toEqual(fedavg);
    expect(Array.from(results[0]!.parameters)).toEqual([1, 2]);
    expect(Array.from(current)).toEqual([0, 0]);
  });

  it('plan rounds: same local settings, a fresh seed per round, μ only for FedProx', () => {
    const fedavg = createStrategy('fedavg', options);
    const first = fedavg.configureRound(1);
    expect(first).toMatchObject({ round: 1, epochs: 2, learningRate: 0.05, batchSize: 16, proximalMu: 0 });
    expect(fedavg.configureRound(2).seed).not.toBe(first.seed);
    expect(createStrategy('fedavg', options).configureRound(1)).toEqual(first);
    expect(first.clipNorm).toBeUndefined();
    expect(createStrategy('fedprox', options).configureRound(1).proximalMu).toBe(0.01);
    expect(createStrategy('fedprox', { ...options, proximalMu: 0.5 }).configureRound(3).proximalMu).toBe(0.5);
    expect(createStrategy('fedavg', { ...options, clipNorm: 1.5, l2: 1e-4 }).configureRound(1)).toMatchObject({ clipNorm: 1.5, l2: 1e-4 });
    expect(() => fedavg.configureRound(6)).toThrow('round 6 is outside the planned 1 … 5');
  });

  it('FedAdam keeps its moments from round to round', () => {
    const adam = createStrategy('fedadam', { ...options, serverLearningRate: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-3 });
    const current = v(0, 0);
    const once = adam.aggregate(current, results, []);
    // Δ = the weighted mean (14/6, 28/6); a first Adam step moves each coordinate by η·0.1Δ/(0.1|Δ| + τ).
    const delta = [14 / 6, 28 / 6];
    delta.forEach((d, k) => expect(once[k]).toBeCloseTo((0.1 * 0.1 * d) / (0.1 * d + 1e-3), 14));
    const twice = adam.aggregate(once, [result('a', Float64Array.from(once), 1)], []);
    // Δ = 0 in round two: only momentum moves it, so it keeps going the same way.
    expect(twice[0]!).toBeGreaterThan(once[0]!);
  });

  it('marks robust aggregators as needing individual updates', () => {
    const needs = (name: StrategyName): boolean => createStrategy(name, options).needsIndividualUpdates;
    expect(['fedavg', 'fedprox', 'fedadam', 'median', 'trimmed-mean', 'krum'].map((n) => needs(n as StrategyName))).toEqual([false, false, false, true, true, true]);
    const sites = [v(10, 10), v(0.2, 0.2), v(0.1, 0), v(0, 0), v(0, 0.1)].map((p, i) => result(`s${i}`, p, 1000 * (i === 0 ? 100 : 1)));
    expect(Array.from(createStrategy('krum', options).aggregate(v(0, 0), sites, []))).toEqual([0, 0]);
    expect(Array.from(createStrategy('median', options).aggregate(v(0, 0), sites, []))).toEqual([0.1, 0.1]);
    // Per coordinate the sorted values are 0, 0, 0.1, 0.2, 10: β = 0.2 keeps 0, 0.1, 0.2.
    const trimmed = createStrategy('trimmed-mean', { ...options, trimFraction: 0.2 }).aggregate(v(0, 0), sites, []);
    expect(trimmed[0]).toBeCloseTo(0.1, 15);
    expect(trimmed[1]).toBeCloseTo(0.1, 15);
  });

  it('refuses to aggregate nothing, wrong lengths, non-finite values and bad weights, naming the site', () => {
    for (const name of ['fedavg', 'fedprox', 'fedadam', 'median', 'trimmed-mean', 'krum'] as const) {
      expect(() => createStrategy(name, options).aggregate(v(0, 0), [], ['a', 'b'])).toThrow('no site results to aggregate');
      expect(() => createStrategy(name, options).aggregate(v(0, 0), [result('x', v(1, 2, 3))], [])).toThrow('site x: 3 parameters, expected 2');
      expect(() => createStrategy(name, options).aggregate(v(0, 0), [result('y', v(1, Number.NaN))], [])).toThrow(AggregationError);
    }
    expect(() => createStrategy('fedavg', options).aggregate(v(0, 0), [result('z', v(1, 2), 0)], [])).toThrow('site z: the number of examples must be a positive whole number, got 0');
    expect(() => createStrategy('krum', options).aggregate(v(0, 0), results, [])).toThrow('Krum with f = 1 needs more than 2f + 2 = 4 results, got 3');
  });

  it('checks options when created', () => {
    expect(() => createStrategy('fedavg', { ...options, rounds: 0 })).toThrow('the number of rounds must be a positive whole number, got 0');
    expect(() => createStrategy('fedadam', { ...options, beta1: 1 })).toThrow('β1 must be in [0, 1), got 1');
    expect(() => createStrategy('trimmed-mean', { ...options, trimFraction: 0.6 })).toThrow('the trim fraction β must be in [0, 0.5), got 0.6');
    expect(() => createStrategy('nonsense' as StrategyName, options)).toThrow('unknown strategy "nonsense"');
  });
});
