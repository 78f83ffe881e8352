/**
 * The IBSI reference value table (ibsi1_reference_values.csv) and IBSI's rule for whether a
 * computed value matches a reference value.
 */
import fs from 'node:fs';
import type { Aggregation, FamilyShort } from '../../src/radiomics/types.js';

export interface ReferenceValue {
  readonly family: FamilyShort;
  /** The `feature` column, or `table_caption` where features share a code and a name (BC2M, GBPN). */
  readonly name: string;
  readonly code: string;
  readonly data: string;
  readonly aggregation: Aggregation;
  /** As written in the table, so its significant digits are known. */
  readonly value: string;
  readonly tolerance: number;
}

function splitCsv(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}

export function readReferenceValues(file: string): ReferenceValue[] {
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).filter(Boolean);
  const header = splitCsv(lines[0]!);
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${file}: no column ${name}`);
    return i;
  };
  const [fam, feat, cap, code, data, agg, val, tol] = ['family_short', 'feature', 'table_caption', 'ibsi_code', 'data', 'aggregation', 'value', 'tolerance'].map(col) as number[];
  const rows = lines.slice(1).map(splitCsv);
  // Features that share a code and a name are told apart by their caption.
  const namesPerCode = new Map<string, Set<string>>();
  for (const r of rows) {
    const key = `${r[code!]}|${r[feat!]}`;
    namesPerCode.set(key, (namesPerCode.get(key) ?? new Set()).add(r[cap!]!));
  }
  return rows.map((r) => ({
    family: r[fam!] as FamilyShort,
    name: namesPerCode.get(`${r[code!]}|${r[feat!]}`)!.size > 1 ? r[cap!]! : r[feat!]!,
    code: r[code!]!,
    data: r[data!]!,
    aggregation: r[agg!] as Aggregation,
    value: r[val!]!,
    tolerance: Number(r[tol!]),
  }));
}

function significantDigits(text: string): number {
  const digits = text.replace(/^[-+]?0*\.?0*/, '').replace(/[eE].*$/, '').replace('.', '');
  return Math.max(3, digits.replace(/0+$/, '').length);
}

/** IBSI: a value matches when it lies within the tolerance of the reference, reported to the reference's precision. */
export function matchesReference(ours: number, reference: ReferenceValue): boolean {
  const ref = Number(reference.value);
  if (!Number.isFinite(ours)) return false;
  const rounded = Number(ours.toPrecision(significantDigits(reference.value)));
  return Math.abs(rounded - ref) <= reference.tolerance + 1e-9 * Math.abs(ref);
}
