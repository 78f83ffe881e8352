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
 * ```
 */
import { isMap, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import { tagOfKeyword } from '../dicom/dictionary.js';
import { isPrivate, parseTag, type Tag } from '../dicom/tag.js';

export const RECIPE_ACTIONS = ['keep', 'remove', 'empty', 'replace', 'pseudonymize', 'shift'] as const;
export type RecipeAction = (typeof RECIPE_ACTIONS)[number];

export type RecipeTarget =
  | { readonly kind: 'tag'; readonly tag: Tag }
  /** A private element, or with no element byte, every element of the creator's block. */
  | { readonly kind: 'private'; readonly group: number; readonly creator: string; readonly elementByte?: number };

export interface RecipeRule {
  readonly target: RecipeTarget;
  readonly action: RecipeAction;
  readonly value?: string;
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

const RULE_KEYS = new Set(['keyword', 'tag', 'private', 'action', 'value', 'when', 'comment']);

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
  return { target, action: action as RecipeAction, value: js.value as string | undefined, when, source: `${file}:${line}` };
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
