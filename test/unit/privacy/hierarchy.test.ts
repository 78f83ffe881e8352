import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HierarchyError, checkValuesCovered, loadHierarchies, parseHierarchy } from '../../../src/privacy/hierarchy.js';
import { RiskInputError } from '../../../src/privacy/table.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'radanon-hier-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): void {
  fs.writeFileSync(path.join(tmp, name), text);
}

describe('parseHierarchy', () => {
  it('reads one row per value and one column per level, a label reused across levels included', () => {
    const h = parseHierarchy('20;20-29;*\r\n25;20-29;*\r\n30;30-39;*\r\nUS;US;*', 'age', 'h.csv');
    expect(h.height).toBe(3);
    expect(h.values.get('25')).toEqual(['25', '20-29', '*']);
    expect(h.values.get('US')).toEqual(['US', 'US', '*']);
    expect(h.values.size).toBe(4);
  });

  it('rejects rows of different lengths, naming the line', () => {
    expect(() => parseHierarchy('a;x;*\nb;x\n', 'attr', 'h.csv')).toThrow(/^h\.csv:2: 2 levels, but the first row has 3/);
  });

  it('rejects a value listed twice', () => {
    expect(() => parseHierarchy('a;x;*\nb;x;*\na;y;*\n', 'attr', 'h.csv')).toThrow(/h\.csv:3: the value "a" is listed twice \(also on line 1\)/);
  });

  it('rejects a level that is not a function of the previous one', () => {
    // "x" at level 1 generalizes to "*" on line 1 and to "other" on line 2.
    expect(() => parseHierarchy('a;x;*\nb;x;other\n', 'attr', 'h.csv')).toThrow(HierarchyError);
    expect(() => parseHierarchy('a;x;*\nb;x;other\n', 'attr', 'h.csv')).toThrow(/inconsistent hierarchy for attr: "x" at level 1 generalizes to "\*" \(line 1\) and to "other" \(line 2\) at level 2/);
  });
});

describe('loadHierarchies', () => {
  it('finds <anything>_hierarchy_<attribute>.csv for each attribute', async () => {
    write('study_hierarchy_sex.csv', 'M;*\nF;*\n');
    write('hierarchy_age.csv', '1;*\n'); // wrong name: no underscore before "hierarchy"
    write('x_hierarchy_age.csv', '1;0-9;*\n2;0-9;*\n');
    const hs = await loadHierarchies(tmp, ['sex', 'age']);
    expect(hs.get('sex')!.height).toBe(2);
    expect(hs.get('age')!.values.get('2')).toEqual(['2', '0-9', '*']);
    expect(hs.get('age')!.source).toBe(path.join(tmp, 'x_hierarchy_age.csv'));
  });

  it('names attributes without a file, and refuses two files for one attribute', async () => {
    await expect(loadHierarchies(tmp, ['sex', 'zip', 'race'])).rejects.toThrow(/no hierarchy file for zip \(expected a file named <anything>_hierarchy_zip\.csv\), race/);
    write('y_hierarchy_sex.csv', 'M;*\nF;*\n');
    await expect(loadHierarchies(tmp, ['sex'])).rejects.toThrow(/more than one hierarchy file for sex: study_hierarchy_sex\.csv, y_hierarchy_sex\.csv/);
    fs.rmSync(path.join(tmp, 'y_hierarchy_sex.csv'));
    await expect(loadHierarchies(path.join(tmp, 'nope'), ['sex'])).rejects.toThrow(/cannot read the hierarchy folder/);
  });

  it('reports an inconsistent file with its name', async () => {
    write('d_hierarchy_bad.csv', 'a;x;*\nb;x;y\n');
    await expect(loadHierarchies(tmp, ['bad'])).rejects.toThrow(/d_hierarchy_bad\.csv: inconsistent hierarchy for bad/);
  });
});

describe('checkValuesCovered', () => {
  const h = parseHierarchy('a;*\nb;*\n', 'v', 'h.csv');
  it('accepts data whose values all have a row', () => {
    expect(() => checkValuesCovered({ columns: ['v'], rows: [['a'], ['b'], ['a']], source: 't.csv' }, 'v', h)).not.toThrow();
  });

  it('lists up to ten missing values with their counts, most frequent first', () => {
    const rows = [['a'], ['z'], ['z'], ['y'], ...Array.from({ length: 12 }, (_, i) => [`m${String(i).padStart(2, '0')}`])];
    let message = '';
    try {
      checkValuesCovered({ columns: ['v'], rows, source: 't.csv' }, 'v', h);
    } catch (e) {
      expect(e).toBeInstanceOf(RiskInputError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/^h\.csv: 14 values of v in t\.csv are not in the hierarchy: "z" \(2 records\), "m00" \(1 record\), /);
    expect(message).toMatch(/and 4 more$/);
    expect(message.match(/record/g)!.length).toBe(10);
  });
});
