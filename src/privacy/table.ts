/**
 * Tables in and out as CSV (RFC 4180): quoted fields with embedded separators, quotes ("") and
 * line breaks, CRLF or LF line ends, an optional UTF-8 byte order mark. The separator is one of
 * `,` `;` tab `|`, detected from the header and the first records (the one that gives every
 * line the same number of fields) or given by the caller.
 */
import { readFile } from 'node:fs/promises';
import { writeReplacing } from '../pipeline/atomic.js';
import type { Table } from './types.js';

/**
 * Bad input to the re-identification risk stage: a table, a hierarchy or a setting that cannot
 * be used. Thrown before any search starts; the command line reports it as a usage error.
 */
export class RiskInputError extends Error {
  override readonly name: string = 'RiskInputError';
}

/** A CSV file that cannot be read as a table; the message names the file and the line. */
export class TableError extends RiskInputError {
  override readonly name: string = 'TableError';
}

export const SEPARATORS = [',', ';', '\t', '|'] as const;
export type Separator = (typeof SEPARATORS)[number];

export function isSeparator(text: string): text is Separator {
  return (SEPARATORS as readonly string[]).includes(text);
}

/** Reads the command-line spelling of a separator: the character itself, or `tab` / `\t`. */
export function parseSeparator(text: string): Separator {
  const s = text === 'tab' || text === '\\t' ? '\t' : text;
  if (!isSeparator(s)) throw new RiskInputError(`the separator must be one of , ; tab |, got ${JSON.stringify(text)}`);
  return s;
}

export interface CsvOptions {
  /** The field separator; detected from the first lines when not given. */
  readonly separator?: Separator;
}

/** A table read from a file, with the separator it was read with (so outputs can use the same). */
export interface LoadedTable extends Table {
  readonly separator: Separator;
}

/** One record as the tokenizer sees it: its fields and the line it starts on (1-based). */
export interface RawRecord {
  readonly fields: string[];
  readonly line: number;
}

/**
 * Splits CSV text into records. Empty lines are skipped (they carry no record). `limit` stops
 * after that many records (separator detection only needs the first few).
 */
function tokenize(text: string, separator: string, source: string, limit = Infinity): RawRecord[] {
  // Without any quote, records are lines and fields are split at the separator: the engine's
  // own split does that much faster than a scan character by character.
  if (!text.includes('"')) return splitLines(text, separator, limit);
  const records: RawRecord[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const sep = separator.charCodeAt(0);
  const QUOTE = 34;
  const CR = 13;
  const LF = 10;
  while (i < n && records.length < limit) {
    const startLine = line;
    const fields: string[] = [];
    // An empty line (or a lone line break) holds no record.
    const c0 = text.charCodeAt(i);
    if (c0 === LF || c0 === CR) {
      i += c0 === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
      line++;
      continue;
    }
    for (;;) {
      // One field starting at i.
      if (text.charCodeAt(i) === QUOTE) {
        let value = '';
        let from = i + 1;
        let j = from;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0) throw new TableError(`${source}:${startLine}: a quoted field is not closed`);
          // Count line breaks inside the quoted part, for the line numbers that follow.
          for (let k = j; k < q; k++) if (text.charCodeAt(k) === LF || (text.charCodeAt(k) === CR && text.charCodeAt(k + 1) !== LF)) line++;
          if (text.charCodeAt(q + 1) === QUOTE) {
            value += text.slice(from, q + 1);
            from = q + 2;
            j = from;
            continue;
          }
          value += text.slice(from, q);
          i = q + 1;
          break;
        }
        fields.push(value);
        if (i >= n) break;
        const c = text.charCodeAt(i);
        if (c === sep) {
          i++;
          continue;
        }
        if (c === CR || c === LF) break;
        throw new TableError(`${source}:${line}: unexpected ${JSON.stringify(text[i])} after a closing quote (a quote inside a field must be doubled and the field quoted)`);
      }
      // An unquoted field runs to the next separator or line break.
      let j = i;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (c === sep || c === CR || c === LF) break;
        j++;
      }
      fields.push(text.slice(i, j));
      i = j;
      if (i < n && text.charCodeAt(i) === sep) {
        i++;
        continue;
      }
      break;
    }
    // Consume the line break.
    if (i < n) {
      const c = text.charCodeAt(i);
      if (c === CR) i += text.charCodeAt(i + 1) === LF ? 2 : 1;
      else if (c === LF) i++;
      line++;
    }
    records.push({ fields, line: startLine });
  }
  return records;
}

function splitLines(text: string, separator: string, limit: number): RawRecord[] {
  let body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (Number.isFinite(limit)) {
    // Only the first lines are wanted (separator detection): do not split the whole text.
    let end = 0;
    for (let i = 0; i <= limit && end >= 0; i++) end = body.indexOf('\n', end + 1);
    if (end >= 0) body = body.slice(0, end);
  }
  const lines = body.split(/\r\n|\n|\r/);
  const records: RawRecord[] = [];
  for (let i = 0; i < lines.length && records.length < limit; i++) {
    const line = lines[i]!;
    if (line !== '') records.push({ fields: line.split(separator), line: i + 1 });
  }
  return records;
}

/**
 * The records of CSV text with no header semantics (for files such as hierarchies that have
 * none): fields as written, with the line each record starts on. Empty lines are skipped.
 */
export function readCsvRecords(text: string, source: string, separator: Separator): RawRecord[] {
  return tokenize(text, separator, source);
}

/** Distinct values per column beyond which parsing stops sharing one string per value. */
const INTERN_LIMIT = 50_000;

/** How many records separator detection looks at, header included. */
const DETECTION_RECORDS = 50;

/**
 * The separator that splits the header into more than one field and the most of the first
 * records into as many (preferring, on a tie, the one giving the most fields; then the order
 * , ; tab |). A ragged row then shows up as an error naming its line rather than as a wrong
 * separator. A header that no candidate splits is a table of one column, read with ','.
 */
export function detectSeparator(text: string, source: string): Separator {
  let best: { separator: Separator; fields: number; matching: number } | undefined;
  for (const separator of SEPARATORS) {
    let records: RawRecord[];
    try {
      records = tokenize(text, separator, source, DETECTION_RECORDS);
    } catch {
      continue;
    }
    const fields = records[0]?.fields.length ?? 0;
    if (fields < 2) continue;
    const matching = records.filter((r) => r.fields.length === fields).length;
    if (!best || matching > best.matching || (matching === best.matching && fields > best.fields)) best = { separator, fields, matching };
  }
  return best?.separator ?? ',';
}

/** Parses CSV text whose first record is the header. `source` names the text in messages. */
export function parseCsv(text: string, source: string, options: CsvOptions = {}): LoadedTable {
  const separator = options.separator ?? detectSeparator(text, source);
  if (!text.includes('"')) return parsePlain(text, source, separator);
  const records = tokenize(text, separator, source);
  const header = records[0];
  if (!header) throw new TableError(`${source}: the file is empty (a header line is needed)`);
  const columns = checkHeader(header.fields, source, header.line);
  const rows: string[][] = [];
  for (let r = 1; r < records.length; r++) {
    const record = records[r]!;
    if (record.fields.length !== columns.length) {
      throw new TableError(`${source}:${record.line}: ${record.fields.length} field${record.fields.length === 1 ? '' : 's'}, but the header has ${columns.length}`);
    }
    rows.push(record.fields);
  }
  return { columns, rows, source, separator };
}

/** parseCsv for text without quotes (the common case, and the fast one): lines split at the separator. */
function parsePlain(text: string, source: string, separator: Separator): LoadedTable {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.includes('\r') ? body.split(/\r\n|\n|\r/) : body.split('\n');
  let i = 0;
  while (i < lines.length && lines[i] === '') i++;
  if (i >= lines.length) throw new TableError(`${source}: the file is empty (a header line is needed)`);
  const columns = checkHeader(lines[i]!.split(separator), source, i + 1);
  const width = columns.length;
  const rows: string[][] = [];
  // Values repeat (a quasi-identifier has few of them): each column keeps one string per
  // distinct value, so a large table holds a few thousand strings instead of millions, and the
  // copies made by split die young. A column with very many values stops interning.
  const interned = columns.map(() => new Map<string, string>());
  for (i++; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const fields = line.split(separator);
    if (fields.length !== width) throw new TableError(`${source}:${i + 1}: ${fields.length} field${fields.length === 1 ? '' : 's'}, but the header has ${width}`);
    for (let c = 0; c < width; c++) {
      const map = interned[c]!;
      if (map.size >= INTERN_LIMIT) continue;
      const v = fields[c]!;
      const known = map.get(v);
      if (known === undefined) map.set(v, v);
      else fields[c] = known;
    }
    rows.push(fields);
  }
  return { columns, rows, source, separator };
}

/** The header's column names, trimmed; none empty, none twice. */
function checkHeader(fields: readonly string[], source: string, line: number): string[] {
  const columns = fields.map((c) => c.trim());
  const seen = new Set<string>();
  columns.forEach((c, index) => {
    if (c === '') throw new TableError(`${source}:${line}: column ${index + 1} of the header has no name`);
    if (seen.has(c)) throw new TableError(`${source}:${line}: the column name "${c}" appears twice in the header`);
    seen.add(c);
  });
  return columns;
}

/** Reads a CSV file (UTF-8) into a table. */
export async function loadTable(file: string, options: CsvOptions = {}): Promise<LoadedTable> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new TableError(`cannot read the table ${file} (${e.code ?? e.message})`);
  });
  return parseCsv(text, file, options);
}

/** A field as written: quoted (with quotes doubled) when it holds the separator, a quote or a line break. */
function quoteField(value: string, separator: Separator): string {
  if (value.includes(separator) || value.includes('"') || value.includes('\n') || value.includes('\r')) {
    return `"${value.replaceAll('"', '""')}"`;
  }
  return value;
}

/** The CSV lines of a table (header first), without line ends; quoted forms are cached per value. */
function* csvLines(table: Table, separator: Separator): Generator<string> {
  const quoted = new Map<string, string>();
  const field = (v: string) => {
    let q = quoted.get(v);
    if (q === undefined) {
      q = quoteField(v, separator);
      if (quoted.size < 1_000_000) quoted.set(v, q);
    }
    return q;
  };
  yield table.columns.map(field).join(separator);
  for (const row of table.rows) yield row.map(field).join(separator);
}

/** The table as CSV text: RFC 4180 quoting, CRLF line ends, a header line. */
export function formatCsv(table: Table, separator: Separator): string {
  return [...csvLines(table, separator)].join('\r\n') + '\r\n';
}

/**
 * Writes the table as CSV, atomically: to a temporary file in the same folder, then renamed
 * over the target, so a reader never sees half a table.
 */
export async function writeCsv(table: Table, file: string, separator: Separator): Promise<void> {
  await writeReplacing(file, (function* () {
    for (const line of csvLines(table, separator)) yield line + '\r\n';
  })());
}
