/**
 * Device rules: regions a given device always burns text into (manufacturer, model and frame
 * size → fixed rectangles), in the spirit of CTP's DicomPixelAnonymizer signatures, read from an
 * editable YAML file. The shipped file is assets/pixels/device-rules.yaml.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import type { Box } from '../types.js';

/** What a rule matches; every given condition must hold. */
export interface DeviceMatch {
  /** Modality, exact, ignoring case. */
  readonly modality?: string;
  /** Manufacturer (0008,0070) contains this, ignoring case. */
  readonly manufacturer?: string;
  /** Manufacturer's Model Name (0008,1090) contains this, ignoring case. */
  readonly model?: string;
  readonly rows?: number;
  readonly columns?: number;
}

export interface DeviceRule {
  /** "<file name>:<line>" of the rule, so findings say which rule asked for a region. */
  readonly name: string;
  readonly match: DeviceMatch;
  readonly regions: readonly Box[];
}

export interface DeviceRules {
  readonly source: string;
  readonly rules: readonly DeviceRule[];
}

/** Raised for a rules file that cannot be used; the message names file:line and the reason. */
export class DeviceRulesError extends Error {
  override readonly name = 'DeviceRulesError';
}

const MATCH_KEYS = new Set(['modality', 'manufacturer', 'model', 'rows', 'columns']);

/** Parses rules text; `file` names the source in errors and rule names. */
export function parseDeviceRules(text: string, file: string): DeviceRules {
  const name = path.basename(file);
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (node: Node | null | undefined): number => (node?.range ? counter.linePos(node.range[0]).line : 1);
  const fail = (node: Node | null | undefined, reason: string): never => {
    throw new DeviceRulesError(`${file}:${lineOf(node)}: ${reason}`);
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new DeviceRulesError(`${file}:${e.linePos?.[0]?.line ?? 1}: not valid YAML (${e.code})`);
  }
  const root = doc.contents;
  if (!isMap(root)) fail(root, 'the file must be a mapping with a "rules" list');
  const top = root as YAMLMap;
  for (const item of top.items) {
    const key = isScalar(item.key) ? String(item.key.value) : '';
    if (key !== 'version' && key !== 'rules') fail(item.key as Node, `unknown key "${key}" (expected version, rules)`);
  }
  const version = top.get('version', true);
  if (version !== undefined && !(isScalar(version) && version.value === 1)) fail(version as Node, 'version must be 1');
  const list = top.get('rules', true);
  if (!isSeq(list)) fail((list as Node | undefined) ?? root, '"rules" must be a list');
  const rules: DeviceRule[] = [];
  for (const entry of (list as unknown as { items: unknown[] }).items) {
    const node = entry as Node;
    if (!isMap(node)) fail(node, 'each rule must be a mapping with "match" and "regions"');
    const ruleMap = node as YAMLMap;
    for (const item of ruleMap.items) {
      const key = isScalar(item.key) ? String(item.key.value) : '';
      if (!['match', 'regions', 'note'].includes(key)) fail(item.key as Node, `unknown key "${key}" (expected match, regions, note)`);
    }
    const matchNode = ruleMap.get('match', true) as Node | undefined;
    if (!isMap(matchNode)) fail(matchNode ?? node, 'a rule needs a "match" mapping');
    const match: Record<string, string | number> = {};
    for (const item of (matchNode as YAMLMap).items) {
      const key = isScalar(item.key) ? String(item.key.value) : '';
      if (!MATCH_KEYS.has(key)) fail(item.key as Node, `unknown match key "${key}" (expected ${[...MATCH_KEYS].join(', ')})`);
      const value = item.value as Node;
      if (!isScalar(value)) fail(value ?? (item.key as Node), `match.${key} must be a single value`);
      const v = (value as { value: unknown }).value;
      if (key === 'rows' || key === 'columns') {
        if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(value, `match.${key} must be a positive integer`);
        match[key] = v as number;
      } else {
        if (typeof v !== 'string' || v.trim() === '') fail(value, `match.${key} must be non-empty text`);
        match[key] = (v as string).trim();
      }
    }
    if (Object.keys(match).length === 0) fail(matchNode, 'match must hold at least one condition (a rule matching every image would blank every image)');
    if (match.manufacturer === undefined && match.model === undefined) fail(matchNode, 'match needs manufacturer or model: regions are device-specific');
    const regionsNode = ruleMap.get('regions', true) as Node | undefined;
    if (!isSeq(regionsNode) || regionsNode.items.length === 0) fail(regionsNode ?? node, 'a rule needs a non-empty "regions" list of [x, y, width, height]');
    const regions: Box[] = [];
    for (const r of (regionsNode as { items: unknown[] }).items) {
      const rn = r as Node;
      const values = isSeq(rn) ? rn.items.map((i) => (isScalar(i) ? i.value : undefined)) : [];
      if (values.length !== 4 || !values.every((v) => typeof v === 'number' && Number.isInteger(v))) fail(rn, 'a region is [x, y, width, height] in whole pixels');
      const [x, y, w, h] = values as number[];
      if (x! < 0 || y! < 0 || w! <= 0 || h! <= 0) fail(rn, 'a region needs x, y ≥ 0 and width, height > 0');
      if (typeof match.columns === 'number' && x! + w! > match.columns) fail(rn, `region ends at column ${x! + w!}, beyond the ${match.columns} columns the rule matches`);
      if (typeof match.rows === 'number' && y! + h! > match.rows) fail(rn, `region ends at row ${y! + h!}, beyond the ${match.rows} rows the rule matches`);
      regions.push({ x: x!, y: y!, width: w!, height: h! });
    }
    rules.push({ name: `${name}:${lineOf(node)}`, match: match as DeviceMatch, regions });
  }
  return { source: name, rules };
}

/** Reads a rules file; errors name file:line and the reason. */
export function loadDeviceRules(file: string): DeviceRules {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new DeviceRulesError(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseDeviceRules(text, file);
}

/** The rules file that ships with radanon (assets/pixels/device-rules.yaml). */
export function shippedDeviceRulesPath(): string {
  return fileURLToPath(new URL('../../../assets/pixels/device-rules.yaml', import.meta.url));
}

export function shippedDeviceRules(): DeviceRules {
  return loadDeviceRules(shippedDeviceRulesPath());
}

/** What a header says about the device, as the matcher reads it. */
export interface DeviceDescription {
  readonly modality?: string;
  readonly manufacturer?: string;
  readonly model?: string;
  readonly rows: number;
  readonly columns: number;
}

function contains(value: string | undefined, part: string): boolean {
  return value !== undefined && value.toLowerCase().includes(part.toLowerCase());
}

/**
 * Every rule that matches (not only the first, as CTP does: two rules for one device add up),
 * with its regions clipped to the frame.
 */
export function matchDeviceRules(rules: DeviceRules, device: DeviceDescription): { readonly rule: DeviceRule; readonly regions: readonly Box[] }[] {
  const out: { rule: DeviceRule; regions: Box[] }[] = [];
  for (const rule of rules.rules) {
    const m = rule.match;
    if (m.modality !== undefined && m.modality.toLowerCase() !== (device.modality ?? '').toLowerCase()) continue;
    if (m.manufacturer !== undefined && !contains(device.manufacturer, m.manufacturer)) continue;
    if (m.model !== undefined && !contains(device.model, m.model)) continue;
    if (m.rows !== undefined && m.rows !== device.rows) continue;
    if (m.columns !== undefined && m.columns !== device.columns) continue;
    const regions = rule.regions
      .map((r) => {
        const x = Math.min(r.x, device.columns);
        const y = Math.min(r.y, device.rows);
        return { x, y, width: Math.min(r.x + r.width, device.columns) - x, height: Math.min(r.y + r.height, device.rows) - y };
      })
      .filter((r) => r.width > 0 && r.height > 0);
    if (regions.length > 0) out.push({ rule, regions });
  }
  return out;
}
