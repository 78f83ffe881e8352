/**
 * The header de-identification engine: a pure function from a parsed file, a plan and a
 * pseudonymizer to a new file and the list of actions taken. It reads and writes nothing.
 *
 * Order of precedence for each element, at every depth:
 *   1. a recipe rule (the site's explicit decision, a generalization included);
 *   2. the identity attributes that become the research ID (Patient ID, Patient Name);
 *   3. private elements: kept only under Retain Safe Private when the private tag knowledge
 *      base marks the signature safe; everything else private is removed;
 *   4. the PS3.15 table E.1-1 rule, resolved for the enabled options;
 *   5. the allow-list: a standard attribute not in the table is kept only if known safe.
 */
import { asciiValue, encodeAscii, type Dataset, type DicomFile, type Element, type ValueElement } from '../dicom/dataset.js';
import { encodeText, UnrepresentableCharacterError, type CharacterSets } from '../dicom/charset.js';
import { characterSetsOf, privateCreatorOf, STANDARD_UID_ROOT, textValue } from '../dicom/text.js';
import { keywordOf } from '../dicom/dictionary.js';
import { FILE_META_VERSION } from '../dicom/writer.js';
import { formatTag, isPrivate, isPrivateCreator, privateCreatorSlotOf, tag as makeTag, Tags, type Tag } from '../dicom/tag.js';
import { VR_TRAITS, type VR } from '../dicom/vr.js';
import { cleanText, IdentifierSet } from './clean-text.js';
import { NotADateError, shiftMultiValue } from './dates.js';
import { pathStep, type PrivatePathStep } from './private-kb.js';
import { decide, DEIDENTIFICATION_ATTRIBUTES, generalizeValue } from './rules.js';
import { DEIDENTIFICATION_METHOD_CODES, profileRuleFor, resolveAction, type DeidentificationMethod, type OptionName } from './profile.js';
import { findRecipeRule, MAPPABLE_VRS, MASKABLE_VRS, type Recipe, type RecipeContext, type RecipeRule } from './recipe.js';
import { CLASS_UID_ATTRIBUTES } from './safe-attributes.js';
import type { Pseudonymizer } from './pseudonyms.js';

export type ActionKind = 'removed' | 'emptied' | 'dummy' | 'pseudonymized' | 'shifted' | 'cleaned' | 'replaced' | 'generalized' | 'kept';

/** One change made to the dataset. Never holds a value, original or new. */
export interface DeidAction {
  /** Element path, e.g. "(0008,1140)[0](0008,1155)". */
  readonly path: string;
  readonly keyword: string;
  readonly action: ActionKind;
  /** Which rule asked for it, e.g. "basic:X", "retainDeviceIdentity:K", "allow-list", "recipe.yaml:4". */
  readonly rule: string;
}

export interface DeidPlan {
  readonly options: ReadonlySet<OptionName>;
  /** Remove standard attributes that are neither in the profile table nor known safe. */
  readonly allowList: boolean;
  /** Patient's Birth Date: removed (the profile's rule) or shifted with the patient's offset. */
  readonly birthDate: 'remove' | 'shift';
  readonly recipe: Recipe;
  /** Text for De-identification Method (0012,0063), e.g. "radanon 0.1.0". */
  readonly methodName: string;
  /** Implementation Class UID and Version Name written in the file meta. */
  readonly implementation: { readonly classUid: string; readonly versionName: string };
  /**
   * Pixel options applied to these files' pixel data before or after the header engine (burned-in
   * text cleaned, face removed), declared in De-identification Method and its code sequence.
   */
  readonly pixelMethods?: ReadonlySet<PixelMethod>;
}

/** The profile's options that act on pixel data rather than on attributes. */
export type PixelMethod = 'cleanPixelData' | 'cleanRecognizableVisualFeatures';

export interface DeidResult {
  readonly meta: Dataset;
  readonly dataset: Dataset;
  readonly actions: readonly DeidAction[];
  /** Pseudonymous identifiers of the output, used for its path. */
  readonly ids: { readonly researchId: string; readonly studyUid: string; readonly seriesUid: string; readonly sopInstanceUid: string };
}

const OTHER_PATIENT_IDS = makeTag(0x0010, 0x1000);

const OVERLAY_DATA_ELEMENT = 0x3000;
const ISSUER_OF_PATIENT_ID = makeTag(0x0010, 0x0021);

/** Attributes whose values identify the patient or the encounter, gathered for text cleaning. */
function isIdentifyingSource(vr: VR, action: string): boolean {
  if (!VR_TRAITS[vr].text || vr === 'UI' || vr === 'CS' || vr === 'DS' || vr === 'IS' || vr === 'TM') return false;
  return action !== 'K' && action !== 'C';
}

interface Context {
  readonly plan: DeidPlan;
  readonly pseudo: Pseudonymizer;
  readonly recipeCtx: RecipeContext;
  readonly researchId: string;
  readonly dateOffset: number;
  readonly identifiers: IdentifierSet;
  readonly actions: DeidAction[];
  /** Enclosing sequences of the element being transformed, for path-specific private rules. */
  readonly sequencePath: PrivatePathStep[];
}

/** De-identifies one file. Pure: the input is not modified. */
export function deidentify(file: DicomFile, plan: DeidPlan, pseudo: Pseudonymizer): DeidResult {
  const ds = file.dataset;
  const rootSets = characterSetsOf(ds);
  const patientId = textValue(ds.get(Tags.PatientID), rootSets) ?? '';
  // Without a Patient ID the name and birth date still tie files of one person together.
  const linkKey = patientId.trim() !== ''
    ? patientId.trim()
    : `name:${textValue(ds.get(Tags.PatientName), rootSets) ?? ''}|birth:${asciiValue(ds.get(Tags.PatientBirthDate)) ?? ''}`;

  const identifiers = new IdentifierSet();
  collectIdentifiers(ds, rootSets, plan, identifiers);

  const ctx: Context = {
    plan,
    pseudo,
    recipeCtx: { modality: asciiValue(ds.get(Tags.Modality)) ?? '', sopClassUid: asciiValue(ds.get(Tags.SOPClassUID)) ?? '' },
    researchId: pseudo.researchId(linkKey),
    dateOffset: pseudo.dateOffsetDays(linkKey),
    identifiers,
    actions: [],
    sequencePath: [],
  };

  const out = transformDataset(ds, '', rootSets, ctx, true);
  addDeidentificationAttributes(out, ctx);

  const sopInstanceUid = asciiValue(out.get(Tags.SOPInstanceUID)) ?? '';
  const meta = buildMeta(file, out, plan);
  return {
    meta,
    dataset: out,
    actions: ctx.actions,
    ids: {
      researchId: ctx.researchId,
      studyUid: asciiValue(out.get(Tags.StudyInstanceUID)) ?? '',
      seriesUid: asciiValue(out.get(Tags.SeriesInstanceUID)) ?? '',
      sopInstanceUid,
    },
  };
}



function encodeValue(text: string, vr: VR, sets: CharacterSets): Uint8Array {
  const traits = VR_TRAITS[vr];
  if (traits.charsetAware) {
    const bytes = encodeTextLenient(text, sets, vr);
    if ((bytes.length & 1) === 0) return bytes;
    const padded = new Uint8Array(bytes.length + 1);
    padded.set(bytes);
    padded[bytes.length] = traits.pad;
    return padded;
  }
  return encodeAscii(text, traits.pad);
}

/**
 * Files without Specific Character Set often hold Latin-1 anyway (decoded as such); text
 * cleaned out of such a value is written back the way it was read rather than failing the file.
 */
function encodeTextLenient(text: string, sets: CharacterSets, vr: VR): Uint8Array {
  try {
    return encodeText(text, sets, vr);
  } catch (e) {
    if (!(e instanceof UnrepresentableCharacterError) || sets.kind !== 'default' || /[^\u0000-\u00ff]/.test(text)) throw e;
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  }
}


function collectIdentifiers(ds: Dataset, inherited: CharacterSets, plan: DeidPlan, into: IdentifierSet): void {
  const sets = characterSetsOf(ds, inherited);
  for (const el of ds.values()) {
    if (el.kind === 'sequence') {
      for (const item of el.items) collectIdentifiers(item, sets, plan, into);
      continue;
    }
    if (el.kind !== 'value' || isPrivate(el.tag)) continue;
    const rule = profileRuleFor(el.tag);
    if (!rule) continue;
    const { action } = resolveAction(rule, plan.options);
    if (!isIdentifyingSource(el.vr, action)) continue;
    const v = el.vr === 'DA' || el.vr === 'DT' ? undefined : textValue(el, sets);
    if (v) for (const part of v.split('\\')) into.add(part);
  }
}

function record(ctx: Context, path: string, t: Tag, action: ActionKind, rule: string): void {
  ctx.actions.push({ path, keyword: keywordOf(t) ?? (isPrivate(t) ? 'private' : 'unknown'), action, rule });
}

function transformDataset(ds: Dataset, prefix: string, inherited: CharacterSets, ctx: Context, top: boolean): Map<Tag, Element> {
  const sets = characterSetsOf(ds, inherited);
  const out = new Map<Tag, Element>();
  const keptPrivateSlots = new Set<Tag>();
  for (const el of ds.values()) {
    if (isPrivateCreator(el.tag)) continue; // decided below, once we know whether its block survives
    const path = `${prefix}${formatTag(el.tag)}`;
    const result = transformElement(ds, el, path, sets, ctx, top);
    if (result) {
      out.set(result.tag, result);
      const slot = privateCreatorSlotOf(result.tag);
      if (slot !== undefined) keptPrivateSlots.add(slot);
    }
  }
  for (const el of ds.values()) {
    if (!isPrivateCreator(el.tag)) continue;
    if (keptPrivateSlots.has(el.tag)) out.set(el.tag, el);
    else record(ctx, `${prefix}${formatTag(el.tag)}`, el.tag, 'removed', 'private:creator-unused');
  }
  dropOrphanOverlays(ds, out, prefix, ctx);
  return out;
}

/** An overlay plane whose bitmap was removed leaves only a description of nothing: drop the group. */
function dropOrphanOverlays(input: Dataset, out: Map<Tag, Element>, prefix: string, ctx: Context): void {
  for (let group = 0x6000; group <= 0x601e; group += 2) {
    const data = makeTag(group, OVERLAY_DATA_ELEMENT);
    if (!input.has(data) || out.has(data)) continue;
    for (const t of [...out.keys()]) {
      if (t >>> 16 !== group) continue;
      out.delete(t);
      record(ctx, `${prefix}${formatTag(t)}`, t, 'removed', 'overlay:data-removed');
    }
  }
}

function transformItems(el: Element & { kind: 'sequence' }, path: string, sets: CharacterSets, ctx: Context, privateCreator?: string): Element {
  ctx.sequencePath.push(pathStep(el.tag, privateCreator));
  try {
    return {
      kind: 'sequence',
      tag: el.tag,
      vr: el.vr,
      items: el.items.map((item, i) => transformDataset(item, `${path}[${i}]`, sets, ctx, false)),
    };
  } finally {
    ctx.sequencePath.pop();
  }
}

function transformElement(ds: Dataset, el: Element, path: string, sets: CharacterSets, ctx: Context, top: boolean): Element | undefined {
  const t = el.tag;
  const privateCreator = isPrivate(t) ? privateCreatorOf(ds, t, sets) : undefined;

  const recipeRule = findRecipeRule(ctx.plan.recipe, t, privateCreator, ctx.recipeCtx);
  if (recipeRule) return applyRecipe(el, recipeRule, path, sets, ctx, privateCreator);
  if (top && DEIDENTIFICATION_ATTRIBUTES.has(t)) return undefined; // rewritten from scratch afterwards

  const decision = decide(t, ctx.plan, {
    modality: ctx.recipeCtx.modality,
    isSequence: el.kind === 'sequence',
    privateCreator,
    sequencePath: ctx.sequencePath,
  });
  switch (decision.action) {
    case 'research-id':
      record(ctx, path, t, 'pseudonymized', decision.rule);
      return replaceText(el, ctx.researchId, sets);
    case 'K':
      if (decision.uids === 'pseudonymize') return keepElement(el, path, sets, ctx, decision.rule);
      if (el.kind === 'sequence') return transformItems(el, path, sets, ctx, privateCreator);
      return el;
    default:
      return applyStandardAction(el, decision.action, decision.rule, path, sets, ctx);
  }
}

/** K for a kept element: sequences are descended into, instance UIDs still pseudonymized. */
function keepElement(el: Element, path: string, sets: CharacterSets, ctx: Context, rule: string): Element {
  if (el.kind === 'sequence') return transformItems(el, path, sets, ctx);
  if (el.kind === 'value' && el.vr === 'UI' && !CLASS_UID_ATTRIBUTES.has(el.tag) && !ctx.plan.options.has('retainUIDs')) {
    return pseudonymizeUids(el, path, ctx, rule, true);
  }
  return el;
}

function applyStandardAction(el: Element, action: string, rule: string, path: string, sets: CharacterSets, ctx: Context): Element | undefined {
  const t = el.tag;
  switch (action) {
    case 'X':
      record(ctx, path, t, 'removed', rule);
      return undefined;
    case 'Z':
      record(ctx, path, t, 'emptied', rule);
      return emptied(el);
    case 'U':
      if (el.kind !== 'value') return keepElement(el, path, sets, ctx, rule);
      return pseudonymizeUids(el, path, ctx, rule, false);
    case 'D':
      return dummy(el, rule, path, sets, ctx);
    case 'C':
      return clean(el, rule, path, sets, ctx);
    default:
      throw new Error(`unknown profile action ${action} for ${formatTag(t)}`);
  }
}

function emptied(el: Element): Element {
  if (el.kind === 'sequence') return { kind: 'sequence', tag: el.tag, vr: el.vr, items: [] };
  return { kind: 'value', tag: el.tag, vr: el.kind === 'value' ? el.vr : 'OB', bytes: new Uint8Array(0) };
}

function replaceText(el: Element, text: string, sets: CharacterSets): Element {
  const vr: VR = el.kind === 'value' ? el.vr : 'LO';
  return { kind: 'value', tag: el.tag, vr, bytes: encodeValue(text, vr, sets) };
}

const DUMMY: Partial<Record<VR, string>> = {
  PN: 'ANONYMOUS', LO: 'ANONYMIZED', SH: 'ANONYMIZED', LT: 'ANONYMIZED', ST: 'ANONYMIZED', UT: 'ANONYMIZED',
  UC: 'ANONYMIZED', CS: 'ANONYMIZED', AE: 'ANONYMIZED', DA: '19000101', TM: '000000.00', DT: '19000101000000',
  AS: '000Y', IS: '0', DS: '0', UR: '',
};

function dummy(el: Element, rule: string, path: string, sets: CharacterSets, ctx: Context): Element | undefined {
  if (el.kind === 'sequence') {
    // A sequence's dummy is its own items with every identifying leaf replaced by the rules:
    // the structure (e.g. an SR content tree, Type 1C) stays valid, the identities go.
    record(ctx, path, el.tag, 'dummy', rule);
    return transformItems(el, path, sets, ctx);
  }
  if (el.kind !== 'value') {
    record(ctx, path, el.tag, 'emptied', rule);
    return emptied(el);
  }
  if (el.vr === 'UI') return pseudonymizeUids(el, path, ctx, rule, false);
  // With longitudinal dates retained, a dummy date would break the intervals the option keeps.
  if ((el.vr === 'DA' || el.vr === 'DT') && shiftsDates(ctx.plan)) return shiftDates(el, rule, path, ctx);
  const text = DUMMY[el.vr];
  record(ctx, path, el.tag, 'dummy', rule);
  if (text === undefined) return { kind: 'value', tag: el.tag, vr: el.vr, bytes: new Uint8Array(el.bytes.length) };
  return replaceText(el, text, sets);
}

function shiftsDates(plan: DeidPlan): boolean {
  return plan.options.has('retainLongitudinalModifiedDates');
}

function clean(el: Element, rule: string, path: string, sets: CharacterSets, ctx: Context): Element | undefined {
  if (el.kind === 'sequence') return transformItems(el, path, sets, ctx);
  if (el.kind === 'encapsulated') {
    record(ctx, path, el.tag, 'removed', rule);
    return undefined;
  }
  switch (el.vr) {
    case 'DA':
    case 'DT':
      return shiftDates(el, rule, path, ctx);
    case 'TM':
      return el; // dates are shifted by whole days, so times of day stay true
    case 'UI':
      return pseudonymizeUids(el, path, ctx, rule, false);
    case 'OB':
    case 'OW':
    case 'UN':
      // Bitmaps (overlay planes) and opaque bytes cannot be cleaned of burned-in text here.
      record(ctx, path, el.tag, 'removed', `${rule}:not-cleanable`);
      return undefined;
    default:
      if (!VR_TRAITS[el.vr].text || el.vr === 'CS' || el.vr === 'DS' || el.vr === 'IS' || el.vr === 'AS') return el;
      return cleanTextElement(el, rule, path, sets, ctx);
  }
}

function cleanTextElement(el: ValueElement, rule: string, path: string, sets: CharacterSets, ctx: Context): Element {
  const text = textValue(el, sets) ?? '';
  const { text: cleaned, removed } = cleanText(text, ctx.identifiers);
  if (removed === 0) return el;
  record(ctx, path, el.tag, 'cleaned', rule);
  // Nothing left (a label that was only an ID): a dummy keeps a required value present.
  return replaceText(el, cleaned === '' ? (DUMMY[el.vr] ?? '') : cleaned, sets);
}

function shiftDates(el: ValueElement, rule: string, path: string, ctx: Context): Element | undefined {
  const text = asciiValue(el) ?? '';
  if (text === '') return el;
  try {
    const shifted = shiftMultiValue(text, ctx.dateOffset, el.vr as 'DA' | 'DT');
    record(ctx, path, el.tag, 'shifted', rule);
    return { kind: 'value', tag: el.tag, vr: el.vr, bytes: encodeAscii(shifted, VR_TRAITS[el.vr].pad) };
  } catch (e) {
    if (!(e instanceof NotADateError)) throw e;
    // A malformed date cannot be shifted; keeping it would leak the original.
    record(ctx, path, el.tag, 'removed', `${rule}:unparseable-date`);
    return undefined;
  }
}

function pseudonymizeUids(el: ValueElement, path: string, ctx: Context, rule: string, onlyNonStandard: boolean): Element {
  const text = asciiValue(el) ?? '';
  if (text === '') return el;
  let changed = false;
  const mapped = text.split('\\').map((uid) => {
    const u = uid.trim();
    if (u === '' || u.startsWith(STANDARD_UID_ROOT)) return u;
    changed = true;
    return ctx.pseudo.uid(u);
  });
  if (!changed) return el;
  record(ctx, path, el.tag, 'pseudonymized', onlyNonStandard ? `${rule}:uid` : rule);
  return { kind: 'value', tag: el.tag, vr: 'UI', bytes: encodeAscii(mapped.join('\\'), 0x00) };
}

function applyRecipe(el: Element, r: RecipeRule, path: string, sets: CharacterSets, ctx: Context, privateCreator: string | undefined): Element | undefined {
  const rule = `recipe:${r.source}`;
  switch (r.action) {
    case 'keep':
      record(ctx, path, el.tag, 'kept', rule);
      return el.kind === 'sequence' ? transformItems(el, path, sets, ctx, privateCreator) : el;
    case 'remove':
      record(ctx, path, el.tag, 'removed', rule);
      return undefined;
    case 'empty':
      record(ctx, path, el.tag, 'emptied', rule);
      return emptied(el);
    case 'replace':
      record(ctx, path, el.tag, 'replaced', rule);
      return replaceText(el, r.value ?? '', sets);
    case 'pseudonymize':
      if (el.kind === 'value' && el.vr === 'UI') return pseudonymizeUids(el, path, ctx, rule, false);
      if (el.kind !== 'value') return emptied(el);
      record(ctx, path, el.tag, 'pseudonymized', rule);
      return replaceText(el, ctx.pseudo.token(formatTag(el.tag), textValue(el, sets) ?? '', el.vr === 'SH' || el.vr === 'CS' ? 16 : 24), sets);
    case 'shift':
      if (el.kind === 'value' && (el.vr === 'DA' || el.vr === 'DT')) return shiftDates(el, rule, path, ctx);
      record(ctx, path, el.tag, 'removed', `${rule}:not-a-date`);
      return undefined;
    case 'generalize':
      return generalize(el, r, rule, path, sets, ctx);
  }
}

/**
 * A recipe's generalization. The recipe was checked against the dictionary's VR; an element
 * written with another VR (or as a sequence) cannot be generalized, and keeping it would leak
 * the value, so it is removed. Dates are shifted first, with the patient's offset as everywhere
 * else, unless the plan keeps full dates: the generalized date is then the one a table drawn
 * from the de-identified headers holds, and intervals between a patient's studies stay coherent.
 */
function generalize(el: Element, r: RecipeRule, rule: string, path: string, sets: CharacterSets, ctx: Context): Element | undefined {
  const g = r.generalize!;
  const vr = el.kind === 'value' ? el.vr : undefined;
  const fits =
    vr !== undefined &&
    (g.kind === 'bins' ? vr === 'AS' : g.kind === 'date' ? vr === 'DA' || vr === 'DT' : g.kind === 'mask' ? MASKABLE_VRS.has(vr) : MAPPABLE_VRS.has(vr));
  if (!fits || el.kind !== 'value') {
    record(ctx, path, el.tag, 'removed', `${rule}:wrong-vr`);
    return undefined;
  }
  let text = (VR_TRAITS[el.vr].charsetAware ? textValue(el, sets) : asciiValue(el)) ?? '';
  if (text.trim() === '') return el;
  if ((el.vr === 'DA' || el.vr === 'DT') && !ctx.plan.options.has('retainLongitudinalFullDates')) {
    try {
      text = shiftMultiValue(text, ctx.dateOffset, el.vr);
    } catch (e) {
      if (!(e instanceof NotADateError)) throw e;
      record(ctx, path, el.tag, 'emptied', `${rule}:unparseable`);
      return emptied(el);
    }
  }
  const result = generalizeValue(text, g, el.vr);
  if (result.kind === 'empty') {
    record(ctx, path, el.tag, 'emptied', result.why === 'suppressed' ? rule : `${rule}:${result.why}`);
    return emptied(el);
  }
  record(ctx, path, el.tag, 'generalized', rule);
  return replaceText(el, result.text, sets);
}

function longitudinalState(plan: DeidPlan): 'MODIFIED' | 'UNMODIFIED' | 'REMOVED' {
  if (plan.options.has('retainLongitudinalFullDates')) return 'UNMODIFIED';
  if (plan.options.has('retainLongitudinalModifiedDates')) return 'MODIFIED';
  return 'REMOVED';
}

function ascii(t: Tag, vr: VR, text: string): ValueElement {
  return { kind: 'value', tag: t, vr, bytes: encodeAscii(text, VR_TRAITS[vr].pad) };
}

const CODE_VALUE = makeTag(0x0008, 0x0100);
const CODING_SCHEME_DESIGNATOR = makeTag(0x0008, 0x0102);
const CODE_MEANING = makeTag(0x0008, 0x0104);

function addDeidentificationAttributes(out: Map<Tag, Element>, ctx: Context): void {
  const { plan } = ctx;
  const pixel = [...(plan.pixelMethods ?? [])].sort();
  const applied: DeidentificationMethod[] = ['basicProfile', ...pixel, ...[...plan.options].sort()];
  const codes = applied.map((name) => DEIDENTIFICATION_METHOD_CODES[name]);
  out.set(Tags.PatientIdentityRemoved, ascii(Tags.PatientIdentityRemoved, 'CS', 'YES'));
  // LO holds 64 characters per value: one value per profile or option.
  const method = [plan.methodName, ...codes.map((c) => c.meaning)].map((s) => s.slice(0, 64)).join('\\');
  out.set(Tags.DeidentificationMethod, ascii(Tags.DeidentificationMethod, 'LO', method));
  out.set(Tags.DeidentificationMethodCodeSequence, {
    kind: 'sequence',
    tag: Tags.DeidentificationMethodCodeSequence,
    vr: 'SQ',
    items: codes.map(
      (c) =>
        new Map<Tag, Element>([
          [CODE_VALUE, ascii(CODE_VALUE, 'SH', c.value)],
          [CODING_SCHEME_DESIGNATOR, ascii(CODING_SCHEME_DESIGNATOR, 'SH', 'DCM')],
          [CODE_MEANING, ascii(CODE_MEANING, 'LO', c.meaning)],
        ]),
    ),
  });
  out.set(Tags.LongitudinalTemporalInformationModified, ascii(Tags.LongitudinalTemporalInformationModified, 'CS', longitudinalState(plan)));
  // Other Patient IDs and the issuer would tie the research ID back to the hospital's record.
  out.delete(OTHER_PATIENT_IDS);
  out.delete(ISSUER_OF_PATIENT_ID);
}

/** The file meta group of the output: structural elements only, following the new dataset. */
function buildMeta(file: DicomFile, out: Dataset, plan: DeidPlan): Dataset {
  const meta = new Map<Tag, Element>();
  meta.set(FILE_META_VERSION.tag, FILE_META_VERSION);
  const sopClass = asciiValue(out.get(Tags.SOPClassUID)) ?? asciiValue(file.meta.get(Tags.MediaStorageSOPClassUID)) ?? '';
  const sopInstance = asciiValue(out.get(Tags.SOPInstanceUID)) ?? '';
  meta.set(Tags.MediaStorageSOPClassUID, ascii(Tags.MediaStorageSOPClassUID, 'UI', sopClass));
  meta.set(Tags.MediaStorageSOPInstanceUID, ascii(Tags.MediaStorageSOPInstanceUID, 'UI', sopInstance));
  meta.set(Tags.TransferSyntaxUID, ascii(Tags.TransferSyntaxUID, 'UI', file.transferSyntax.uid));
  meta.set(Tags.ImplementationClassUID, ascii(Tags.ImplementationClassUID, 'UI', plan.implementation.classUid));
  meta.set(Tags.ImplementationVersionName, ascii(Tags.ImplementationVersionName, 'SH', plan.implementation.versionName));
  return meta;
}
