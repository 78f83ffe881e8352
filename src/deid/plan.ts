/**
 * Building a de-identification plan from named settings: the presets, the option switches,
 * the recipe and lookup files. The CLI and the service call this; they hold no rules of their own.
 */
import { readFile } from 'node:fs/promises';
import { OPTION_NAMES, type OptionName } from './profile.js';
import { EMPTY_RECIPE, parseRecipe, type Recipe } from './recipe.js';

export const PRESETS = {
  /**
   * The default for radiomics studies: intervals between studies, patient age/sex/size/weight,
   * descriptions (cleaned) and private acquisition parameters known to be safe survive.
   */
  radiomics: ['retainLongitudinalModifiedDates', 'retainPatientCharacteristics', 'cleanDescriptors', 'retainSafePrivate'],
  /** The Basic Profile alone. */
  basic: [],
} as const satisfies Record<string, readonly OptionName[]>;
export type PresetName = keyof typeof PRESETS;

export function isPresetName(s: string): s is PresetName {
  return Object.hasOwn(PRESETS, s);
}

/** Starts from a preset, then turns options on and off; a later switch wins over the preset. */
export function resolveOptions(preset: PresetName, switches: Partial<Record<OptionName, boolean>>): OptionName[] {
  const on = new Set<OptionName>(PRESETS[preset]);
  for (const name of OPTION_NAMES) {
    const v = switches[name];
    if (v === true) on.add(name);
    if (v === false) on.delete(name);
  }
  if (on.has('retainLongitudinalFullDates') && on.has('retainLongitudinalModifiedDates')) {
    // Full dates make the shift meaningless; the stronger retention wins, as PS3.15 lets either stand alone.
    on.delete('retainLongitudinalModifiedDates');
  }
  return OPTION_NAMES.filter((n) => on.has(n));
}

/** Option name to its command-line flag: retainSafePrivate → retain-safe-private. */
export function optionFlag(name: OptionName): string {
  return name.replace(/UIDs$/, 'Uids').replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

export async function loadRecipe(path: string | undefined): Promise<Recipe> {
  if (!path) return EMPTY_RECIPE;
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new SettingsError(`${path}: cannot read recipe (${e.code ?? e.message})`);
  });
  return parseRecipe(text, path);
}

export class LookupTableError extends Error {
  override readonly name = 'LookupTableError';
}

/** A setting that cannot be used (e.g. a malformed date shift range). */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

/**
 * A site's own research IDs: CSV with a header row naming the columns `patient_id` and
 * `research_id` (in any order; comma or semicolon separated). Errors give the line, never a value.
 */
export function parseLookupTable(text: string, file: string): [string, string][] {
  const lines = text.split(/\r?\n/);
  const header = lines[0] ?? '';
  const sep = header.includes(';') && !header.includes(',') ? ';' : ',';
  const cols = header.split(sep).map((c) => c.trim().toLowerCase());
  const pi = cols.indexOf('patient_id');
  const ri = cols.indexOf('research_id');
  if (pi < 0 || ri < 0) throw new LookupTableError(`${file}:1: the header must name the columns patient_id and research_id`);
  const out: [string, string][] = [];
  const seen = new Set<string>();
  const used = new Set<string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const f = line.split(sep).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    const pid = f[pi];
    const rid = f[ri];
    if (!pid || !rid) throw new LookupTableError(`${file}:${i + 1}: both patient_id and research_id are required`);
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(rid)) throw new LookupTableError(`${file}:${i + 1}: research_id must be 1-64 letters, digits, dot, dash or underscore`);
    if (seen.has(pid)) throw new LookupTableError(`${file}:${i + 1}: patient_id listed twice`);
    if (used.has(rid)) throw new LookupTableError(`${file}:${i + 1}: research_id given to two patients`);
    seen.add(pid);
    used.add(rid);
    out.push([pid, rid]);
  }
  return out;
}

export async function loadLookupTable(path: string | undefined): Promise<[string, string][] | undefined> {
  if (!path) return undefined;
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new LookupTableError(`${path}: cannot read lookup table (${e.code ?? e.message})`);
  });
  return parseLookupTable(text, path);
}

/** "-3650:-30" → [-3650, -30]. */
export function parseDayRange(text: string): [number, number] {
  const m = /^\s*(-?\d+)\s*:\s*(-?\d+)\s*$/.exec(text);
  if (!m) throw new SettingsError(`date shift range must be MIN:MAX in days, e.g. -3650:-30, got "${text}"`);
  const min = +m[1]!;
  const max = +m[2]!;
  if (min > max) throw new SettingsError(`date shift range ${text}: MIN must not exceed MAX`);
  if (min === 0 && max === 0) throw new SettingsError('date shift range 0:0 would not shift dates');
  return [min, max];
}
