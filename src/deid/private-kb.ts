import { isVR, type VR } from '../dicom/vr.js';
import { PRIVATE_KB_ENTRIES } from './private-kb.generated.js';

/**
 * TCIA's disposition of a private element: k keep (safe from identity leakage), d delete,
 * h hash (UIDs), o offset (dates), oi offset (integers), na no disposition; '' where the
 * source gives none. Only k makes an element safe to keep under the Retain Safe Private Option.
 */
export type PrivateDisposition = 'k' | 'd' | 'h' | 'o' | 'oi' | 'na' | '';

export interface PrivateKbRule {
  /** The VR the knowledge base records for the element; undefined where it records none. */
  readonly vr: VR | undefined;
  readonly disposition: PrivateDisposition;
}

/** One enclosing sequence of a nested element, from the top level down. */
export type PrivatePathStep =
  | { readonly group: number; readonly element: number }
  | { readonly group: number; readonly creator: string; readonly elementByte: number };

/** The step for an enclosing sequence: by creator and element byte when private, by tag otherwise. */
export function pathStep(t: number, privateCreator: string | undefined): PrivatePathStep {
  const group = t >>> 16;
  return privateCreator !== undefined ? { group, creator: privateCreator, elementByte: t & 0xff } : { group, element: t & 0xffff };
}

interface Row {
  readonly path: string;
  readonly vr: VR | undefined;
  readonly disposition: PrivateDisposition;
}

const DISPOSITIONS: readonly PrivateDisposition[] = ['k', 'd', 'h', 'o', 'oi', 'na', ''];

/** Rank used when rows disagree: the higher, the less is kept. */
const CAUTION: Readonly<Record<PrivateDisposition, number>> = { k: 0, oi: 1, o: 2, h: 3, '': 4, na: 5, d: 6 };

/** Rows by signature key, filled as lookups happen; an empty array records an unknown signature. */
const cache = new Map<string, readonly Row[]>();

/**
 * Creators are padded with spaces (or NULs) and written in varying case by different devices,
 * e.g. "Philips Imaging DD 001" and "PHILIPS IMAGING DD 001", so they are compared trimmed and
 * lower-cased.
 */
function normalizeCreator(creator: string): string {
  return creator.replace(/^[\s\0]+|[\s\0]+$/g, '').toLowerCase();
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** The canonical path text, as in the generated table once lower-cased. */
function pathKey(steps: readonly PrivatePathStep[] | undefined): string {
  if (!steps) return '';
  return steps
    .map((s) => ('creator' in s
      ? `${hex(s.group, 4)},${normalizeCreator(s.creator)},${hex(s.elementByte, 2)}`
      : `${hex(s.group, 4)},${hex(s.element, 4)}`))
    .join('>');
}

/** "gggg|creator|ee" of a generated row, lower-cased: the key the generator sorts by. */
function keyOf(row: string): string {
  const end = row.indexOf('|', row.indexOf('|', 5) + 1);
  return row.slice(0, end).toLowerCase();
}

function parseRow(row: string): Row {
  const [, , , vr = '', disposition = '', path = ''] = row.split('|');
  return {
    path: path.toLowerCase(),
    vr: isVR(vr) ? vr : undefined,
    disposition: DISPOSITIONS.find((d) => d === disposition) ?? 'na',
  };
}

/**
 * The rows of one signature, found by binary search of the sorted generated table. Nothing is
 * parsed up front: most runs never enable Retain Safe Private, and splitting all 8,000 rows
 * costs tens of milliseconds on a slow machine.
 */
function rowsFor(key: string): readonly Row[] {
  const cached = cache.get(key);
  if (cached) return cached;
  let lo = 0;
  let hi = PRIVATE_KB_ENTRIES.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const k = keyOf(PRIVATE_KB_ENTRIES[mid]!);
    if (k === key) {
      found = mid;
      break;
    }
    if (k < key) lo = mid + 1;
    else hi = mid - 1;
  }
  const rows: Row[] = [];
  if (found >= 0) {
    let first = found;
    while (first > 0 && keyOf(PRIVATE_KB_ENTRIES[first - 1]!) === key) first--;
    for (let i = first; i < PRIVATE_KB_ENTRIES.length; i++) {
      const row = PRIVATE_KB_ENTRIES[i]!;
      if (keyOf(row) !== key) break;
      rows.push(parseRow(row));
    }
  }
  cache.set(key, rows);
  return rows;
}

/**
 * What TCIA's knowledge base says about the private element (group, creator, elementByte):
 * `group` is the element's odd group, `creator` the value of its private creator element, and
 * `elementByte` the low byte of the element number, so (0019,"GEMS_ACQU_01",1e) matches
 * (0019,101E) when GEMS_ACQU_01 holds block 10.
 *
 * Nesting: the knowledge base keys a signature by its sequence path too, and sometimes judges
 * the same element differently inside a sequence (e.g. k at the top level, d inside Referenced
 * Series Sequence). With `parentPath` (the enclosing sequences from the top level) only rows
 * recorded for exactly that path count, so a nesting the knowledge base does not list leaves
 * the element unknown, hence removed. Without `parentPath` only top-level rows count;
 * a caller that does not track nesting thereby applies top-level judgements to nested elements,
 * the less cautious choice.
 *
 * VR: the knowledge base records the VR it saw, and the disposition may depend on it (a value
 * seen as UN could not be checked and is usually d). With `vr`, only rows with that VR (or none
 * recorded) count, and no such row gives undefined. Without it, UN rows are ignored if typed rows
 * exist, the caller then reading the value with the returned VR.
 *
 * Rows that still disagree give the most cautious disposition (d before na, h, o, oi, k).
 * Undefined when the signature is unknown: the element is then not known to be safe.
 */
export function safePrivateRule(
  group: number,
  creator: string,
  elementByte: number,
  parentPath?: readonly PrivatePathStep[],
  vr?: VR,
): PrivateKbRule | undefined {
  const path = parentPath && parentPath.length > 0 ? pathKey(parentPath) : '';
  if (vr !== undefined) return judge(group, creator, elementByte, path, vr);
  // Answers by raw creator, (group, element byte) and path: the same vendor blocks recur in
  // every file of a batch, and finding the rows builds strings each time.
  let byCreator = answers.get(creator);
  if (!byCreator) {
    if (answers.size > 10_000) answers.clear();
    answers.set(creator, (byCreator = new Map()));
  }
  const slot = `${(group << 8) | (elementByte & 0xff)}|${path}`;
  const known = byCreator.get(slot);
  if (known !== undefined) return known ?? undefined;
  const result = judge(group, creator, elementByte, path, undefined);
  byCreator.set(slot, result ?? null);
  return result;
}

const answers = new Map<string, Map<string, PrivateKbRule | null>>();

function judge(group: number, creator: string, elementByte: number, path: string, vr: VR | undefined): PrivateKbRule | undefined {
  const all = rowsFor(`${hex(group, 4)}|${normalizeCreator(creator)}|${hex(elementByte & 0xff, 2)}`);
  let rows = all.filter((r) => r.path === path);
  if (vr !== undefined) {
    rows = rows.filter((r) => r.vr === vr || r.vr === undefined);
  } else if (rows.some((r) => r.vr !== 'UN')) {
    rows = rows.filter((r) => r.vr !== 'UN');
  }
  let result: Row | undefined;
  for (const row of rows) {
    if (!result || CAUTION[row.disposition] > CAUTION[result.disposition]) result = row;
  }
  return result && { vr: vr ?? result.vr, disposition: result.disposition };
}

/** Whether the knowledge base marks the element safe to keep (disposition k). */
export function isSafePrivate(
  group: number,
  creator: string,
  elementByte: number,
  parentPath?: readonly PrivatePathStep[],
  vr?: VR,
): boolean {
  return safePrivateRule(group, creator, elementByte, parentPath, vr)?.disposition === 'k';
}
