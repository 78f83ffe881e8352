/**
 * Generalization hierarchies built from a rule instead of an ARX CSV file: intervals of numbers,
 * dates coarsened to month, year and decade, and codes masked from the right. Each level is a
 * function of the one below it (ARX requires this of every hierarchy: a value generalized to
 * level i+1 must depend only on its level-i value), and the top level is "*".
 *
 * Missing values (the empty string, as a DICOM extract writes an absent attribute) stay empty
 * at every level but the top: there is nothing to coarsen, and they form their own class.
 */
import { RiskInputError } from './table.js';
import type { Hierarchy } from './types.js';

export const DATE_LEVELS = ['month', 'year', 'decade'] as const;
export type DateLevel = (typeof DATE_LEVELS)[number];

/** How to build a hierarchy; the top level "*" is always added. */
export type HierarchySpec =
  /** Bins of each width, aligned at 0 (width 5: 30-34); each width a multiple of the previous. */
  | { readonly kind: 'intervals'; readonly widths: readonly number[] }
  /** Dates (YYYYMMDD, YYYY-MM-DD or YYYY) coarsened through the given levels, finest first. */
  | { readonly kind: 'dates'; readonly levels: readonly DateLevel[] }
  /** Characters masked with "*" from the right at each level, strictly increasing. */
  | { readonly kind: 'mask'; readonly steps: readonly number[] };

/** A hierarchy specification that cannot be used (CLI text or an object built in code). */
export class HierarchySpecError extends RiskInputError {
  override readonly name: string = 'HierarchySpecError';
}

/** Values a builder cannot place in its hierarchy (not numbers, not dates). */
export class HierarchyBuildError extends RiskInputError {
  override readonly name: string = 'HierarchyBuildError';
}

export const SUPPRESSED = '*';

const SPEC_EXAMPLES = 'intervals:5,10,20, dates:month,year,decade or mask:1,2,3';

/** Parses the CLI form of a spec: `intervals:5,10,20`, `dates:month,year,decade`, `mask:1,2,3`. */
export function parseHierarchySpec(text: string): HierarchySpec {
  const m = /^\s*([A-Za-z]+)\s*:(.*)$/.exec(text);
  if (!m) throw new HierarchySpecError(`hierarchy "${text}" must be written kind:levels, e.g. ${SPEC_EXAMPLES}`);
  const kind = m[1]!.toLowerCase();
  const items = m[2]!.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new HierarchySpecError(`hierarchy "${text}": list the levels separated by commas, e.g. ${SPEC_EXAMPLES}`);
  const integers = (what: string): number[] =>
    items.map((s) => {
      if (!/^\d+$/.test(s)) throw new HierarchySpecError(`hierarchy "${text}": ${what} must be whole numbers, got "${s}"`);
      return Number(s);
    });
  let spec: HierarchySpec;
  switch (kind) {
    case 'intervals':
      spec = { kind: 'intervals', widths: integers('interval widths') };
      break;
    case 'dates':
      for (const s of items) {
        if (!(DATE_LEVELS as readonly string[]).includes(s)) throw new HierarchySpecError(`hierarchy "${text}": date levels are ${DATE_LEVELS.join(', ')}, got "${s}"`);
      }
      spec = { kind: 'dates', levels: items as DateLevel[] };
      break;
    case 'mask':
      spec = { kind: 'mask', steps: integers('mask steps') };
      break;
    default:
      throw new HierarchySpecError(`hierarchy "${text}": unknown kind "${m[1]}" (expected intervals, dates or mask, e.g. ${SPEC_EXAMPLES})`);
  }
  validateSpec(spec);
  return spec;
}

/** The spec in its CLI form, e.g. `intervals:5,10,20`. */
export function formatHierarchySpec(spec: HierarchySpec): string {
  switch (spec.kind) {
    case 'intervals': return `intervals:${spec.widths.join(',')}`;
    case 'dates': return `dates:${spec.levels.join(',')}`;
    case 'mask': return `mask:${spec.steps.join(',')}`;
  }
}

function validateSpec(spec: HierarchySpec): void {
  const name = formatHierarchySpec(spec);
  switch (spec.kind) {
    case 'intervals': {
      if (spec.widths.length === 0) throw new HierarchySpecError(`hierarchy "${name}": give at least one interval width`);
      let previous: number | undefined;
      for (const w of spec.widths) {
        if (!Number.isInteger(w) || w < 1) throw new HierarchySpecError(`hierarchy "${name}": interval widths must be whole numbers of at least 1, got ${w}`);
        // Bins of a width that is a multiple of the previous one, both aligned at 0, each hold
        // whole bins of the level below: the hierarchy stays a function of the previous level.
        if (previous !== undefined && (w <= previous || w % previous !== 0)) {
          throw new HierarchySpecError(`hierarchy "${name}": each interval width must be a larger multiple of the previous one (${w} after ${previous}), or a bin would straddle two coarser bins`);
        }
        previous = w;
      }
      return;
    }
    case 'dates': {
      if (spec.levels.length === 0) throw new HierarchySpecError(`hierarchy "${name}": give at least one date level (${DATE_LEVELS.join(', ')})`);
      let previous = -1;
      for (const level of spec.levels) {
        const rank = DATE_LEVELS.indexOf(level);
        if (rank < 0) throw new HierarchySpecError(`hierarchy "${name}": date levels are ${DATE_LEVELS.join(', ')}, got "${String(level)}"`);
        if (rank <= previous) throw new HierarchySpecError(`hierarchy "${name}": date levels go from finest to coarsest (${DATE_LEVELS.join(', ')}), each once`);
        previous = rank;
      }
      return;
    }
    case 'mask': {
      if (spec.steps.length === 0) throw new HierarchySpecError(`hierarchy "${name}": give at least one mask step`);
      let previous = 0;
      for (const n of spec.steps) {
        if (!Number.isInteger(n) || n <= previous) throw new HierarchySpecError(`hierarchy "${name}": mask steps are whole numbers of characters, each larger than the previous, got ${n}`);
        previous = n;
      }
      return;
    }
    default:
      throw new HierarchySpecError(`unknown hierarchy kind ${JSON.stringify((spec as { kind?: unknown }).kind)}`);
  }
}

/**
 * Builds the hierarchy of `attribute` for every distinct value in `values` (the column of the
 * table). Throws HierarchySpecError for a bad spec and HierarchyBuildError, listing them, for
 * values the builder cannot read.
 */
export function buildHierarchy(attribute: string, spec: HierarchySpec, values: readonly string[]): Hierarchy {
  validateSpec(spec);
  const distinct = [...new Set(values)];
  let levelsOf: (value: string) => string[];
  switch (spec.kind) {
    case 'intervals':
      levelsOf = intervalLevels(attribute, spec.widths, distinct);
      break;
    case 'dates':
      levelsOf = dateLevels(attribute, spec.levels, distinct);
      break;
    case 'mask':
      levelsOf = (v) => spec.steps.map((n) => maskRight(v, n));
      break;
  }
  const height = levelCount(spec) + 2;
  const out = new Map<string, readonly string[]>();
  for (const v of distinct) {
    const inner = v.trim() === '' ? new Array<string>(height - 2).fill(v) : levelsOf(v);
    out.set(v, [v, ...inner, SUPPRESSED]);
  }
  const hierarchy: Hierarchy = { attribute, height, values: out, source: `builder ${formatHierarchySpec(spec)}` };
  assertFunctionOfPreviousLevel(hierarchy);
  return hierarchy;
}

function levelCount(spec: HierarchySpec): number {
  switch (spec.kind) {
    case 'intervals': return spec.widths.length;
    case 'dates': return spec.levels.length;
    case 'mask': return spec.steps.length;
  }
}

/** Lists offending values in an error, a few of them. */
function listValues(values: readonly string[]): string {
  const shown = values.slice(0, 10).map((v) => JSON.stringify(v)).join(', ');
  return values.length > 10 ? `${shown} and ${values.length - 10} more` : shown;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Intervals aligned at 0: level i puts x in [floor(x / w) * w, that + w[. Labels are `30-34`
 * when every value is a whole number of at least 0 (the bin's first and last possible value),
 * and ARX's half-open `[30, 35[` otherwise, where `30-34` would leave 34.5 nowhere.
 */
function intervalLevels(attribute: string, widths: readonly number[], values: readonly string[]): (value: string) => string[] {
  const present = values.filter((v) => v.trim() !== '');
  const bad = present.filter((v) => !NUMBER.test(v.trim()) || !Number.isFinite(Number(v)));
  if (bad.length > 0) {
    throw new HierarchyBuildError(`${attribute}: interval hierarchies need numbers; ${bad.length} value${bad.length === 1 ? ' is' : 's are'} not: ${listValues(bad)}`);
  }
  const wholeNonNegative = present.every((v) => Number.isInteger(Number(v)) && Number(v) >= 0);
  return (value) => {
    const x = Number(value);
    return widths.map((w) => {
      const lo = Math.floor(x / w) * w;
      return wholeNonNegative ? `${lo}-${lo + w - 1}` : `[${lo}, ${lo + w}[`;
    });
  };
}

interface CalendarDate {
  readonly year: number;
  /** Undefined for a year-only value. */
  readonly month: number | undefined;
}

function parseDate(value: string): CalendarDate | undefined {
  const v = value.trim();
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(v) ?? /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (m) {
    const year = +m[1]!, month = +m[2]!, day = +m[3]!;
    const d = new Date(0);
    d.setUTCFullYear(year, month - 1, day);
    if (month < 1 || month > 12 || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
    return { year, month };
  }
  return /^\d{4}$/.test(v) ? { year: +v, month: undefined } : undefined;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * Month `2021-03`, year `2021`, decade `2020-2029`. A year-only value has no month: at the month
 * level it stays its year, which still maps to one year and one decade above.
 */
function dateLevels(attribute: string, levels: readonly DateLevel[], values: readonly string[]): (value: string) => string[] {
  const parsed = new Map<string, CalendarDate>();
  const bad: string[] = [];
  for (const v of values) {
    if (v.trim() === '') continue;
    const d = parseDate(v);
    if (d) parsed.set(v, d);
    else bad.push(v);
  }
  if (bad.length > 0) {
    throw new HierarchyBuildError(`${attribute}: date hierarchies need dates written YYYYMMDD, YYYY-MM-DD or YYYY; ${bad.length} value${bad.length === 1 ? ' is' : 's are'} not: ${listValues(bad)}`);
  }
  return (value) => {
    const d = parsed.get(value)!;
    return levels.map((level) => {
      if (level === 'month') return d.month === undefined ? pad(d.year, 4) : `${pad(d.year, 4)}-${pad(d.month, 2)}`;
      if (level === 'year') return pad(d.year, 4);
      const from = Math.floor(d.year / 10) * 10;
      return `${pad(from, 4)}-${pad(from + 9, 4)}`;
    });
  };
}

/** `12345` with 2 → `123**`; a code shorter than n is all stars, keeping its length. */
function maskRight(value: string, n: number): string {
  const chars = [...value];
  const keep = Math.max(0, chars.length - n);
  return chars.slice(0, keep).join('') + SUPPRESSED.repeat(chars.length - keep);
}

/** A builder bug, not bad input: every level must follow from the one below it. */
function assertFunctionOfPreviousLevel(h: Hierarchy): void {
  for (let level = 1; level < h.height; level++) {
    const seen = new Map<string, string>();
    for (const entry of h.values.values()) {
      const below = entry[level - 1]!;
      const above = entry[level]!;
      const before = seen.get(below);
      if (before !== undefined && before !== above) {
        throw new Error(`${h.attribute}: built hierarchy is inconsistent at level ${level} ("${below}" → "${before}" and "${above}")`);
      }
      seen.set(below, above);
    }
  }
}
