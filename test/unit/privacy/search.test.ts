import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { searchProblem } from '../../../src/privacy/anonymize.js';
import { Lattice } from '../../../src/privacy/lattice.js';
import { METRIC_NAMES } from '../../../src/privacy/metrics.js';
import type { PrivacyModel } from '../../../src/privacy/models.js';
import { exhaustiveSearch, maxSuppressedRecords, optimalSearch } from '../../../src/privacy/search.js';
import type { Hierarchy } from '../../../src/privacy/types.js';

/** A hierarchy of `domain` values v0…, `height` levels, grouping by `branching` per level, "*" on top. */
function hierarchy(attribute: string, domain: number, height: number, branching: number): Hierarchy {
  const values = new Map<string, string[]>();
  for (let v = 0; v < domain; v++) {
    const row = [`v${v}`];
    for (let l = 1; l < height; l++) row.push(l === height - 1 ? '*' : `g${l}_${Math.floor(v / branching ** l)}`);
    values.set(`v${v}`, row);
  }
  return { attribute, height, values, source: `${attribute}.csv` };
}

const SENSITIVE_HIERARCHY: Hierarchy = {
  attribute: 's',
  height: 3,
  values: new Map([
    ['s0', ['s0', 'x', '*']],
    ['s1', ['s1', 'x', '*']],
    ['s2', ['s2', 'y', '*']],
    ['s3', ['s3', 'y', '*']],
  ]),
  source: 's.csv',
};

const columnArb = fc.record({ domain: fc.integer({ min: 1, max: 6 }), height: fc.integer({ min: 1, max: 4 }), branching: fc.integer({ min: 2, max: 3 }) });

const modelsArb: fc.Arbitrary<PrivacyModel[]> = fc.oneof(
  fc.integer({ min: 1, max: 4 }).map((k) => [{ kind: 'k-anonymity', k }] as PrivacyModel[]),
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })).map(([k, l]) => [{ kind: 'k-anonymity', k }, { kind: 'l-diversity', variant: 'distinct', l }] as PrivacyModel[]),
  fc.constantFrom(1, 1.5, 2, 3).map((l) => [{ kind: 'l-diversity', variant: 'entropy', l }] as PrivacyModel[]),
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.constantFrom(0.5, 1, 2, 4)).map(([l, c]) => [{ kind: 'l-diversity', variant: 'recursive', l, c }] as PrivacyModel[]),
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, 0.1, 0.3, 0.6)).map(([k, t]) => [{ kind: 'k-anonymity', k }, { kind: 't-closeness', distance: 'equal', t }] as PrivacyModel[]),
  fc.constantFrom(0, 0.15, 0.3, 0.6).map((t) => [{ kind: 't-closeness', distance: 'hierarchical', t }] as PrivacyModel[]),
);

const problemArb = fc
  .record({
    columns: fc.array(columnArb, { minLength: 1, maxLength: 4 }),
    records: fc.integer({ min: 1, max: 40 }),
    seed: fc.integer(),
    models: modelsArb,
    suppression: fc.constantFrom(0, 0.1, 0.25, 0.5),
    // A tiny roll-up cache evicts (and reuses the storage of) class sets all the time.
    cacheClasses: fc.constantFrom(undefined, 4, 40),
  })
  .chain((p) =>
    fc.record({
      spec: fc.constant(p),
      rows: fc.array(fc.tuple(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: p.columns.length, maxLength: p.columns.length }), fc.integer({ min: 0, max: 5 })), {
        minLength: p.records,
        maxLength: p.records,
      }),
    }),
  );

describe('optimalSearch', () => {
  it('finds the same transformation and utility as the exhaustive search, for every metric, model and suppression limit', () => {
    fc.assert(
      fc.property(problemArb, ({ spec, rows }) => {
        const qis = spec.columns.map((_, i) => `q${i}`);
        const hierarchies = new Map<string, Hierarchy>(spec.columns.map((c, i) => [`q${i}`, hierarchy(`q${i}`, c.domain, c.height, c.branching)]));
        hierarchies.set('s', SENSITIVE_HIERARCHY);
        const table = {
          columns: [...qis, 's'],
          // Sensitive values skewed towards s0 (0, 4, 5 → s0), so some classes are not diverse.
          rows: rows.map(([values, s]) => [...values.map((v, i) => `v${v % spec.columns[i]!.domain}`), `s${s >= 4 ? 0 : s}`]),
          source: 'random.csv',
        };
        for (const metric of METRIC_NAMES) {
          const problem = searchProblem({ table, quasiIdentifiers: qis, hierarchies, models: spec.models, suppressionLimit: spec.suppression, metric, sensitive: 's' });
          const optimal = optimalSearch(spec.cacheClasses === undefined ? problem : { ...problem, cacheClasses: spec.cacheClasses });
          const exhaustive = exhaustiveSearch(problem);
          expect(optimal.solution, metric).toEqual(exhaustive.solution);
          expect(exhaustive.nodesChecked).toBe(exhaustive.nodes);
          expect(optimal.nodesChecked).toBeLessThanOrEqual(optimal.nodes);
        }
      }),
      { numRuns: 600, seed: 20240611 },
    );
  });

  it('reports that no transformation qualifies when even the fully generalized table fails', () => {
    // Entropy-2-diversity on a sensitive attribute with one value: no class can pass.
    const table = { columns: ['a', 's'], rows: [['v0', 's0'], ['v1', 's0'], ['v0', 's0']], source: 'one.csv' };
    const hierarchies = new Map<string, Hierarchy>([['a', hierarchy('a', 2, 2, 2)]]);
    const problem = searchProblem({ table, quasiIdentifiers: ['a'], hierarchies, models: [{ kind: 'l-diversity', variant: 'entropy', l: 2 }], suppressionLimit: 0.5, metric: 'loss', sensitive: 's' });
    expect(optimalSearch(problem).solution).toBeNull();
    expect(exhaustiveSearch(problem).solution).toBeNull();
  });

  it('breaks ties by total level, then lexicographically', () => {
    // Two attributes with identical hierarchies and data: generalizing either gives the same loss.
    const table = { columns: ['a', 'b'], rows: [['v0', 'v0'], ['v1', 'v1'], ['v0', 'v1'], ['v1', 'v0']], source: 'tie.csv' };
    const hierarchies = new Map<string, Hierarchy>([
      ['a', hierarchy('a', 2, 2, 2)],
      ['b', hierarchy('b', 2, 2, 2)],
    ]);
    // 2-anonymity: (1,0) and (0,1) both make two classes of 2; loss is equal; (0,1) comes first.
    const problem = searchProblem({ table, quasiIdentifiers: ['a', 'b'], hierarchies, models: [{ kind: 'k-anonymity', k: 2 }], suppressionLimit: 0, metric: 'loss' });
    expect(optimalSearch(problem).solution!.levels).toEqual([0, 1]);
    expect(exhaustiveSearch(problem).solution!.levels).toEqual([0, 1]);
  });
});

describe('Lattice', () => {
  it('has 6,480 nodes for heights 2,5,2,3,4,3,3,3 and orders ids lexicographically', () => {
    const lattice = new Lattice([1, 4, 1, 2, 3, 2, 2, 2]);
    expect(lattice.size).toBe(6480);
    expect(Array.from(lattice.levels(lattice.top))).toEqual([1, 4, 1, 2, 3, 2, 2, 2]);
    expect(lattice.id([0, 0, 0, 0, 0, 0, 0, 1])).toBe(1);
    expect(lattice.id([1, 0, 0, 0, 0, 0, 0, 0])).toBe(3240);
    expect(lattice.totalLevel[lattice.top]).toBe(17);
    const mid = lattice.id([1, 2, 0, 1, 3, 0, 2, 1]);
    expect(lattice.successors(mid).length).toBe(5);
    expect(lattice.predecessors(mid).length).toBe(6);
    for (const s of lattice.successors(mid)) expect(lattice.isBelowOrEqual(mid, s)).toBe(true);
  });

  it('spans every node exactly once with treeChildren, each child above its parent', () => {
    const lattice = new Lattice([2, 1, 3]);
    const seen = new Set<number>();
    const stack = [lattice.bottom];
    while (stack.length > 0) {
      const id = stack.pop()!;
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      for (const c of lattice.treeChildren(id)) {
        expect(lattice.treeParent(c)).toBe(id);
        stack.push(c);
      }
    }
    expect(seen.size).toBe(lattice.size);
  });
});

describe('maxSuppressedRecords', () => {
  it('is ⌊limit · N⌋, robust to decimal shares', () => {
    expect(maxSuppressedRecords(0.02, 30162)).toBe(603);
    expect(maxSuppressedRecords(0.29, 100)).toBe(29);
    expect(maxSuppressedRecords(0, 100)).toBe(0);
  });
});
