import { describe, expect, it } from 'vitest';
import { searchProblem } from '../../../src/privacy/anonymize.js';
import { parseHierarchy } from '../../../src/privacy/hierarchy.js';
import { METRICS, METRIC_NAMES, UtilityMetric, isMonotonicMetric, type MetricName } from '../../../src/privacy/metrics.js';
import { applyTransformation } from '../../../src/privacy/search.js';
import type { PrivacyModel } from '../../../src/privacy/models.js';

// Six records; age has 4 values in 3 levels, sex 2 values in 2 levels.
const table = {
  columns: ['age', 'sex'],
  rows: [
    ['20', 'M'],
    ['25', 'M'],
    ['30', 'F'],
    ['35', 'F'],
    ['30', 'F'],
    ['20', 'M'],
  ],
  source: 'six.csv',
};
const hierarchies = new Map([
  ['age', parseHierarchy('20;20-29;*\n25;20-29;*\n30;30-39;*\n35;30-39;*\n', 'age', 'age.csv')],
  ['sex', parseHierarchy('M;*\nF;*\n', 'sex', 'sex.csv')],
]);

function utility(metric: MetricName, levels: number[], models: PrivacyModel[], suppressionLimit: number) {
  const problem = searchProblem({ table, quasiIdentifiers: ['age', 'sex'], hierarchies, models, suppressionLimit, metric });
  return applyTransformation(problem, levels);
}

describe('metrics without suppression', () => {
  // Age at level 1, sex at 0: classes (20-29, M) = {20, 25, 20} and (30-39, F) = {30, 35, 30}, 3 records each.
  const at = (metric: MetricName) => utility(metric, [1, 0], [{ kind: 'k-anonymity', k: 2 }], 0);

  it('has the hand-computed values', () => {
    expect(at('height').utility).toBe(1); // 1 + 0
    expect(at('precision').utility).toBe(0.25); // (1/2 + 0/1) / 2
    expect(at('aecs').utility).toBe(3); // 6 records / 2 classes
    expect(at('discernibility').utility).toBe(18); // 3² + 3²
    // Age: f0 = 20:2, 25:1, 30:2, 35:1; f1 = 20-29:3, 30-39:3.
    // −[2 log2(2/3) + 1 log2(1/3) + 2 log2(2/3) + 1 log2(1/3)] = 6 log2 3 − 4; sex at level 0 adds 0.
    expect(at('entropy').utility).toBeCloseTo(6 * Math.log2(3) - 4, 12);
    // Age: every record stands for 2 of the 4 hierarchy values: (2 − 1)/(4 − 1) = 1/3; sex 0.
    // Geometric mean (ARX): √((1 + 1/3)(1 + 0)) − 1.
    expect(at('loss').utility).toBeCloseTo(Math.sqrt(4 / 3) - 1, 12);
  });

  it('equals its lower bound when nothing is suppressed', () => {
    for (const metric of METRIC_NAMES) {
      const applied = at(metric);
      const problem = searchProblem({ table, quasiIdentifiers: ['age', 'sex'], hierarchies, models: [{ kind: 'k-anonymity', k: 2 }], suppressionLimit: 0, metric });
      const m = new UtilityMetric(metric, problem.data);
      expect(m.bound(applied.classes)).toBe(applied.utility);
      if (!METRICS[metric].boundNeedsClasses) expect(m.levelBound([1, 0])).toBe(applied.utility);
    }
  });
});

describe('metrics with suppression', () => {
  // Levels (0, 0) and 2-anonymity: (20,M)×2 and (30,F)×2 stay, (25,M) and (35,F) are suppressed: S = 2.
  const at = (metric: MetricName) => utility(metric, [0, 0], [{ kind: 'k-anonymity', k: 2 }], 0.5);

  it('charges suppressed records as ARX does', () => {
    const applied = at('height');
    expect(applied.suppressed).toBe(2);
    expect(applied.anonymous).toBe(true);
    expect(applied.utility).toBe(0); // height ignores suppression
    expect(at('precision').utility).toBeCloseTo(1 / 3, 15); // per attribute (4·0 + 2)/6
    expect(at('aecs').utility).toBe(2); // 6 / (2 classes kept + 1 for the suppressed)
    expect(at('discernibility').utility).toBe(20); // 2² + 2² + 2 suppressed × 6
    // Raw entropy 0 at level 0; suppressed records: age {25, 35} and sex {M, F} each −2·½·log2 ½·... = 2 bits.
    expect(at('entropy').utility).toBeCloseTo(4, 12);
    // Per attribute: age (0 + 2·3)/(6·3) = 1/3, sex (0 + 2·1)/(6·1) = 1/3 → (4/3)^(1/2)·(4/3)^(1/2) − 1 = 1/3.
    expect(at('loss').utility).toBeCloseTo(1 / 3, 12);
  });

  it('is not below the lower bound', () => {
    for (const metric of METRIC_NAMES) {
      const applied = at(metric);
      const problem = searchProblem({ table, quasiIdentifiers: ['age', 'sex'], hierarchies, models: [{ kind: 'k-anonymity', k: 2 }], suppressionLimit: 0.5, metric });
      expect(applied.utility).toBeGreaterThanOrEqual(new UtilityMetric(metric, problem.data).bound(applied.classes));
    }
  });
});

describe('monotonicity', () => {
  it('all metrics are monotonic without suppression; only height with it', () => {
    for (const m of METRIC_NAMES) expect(isMonotonicMetric(m, 0)).toBe(true);
    expect(METRIC_NAMES.filter((m) => isMonotonicMetric(m, 10))).toEqual(['height']);
  });
});
