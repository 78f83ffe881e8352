/**
 * A table of quasi-identifiers drawn from the headers of a (de-identified) DICOM folder, for
 * `radanon risk --from-dicom`: one record per patient (Patient ID) or per study (Study Instance
 * UID). The key itself is an identifier, not a quasi-identifier, so it orders the rows but is
 * not a column; the columns are the fields asked for.
 *
 * Built-in fields:
 * - `age`: Patient's Age (AS) in whole years (`034Y` → 34; days, weeks and months count their
 *   whole years, `006M` → 0); without it, the years between Patient's Birth Date and Study Date
 *   when both are present;
 * - `sex`: Patient's Sex;
 * - `site`: Institution Name, else Issuer of Patient ID (a pseudonymous site code some
 *   pipelines leave there; radanon's own outputs drop the issuer), else empty;
 * - `manufacturer`, `model`: Manufacturer, Manufacturer's Model Name;
 * - `studyYear`: the year of Study Date;
 * - `modality`: the modalities of the study's files, sorted and joined with "+" (`CT+PT`);
 * - `bodyPart`: Body Part Examined.
 * Other fields name any dictionary keyword (`weight=PatientWeight`): its text, an age in years
 * for AS values, numbers for binary numeric VRs. An absent value is the empty string.
 *
 * When the files of one record disagree (two ages across a patient's studies, say), the value
 * comes from the earliest study (by Study Date, then Study Time, then Study Instance UID, files
 * in path order within a study) that has one, so a patient's record describes the first visit.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { asciiValue, type Dataset, type DicomFile, type Element } from '../dicom/dataset.js';
import { tagOfKeyword } from '../dicom/dictionary.js';
import { DicomParseError, NotDicomError } from '../dicom/errors.js';
import { readDicom } from '../dicom/reader.js';
import { tag as makeTag, Tags, type Tag } from '../dicom/tag.js';
import { characterSetsOf, textValue } from '../dicom/text.js';
import type { CharacterSets } from '../dicom/charset.js';
import { VR_TRAITS } from '../dicom/vr.js';
import { ageInYears } from '../deid/rules.js';
import { DICOMDIR_SOP_CLASS } from '../pipeline/process-file.js';
import { walkFiles } from '../pipeline/walk.js';
import { RiskInputError } from './table.js';
import type { Table } from './types.js';

export const BUILTIN_DICOM_FIELDS = ['age', 'sex', 'site', 'manufacturer', 'model', 'studyYear', 'modality', 'bodyPart'] as const;
export type BuiltinDicomField = (typeof BUILTIN_DICOM_FIELDS)[number];

/** A column of the extracted table: a built-in field, or the value of a dictionary keyword. */
export type DicomField =
  | { readonly name: string; readonly kind: 'builtin'; readonly builtin: BuiltinDicomField }
  | { readonly name: string; readonly kind: 'keyword'; readonly keyword: string; readonly tag: Tag };

export const DEFAULT_DICOM_FIELDS: readonly DicomField[] = BUILTIN_DICOM_FIELDS.map((b) => ({ name: b, kind: 'builtin', builtin: b }));

export interface DicomTableOptions {
  /** One record per patient (Patient ID) or per study (Study Instance UID). */
  readonly per: 'patient' | 'study';
  /** The columns, in order; DEFAULT_DICOM_FIELDS when not given. */
  readonly fields?: readonly DicomField[];
}

export interface DicomTableFailure {
  /** Path relative to the folder. */
  readonly file: string;
  readonly reason: string;
}

export interface DicomTable {
  readonly table: Table;
  /** Files that could not be read or placed in a record; the others made the table. */
  readonly failures: DicomTableFailure[];
}

export class DicomFieldsError extends RiskInputError {
  override readonly name: string = 'DicomFieldsError';
}

const FIELD_NAME = /^[A-Za-z0-9_.-]+$/;

function isBuiltin(s: string): s is BuiltinDicomField {
  return (BUILTIN_DICOM_FIELDS as readonly string[]).includes(s);
}

/**
 * The CLI form of the fields: a comma-separated list of built-in names (`age,sex,site`) and
 * `name=Keyword` pairs (`weight=PatientWeight`); `name=builtin` renames a built-in field.
 */
export function parseDicomFields(text: string): DicomField[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) {
    throw new DicomFieldsError(`fields "${text}": list names separated by commas, e.g. age,sex,site or weight=PatientWeight`);
  }
  const fields: DicomField[] = [];
  const names = new Set<string>();
  for (const item of items) {
    const eq = item.indexOf('=');
    const name = (eq < 0 ? item : item.slice(0, eq)).trim();
    const source = (eq < 0 ? item : item.slice(eq + 1)).trim();
    if (!FIELD_NAME.test(name)) throw new DicomFieldsError(`fields: "${name}" is not a usable column name (letters, digits, _ . -)`);
    if (names.has(name)) throw new DicomFieldsError(`fields: column "${name}" is named twice`);
    names.add(name);
    if (isBuiltin(source)) {
      fields.push({ name, kind: 'builtin', builtin: source });
      continue;
    }
    if (eq < 0) throw new DicomFieldsError(`fields: "${name}" is not a built-in field (${BUILTIN_DICOM_FIELDS.join(', ')}); write name=Keyword for a DICOM attribute`);
    const t = tagOfKeyword(source);
    if (t === undefined) throw new DicomFieldsError(`fields: "${source}" is not a DICOM keyword (PS3.6), as in ${name}=${source}`);
    fields.push({ name, kind: 'keyword', keyword: source, tag: t });
  }
  return fields;
}

const T = {
  PatientAge: makeTag(0x0010, 0x1010),
  PatientSex: makeTag(0x0010, 0x0040),
  IssuerOfPatientID: makeTag(0x0010, 0x0021),
  InstitutionName: makeTag(0x0008, 0x0080),
  Manufacturer: makeTag(0x0008, 0x0070),
  ManufacturerModelName: makeTag(0x0008, 0x1090),
  BodyPartExamined: makeTag(0x0018, 0x0015),
} as const;

/** What one file says about its record. */
interface Observation {
  readonly file: string;
  readonly studyUid: string;
  readonly studyDate: string;
  readonly studyTime: string;
  readonly modality: string;
  /** One value per field, '' when absent. */
  readonly values: readonly string[];
}

/** Reads the headers of every file under `dir` into one record per patient or study. */
export async function extractDicomTable(dir: string, options: DicomTableOptions): Promise<DicomTable> {
  const fields = options.fields ?? DEFAULT_DICOM_FIELDS;
  if (fields.length === 0) throw new DicomFieldsError('fields: at least one field is needed');
  const failures: DicomTableFailure[] = [];
  const byKey = new Map<string, Observation[]>();
  for await (const rel of walkFiles(dir)) {
    let file: DicomFile;
    try {
      // Headers only: stop before the pixel data.
      file = readDicom(await readFile(join(dir, rel)), { untilTag: Tags.PixelData });
    } catch (e) {
      const reason = e instanceof NotDicomError ? 'not a DICOM file' : e instanceof DicomParseError ? e.message : `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
      failures.push({ file: rel, reason });
      continue;
    }
    if (asciiValue(file.meta.get(Tags.MediaStorageSOPClassUID)) === DICOMDIR_SOP_CLASS) continue; // an index, not an image
    const ds = file.dataset;
    const sets = characterSetsOf(ds);
    const key = options.per === 'patient' ? text(ds.get(Tags.PatientID), sets) : asciiValue(ds.get(Tags.StudyInstanceUID))?.trim() ?? '';
    if (key === '') {
      failures.push({ file: rel, reason: options.per === 'patient' ? 'no Patient ID (0010,0020): the file belongs to no patient record' : 'no Study Instance UID (0020,000D): the file belongs to no study record' });
      continue;
    }
    const observation: Observation = {
      file: rel,
      studyUid: asciiValue(ds.get(Tags.StudyInstanceUID))?.trim() ?? '',
      studyDate: asciiValue(ds.get(Tags.StudyDate))?.trim() ?? '',
      studyTime: asciiValue(ds.get(Tags.StudyTime))?.trim() ?? '',
      modality: asciiValue(ds.get(Tags.Modality))?.trim() ?? '',
      values: fields.map((f) => fieldValue(f, file, sets)),
    };
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(observation);
  }
  const keys = [...byKey.keys()].sort(compareStrings);
  const rows = keys.map((key) => recordOf(byKey.get(key)!, fields));
  return { table: { columns: fields.map((f) => f.name), rows, source: dir }, failures };
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Earliest study first; a study without a date after those with one. */
function compareObservations(a: Observation, b: Observation): number {
  if ((a.studyDate === '') !== (b.studyDate === '')) return a.studyDate === '' ? 1 : -1;
  return compareStrings(a.studyDate, b.studyDate) || compareStrings(a.studyTime, b.studyTime) || compareStrings(a.studyUid, b.studyUid) || compareStrings(a.file, b.file);
}

function recordOf(observations: Observation[], fields: readonly DicomField[]): string[] {
  const ordered = [...observations].sort(compareObservations);
  return fields.map((f, i) => {
    if (f.kind === 'builtin' && f.builtin === 'modality') return modalitiesOf(ordered);
    for (const o of ordered) if (o.values[i] !== '') return o.values[i]!;
    return '';
  });
}

/** The modalities of the earliest study that has any (of the only study, per study), sorted, joined with "+". */
function modalitiesOf(ordered: readonly Observation[]): string {
  const first = ordered.find((o) => o.modality !== '');
  if (!first) return '';
  const set = new Set<string>();
  for (const o of ordered) if (o.studyUid === first.studyUid && o.modality !== '') for (const m of o.modality.split('\\')) if (m.trim()) set.add(m.trim());
  return [...set].sort(compareStrings).join('+');
}

function text(el: Element | undefined, sets: CharacterSets): string {
  try {
    return textValue(el, sets)?.trim() ?? '';
  } catch {
    return ''; // undecodable text is treated as absent rather than failing the whole file
  }
}

function fieldValue(field: DicomField, file: DicomFile, sets: CharacterSets): string {
  const ds = file.dataset;
  if (field.kind === 'keyword') return keywordValue(ds.get(field.tag), file, sets);
  switch (field.builtin) {
    case 'age':
      return ageOf(ds);
    case 'sex':
      return text(ds.get(T.PatientSex), sets);
    case 'site':
      return text(ds.get(T.InstitutionName), sets) || text(ds.get(T.IssuerOfPatientID), sets);
    case 'manufacturer':
      return text(ds.get(T.Manufacturer), sets);
    case 'model':
      return text(ds.get(T.ManufacturerModelName), sets);
    case 'studyYear': {
      const m = /^(\d{4})/.exec(asciiValue(ds.get(Tags.StudyDate))?.trim() ?? '');
      return m ? m[1]! : '';
    }
    case 'modality':
      return asciiValue(ds.get(Tags.Modality))?.trim() ?? '';
    case 'bodyPart':
      return text(ds.get(T.BodyPartExamined), sets);
  }
}

/** Patient's Age in years, else the whole years from birth date to study date. */
function ageOf(ds: Dataset): string {
  const years = ageInYears(asciiValue(ds.get(T.PatientAge)) ?? '');
  if (years !== undefined) return String(years);
  const birth = parseDa(asciiValue(ds.get(Tags.PatientBirthDate)));
  const study = parseDa(asciiValue(ds.get(Tags.StudyDate)));
  if (!birth || !study) return '';
  let age = study.y - birth.y;
  if (study.m < birth.m || (study.m === birth.m && study.d < birth.d)) age--;
  return age >= 0 ? String(age) : '';
}

function parseDa(v: string | undefined): { y: number; m: number; d: number } | undefined {
  const m = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(v?.trim() ?? '');
  return m ? { y: +m[1]!, m: +m[2]!, d: +m[3]! } : undefined;
}

/** Binary numeric VRs as their numbers, in the file's byte order. */
const NUMERIC: Partial<Record<string, { size: number; read: (v: DataView, at: number, little: boolean) => number }>> = {
  US: { size: 2, read: (v, at, le) => v.getUint16(at, le) },
  SS: { size: 2, read: (v, at, le) => v.getInt16(at, le) },
  UL: { size: 4, read: (v, at, le) => v.getUint32(at, le) },
  SL: { size: 4, read: (v, at, le) => v.getInt32(at, le) },
  FL: { size: 4, read: (v, at, le) => v.getFloat32(at, le) },
  FD: { size: 8, read: (v, at, le) => v.getFloat64(at, le) },
};

function keywordValue(el: Element | undefined, file: DicomFile, sets: CharacterSets): string {
  if (!el || el.kind !== 'value') return '';
  if (el.vr === 'AS') {
    const years = ageInYears(asciiValue(el) ?? '');
    return years === undefined ? '' : String(years);
  }
  const numeric = NUMERIC[el.vr];
  if (numeric) {
    const view = new DataView(el.bytes.buffer, el.bytes.byteOffset, el.bytes.byteLength);
    const out: number[] = [];
    for (let at = 0; at + numeric.size <= el.bytes.length; at += numeric.size) out.push(numeric.read(view, at, file.transferSyntax.littleEndian));
    return out.join('\\');
  }
  // Other binary values (bytes, tags, 64-bit integers) have no text a table could hold.
  return VR_TRAITS[el.vr].text ? text(el, sets) : '';
}

/** A field's description for messages and documentation: `age`, `weight=PatientWeight`. */
export function formatDicomField(f: DicomField): string {
  if (f.kind === 'builtin') return f.name === f.builtin ? f.name : `${f.name}=${f.builtin}`;
  return `${f.name}=${f.keyword}`;
}
