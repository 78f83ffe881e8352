import { describe, expect, it } from 'vitest';
import { NoSolutionError, anonymize, type AnonymizationInput } from '../../../src/privacy/anonymize.js';
import { parseHierarchy } from '../../../src/privacy/hierarchy.js';
import { RiskInputError } from '../../../src/privacy/table.js';
import type { Hierarchy } from '../../../src/privacy/types.js';

// Eight patients: age (3 levels), sex (2 levels), a diagnosis (sensitive) and an id that is neither.
const table = {
  columns: ['id', 'age', 'sex', 'diagnosis'],
  rows: [
    ['p1', '20', 'M', 'flu'],
    ['p2', '25', 'M', 'cold'],
    ['p3', '30', 'F', 'flu'],
    ['p4', '35', 'F', 'cold'],
    ['p5', '30', 'F', 'flu'],
    ['p6', '20', 'M', 'flu'],
    ['p7', '25', 'M', 'cold'],
    ['p8', '35', 'F', 'asthma'],
  ],
  source: 'eight.csv',
};
const hierarchies = new Map<string, Hierarchy>([
  ['age', parseHierarchy('20;20-29;*\n25;20-29;*\n30;30-39;*\n35;30-39;*\n', 'age', 'age.csv')],
  ['sex', parseHierarchy('M;*\nF;*\n', 'sex', 'sex.csv')],
  ['diagnosis', parseHierarchy('flu;respiratory;*\ncold;respiratory;*\nasthma;chronic;*\n', 'diagnosis', 'diagnosis.csv')],
]);
const base: AnonymizationInput = { table, quasiIdentifiers: ['age', 'sex'], hierarchies, models: [{ kind: 'k-anonymity', k: 3 }], suppressionLimit: 0, metric: 'loss' };

describe('anonymize', () => {
  it('generalizes to the optimal transformation and releases the table with other columns unchanged', () => {
    // Every (age, sex) pair occurs twice: 3-anonymity needs age at level 1 (classes of 4: 20-29/M, 30-39/F).
    const r = anonymize(base);
    expect(r.transformation).toEqual({ age: 1, sex: 0 });
    expect(r.suppressed).toBe(0);
    expect(r.classes).toBe(2);
    expect(r.minClassSize).toBe(4);
    expect(r.table.columns).toEqual(table.columns);
    expect(r.table.rows[0]).toEqual(['p1', '20-29', 'M', 'flu']);
    expect(r.table.rows[7]).toEqual(['p8', '30-39', 'F', 'asthma']);
    expect(table.rows[0]).toEqual(['p1', '20', 'M', 'flu']); // the input is not modified
    // Before: four classes of two records (risk ½ each); after: two classes of four (¼).
    expect(r.before.prosecutor).toEqual({ highest: 0.5, average: 0.5 });
    expect(r.after.prosecutor).toEqual({ highest: 0.25, average: 0.25 });
    expect(r.after.recordsAtRisk.share).toBe(1); // ¼ > 0.2
    expect(r.search.nodes).toBe(6);
    expect(r.search.nodesChecked).toBeGreaterThan(0);
  });

  it('suppresses records with "*" in every quasi-identifier when that is cheaper', () => {
    // Every (age, sex) pair occurs twice: 2-anonymity holds as it is, nothing to suppress.
    const r = anonymize({ ...base, models: [{ kind: 'k-anonymity', k: 2 }], suppressionLimit: 0.25 });
    expect(r.transformation).toEqual({ age: 0, sex: 0 });
    expect(r.suppressed).toBe(0);
    // Make (25, M) unique by dropping p7: at level 0 with 2-anonymity, p2 alone is suppressed.
    const seven = { ...table, rows: table.rows.filter((row) => row[0] !== 'p7') };
    const s = anonymize({ ...base, table: seven, models: [{ kind: 'k-anonymity', k: 2 }], suppressionLimit: 0.2 });
    expect(s.transformation).toEqual({ age: 0, sex: 0 });
    expect(s.suppressed).toBe(1);
    expect(s.table.rows[1]).toEqual(['p2', '*', '*', 'cold']);
    expect(s.after.suppressed).toBe(1);
    expect(s.after.records).toBe(6);
  });

  it('applies l-diversity and t-closeness to the sensitive attribute', () => {
    const l = anonymize({ ...base, models: [{ kind: 'l-diversity', variant: 'distinct', l: 2 }], sensitive: 'diagnosis' });
    // At level 0, (20,M) holds flu twice: not 2-diverse. (20-29, M) holds flu and cold.
    expect(l.transformation).toEqual({ age: 1, sex: 0 });
    const t = anonymize({ ...base, models: [{ kind: 't-closeness', distance: 'hierarchical', t: 0.5 }], sensitive: 'diagnosis' });
    expect(t.classes).toBeGreaterThan(0);
  });

  it('checks every input first, with clear messages', () => {
    const fails = (input: Partial<AnonymizationInput>, message: RegExp) => expect(() => anonymize({ ...base, ...input })).toThrow(message);
    fails({ quasiIdentifiers: ['age', 'zip'] }, /quasi-identifier "zip" is not a column/);
    fails({ quasiIdentifiers: ['age', 'age'] }, /listed twice/);
    fails({ quasiIdentifiers: [] }, /at least one quasi-identifier/);
    fails({ models: [{ kind: 'k-anonymity', k: 9 }] }, /k = 9 is larger than the number of records \(8\)/);
    fails({ models: [] }, /at least one privacy model/);
    fails({ models: [{ kind: 'l-diversity', variant: 'distinct', l: 4 }], sensitive: 'diagnosis' }, /l = 4 is larger than the number of distinct values of diagnosis \(3\)/);
    fails({ models: [{ kind: 'l-diversity', variant: 'distinct', l: 2 }] }, /needs a sensitive attribute/);
    fails({ models: [{ kind: 't-closeness', distance: 'equal', t: 1.2 }], sensitive: 'diagnosis' }, /t must be between 0 and 1/);
    fails({ sensitive: 'age' }, /both a quasi-identifier and the sensitive attribute/);
    fails({ suppressionLimit: 2 }, /suppression limit/);
    fails({ hierarchies: new Map([['age', hierarchies.get('age')!]]) }, /no hierarchy for the quasi-identifier sex/);
    fails({ hierarchies: new Map([...hierarchies, ['sex', parseHierarchy('M;*\n', 'sex', 'short.csv')]]) }, /short\.csv: 1 value of sex in eight\.csv is not in the hierarchy: "F" \(4 records\)/);
    // A hierarchy made in code, not read from a file: "any" generalizes to "*" and to "other".
    const inconsistent: Hierarchy = { attribute: 'sex', height: 3, values: new Map([['M', ['M', 'any', '*']], ['F', ['F', 'any', 'other']]]), source: 'bad' };
    fails({ hierarchies: new Map([...hierarchies, ['sex', inconsistent]]) }, /inconsistent hierarchy for sex/);
    expect(() => anonymize({ ...base, models: [{ kind: 'k-anonymity', k: 9 }] })).toThrow(RiskInputError);
  });

  it('says so when no transformation can satisfy the models', () => {
    // Entropy-3-diversity: the whole table's entropy is below log2 3, so even one class of all fails.
    expect(() => anonymize({ ...base, models: [{ kind: 'l-diversity', variant: 'entropy', l: 3 }], sensitive: 'diagnosis' })).toThrow(NoSolutionError);
  });
});
