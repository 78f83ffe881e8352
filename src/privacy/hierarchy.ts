/**
 * Generalization hierarchies in ARX's CSV format: `;`-separated, no header, one row per original
 * value and one column per level (level 0 is the value itself, the last level usually `*`).
 * Files are found by name, `<anything>_hierarchy_<attribute>.csv`, as ARX's examples name them.
 *
 * Every check runs before any search: rows of one length, no value listed twice, each level a
 * function of the one below (two rows that agree at level l agree at level l+1, or
 * generalization would not be well defined), and every value of the data present.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { RiskInputError, readCsvRecords } from './table.js';
import type { Hierarchy, Table } from './types.js';

/** A hierarchy that cannot be used; the message names the file (and the line when there is one). */
export class HierarchyError extends RiskInputError {
  override readonly name: string = 'HierarchyError';
}

/**
 * Parses one ARX hierarchy file's text. Checks the row lengths, duplicate level-0 values and
 * consistency (see the module comment).
 */
export function parseHierarchy(text: string, attribute: string, source: string): Hierarchy {
  const rows = readCsvRecords(text, source, ';').map((r) => ({ values: r.fields, line: r.line }));
  return hierarchyFromRows(rows, attribute, source);
}

/** One row of a hierarchy file: its values by level and its line. */
export interface HierarchyRow {
  readonly values: readonly string[];
  readonly line: number;
}

/** Builds a hierarchy from rows already split into levels, checking it. */
export function hierarchyFromRows(rows: readonly HierarchyRow[], attribute: string, source: string): Hierarchy {
  const first = rows[0];
  if (!first) throw new HierarchyError(`${source}: the hierarchy has no rows`);
  const height = first.values.length;
  const values = new Map<string, readonly string[]>();
  const lineOf = new Map<string, number>();
  for (const row of rows) {
    if (row.values.length !== height) {
      throw new HierarchyError(`${source}:${row.line}: ${row.values.length} levels, but the first row has ${height} (every row needs one value per level)`);
    }
    const original = row.values[0]!;
    const earlier = lineOf.get(original);
    if (earlier !== undefined) throw new HierarchyError(`${source}:${row.line}: the value "${original}" is listed twice (also on line ${earlier})`);
    lineOf.set(original, row.line);
    values.set(original, row.values);
  }
  const hierarchy: Hierarchy = { attribute, height, values, source };
  checkConsistency(hierarchy, lineOf);
  return hierarchy;
}

/**
 * Generalization must be a function of the previous level: two rows that share a value at level
 * l must share it at level l+1 (otherwise a class at level l would split at level l+1 and the
 * lattice would not be a generalization order).
 */
export function checkConsistency(hierarchy: Hierarchy, lineOf?: ReadonlyMap<string, number>): void {
  for (let level = 0; level + 1 < hierarchy.height; level++) {
    const next = new Map<string, { value: string; original: string }>();
    for (const [original, entry] of hierarchy.values) {
      const at = entry[level]!;
      const up = entry[level + 1]!;
      const seen = next.get(at);
      if (!seen) {
        next.set(at, { value: up, original });
      } else if (seen.value !== up) {
        const where = (o: string) => (lineOf?.get(o) !== undefined ? ` (line ${lineOf.get(o)})` : ` (value "${o}")`);
        throw new HierarchyError(
          `${hierarchy.source}: inconsistent hierarchy for ${hierarchy.attribute}: "${at}" at level ${level} generalizes to "${seen.value}"${where(seen.original)} and to "${up}"${where(original)} at level ${level + 1}`,
        );
      }
    }
  }
}

/** The file name suffix that marks a hierarchy of `attribute`. */
function suffixFor(attribute: string): string {
  return `_hierarchy_${attribute}.csv`;
}

/**
 * Loads the hierarchy of each attribute from `dir`, from the file named
 * `<anything>_hierarchy_<attribute>.csv`. An attribute with no such file, or with two, is an error.
 */
export async function loadHierarchies(dir: string, attributes: readonly string[]): Promise<Map<string, Hierarchy>> {
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    throw new HierarchyError(`cannot read the hierarchy folder ${dir} (${e.code ?? e.message})`);
  });
  const out = new Map<string, Hierarchy>();
  const missing: string[] = [];
  for (const attribute of attributes) {
    const suffix = suffixFor(attribute);
    const matches = names.filter((n) => n.endsWith(suffix)).sort();
    if (matches.length === 0) {
      missing.push(attribute);
      continue;
    }
    if (matches.length > 1) throw new HierarchyError(`${dir}: more than one hierarchy file for ${attribute}: ${matches.join(', ')}`);
    const file = path.join(dir, matches[0]!);
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new HierarchyError(`cannot read the hierarchy ${file} (${e.code ?? e.message})`);
    });
    try {
      out.set(attribute, parseHierarchy(text, attribute, file));
    } catch (e) {
      if (e instanceof HierarchyError) throw e;
      throw new HierarchyError((e as Error).message);
    }
  }
  if (missing.length > 0) {
    throw new HierarchyError(`${dir}: no hierarchy file for ${missing.map((m) => `${m} (expected a file named <anything>${suffixFor(m)})`).join(', ')}`);
  }
  return out;
}

/** How many missing values a message lists. */
const MISSING_LISTED = 10;

/**
 * Checks that every value of `attribute` in the table has a row in its hierarchy; the error
 * lists up to ten missing values with their record counts, most frequent first.
 */
export function checkValuesCovered(table: Table, attribute: string, hierarchy: Hierarchy): void {
  const column = table.columns.indexOf(attribute);
  if (column < 0) throw new RiskInputError(`${table.source}: no column "${attribute}" (columns: ${table.columns.join(', ')})`);
  const missing = new Map<string, number>();
  for (const row of table.rows) {
    const v = row[column]!;
    if (!hierarchy.values.has(v)) missing.set(v, (missing.get(v) ?? 0) + 1);
  }
  if (missing.size > 0) throw missingValuesError(table, attribute, hierarchy, missing);
}

/** The error for values of `attribute` missing from its hierarchy, with their record counts. */
export function missingValuesError(table: Table, attribute: string, hierarchy: Hierarchy, missing: ReadonlyMap<string, number>): HierarchyError {
  const listed = [...missing].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, MISSING_LISTED);
  const more = missing.size > MISSING_LISTED ? ` and ${missing.size - MISSING_LISTED} more` : '';
  return new HierarchyError(
    `${hierarchy.source}: ${missing.size} value${missing.size === 1 ? '' : 's'} of ${attribute} in ${table.source} ${missing.size === 1 ? 'is' : 'are'} not in the hierarchy: ${listed
      .map(([v, n]) => `"${v}" (${n} record${n === 1 ? '' : 's'})`)
      .join(', ')}${more}`,
  );
}
