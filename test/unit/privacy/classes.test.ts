import { describe, expect, it } from 'vitest';
import { ClassBuilder, classCode, encodeData, type ClassSet, type EncodedData } from '../../../src/privacy/classes.js';
import { Lattice } from '../../../src/privacy/lattice.js';
import type { Hierarchy, Table } from '../../../src/privacy/types.js';
import { seededRandom } from '../../support/random.js';

/** `domain` values v0…, three levels: the value, its group of ten, "*". */
function hierarchy(attribute: string, domain: number): Hierarchy {
  const values = new Map<string, string[]>();
  for (let v = 0; v < domain; v++) values.set(`v${v}`, [`v${v}`, `g${Math.floor(v / 10)}`, '*']);
  return { attribute, height: 3, values, source: `${attribute}.csv` };
}

const random = seededRandom;

/** `columns` quasi-identifiers of `domain` values each; values are skewed to small numbers so that classes merge. */
function dataSet(columns: number, domain: number, records: number): { table: Table; qis: string[]; data: EncodedData } {
  const next = random(columns * 1000 + domain);
  const qis = Array.from({ length: columns }, (_, c) => `q${c}`);
  const rows = Array.from({ length: records }, () => qis.map(() => `v${Math.floor(domain * next() ** 3)}`));
  const table: Table = { columns: qis, rows, source: 'random.csv' };
  const hierarchies = new Map(qis.map((q) => [q, hierarchy(q, domain)]));
  return { table, qis, data: encodeData(table, qis, hierarchies) };
}

/** Level-0 code of each label, per column. */
const codes0 = new WeakMap<EncodedData, Map<string, number>[]>();

/** The classes of `levels` counted straight from the records: "label|label|…" → records. */
function expectedClasses(table: Table, data: EncodedData, levels: ArrayLike<number>): string[] {
  const counts = new Map<string, number>();
  let code0 = codes0.get(data);
  if (!code0) {
    code0 = data.columns.map((col) => new Map(col.labels[0]!.map((label, code) => [label, code])));
    codes0.set(data, code0);
  }
  for (const row of table.rows) {
    const key = data.columns
      .map((col, c) => col.labels[levels[c]!]![col.generalize[levels[c]! * col.domainSize + code0![c]!.get(row[c]!)!]!])
      .join('|');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${key}=${n}`).sort();
}

function described(data: EncodedData, classes: ClassSet): string[] {
  const out: string[] = [];
  for (let i = 0; i < classes.size; i++) {
    const key = data.columns.map((col, c) => col.labels[classes.levels[c]!]![classCode(data, classes, c, i)]).join('|');
    out.push(`${key}=${classes.counts[i]}`);
  }
  return out.sort();
}

describe('ClassBuilder.rollUp', () => {
  // Products of the domain sizes: 6^3 (32-bit packing), 250^4 ≈ 3.9e9 (packing in doubles), 1700^5 ≈ 1.4e16 (codes).
  const cases = [
    { name: '32-bit packed numbers', columns: 3, domain: 6, packing: 'narrow' },
    { name: 'packed numbers in doubles', columns: 4, domain: 250, packing: 'wide' },
    { name: 'codes per column', columns: 5, domain: 1700, packing: 'none' },
  ] as const;

  for (const { name, columns, domain, packing } of cases) {
    it(`computes every transformation's classes from a predecessor's, with ${name}`, () => {
      const { table, data } = dataSet(columns, domain, 400);
      expect(data.packing === null ? 'none' : data.packing.narrow ? 'narrow' : 'wide').toBe(packing);
      const builder = new ClassBuilder(data);
      if (packing === 'narrow') expect(builder.bottom.packed).toBeInstanceOf(Int32Array);
      if (packing === 'wide') expect(builder.bottom.packed).toBeInstanceOf(Float64Array);
      const lattice = new Lattice(data.columns.map((c) => c.height - 1));
      // Depth-first over the spanning tree: each node from its tree parent, as the exhaustive search does.
      const stack: { id: number; parent: ClassSet }[] = lattice.treeChildren(lattice.bottom).map((id) => ({ id, parent: builder.bottom }));
      let seen = 1;
      expect(described(data, builder.bottom)).toEqual(expectedClasses(table, data, lattice.levels(lattice.bottom)));
      while (stack.length > 0) {
        const { id, parent } = stack.pop()!;
        const levels = lattice.levels(id);
        const classes = builder.rollUp(parent, levels);
        const expected = expectedClasses(table, data, levels);
        expect(described(data, classes), `levels ${levels.join('')}`).toEqual(expected);
        // From the distinct tuples directly, with the class of each tuple.
        const { classes: direct, tupleClass } = builder.classesWithAssignment(levels);
        expect(described(data, direct)).toEqual(expected);
        let records = 0;
        for (let t = 0; t < data.tuples; t++) records += data.counts[t]!;
        const perClass = new Int32Array(direct.size);
        for (let t = 0; t < data.tuples; t++) perClass[tupleClass[t]!]! += data.counts[t]!;
        expect(Array.from(perClass)).toEqual(Array.from(direct.counts));
        expect(records).toBe(400);
        seen++;
        for (const child of lattice.treeChildren(id)) stack.push({ id: child, parent: classes });
      }
      expect(seen).toBe(lattice.size);
    });
  }

  it('refuses a source above the target', () => {
    const { data } = dataSet(3, 6, 50);
    const builder = new ClassBuilder(data);
    const source = builder.rollUp(builder.bottom, [1, 0, 0]);
    expect(() => builder.rollUp(source, [0, 1, 0])).toThrow(/below the source/);
  });
});
