/**
 * Built hierarchies: intervals, dates, masks; each a Hierarchy whose levels are functions of the
 * level below (checked here independently of the builder's own check); spec parsing and errors.
 */
import { describe, expect, it } from 'vitest';
import { buildHierarchy, formatHierarchySpec, HierarchyBuildError, HierarchySpecError, parseHierarchySpec, type HierarchySpec } from '../../../src/privacy/builders.js';
import type { Hierarchy } from '../../../src/privacy/types.js';

/** Every level maps each value of the level below to exactly one value; level 0 is the value; top is "*". */
function expectConsistent(h: Hierarchy): void {
  for (const [original, entry] of h.values) {
    expect(entry).toHaveLength(h.height);
    expect(entry[0]).toBe(original);
    expect(entry[h.height - 1]).toBe('*');
  }
  for (let level = 1; level < h.height; level++) {
    const up = new Map<string, Set<string>>();
    for (const entry of h.values.values()) {
      const set = up.get(entry[level - 1]!) ?? new Set<string>();
      set.add(entry[level]!);
      up.set(entry[level - 1]!, set);
    }
    for (const [below, above] of up) expect([...above], `level ${level}, "${below}"`).toHaveLength(1);
  }
}

const levels = (h: Hierarchy, v: string) => h.values.get(v);

describe('intervals', () => {
  const ages = ['34', '30', '29', '0', '47', '50', '99', '34'];
  const h = buildHierarchy('age', { kind: 'intervals', widths: [5, 10, 20] }, ages);

  it('bins aligned at 0, first and last possible value, then "*"', () => {
    expect(h).toMatchObject({ attribute: 'age', height: 5, source: 'builder intervals:5,10,20' });
    expect(h.values.size).toBe(7); // distinct values
    expect(levels(h, '34')).toEqual(['34', '30-34', '30-39', '20-39', '*']);
    expect(levels(h, '29')).toEqual(['29', '25-29', '20-29', '20-39', '*']);
    expect(levels(h, '0')).toEqual(['0', '0-4', '0-9', '0-19', '*']);
    expect(levels(h, '50')).toEqual(['50', '50-54', '50-59', '40-59', '*']);
    expect(levels(h, '99')).toEqual(['99', '95-99', '90-99', '80-99', '*']);
    expectConsistent(h);
  });

  it('decimal or negative values get half-open labels', () => {
    const d = buildHierarchy('bmi', { kind: 'intervals', widths: [5, 10] }, ['22.5', '24.99', '25', '-3']);
    expect(levels(d, '24.99')).toEqual(['24.99', '[20, 25[', '[20, 30[', '*']);
    expect(levels(d, '25')).toEqual(['25', '[25, 30[', '[20, 30[', '*']);
    expect(levels(d, '-3')).toEqual(['-3', '[-5, 0[', '[-10, 0[', '*']);
    expectConsistent(d);
  });

  it('missing values stay empty below the top', () => {
    const m = buildHierarchy('age', { kind: 'intervals', widths: [10] }, ['', '34']);
    expect(levels(m, '')).toEqual(['', '', '*']);
    expectConsistent(m);
  });

  it('non-numeric values: an error listing them', () => {
    expect(() => buildHierarchy('age', { kind: 'intervals', widths: [5] }, ['34', 'n/a', '3x', '34'])).toThrowError(HierarchyBuildError);
    expect(() => buildHierarchy('age', { kind: 'intervals', widths: [5] }, ['34', 'n/a', '3x'])).toThrowError('age: interval hierarchies need numbers; 2 values are not: "n/a", "3x"');
    const many = Array.from({ length: 14 }, (_, i) => `x${i}`);
    expect(() => buildHierarchy('age', { kind: 'intervals', widths: [5] }, many)).toThrowError(/"x9" and 4 more$/);
  });

  it('widths that are not larger multiples of the previous are refused', () => {
    expect(() => buildHierarchy('age', { kind: 'intervals', widths: [5, 12] }, ['1'])).toThrowError(HierarchySpecError);
    expect(() => buildHierarchy('age', { kind: 'intervals', widths: [5, 12] }, ['1'])).toThrowError(/each interval width must be a larger multiple of the previous one \(12 after 5\)/);
    expect(() => buildHierarchy('age', { kind: 'intervals', widths: [10, 10] }, ['1'])).toThrowError(/larger multiple/);
    expect(() => buildHierarchy('age', { kind: 'intervals', widths: [0] }, ['1'])).toThrowError(/at least 1/);
    expect(() => buildHierarchy('age', { kind: 'intervals', widths: [] }, ['1'])).toThrowError(/at least one interval width/);
  });
});

describe('dates', () => {
  const values = ['20210314', '2021-03-01', '19991231', '2000', '20201231'];
  const h = buildHierarchy('studyDate', { kind: 'dates', levels: ['month', 'year', 'decade'] }, values);

  it('month YYYY-MM, year YYYY, decade 1990-1999, then "*"', () => {
    expect(h.height).toBe(5);
    expect(levels(h, '20210314')).toEqual(['20210314', '2021-03', '2021', '2020-2029', '*']);
    expect(levels(h, '2021-03-01')).toEqual(['2021-03-01', '2021-03', '2021', '2020-2029', '*']);
    expect(levels(h, '19991231')).toEqual(['19991231', '1999-12', '1999', '1990-1999', '*']);
    // A year-only value has no month: it stays its year at the month level.
    expect(levels(h, '2000')).toEqual(['2000', '2000', '2000', '2000-2009', '*']);
    expectConsistent(h);
  });

  it('a subset of levels, finest first', () => {
    const y = buildHierarchy('studyYear', { kind: 'dates', levels: ['decade'] }, ['2004', '2019']);
    expect(levels(y, '2019')).toEqual(['2019', '2010-2019', '*']);
    expectConsistent(y);
  });

  it('values that are not dates, or not calendar dates: an error listing them', () => {
    expect(() => buildHierarchy('d', { kind: 'dates', levels: ['year'] }, ['20210230', '2021/03/01', '20210301'])).toThrowError(
      'd: date hierarchies need dates written YYYYMMDD, YYYY-MM-DD or YYYY; 2 values are not: "20210230", "2021/03/01"',
    );
  });

  it('levels out of order or repeated are refused', () => {
    expect(() => buildHierarchy('d', { kind: 'dates', levels: ['year', 'month'] }, [])).toThrowError(/from finest to coarsest/);
    expect(() => buildHierarchy('d', { kind: 'dates', levels: ['year', 'year'] }, [])).toThrowError(/each once/);
  });
});

describe('masks', () => {
  it('level n masks more characters from the right, keeping the length', () => {
    const h = buildHierarchy('zip', { kind: 'mask', steps: [1, 2, 3] }, ['12345', '12399', '12', '']);
    expect(levels(h, '12345')).toEqual(['12345', '1234*', '123**', '12***', '*']);
    expect(levels(h, '12399')).toEqual(['12399', '1239*', '123**', '12***', '*']);
    expect(levels(h, '12')).toEqual(['12', '1*', '**', '**', '*']);
    expect(levels(h, '')).toEqual(['', '', '', '', '*']);
    expect(h.source).toBe('builder mask:1,2,3');
    expectConsistent(h);
  });

  it('steps must grow', () => {
    expect(() => buildHierarchy('zip', { kind: 'mask', steps: [2, 2] }, ['1'])).toThrowError(/each larger than the previous/);
    expect(() => buildHierarchy('zip', { kind: 'mask', steps: [0] }, ['1'])).toThrowError(/each larger than the previous, got 0/);
  });
});

describe('parseHierarchySpec', () => {
  it('reads the three forms and writes them back', () => {
    const cases: [string, HierarchySpec][] = [
      ['intervals:5,10,20', { kind: 'intervals', widths: [5, 10, 20] }],
      ['dates:month,year,decade', { kind: 'dates', levels: ['month', 'year', 'decade'] }],
      ['mask:1,2,3', { kind: 'mask', steps: [1, 2, 3] }],
      [' intervals: 10 , 20 ', { kind: 'intervals', widths: [10, 20] }],
    ];
    for (const [text, spec] of cases) {
      expect(parseHierarchySpec(text)).toEqual(spec);
      expect(parseHierarchySpec(formatHierarchySpec(spec))).toEqual(spec);
    }
  });

  const errors: [string, RegExp][] = [
    ['intervals', /must be written kind:levels, e.g. intervals:5,10,20/],
    ['bins:5', /unknown kind "bins" \(expected intervals, dates or mask/],
    ['intervals:', /list the levels separated by commas/],
    ['intervals:5,,10', /list the levels separated by commas/],
    ['intervals:5,x', /interval widths must be whole numbers, got "x"/],
    ['intervals:2.5', /interval widths must be whole numbers, got "2.5"/],
    ['intervals:5,12', /each interval width must be a larger multiple of the previous one \(12 after 5\)/],
    ['dates:week', /date levels are month, year, decade, got "week"/],
    ['dates:decade,year', /from finest to coarsest/],
    ['mask:3,1', /each larger than the previous, got 1/],
    ['mask:a', /mask steps must be whole numbers, got "a"/],
  ];
  for (const [text, reason] of errors) {
    it(`refuses "${text}"`, () => {
      expect(() => parseHierarchySpec(text)).toThrowError(HierarchySpecError);
      expect(() => parseHierarchySpec(text)).toThrowError(reason);
    });
  }
});
