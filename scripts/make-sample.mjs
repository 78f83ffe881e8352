#!/usr/bin/env node
/**
 * Makes sample/study/: a small DICOM study with planted fake identities, for trying
 * `radanon deid` and `radanon verify` on a fresh clone (`npm run sample`).
 *
 * The images are real, MIT-licensed test files of pydicom (see NOTICE.md and sample/README.md),
 * read from ../shared/data/dicom (or $RADANON_SHARED_DATA/dicom). Their headers are rewritten
 * here to belong to two invented patients, Jane Doe and Richard Roe, with identities planted in
 * the places where real files carry them: standard attributes, nested sequences, a private block,
 * free text and the file names themselves. Everything planted is listed in sample/README.md.
 *
 * Output is deterministic (UIDs are derived from fixed labels), so re-running the script gives
 * byte-identical files. The study is committed; the script only documents and redoes how it was
 * made, and needs ../shared only then.
 *
 * Usage: npm run build && node scripts/make-sample.mjs
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDicom } from '../dist/dicom/reader.js';
import { encodeDicomToBuffer } from '../dist/dicom/writer.js';
import { asciiValue, encodeAscii, padEven, transferSyntaxOf, TRANSFER_SYNTAX } from '../dist/dicom/dataset.js';
import { encodeText, parseSpecificCharacterSet } from '../dist/dicom/charset.js';
import { parseTag, Tags } from '../dist/dicom/tag.js';
import { tagOfKeyword, vrOf } from '../dist/dicom/dictionary.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = process.env.RADANON_SHARED_DATA ?? resolve(repo, '../shared/data');
const sourceDir = join(dataDir, 'dicom', 'pydicom');
const outDir = join(repo, 'sample', 'study');

const LATIN1 = parseSpecificCharacterSet('ISO_IR 100');
const CHARSET_VRS = new Set(['PN', 'LO', 'SH', 'LT', 'ST', 'UT', 'UC']);
const EXPLICIT_LE = transferSyntaxOf(TRANSFER_SYNTAX.ExplicitVRLittleEndian);

// ---------------------------------------------------------------------------------------
// Small helpers over radanon's own dataset model (Map<Tag, Element>, values as bytes).

/** A tag from a keyword ("PatientName") or a tag text ("(0033,1010)"). */
function tagOf(name) {
  const t = name.startsWith('(') ? parseTag(name) : tagOfKeyword(name);
  if (t === undefined) throw new Error(`unknown keyword ${name}`);
  return t;
}

/** A text value element; the VR comes from the dictionary unless given. */
function text(name, value, vr = vrOf(tagOf(name))) {
  const t = tagOf(name);
  if (!vr) throw new Error(`no VR known for ${name}`);
  const bytes = CHARSET_VRS.has(vr) ? padEven(encodeText(value, LATIN1, vr), 0x20) : encodeAscii(value, vr === 'UI' ? 0x00 : 0x20);
  return { kind: 'value', tag: t, vr, bytes };
}

function seq(name, items) {
  return { kind: 'sequence', tag: tagOf(name), vr: 'SQ', items: items.map(item) };
}

/** A sequence item (or dataset) from a list of elements. */
function item(elements) {
  return new Map(elements.map((e) => [e.tag, e]));
}

/** Returns a copy of `ds` with `elements` set (replacing any of the same tag). */
function withElements(ds, elements) {
  const out = new Map(ds);
  for (const e of elements) out.set(e.tag, e);
  return out;
}

function without(ds, names) {
  const out = new Map(ds);
  for (const n of names) out.delete(tagOf(n));
  return out;
}

/** A UID under the 2.25 root derived from a label: fixed, valid, and unlike any real UID. */
function uid(label) {
  const h = createHash('sha256').update(`radanon-sample/${label}`).digest();
  h[6] = (h[6] & 0x0f) | 0x80;
  h[8] = (h[8] & 0x3f) | 0x80;
  return `2.25.${BigInt('0x' + h.subarray(0, 16).toString('hex')).toString(10)}`;
}

/**
 * The pixel data rolled down by `rows` rows, so that every sample image has pixel data of
 * its own (verify --original pairs each output with its original by a hash of the pixels).
 */
function rolledPixels(el, rowBytes, rows) {
  const src = el.bytes;
  const shift = (rows * rowBytes) % src.length;
  const out = new Uint8Array(src.length);
  out.set(src.subarray(src.length - shift), 0);
  out.set(src.subarray(0, src.length - shift), shift);
  return { ...el, bytes: out };
}

async function source(name) {
  return readDicom(await readFile(join(sourceDir, name)));
}

async function write(rel, dataset) {
  const sopClass = asciiValue(dataset.get(Tags.SOPClassUID));
  const sopInstance = asciiValue(dataset.get(Tags.SOPInstanceUID));
  const fileMeta = item([
    { kind: 'value', tag: parseTag('(0002,0001)'), vr: 'OB', bytes: Uint8Array.of(0, 1) },
    text('MediaStorageSOPClassUID', sopClass, 'UI'),
    text('MediaStorageSOPInstanceUID', sopInstance, 'UI'),
    text('TransferSyntaxUID', TRANSFER_SYNTAX.ExplicitVRLittleEndian, 'UI'),
    text('ImplementationClassUID', uid('implementation'), 'UI'),
    text('ImplementationVersionName', 'RADANON_SAMPLE', 'SH'),
    // Planted: the sending node's AE title, in the file meta group.
    text('SourceApplicationEntityTitle', 'SPRING_PACS', 'AE'),
  ]);
  const bytes = encodeDicomToBuffer({ meta: fileMeta, dataset, transferSyntax: EXPLICIT_LE });
  const path = join(outDir, rel);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
  return { rel, bytes: bytes.length };
}

// ---------------------------------------------------------------------------------------
// The invented people, places and studies.

const SITE = {
  institution: 'Springfield General Hospital',
  institutionAddress: '1 Hospital Road, Springfield',
  department: 'Radiology Springfield',
  referring: 'House^Gregory',
  operator: 'Operator^Olivia',
  performing: 'Physician^Paula',
};

const JANE = {
  name: 'Doe^Jane',
  id: 'SAMPLE-0001',
  otherId: 'HOSP-77-0001',
  birth: '19700101',
  sex: 'F',
  address: '12 Sample Street, Springfield',
  phone: '555-0100',
  mother: 'Doe^Martha',
};

const RICHARD = {
  name: 'Roe^Richard',
  id: 'SAMPLE-0002',
  otherId: 'HOSP-77-0002',
  birth: '19580723',
  sex: 'M',
  address: '7 Elm Row, Shelbyville',
  phone: '555-0199',
  mother: 'Roe^Ruth',
};

/** Identity, site and study attributes shared by every file of a study. */
function studyHeader(p, s) {
  return [
    text('SpecificCharacterSet', 'ISO_IR 100'),
    // Patient
    text('PatientName', p.name),
    text('PatientID', p.id),
    text('IssuerOfPatientID', 'SPRINGFIELD GH'),
    seq('OtherPatientIDsSequence', [[text('PatientID', p.otherId), text('IssuerOfPatientID', 'SPRINGFIELD GH'), text('TypeOfPatientID', 'TEXT')]]),
    text('PatientBirthDate', p.birth),
    text('PatientSex', p.sex),
    text('PatientAge', s.age),
    text('PatientAddress', p.address),
    text('PatientTelephoneNumbers', p.phone),
    text('PatientMotherBirthName', p.mother),
    text('AdditionalPatientHistory', s.history),
    // Study
    text('StudyInstanceUID', uid(`${s.key}/study`)),
    text('StudyDate', s.date),
    text('StudyTime', s.time),
    text('StudyID', s.studyId),
    text('AccessionNumber', s.accession),
    text('StudyDescription', s.description),
    text('ReferringPhysicianName', SITE.referring),
    // The accession number again, nested, as RIS/PACS workflows leave it.
    seq('RequestAttributesSequence', [[
      text('AccessionNumber', s.accession),
      text('RequestedProcedureID', s.studyId),
      text('ScheduledProcedureStepID', `${s.studyId}-1`),
      text('RequestedProcedureDescription', s.description),
    ]]),
    seq('ReferencedStudySequence', [[
      text('ReferencedSOPClassUID', '1.2.840.10008.3.1.2.3.1', 'UI'),
      text('ReferencedSOPInstanceUID', uid(`${s.key}/study`)),
    ]]),
    // Site and device
    text('InstitutionName', SITE.institution),
    text('InstitutionAddress', SITE.institutionAddress),
    text('InstitutionalDepartmentName', SITE.department),
    text('OperatorsName', SITE.operator),
    text('PerformingPhysicianName', SITE.performing),
    text('StationName', s.station),
    text('DeviceSerialNumber', s.serial),
    // A private block that repeats the name, as some PACS do.
    text('(0033,0010)', 'RADANON SAMPLE PRIVATE', 'LO'),
    text('(0033,1010)', `${p.name} ${p.id}`, 'LO'),
  ];
}

/** Date/time attributes of one series, on the study's date. */
function seriesDates(s, seriesTime) {
  return [
    text('SeriesDate', s.date),
    text('SeriesTime', seriesTime),
    text('AcquisitionDate', s.date),
    text('ContentDate', s.date),
    text('InstanceCreationDate', s.date),
  ];
}

const STUDIES = {
  janeCt: {
    key: 'jane/ct', series: 'Chest 5mm', date: '20230314', time: '091500', age: '053Y', studyId: 'S-23-0314',
    accession: 'ACC-2023-0314', station: 'SPRINGCT01', serial: 'CT-SN-004217',
    description: 'CT chest for Jane Doe MRN SAMPLE-0001, call 555-0100',
    history: 'Ex-smoker. Referred by Dr House; sister Martha Doe treated here 2019.',
  },
  janeMr: {
    key: 'jane/mr', date: '20240109', time: '140500', age: '054Y', studyId: 'S-24-0109',
    accession: 'ACC-2024-0109', station: 'SPRINGMR01', serial: 'MR-SN-007731',
    description: 'MR head Doe Jane follow-up',
    history: 'Follow-up of CT 2023-03-14.',
  },
  richardCt: {
    key: 'richard/ct', series: 'Abdomen 5mm', date: '20231102', time: '101000', age: '065Y', studyId: 'S-23-1102',
    accession: 'ACC-2023-1102', station: 'SPRINGCT01', serial: 'CT-SN-004217',
    description: 'CT abdomen Roe Richard born 23.07.1958',
    history: 'Lives at 7 Elm Row, Shelbyville; phone 555-0199.',
  },
};

// ---------------------------------------------------------------------------------------
// The files.

/** CT slices from pydicom's CT_small.dcm (128×128, 16 bits, GE private elements kept). */
async function ctSeries(patient, s, folder, count) {
  const ct = await source('CT_small.dcm');
  const base = without(ct.dataset, ['(FFFC,FFFC)']); // DataSetTrailingPadding
  const seriesUid = uid(`${s.key}/series/1`);
  const frame = uid(`${s.key}/frame`);
  const written = [];
  const slices = [];
  for (let i = 0; i < count; i++) {
    const z = -75.7 + 5 * i;
    const sop = uid(`${s.key}/ct/${i + 1}`);
    slices.push({ sop, z });
    const ds = withElements(base, [
      ...studyHeader(patient, s),
      ...seriesDates(s, s.time.replace(/..$/, '30')),
      text('SOPInstanceUID', sop),
      text('SeriesInstanceUID', seriesUid),
      text('FrameOfReferenceUID', frame),
      text('SeriesNumber', '2'),
      text('InstanceNumber', String(i + 1)),
      text('SeriesDescription', `${s.series} ${patient.name.split('^')[1]} ${patient.name.split('^')[0]}`),
      text('ImagePositionPatient', `-158.135803\\-179.035797\\${z.toFixed(6)}`),
      text('SliceLocation', z.toFixed(6)),
      text('ImageComments', `Slice ${i + 1}; patient ${patient.name.replace('^', ' ')} moved, repeat ordered by Dr House`),
      rolledPixels(ct.dataset.get(Tags.PixelData), 256, 7 * i + (patient === RICHARD ? 40 : 0)),
    ]);
    written.push(await write(join(folder, `CT_${String(i + 1).padStart(4, '0')}.dcm`), ds));
  }
  return { written, slices, seriesUid, frame };
}

/** MR slices from pydicom's MR_small.dcm (64×64, 16 bits). */
async function mrSeries(patient, s, folder, count) {
  const mr = await source('MR_small.dcm');
  const base = without(mr.dataset, ['(FFFC,FFFC)']);
  const seriesUid = uid(`${s.key}/series/1`);
  const frame = uid(`${s.key}/frame`);
  const written = [];
  for (let i = 0; i < count; i++) {
    const z = 6.6406 + 0.8 * i;
    const ds = withElements(base, [
      ...studyHeader(patient, s),
      ...seriesDates(s, s.time.replace(/..$/, '45')),
      text('SOPInstanceUID', uid(`${s.key}/mr/${i + 1}`)),
      text('SeriesInstanceUID', seriesUid),
      text('FrameOfReferenceUID', frame),
      text('SeriesNumber', '3'),
      text('InstanceNumber', String(i + 1)),
      text('SeriesDescription', 'T1 SE axial'),
      text('NameOfPhysiciansReadingStudy', SITE.referring),
      text('ImagePositionPatient', `-83.9063\\-91.2000\\${z.toFixed(4)}`),
      text('SliceLocation', (0.8 * i).toFixed(4)),
      text('ImageComments', `${patient.name.split('^').reverse().join(' ')}, MRN ${patient.id}`),
      rolledPixels(mr.dataset.get(Tags.PixelData), 128, 5 * i + 3),
    ]);
    written.push(await write(join(folder, `MR_${String(i + 1).padStart(4, '0')}.dcm`), ds));
  }
  return written;
}

/**
 * An RT Structure Set (the segmentation a radiomics study extracts features from), from
 * pydicom's rtstruct.dcm, re-pointed at the CT slices: a square "GTV" contour on each slice.
 * Its references to the CT's study, series, frame and instances must survive de-identification
 * consistently, which the pseudonymized UIDs show.
 */
async function rtStruct(patient, s, ct, folder) {
  const rt = await source('rtstruct.dcm');
  const roi = [
    text('ROINumber', '1'),
    text('ReferencedFrameOfReferenceUID', ct.frame),
    text('ROIName', 'GTV nodule'),
    text('ROIDescription', `Nodule RUL, contoured by Dr House for ${patient.name.replace('^', ' ')}`),
    text('ROIGenerationAlgorithm', 'MANUAL'),
  ];
  // A 16 mm square in the patient coordinates of the CT (x -158..-74, y -179..-95 mm).
  const corners = [[-123, -144], [-107, -144], [-107, -128], [-123, -128]];
  const square = (z) => corners.flatMap(([x, y]) => [x, y, z]).map((v) => v.toFixed(1));
  const contours = ct.slices.map(({ sop, z }, i) => [
    seq('ContourImageSequence', [[text('ReferencedSOPClassUID', '1.2.840.10008.5.1.4.1.1.2', 'UI'), text('ReferencedSOPInstanceUID', sop)]]),
    text('ContourGeometricType', 'CLOSED_PLANAR'),
    text('NumberOfContourPoints', '4'),
    text('ContourNumber', String(i + 1)),
    text('ContourData', square(z).join('\\')),
  ]);
  const ds = withElements(rt.dataset, [
    ...studyHeader(patient, s),
    text('InstanceCreationDate', s.date),
    text('InstanceCreationTime', '113000'),
    text('SOPInstanceUID', uid(`${s.key}/rtstruct/1`)),
    text('SeriesInstanceUID', uid(`${s.key}/series/9`)),
    text('SeriesNumber', '9'),
    text('InstanceNumber', '1'),
    text('SeriesDescription', 'GTV contours'),
    text('FrameOfReferenceUID', ct.frame),
    text('PositionReferenceIndicator', ''),
    text('StructureSetLabel', 'DOE JANE GTV'),
    text('StructureSetName', 'GTV Doe'),
    text('StructureSetDate', s.date),
    text('StructureSetTime', '112500'),
    seq('ReferencedFrameOfReferenceSequence', [[
      text('FrameOfReferenceUID', ct.frame),
      seq('RTReferencedStudySequence', [[
        text('ReferencedSOPClassUID', '1.2.840.10008.3.1.2.3.1', 'UI'),
        text('ReferencedSOPInstanceUID', uid(`${s.key}/study`)),
        seq('RTReferencedSeriesSequence', [[
          text('SeriesInstanceUID', ct.seriesUid),
          seq('ContourImageSequence', ct.slices.map(({ sop }) => [
            text('ReferencedSOPClassUID', '1.2.840.10008.5.1.4.1.1.2', 'UI'),
            text('ReferencedSOPInstanceUID', sop),
          ])),
        ]]),
      ]]),
    ]]),
    seq('StructureSetROISequence', [roi]),
    seq('ROIContourSequence', [[text('ROIDisplayColor', '255\\0\\0'), seq('ContourSequence', contours), text('ReferencedROINumber', '1')]]),
    seq('RTROIObservationsSequence', [[
      text('ObservationNumber', '1'),
      text('ReferencedROINumber', '1'),
      text('ROIObservationLabel', 'GTV'),
      text('RTROIInterpretedType', 'GTV'),
      text('ROIInterpreter', SITE.referring),
    ]]),
  ]);
  return write(join(folder, 'RTSTRUCT_0001.dcm'), ds);
}

/**
 * A radiologist's report as a Basic Text SR, from pydicom's reportsi.dcm: its template slots
 * ("Enter text") filled with names and free text, and its image references pointed at the CT.
 */
async function report(patient, s, ct, folder) {
  const sr = await source('reportsi.dcm');
  const concept = (value, meaning) => seq('ConceptNameCodeSequence', [[
    text('CodeValue', value), text('CodingSchemeDesignator', '99_OFFIS_DCMTK'), text('CodeMeaning', meaning),
  ]]);
  const imageRef = (sop) => seq('ReferencedSOPSequence', [[
    text('ReferencedSOPClassUID', '1.2.840.10008.5.1.4.1.1.2', 'UI'), text('ReferencedSOPInstanceUID', sop),
  ]]);
  const content = seq('ContentSequence', [
    [text('RelationshipType', 'HAS OBS CONTEXT'), text('ValueType', 'PNAME'), concept('IHE.04', "Recording Observer's Name"), text('PersonName', SITE.referring)],
    [text('RelationshipType', 'HAS OBS CONTEXT'), text('ValueType', 'TEXT'), concept('IHE.05', "Recording Observer's Organization Name"), text('TextValue', SITE.institution)],
    [
      text('RelationshipType', 'CONTAINS'), text('ValueType', 'CONTAINER'), concept('IHE.08', 'Section Heading'), text('ContinuityOfContent', 'SEPARATE'),
      seq('ContentSequence', [
        [
          text('RelationshipType', 'CONTAINS'), text('ValueType', 'TEXT'), concept('IHE.09', 'Report Text'),
          text('TextValue', 'Jane Doe (MRN SAMPLE-0001, born 01/01/1970): 16 mm nodule in the right upper lobe, see image 2. Discussed with Dr House by phone 555-0100 on 14 March 2023.'),
          seq('ContentSequence', [[imageRef(ct.slices[1].sop), text('RelationshipType', 'INFERRED FROM'), text('ValueType', 'IMAGE'), concept('IHE.10', 'Image Reference')]]),
        ],
      ]),
    ],
  ]);
  const evidence = seq('CurrentRequestedProcedureEvidenceSequence', [[
    text('StudyInstanceUID', uid(`${s.key}/study`)),
    seq('ReferencedSeriesSequence', [[
      text('SeriesInstanceUID', ct.seriesUid),
      seq('ReferencedSOPSequence', [[text('ReferencedSOPClassUID', '1.2.840.10008.5.1.4.1.1.2', 'UI'), text('ReferencedSOPInstanceUID', ct.slices[1].sop)]]),
    ]]),
  ]]);
  const ds = withElements(sr.dataset, [
    ...studyHeader(patient, s),
    text('ContentDate', s.date),
    text('ContentTime', '120000'),
    text('InstanceCreationDate', s.date),
    text('SOPInstanceUID', uid(`${s.key}/sr/1`)),
    text('SeriesInstanceUID', uid(`${s.key}/series/20`)),
    text('SeriesNumber', '20'),
    text('InstanceNumber', '1'),
    text('SeriesDescription', 'Report Dr House'),
    evidence,
    content,
  ]);
  return write(join(folder, 'SR_0001.dcm'), ds);
}

async function main() {
  await rm(outDir, { recursive: true, force: true });
  const files = [];
  const janeCtFolder = join('Doe_Jane', '20230314_CT_chest');
  const janeCt = await ctSeries(JANE, STUDIES.janeCt, janeCtFolder, 3);
  files.push(...janeCt.written);
  files.push(await rtStruct(JANE, STUDIES.janeCt, janeCt, janeCtFolder));
  files.push(await report(JANE, STUDIES.janeCt, janeCt, janeCtFolder));
  files.push(...(await mrSeries(JANE, STUDIES.janeMr, join('Doe_Jane', '20240109_MR_head'), 2)));
  const richardCt = await ctSeries(RICHARD, STUDIES.richardCt, join('Roe_Richard', '20231102_CT_abdomen'), 2);
  files.push(...richardCt.written);
  const total = files.reduce((n, f) => n + f.bytes, 0);
  for (const f of files) process.stdout.write(`${f.rel}  ${f.bytes} bytes\n`);
  process.stdout.write(`${files.length} files, ${total} bytes in ${outDir}\n`);
}

await main();
