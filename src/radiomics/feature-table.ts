/**
 * Feature tables as files: the CSV and JSON that `radanon features` prints, read back for
 * comparison, and the comparison itself (before and after de-identification, or two sites).
 */
import { FAMILY_NAMES } from './families.js';
import type { Aggregation, FamilyShort, Feature } from './types.js';

export type FeatureFormat = 'csv' | 'json';

export const CSV_COLUMNS = ['family', 'feature', 'ibsi_code', 'aggregation', 'value'] as const;

const SHORT_OF_FAMILY = new Map(Object.entries(FAMILY_NAMES).map(([short, name]) => [name, short as FamilyShort]));

export class FeatureTableError extends Error {
  override readonly name = 'FeatureTableError';
}

/** Numbers are written with 17 significant digits: a table read back gives the same doubles. */
function formatValue(v: number): string {
  return Number.isNaN(v) ? 'NaN' : String(v);
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function formatFeatures(features: readonly Feature[], format: FeatureFormat): string {
  if (format === 'json') {
    const rows = features.map((f) => ({
      family: FAMILY_NAMES[f.family],
      familyShort: f.family,
      feature: f.name,
      ibsiCode: f.code,
      aggregation: f.aggregation,
      value: Number.isFinite(f.value) ? f.value : null,
    }));
    return JSON.stringify(rows, null, 2) + '\n';
  }
  const lines = [CSV_COLUMNS.join(',')];
  for (const f of features) {
    lines.push([FAMILY_NAMES[f.family], f.name, f.code, f.aggregation, formatValue(f.value)].map(csvField).join(','));
  }
  return lines.join('\n') + '\n';
}

function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

function familyOf(text: string, where: string): FamilyShort {
  const short = SHORT_OF_FAMILY.get(text) ?? (text in FAMILY_NAMES ? (text as FamilyShort) : undefined);
  if (!short) throw new FeatureTableError(`${where}: unknown feature family "${text}"`);
  return short;
}

/** Reads a table written by `formatFeatures` (CSV or JSON, recognised by its first character). */
export function parseFeatureTable(text: string, source: string): Feature[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    let rows: unknown;
    try {
      rows = JSON.parse(trimmed);
    } catch (e) {
      throw new FeatureTableError(`${source}: not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(rows)) throw new FeatureTableError(`${source}: expected a JSON array of features`);
    return rows.map((r: Record<string, unknown>, i) => {
      const where = `${source}: feature ${i + 1}`;
      if (typeof r.feature !== 'string' || typeof r.ibsiCode !== 'string' || typeof r.aggregation !== 'string') {
        throw new FeatureTableError(`${where}: needs "feature", "ibsiCode" and "aggregation" strings`);
      }
      const value = r.value === null ? Number.NaN : r.value;
      if (typeof value !== 'number') throw new FeatureTableError(`${where}: "value" must be a number or null`);
      return { family: familyOf(String(r.familyShort ?? r.family), where), name: r.feature, code: r.ibsiCode, aggregation: r.aggregation as Aggregation, value };
    });
  }
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const header = parseCsvLine(lines[0] ?? '');
  if (CSV_COLUMNS.some((c, i) => header[i] !== c)) {
    throw new FeatureTableError(`${source}: the first line must be "${CSV_COLUMNS.join(',')}"`);
  }
  return lines.slice(1).map((line, i) => {
    const where = `${source}:${i + 2}`;
    const f = parseCsvLine(line);
    if (f.length !== CSV_COLUMNS.length) throw new FeatureTableError(`${where}: expected ${CSV_COLUMNS.length} fields, found ${f.length}`);
    const value = f[4] === 'NaN' ? Number.NaN : Number(f[4]);
    if (f[4] !== 'NaN' && (f[4]!.trim() === '' || Number.isNaN(value))) throw new FeatureTableError(`${where}: value "${f[4]}" is not a number`);
    return { family: familyOf(f[0]!, where), name: f[1]!, code: f[2]!, aggregation: f[3]! as Aggregation, value };
  });
}

export function featureKey(f: Pick<Feature, 'family' | 'name' | 'code' | 'aggregation'>): string {
  return `${f.family}|${f.code}|${f.name}|${f.aggregation}`;
}

export interface FeatureChange {
  readonly family: FamilyShort;
  readonly name: string;
  readonly code: string;
  readonly aggregation: Aggregation;
  readonly before: number;
  readonly after: number;
  /** after − before (NaN when one of them is undefined). */
  readonly difference: number;
  /** |after − before| / |before|; Infinity when before is 0. */
  readonly relative: number;
}

export interface FeatureComparison {
  readonly compared: number;
  readonly changed: readonly FeatureChange[];
  /** Features present in only one of the two tables, by key. */
  readonly onlyBefore: readonly string[];
  readonly onlyAfter: readonly string[];
}

export interface Tolerance {
  /** A feature is unchanged when |after − before| ≤ absolute + relative · |before|. */
  readonly absolute: number;
  readonly relative: number;
}

/** Exact by default: de-identification must leave every feature as it was. */
export const EXACT: Tolerance = { absolute: 0, relative: 0 };

export function compareFeatures(before: readonly Feature[], after: readonly Feature[], tolerance: Tolerance = EXACT): FeatureComparison {
  const afterByKey = new Map(after.map((f) => [featureKey(f), f]));
  const beforeKeys = new Set<string>();
  const changed: FeatureChange[] = [];
  const onlyBefore: string[] = [];
  for (const b of before) {
    const key = featureKey(b);
    beforeKeys.add(key);
    const a = afterByKey.get(key);
    if (!a) {
      onlyBefore.push(key);
      continue;
    }
    const bothUndefined = Number.isNaN(a.value) && Number.isNaN(b.value);
    const difference = a.value - b.value;
    const same = bothUndefined || a.value === b.value || Math.abs(difference) <= tolerance.absolute + tolerance.relative * Math.abs(b.value);
    if (!same) {
      const relative = b.value === 0 ? Infinity : Math.abs(difference) / Math.abs(b.value);
      changed.push({ family: b.family, name: b.name, code: b.code, aggregation: b.aggregation, before: b.value, after: a.value, difference, relative });
    }
  }
  const onlyAfter = after.map(featureKey).filter((k) => !beforeKeys.has(k));
  return { compared: before.length - onlyBefore.length, changed, onlyBefore, onlyAfter };
}

export function formatComparison(c: FeatureComparison): string {
  const lines = [`${c.compared} features compared, ${c.changed.length} changed`];
  for (const x of c.changed) {
    const agg = x.aggregation ? ` [${x.aggregation}]` : '';
    const rel = Number.isFinite(x.relative) ? ` (${(x.relative * 100).toPrecision(3)}%)` : '';
    lines.push(`  ${x.name} ${x.code}${agg}: ${x.before} → ${x.after}, difference ${x.difference}${rel}`);
  }
  if (c.onlyBefore.length) lines.push(`${c.onlyBefore.length} features only in the first table: ${c.onlyBefore.slice(0, 10).join(', ')}${c.onlyBefore.length > 10 ? ', …' : ''}`);
  if (c.onlyAfter.length) lines.push(`${c.onlyAfter.length} features only in the second table: ${c.onlyAfter.slice(0, 10).join(', ')}${c.onlyAfter.length > 10 ? ', …' : ''}`);
  return lines.join('\n') + '\n';
}
