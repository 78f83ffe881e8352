/**
 * The generalization `radanon risk` chose, written as a radanon recipe, so that `radanon deid
 * --recipe` coarsens the DICOM headers the same way the table was coarsened (Patient's Age to
 * 10-year bins, Study Date to its year, Patient's Sex suppressed, a site name to its region).
 *
 * One rule per attribute above level 0 that has a DICOM keyword:
 * - built intervals on an age (AS): `generalize` with `bins: <width of the level>`;
 * - built dates on a DA/DT attribute: `generalize` with `to: month|year|decade`, never finer
 *   than the level's values (a table of study years gets years even from a month level);
 * - built masks on a VR whose repertoire has "*": `generalize` with `mask: <characters>`;
 * - any other hierarchy (an ARX CSV file): `generalize` with `map:` from every original value
 *   to its value at the level ("*" empties the element);
 * - a level where every value is "*": `action: empty`.
 * Attributes without a keyword, or whose level cannot be written as a valid header value, are
 * listed in a comment as not applicable. The text holds no data values beyond the hierarchies'.
 */
import { lookupEntry, tagOfKeyword } from '../dicom/dictionary.js';
import type { VR } from '../dicom/vr.js';
import { generalizedValueProblem, MAPPABLE_VRS, MASKABLE_VRS, SUPPRESSED_VALUE, type DateGranularity } from '../deid/recipe.js';
import { formatHierarchySpec, type HierarchySpec } from './builders.js';
import { RiskInputError } from './table.js';
import type { Hierarchy, Transformation } from './types.js';

export interface GeneralizationRecipeInput {
  /** The level chosen per quasi-identifier. */
  readonly transformation: Transformation;
  readonly hierarchies: ReadonlyMap<string, Hierarchy>;
  /** The builder spec of the attributes whose hierarchy was built (the others came from files). */
  readonly specs: ReadonlyMap<string, HierarchySpec>;
  /** Attribute → DICOM keyword, e.g. age → PatientAge; attributes not listed are not applicable. */
  readonly attributeKeywords: ReadonlyMap<string, string>;
  /** Where the transformation came from, for the header comment (all optional). */
  readonly about?: {
    readonly metric?: string;
    /** The privacy model, e.g. "5-anonymity, 2% suppression". */
    readonly model?: string;
    readonly utility?: number;
  };
}

/** The input cannot be turned into a recipe: unknown keyword, missing hierarchy, level out of range. */
export class RecipeExportError extends RiskInputError {
  override readonly name: string = 'RecipeExportError';
}

type Rule =
  | { readonly kind: 'empty' }
  | { readonly kind: 'bins'; readonly years: number }
  | { readonly kind: 'date'; readonly to: DateGranularity }
  | { readonly kind: 'mask'; readonly characters: number }
  | { readonly kind: 'map'; readonly map: ReadonlyMap<string, string> };

type Outcome = { readonly rule: Rule } | { readonly notApplicable: string };

/** YAML text of the recipe. */
export function recipeForGeneralization(input: GeneralizationRecipeInput): string {
  const rules: string[] = [];
  const unchanged: string[] = [];
  const notApplicable: string[] = [];
  const hierarchySources: string[] = [];
  for (const [attribute, level] of Object.entries(input.transformation)) {
    const hierarchy = input.hierarchies.get(attribute);
    const spec = input.specs.get(attribute);
    if (hierarchy) hierarchySources.push(`${attribute}: ${spec ? `built ${formatHierarchySpec(spec)}` : hierarchy.source}`);
    if (!Number.isInteger(level) || level < 0) throw new RecipeExportError(`${attribute}: level ${level} is not a generalization level`);
    if (level === 0) {
      unchanged.push(attribute);
      continue;
    }
    if (!hierarchy) throw new RecipeExportError(`${attribute}: generalized to level ${level} but no hierarchy was given`);
    if (level >= hierarchy.height) throw new RecipeExportError(`${attribute}: level ${level} is above the top of its hierarchy (levels 0-${hierarchy.height - 1})`);
    const keyword = input.attributeKeywords.get(attribute);
    if (keyword === undefined) {
      notApplicable.push(`${attribute} (level ${level}): no DICOM attribute given`);
      continue;
    }
    const tag = tagOfKeyword(keyword);
    const vr = tag === undefined ? undefined : lookupEntry(tag)?.vr;
    if (vr === undefined) throw new RecipeExportError(`${attribute}: "${keyword}" is not a DICOM keyword (PS3.6)`);
    const outcome = ruleFor(hierarchy, spec, level, vr);
    if ('notApplicable' in outcome) {
      notApplicable.push(`${attribute} (level ${level}, ${keyword}): ${outcome.notApplicable}`);
      continue;
    }
    rules.push(...ruleYaml(keyword, outcome.rule, `${attribute} at level ${level} of ${hierarchy.height - 1}`));
  }

  const transformation = Object.entries(input.transformation).map(([a, l]) => `${a}=${l}`).join(', ');
  const header = [
    '# Generalization chosen by radanon risk, to coarsen the DICOM headers the same way:',
    '#   radanon deid --recipe <this file> ...   (and radanon verify --recipe <this file>)',
    `# Transformation (level per attribute): ${transformation}`,
  ];
  const about = input.about;
  if (about?.model !== undefined) header.push(`# Privacy model: ${about.model}`);
  if (about?.metric !== undefined) header.push(`# Utility metric: ${about.metric}${about.utility !== undefined ? ` (value ${about.utility})` : ''}`);
  if (hierarchySources.length > 0) header.push('# Hierarchies:', ...hierarchySources.map((s) => `#   ${s}`));
  if (unchanged.length > 0) header.push(`# At level 0 (unchanged, no rule): ${unchanged.join(', ')}`);
  if (notApplicable.length > 0) header.push('# Not applicable to the headers:', ...notApplicable.map((s) => `#   ${s}`));
  const lines = [
    ...header.map(oneLine),
    'version: 1',
    `description: ${JSON.stringify(`generalization ${transformation}`)}`,
    rules.length > 0 ? 'rules:' : 'rules: []',
    ...rules,
  ];
  return lines.join('\n') + '\n';
}

/** Comments must stay on their line, whatever a file name holds. */
function oneLine(s: string): string {
  return s.replace(/[\r\n\u0085\u2028\u2029]+/g, ' ');
}

function ruleFor(h: Hierarchy, spec: HierarchySpec | undefined, level: number, vr: VR): Outcome {
  const atLevel = [...h.values.values()].map((e) => e[level]!);
  if (atLevel.every((v) => v === SUPPRESSED_VALUE || v.trim() === '')) return { rule: { kind: 'empty' } };
  if (spec?.kind === 'intervals') {
    if (vr !== 'AS') return { notApplicable: `intervals become age bins only on an age (VR AS), not VR ${vr}` };
    return { rule: { kind: 'bins', years: spec.widths[level - 1]! } };
  }
  if (spec?.kind === 'dates') {
    if (vr !== 'DA' && vr !== 'DT') return { notApplicable: `dates generalize only a date (VR DA or DT), not VR ${vr}` };
    return { rule: { kind: 'date', to: coarsestDate(spec.levels[level - 1]!, atLevel) } };
  }
  if (spec?.kind === 'mask' && MASKABLE_VRS.has(vr)) return { rule: { kind: 'mask', characters: spec.steps[level - 1]! } };
  return mapRule(h, level, vr);
}

const DATE_RANK: Record<DateGranularity, number> = { month: 0, year: 1, decade: 2 };

/** The level's nominal granularity, or coarser when its values are (year-only dates). */
function coarsestDate(nominal: DateGranularity, values: readonly string[]): DateGranularity {
  let out = nominal;
  for (const v of values) {
    const g: DateGranularity | undefined = /^\d{4}-\d{2}$/.test(v) ? 'month' : /^\d{4}$/.test(v) ? 'year' : /^\d{4}-\d{4}$/.test(v) ? 'decade' : undefined;
    if (g !== undefined && DATE_RANK[g] > DATE_RANK[out]) out = g;
  }
  return out;
}

function mapRule(h: Hierarchy, level: number, vr: VR): Outcome {
  if (!MAPPABLE_VRS.has(vr)) return { notApplicable: `VR ${vr} holds no value a map could write` };
  const map = new Map<string, string>();
  for (const [original, entry] of h.values) {
    if (original.trim() === '') continue; // an empty element stays empty
    const to = entry[level]!;
    const problem = to === SUPPRESSED_VALUE || to.trim() === '' ? undefined : generalizedValueProblem(vr, to);
    if (problem) return { notApplicable: `the generalized value ${JSON.stringify(to)} ${problem}` };
    map.set(original, to.trim() === '' ? SUPPRESSED_VALUE : to);
  }
  if (map.size === 0) return { rule: { kind: 'empty' } };
  return { rule: { kind: 'map', map } };
}

function ruleYaml(keyword: string, rule: Rule, comment: string): string[] {
  const out = [`  - keyword: ${keyword}`];
  switch (rule.kind) {
    case 'empty':
      out.push('    action: empty');
      break;
    case 'bins':
      out.push('    action: generalize', `    bins: ${rule.years}`);
      break;
    case 'date':
      out.push('    action: generalize', `    to: ${rule.to}`);
      break;
    case 'mask':
      out.push('    action: generalize', `    mask: ${rule.characters}`);
      break;
    case 'map': {
      out.push('    action: generalize', '    map:');
      // JSON strings are YAML double-quoted scalars: every value stays a string ("1", "no", "~").
      const keys = [...rule.map.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (const k of keys) out.push(`      ${JSON.stringify(k)}: ${JSON.stringify(rule.map.get(k))}`);
      break;
    }
  }
  out.push(`    comment: ${JSON.stringify(comment)}`);
  return out;
}
