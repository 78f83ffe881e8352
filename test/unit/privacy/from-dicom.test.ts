/**
 * The table drawn from a DICOM folder: files made from a fixture with chosen header values
 * (several patients, studies, series), a broken file and a non-DICOM file among them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element } from '../../../src/dicom/dataset.js';
import { tag, Tags, type Tag } from '../../../src/dicom/tag.js';
import type { VR } from '../../../src/dicom/vr.js';
import { encodeDicomToBuffer } from '../../../src/dicom/writer.js';
import { DEFAULT_DICOM_FIELDS, DicomFieldsError, extractDicomTable, parseDicomFields } from '../../../src/privacy/from-dicom.js';
import { fixtureBytes, readFixture, textElement } from '../support/dicom.js';

const T = {
  PatientAge: tag(0x0010, 0x1010),
  PatientSex: tag(0x0010, 0x0040),
  IssuerOfPatientID: tag(0x0010, 0x0021),
  InstitutionName: tag(0x0008, 0x0080),
  Manufacturer: tag(0x0008, 0x0070),
  ManufacturerModelName: tag(0x0008, 0x1090),
  BodyPartExamined: tag(0x0018, 0x0015),
  PatientWeight: tag(0x0010, 0x1030),
  Rows: tag(0x0028, 0x0010),
} as const;

type Values = Partial<Record<keyof typeof T | 'PatientID' | 'StudyInstanceUID' | 'StudyDate' | 'StudyTime' | 'Modality' | 'PatientBirthDate', string | null>>;

const VRS: Record<string, [Tag, VR]> = {
  PatientID: [Tags.PatientID, 'LO'],
  StudyInstanceUID: [Tags.StudyInstanceUID, 'UI'],
  StudyDate: [Tags.StudyDate, 'DA'],
  StudyTime: [Tags.StudyTime, 'TM'],
  Modality: [Tags.Modality, 'CS'],
  PatientBirthDate: [Tags.PatientBirthDate, 'DA'],
  PatientAge: [T.PatientAge, 'AS'],
  PatientSex: [T.PatientSex, 'CS'],
  IssuerOfPatientID: [T.IssuerOfPatientID, 'LO'],
  InstitutionName: [T.InstitutionName, 'LO'],
  Manufacturer: [T.Manufacturer, 'LO'],
  ManufacturerModelName: [T.ManufacturerModelName, 'LO'],
  BodyPartExamined: [T.BodyPartExamined, 'CS'],
  PatientWeight: [T.PatientWeight, 'DS'],
};

/** CT_small with the given header values; null removes the attribute. */
function dicomWith(values: Values, metaSopClass?: string): Buffer {
  const f = readFixture('CT_small.dcm');
  const ds = new Map<Tag, Element>(f.dataset);
  for (const [k, v] of Object.entries(values)) {
    const [t, vr] = VRS[k]!;
    if (v === null) ds.delete(t);
    else ds.set(t, textElement(t, vr, v!));
  }
  const meta = new Map<Tag, Element>(f.meta);
  if (metaSopClass) meta.set(Tags.MediaStorageSOPClassUID, textElement(Tags.MediaStorageSOPClassUID, 'UI', metaSopClass));
  return encodeDicomToBuffer({ meta, dataset: ds, transferSyntax: f.transferSyntax });
}

const base: Values = {
  PatientAge: null,
  PatientBirthDate: null,
  IssuerOfPatientID: null,
  InstitutionName: null,
  BodyPartExamined: null,
  StudyTime: '120000',
};

let dir: string;

function put(rel: string, bytes: Buffer | string): void {
  const p = join(dir, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, bytes);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'radanon-from-dicom-'));
  const p1 = { ...base, PatientID: 'P1', PatientSex: 'M', InstitutionName: 'SITE A', Manufacturer: 'GE', ManufacturerModelName: 'M1', BodyPartExamined: 'CHEST', PatientWeight: '72.5' };
  // P1's later study sorts first by path: the earliest study must still win.
  put('a/p1-late.dcm', dicomWith({ ...p1, StudyInstanceUID: '1.2.3.2', StudyDate: '20150101', Modality: 'MR', PatientAge: '039Y', ManufacturerModelName: 'M2' }));
  put('b/p1-ct.dcm', dicomWith({ ...p1, StudyInstanceUID: '1.2.3.1', StudyDate: '20100505', Modality: 'PT', PatientAge: '034Y' }));
  put('b/p1-pt.dcm', dicomWith({ ...p1, StudyInstanceUID: '1.2.3.1', StudyDate: '20100505', Modality: 'CT', PatientAge: '034Y' }));
  // P2: no age, birth date and study date give 29 (the birthday is the day after); site from the issuer.
  put('c/p2.dcm', dicomWith({ ...base, PatientID: 'P2', StudyInstanceUID: '1.2.3.3', StudyDate: '20100614', PatientBirthDate: '19800615', PatientSex: 'F', IssuerOfPatientID: 'SITE-B', Modality: 'CT', Manufacturer: 'SIEMENS', ManufacturerModelName: 'X' }));
  // P3: an infant, no study date, a body part but no manufacturer.
  put('c/p3.dcm', dicomWith({ ...base, PatientID: 'P3', StudyInstanceUID: '1.2.3.0', StudyDate: null, PatientAge: '006M', PatientSex: 'O', Modality: 'MR', Manufacturer: null, ManufacturerModelName: null, BodyPartExamined: 'HEAD' }));
  // Not placeable, not readable, not DICOM, an index.
  put('d/no-patient.dcm', dicomWith({ ...base, PatientID: null, StudyInstanceUID: '1.2.3.9', StudyDate: '20120101', Modality: 'CT' }));
  put('d/truncated.dcm', fixtureBytes('CT_small.dcm').subarray(0, 700)); // cut inside the header
  put('d/notes.txt', 'not an image\n');
  put('DICOMDIR', dicomWith({ ...base, PatientID: 'P9', StudyInstanceUID: '1.2.3.8' }, '1.2.840.10008.1.3.10'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('extractDicomTable', () => {
  it('one record per patient: the default fields, values of the earliest study, sorted by Patient ID', async () => {
    const { table, failures } = await extractDicomTable(dir, { per: 'patient' });
    expect(table.columns).toEqual(['age', 'sex', 'site', 'manufacturer', 'model', 'studyYear', 'modality', 'bodyPart']);
    expect(table.source).toBe(dir);
    expect(table.rows).toEqual([
      ['34', 'M', 'SITE A', 'GE', 'M1', '2010', 'CT+PT', 'CHEST'],
      ['29', 'F', 'SITE-B', 'SIEMENS', 'X', '2010', 'CT', ''],
      ['0', 'O', '', '', '', '', 'MR', 'HEAD'],
    ]);
    // The key is an identifier, not a column.
    expect(table.rows.flat()).not.toContain('P1');
    expect(failures.map((f) => f.file).sort()).toEqual(['d/no-patient.dcm', 'd/notes.txt', 'd/truncated.dcm']);
    const reason = new Map(failures.map((f) => [f.file, f.reason]));
    expect(reason.get('d/no-patient.dcm')).toMatch(/no Patient ID \(0010,0020\)/);
    expect(reason.get('d/notes.txt')).toBe('not a DICOM file');
    expect(reason.get('d/truncated.dcm')).toMatch(/truncated|past the end|length/i);
  });

  it('one record per study: modalities of the study joined, sorted by Study Instance UID', async () => {
    const { table, failures } = await extractDicomTable(dir, { per: 'study' });
    expect(table.rows).toEqual([
      ['0', 'O', '', '', '', '', 'MR', 'HEAD'], // 1.2.3.0
      ['34', 'M', 'SITE A', 'GE', 'M1', '2010', 'CT+PT', 'CHEST'], // 1.2.3.1
      ['39', 'M', 'SITE A', 'GE', 'M2', '2015', 'MR', 'CHEST'], // 1.2.3.2
      ['29', 'F', 'SITE-B', 'SIEMENS', 'X', '2010', 'CT', ''], // 1.2.3.3
      // 1.2.3.9: the file without a Patient ID; what the fixture holds and the test did not change
      ['', 'O', '', 'GE MEDICAL SYSTEMS', 'RHAPSODE', '2012', 'CT', ''],
    ]);
    // The file without a Patient ID has a study: per study it is a record, not a failure.
    expect(failures.map((f) => f.file).sort()).toEqual(['d/notes.txt', 'd/truncated.dcm']);
  });

  it('chosen fields: keywords (text, age in years, binary numbers) and renamed built-ins', async () => {
    const fields = parseDicomFields('years=PatientAge,weight=PatientWeight,rows=Rows,where=site,sex');
    const { table } = await extractDicomTable(dir, { per: 'patient', fields });
    expect(table.columns).toEqual(['years', 'weight', 'rows', 'where', 'sex']);
    const rows = readFixture('CT_small.dcm').dataset.get(T.Rows)!;
    const expectedRows = rows.kind === 'value' ? String(Buffer.from(rows.bytes).readUInt16LE(0)) : '?';
    expect(table.rows).toEqual([
      ['34', '72.5', expectedRows, 'SITE A', 'M'],
      // P2 has no Patient's Age: a keyword field has no fallback to the birth date.
      ['', '0.000000', expectedRows, 'SITE-B', 'F'], // the fixture's weight
      ['0', '0.000000', expectedRows, '', 'O'],
    ]);
  });
});

describe('parseDicomFields', () => {
  it('built-in names and name=Keyword pairs', () => {
    expect(parseDicomFields('age,sex')).toEqual([DEFAULT_DICOM_FIELDS[0], DEFAULT_DICOM_FIELDS[1]]);
    expect(parseDicomFields(' age = PatientAge ')).toEqual([{ name: 'age', kind: 'keyword', keyword: 'PatientAge', tag: T.PatientAge }]);
  });

  const errors: [string, RegExp][] = [
    ['age,,sex', /list names separated by commas/],
    ['age,age', /column "age" is named twice/],
    ['height', /"height" is not a built-in field \(age, sex, site, manufacturer, model, studyYear, modality, bodyPart\); write name=Keyword/],
    ['w=PatientWieght', /"PatientWieght" is not a DICOM keyword \(PS3.6\)/],
    ['my field=PatientAge', /"my field" is not a usable column name/],
  ];
  for (const [text, reason] of errors) {
    it(`refuses "${text}"`, () => {
      expect(() => parseDicomFields(text)).toThrowError(DicomFieldsError);
      expect(() => parseDicomFields(text)).toThrowError(reason);
    });
  }
});
