import { describe, expect, it } from 'vitest';
import { assessRisk, riskFromClassSizes } from '../../../src/privacy/risk.js';

describe('riskFromClassSizes', () => {
  it('computes prosecutor, journalist and marketer risk, records at risk and uniques', () => {
    // Classes of 1, 2 and 5 records: 8 records, 3 classes.
    const r = riskFromClassSizes([1, 2, 5], 0.2);
    expect(r.records).toBe(8);
    expect(r.classes).toBe(3);
    expect(r.prosecutor.highest).toBe(1); // 1 / smallest class (1)
    expect(r.prosecutor.average).toBe(3 / 8); // classes / records
    expect(r.journalist).toEqual(r.prosecutor); // no population table
    expect(r.marketer).toBe(3 / 8);
    // Risk above 0.2: classes of 1 (risk 1) and 2 (0.5): 3 records of 8. The class of 5 has risk 0.2, not above.
    expect(r.recordsAtRisk).toEqual({ threshold: 0.2, share: 3 / 8 });
    expect(r.sampleUniques).toBe(1 / 8);
    expect(r.classSizes).toEqual([
      { size: 1, classes: 1 },
      { size: 2, classes: 1 },
      { size: 5, classes: 1 },
    ]);
    expect(r.suppressed).toBe(0);
  });

  it('counts suppressed records apart and is zero when nothing is released', () => {
    const r = riskFromClassSizes([3, 3], 0.5, 2);
    // Two classes of 3 (suppressed records are not in them): risk 1/3 everywhere, none above 0.5.
    expect(r.records).toBe(6);
    expect(r.prosecutor).toEqual({ highest: 1 / 3, average: 1 / 3 });
    expect(r.recordsAtRisk.share).toBe(0);
    expect(r.suppressed).toBe(2);
    const none = riskFromClassSizes([], 0.2, 10);
    expect(none.prosecutor).toEqual({ highest: 0, average: 0 });
    expect(none.records).toBe(0);
    expect(() => riskFromClassSizes([1], 0)).toThrow(/threshold/);
  });
});

describe('assessRisk', () => {
  it('groups records on the raw quasi-identifier values', () => {
    const table = {
      columns: ['age', 'sex', 'diagnosis'],
      rows: [
        ['30', 'F', 'x'],
        ['30', 'F', 'y'],
        ['30', 'M', 'x'],
        ['41', 'F', 'z'],
      ],
      source: 't.csv',
    };
    // Classes: (30,F) ×2, (30,M), (41,F): 3 classes, 2 of them unique.
    const r = assessRisk(table, ['age', 'sex']);
    expect(r.classes).toBe(3);
    expect(r.prosecutor.highest).toBe(1);
    expect(r.prosecutor.average).toBe(3 / 4);
    expect(r.sampleUniques).toBe(2 / 4);
    expect(r.recordsAtRisk.share).toBe(1); // every class is smaller than 5
    // Sex alone: F ×3, M ×1.
    expect(assessRisk(table, ['sex']).classSizes).toEqual([
      { size: 1, classes: 1 },
      { size: 3, classes: 1 },
    ]);
    expect(() => assessRisk(table, ['zip'])).toThrow(/no column "zip"/);
  });
});
