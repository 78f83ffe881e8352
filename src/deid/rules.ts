/**
 * The rules in force, as one decision per element: what the engine does to it, and so what
 * verification expects of the output and which original values must not survive. The engine,
 * `verify` and the search for original values all ask this one function, so they cannot drift
 * apart; each applies the answer with its own code.
 */
import { tag as makeTag, isPrivate, Tags, type Tag } from '../dicom/tag.js';
import { safePrivateRule, type PrivatePathStep } from './private-kb.js';
import { profileRuleFor, resolveAction, type OptionName, type SimpleAction } from './profile.js';
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
