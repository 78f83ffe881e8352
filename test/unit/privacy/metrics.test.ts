import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { searchProblem } from '../../../src/privacy/anonymize.js';
import { parseHierarchy } from '../../../src/privacy/hierarchy.js';
import { Lattice } from '../../../src/privacy/lattice.js';
import { METRICS, METRIC_NAMES, UtilityMetric, isMonotonicMetric, type MetricName } from '../../../src/privacy/metrics.js';
import { applyTransformation, maxSuppressedRecords } from '../../../src/privacy/search.js';
import { compileModel, type PrivacyModel } from '../../../src/privacy/models.js';

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

describe('lower bounds with the models’ smallest class size and the suppression limit', () => {
  const problemFor = (metric: MetricName, k: number, suppressionLimit: number) =>
    searchProblem({ table, quasiIdentifiers: ['age', 'sex'], hierarchies, models: [{ kind: 'k-anonymity', k }], suppressionLimit, metric });

  it('has the hand-computed values on the six records, tighter than with suppression ignored', () => {
    // Levels (0, 0): classes (20,M)×2, (25,M)×1, (30,F)×2, (35,F)×1.
    const classes = utility('discernibility', [0, 0], [{ kind: 'k-anonymity', k: 3 }], 0.5).classes;
    const disc = problemFor('discernibility', 3, 0.5);
    // Every record costs at least max(|E|, 3): 6 records × 3.
    expect(new UtilityMetric('discernibility', disc.data, { minClassSize: 3, maxSuppressed: 3 }).bound(classes)).toBe(18);
    expect(new UtilityMetric('discernibility', disc.data).bound(classes)).toBe(10); // 2² + 1 + 2² + 1
    // No class has 3 records: at most ⌊6 / 3⌋ = 2 kept classes, plus 1 for suppressed records.
    const aecs = problemFor('aecs', 3, 0.5);
    expect(new UtilityMetric('aecs', aecs.data, { minClassSize: 3, maxSuppressed: 3 }).bound(classes)).toBe(2); // 6 / 3
    expect(new UtilityMetric('aecs', aecs.data, { minClassSize: 3, maxSuppressed: 0 }).bound(classes)).toBe(3); // 6 / 2
    expect(new UtilityMetric('aecs', aecs.data).bound(classes)).toBe(1.5); // 6 / 4 classes
  });

  it('refuses limits that are not whole numbers', () => {
    const p = problemFor('aecs', 2, 0);
    expect(() => new UtilityMetric('aecs', p.data, { minClassSize: 0, maxSuppressed: 0 })).toThrow(/smallest class size/);
    expect(() => new UtilityMetric('aecs', p.data, { minClassSize: 2, maxSuppressed: 1.5 })).toThrow(/suppressed records/);
  });

  it('never exceeds the utility of the node or of any anonymous generalization, and grows along the lattice (random tables)', () => {
    const columnArb = fc.record({ domain: fc.integer({ min: 1, max: 6 }), height: fc.integer({ min: 1, max: 4 }) });
    const arb = fc
      .record({
        columns: fc.array(columnArb, { minLength: 1, maxLength: 3 }),
        records: fc.integer({ min: 1, max: 30 }),
        k: fc.integer({ min: 1, max: 5 }),
        l: fc.integer({ min: 0, max: 3 }),
        suppression: fc.constantFrom(0, 0.1, 0.3, 0.6),
      })
      .chain((p) => fc.record({ spec: fc.constant(p), rows: fc.array(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: p.columns.length + 1, maxLength: p.columns.length + 1 }), { minLength: p.records, maxLength: p.records }) }));
    let tighter = 0;
    fc.assert(
      fc.property(arb, ({ spec, rows }) => {
        const qis = spec.columns.map((_, i) => `q${i}`);
        const hs = new Map(
          spec.columns.map((c, i) => {
            const text = Array.from({ length: c.domain }, (_, v) => [`v${v}`, ...Array.from({ length: c.height - 1 }, (_, l) => (l === c.height - 2 ? '*' : `g${l}_${v >> (l + 1)}`))].join(';')).join('\n');
            return [`q${i}`, parseHierarchy(`${text}\n`, `q${i}`, `q${i}.csv`)];
          }),
        );
        const t = { columns: [...qis, 's'], rows: rows.map((r) => [...r.slice(0, -1).map((v, i) => `v${v % spec.columns[i]!.domain}`), `s${r.at(-1)! % 3}`]), source: 'random.csv' };
        const models: PrivacyModel[] = [{ kind: 'k-anonymity', k: spec.k }];
        if (spec.l > 0) models.push({ kind: 'l-diversity', variant: 'distinct', l: spec.l });
        const lattice = new Lattice(spec.columns.map((c) => c.height - 1));
        for (const metric of ['discernibility', 'aecs'] as const) {
          const problem = searchProblem({ table: t, quasiIdentifiers: qis, hierarchies: hs, models, suppressionLimit: spec.suppression, metric, sensitive: 's' });
          const minClassSize = Math.max(...models.map((m) => compileModel(m, { sensitive: problem.data.sensitive! }).minClassSize));
          const maxSuppressed = maxSuppressedRecords(spec.suppression, problem.data.records);
          const m = new UtilityMetric(metric, problem.data, { minClassSize, maxSuppressed });
          const plain = new UtilityMetric(metric, problem.data);
          const nodes = Array.from({ length: lattice.size }, (_, id) => applyTransformation(problem, Array.from(lattice.levels(id))));
          const bounds = nodes.map((n) => m.bound(n.classes));
          for (let x = 0; x < lattice.size; x++) {
            expect(bounds[x]).toBeGreaterThanOrEqual(plain.bound(nodes[x]!.classes));
            if (bounds[x]! > plain.bound(nodes[x]!.classes)) tighter++;
            for (const s of lattice.successors(x)) expect(bounds[s], `${metric} ${lattice.levels(x).join('')} → ${lattice.levels(s).join('')}`).toBeGreaterThanOrEqual(bounds[x]!);
            for (let y = 0; y < lattice.size; y++) {
              if (nodes[y]!.anonymous && lattice.isBelowOrEqual(x, y)) expect(nodes[y]!.utility, `${metric} ${lattice.levels(x).join('')} ≤ ${lattice.levels(y).join('')}`).toBeGreaterThanOrEqual(bounds[x]!);
            }
          }
        }
      }),
      { numRuns: 100, seed: 20261125 },
    );
    // The property is not vacuous: the limits do raise the bound on many nodes.
    expect(tighter).toBeGreaterThan(100);
  }, 120_000);
});
