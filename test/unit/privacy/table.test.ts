import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TableError, detectSeparator, formatCsv, loadTable, parseCsv, parseSeparator, writeCsv } from '../../../src/privacy/table.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'radanon-table-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('parseCsv', () => {
  it('reads quoted fields with separators, doubled quotes and line breaks inside', () => {
    const t = parseCsv('id,note,city\r\n1,"a, b","x"\r\n2,"he said ""hi""",y\r\n3,"two\r\nlines",z\r\n', 't.csv');
    expect(t.separator).toBe(',');
    expect(t.columns).toEqual(['id', 'note', 'city']);
    expect(t.rows).toEqual([
      ['1', 'a, b', 'x'],
      ['2', 'he said "hi"', 'y'],
      ['3', 'two\r\nlines', 'z'],
    ]);
  });

  it('drops a UTF-8 byte order mark, accepts LF and a missing final line break, skips empty lines', () => {
    const t = parseCsv('\uFEFFa;b\n1;2\n\n3;4', 't.csv');
    expect(t.columns).toEqual(['a', 'b']);
    expect(t.rows).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
  });

  it('keeps empty fields, including a trailing one', () => {
    const t = parseCsv('a,b,c\n1,,\n,,3\n', 't.csv');
    expect(t.rows).toEqual([
      ['1', '', ''],
      ['', '', '3'],
    ]);
  });

  it('names the file and the line of a ragged row (counting lines inside quoted fields)', () => {
    expect(() => parseCsv('a,b\n1,2\n"x\ny",2\n3\n', 'data.csv')).toThrow(/^data\.csv:5: 1 field, but the header has 2$/);
    expect(() => parseCsv('a,b\n1,2,3\n', 'data.csv')).toThrow(TableError);
    // Without quotes the text takes a faster path; lines are counted the same way.
    expect(() => parseCsv('a;b\r\n1;2\r\n\r\n3\r\n', 'plain.csv')).toThrow(/^plain\.csv:4: 1 field, but the header has 2$/);
  });

  it('rejects an unclosed quote, text after a closing quote, duplicate and empty column names', () => {
    expect(() => parseCsv('a,b\n"1,2\n', 'q.csv')).toThrow(/q\.csv:2: a quoted field is not closed/);
    expect(() => parseCsv('a,b\n"1"x,2\n', 'q.csv', { separator: ',' })).toThrow(/after a closing quote/);
    expect(() => parseCsv('a,a\n1,2\n', 'q.csv')).toThrow(/"a" appears twice/);
    expect(() => parseCsv('a,,c\n1,2,3\n', 'q.csv')).toThrow(/column 2 of the header has no name/);
    expect(() => parseCsv('', 'q.csv')).toThrow(/empty/);
  });
});

describe('detectSeparator', () => {
  it('picks the separator that splits every first line into the same number of fields', () => {
    expect(detectSeparator('a;b;c\n1;2,5;3\n4;5;6\n', 'x')).toBe(';');
    expect(detectSeparator('a\tb\n1\t2\n', 'x')).toBe('\t');
    expect(detectSeparator('a|b|c\n1|2|3\n', 'x')).toBe('|');
    expect(detectSeparator('a,b\n"1;2",3\n', 'x')).toBe(',');
  });

  it('reads a one-column table with ",", and lets a ragged row surface as a line error', () => {
    expect(detectSeparator('name\nAnn\nBob\n', 'x')).toBe(',');
    expect(detectSeparator('a,b\n1,2\n3,4,5\n', 'x')).toBe(',');
    expect(() => parseCsv('a,b\n1,2\n3,4,5\n', 'x.csv')).toThrow(/^x\.csv:3: 3 fields, but the header has 2$/);
  });

  it('parses separators given on the command line', () => {
    expect(parseSeparator('tab')).toBe('\t');
    expect(parseSeparator(';')).toBe(';');
    expect(() => parseSeparator(':')).toThrow(/one of/);
  });
});

describe('writeCsv and loadTable', () => {
  it('round-trips values that need quoting, atomically, and reads back with the same separator', async () => {
    const table = { columns: ['id', 'text'], rows: [['1', 'a;b'], ['2', 'say "x"'], ['3', 'line\nbreak']], source: 'mem' };
    const file = path.join(tmp, 'out.csv');
    await writeCsv(table, file, ';');
    expect(fs.readdirSync(tmp)).toEqual(['out.csv']);
    expect(fs.readFileSync(file, 'utf8')).toBe(formatCsv(table, ';'));
    const back = await loadTable(file);
    expect(back.separator).toBe(';');
    expect(back.rows).toEqual(table.rows);
    await expect(loadTable(path.join(tmp, 'missing.csv'))).rejects.toThrow(/cannot read the table .*missing\.csv \(ENOENT\)/);
  });
});
