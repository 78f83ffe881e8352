/**
 * DICOMDIR writer: a fresh Basic Directory (PS3.3 Annex F, Media Storage Directory Storage SOP
 * Class 1.2.840.10008.1.3.10) for a de-identified output written in the media layout
 * (DICOM/Pxxxxxxx/Sxxxxxxx/Exxxxxxx/Ixxxxxxx, see `outputPathFor`).
 *
 * Byte offsets. The directory links its records by byte offsets: (0004,1200)/(0004,1202) to the
 * first/last record of the root entity, (0004,1400) to the next record of the same entity and
 * (0004,1420) to the first record of the lower-level entity. Each points at the first byte of
 * the record's Item tag (FFFE,E000) and counts from the first byte of the File Meta Information,
 * which per PS3.10 7.1 begins with the 128-byte File Preamble and the "DICM" prefix: an offset
 * is the plain position in the file, byte 0 being the first byte of the preamble. PS3.3 Table
 * F.3-3 says so in its notes to (0004,1200)/(0004,1202) ("This offset includes the File Preamble
 * and the DICM Prefix"), and DCMTK (DcmDicomDir::write) computes its offsets from the stream
 * position after writing preamble and meta information.
 *
 * Encoding. Preamble, meta information and the directory's top-level elements come from the
 * project's writer (`encodeDicom`). The Directory Record Sequence (0004,1220), which is the last
 * element of the dataset, is encoded here instead: the project's writer gives every sequence and
 * item an undefined length, so where an item starts would depend on the byte layout of another
 * module, and a change there would silently corrupt every offset. This file lays the sequence
 * out itself in explicit VR little endian with defined lengths, so every record's size, and so
 * every offset, is computed from the same code that writes the bytes; the result is then
 * checked (each offset must land on an Item tag) before the file is written.
 *
 * Determinism. Records are sorted (patient, study, series, instance number then UID) and the
 * Media Storage SOP Instance UID is derived from the content, so the same output folder always
 * gives a byte-identical DICOMDIR.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeAscii, TRANSFER_SYNTAX, transferSyntaxOf, type Dataset, type Element } from '../dicom/dataset.js';
import { readDicom } from '../dicom/reader.js';
import { elementOf, groupOf, tag, Tags, type Tag } from '../dicom/tag.js';
import { VR_TRAITS, type VR } from '../dicom/vr.js';
import { encodeDicom, FILE_META_VERSION } from '../dicom/writer.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../version.js';
import { writeReplacing } from './atomic.js';
import { DICOMDIR_SOP_CLASS, type IndexEntry } from './process-file.js';

/** The DICOMDIR's path relative to the output folder (PS3.10 8.6: "DICOMDIR" in the root). */
export const DICOMDIR_NAME = 'DICOMDIR';
export const FILE_SET_ID = 'RADANON';

/** Placeholders for type 1 keys the output files do not have (de-identification may empty them). */
const DUMMY_DATE = '19000101';
const DUMMY_TIME = '000000';
const DUMMY_LABEL = 'UNLABELED';

const DirTags = {
  FileSetID: tag(0x0004, 0x1130),
  OffsetOfFirstRecord: tag(0x0004, 0x1200),
  OffsetOfLastRecord: tag(0x0004, 0x1202),
  FileSetConsistencyFlag: tag(0x0004, 0x1212),
  DirectoryRecordSequence: tag(0x0004, 0x1220),
  OffsetOfNextRecord: tag(0x0004, 0x1400),
  RecordInUseFlag: tag(0x0004, 0x1410),
  OffsetOfLowerLevelEntity: tag(0x0004, 0x1420),
  DirectoryRecordType: tag(0x0004, 0x1430),
  ReferencedFileID: tag(0x0004, 0x1500),
  ReferencedSOPClassUIDInFile: tag(0x0004, 0x1510),
  ReferencedSOPInstanceUIDInFile: tag(0x0004, 0x1511),
  ReferencedTransferSyntaxUIDInFile: tag(0x0004, 0x1512),
} as const;

const KeyTags = {
  ContentDate: tag(0x0008, 0x0023),
  ContentTime: tag(0x0008, 0x0033),
  ReferencedSeriesSequence: tag(0x0008, 0x1115),
  DoseComment: tag(0x3004, 0x0006),
  DoseSummationType: tag(0x3004, 0x000a),
  StructureSetLabel: tag(0x3006, 0x0002),
  StructureSetDate: tag(0x3006, 0x0008),
  StructureSetTime: tag(0x3006, 0x0009),
  RTPlanLabel: tag(0x300a, 0x0002),
  RTPlanDate: tag(0x300a, 0x0006),
  RTPlanTime: tag(0x300a, 0x0007),
  TreatmentDate: tag(0x3008, 0x0250),
  TreatmentTime: tag(0x3008, 0x0251),
  RelationshipType: tag(0x0040, 0xa010),
  VerificationDateTime: tag(0x0040, 0xa030),
  ConceptNameCodeSequence: tag(0x0040, 0xa043),
  VerifyingObserverSequence: tag(0x0040, 0xa073),
  CompletionFlag: tag(0x0040, 0xa491),
  VerificationFlag: tag(0x0040, 0xa493),
  ContentSequence: tag(0x0040, 0xa730),
  ContentLabel: tag(0x0070, 0x0080),
  ContentDescription: tag(0x0070, 0x0081),
  PresentationCreationDate: tag(0x0070, 0x0082),
  PresentationCreationTime: tag(0x0070, 0x0083),
  ContentCreatorName: tag(0x0070, 0x0084),
  DocumentTitle: tag(0x0042, 0x0010),
  MIMETypeOfEncapsulatedDocument: tag(0x0042, 0x0012),
  HL7InstanceIdentifier: tag(0x0040, 0xe001),
} as const;

// ---------------------------------------------------------------------------------------------
// Record types

const STORAGE = '1.2.840.10008.5.1.4.1.1.';

/**
 * Directory Record Type by SOP Class (PS3.3 F.5; the same mapping as DCMTK's dcmgpdir). SOP
 * classes not listed here and not matched by a prefix below are images: 'IMAGE'. Segmentation
 * (66.4) is an image IOD and is referenced by an IMAGE record.
 */
const RECORD_TYPE_BY_SOP_CLASS: ReadonlyMap<string, string> = new Map([
  [`${STORAGE}481.2`, 'RT DOSE'],
  [`${STORAGE}481.3`, 'RT STRUCTURE SET'],
  [`${STORAGE}481.5`, 'RT PLAN'],
  [`${STORAGE}481.8`, 'RT PLAN'],
  [`${STORAGE}481.4`, 'RT TREAT RECORD'],
  [`${STORAGE}481.6`, 'RT TREAT RECORD'],
  [`${STORAGE}481.7`, 'RT TREAT RECORD'],
  [`${STORAGE}481.9`, 'RT TREAT RECORD'],
  ...['10', '11', '12', '13', '14', '15', '16', '17', '18', '19', '20', '21', '22', '25'].map((n) => [`${STORAGE}481.${n}`, 'RADIOTHERAPY'] as const),
  ['1.2.840.10008.5.1.4.34.7', 'PLAN'],
  ['1.2.840.10008.5.1.4.34.10', 'PLAN'],
  [`${STORAGE}88.59`, 'KEY OBJECT DOC'],
  [`${STORAGE}78.6`, 'SR DOCUMENT'],
  [`${STORAGE}79.1`, 'SR DOCUMENT'],
  [`${STORAGE}131`, 'PRESENTATION'],
  [`${STORAGE}66`, 'RAW DATA'],
  [`${STORAGE}66.1`, 'REGISTRATION'],
  [`${STORAGE}66.3`, 'REGISTRATION'],
  [`${STORAGE}66.2`, 'FIDUCIAL'],
  [`${STORAGE}66.4`, 'IMAGE'],
  [`${STORAGE}66.5`, 'SURFACE'],
  [`${STORAGE}66.6`, 'TRACT'],
  [`${STORAGE}67`, 'VALUE MAP'],
  [`${STORAGE}4.2`, 'SPECTROSCOPY'],
  [`${STORAGE}77.1.5.3`, 'STEREOMETRIC'],
  [`${STORAGE}68.1`, 'SURFACE SCAN'],
  [`${STORAGE}68.2`, 'SURFACE SCAN'],
  ...['78.1', '78.2', '78.3', '78.4', '78.5', '78.7', '78.8', '80.1'].map((n) => [`${STORAGE}${n}`, 'MEASUREMENT'] as const),
  [`${STORAGE}90.1`, 'ASSESSMENT'],
  [`${STORAGE}91.1`, 'ANNOTATION'],
]);

/**
 * SOP classes that are not about a patient (hanging protocols, color palettes, implant
 * templates, inventories): their records sit directly under the root in PS3.3 Table F.4-1,
 * never below a SERIES, and a de-identified patient folder has no business holding them.
 */
const NOT_PATIENT_LEVEL = new Set([
  '1.2.840.10008.5.1.4.38.1',
  '1.2.840.10008.5.1.4.39.1',
  '1.2.840.10008.5.1.4.43.1',
  '1.2.840.10008.5.1.4.44.1',
  '1.2.840.10008.5.1.4.45.1',
  `${STORAGE}201.1`,
]);

/** The Directory Record Type for an instance of `sopClassUid`; undefined if none fits below a SERIES. */
export function recordTypeFor(sopClassUid: string): string | undefined {
  if (NOT_PATIENT_LEVEL.has(sopClassUid)) return undefined;
  const exact = RECORD_TYPE_BY_SOP_CLASS.get(sopClassUid);
  if (exact) return exact;
  if (sopClassUid.startsWith(`${STORAGE}88.`)) return 'SR DOCUMENT';
  if (sopClassUid.startsWith(`${STORAGE}11.`)) return 'PRESENTATION';
  if (sopClassUid.startsWith(`${STORAGE}9.`)) return 'WAVEFORM';
  if (sopClassUid.startsWith(`${STORAGE}104.`)) return 'ENCAP DOC';
  return 'IMAGE';
}

/**
 * Keys of the instance-level records other than IMAGE (PS3.3 F.5), read from the written file.
 * Instance Number (type 1 in all of them) comes from the index entry. `fallback` fills a type 1
 * key the file lacks; a type 1 key without fallback is written empty (the file then lacks a
 * type 1 attribute of its own IOD, which the DICOMDIR cannot repair).
 */
interface KeySpec {
  readonly tag: Tag;
  readonly vr: VR;
  readonly type: '1' | '2' | '3' | '1C';
  readonly fallback?: string;
}

const key = (t: Tag, vr: VR, type: KeySpec['type'], fallback?: string): KeySpec => ({ tag: t, vr, type, ...(fallback !== undefined ? { fallback } : {}) });
const CONTENT_DATE_TIME: readonly KeySpec[] = [key(KeyTags.ContentDate, 'DA', '1', DUMMY_DATE), key(KeyTags.ContentTime, 'TM', '1', DUMMY_TIME)];
/** Content Identification Macro (PS3.3 Table 10-12) less Instance Number. */
const CONTENT_IDENTIFICATION: readonly KeySpec[] = [
  key(KeyTags.ContentLabel, 'CS', '1', DUMMY_LABEL),
  key(KeyTags.ContentDescription, 'LO', '2'),
  key(KeyTags.ContentCreatorName, 'PN', '2'),
];

const INSTANCE_KEYS: Readonly<Record<string, readonly KeySpec[]>> = {
  'RT DOSE': [key(KeyTags.DoseSummationType, 'CS', '1'), key(KeyTags.DoseComment, 'LO', '3')],
  'RT STRUCTURE SET': [
    key(KeyTags.StructureSetLabel, 'SH', '1', DUMMY_LABEL),
    key(KeyTags.StructureSetDate, 'DA', '2'),
    key(KeyTags.StructureSetTime, 'TM', '2'),
  ],
  'RT PLAN': [key(KeyTags.RTPlanLabel, 'SH', '1', DUMMY_LABEL), key(KeyTags.RTPlanDate, 'DA', '2'), key(KeyTags.RTPlanTime, 'TM', '2')],
  'RT TREAT RECORD': [key(KeyTags.TreatmentDate, 'DA', '2'), key(KeyTags.TreatmentTime, 'TM', '2')],
  // The flags fall back to the claims that promise least.
  'SR DOCUMENT': [
    key(KeyTags.CompletionFlag, 'CS', '1', 'PARTIAL'),
    key(KeyTags.VerificationFlag, 'CS', '1', 'UNVERIFIED'),
    ...CONTENT_DATE_TIME,
    key(KeyTags.ConceptNameCodeSequence, 'SQ', '1'),
  ],
  'KEY OBJECT DOC': [...CONTENT_DATE_TIME, key(KeyTags.ConceptNameCodeSequence, 'SQ', '1')],
  WAVEFORM: CONTENT_DATE_TIME,
  PRESENTATION: [
    key(KeyTags.PresentationCreationDate, 'DA', '1', DUMMY_DATE),
    key(KeyTags.PresentationCreationTime, 'TM', '1', DUMMY_TIME),
    ...CONTENT_IDENTIFICATION,
    key(KeyTags.ReferencedSeriesSequence, 'SQ', '1C'),
  ],
  'ENCAP DOC': [
    key(KeyTags.ContentDate, 'DA', '2'),
    key(KeyTags.ContentTime, 'TM', '2'),
    key(KeyTags.DocumentTitle, 'ST', '2'),
    key(KeyTags.HL7InstanceIdentifier, 'ST', '1C'),
    key(KeyTags.ConceptNameCodeSequence, 'SQ', '2'),
    key(KeyTags.MIMETypeOfEncapsulatedDocument, 'LO', '1'),
  ],
  REGISTRATION: [...CONTENT_DATE_TIME, ...CONTENT_IDENTIFICATION],
  FIDUCIAL: [...CONTENT_DATE_TIME, ...CONTENT_IDENTIFICATION],
  'VALUE MAP': [...CONTENT_DATE_TIME, ...CONTENT_IDENTIFICATION],
  SURFACE: [...CONTENT_DATE_TIME, ...CONTENT_IDENTIFICATION],
  TRACT: [...CONTENT_DATE_TIME, ...CONTENT_IDENTIFICATION],
  ASSESSMENT: [...CONTENT_DATE_TIME, ...CONTENT_IDENTIFICATION],
  ANNOTATION: [...CONTENT_DATE_TIME, ...CONTENT_IDENTIFICATION],
  RADIOTHERAPY: [...CONTENT_DATE_TIME, ...CONTENT_IDENTIFICATION],
};
/** Record types without an entry above copy the content date and time (type 1 in most of them). */
const DEFAULT_INSTANCE_KEYS = CONTENT_DATE_TIME;

// ---------------------------------------------------------------------------------------------
// Building the directory tree

/** A directory record before layout: its keys (without the offset elements) and its lower-level entity. */
export interface DirectoryRecord {
  readonly type: string;
  readonly keys: Dataset;
  readonly children: readonly DirectoryRecord[];
}

export interface Directory {
  /** Records of the root directory entity (PATIENT records), in order. */
  readonly roots: readonly DirectoryRecord[];
  /** Entries left out, with the reason (a DICOMDIR record cannot describe them conformantly). */
  readonly excluded: readonly { readonly entry: IndexEntry; readonly reason: string }[];
  /** The entries the directory references, sorted as their records are. */
  readonly included: readonly IndexEntry[];
}

const latin1 = new TextDecoder('latin1');

function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

function valueElement(t: Tag, vr: VR, bytes: Uint8Array): Element {
  return { kind: 'value', tag: t, vr, bytes };
}

/** A text element from a string that is known to be ASCII (UIDs, dates, numbers, code strings). */
function text(t: Tag, vr: VR, value: string): Element {
  return valueElement(t, vr, encodeAscii(value, VR_TRAITS[vr].pad));
}

function ul(t: Tag, value: number): Element {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value, true);
  return valueElement(t, 'UL', b);
}

function us(t: Tag, value: number): Element {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, value, true);
  return valueElement(t, 'US', b);
}

function sortedBy<T>(items: readonly T[], ...keys: ((x: T) => string | number)[]): T[] {
  return [...items].sort((a, b) => {
    for (const k of keys) {
      const x = k(a);
      const y = k(b);
      if (x < y) return -1;
      if (x > y) return 1;
    }
    return 0;
  });
}

/** A usable IS value (an integer of at most 12 characters). */
function validIs(s: string): boolean {
  return /^ *[+-]?\d{1,11} *$/.test(s) && s.length <= 12;
}

/** An IS value as a number for sorting; anything else sorts after all numbers. */
function isNumber(s: string): number {
  return validIs(s) ? Number.parseInt(s.trim(), 10) : Number.POSITIVE_INFINITY;
}

const DATE_TIME_FORMS: Partial<Record<VR, { readonly valid: RegExp; readonly legacy?: RegExp }>> = {
  DA: { valid: /^\d{8}$/, legacy: /\./g },
  TM: { valid: /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/, legacy: /:/g },
  DT: { valid: /^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$/ },
};

/**
 * A DA, TM or DT value in the current form, or undefined. ACR-NEMA forms ("1999.01.17",
 * "14:04:38"), which old files still carry, become "19990117" and "140438".
 */
export function normalizedDateTime(vr: VR, value: string): string | undefined {
  const form = DATE_TIME_FORMS[vr];
  if (!form) return value;
  const v = form.legacy ? value.trim().replace(form.legacy, '') : value.trim();
  return form.valid.test(v) ? v : undefined;
}

/**
 * Series Number and Instance Number are type 1 keys. A value the file lacks is replaced by a
 * number above every number its siblings carry, so the placeholders never collide with them.
 */
function numbering<T>(items: readonly T[], value: (x: T) => string): Map<T, string> {
  const out = new Map<T, string>();
  let next = items.reduce((max, x) => (validIs(value(x)) ? Math.max(max, Number.parseInt(value(x).trim(), 10)) : max), 0) + 1;
  for (const x of items) out.set(x, validIs(value(x)) ? value(x).trim() : String(next++));
  return out;
}

/** The first non-empty value of `pick` among `entries`. */
function firstOf(entries: readonly IndexEntry[], pick: (e: IndexEntry) => string): string {
  for (const e of entries) if (pick(e)) return pick(e);
  return '';
}

function groupBy<T>(items: readonly T[], keyOf: (x: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const x of items) {
    const k = keyOf(x);
    const g = groups.get(k);
    if (g) g.push(x);
    else groups.set(k, [x]);
  }
  return groups;
}

const FILE_ID_COMPONENT = /^[A-Z0-9_]{1,8}$/;

/**
 * The Referenced File ID of an output path: its components, which PS3.10 8.2 limits to 1-8
 * characters of A-Z, 0-9 and _ and at most 8 levels. Undefined if the path does not qualify.
 */
export function fileIdOf(output: string): string[] | undefined {
  const parts = output.split(/[\\/]+/).filter((p) => p !== '');
  if (parts.length === 0 || parts.length > 8 || !parts.every((p) => FILE_ID_COMPONENT.test(p))) return undefined;
  return parts;
}

interface InstanceRecordInput {
  readonly entry: IndexEntry;
  readonly type: string;
  /** Keys read from the written file (record types other than IMAGE). */
  readonly fileKeys?: Dataset;
}

/**
 * Sorts and groups the entries into PATIENT > STUDY > SERIES > instance records. `fileKeys`
 * supplies the record-specific keys of non-IMAGE instances, by SOP Instance UID.
 */
export function buildDirectory(entries: readonly IndexEntry[], fileKeys: ReadonlyMap<string, Dataset> = new Map()): Directory {
  const excluded: { entry: IndexEntry; reason: string }[] = [];
  const usable: { entry: IndexEntry; type: string }[] = [];
  const seen = new Set<string>();
  // One record per SOP instance: the same instance listed twice (a resumed identical file) is one file.
  for (const entry of sortedBy(entries, (e) => e.sopInstanceUid, (e) => e.output ?? '')) {
    const reason = unusable(entry);
    if (reason) {
      excluded.push({ entry, reason });
      continue;
    }
    if (seen.has(entry.sopInstanceUid)) continue;
    seen.add(entry.sopInstanceUid);
    usable.push({ entry, type: recordTypeFor(entry.sopClassUid)! });
  }

  const included: IndexEntry[] = [];
  const roots: DirectoryRecord[] = [];
  const patients = groupBy(usable, (u) => u.entry.researchId);
  for (const [researchId, inPatient] of sortedBy([...patients], ([id]) => id)) {
    const studies = [...groupBy(inPatient, (u) => u.entry.studyUid)].map(([uid, members]) => {
      const es = members.map((m) => m.entry);
      return { uid, members, date: firstOf(es, (e) => e.studyDate), time: firstOf(es, (e) => e.studyTime), es };
    });
    const studyRecords: DirectoryRecord[] = [];
    for (const study of sortedBy(studies, (s) => s.date, (s) => s.time, (s) => s.uid)) {
      const seriesGroups = [...groupBy(study.members, (u) => u.entry.seriesUid)].map(([uid, members]) => ({
        uid,
        members,
        number: firstOf(members.map((m) => m.entry), (e) => e.seriesNumber),
      }));
      const sortedSeries = sortedBy(seriesGroups, (s) => isNumber(s.number), (s) => s.uid);
      const seriesNumbers = numbering(sortedSeries, (s) => s.number);
      const seriesRecords: DirectoryRecord[] = [];
      for (const series of sortedSeries) {
        const instances = sortedBy(series.members, (u) => isNumber(u.entry.instanceNumber), (u) => u.entry.sopInstanceUid);
        const instanceNumbers = numbering(instances, (u) => u.entry.instanceNumber);
        const instanceRecords = instances.map((u) => {
          included.push(u.entry);
          const keys = fileKeys.get(u.entry.sopInstanceUid);
          return instanceRecord({ entry: u.entry, type: u.type, ...(keys ? { fileKeys: keys } : {}) }, instanceNumbers.get(u)!);
        });
        seriesRecords.push(seriesRecord(series.uid, series.members.map((m) => m.entry), seriesNumbers.get(series)!, instanceRecords));
      }
      studyRecords.push(studyRecord(study.uid, study.es, study.date, study.time, seriesRecords));
    }
    roots.push(patientRecord(researchId, studyRecords));
  }
  return { roots, excluded, included };
}

function unusable(e: IndexEntry): string | undefined {
  if (!e.sopInstanceUid) return 'no SOP Instance UID';
  if (!e.sopClassUid) return 'no SOP Class UID';
  if (!e.studyUid) return 'no Study Instance UID';
  if (!e.seriesUid) return 'no Series Instance UID';
  if (!e.researchId) return 'no patient ID';
  if (recordTypeFor(e.sopClassUid) === undefined) return `SOP class ${e.sopClassUid} has no place below a patient in a DICOMDIR`;
  if (typeof e.output !== 'string') return 'output path unknown (index entry from an older run)';
  if (!fileIdOf(e.output)) return `output path ${e.output} is not a valid File ID (not the media layout)`;
  return undefined;
}

/** Text from the index (pseudonyms): ASCII as is; anything else as UTF-8, which the record then declares. */
function personText(keys: Map<Tag, Element>, t: Tag, vr: VR, value: string): void {
  if (isAscii(value)) {
    keys.set(t, text(t, vr, value));
    return;
  }
  const bytes = new TextEncoder().encode(value);
  const padded = new Uint8Array(bytes.length + (bytes.length & 1));
  padded.set(bytes);
  if (padded.length > bytes.length) padded[bytes.length] = 0x20;
  keys.set(t, valueElement(t, vr, padded));
  keys.set(Tags.SpecificCharacterSet, text(Tags.SpecificCharacterSet, 'CS', 'ISO_IR 192'));
}

function patientRecord(researchId: string, children: DirectoryRecord[]): DirectoryRecord {
  const keys = new Map<Tag, Element>();
  personText(keys, Tags.PatientName, 'PN', researchId);
  personText(keys, Tags.PatientID, 'LO', researchId);
  return { type: 'PATIENT', keys, children };
}

/** The study's 8-character folder name: a stable, non-identifying Study ID where the file has none. */
function studyFolderOf(es: readonly IndexEntry[]): string {
  const parts = fileIdOf(es[0]!.output)!;
  return parts[parts.length - 3] ?? parts[0]!;
}

function studyRecord(uid: string, es: readonly IndexEntry[], date: string, time: string, children: DirectoryRecord[]): DirectoryRecord {
  const keys = new Map<Tag, Element>();
  keys.set(Tags.StudyDate, text(Tags.StudyDate, 'DA', normalizedDateTime('DA', date) ?? DUMMY_DATE));
  keys.set(Tags.StudyTime, text(Tags.StudyTime, 'TM', normalizedDateTime('TM', time) ?? DUMMY_TIME));
  // Study ID and Accession Number are read from the file as Latin-1 without its character set:
  // a non-ASCII value cannot be re-encoded faithfully and is replaced (type 1) or left empty (type 2).
  const accession = firstOf(es, (e) => e.accessionNumber);
  keys.set(Tags.AccessionNumber, text(Tags.AccessionNumber, 'SH', isAscii(accession) ? accession : ''));
  keys.set(Tags.StudyDescription, text(Tags.StudyDescription, 'LO', ''));
  keys.set(Tags.StudyInstanceUID, text(Tags.StudyInstanceUID, 'UI', uid));
  const studyId = firstOf(es, (e) => e.studyId);
  keys.set(Tags.StudyID, text(Tags.StudyID, 'SH', studyId && isAscii(studyId) ? studyId : studyFolderOf(es)));
  return { type: 'STUDY', keys, children };
}

function seriesRecord(uid: string, es: readonly IndexEntry[], number: string, children: DirectoryRecord[]): DirectoryRecord {
  const keys = new Map<Tag, Element>();
  const modality = firstOf(es, (e) => e.modality);
  keys.set(Tags.Modality, text(Tags.Modality, 'CS', modality && /^[A-Z0-9 _]{1,16}$/.test(modality) ? modality : 'OT'));
  keys.set(Tags.SeriesInstanceUID, text(Tags.SeriesInstanceUID, 'UI', uid));
  keys.set(Tags.SeriesNumber, text(Tags.SeriesNumber, 'IS', number));
  return { type: 'SERIES', keys, children };
}

function instanceRecord(input: InstanceRecordInput, instanceNumber: string): DirectoryRecord {
  const { entry, type } = input;
  const keys = new Map<Tag, Element>();
  keys.set(DirTags.ReferencedFileID, text(DirTags.ReferencedFileID, 'CS', fileIdOf(entry.output)!.join('\\')));
  keys.set(DirTags.ReferencedSOPClassUIDInFile, text(DirTags.ReferencedSOPClassUIDInFile, 'UI', entry.sopClassUid));
  keys.set(DirTags.ReferencedSOPInstanceUIDInFile, text(DirTags.ReferencedSOPInstanceUIDInFile, 'UI', entry.sopInstanceUid));
  keys.set(DirTags.ReferencedTransferSyntaxUIDInFile, text(DirTags.ReferencedTransferSyntaxUIDInFile, 'UI', entry.transferSyntaxUid));
  keys.set(Tags.InstanceNumber, text(Tags.InstanceNumber, 'IS', instanceNumber));
  if (type !== 'IMAGE' && input.fileKeys) for (const [t, el] of input.fileKeys) keys.set(t, el);
  return { type, keys, children: [] };
}

// ---------------------------------------------------------------------------------------------
// Keys from the written files

function isEmptyValue(el: Element | undefined): boolean {
  return !el || (el.kind === 'value' && latin1.decode(el.bytes).replace(/[\0 ]+$/, '') === '') || (el.kind === 'sequence' && el.items.length === 0);
}

/** Swaps a big-endian binary value to little endian (text and single bytes are order-free). */
function toLittleEndian(el: Element & { kind: 'value' }, little: boolean): Element {
  const w = VR_TRAITS[el.vr].wordSize;
  if (little || VR_TRAITS[el.vr].text || w <= 1) return el;
  const out = new Uint8Array(el.bytes.length);
  for (let i = 0; i + w <= el.bytes.length; i += w) for (let j = 0; j < w; j++) out[i + j] = el.bytes[i + w - 1 - j]!;
  return { ...el, bytes: out };
}

/** A copy of an element for a record: little endian, sequences copied item by item, pixel data dropped. */
function copyElement(el: Element, little: boolean): Element | undefined {
  switch (el.kind) {
    case 'value':
      return el.vr === 'UN' ? undefined : toLittleEndian(el, little);
    case 'sequence':
      return { kind: 'sequence', tag: el.tag, vr: 'SQ', items: el.items.map((item) => copyDataset(item, little)) };
    case 'encapsulated':
      return undefined;
  }
}

function copyDataset(ds: Dataset, little: boolean): Dataset {
  const out = new Map<Tag, Element>();
  for (const [t, el] of ds) {
    const c = copyElement(el, little);
    if (c) out.set(t, c);
  }
  return out;
}

/** True if a charset-dependent value in `el` has bytes outside ASCII (ESC included). */
function needsCharset(el: Element): boolean {
  if (el.kind === 'value') return VR_TRAITS[el.vr].charsetAware && el.bytes.some((b) => b >= 0x80 || b === 0x1b);
  if (el.kind === 'sequence') return el.items.some((item) => [...item.values()].some(needsCharset));
  return false;
}

/** The record-specific keys of a non-IMAGE instance, from its de-identified file's dataset. */
export function keysFromDataset(type: string, ds: Dataset, littleEndian: boolean): Dataset {
  const keys = new Map<Tag, Element>();
  for (const spec of INSTANCE_KEYS[type] ?? DEFAULT_INSTANCE_KEYS) {
    const found = ds.get(spec.tag);
    if (found && !isEmptyValue(found)) {
      const c = copyElement(found, littleEndian);
      if (c?.kind === 'value' && DATE_TIME_FORMS[spec.vr]) {
        const v = normalizedDateTime(spec.vr, latin1.decode(c.bytes).replace(/\0+$/, ''));
        if (v !== undefined) {
          keys.set(spec.tag, text(spec.tag, spec.vr, v));
          continue;
        }
      } else if (c) {
        keys.set(spec.tag, c);
        continue;
      }
    }
    if (spec.fallback !== undefined) keys.set(spec.tag, text(spec.tag, spec.vr, spec.fallback));
    else if (spec.type === '2' || (spec.type === '1' && spec.vr !== 'SQ')) {
      keys.set(spec.tag, spec.vr === 'SQ' ? { kind: 'sequence', tag: spec.tag, vr: 'SQ', items: [] } : valueElement(spec.tag, spec.vr, new Uint8Array(0)));
    }
  }
  if (type === 'SR DOCUMENT' || type === 'KEY OBJECT DOC') {
    // Content Sequence (1C): the items that modify the document title's concept name.
    const content = ds.get(KeyTags.ContentSequence);
    if (content?.kind === 'sequence') {
      const mods = content.items.filter((item) => {
        const rel = item.get(KeyTags.RelationshipType);
        return rel?.kind === 'value' && latin1.decode(rel.bytes).trim() === 'HAS CONCEPT MOD';
      });
      if (mods.length > 0) keys.set(KeyTags.ContentSequence, { kind: 'sequence', tag: KeyTags.ContentSequence, vr: 'SQ', items: mods.map((i) => copyDataset(i, littleEndian)) });
    }
  }
  if (type === 'SR DOCUMENT') {
    // Verification DateTime (1C): the latest verification, required if the document is VERIFIED.
    const flag = keys.get(KeyTags.VerificationFlag);
    const observers = ds.get(KeyTags.VerifyingObserverSequence);
    if (flag?.kind === 'value' && latin1.decode(flag.bytes).trim() === 'VERIFIED') {
      const times = (observers?.kind === 'sequence' ? observers.items : [])
        .map((i) => i.get(KeyTags.VerificationDateTime))
        .filter((el): el is Element & { kind: 'value' } => el?.kind === 'value')
        .map((el) => latin1.decode(el.bytes).replace(/[\0 ]+$/, ''))
        .filter((s) => s !== '')
        .sort();
      // De-identification may have emptied the observers: then a placeholder keeps the record valid.
      const latest = times.map((t) => normalizedDateTime('DT', t)).filter((t) => t !== undefined).pop() ?? DUMMY_DATE + DUMMY_TIME;
      keys.set(KeyTags.VerificationDateTime, text(KeyTags.VerificationDateTime, 'DT', latest));
    }
  }
  if ([...keys.values()].some(needsCharset)) {
    const cs = ds.get(Tags.SpecificCharacterSet);
    if (cs?.kind === 'value') keys.set(Tags.SpecificCharacterSet, cs);
  }
  return keys;
}

async function readFileKeys(outputDir: string, entries: readonly IndexEntry[]): Promise<Map<string, Dataset>> {
  const out = new Map<string, Dataset>();
  for (const e of entries) {
    if (unusable(e)) continue;
    const type = recordTypeFor(e.sopClassUid)!;
    if (type === 'IMAGE' || out.has(e.sopInstanceUid)) continue;
    const path = join(outputDir, e.output);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw new Error(`DICOMDIR: cannot read ${e.output} for its ${type} record keys: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const file = readDicom(bytes, { untilTag: Tags.PixelData });
    out.set(e.sopInstanceUid, keysFromDataset(type, file.dataset, file.transferSyntax.littleEndian));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoding: explicit VR little endian, defined lengths

const ITEM_HEADER = 8;
const SEQUENCE_HEADER = 12;

function headerSize(vr: VR): number {
  return VR_TRAITS[vr].longLength ? 12 : 8;
}

function paddedLength(el: Element & { kind: 'value' }): number {
  return el.bytes.length + (el.bytes.length & 1);
}

function elementSize(el: Element): number {
  switch (el.kind) {
    case 'value':
      return headerSize(el.vr) + paddedLength(el);
    case 'sequence':
      return SEQUENCE_HEADER + el.items.reduce((n, item) => n + ITEM_HEADER + datasetSize(item), 0);
    case 'encapsulated':
      throw new Error('DICOMDIR: encapsulated values have no place in a directory record');
  }
}

function datasetSize(ds: Dataset): number {
  let n = 0;
  for (const el of ds.values()) n += elementSize(el);
  return n;
}

/** Writes into a buffer of exactly the computed size; any disagreement with the sizes throws. */
class LittleEndianWriter {
  readonly buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.alloc(size);
  }

  u16(v: number): void {
    this.buf.writeUInt16LE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }

  tag(t: Tag): void {
    this.u16(groupOf(t));
    this.u16(elementOf(t));
  }

  ascii(s: string): void {
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

function writeElement(w: LittleEndianWriter, el: Element): void {
  switch (el.kind) {
    case 'value': {
      const len = paddedLength(el);
      w.tag(el.tag);
      w.ascii(el.vr);
      if (VR_TRAITS[el.vr].longLength) {
        w.u16(0);
        w.u32(len);
      } else {
        if (len > 0xffff) throw new Error(`DICOMDIR: value of ${el.tag.toString(16)} too long for ${el.vr}`);
        w.u16(len);
      }
      w.bytes(el.bytes);
      if (len !== el.bytes.length) w.bytes(Uint8Array.of(VR_TRAITS[el.vr].pad));
      return;
    }
    case 'sequence': {
      w.tag(el.tag);
      w.ascii('SQ');
      w.u16(0);
      w.u32(elementSize(el) - SEQUENCE_HEADER);
      for (const item of el.items) writeItem(w, item);
      return;
    }
    case 'encapsulated':
      throw new Error('DICOMDIR: encapsulated values have no place in a directory record');
  }
}

function writeItem(w: LittleEndianWriter, item: Dataset): void {
  w.tag(Tags.Item);
  w.u32(datasetSize(item));
  for (const el of [...item.values()].sort((a, b) => a.tag - b.tag)) writeElement(w, el);
}

/** A record in file order with its final item dataset. */
interface LaidOutRecord {
  readonly record: DirectoryRecord;
  readonly offset: number;
  item: Map<Tag, Element>;
}

/**
 * Lays the records out depth first (each record followed by its lower-level entity, as DCMTK
 * and the PS3.10 Annex A example do), computes each item's offset from `firstItemOffset` and
 * fills in the offset elements.
 */
function layOut(roots: readonly DirectoryRecord[], firstItemOffset: number): LaidOutRecord[] {
  const order: LaidOutRecord[] = [];
  const byRecord = new Map<DirectoryRecord, LaidOutRecord>();
  let pos = firstItemOffset;
  const visit = (r: DirectoryRecord) => {
    // Offset elements are fixed-size (UL): placeholders now, values below, same size.
    const item = recordItem(r, 0, 0);
    const laid: LaidOutRecord = { record: r, offset: pos, item };
    order.push(laid);
    byRecord.set(r, laid);
    pos += ITEM_HEADER + datasetSize(item);
    r.children.forEach(visit);
  };
  roots.forEach(visit);
  const link = (entity: readonly DirectoryRecord[]) => {
    entity.forEach((r, i) => {
      const laid = byRecord.get(r)!;
      const next = entity[i + 1];
      const lower = r.children[0];
      laid.item = recordItem(r, next ? byRecord.get(next)!.offset : 0, lower ? byRecord.get(lower)!.offset : 0);
      link(r.children);
    });
  };
  link(roots);
  return order;
}

function recordItem(r: DirectoryRecord, next: number, lower: number): Map<Tag, Element> {
  const item = new Map<Tag, Element>(r.keys);
  item.set(DirTags.OffsetOfNextRecord, ul(DirTags.OffsetOfNextRecord, next));
  item.set(DirTags.RecordInUseFlag, us(DirTags.RecordInUseFlag, 0xffff));
  item.set(DirTags.OffsetOfLowerLevelEntity, ul(DirTags.OffsetOfLowerLevelEntity, lower));
  item.set(DirTags.DirectoryRecordType, text(DirTags.DirectoryRecordType, 'CS', r.type));
  return item;
}

/** 2.25 UID from a hash of what the directory references: same content, same UID. */
function directoryInstanceUid(included: readonly IndexEntry[]): string {
  const h = createHash('sha256');
  for (const e of included) h.update(`${e.sopInstanceUid}\0${e.output}\0`);
  const n = BigInt('0x' + h.digest('hex').slice(0, 32));
  return `2.25.${n.toString(10)}`;
}

/** The complete DICOMDIR file for a directory. */
export function encodeDirectory(dir: Directory): Buffer {
  const meta = new Map<Tag, Element>([
    [FILE_META_VERSION.tag, FILE_META_VERSION],
    [Tags.MediaStorageSOPClassUID, text(Tags.MediaStorageSOPClassUID, 'UI', DICOMDIR_SOP_CLASS)],
    [Tags.MediaStorageSOPInstanceUID, text(Tags.MediaStorageSOPInstanceUID, 'UI', directoryInstanceUid(dir.included))],
    [Tags.TransferSyntaxUID, text(Tags.TransferSyntaxUID, 'UI', TRANSFER_SYNTAX.ExplicitVRLittleEndian)],
    [Tags.ImplementationClassUID, text(Tags.ImplementationClassUID, 'UI', IMPLEMENTATION_CLASS_UID)],
    [Tags.ImplementationVersionName, text(Tags.ImplementationVersionName, 'SH', IMPLEMENTATION_VERSION_NAME)],
  ]);
  const top = (first: number, last: number) =>
    new Map<Tag, Element>([
      [DirTags.FileSetID, text(DirTags.FileSetID, 'CS', FILE_SET_ID)],
      [DirTags.OffsetOfFirstRecord, ul(DirTags.OffsetOfFirstRecord, first)],
      [DirTags.OffsetOfLastRecord, ul(DirTags.OffsetOfLastRecord, last)],
      [DirTags.FileSetConsistencyFlag, us(DirTags.FileSetConsistencyFlag, 0)],
    ]);
  const encodeHead = (first: number, last: number) =>
    Buffer.concat(encodeDicom({ meta, dataset: top(first, last), transferSyntax: transferSyntaxOf(TRANSFER_SYNTAX.ExplicitVRLittleEndian) }));

  // Pass 1: where the Directory Record Sequence starts (the offsets are fixed-size UL values).
  const sequenceStart = encodeHead(0, 0).length;
  const records = layOut(dir.roots, sequenceStart + SEQUENCE_HEADER);
  const offsetOf = (r: DirectoryRecord | undefined) => (r ? records.find((l) => l.record === r)!.offset : 0);
  // Pass 2: the real offsets.
  const head = encodeHead(offsetOf(dir.roots[0]), offsetOf(dir.roots[dir.roots.length - 1]));
  if (head.length !== sequenceStart) throw new Error('DICOMDIR: header size changed between passes');

  const sequence: Element = { kind: 'sequence', tag: DirTags.DirectoryRecordSequence, vr: 'SQ', items: records.map((r) => r.item) };
  const w = new LittleEndianWriter(elementSize(sequence));
  writeElement(w, sequence);
  if (w.pos !== w.buf.length) throw new Error('DICOMDIR: record sizes disagree with the encoding');
  const file = Buffer.concat([head, w.buf]);
  for (const r of records) {
    if (file.readUInt16LE(r.offset) !== 0xfffe || file.readUInt16LE(r.offset + 2) !== 0xe000) {
      throw new Error(`DICOMDIR: offset ${r.offset} of a ${r.record.type} record does not point at an item`);
    }
  }
  return file;
}

/**
 * Writes `DICOMDIR` into `outputDir` for the files in `entries` (one per written file, in any
 * order) and returns its path relative to `outputDir` with the files left out and why (no SOP
 * Instance, Study or Series UID, or an output path that is not a File ID).
 */
export async function writeDicomdir(
  outputDir: string,
  entries: readonly IndexEntry[],
): Promise<{ readonly path: string; readonly excluded: readonly { readonly output: string; readonly reason: string }[] }> {
  const fileKeys = await readFileKeys(outputDir, entries);
  const dir = buildDirectory(entries, fileKeys);
  await writeReplacing(join(outputDir, DICOMDIR_NAME), encodeDirectory(dir));
  return { path: DICOMDIR_NAME, excluded: dir.excluded.map((e) => ({ output: e.entry.output, reason: e.reason })) };
}
