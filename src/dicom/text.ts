/**
 * Reading text out of a dataset the way every reader of radanon's needs it: the character
 * sets in force for a dataset or item, a value decoded without its padding, the private
 * creator that owns a private element.
 */
import { decodeText, parseSpecificCharacterSet, type CharacterSets } from './charset.js';
import { asciiValue, type Dataset, type Element } from './dataset.js';
import { privateCreatorSlotOf, Tags, type Tag } from './tag.js';

/** Registered DICOM UIDs (SOP classes, transfer syntaxes, well-known instances) live under this root. */
export const STANDARD_UID_ROOT = '1.2.840.10008.';

/** The character sets of a dataset: its own Specific Character Set, or those of the enclosing one (PS3.5 6.1.2.5.5). */
export function characterSetsOf(ds: Dataset, inherited?: CharacterSets): CharacterSets {
  const el = ds.get(Tags.SpecificCharacterSet);
  if (!el) return inherited ?? parseSpecificCharacterSet(undefined);
  return parseSpecificCharacterSet(asciiValue(el));
}

/** A value element's text in the given character sets, without trailing padding. */
export function textValue(el: Element | undefined, sets: CharacterSets): string | undefined {
  if (!el || el.kind !== 'value') return undefined;
  return decodeText(el.bytes, sets, el.vr).replace(/[\0 ]+$/, '');
}

/** The creator string of the block a private data element belongs to, trimmed; undefined if none. */
export function privateCreatorOf(ds: Dataset, t: Tag, sets: CharacterSets): string | undefined {
  const slot = privateCreatorSlotOf(t);
  if (slot === undefined) return undefined;
  return textValue(ds.get(slot), sets)?.trim();
}
