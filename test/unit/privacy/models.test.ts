import { describe, expect, it } from 'vitest';
import type { SensitiveColumn } from '../../../src/privacy/classes.js';
import { compileModel, describeModel, hierarchicalEmd, sensitiveTree, type PrivacyModel } from '../../../src/privacy/models.js';
import { parseHierarchy } from '../../../src/privacy/hierarchy.js';
import { RiskInputError } from '../../../src/privacy/table.js';

/** A sensitive attribute with values a, b, c, d, counted `totals` times in the whole table. */
function sensitive(totals: number[]): SensitiveColumn {
  return { attribute: 'diagnosis', labels: ['a', 'b', 'c', 'd'].slice(0, totals.length), totals: Int32Array.from(totals) };
}

/** Whether one class with these sensitive value counts satisfies the model. */
function holds(model: PrivacyModel, histogram: number[], totals: number[] = histogram.map(() => 1)): boolean {
  const test = compileModel(model, { sensitive: sensitive(totals) });
  const count = histogram.reduce((a, b) => a + b, 0);
  // The class sits at offset 1 of a longer array, to check that offsets are honoured.
  const h = Int32Array.from([...histogram.map(() => 99), ...histogram]);
  return test.holds(count, h, histogram.length);
}

describe('k-anonymity', () => {
  it('holds for classes of at least k records', () => {
    const test = compileModel({ kind: 'k-anonymity', k: 5 }, {});
    expect(test.holds(4, undefined, 0)).toBe(false);
    expect(test.holds(5, undefined, 0)).toBe(true);
    expect(test.monotonicWithSuppression).toBe(true);
    expect(() => compileModel({ kind: 'k-anonymity', k: 0 }, {})).toThrow(RiskInputError);
  });
});

describe('l-diversity', () => {
  it('distinct: at least l different values', () => {
    // [3, 0, 1]: two distinct values.
    expect(holds({ kind: 'l-diversity', variant: 'distinct', l: 2 }, [3, 0, 1])).toBe(true);
    expect(holds({ kind: 'l-diversity', variant: 'distinct', l: 3 }, [3, 0, 1])).toBe(false);
  });

  it('entropy: −Σ p log p ≥ log l', () => {
    // [2, 2]: entropy 1 bit = log2 2, exactly enough for l = 2.
    expect(holds({ kind: 'l-diversity', variant: 'entropy', l: 2 }, [2, 2])).toBe(true);
    // [3, 1]: −(¾ log2 ¾ + ¼ log2 ¼) = 0.811 bits < 1 bit (l = 2), ≥ log2 1.7 = 0.766 bits.
    expect(holds({ kind: 'l-diversity', variant: 'entropy', l: 2 }, [3, 1])).toBe(false);
    expect(holds({ kind: 'l-diversity', variant: 'entropy', l: 1.7 }, [3, 1])).toBe(true);
    // [1, 1, 1]: log2 3 bits, exactly l = 3.
    expect(holds({ kind: 'l-diversity', variant: 'entropy', l: 3 }, [1, 1, 1])).toBe(true);
  });

  it('recursive (c,l): r1 < c·(r_l + … + r_m)', () => {
    // [2, 5, 3] sorted: 5 ≥ 3 ≥ 2. l = 2: tail 3 + 2 = 5; 5 < 1·5 fails, 5 < 1.1·5 holds.
    expect(holds({ kind: 'l-diversity', variant: 'recursive', l: 2, c: 1 }, [2, 5, 3])).toBe(false);
    expect(holds({ kind: 'l-diversity', variant: 'recursive', l: 2, c: 1.1 }, [2, 5, 3])).toBe(true);
    // l = 3: tail 2; 5 < 3·2 holds, 5 < 2·2 fails.
    expect(holds({ kind: 'l-diversity', variant: 'recursive', l: 3, c: 3 }, [2, 5, 3])).toBe(true);
    expect(holds({ kind: 'l-diversity', variant: 'recursive', l: 3, c: 2 }, [2, 5, 3])).toBe(false);
    // Fewer than l values fail whatever c.
    expect(holds({ kind: 'l-diversity', variant: 'recursive', l: 3, c: 100 }, [2, 5, 0])).toBe(false);
  });

  it('is not monotonic with suppression, needs a sensitive attribute and valid settings', () => {
    expect(compileModel({ kind: 'l-diversity', variant: 'distinct', l: 2 }, { sensitive: sensitive([1, 1]) }).monotonicWithSuppression).toBe(false);
    expect(() => compileModel({ kind: 'l-diversity', variant: 'distinct', l: 2 }, {})).toThrow(/needs a sensitive attribute/);
    expect(() => compileModel({ kind: 'l-diversity', variant: 'distinct', l: 1.5 }, { sensitive: sensitive([1, 1]) })).toThrow(/whole number/);
    expect(() => compileModel({ kind: 'l-diversity', variant: 'recursive', l: 2 }, { sensitive: sensitive([1, 1]) })).toThrow(/needs c > 0/);
  });
});

describe('t-closeness', () => {
  it('equal distance: ½ Σ |p − q|', () => {
    // Whole table [6, 2]: q = (0.75, 0.25). Class [1, 1]: p = (0.5, 0.5); EMD = ½(0.25 + 0.25) = 0.25.
    expect(holds({ kind: 't-closeness', distance: 'equal', t: 0.25 }, [1, 1], [6, 2])).toBe(true);
    expect(holds({ kind: 't-closeness', distance: 'equal', t: 0.2 }, [1, 1], [6, 2])).toBe(false);
    // A class distributed like the table is at distance 0.
    expect(holds({ kind: 't-closeness', distance: 'equal', t: 0 }, [3, 1], [6, 2])).toBe(true);
    expect(() => compileModel({ kind: 't-closeness', distance: 'equal', t: 1.5 }, { sensitive: sensitive([1]) })).toThrow(/between 0 and 1/);
  });

  // a, b under x; c, d under y; x, y under *. Height H = 2. The table has one of each: q = ¼ each.
  const hierarchy = parseHierarchy('a;x;*\nb;x;*\nc;y;*\nd;y;*\n', 'diagnosis', 'h.csv');
  const tree = sensitiveTree(sensitive([1, 1, 1, 1]), hierarchy);

  it('hierarchical distance (Li et al. 2007): cost per node = level/H · min(positive, negative extra)', () => {
    // Class [2, 0, 0, 0]: p − q = (¾, −¼, −¼, −¼).
    // x: positive ¾, negative ¼ → ½ · ¼ = 0.125; extra ½. y: negative ½ → 0; extra −½.
    // root: min(½, ½) · 2/2 = 0.5. EMD = 0.625.
    expect(hierarchicalEmd(tree, Int32Array.from([2, 0, 0, 0]), 0, 2, Int32Array.from([1, 1, 1, 1]), 4)).toBeCloseTo(0.625, 12);
    // Class [1, 1, 0, 0]: (¼, ¼, −¼, −¼): x and y cost 0, the root moves ½ at cost 1 → 0.5.
    expect(hierarchicalEmd(tree, Int32Array.from([1, 1, 0, 0]), 0, 2, Int32Array.from([1, 1, 1, 1]), 4)).toBeCloseTo(0.5, 12);
    // Class [1, 0, 1, 0]: (¼, −¼, ¼, −¼): all mass moves within x and y at cost ½ · ¼ each → 0.25.
    expect(hierarchicalEmd(tree, Int32Array.from([1, 0, 1, 0]), 0, 2, Int32Array.from([1, 1, 1, 1]), 4)).toBeCloseTo(0.25, 12);
    const test = compileModel({ kind: 't-closeness', distance: 'hierarchical', t: 0.6 }, { sensitive: sensitive([1, 1, 1, 1]), sensitiveHierarchy: hierarchy });
    expect(test.holds(2, Int32Array.from([2, 0, 0, 0]), 0)).toBe(false);
    expect(test.holds(2, Int32Array.from([1, 1, 0, 0]), 0)).toBe(true);
  });

  it('needs a hierarchy that covers the values and ends in one root', () => {
    expect(() => sensitiveTree(sensitive([1, 1, 1, 1]), undefined)).toThrow(/needs a hierarchy/);
    expect(() => sensitiveTree(sensitive([1, 1, 1, 1]), parseHierarchy('a;x\nb;x\nc;y\nd;y\n', 'diagnosis', 'two.csv'))).toThrow(/single value/);
    expect(() => sensitiveTree(sensitive([1, 1, 1, 1]), parseHierarchy('a;*\nb;*\nc;*\n', 'diagnosis', 'three.csv'))).toThrow(/"d" of diagnosis is not in its hierarchy/);
  });
});

describe('describeModel', () => {
  it('names each model', () => {
    expect(describeModel({ kind: 'k-anonymity', k: 5 })).toBe('5-anonymity');
    expect(describeModel({ kind: 'l-diversity', variant: 'entropy', l: 2 })).toBe('entropy-2-diversity');
    expect(describeModel({ kind: 'l-diversity', variant: 'recursive', l: 2, c: 3 })).toBe('recursive-(3,2)-diversity');
    expect(describeModel({ kind: 't-closeness', distance: 'hierarchical', t: 0.2 })).toBe('0.2-closeness (hierarchical distance)');
  });
});

describe('minClassSize', () => {
  it('is k, ⌈l⌉ for every l-diversity variant, 1 for t-closeness, and no passing class is smaller', () => {
    const s = { sensitive: sensitive([3, 3, 3]) };
    const cases: [PrivacyModel, number][] = [
      [{ kind: 'k-anonymity', k: 4 }, 4],
      [{ kind: 'l-diversity', variant: 'distinct', l: 3 }, 3],
      [{ kind: 'l-diversity', variant: 'entropy', l: 2.5 }, 3],
      [{ kind: 'l-diversity', variant: 'recursive', l: 2, c: 3 }, 2],
      [{ kind: 't-closeness', distance: 'equal', t: 0.9 }, 1],
    ];
    for (const [model, size] of cases) {
      const test = compileModel(model, s);
      expect(test.minClassSize, describeModel(model)).toBe(size);
      // Every class of fewer records fails, whatever its sensitive values (all histograms of 3 values).
      for (let count = 1; count < size; count++) {
        for (let a = 0; a <= count; a++) {
          for (let b = 0; a + b <= count; b++) expect(test.holds(count, Int32Array.from([a, b, count - a - b]), 0), `${describeModel(model)} ${a},${b}`).toBe(false);
        }
      }
    }
  });
});
