import { groupOf, type Tag } from '../dicom/tag.js';
import { PROFILE_ROWS } from './profile.generated.js';

/**
 * The action codes of PS3.15 Table E.1-1: D dummy value, Z zero length (or dummy), X remove,
 * K keep, C clean, U replace UID consistently, and the compound codes whose choice depends on
 * the attribute's Type in the IOD (Z/D: Type 2 vs 1, X/Z: 3 vs 2, X/D: 3 vs 1, X/Z/D: 3 vs 2 vs 1,
 * X/Z/U*: 3 vs 2 vs 1 for sequences holding UID references).
 */
export const ACTIONS = ['D', 'Z', 'X', 'K', 'C', 'U', 'Z/D', 'X/Z', 'X/D', 'X/Z/D', 'X/Z/U*'] as const;
export type Action = (typeof ACTIONS)[number];

/** The actions a de-identifier actually performs once a compound code has been resolved. */
export type SimpleAction = 'D' | 'Z' | 'X' | 'K' | 'C' | 'U';

/** The option columns of Table E.1-1, in the order of the table. */
export const OPTION_NAMES = [
  'retainSafePrivate',
  'retainUIDs',
  'retainDeviceIdentity',
  'retainInstitutionIdentity',
  'retainPatientCharacteristics',
  'retainLongitudinalFullDates',
  'retainLongitudinalModifiedDates',
  'cleanDescriptors',
  'cleanStructuredContent',
  'cleanGraphics',
] as const;
export type OptionName = (typeof OPTION_NAMES)[number];

/** One row of Table E.1-1. */
export interface ProfileRow {
  /** "GGGGEEEE" in hex, X standing for any digit (50XXXXXX, 60XX3000, XXXXXXXX). */
  readonly tag: string;
  /** Set on the "(gggg,eeee) where gggg is odd" row: the pattern then only covers odd groups. */
  readonly oddGroup?: true;
  readonly name: string;
  /** Whether the attribute is used in a standard composite IOD ("In Std. Comp. IOD"). */
  readonly inStdCompIod: boolean;
  /** The Basic Profile action. */
  readonly basic: Action;
  /** The options that have an entry for this attribute. */
  readonly options: Readonly<Partial<Record<OptionName, Action>>>;
}
export type ProfileRule = ProfileRow;

/** A code of PS3.16 CID 7050 "De-identification Method", for De-identification Method Code Sequence. */
export interface DeidentificationMethodCode {
  readonly value: string;
  readonly scheme: 'DCM';
  readonly meaning: string;
}

export type DeidentificationMethod = 'basicProfile' | 'cleanPixelData' | 'cleanRecognizableVisualFeatures' | OptionName;

const dcm = (value: string, meaning: string): DeidentificationMethodCode => ({ value, scheme: 'DCM', meaning });

/** CID 7050 codes for the Basic Profile and each option, pixel options included. */
export const DEIDENTIFICATION_METHOD_CODES: Readonly<Record<DeidentificationMethod, DeidentificationMethodCode>> = {
  basicProfile: dcm('113100', 'Basic Application Confidentiality Profile'),
  cleanPixelData: dcm('113101', 'Clean Pixel Data Option'),
  cleanRecognizableVisualFeatures: dcm('113102', 'Clean Recognizable Visual Features Option'),
  cleanGraphics: dcm('113103', 'Clean Graphics Option'),
  cleanStructuredContent: dcm('113104', 'Clean Structured Content Option'),
  cleanDescriptors: dcm('113105', 'Clean Descriptors Option'),
  retainLongitudinalFullDates: dcm('113106', 'Retain Longitudinal Temporal Information Full Dates Option'),
  retainLongitudinalModifiedDates: dcm('113107', 'Retain Longitudinal Temporal Information Modified Dates Option'),
  retainPatientCharacteristics: dcm('113108', 'Retain Patient Characteristics Option'),
  retainDeviceIdentity: dcm('113109', 'Retain Device Identity Option'),
  retainUIDs: dcm('113110', 'Retain UIDs Option'),
  retainSafePrivate: dcm('113111', 'Retain Safe Private Option'),
  retainInstitutionIdentity: dcm('113112', 'Retain Institution Identity Option'),
};

interface MaskedRow {
  readonly mask: number;
  readonly value: number;
  readonly oddGroup: boolean;
  readonly row: ProfileRow;
}

let exactRows: Map<number, ProfileRow> | undefined;
let maskedRows: readonly MaskedRow[] = [];

function load(): Map<number, ProfileRow> {
  if (exactRows) return exactRows;
  const exact = new Map<number, ProfileRow>();
  const masked: (MaskedRow & { open: number })[] = [];
  for (const row of PROFILE_ROWS) {
    const value = parseInt(row.tag.replace(/X/g, '0'), 16) >>> 0;
    if (!row.tag.includes('X')) {
      exact.set(value, row);
      continue;
    }
    let mask = 0;
    for (const c of row.tag) mask = mask * 16 + (c === 'X' ? 0 : 0xf);
    const open = row.tag.split('X').length - 1;
    masked.push({ mask: mask >>> 0, value, oddGroup: row.oddGroup === true, row, open });
  }
  // Fewer open digits first, so that the most specific row wins.
  masked.sort((a, b) => a.open - b.open);
  maskedRows = masked;
  exactRows = exact;
  return exact;
}

/**
 * The Table E.1-1 row that applies to a tag: the row naming the tag exactly, else the most
 * specific masked row. Repeating-group rows (50XX, 60XX) only cover even groups, an odd group
 * being private; the private row covers every odd group, as the table words it ("gggg is odd").
 * Undefined when the table does not list the attribute.
 */
export function profileRuleFor(t: Tag): ProfileRule | undefined {
  const exact = load().get(t);
  if (exact) return exact;
  const odd = (groupOf(t) & 1) === 1;
  for (const { mask, value, oddGroup, row } of maskedRows) {
    if (oddGroup === odd && ((t & mask) >>> 0) === value) return row;
  }
  return undefined;
}

/**
 * Compound codes are chosen by the attribute's Type in the IOD, which is not tracked here, so
 * they resolve to the choice that is valid whatever the Type: D (a dummy value, valid even for
 * Type 1, e.g. Device Serial Number in the Enhanced General Equipment module) wherever the code
 * offers it (X/D, Z/D, X/Z/D); Z (empty, valid for Type 2 and 3) for X/Z; U (UIDs inside the
 * sequence replaced) for X/Z/U*. The engine refines this for sequences, where no dummy exists.
 */
const COMPOUND: Readonly<Record<Action, SimpleAction>> = {
  D: 'D', Z: 'Z', X: 'X', K: 'K', C: 'C', U: 'U',
  'Z/D': 'D', 'X/Z': 'Z', 'X/D': 'D', 'X/Z/D': 'D', 'X/Z/U*': 'U',
};

export interface ResolvedAction {
  readonly action: SimpleAction;
  /** Where the action came from: "basic:<code>" or "<optionName>:<code>", e.g. "basic:X/Z/D". */
  readonly rule: string;
}

/**
 * The action to perform for a row given the enabled options.
 *
 * PS3.15 E.1.1: "A requirement for an Option, when implemented, overrides any requirement for
 * the underlying Profile", so an enabled option with an entry in the row replaces the Basic
 * Profile action. The standard gives no order among options; when several enabled options have
 * entries, K (retain) wins over C (clean), following E.1.1's "Each Attribute specified to be
 * retained shall be retained", and C wins over any other option entry (Table E.1-1 has none in
 * 2024b). Among equal entries, the first option in table order is reported as the rule.
 */
export function resolveAction(rule: ProfileRule, enabledOptions: ReadonlySet<OptionName>): ResolvedAction {
  let clean: OptionName | undefined;
  let other: OptionName | undefined;
  for (const name of OPTION_NAMES) {
    if (!enabledOptions.has(name)) continue;
    const entry = rule.options[name];
    if (entry === undefined) continue;
    if (entry === 'K') return { action: 'K', rule: `${name}:K` };
    if (entry === 'C') clean ??= name;
    else other ??= name;
  }
  if (clean) return { action: 'C', rule: `${clean}:C` };
  if (other) {
    const code = rule.options[other]!;
    return { action: COMPOUND[code], rule: `${other}:${code}` };
  }
  return { action: COMPOUND[rule.basic], rule: `basic:${rule.basic}` };
}
