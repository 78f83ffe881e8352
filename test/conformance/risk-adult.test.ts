/**
 * The optimal search against the exhaustive one on ARX's adult data set (30,162 records, eight
 * quasi-identifiers with ARX's hierarchies, a lattice of 6,480 transformations): for k = 5 at
 * 0 % and 2 % suppression and each of the six utility metrics, both must return the same
 * transformation and utility; likewise with l-diversity and t-closeness of salary-class.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { searchProblem, validateInput, type AnonymizationInput } from '../../src/privacy/anonymize.js';
import type { EncodedData } from '../../src/privacy/classes.js';
import { loadHierarchies } from '../../src/privacy/hierarchy.js';
import { METRIC_NAMES, type MetricName } from '../../src/privacy/metrics.js';
import type { PrivacyModel } from '../../src/privacy/models.js';
import { exhaustiveSearch, optimalSearch, type SearchProblem } from '../../src/privacy/search.js';
import { loadTable } from '../../src/privacy/table.js';
import type { Hierarchy, Table } from '../../src/privacy/types.js';
import { sharedDataDir } from './helpers.js';

const adultDir = path.join(sharedDataDir, 'adult');
const QIS = ['sex', 'age', 'race', 'marital-status', 'education', 'native-country', 'workclass', 'occupation'];

let table: Table;
let hierarchies: Map<string, Hierarchy>;
/** Encoded once and shared by the problems: without and with salary-class as the sensitive attribute. */
let data: EncodedData;
let withSensitive: EncodedData;

function problem(metric: MetricName, suppressionLimit: number, models: PrivacyModel[]): SearchProblem {
  const sensitive = models.some((m) => m.kind !== 'k-anonymity');
  return { data: sensitive ? withSensitive : data, models, suppressionLimit, metric };
}

beforeAll(async () => {
  expect(fs.existsSync(path.join(adultDir, 'adult.csv')), `${adultDir}/adult.csv is missing`).toBe(true);
  table = await loadTable(path.join(adultDir, 'adult.csv'));
  hierarchies = await loadHierarchies(adultDir, [...QIS, 'salary-class']);
  const input: AnonymizationInput = { table, quasiIdentifiers: QIS, hierarchies, models: [{ kind: 'k-anonymity', k: 5 }], suppressionLimit: 0.02, metric: 'loss' };
  validateInput(input);
  data = searchProblem(input).data;
  withSensitive = searchProblem({ ...input, sensitive: 'salary-class' }).data;
});

describe('adult', () => {
  it('has 30,162 records, 18,109 distinct quasi-identifier tuples and heights 2,5,2,3,4,3,3,3', () => {
    expect(table.rows.length).toBe(30162);
    expect(data.records).toBe(30162);
    expect(data.tuples).toBe(18109);
    expect(data.columns.map((c) => c.height)).toEqual([2, 5, 2, 3, 4, 3, 3, 3]);
  });

  for (const suppression of [0, 0.02]) {
    for (const metric of METRIC_NAMES) {
      it(`5-anonymity, ${suppression * 100} % suppression, ${metric}: optimal = exhaustive`, () => {
        const p = problem(metric, suppression, [{ kind: 'k-anonymity', k: 5 }]);
        const exhaustive = exhaustiveSearch(p);
        const optimal = optimalSearch(p);
        expect(exhaustive.nodesChecked).toBe(6480);
        expect(exhaustive.solution).not.toBeNull();
        expect(optimal.solution!.levels).toEqual(exhaustive.solution!.levels);
        expect(optimal.solution!.utility).toBe(exhaustive.solution!.utility);
        expect(optimal.solution).toEqual(exhaustive.solution);
        expect(optimal.solution!.minClassSize).toBeGreaterThanOrEqual(5);
        expect(optimal.solution!.suppressed).toBeLessThanOrEqual(Math.floor(suppression * 30162));
        expect(optimal.nodesChecked).toBeLessThan(6480);
        // A small roll-up cache: class sets are evicted and their storage reused mid-search.
        expect(optimalSearch({ ...p, cacheClasses: 20_000 }).solution).toEqual(exhaustive.solution);
      });
    }
  }

  it('distinct-2-diversity of salary-class with 5-anonymity, 2 % suppression, loss: optimal = exhaustive', () => {
    const p = problem('loss', 0.02, [{ kind: 'k-anonymity', k: 5 }, { kind: 'l-diversity', variant: 'distinct', l: 2 }]);
    const exhaustive = exhaustiveSearch(p);
    expect(exhaustive.solution).not.toBeNull();
    expect(optimalSearch(p).solution).toEqual(exhaustive.solution);
  });

  it('0.2-closeness (equal distance) of salary-class, no suppression, discernibility: optimal = exhaustive', () => {
    const p = problem('discernibility', 0, [{ kind: 't-closeness', distance: 'equal', t: 0.2 }]);
    const exhaustive = exhaustiveSearch(p);
    expect(exhaustive.solution).not.toBeNull();
    expect(optimalSearch(p).solution).toEqual(exhaustive.solution);
  });
});
