/**
 * Recipes: a site's overrides of the profile, as YAML or JSON (JSON is read by the same YAML
 * parser, so line numbers work for both). A recipe is validated completely before any file
 * is touched; every error names the line and the reason.
 *
 * ```yaml
 * rules:
 *   - keyword: StudyDescription        # or tag: "(0008,1030)", or private: {group: "0019", creator: "GEMS_ACQU_01", element: "1E"}
 *                                      # (without element: the creator's whole block)
 *     action: keep                     # keep | remove | empty | replace | pseudonymize | shift
 *   - tag: "(0010,1010)"
 *     action: replace
 *     value: "050Y"
 *     when: { modality: [CT, MR] }      # optional: modality and/or sopClass lists
 *   - keyword: PatientAge               # coarsen instead of remove (the output of `radanon risk`)
 *     action: generalize
 *     bins: 10                         # or to: month|year|decade (dates), map: {...}, mask: N
 * ```
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import { keywordOf, lookupEntry, tagOfKeyword } from '../dicom/dictionary.js';
import { formatTag, isPrivate, parseTag, type Tag } from '../dicom/tag.js';
import type { VR } from '../dicom/vr.js';

export const RECIPE_ACTIONS = ['keep', 'remove', 'empty', 'replace', 'pseudonymize', 'shift', 'generalize'] as const;
export type RecipeAction = (typeof RECIPE_ACTIONS)[number];

export const DATE_GRANULARITIES = ['month', 'year', 'decade'] as const;
export type DateGranularity = (typeof DATE_GRANULARITIES)[number];

/**
 * How a `generalize` rule coarsens a value (the recoding of a generalization hierarchy, as
 * `radanon risk` chooses it, applied to the headers):
 * - `bins`: an age (AS) becomes the lower bound of its bin of `years` years, `034Y` → `030Y`;
 * - `date`: a date (DA, DT), after the patient's date shift, keeps its month, year or decade;
 * - `map`: a coded or text value becomes the value the map gives; a value the map lacks, or
 *   maps to `*`, is emptied;
 * - `mask`: the last `characters` characters become `*` (only VRs whose repertoire has `*`).
 */
export type Generalization =
  | { readonly kind: 'bins'; readonly years: number }
  | { readonly kind: 'date'; readonly to: DateGranularity }
  | { readonly kind: 'map'; readonly map: ReadonlyMap<string, string> }
  | { readonly kind: 'mask'; readonly characters: number };

/** The value a hierarchy uses for "suppressed": a `map` entry giving it empties the element. */
export const SUPPRESSED_VALUE = '*';

/** VRs whose character repertoire includes `*` (PS3.5 Table 6.2-1): the ones `mask` may write. */
export const MASKABLE_VRS: ReadonlySet<VR> = new Set<VR>(['AE', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT']);

/** VRs whose values a `map` may recode: text, and the string forms of dates, times and numbers. */
export const MAPPABLE_VRS: ReadonlySet<VR> = new Set<VR>(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UT']);

/**
 * Why `value` cannot stand as a value of `vr` (PS3.5 Table 6.2-1: repertoire and length), or
 * undefined when it can. Used for the values a `map` writes, which must leave a valid file.
 */
export function generalizedValueProblem(vr: VR, value: string): string | undefined {
  const tooLong = (max: number) => (value.length > max ? `longer than the ${max} characters ${vr} allows` : undefined);
  // LT, ST and UT hold one value that may span lines (TAB, LF, FF, CR); the other VRs no control
  // character, and their backslash separates values.
  const multiline = vr === 'LT' || vr === 'ST' || vr === 'UT';
  const control = multiline ? /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/ : /[\u0000-\u001f\u007f]/;
  if (control.test(value)) return `holds control characters, which ${vr} does not allow`;
  if (!multiline && value.includes('\\')) return `holds a backslash, which separates values in ${vr}`;
  const shape = (re: RegExp, what: string) => (re.test(value) ? undefined : `is not ${what}`);
  switch (vr) {
    case 'AE': return shape(/^[\x20-\x7e]*$/, 'plain ASCII, as AE requires') ?? tooLong(16);
    case 'AS': return shape(/^\d{3}[DWMY]$/, 'an age string like 030Y');
    case 'CS': return shape(/^[A-Z0-9 _]*$/, 'made of upper-case letters, digits, space and underscore, as CS requires') ?? tooLong(16);
    case 'DA': return shape(/^\d{8}$/, 'a date YYYYMMDD');
    case 'DS': return shape(/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/, 'a decimal string') ?? tooLong(16);
    case 'DT': return shape(/^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$/, 'a date-time YYYY[MM[DD[HH[MM[SS]]]]]') ?? tooLong(26);
    case 'IS': return shape(/^[+-]?\d{1,10}$/, 'an integer string') ?? (Math.abs(Number(value)) > 2 ** 31 - 1 ? 'outside the range of IS' : undefined);
    case 'TM': return shape(/^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/, 'a time HH[MM[SS]]');
    case 'LO': case 'PN': return tooLong(64);
    case 'SH': return tooLong(16);
    case 'ST': return tooLong(1024);
    case 'LT': return tooLong(10240);
    case 'UC': case 'UT': return undefined;
    default: return `VR ${vr} holds no text a map could write`;
  }
}

export type RecipeTarget =
  | { readonly kind: 'tag'; readonly tag: Tag }
  /** A private element, or with no element byte, every element of the creator's block. */
  | { readonly kind: 'private'; readonly group: number; readonly creator: string; readonly elementByte?: number };

export interface RecipeRule {
  readonly target: RecipeTarget;
  readonly action: RecipeAction;
  readonly value?: string;
  /** For action "generalize": how the value is coarsened. */
  readonly generalize?: Generalization;
  readonly when?: { readonly modality?: readonly string[]; readonly sopClass?: readonly string[] };
  /** Where the rule stands, for reports: "recipe.yaml:12". */
  readonly source: string;
}

export interface Recipe {
  readonly rules: readonly RecipeRule[];
}

export class RecipeError extends Error {
  override readonly name = 'RecipeError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
  }
}

export const EMPTY_RECIPE: Recipe = { rules: [] };

/** Parses and validates a recipe's text. `file` is only used in messages. */
export function parseRecipe(text: string, file: string): Recipe {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const lineOf = (node: Node | null | undefined): number => (node?.range ? lc.linePos(node.range[0]).line : 1);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new RecipeError(file, lc.linePos(e.pos[0]).line, `not valid YAML or JSON: ${e.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root)) throw new RecipeError(file, lineOf(root), 'a recipe is a mapping with a "rules" list');
  for (const pair of root.items) {
    const key = String((pair.key as { value?: unknown })?.value ?? pair.key);
    if (key !== 'rules' && key !== 'version' && key !== 'description') {
      throw new RecipeError(file, lineOf(pair.key as Node), `unknown top-level key "${key}" (expected rules, version, description)`);
    }
  }
  const rulesNode = root.get('rules', true) as Node | undefined;
  if (!isSeq(rulesNode)) throw new RecipeError(file, lineOf(rulesNode ?? root), '"rules" must be a list');
  const rules: RecipeRule[] = [];
  for (const item of rulesNode.items) {
    rules.push(parseRule(item as Node, file, lineOf));
  }
  return { rules };
}

const GENERALIZE_KEYS = ['bins', 'to', 'map', 'mask'] as const;
const RULE_KEYS = new Set(['keyword', 'tag', 'private', 'action', 'value', ...GENERALIZE_KEYS, 'when', 'comment']);

function parseRule(node: Node, file: string, lineOf: (n: Node | null | undefined) => number): RecipeRule {
  const line = lineOf(node);
  const fail = (reason: string, at: Node | null | undefined = node): never => {
    throw new RecipeError(file, lineOf(at), reason);
  };
  if (!isMap(node)) return fail('each rule is a mapping with a target (keyword, tag or private) and an action');
  const map = node as YAMLMap;
  for (const pair of map.items) {
    const key = String((pair.key as { value?: unknown })?.value);
    if (!RULE_KEYS.has(key)) fail(`unknown key "${key}" in rule (expected ${[...RULE_KEYS].join(', ')})`, pair.key as Node);
  }
  const js = map.toJSON() as Record<string, unknown>;
  const targets = ['keyword', 'tag', 'private'].filter((k) => js[k] !== undefined);
  if (targets.length !== 1) fail('a rule needs exactly one of keyword, tag or private');

  let target: RecipeTarget;
  if (js.keyword !== undefined) {
    const t = typeof js.keyword === 'string' ? tagOfKeyword(js.keyword) : undefined;
    if (t === undefined) fail(`unknown DICOM keyword ${JSON.stringify(js.keyword)}`, map.get('keyword', true) as Node);
    target = { kind: 'tag', tag: t! };
  } else if (js.tag !== undefined) {
    try {
      target = { kind: 'tag', tag: parseTag(String(js.tag)) };
    } catch {
      return fail(`not a DICOM tag: ${JSON.stringify(js.tag)} (write "(gggg,eeee)")`, map.get('tag', true) as Node);
    }
    if (isPrivate(target.tag)) fail('private elements are addressed by private: {group, creator, element}, since their element numbers depend on the file', map.get('tag', true) as Node);
  } else {
    const p = js.private as Record<string, unknown> | undefined;
    const at = map.get('private', true) as Node;
    if (!p || typeof p !== 'object') return fail('private must be a mapping {group, creator, element}', at);
    const group = typeof p.group === 'string' && /^[0-9A-Fa-f]{4}$/.test(p.group) ? parseInt(p.group, 16) : NaN;
    if (!(group & 1) || group <= 8) fail(`private group must be an odd group in hex, like "0019", got ${JSON.stringify(p.group)}`, at);
    if (typeof p.creator !== 'string' || p.creator.trim() === '') fail('private creator must be a non-empty string', at);
    for (const k of Object.keys(p)) if (k !== 'group' && k !== 'creator' && k !== 'element') fail(`unknown key "${k}" in private (expected group, creator, element)`, at);
    let el: number | undefined;
    if (p.element !== undefined) {
      el = typeof p.element === 'string' && /^[0-9A-Fa-f]{2}$/.test(p.element) ? parseInt(p.element, 16) : NaN;
      if (Number.isNaN(el)) fail(`private element must be the low byte in hex, like "1E", got ${JSON.stringify(p.element)}`, at);
    }
    target = { kind: 'private', group, creator: (p.creator as string).trim(), ...(el !== undefined ? { elementByte: el } : {}) };
  }

  const action = js.action;
  if (typeof action !== 'string' || !(RECIPE_ACTIONS as readonly string[]).includes(action)) {
    fail(`action must be one of ${RECIPE_ACTIONS.join(', ')}, got ${JSON.stringify(action)}`, (map.get('action', true) as Node) ?? node);
  }
  if (action === 'replace' && typeof js.value !== 'string') fail('action "replace" needs a string "value"');
  if (action !== 'replace' && js.value !== undefined) fail(`"value" is only used by action "replace", not "${action}"`, map.get('value', true) as Node);
  const generalizeKeys = GENERALIZE_KEYS.filter((k) => js[k] !== undefined);
  if (action !== 'generalize' && generalizeKeys.length > 0) {
    fail(`"${generalizeKeys[0]}" is only used by action "generalize", not "${action}"`, map.get(generalizeKeys[0]!, true) as Node);
  }
  const generalize = action === 'generalize' ? parseGeneralization(map, js, target, fail) : undefined;

  let when: RecipeRule['when'];
  if (js.when !== undefined) {
    const w = js.when as Record<string, unknown>;
    const at = map.get('when', true) as Node;
    if (!w || typeof w !== 'object' || Array.isArray(w)) return fail('when must be a mapping with modality and/or sopClass', at);
    for (const k of Object.keys(w)) if (k !== 'modality' && k !== 'sopClass') fail(`unknown condition "${k}" (expected modality, sopClass)`, at);
    const list = (v: unknown, name: string): string[] | undefined => {
      if (v === undefined) return undefined;
      const arr = Array.isArray(v) ? v : [v];
      if (!arr.every((x) => typeof x === 'string' && x.length > 0)) fail(`${name} must be a string or a list of strings`, at);
      return arr as string[];
    };
    when = { modality: list(w.modality, 'modality'), sopClass: list(w.sopClass, 'sopClass') };
  }
  return {
    target,
    action: action as RecipeAction,
    value: js.value as string | undefined,
    ...(generalize ? { generalize } : {}),
    when,
    source: `${file}:${line}`,
  };
}

/**
 * The form of a `generalize` rule, checked against the VR the data dictionary gives the target:
 * each form writes values of one kind, and the output must stay a valid file.
 */
function parseGeneralization(map: YAMLMap, js: Record<string, unknown>, target: RecipeTarget, fail: (reason: string, at?: Node | null) => never): Generalization {
  const given = GENERALIZE_KEYS.filter((k) => js[k] !== undefined);
  if (given.length !== 1) {
    fail('action "generalize" needs exactly one of bins (ages), to (dates), map (coded or text values) or mask (codes)', given.length > 1 ? (map.get(given[1]!, true) as Node) : undefined);
  }
  const key = given[0]!;
  const at = map.get(key, true) as Node;
  if (target.kind !== 'tag') return fail('action "generalize" needs a standard attribute (keyword or tag): its VR decides what a generalized value looks like');
  const vr = lookupEntry(target.tag)?.vr;
  const name = keywordOf(target.tag) ?? formatTag(target.tag);
  if (vr === undefined) return fail(`action "generalize" needs an attribute of the data dictionary; ${name} is not in it`);
  const wrongVr = (what: string): never => fail(`"${key}" generalizes ${what}; ${name} has VR ${vr}`, at);
  const positiveInteger = (v: unknown, max: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) fail(`"${key}" must be a whole number from 1 to ${max}, got ${JSON.stringify(v)}`, at);
    return v as number;
  };
  switch (key) {
    case 'bins':
      if (vr !== 'AS') wrongVr('ages (VR AS)');
      return { kind: 'bins', years: positiveInteger(js.bins, 999) };
    case 'to': {
      if (vr !== 'DA' && vr !== 'DT') wrongVr('dates (VR DA or DT)');
      const to = js.to;
      if (typeof to !== 'string' || !(DATE_GRANULARITIES as readonly string[]).includes(to)) fail(`"to" must be one of ${DATE_GRANULARITIES.join(', ')}, got ${JSON.stringify(to)}`, at);
      return { kind: 'date', to: to as DateGranularity };
    }
    case 'mask':
      if (!MASKABLE_VRS.has(vr)) fail(`"mask" writes "*", which VR ${vr} of ${name} does not allow (PS3.5 Table 6.2-1); use map instead`, at);
      return { kind: 'mask', characters: positiveInteger(js.mask, 1024) };
    case 'map': {
      if (!MAPPABLE_VRS.has(vr)) wrongVr(`text values (VR ${[...MAPPABLE_VRS].join(', ')})`);
      if (!isMap(at)) return fail('"map" must be a mapping of original value to generalized value', at);
      const out = new Map<string, string>();
      for (const pair of at.items) {
        const k = pair.key as Node;
        const v = pair.value as Node | null;
        if (!isScalar(k) || typeof k.value !== 'string') fail('"map" keys are original values, written as strings (quote numbers)', k);
        if (!isScalar(v) || typeof v.value !== 'string') fail('"map" values are generalized values, written as strings (quote numbers; "*" empties the element)', v ?? k);
        const generalized = (v as { value: string }).value;
        const problem = generalized === SUPPRESSED_VALUE ? undefined : generalizedValueProblem(vr, generalized);
        if (problem) fail(`"map" value ${JSON.stringify(generalized)} ${problem} (VR of ${name})`, v);
        out.set((k as { value: string }).value, generalized);
      }
      if (out.size === 0) fail('"map" lists no value; to empty the element use action "empty"', at);
      return { kind: 'map', map: out };
    }
  }
}

export interface RecipeContext {
  readonly modality: string;
  readonly sopClassUid: string;
}

/** The last matching rule wins, so a recipe can state a general rule and then exceptions. */
export function findRecipeRule(
  recipe: Recipe,
  t: Tag,
  privateCreator: string | undefined,
  ctx: RecipeContext,
): RecipeRule | undefined {
  let found: RecipeRule | undefined;
  for (const r of recipe.rules) {
    if (r.target.kind === 'tag') {
      if (r.target.tag !== t) continue;
    } else {
      if (privateCreator === undefined) continue;
      if ((t >>> 16) !== r.target.group) continue;
      if (r.target.elementByte !== undefined && (t & 0xff) !== r.target.elementByte) continue;
      if (privateCreator.trim().toUpperCase() !== r.target.creator.toUpperCase()) continue;
    }
    if (r.when?.modality && !r.when.modality.includes(ctx.modality)) continue;
    if (r.when?.sopClass && !r.when.sopClass.includes(ctx.sopClassUid)) continue;
    found = r;
  }
  return found;
}
