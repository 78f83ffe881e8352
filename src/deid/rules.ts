/**
 * The rules in force, as one decision per element: what the engine does to it, and so what
 * verification expects of the output and which original values must not survive. The engine,
 * `verify` and the search for original values all ask this one function, so they cannot drift
 * apart; each applies the answer with its own code.
 */
import { tag as makeTag, isPrivate, Tags, type Tag } from '../dicom/tag.js';
import type { VR } from '../dicom/vr.js';
import { safePrivateRule, type PrivatePathStep } from './private-kb.js';
import { profileRuleFor, resolveAction, type OptionName, type SimpleAction } from './profile.js';
import { SUPPRESSED_VALUE, type DateGranularity, type Generalization } from './recipe.js';
import { isSafeAttribute } from './safe-attributes.js';

/** The settings that decide an element's fate. */
export interface RuleSettings {
  readonly options: ReadonlySet<OptionName>;
  readonly allowList: boolean;
  readonly birthDate: 'remove' | 'shift';
}

/** Where the element stands: what a private element or a sequence needs to be judged. */
export interface ElementContext {
  readonly modality: string;
  readonly isSequence: boolean;
  /** For private elements: the value of their private creator element, if any. */
  readonly privateCreator?: string;
  /** The enclosing sequences, for path-specific private rules. */
  readonly sequencePath?: readonly PrivatePathStep[];
}

export type Decision =
  /** Replaced by the research ID (Patient ID, Patient Name). */
  | { readonly action: 'research-id'; readonly rule: string }
  /**
   * Kept. `uids: 'verbatim'` when the profile or an option says K; 'pseudonymize' when kept as
   * known safe, so that instance UIDs in it are still replaced.
   */
  | { readonly action: 'K'; readonly rule: string; readonly uids: 'verbatim' | 'pseudonymize' }
  | { readonly action: Exclude<SimpleAction, 'K'>; readonly rule: string };

/** Attributes the engine writes itself at the top level. */
export const DEIDENTIFICATION_ATTRIBUTES: ReadonlySet<Tag> = new Set<Tag>([
  Tags.PatientIdentityRemoved,
  Tags.DeidentificationMethod,
  Tags.DeidentificationMethodCodeSequence,
  Tags.LongitudinalTemporalInformationModified,
]);

/**
 * Free-text attributes that Table E.1-1 (2024b) does not list but that people type names
 * into. The matching Clean option cleans them; otherwise they are removed, or, where their
 * IOD requires a value (Type 1), replaced by a dummy so the object stays valid.
 */
export const UNLISTED_TEXT: ReadonlyMap<Tag, { readonly option: OptionName; readonly required: boolean }> = new Map([
  [makeTag(0x0040, 0xa160), { option: 'cleanStructuredContent', required: true }], // Text Value (SR, Type 1C in TEXT items)
  [makeTag(0x0062, 0x0005), { option: 'cleanDescriptors', required: true }], // Segment Label (SEG, Type 1)
  [makeTag(0x0062, 0x0006), { option: 'cleanDescriptors', required: false }], // Segment Description
  [makeTag(0x0070, 0x0080), { option: 'cleanDescriptors', required: true }], // Content Label (Type 1)
  [makeTag(0x0070, 0x0081), { option: 'cleanDescriptors', required: false }], // Content Description
  [makeTag(0x0028, 0x3003), { option: 'cleanDescriptors', required: false }], // LUT Explanation
  [makeTag(0x0040, 0x9210), { option: 'cleanDescriptors', required: true }], // LUT Label (Real World Value Mapping, Type 1)
  [makeTag(0x0028, 0x1055), { option: 'cleanDescriptors', required: false }], // Window Center & Width Explanation
] as const);

/**
 * Sequences with compound codes that are Type 2 (in all IODs, or in those of the listed
 * modalities): emptied, not removed, so the object stays valid.
 */
const TYPE2_SEQUENCES: ReadonlyMap<Tag, readonly string[] | 'all'> = new Map<Tag, readonly string[] | 'all'>([
  [makeTag(0x0040, 0x0555), 'all'], // Acquisition Context Sequence
  [makeTag(0x0008, 0x1111), ['SR']], // Referenced Performed Procedure Step Sequence (SR Document Series)
]);

function isType2Sequence(t: Tag, modality: string): boolean {
  const where = TYPE2_SEQUENCES.get(t);
  return where === 'all' || (where !== undefined && where.includes(modality));
}

/**
 * The decision for one element (not a private creator element: those follow their block).
 * Order: research ID attributes; private elements (kept only under Retain Safe Private when
 * the knowledge base marks the signature safe); the birth-date setting; the PS3.15 table for
 * the enabled options; unlisted free text; the allow-list.
 */
export function decide(t: Tag, settings: RuleSettings, where: ElementContext): Decision {
  if (t === Tags.PatientID || t === Tags.PatientName) return { action: 'research-id', rule: 'research-id' };
  if (t === Tags.SpecificCharacterSet) return { action: 'K', rule: 'character-set', uids: 'verbatim' };
  if (isPrivate(t)) return decidePrivate(t, settings, where);
  if (TYPE2_SEQUENCES.has(t)) return decideStandard(t, settings, where);
  // A standard attribute's decision depends only on the settings and whether it is a sequence:
  // remembered per settings object, since every file of a run asks about the same few hundred tags.
  let memo = decisions.get(settings);
  if (!memo) decisions.set(settings, (memo = new Map()));
  const key = t * 2 + (where.isSequence ? 1 : 0);
  let d = memo.get(key);
  if (!d) memo.set(key, (d = decideStandard(t, settings, where)));
  return d;
}

const decisions = new WeakMap<RuleSettings, Map<number, Decision>>();

function decideStandard(t: Tag, settings: RuleSettings, where: ElementContext): Decision {
  if (t === Tags.PatientBirthDate && settings.birthDate === 'shift') return { action: 'C', rule: 'birth-date:shift' };

  const row = profileRuleFor(t);
  if (row) {
    let { action, rule } = resolveAction(row, settings.options);
    // A compound code offering X, on a sequence: nothing can stand in for the items (no dummy
    // sequence exists), and an empty Type 3 sequence is itself flagged by validators.
    if (where.isSequence && /\bX\//.test(rule) && (action === 'Z' || action === 'D')) {
      action = isType2Sequence(t, where.modality) ? 'Z' : 'X';
    }
    return action === 'K' ? { action, rule, uids: 'verbatim' } : { action, rule };
  }
  const unlisted = UNLISTED_TEXT.get(t);
  if (unlisted) {
    if (settings.options.has(unlisted.option)) return { action: 'C', rule: `${unlisted.option}:C` };
    return unlisted.required ? { action: 'D', rule: 'unlisted-text:D' } : { action: 'X', rule: 'unlisted-text:X' };
  }
  if (!settings.allowList) return { action: 'K', rule: 'not-in-profile', uids: 'pseudonymize' };
  if (isSafeAttribute(t)) return { action: 'K', rule: 'safe-list', uids: 'pseudonymize' };
  return { action: 'X', rule: 'allow-list' };
}

function decidePrivate(t: Tag, settings: RuleSettings, where: ElementContext): Decision {
  if (!settings.options.has('retainSafePrivate')) return { action: 'X', rule: 'private' };
  const creator = where.privateCreator;
  if (creator === undefined || creator === '') return { action: 'X', rule: 'private:no-creator' };
  const kb = safePrivateRule(t >>> 16, creator, t & 0xff, where.sequencePath ?? []);
  if (!kb) return { action: 'X', rule: 'private:unknown' };
  if (kb.disposition !== 'k') return { action: 'X', rule: 'private:kb-not-safe' };
  return { action: 'K', rule: 'private:kb-safe', uids: 'verbatim' };
}

// ---------------------------------------------------------------------------------------
// Generalization (recipe action "generalize"): what the engine writes and what verify accepts.

/**
 * An age string (AS, PS3.5 Table 6.2-1: `nnnD`, `nnnW`, `nnnM` or `nnnY`) in whole years, or
 * undefined when the value is not one. Days, weeks and months count the whole years they make
 * (`006M` → 0, `030M` → 2, `010D` → 0; a year of 365.25 days), so an age falls in the same bin
 * whatever unit it is written in.
 */
export function ageInYears(as: string): number | undefined {
  const m = /^(\d{3})([DWMY])$/.exec(as.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  switch (m[2]) {
    case 'Y': return n;
    case 'M': return Math.floor(n / 12);
    case 'W': return Math.floor((n * 7) / 365.25);
    default: return Math.floor(n / 365.25);
  }
}

/** What generalizing a value gives: a coarser value, or nothing (the element is emptied) and why. */
export type GeneralizedValue =
  | { readonly kind: 'value'; readonly text: string }
  | { readonly kind: 'empty'; readonly why: 'suppressed' | 'not-in-map' | 'unparseable' };

const EMPTY_SUPPRESSED: GeneralizedValue = { kind: 'empty', why: 'suppressed' };
const EMPTY_NOT_IN_MAP: GeneralizedValue = { kind: 'empty', why: 'not-in-map' };
const EMPTY_UNPARSEABLE: GeneralizedValue = { kind: 'empty', why: 'unparseable' };

/**
 * Generalizes a non-empty value of an element with VR `vr` (its text, padding removed). Dates are
 * taken as they come: the engine shifts them first. Ages and dates are generalized value by
 * value; a map and a mask act on the whole text, as a table of the headers holds it.
 */
export function generalizeValue(text: string, g: Generalization, vr: VR): GeneralizedValue {
  switch (g.kind) {
    case 'bins': {
      const parts = text.split('\\').map((v) => {
        const years = ageInYears(v);
        return years === undefined ? undefined : `${String(Math.floor(years / g.years) * g.years).padStart(3, '0')}Y`;
      });
      return parts.includes(undefined) ? EMPTY_UNPARSEABLE : { kind: 'value', text: parts.join('\\') };
    }
    case 'date': {
      const parts = text.split('\\').map((v) => truncateDateValue(v, g.to, vr));
      return parts.includes(undefined) ? EMPTY_UNPARSEABLE : { kind: 'value', text: parts.join('\\') };
    }
    case 'map': {
      const to = g.map.get(text.trim());
      if (to === undefined) return EMPTY_NOT_IN_MAP;
      return to === SUPPRESSED_VALUE ? EMPTY_SUPPRESSED : { kind: 'value', text: to };
    }
    case 'mask': {
      const chars = [...text.trim()];
      const keep = Math.max(0, chars.length - g.characters);
      return { kind: 'value', text: chars.slice(0, keep).join('') + '*'.repeat(chars.length - keep) };
    }
  }
}

/**
 * A DA value (`YYYYMMDD`, a range `a-b` of them, or the ACR-NEMA `YYYY.MM.DD`) as the first day of
 * its month, year or decade, staying a valid DA; a DT value cut to the precision PS3.5 lets DT
 * have (`YYYYMM`, `YYYY`; a decade as its first year), time and offset dropped.
 */
function truncateDateValue(value: string, to: DateGranularity, vr: VR): string | undefined {
  const v = value.trim();
  if (v === '') return v;
  if (vr === 'DA' && v.includes('-')) {
    const ends = v.split('-').map((p) => (p.trim() === '' ? '' : truncateDateValue(p, to, vr)));
    return ends.includes(undefined) ? undefined : ends.join('-');
  }
  const m = vr === 'DA' ? /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(v) : /^(\d{4})(\d{2})?/.exec(v);
  if (!m) return undefined;
  const year = m[1]!;
  const month = m[2];
  if (month !== undefined && (+month < 1 || +month > 12)) return undefined;
  const decade = `${year.slice(0, 3)}0`;
  if (vr === 'DA') {
    if (to === 'month') return `${year}${month}01`;
    return to === 'year' ? `${year}0101` : `${decade}0101`;
  }
  if (to === 'month') return month === undefined ? year : `${year}${month}`;
  return to === 'year' ? year : decade;
}

/**
 * Whether a value (non-empty, padding removed) of an element a `generalize` rule covers has the
 * form that rule writes: what `verify` accepts for such an element besides an empty value.
 */
export function isGeneralizedValue(text: string, g: Generalization, vr: VR): boolean {
  switch (g.kind) {
    case 'bins':
      return text.split('\\').every((v) => {
        const m = /^(\d{3})Y$/.exec(v.trim());
        return m !== null && Number(m[1]) % g.years === 0;
      });
    case 'date': {
      const forms: Record<DateGranularity, RegExp> = vr === 'DA'
        ? { month: /^\d{6}01$/, year: /^\d{4}0101$/, decade: /^\d{3}00101$/ }
        : { month: /^\d{4}(\d{2})?$/, year: /^\d{4}$/, decade: /^\d{3}0$/ };
      return text.split('\\').every((v) => v.trim().split('-').every((p) => p.trim() === '' || forms[g.to].test(p.trim())));
    }
    case 'map': {
      const t = text.trim();
      for (const to of g.map.values()) if (to === t && to !== SUPPRESSED_VALUE) return true;
      return false;
    }
    case 'mask': {
      const chars = [...text.trim()];
      return chars.slice(Math.max(0, chars.length - g.characters)).every((c) => c === '*');
    }
  }
}
