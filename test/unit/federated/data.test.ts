import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encode,
  FederatedDataError,
  localMoments,
  localSchema,
  mergeMoments,
  mergeSchemas,
  parseFeatureTable,
  positiveLabel,
  readFeatureTable,
  SchemaMismatchError,
  type FeatureTable,
  type LocalSchema,
} from '../../../src/federated/data.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'radanon-fl-data-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('reading feature tables', () => {
  it('reads a ;-separated table, trims values and sets the label apart with its line numbers', () => {
    const t = parseFeatureTable('age;sex;outcome\n 39;Male;no\n50 ;Female; yes\n\n28;Female;no\n', 'site.csv', 'outcome');
    expect(t.columns).toEqual(['age', 'sex']);
    expect(t.rows).toEqual([
      ['39', 'Male'],
      ['50', 'Female'],
      ['28', 'Female'],
    ]);
    expect(t.labels).toEqual(['no', 'yes', 'no']);
    expect(t.lines).toEqual([2, 3, 5]);
    expect(t.label).toBe('outcome');
  });

  it('detects comma and tab separators and reads quoted fields holding separators and quotes', () => {
    const comma = parseFeatureTable('a,b,y\n1,"x, ""quoted""",p\n2,z,q\n', 'c.csv', 'y');
    expect(comma.rows[0]).toEqual(['1', 'x, "quoted"']);
    const tab = parseFeatureTable('a\tb\ty\n1\tu;v\tp\n2\tw\tq\n', 't.tsv', 'y');
    expect(tab.rows).toEqual([
      ['1', 'u;v'],
      ['2', 'w'],
    ]);
  });

  it('reads a file from disk and names it in its errors', async () => {
    const file = path.join(dir, 'ok.csv');
    await writeFile(file, 'x;label\n1;a\n2;b\n');
    const t = await readFeatureTable(file, 'label');
    expect(t.source).toBe(file);
    expect(t.labels).toEqual(['a', 'b']);
    await expect(readFeatureTable(path.join(dir, 'absent.csv'), 'label')).rejects.toThrow(/absent\.csv.*ENOENT/);
  });

  it('refuses a missing label column, naming the file and the columns it has', () => {
    const e = errorOf(() => parseFeatureTable('a;b\n1;2\n', 'site.csv', 'outcome'));
    expect(e).toBeInstanceOf(FederatedDataError);
    expect(e.message).toBe('site.csv:1: no label column "outcome" (the columns are a, b)');
  });

  it('refuses empty values, ragged rows, unclosed quotes and empty files with file and line', () => {
    expect(() => parseFeatureTable('a;b;y\n1;2;p\n3;;q\n', 's.csv', 'y')).toThrow('s.csv:3: column "b" is empty');
    expect(() => parseFeatureTable('a;b;y\n1;2;p\n3;4\n', 's.csv', 'y')).toThrow('s.csv:3: 2 fields, but the header has 3');
    expect(() => parseFeatureTable('a,y\n"1,p\n', 's.csv', 'y')).toThrow(FederatedDataError);
    expect(() => parseFeatureTable('', 's.csv', 'y')).toThrow('s.csv: the file is empty');
    expect(() => parseFeatureTable('a;y\n', 's.csv', 'y')).toThrow('s.csv: the table has a header but no rows');
    expect(() => parseFeatureTable('y;a;a\n1;2;3\n', 's.csv', 'y')).toThrow('"a" appears twice');
  });

  it('refuses NaN and infinities in a numeric column, naming the line and the value', () => {
    expect(() => parseFeatureTable('a;y\n1.5;p\nNaN;q\n2;p\n', 's.csv', 'y')).toThrow('s.csv:3: column "a" is numeric but holds "NaN" (not a finite number)');
    expect(() => parseFeatureTable('a;y\n1;p\n-inf;q\n', 's.csv', 'y')).toThrow('s.csv:3: column "a" is numeric but holds "-inf"');
    expect(() => parseFeatureTable('a;y\n1;p\n1e999;q\n', 's.csv', 'y')).toThrow('s.csv:3: column "a" is numeric but holds "1e999"');
  });

  it('keeps NaN as a category in a column that is categorical anyway', () => {
    const t = parseFeatureTable('grade;y\nhigh;p\nNaN;q\nlow;p\n', 's.csv', 'y');
    const schema = localSchema(t);
    expect(schema.columns).toEqual([{ name: 'grade', kind: 'categorical', categories: ['NaN', 'high', 'low'] }]);
  });

  it('refuses a label with one class', () => {
    expect(() => parseFeatureTable('a;y\n1;p\n2;p\n', 's.csv', 'y')).toThrow('s.csv: the label "y" has only one class (p)');
  });
});

describe('schemas', () => {
  const siteA = parseFeatureTable('age;sex;stage;y\n40;M;II;yes\n50;F;I;no\n61;F;III;no\n', 'a.csv', 'y');
  const siteB = parseFeatureTable('sex;age;stage;y\nF;33;IV;yes\nX;45;I;no\n', 'b.csv', 'y');

  it('describes a site by column kinds, sorted vocabularies and classes only', () => {
    expect(localSchema(siteA)).toEqual({
      label: 'y',
      columns: [
        { name: 'age', kind: 'numeric' },
        { name: 'sex', kind: 'categorical', categories: ['F', 'M'] },
        { name: 'stage', kind: 'categorical', categories: ['I', 'II', 'III'] },
      ],
      classes: ['no', 'yes'],
    });
  });

  it('refuses an identifier-like text column', () => {
    const ids = parseFeatureTable('id;y\nP1;a\nP2;b\nP3;a\n', 'ids.csv', 'y');
    expect(() => localSchema(ids, { maxCategories: 2 })).toThrow('ids.csv: column "id" holds 3 distinct text values (more than 2)');
  });

  it('merges vocabularies as a sorted union in the first site\'s column order', () => {
    const merged = mergeSchemas([localSchema(siteA), localSchema(siteB)]);
    expect(merged.columns).toEqual([
      { name: 'age', kind: 'numeric' },
      { name: 'sex', kind: 'categorical', categories: ['F', 'M', 'X'] },
      { name: 'stage', kind: 'categorical', categories: ['I', 'II', 'III', 'IV'] },
    ]);
    expect(merged.encodedColumns).toEqual(['age', 'sex=F', 'sex=M', 'sex=X', 'stage=I', 'stage=II', 'stage=III', 'stage=IV']);
    expect(merged.classes).toEqual(['no', 'yes']);
    expect(positiveLabel(merged)).toBe('yes');
    expect(positiveLabel(mergeSchemas([localSchema(siteA)], { positiveLabel: 'no' }))).toBe('no');
    expect(() => mergeSchemas([localSchema(siteA)], { positiveLabel: 'maybe' })).toThrow('the positive label "maybe" is not a class of "y" (no, yes)');
  });

  it('takes the lexicographically last class as positive (">50K" over "<=50K")', () => {
    const t = parseFeatureTable('age;salary-class\n39;<=50K\n50;>50K\n', 'adult-like.csv', 'salary-class');
    expect(positiveLabel(mergeSchemas([localSchema(t)]))).toBe('>50K');
  });

  it('names the site and each differing column when schemas do not match', () => {
    const other: LocalSchema = {
      site: 'hospital-3',
      label: 'y',
      columns: [
        { name: 'age', kind: 'categorical', categories: ['old', 'young'] },
        { name: 'sex', kind: 'categorical', categories: ['F'] },
        { name: 'smoker', kind: 'categorical', categories: ['no', 'yes'] },
      ],
      classes: ['no', 'yes'],
    };
    const e = errorOf(() => mergeSchemas([localSchema(siteA), other]));
    expect(e).toBeInstanceOf(SchemaMismatchError);
    const mismatch = e as SchemaMismatchError;
    expect(mismatch.site).toBe('hospital-3');
    expect(mismatch.differences.map((d) => d.column)).toEqual(['age', 'stage', 'smoker']);
    expect(e.message).toBe(
      "site hospital-3: its feature table differs from the consortium's: age (categorical at the site, numeric elsewhere); stage (missing at the site); smoker (only at the site)",
    );
  });

  it('refuses a union of label classes that is not two', () => {
    const third: LocalSchema = { ...localSchema(siteB), site: 'c', classes: ['maybe', 'no'] };
    expect(() => mergeSchemas([localSchema(siteA), third])).toThrow('the label "y" has 3 classes across the sites (#1: no, yes; c: maybe, no); exactly two are needed');
  });
});

describe('encoding and federated standardisation', () => {
  it('one-hot encodes in the merged category order, standardises, and maps the positive class to 1', () => {
    const t = parseFeatureTable('size;colour;y\n1;red;b\n3;blue;a\n', 't.csv', 'y');
    const schema = mergeSchemas([localSchema(t), { label: 'y', columns: [{ name: 'size', kind: 'numeric' }, { name: 'colour', kind: 'categorical', categories: ['green'] }], classes: ['a'] }]);
    expect(schema.encodedColumns).toEqual(['size', 'colour=blue', 'colour=green', 'colour=red']);
    const data = encode(t, schema, { mean: [2, 0.5, 0, 0.5], sd: [1, 0.5, 1, 0.5] });
    expect(data.n).toBe(2);
    expect(data.d).toBe(4);
    expect(Array.from(data.x)).toEqual([-1, -1, 0, 1, 1, 1, 0, -1]);
    expect(Array.from(data.y)).toEqual([1, 0]);
  });

  it('matches columns by name, refuses unknown categories unless told to ignore them', () => {
    const train = parseFeatureTable('colour;size;y\nred;1;b\nblue;3;a\n', 't.csv', 'y');
    const schema = mergeSchemas([localSchema(train)]);
    const later = parseFeatureTable('size;colour;y\n2;red;a\n5;purple;b\n', 'later.csv', 'y');
    const identity = { mean: [0, 0, 0], sd: [1, 1, 1] };
    expect(() => encode(later, schema, identity)).toThrow('later.csv:3: column "colour" holds "purple", which is not one of the schema\'s categories');
    const data = encode(later, schema, identity, { unknownCategories: 'ignore' });
    expect(Array.from(data.x)).toEqual([0, 1, 2, 0, 0, 5]);
    const missing = parseFeatureTable('size;y\n2;a\n3;b\n', 'm.csv', 'y');
    expect(() => encode(missing, schema, identity)).toThrow("m.csv: the table's columns differ from the schema's: missing colour");
    const badLabel = parseFeatureTable('colour;size;y\nred;1;b\nblue;3;c\n', 'l.csv', 'y');
    expect(() => encode(badLabel, schema, identity)).toThrow('l.csv:3: the label "c" is not one of the classes a, b');
  });

  it('merges three sites\' moments to the centralised mean and population sd (1e-12)', () => {
    // A small table with numeric columns of different scales and a categorical one.
    const lines = ['volume;energy;grade;y'];
    const volume: number[] = [];
    const energy: number[] = [];
    for (let i = 0; i < 23; i++) {
      const v = 1000 + ((i * 7919) % 101) * 13.37;
      const e = ((i * 104729) % 97) / 9.1 - 3.3;
      volume.push(v);
      energy.push(e);
      lines.push(`${v};${e};${['G1', 'G2', 'G3'][i % 3]};${i % 2 === 0 ? 'yes' : 'no'}`);
    }
    const whole = parseFeatureTable(lines.join('\n'), 'whole.csv', 'y');
    const parts: FeatureTable[] = [
      [0, 7],
      [7, 15],
      [15, 23],
    ].map(([from, to], k) => ({ source: `part${k}.csv`, columns: whole.columns, rows: whole.rows.slice(from, to), labels: whole.labels.slice(from, to), label: 'y' }));
    const schema = mergeSchemas(parts.map((p) => localSchema(p)));
    const merged = mergeMoments(parts.map((p) => localMoments(p, schema)));
    const centralised = (values: number[]): [number, number] => {
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
      return [mean, Math.sqrt(variance)];
    };
    const columns: number[][] = [volume, energy, ...['G1', 'G2', 'G3'].map((g) => whole.rows.map((r) => (r[2] === g ? 1 : 0)))];
    columns.forEach((values, j) => {
      const [mean, sd] = centralised(values);
      expect(Math.abs(merged.mean[j]! - mean)).toBeLessThan(1e-12 * Math.max(1, Math.abs(mean)));
      expect(Math.abs(merged.sd[j]! - sd)).toBeLessThan(1e-12 * Math.max(1, sd));
    });
    // The encoded, standardised pooled data has mean 0 and sd 1 in every column.
    const data = encode(whole, schema, merged);
    for (let j = 0; j < data.d; j++) {
      let s = 0;
      let q = 0;
      for (let r = 0; r < data.n; r++) {
        s += data.x[r * data.d + j]!;
        q += data.x[r * data.d + j]! ** 2;
      }
      expect(Math.abs(s / data.n)).toBeLessThan(1e-12);
      expect(Math.abs(q / data.n - 1)).toBeLessThan(1e-12);
    }
  });

  it('gives a constant column sd 1 and refuses moments of different widths', () => {
    const t = parseFeatureTable('c;v;y\n7.1;1;a\n7.1;2;b\n7.1;4;a\n', 't.csv', 'y');
    const schema = mergeSchemas([localSchema(t)]);
    const m = localMoments(t, schema);
    expect(m.count).toBe(3);
    expect(Array.from(m.sum)).toEqual([7.1 * 3, 7]);
    const s = mergeMoments([m]);
    expect(s.sd[0]).toBe(1);
    expect(s.mean[0]).toBeCloseTo(7.1, 14);
    expect(() => mergeMoments([m, { count: 1, sum: new Float64Array(3), sumSquares: new Float64Array(3) }])).toThrow('moments #2: 3 sums and 3 sums of squares, expected 2 of each');
    expect(() => mergeMoments([])).toThrow('no site moments to merge');
  });
});
