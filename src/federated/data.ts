/**
 * A site's feature table, from CSV file to encoded, standardised `Dataset`, computed so that
 * nothing but vocabularies, sums and counts ever needs to leave the site:
 *
 * ```
 * features.csv ─► readFeatureTable ─► localSchema ──► (coordinator) mergeSchemas ─► Schema
 *                                  └─► localMoments(schema) ─► (coordinator) mergeMoments ─► Standardisation
 *                                  └─► encode(schema, standardisation) ─► Dataset (stays at the site)
 * ```
 *
 * Columns: a column is numeric when every value parses as a finite decimal number; any other
 * column is categorical and is one-hot encoded, one column per category of the merged
 * vocabulary in sorted order (a category a site lacks is a column of zeros there). Every
 * encoded column is then standardised with the pooled mean and population standard deviation,
 * computed from per-site sums, sums of squares and counts — the same figures a centralised
 * z-score would use, without pooling rows.
 *
 * Label: two classes. The positive class (y = 1) is the lexicographically last one by UTF-16
 * code units unless configured (for adult's salary-class, ">50K" over "<=50K").
 *
 * What the schema discloses: the column names and each site's category vocabulary (which values
 * occur there). Identifier-like text columns are refused (`maxCategories`) so a vocabulary cannot
 * carry a list of patient IDs.
 */
import { readFile } from 'node:fs/promises';
import { detectSeparator, readCsvRecords, TableError } from '../privacy/table.js';
import type { Dataset } from './types.js';

/** A feature table or a schema that cannot be used; the message names the file and line, or the site. */
export class FederatedDataError extends Error {
  override readonly name: string = 'FederatedDataError';
}

/** One difference between a site's schema and the reference one. */
export interface SchemaDifference {
  readonly column: string;
  /** "missing at the site", "only at the site", "numeric here, categorical there", a label difference. */
  readonly reason: string;
}

/** A site whose feature schema differs from the others'; names the site and the columns. */
export class SchemaMismatchError extends FederatedDataError {
  override readonly name: string = 'SchemaMismatchError';
  constructor(
    /** The site (or "#<position>" when the schema carries no site name). */
    readonly site: string,
    readonly differences: readonly SchemaDifference[],
  ) {
    super(`site ${site}: its feature table differs from the consortium's: ${differences.map((d) => `${d.column} (${d.reason})`).join('; ')}`);
  }
}

/** A CSV feature table as read: text values, the label column set apart. */
export interface FeatureTable {
  /** Where the table came from (a file name), for messages. */
  readonly source: string;
  /** Column names, the label column excluded, in file order. */
  readonly columns: readonly string[];
  /** One array of trimmed values per row, in `columns` order. */
  readonly rows: readonly (readonly string[])[];
  /** The label of each row. */
  readonly labels: readonly string[];
  /** The label column's name (schemas compare it across sites); "label" when absent. */
  readonly label?: string;
  /** The line each row starts on in the file (1-based), for messages; absent for tables built in memory. */
  readonly lines?: readonly number[];
}

export type ColumnSchema =
  | { readonly name: string; readonly kind: 'numeric' }
  /** Categories sorted by UTF-16 code units, no duplicates. */
  | { readonly name: string; readonly kind: 'categorical'; readonly categories: readonly string[] };

/** What one site's table looks like: no values but the category vocabularies and label classes. */
export interface LocalSchema {
  /** The site's name, set by whoever collects schemas (for messages); never a file path. */
  readonly site?: string;
  readonly label: string;
  readonly columns: readonly ColumnSchema[];
  /** Label classes present at the site, sorted. */
  readonly classes: readonly string[];
}

/** The consortium's schema: what every site encodes to, in this order. Plain JSON. */
export interface Schema {
  readonly label: string;
  readonly columns: readonly ColumnSchema[];
  /** The two label classes, sorted. */
  readonly classes: readonly [string, string];
  /** The class encoded as y = 1. */
  readonly positive: string;
  /** Names of the encoded columns: `name` for a numeric column, `name=category` per category. */
  readonly encodedColumns: readonly string[];
}

/** A site's sufficient statistics for standardisation, per encoded column. */
export interface Moments {
  readonly count: number;
  readonly sum: Float64Array;
  readonly sumSquares: Float64Array;
}

/** Per encoded column: pooled mean and population standard deviation (1 for a constant column). */
export interface Standardisation {
  readonly mean: Float64Array;
  readonly sd: Float64Array;
}

/** A standardisation as stored in a model file (plain arrays) or as computed (typed arrays). */
export interface StandardisationValues {
  readonly mean: ArrayLike<number>;
  readonly sd: ArrayLike<number>;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Decimal numbers as written in CSV; `Number()` alone would also take '', ' ', '0x1f' and 'Infinity'. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Spellings of a missing or non-finite number that feature tools write. */
const NOT_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;

function parseDecimal(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const v = Number(text);
  return Number.isFinite(v) ? v : undefined;
}

function rowPlace(t: FeatureTable, row: number): string {
  const line = t.lines?.[row];
  return line === undefined ? `${t.source} row ${row + 1}` : `${t.source}:${line}`;
}

/**
 * Parses CSV text (header first; separator `,` `;` tab or `|` detected from the first lines;
 * RFC 4180 quoting) into a feature table with `label` set apart. Values are trimmed. Throws
 * `FederatedDataError` naming `source` and the line for: a missing label column, a ragged row,
 * an empty value, a non-finite number (NaN, Inf) in a numeric column, no rows, one label class.
 */
export function parseFeatureTable(text: string, source: string, label: string): FeatureTable {
  let records;
  try {
    records = readCsvRecords(text, source, detectSeparator(text, source));
  } catch (e) {
    if (e instanceof TableError) throw new FederatedDataError(e.message);
    throw e;
  }
  const header = records[0];
  if (!header) throw new FederatedDataError(`${source}: the file is empty (a header line is needed)`);
  const names = header.fields.map((c) => c.trim());
  const seen = new Set<string>();
  names.forEach((c, i) => {
    if (c === '') throw new FederatedDataError(`${source}:${header.line}: column ${i + 1} of the header has no name`);
    if (seen.has(c)) throw new FederatedDataError(`${source}:${header.line}: the column name "${c}" appears twice in the header`);
    seen.add(c);
  });
  const labelIndex = names.indexOf(label);
  if (labelIndex < 0) throw new FederatedDataError(`${source}:${header.line}: no label column "${label}" (the columns are ${names.join(', ')})`);
  if (names.length < 2) throw new FederatedDataError(`${source}:${header.line}: the table has no feature column besides the label "${label}"`);
  const columns = names.filter((_, i) => i !== labelIndex);
  const rows: string[][] = [];
  const labels: string[] = [];
  const lines: number[] = [];
  for (let r = 1; r < records.length; r++) {
    const record = records[r]!;
    const fields = record.fields;
    if (fields.length !== names.length) {
      throw new FederatedDataError(`${source}:${record.line}: ${fields.length} field${fields.length === 1 ? '' : 's'}, but the header has ${names.length}`);
    }
    const row: string[] = [];
    for (let c = 0; c < fields.length; c++) {
      const value = fields[c]!.trim();
      if (value === '') throw new FederatedDataError(`${source}:${record.line}: column "${names[c]}" is empty (missing values must be imputed before training)`);
      if (c === labelIndex) labels.push(value);
      else row.push(value);
    }
    rows.push(row);
    lines.push(record.line);
  }
  const table: FeatureTable = { source, columns, rows, labels, label, lines };
  if (rows.length === 0) throw new FederatedDataError(`${source}: the table has a header but no rows`);
  const classes = new Set(labels);
  if (classes.size < 2) throw new FederatedDataError(`${source}: the label "${label}" has only one class (${labels[0]}); training needs both classes at every site`);
  inferColumns(table, Infinity);
  return table;
}

/** Reads a CSV feature table (UTF-8); see `parseFeatureTable` for what is refused. */
export async function readFeatureTable(file: string, label: string): Promise<FeatureTable> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new FederatedDataError(`cannot read the feature table ${file} (${e.code ?? e.message})`);
  });
  return parseFeatureTable(text, file, label);
}

// ---------------------------------------------------------------------------------------------
// Schemas

/** Sorted by UTF-16 code units: the same order on every machine and locale. */
function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/**
 * The kind of each column. A column whose values are finite numbers except for NaN/Inf
 * spellings is a numeric column with missing values: refused, naming the first such row.
 */
function inferColumns(t: FeatureTable, maxCategories: number): ColumnSchema[] {
  const out: ColumnSchema[] = [];
  for (let c = 0; c < t.columns.length; c++) {
    const name = t.columns[c]!;
    let numbers = 0;
    let firstNotFinite = -1;
    let text = false;
    for (let r = 0; r < t.rows.length; r++) {
      const v = t.rows[r]![c];
      if (v === undefined) throw new FederatedDataError(`${rowPlace(t, r)}: the row has ${t.rows[r]!.length} values, but the table has ${t.columns.length} columns`);
      if (v === '') throw new FederatedDataError(`${rowPlace(t, r)}: column "${name}" is empty (missing values must be imputed before training)`);
      if (parseDecimal(v) !== undefined) numbers++;
      else if (NOT_FINITE.test(v) || DECIMAL.test(v)) {
        if (firstNotFinite < 0) firstNotFinite = r;
      } else text = true;
    }
    if (!text && numbers > 0) {
      if (firstNotFinite >= 0) {
        throw new FederatedDataError(`${rowPlace(t, firstNotFinite)}: column "${name}" is numeric but holds ${JSON.stringify(t.rows[firstNotFinite]![c])} (not a finite number)`);
      }
      out.push({ name, kind: 'numeric' });
      continue;
    }
    const categories = sortedUnique(t.rows.map((row) => row[c]!));
    if (categories.length > maxCategories) {
      throw new FederatedDataError(
        `${t.source}: column "${name}" holds ${categories.length} distinct text values (more than ${maxCategories}): an identifier or free-text column cannot be one-hot encoded and would disclose its values; remove it from the table`,
      );
    }
    out.push({ name, kind: 'categorical', categories });
  }
  return out;
}

export interface LocalSchemaOptions {
  /** Most categories a text column may have (default 100): more looks like an identifier. */
  readonly maxCategories?: number;
}

/** The site's schema: column kinds, category vocabularies, label classes. No row leaves with it. */
export function localSchema(t: FeatureTable, options: LocalSchemaOptions = {}): LocalSchema {
  const maxCategories = options.maxCategories ?? 100;
  if (t.rows.length !== t.labels.length) throw new FederatedDataError(`${t.source}: ${t.rows.length} rows but ${t.labels.length} labels`);
  return { label: labelName(t), columns: inferColumns(t, maxCategories), classes: sortedUnique(t.labels) };
}

/** The label column's name; "label" for a table built in memory without one. */
function labelName(t: FeatureTable): string {
  return t.label ?? 'label';
}

/** The differences between a site's schema and the reference: columns (set and kinds) and label name. */
export function compareSchemas(reference: LocalSchema | Schema, site: LocalSchema): SchemaDifference[] {
  const differences: SchemaDifference[] = [];
  if (reference.label !== site.label) differences.push({ column: site.label, reason: `label column "${site.label}", but the others use "${reference.label}"` });
  const theirs = new Map(site.columns.map((c) => [c.name, c]));
  const ours = new Map(reference.columns.map((c) => [c.name, c]));
  for (const c of reference.columns) {
    const other = theirs.get(c.name);
    if (!other) differences.push({ column: c.name, reason: 'missing at the site' });
    else if (other.kind !== c.kind) differences.push({ column: c.name, reason: `${other.kind} at the site, ${c.kind} elsewhere` });
  }
  for (const c of site.columns) if (!ours.has(c.name)) differences.push({ column: c.name, reason: 'only at the site' });
  return differences;
}

function siteName(s: LocalSchema, index: number): string {
  return s.site ?? `#${index + 1}`;
}

/** Checks the shape of a schema that came from another process, naming the site. */
function checkLocalSchema(s: LocalSchema, index: number): void {
  const where = `site ${siteName(s, index)}`;
  const ok =
    typeof s === 'object' &&
    s !== null &&
    typeof s.label === 'string' &&
    Array.isArray(s.columns) &&
    Array.isArray(s.classes) &&
    s.classes.every((c) => typeof c === 'string');
  if (!ok) throw new FederatedDataError(`${where}: malformed schema (label, columns and classes are required)`);
  const names = new Set<string>();
  for (const c of s.columns as readonly ColumnSchema[]) {
    if (typeof c !== 'object' || c === null || typeof c.name !== 'string' || c.name === '') throw new FederatedDataError(`${where}: malformed column in its schema`);
    if (names.has(c.name)) throw new FederatedDataError(`${where}: column "${c.name}" appears twice in its schema`);
    names.add(c.name);
    if (c.kind === 'numeric') continue;
    if (c.kind !== 'categorical' || !Array.isArray(c.categories) || c.categories.length === 0 || !c.categories.every((v) => typeof v === 'string' && v !== '')) {
      throw new FederatedDataError(`${where}: column "${c.name}" has a malformed kind or category list`);
    }
  }
}

export interface MergeOptions {
  /** The class to encode as y = 1; by default the lexicographically last of the two. */
  readonly positiveLabel?: string;
}

/**
 * The consortium's schema from every site's: the first schema's column order; every other site
 * must have the same columns of the same kinds (else `SchemaMismatchError` naming that site and
 * its differing columns); category vocabularies are unioned and sorted; the label's classes,
 * unioned, must be exactly two.
 */
export function mergeSchemas(schemas: readonly LocalSchema[], options: MergeOptions = {}): Schema {
  const reference = schemas[0];
  if (!reference) throw new FederatedDataError('no site schema to merge');
  schemas.forEach(checkLocalSchema);
  for (let i = 1; i < schemas.length; i++) {
    const differences = compareSchemas(reference, schemas[i]!);
    if (differences.length > 0) throw new SchemaMismatchError(siteName(schemas[i]!, i), differences);
  }
  const columns: ColumnSchema[] = reference.columns.map((c) => {
    if (c.kind === 'numeric') return { name: c.name, kind: 'numeric' };
    const union = new Set<string>();
    for (const s of schemas) {
      const own = s.columns.find((o) => o.name === c.name);
      if (own?.kind === 'categorical') for (const v of own.categories) union.add(v);
    }
    return { name: c.name, kind: 'categorical', categories: sortedUnique(union) };
  });
  const classes = sortedUnique(schemas.flatMap((s) => s.classes));
  if (classes.length !== 2) {
    const perSite = schemas.map((s, i) => `${siteName(s, i)}: ${s.classes.join(', ')}`).join('; ');
    throw new FederatedDataError(`the label "${reference.label}" has ${classes.length} classes across the sites (${perSite}); exactly two are needed`);
  }
  const pair: [string, string] = [classes[0]!, classes[1]!];
  const positive = options.positiveLabel ?? pair[1];
  if (!pair.includes(positive)) throw new FederatedDataError(`the positive label "${positive}" is not a class of "${reference.label}" (${pair.join(', ')})`);
  return { label: reference.label, columns, classes: pair, positive, encodedColumns: encodedColumnNames(columns) };
}

function encodedColumnNames(columns: readonly ColumnSchema[]): string[] {
  return columns.flatMap((c) => (c.kind === 'numeric' ? [c.name] : c.categories.map((v) => `${c.name}=${v}`)));
}

/** The class encoded as y = 1. */
export function positiveLabel(schema: Schema): string {
  return schema.positive;
}

/**
 * Checks that a value read from a file or the network is a well-formed `Schema` (for model
 * files); `where` names its origin in the message.
 */
export function checkSchema(value: unknown, where: string): Schema {
  const s = value as Schema;
  const ok =
    typeof s === 'object' &&
    s !== null &&
    typeof s.label === 'string' &&
    Array.isArray(s.columns) &&
    Array.isArray(s.classes) &&
    s.classes.length === 2 &&
    s.classes.every((c) => typeof c === 'string') &&
    typeof s.positive === 'string' &&
    s.classes.includes(s.positive) &&
    Array.isArray(s.encodedColumns);
  if (!ok) throw new FederatedDataError(`${where}: malformed schema (label, columns, two classes, positive and encodedColumns are required)`);
  checkLocalSchema({ label: s.label, columns: s.columns, classes: s.classes, site: where }, 0);
  const expected = encodedColumnNames(s.columns);
  if (expected.length !== s.encodedColumns.length || expected.some((n, i) => n !== s.encodedColumns[i])) {
    throw new FederatedDataError(`${where}: the schema's encodedColumns do not follow from its columns`);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Encoding and standardisation

/** Per schema column: where its values sit in the table and in the encoded row. */
interface ColumnPlan {
  readonly tableIndex: number;
  readonly offset: number;
  readonly column: ColumnSchema;
  /** Category → position within the column's one-hot block. */
  readonly categoryIndex?: ReadonlyMap<string, number>;
}

function planColumns(t: FeatureTable, schema: Schema | LocalSchema): ColumnPlan[] {
  const index = new Map(t.columns.map((c, i) => [c, i]));
  const missing = schema.columns.filter((c) => !index.has(c.name)).map((c) => c.name);
  const known = new Set(schema.columns.map((c) => c.name));
  const extra = t.columns.filter((c) => !known.has(c));
  if (missing.length > 0 || extra.length > 0) {
    const parts = [missing.length > 0 ? `missing ${missing.join(', ')}` : '', extra.length > 0 ? `not in the schema ${extra.join(', ')}` : ''].filter((p) => p !== '');
    throw new FederatedDataError(`${t.source}: the table's columns differ from the schema's: ${parts.join('; ')}`);
  }
  let offset = 0;
  return schema.columns.map((column) => {
    const plan: ColumnPlan =
      column.kind === 'numeric'
        ? { tableIndex: index.get(column.name)!, offset, column }
        : { tableIndex: index.get(column.name)!, offset, column, categoryIndex: new Map(column.categories.map((v, k) => [v, k])) };
    offset += column.kind === 'numeric' ? 1 : column.categories.length;
    return plan;
  });
}

function encodedWidth(schema: Schema | LocalSchema): number {
  let d = 0;
  for (const c of schema.columns) d += c.kind === 'numeric' ? 1 : c.categories.length;
  return d;
}

type UnknownCategories = 'error' | 'ignore';

/**
 * Writes row `r`'s raw encoding (numbers as they are, one-hot 0/1) into `out`. A category not
 * in the schema is an error, or (`ignore`) an all-zero block, as scikit-learn's
 * `handle_unknown='ignore'` does for data seen after training.
 */
function encodeRawRow(t: FeatureTable, r: number, plans: readonly ColumnPlan[], out: Float64Array, unknown: UnknownCategories): void {
  const row = t.rows[r]!;
  out.fill(0);
  for (const p of plans) {
    const text = row[p.tableIndex];
    if (text === undefined) throw new FederatedDataError(`${rowPlace(t, r)}: the row has ${row.length} values, but the table has ${t.columns.length} columns`);
    if (p.categoryIndex === undefined) {
      const v = parseDecimal(text);
      if (v === undefined) throw new FederatedDataError(`${rowPlace(t, r)}: column "${p.column.name}" is numeric but holds ${JSON.stringify(text)}`);
      out[p.offset] = v;
    } else {
      const k = p.categoryIndex.get(text);
      if (k !== undefined) out[p.offset + k] = 1;
      else if (unknown === 'error') throw new FederatedDataError(`${rowPlace(t, r)}: column "${p.column.name}" holds ${JSON.stringify(text)}, which is not one of the schema's categories`);
    }
  }
}

/**
 * Neumaier's compensated sum (an improved Kahan summation): the pooled statistics stay exact to
 * the last bits whatever the order or number of rows, so sites' moments merge to the same
 * figures a centralised computation gets.
 */
function addCompensated(sum: Float64Array, comp: Float64Array, j: number, v: number): void {
  const s = sum[j]!;
  const t = s + v;
  comp[j]! += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
  sum[j] = t;
}

/** The site's count, sums and sums of squares of every encoded column (never the rows). */
export function localMoments(t: FeatureTable, schema: Schema): Moments {
  const plans = planColumns(t, schema);
  const d = encodedWidth(schema);
  const row = new Float64Array(d);
  const sum = new Float64Array(d);
  const sumSquares = new Float64Array(d);
  const compSum = new Float64Array(d);
  const compSquares = new Float64Array(d);
  for (let r = 0; r < t.rows.length; r++) {
    encodeRawRow(t, r, plans, row, 'error');
    for (let j = 0; j < d; j++) {
      const v = row[j]!;
      if (v === 0) continue;
      addCompensated(sum, compSum, j, v);
      addCompensated(sumSquares, compSquares, j, v * v);
    }
  }
  for (let j = 0; j < d; j++) {
    sum[j]! += compSum[j]!;
    sumSquares[j]! += compSquares[j]!;
  }
  return { count: t.rows.length, sum, sumSquares };
}

/**
 * Pooled mean and population standard deviation per encoded column from the sites' moments:
 * mean = Σsum / Σcount, variance = Σsumsquares / Σcount − mean². A variance at rounding level
 * (a constant column) gives sd = 1, so the column standardises to zeros instead of noise.
 */
export function mergeMoments(moments: readonly Moments[]): Standardisation {
  const first = moments[0];
  if (!first) throw new FederatedDataError('no site moments to merge');
  const d = first.sum.length;
  const sum = new Float64Array(d);
  const squares = new Float64Array(d);
  const compSum = new Float64Array(d);
  const compSquares = new Float64Array(d);
  let count = 0;
  moments.forEach((m, i) => {
    if (!Number.isSafeInteger(m.count) || m.count < 0) throw new FederatedDataError(`moments #${i + 1}: the count must be a non-negative integer, got ${m.count}`);
    if (m.sum.length !== d || m.sumSquares.length !== d) throw new FederatedDataError(`moments #${i + 1}: ${m.sum.length} sums and ${m.sumSquares.length} sums of squares, expected ${d} of each`);
    count += m.count;
    for (let j = 0; j < d; j++) {
      const s = m.sum[j]!;
      const q = m.sumSquares[j]!;
      if (!Number.isFinite(s) || !Number.isFinite(q) || q < 0) throw new FederatedDataError(`moments #${i + 1}: column ${j + 1} has a non-finite sum or a negative sum of squares`);
      addCompensated(sum, compSum, j, s);
      addCompensated(squares, compSquares, j, q);
    }
  });
  if (count === 0) throw new FederatedDataError('the moments count no rows at all');
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    const m = (sum[j]! + compSum[j]!) / count;
    const meanSquare = (squares[j]! + compSquares[j]!) / count;
    const variance = meanSquare - m * m;
    mean[j] = m;
    sd[j] = variance > 8 * Number.EPSILON * meanSquare ? Math.sqrt(variance) : 1;
  }
  return { mean, sd };
}

export interface EncodeOptions {
  /**
   * A category the schema does not know: 'error' (default, for training data, whose categories
   * the schema was built from) or 'ignore' (an all-zero block, for data evaluated later).
   */
  readonly unknownCategories?: UnknownCategories;
}

/**
 * The encoded, standardised dataset: one-hot categorical columns, numeric columns as they are,
 * each encoded column then (x − mean) / sd; y = 1 for the schema's positive class.
 */
export function encode(t: FeatureTable, schema: Schema, standardisation: StandardisationValues, options: EncodeOptions = {}): Dataset {
  const plans = planColumns(t, schema);
  const d = encodedWidth(schema);
  const { mean, sd } = standardisation;
  if (mean.length !== d || sd.length !== d) throw new FederatedDataError(`${t.source}: the standardisation has ${mean.length} means and ${sd.length} standard deviations, but the schema encodes ${d} columns`);
  const scale = new Float64Array(d);
  const shift = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    const s = sd[j]!;
    const m = mean[j]!;
    if (!(s > 0) || !Number.isFinite(s) || !Number.isFinite(m)) throw new FederatedDataError(`${t.source}: the standardisation of column ${schema.encodedColumns[j]} is not usable (mean ${m}, sd ${s})`);
    scale[j] = 1 / s;
    shift[j] = m;
  }
  const n = t.rows.length;
  if (t.labels.length !== n) throw new FederatedDataError(`${t.source}: ${n} rows but ${t.labels.length} labels`);
  const x = new Float64Array(n * d);
  const y = new Float64Array(n);
  const row = new Float64Array(d);
  const unknown = options.unknownCategories ?? 'error';
  const [a, b] = schema.classes;
  for (let r = 0; r < n; r++) {
    encodeRawRow(t, r, plans, row, unknown);
    const base = r * d;
    for (let j = 0; j < d; j++) x[base + j] = (row[j]! - shift[j]!) * scale[j]!;
    const label = t.labels[r]!;
    if (label !== a && label !== b) throw new FederatedDataError(`${rowPlace(t, r)}: the label ${JSON.stringify(label)} is not one of the classes ${a}, ${b}`);
    y[r] = label === schema.positive ? 1 : 0;
  }
  return { x, y, n, d };
}
