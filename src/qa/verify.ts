/**
 * Verification of a de-identified folder, independent of the code that wrote it: every file
 * is parsed again and each element checked against the rules the file itself declares
 * (its De-identification Method Code Sequence); with the original folder, every identifying
 * value of the originals is searched for in the output's bytes and paths.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { asciiValue, type Dataset, type DicomFile, type Element } from '../dicom/dataset.js';
import { decodeText, parseSpecificCharacterSet, type CharacterSets } from '../dicom/charset.js';
import { keywordOf } from '../dicom/dictionary.js';
import { DicomParseError } from '../dicom/errors.js';
import { readDicom } from '../dicom/reader.js';
import { formatTag, isPrivate, isPrivateCreator, Tags, tag as makeTag } from '../dicom/tag.js';
import { characterSetsOf, privateCreatorOf, STANDARD_UID_ROOT, textValue } from '../dicom/text.js';
import { VR_TRAITS } from '../dicom/vr.js';
import { pathStep, type PrivatePathStep } from '../deid/private-kb.js';
import { decide, DEIDENTIFICATION_ATTRIBUTES, isGeneralizedValue, type RuleSettings } from '../deid/rules.js';
import { DEIDENTIFICATION_METHOD_CODES, OPTION_NAMES, type OptionName } from '../deid/profile.js';
import { EMPTY_RECIPE, findRecipeRule, SUPPRESSED_VALUE, type Recipe, type RecipeRule } from '../deid/recipe.js';
import { uidPseudonyms, type ProjectSecret } from '../deid/pseudonyms.js';
import { CLASS_UID_ATTRIBUTES } from '../deid/safe-attributes.js';
import { DICOMDIR_SOP_CLASS } from '../pipeline/process-file.js';
import { walkFiles } from '../pipeline/walk.js';

export type FindingKind =
  | 'unreadable'
  | 'identity-removed-missing'
  | 'method-missing'
  | 'element-not-allowed'
  | 'element-not-empty'
  | 'element-not-generalized'
  | 'uid-invalid'
  | 'uid-not-pseudonymized'
  | 'meta-mismatch'
  | 'original-value-in-file'
  | 'original-value-in-path'
  /** OCR read a word in the pixels (verify --pixels). */
  | 'text-in-pixels';

export interface Finding {
  /** Output file, relative to the verified folder. */
  readonly file: string;
  readonly kind: FindingKind;
  /** Element path where applicable. */
  readonly element?: string;
  /** What was found; never the value itself, only where it came from. */
  readonly detail: string;
}

export interface VerifyReport {
  readonly files: number;
  readonly checkedOriginals: number;
  /**
   * With originals: how outputs were paired with them (see ImagePairing) and how many outputs
   * found theirs, whose dates and name parts were then searched for.
   */
  readonly pairing?: { readonly by: ImagePairing['by']; readonly pairedOutputs: number };
  readonly identifyingValues: number;
  /** Removed values that equal a value the rules keep elsewhere (e.g. an institution named like a manufacturer): not searched. */
  readonly ambiguousValues: number;
  readonly findings: readonly Finding[];
  readonly byKind: Partial<Record<FindingKind, number>>;
  readonly ok: boolean;
}

export interface VerifyOptions {
  readonly outputDir: string;
  readonly originalDir?: string;
  /** Whether the run used the allow-list (the default); the file cannot say. */
  readonly allowList: boolean;
  /** Whether the run shifted the birth date (default: removed); the file cannot say. */
  readonly birthDate?: 'remove' | 'shift';
  /** The recipe in force, whose explicit rules are allowed to keep what the profile removes. */
  readonly recipe?: Recipe;
  /**
   * The project secret the run used: with `originalDir`, outputs are then paired with their
   * originals by instance UID, so files whose pixels were cleaned or defaced are paired too.
   */
  readonly secret?: ProjectSecret;
  /** Read the pixels of every output with OCR too; each word found is a finding (previews optional). */
  readonly pixels?: { readonly preview?: string };
  readonly onProgress?: (done: number) => void;
}

const UID_PATTERN = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/;
const CODE_VALUE = makeTag(0x0008, 0x0100);

export function validUid(uid: string): boolean {
  return uid.length > 0 && uid.length <= 64 && UID_PATTERN.test(uid);
}

/** The options a file declares through its De-identification Method Code Sequence. */
export function declaredOptions(ds: Dataset): Set<OptionName> | undefined {
  const seq = ds.get(Tags.DeidentificationMethodCodeSequence);
  if (!seq || seq.kind !== 'sequence') return undefined;
  const byCode = new Map<string, OptionName>();
  for (const name of OPTION_NAMES) byCode.set(DEIDENTIFICATION_METHOD_CODES[name].value, name);
  const out = new Set<OptionName>();
  for (const item of seq.items) {
    const code = asciiValue(item.get(CODE_VALUE));
    const name = code ? byCode.get(code) : undefined;
    if (name) out.add(name);
  }
  return out;
}

interface FileCheck {
  readonly file: string;
  readonly options: ReadonlySet<OptionName>;
  readonly settings: RuleSettings;
  readonly recipe: Recipe;
  readonly modality: string;
  readonly sopClassUid: string;
  readonly findings: Finding[];
  readonly sequencePath: PrivatePathStep[];
}


function checkDataset(ds: Dataset, prefix: string, sets: CharacterSets, c: FileCheck, top: boolean): void {
  sets = characterSetsOf(ds, sets);
  for (const el of ds.values()) {
    const path = prefix + formatTag(el.tag);
    checkElement(ds, el, path, sets, c, top);
  }
}

function checkElement(ds: Dataset, el: Element, path: string, sets: CharacterSets, c: FileCheck, top: boolean): void {
  const t = el.tag;
  const add = (kind: FindingKind, detail: string): void => {
    c.findings.push({ file: c.file, kind, element: path, detail });
  };
  const name = keywordOf(t) ?? (isPrivate(t) ? 'private element' : 'unknown element');
  const creator = isPrivate(t) ? privateCreatorOf(ds, t, sets) : undefined;
  const recipeRule = findRecipeRule(c.recipe, t, creator, { modality: c.modality, sopClassUid: c.sopClassUid });
  const descend = () => {
    if (el.kind !== 'sequence') return;
    c.sequencePath.push(pathStep(t, creator));
    el.items.forEach((item, i) => checkDataset(item, `${path}[${i}]`, sets, c, false));
    c.sequencePath.pop();
  };
  if (recipeRule) {
    if (recipeRule.action === 'keep') descend();
    if (recipeRule.action === 'generalize' && !looksGeneralized(el, recipeRule, sets)) {
      add('element-not-generalized', `${name}: must be empty or generalized as the recipe says (${recipeRule.source})`);
    }
    return;
  }
  checkUids(el, path, c);
  if (top && DEIDENTIFICATION_ATTRIBUTES.has(t)) return descend();
  if (isPrivateCreator(t)) return;

  const decision = decide(t, c.settings, { modality: c.modality, isSequence: el.kind === 'sequence', privateCreator: creator, sequencePath: c.sequencePath });
  if (decision.action === 'X') return add('element-not-allowed', `${name}: must be removed (${decision.rule})`);
  if (decision.action === 'Z' && !isEmpty(el)) return add('element-not-empty', `${name}: must be empty (${decision.rule})`);
  descend();
}

/** An element a `generalize` rule covers is compliant when empty or of the form the rule writes. */
function looksGeneralized(el: Element, rule: RecipeRule, sets: CharacterSets): boolean {
  if (isEmpty(el)) return true;
  if (el.kind !== 'value') return false;
  let text: string;
  try {
    text = (VR_TRAITS[el.vr].charsetAware ? textValue(el, sets) : asciiValue(el)) ?? '';
  } catch {
    return false;
  }
  return text.trim() === '' || isGeneralizedValue(text, rule.generalize!, el.vr);
}

function isEmpty(el: Element): boolean {
  if (el.kind === 'sequence') return el.items.length === 0;
  if (el.kind === 'encapsulated') return false;
  return el.bytes.every((b) => b === 0x20 || b === 0);
}


function checkUids(el: Element, path: string, c: FileCheck): void {
  if (el.kind !== 'value' || el.vr !== 'UI') return;
  const text = asciiValue(el) ?? '';
  if (text === '') return;
  for (const uid of text.split('\\')) {
    const u = uid.trim();
    if (!validUid(u)) {
      c.findings.push({ file: c.file, kind: 'uid-invalid', element: path, detail: `${keywordOf(el.tag) ?? 'UID'}: not a valid UID (${u.length} characters)` });
    } else if (!c.options.has('retainUIDs') && !CLASS_UID_ATTRIBUTES.has(el.tag) && !u.startsWith(STANDARD_UID_ROOT) && !u.startsWith('2.25.')) {
      c.findings.push({ file: c.file, kind: 'uid-not-pseudonymized', element: path, detail: `${keywordOf(el.tag) ?? 'UID'}: UID outside 2.25 and the DICOM root` });
    }
  }
}

/** Checks one parsed output file; the core of `verify`, usable on a dataset in memory. */
export function checkFile(file: DicomFile, name: string, options: { allowList: boolean; birthDate?: 'remove' | 'shift'; recipe?: Recipe }): Finding[] {
  const findings: Finding[] = [];
  const ds = file.dataset;
  if (asciiValue(ds.get(Tags.PatientIdentityRemoved)) !== 'YES') {
    findings.push({ file: name, kind: 'identity-removed-missing', detail: 'Patient Identity Removed is not YES' });
  }
  const declared = declaredOptions(ds);
  if (!declared) findings.push({ file: name, kind: 'method-missing', detail: 'no De-identification Method Code Sequence' });
  const sop = asciiValue(ds.get(Tags.SOPInstanceUID));
  if ((sop ?? '') !== (asciiValue(file.meta.get(Tags.MediaStorageSOPInstanceUID)) ?? '')) {
    findings.push({ file: name, kind: 'meta-mismatch', detail: 'Media Storage SOP Instance UID differs from SOP Instance UID' });
  }
  const declaredOrNone = declared ?? new Set<OptionName>();
  const c: FileCheck = {
    file: name,
    options: declaredOrNone,
    settings: { options: declaredOrNone, allowList: options.allowList, birthDate: options.birthDate ?? 'remove' },
    recipe: options.recipe ?? EMPTY_RECIPE,
    modality: asciiValue(ds.get(Tags.Modality)) ?? '',
    sopClassUid: asciiValue(ds.get(Tags.SOPClassUID)) ?? '',
    findings,
    sequencePath: [],
  };
  for (const el of file.meta.values()) checkUids(el, formatTag(el.tag), c);
  checkDataset(ds, '', parseSpecificCharacterSet(undefined), c, true);
  return findings;
}

/** Values too common or too short to be evidence of a leak when found elsewhere. */
function isWeakNeedle(v: string): boolean {
  if (v.length < 4) return true;
  if (!/[\p{L}\p{N}]/u.test(v)) return true; // "^^^^", "----"
  if (/^[+-]\d{4}$/.test(v)) return true; // a time zone offset is shared by millions
  if (/^\d+$/.test(v) && v.length < 6) return true; // short counters ("0001") occur in any header
  return false;
}

/** What the originals hold: values that must not survive, and values the rules publish anyway. */
export interface OriginalValues {
  /** value → the attribute it came from, for findings ("PatientName component"). */
  readonly identifying: Map<string, string>;
  /**
   * Values searched only in the output of the same image (found by `imageKey`): dates and parts
   * of names. A date or a given name alone identifies nobody and recurs across patients, so
   * searching them everywhere would only find coincidences.
   */
  readonly paired: Map<string, Map<string, string>>;
  /** Values and words of attributes kept verbatim; a removed value equal to one of these proves nothing. */
  readonly retained: Set<string>;
}

export function newOriginalValues(): OriginalValues {
  return { identifying: new Map(), paired: new Map(), retained: new Set(DUMMY_VALUES) };
}

/** Placeholder values the engine writes; an original value equal to one proves nothing. */
const DUMMY_VALUES = ['anonymized', 'anonymous'];

/**
 * How an output is told to be the de-identified copy of an original. Header de-identification
 * never changes pixel data, so a hash of it pairs them; cleaning pixels or defacing changes it,
 * and then only the SOP Instance UID pairs them: the output's is the keyed pseudonym of the
 * original's (which needs the project secret), or the same UID when the run retained UIDs.
 */
export type ImagePairing =
  | { readonly by: 'pixel-data' }
  | { readonly by: 'instance-uid'; /** original SOP Instance UID → the output's */ readonly uidOf: (original: string) => string };

const BY_PIXEL_DATA: ImagePairing = { by: 'pixel-data' };

/**
 * Identity of an image across de-identification under `pairing`: for an original (`side`
 * 'original') the key its output will have. Files without the needed element have none.
 */
export function imageKey(file: DicomFile, pairing: ImagePairing, side: 'original' | 'output'): string | undefined {
  if (pairing.by === 'instance-uid') {
    const uid = asciiValue(file.dataset.get(Tags.SOPInstanceUID));
    if (uid) return `uid:${side === 'original' ? pairing.uidOf(uid) : uid}`;
  }
  const px = file.dataset.get(Tags.PixelData) ?? file.dataset.get(Tags.FloatPixelData) ?? file.dataset.get(Tags.DoubleFloatPixelData);
  if (!px || px.kind === 'sequence' || px.bytes.length === 0) return undefined;
  return createHash('sha256').update(px.bytes).digest('hex');
}

type Fate = 'kept' | 'removed' | 'cleaned' | 'shifted' | 'generalized';

/** What happens to an element's original value under a decision (or a recipe rule). */
function fateOf(action: string, vr: string): Fate {
  switch (action) {
    case 'K':
    case 'keep':
      return 'kept';
    case 'C':
    case 'shift':
      return vr === 'DA' || vr === 'DT' ? 'shifted' : 'cleaned';
    case 'generalize':
      return 'generalized';
    default:
      return 'removed';
  }
}

/**
 * Collects, from one original file, every value the rules in force remove, empty or replace
 * (names and their parts, IDs, addresses, instance UIDs, whatever stood in a removed sequence,
 * and dates, which are shifted or removed), and every value they keep verbatim.
 */
export function collectOriginalValues(file: DicomFile, settings: RuleSettings, recipe: Recipe, into: OriginalValues, pairing: ImagePairing = BY_PIXEL_DATA): void {
  const key = imageKey(file, pairing, 'original');
  let paired = key ? into.paired.get(key) : undefined;
  if (key && !paired) into.paired.set(key, (paired = new Map()));
  const modality = asciiValue(file.dataset.get(Tags.Modality)) ?? '';
  const sopClassUid = asciiValue(file.dataset.get(Tags.SOPClassUID)) ?? '';
  const path: PrivatePathStep[] = [];

  const visit = (ds: Dataset, sets: CharacterSets, insideRemoved: boolean) => {
    sets = characterSetsOf(ds, sets);
    for (const el of ds.values()) {
      const t = el.tag;
      if (isPrivateCreator(t)) continue;
      const creator = isPrivate(t) ? privateCreatorOf(ds, t, sets) : undefined;
      const recipeRule = findRecipeRule(recipe, t, creator, { modality, sopClassUid });
      const decision = recipeRule ? undefined : decide(t, settings, { modality, isSequence: el.kind === 'sequence', privateCreator: creator, sequencePath: path });
      const action = recipeRule?.action ?? decision!.action;
      const vr = el.kind === 'value' ? el.vr : 'SQ';
      const fate: Fate = insideRemoved ? 'removed' : fateOf(action, vr);
      if (el.kind === 'sequence') {
        path.push(pathStep(t, creator));
        // Items of a removed or emptied sequence are gone whole; other sequences are judged item by item.
        for (const item of el.items) visit(item, sets, fate === 'removed' && (action === 'X' || action === 'Z' || action === 'remove' || action === 'empty'));
        path.pop();
        continue;
      }
      if (el.kind !== 'value' || !VR_TRAITS[el.vr].text) continue;
      let text: string;
      try {
        text = textValue(el, sets) ?? '';
      } catch {
        continue;
      }
      const values = text.split('\\').map((v) => v.trim()).filter((v) => v !== '');
      const source = keywordOf(t) ?? (isPrivate(t) ? 'private element' : formatTag(t));
      if (el.vr === 'UI') {
        // Instance UIDs are replaced wherever they stand, unless kept verbatim.
        const verbatim =
          fate === 'kept' &&
          (action === 'keep' || CLASS_UID_ATTRIBUTES.has(t) || settings.options.has('retainUIDs') || (decision?.action === 'K' && decision.uids === 'verbatim'));
        for (const v of values) {
          if (v.startsWith(STANDARD_UID_ROOT)) continue;
          if (verbatim) into.retained.add(v.toLowerCase());
          else if (!isWeakNeedle(v)) into.identifying.set(v, source);
        }
        continue;
      }
      if (fate === 'kept') {
        for (const v of values) {
          into.retained.add(v.toLowerCase());
          for (const w of v.split(/[^\p{L}\p{N}]+/u)) if (w) into.retained.add(w.toLowerCase());
        }
        continue;
      }
      if (fate === 'cleaned') continue; // what cleaning keeps is not identifying; what it removes is found in the other elements
      if (fate === 'generalized') {
        // A coarsened age or date is what the rule publishes, and may equal the original (a
        // study on the first of January); a mapped or masked value must not survive, unless
        // the map keeps it as it is, which publishes it.
        const g = recipeRule!.generalize!;
        if (g.kind === 'bins' || g.kind === 'date') continue;
        for (const v of values) {
          const published = g.kind === 'map' ? g.map.get(v) : undefined;
          if (published !== undefined && published !== SUPPRESSED_VALUE) into.retained.add(published.toLowerCase());
          if (published === v) continue;
          if (!isWeakNeedle(v)) into.identifying.set(v, source);
        }
        continue;
      }
      if (el.vr === 'DA' || el.vr === 'DT') {
        for (const v of values) if (paired && v.length >= 8) paired.set(v.slice(0, 8), source);
        continue;
      }
      if (fate === 'shifted' || el.vr === 'TM' || el.vr === 'CS' || el.vr === 'DS' || el.vr === 'IS' || el.vr === 'AS') continue;
      // Inside removed sequences and private blocks, most text is coded vocabulary or a copy of a
      // description that cleaning legitimately keeps elsewhere: only names and ID-like values
      // (letters or digits with at least one digit, 6+ characters) are evidence there.
      const looseContext = insideRemoved || isPrivate(t);
      for (const value of values) {
        if (looseContext && el.vr !== 'PN' && !/^(?=.*\d)[\p{L}\p{N}._/-]{6,}$/u.test(value)) continue;
        if (!isWeakNeedle(value)) into.identifying.set(value, source);
        if (el.vr === 'PN') {
          for (const part of value.split(/[\^=\s]+/)) {
            if (isWeakNeedle(part) || part === value) continue;
            (paired ?? into.identifying).set(part, `${source} component`);
          }
        }
      }
    }
  };
  visit(file.dataset, parseSpecificCharacterSet(undefined), false);
}

interface Needles {
  readonly matcher: RegExp | undefined;
  readonly sources: Map<string, string>;
  /** Long values, also searched in the raw bytes (pixel data, undecodable values). */
  readonly long: readonly { readonly bytes: Buffer; readonly source: string }[];
  /** Per image (its `imageKey`): dates (first 8 digits) and name parts of its original. */
  readonly paired: Map<string, Map<string, string>>;
  readonly count: number;
  readonly ambiguous: number;
}

/** One case-insensitive alternation, longest first, matching whole words only. */
function boundaryMatcher(values: readonly string[]): RegExp | undefined {
  if (values.length === 0) return undefined;
  const escaped = [...values].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`(?<![\\p{L}\\p{N}])(?:${escaped.join('|')})(?![\\p{L}\\p{N}])`, 'iu');
}

function buildNeedles(v: OriginalValues): Needles {
  const sources = new Map<string, string>();
  let ambiguous = 0;
  const retainedText = [...v.retained].join('\n');
  const isRetained = (value: string) => v.retained.has(value.toLowerCase()) || boundaryMatcher([value])!.test(retainedText);
  const retainedCache = new Map<string, boolean>();
  const retained = (value: string) => {
    let r = retainedCache.get(value);
    if (r === undefined) retainedCache.set(value, (r = isRetained(value)));
    return r;
  };
  for (const [value, source] of v.identifying) {
    if (retained(value)) ambiguous++;
    else sources.set(value.toLowerCase(), source);
  }
  const paired = new Map<string, Map<string, string>>();
  for (const [key, values] of v.paired) {
    const kept = new Map<string, string>();
    for (const [value, source] of values) {
      if (/^\d{8}$/.test(value) || !retained(value)) kept.set(value.toLowerCase(), source);
      else ambiguous++;
    }
    paired.set(key, kept);
  }
  const matcher = boundaryMatcher([...sources.keys()]);
  const long: { bytes: Buffer; source: string }[] = [];
  for (const [value, source] of v.identifying) {
    // Raw bytes (pixel data included) only for long values with letters: digits and short strings occur by chance.
    if (value.length < 8 || !/\p{L}/u.test(value) || retained(value)) continue;
    long.push({ bytes: Buffer.from(value, 'latin1'), source });
    if (Buffer.from(value, 'utf8').length !== value.length) long.push({ bytes: Buffer.from(value, 'utf8'), source });
  }
  return { matcher, sources, long, paired, count: sources.size + [...paired.values()].reduce((n, m) => n + m.size, 0), ambiguous };
}

/**
 * Every value element of an output with its text (decoded in its character sets; binary values
 * as Latin-1), at every depth, except the attributes radanon writes itself.
 */
function forEachValueText(ds: Dataset, visit: (path: string, el: Element & { kind: 'value' }, text: string) => void, prefix = '', inherited?: CharacterSets): void {
  const sets = characterSetsOf(ds, inherited);
  for (const el of ds.values()) {
    const path = prefix + formatTag(el.tag);
    if (prefix === '' && DEIDENTIFICATION_ATTRIBUTES.has(el.tag)) continue; // written by the tool itself
    if (el.kind === 'sequence') {
      el.items.forEach((item, i) => forEachValueText(item, visit, `${path}[${i}]`, sets));
      continue;
    }
    if (el.kind !== 'value') continue;
    let text: string;
    try {
      text = VR_TRAITS[el.vr].text ? decodeText(el.bytes, sets, el.vr) : Buffer.from(el.bytes).toString('latin1');
    } catch {
      text = Buffer.from(el.bytes).toString('latin1');
    }
    visit(path, el, text);
  }
}

/** Element-aware search: names the element where an original value survived. */
function searchValues(ds: Dataset, needles: Needles, file: string, out: Finding[]): void {
  forEachValueText(ds, (path, el, text) => {
    const m = needles.matcher?.exec(text);
    if (!m) return;
    const source = needles.sources.get(m[0].toLowerCase()) ?? 'attribute';
    out.push({ file, kind: 'original-value-in-file', element: path, detail: `${keywordOf(el.tag) ?? 'element'} holds a value of the originals' ${source}` });
  });
}

/** The paired original's dates and name parts must not occur in its output. */
function searchPaired(ds: Dataset, values: Map<string, string>, matcher: RegExp | undefined, file: string, out: Finding[]): void {
  forEachValueText(ds, (path, el, text) => {
    if (!VR_TRAITS[el.vr].text || el.vr === 'UI') return;
    const m = el.vr === 'DA' || el.vr === 'DT' ? /\d{8}/.exec(text) : matcher?.exec(text);
    const hit = m ? m[0].toLowerCase() : undefined;
    if (hit && values.has(hit)) {
      out.push({ file, kind: 'original-value-in-file', element: path, detail: `${keywordOf(el.tag) ?? 'element'} holds the original ${values.get(hit)} of this image` });
    }
  });
}

/**
 * Outputs are paired with originals by instance UID when that is possible (the run retained
 * UIDs, or the secret lets the pseudonyms be recomputed), since it survives pixel cleaning and
 * defacing; otherwise by pixel data.
 */
function imagePairing(inForce: ReadonlySet<OptionName>, secret: ProjectSecret | undefined): ImagePairing {
  if (inForce.has('retainUIDs')) return { by: 'instance-uid', uidOf: (uid) => uid };
  if (!secret) return BY_PIXEL_DATA;
  return { by: 'instance-uid', uidOf: uidPseudonyms(secret) };
}

export async function verifyFolder(options: VerifyOptions): Promise<VerifyReport> {
  let needles: Needles | undefined;
  let checkedOriginals = 0;
  let pairing = BY_PIXEL_DATA;
  let pairedOutputs = 0;
  if (options.originalDir) {
    const settings: RuleSettings = { options: await optionsInForce(options.outputDir), allowList: options.allowList, birthDate: options.birthDate ?? 'remove' };
    pairing = imagePairing(settings.options, options.secret);
    const values = newOriginalValues();
    for await (const rel of walkFiles(options.originalDir)) {
      try {
        collectOriginalValues(readDicom(await readFile(join(options.originalDir, rel))), settings, options.recipe ?? EMPTY_RECIPE, values, pairing);
        checkedOriginals++;
      } catch {
        // Unreadable originals were failures of the run, reported there.
      }
    }
    needles = buildNeedles(values);
  }

  const findings: Finding[] = [];
  let files = 0;
  for await (const rel of walkFiles(options.outputDir)) {
    files++;
    options.onProgress?.(files);
    const bytes = await readFile(join(options.outputDir, rel));
    let file: DicomFile;
    try {
      file = readDicom(bytes);
    } catch (e) {
      findings.push({ file: rel, kind: 'unreadable', detail: e instanceof DicomParseError ? e.message : (e as Error).message });
      continue;
    }
    if (asciiValue(file.meta.get(Tags.MediaStorageSOPClassUID)) === DICOMDIR_SOP_CLASS) continue;
    findings.push(...checkFile(file, rel, options));
    if (!needles) continue;
    const before = findings.length;
    searchValues(file.dataset, needles, rel, findings);
    const key = imageKey(file, pairing, 'output');
    const paired = key ? needles.paired.get(key) : undefined;
    if (paired) pairedOutputs++;
    if (paired && paired.size > 0) {
      const words = [...paired.keys()].filter((k) => !/^\d{8}$/.test(k));
      searchPaired(file.dataset, paired, boundaryMatcher(words), rel, findings);
    }
    if (findings.length === before) {
      for (const n of needles.long) {
        const at = bytes.indexOf(n.bytes);
        if (at >= 0) {
          findings.push({ file: rel, kind: 'original-value-in-file', detail: `a value of the originals' ${n.source} occurs at byte ${at}` });
          break;
        }
      }
    }
    const m = needles.matcher?.exec(rel);
    if (m) findings.push({ file: rel, kind: 'original-value-in-path', detail: `the path holds a value of the originals' ${needles.sources.get(m[0].toLowerCase()) ?? 'attribute'}` });
  }
  if (options.pixels) {
    // Only OCR: the header's regions and the device rules were cleaned already, so they name no text.
    // Loaded on use: the OCR engine and codecs are not needed by header verification.
    const { scanFolder } = await import('../pixels/scan.js');
    const scan = await scanFolder(options.outputDir, { ocrOnly: true, ...(options.pixels.preview ? { preview: options.pixels.preview } : {}) });
    for (const r of scan.results) {
      for (const w of r.findings) {
        const text = w.text ? ` "${w.text.masked}"` : '';
        findings.push({ file: r.file, kind: 'text-in-pixels', detail: `frame ${w.frame}: a word${text} at ${w.box.x},${w.box.y} (${w.box.width}×${w.box.height})` });
      }
    }
    for (const f of scan.failures) findings.push({ file: f.file, kind: 'unreadable', detail: `pixels: ${f.reason}` });
  }
  const byKind: Partial<Record<FindingKind, number>> = {};
  for (const f of findings) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  return {
    files,
    checkedOriginals,
    ...(options.originalDir ? { pairing: { by: pairing.by, pairedOutputs } } : {}),
    identifyingValues: needles?.count ?? 0,
    ambiguousValues: needles?.ambiguous ?? 0,
    findings,
    byKind,
    ok: findings.length === 0,
  };
}

/** The options the output declares (every file of a run declares the same). */
async function optionsInForce(outputDir: string): Promise<Set<OptionName>> {
  for await (const rel of walkFiles(outputDir)) {
    try {
      const f = readDicom(await readFile(join(outputDir, rel)), { untilTag: Tags.PixelData });
      const d = declaredOptions(f.dataset);
      if (d) return d;
    } catch {
      // try the next file
    }
  }
  return new Set();
}

export function summarizeVerify(r: VerifyReport): string {
  const lines = [`radanon verify: ${r.files} files, ${r.findings.length} findings${r.checkedOriginals ? `; ${r.identifyingValues} identifying values from ${r.checkedOriginals} originals searched (${r.ambiguousValues} also kept verbatim elsewhere, not searched)` : ''}`];
  if (r.pairing) lines.push(`  ${r.pairing.pairedOutputs} of ${r.files} outputs paired with their original by ${r.pairing.by === 'instance-uid' ? 'instance UID' : `pixel data${r.pairing.pairedOutputs < r.files ? ' (with the project secret, --secret-file, cleaned or defaced images are paired too)' : ''}`}`);
  for (const [k, v] of Object.entries(r.byKind)) lines.push(`  ${k}: ${v}`);
  for (const f of r.findings.slice(0, 20)) lines.push(`  ${f.file}${f.element ? ' ' + f.element : ''}: ${f.detail}`);
  if (r.findings.length > 20) lines.push(`  ... and ${r.findings.length - 20} more (use --json)`);
  lines.push(r.ok ? 'OK' : 'FAILED');
  return lines.join('\n') + '\n';
}
