/**
 * A head volume as a DICOM series, for tests that need a real head in DICOM: one single-frame
 * image per slice along k, with the geometry dcm2niix would read back as the volume's, written
 * the way a site's series would be (headers here, values through radanon's series writer).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeAscii, type Element } from '../../../src/dicom/dataset.js';
import { tag, Tags, type Tag } from '../../../src/dicom/tag.js';
import type { VR } from '../../../src/dicom/vr.js';
import { encodeDicomToBuffer, FILE_META_VERSION } from '../../../src/dicom/writer.js';
import { readDicomSeries, type DicomSeriesVolume } from '../../../src/volume/dicom-series.js';
import { writeDicomSeries } from '../../../src/volume/dicom-series-writer.js';
import { VolumeTags } from '../../../src/volume/dicom-values.js';
import { indexToWorld } from '../../../src/volume/geometry.js';
import type { Grid, Volume } from '../../../src/volume/volume.js';

/** The attributes a head series is written with, and tests read back. */
export const t = {
  ...VolumeTags,
  ImageType: tag(0x0008, 0x0008),
  StudyDate: Tags.StudyDate,
  StudyDescription: Tags.StudyDescription,
  DerivationDescription: tag(0x0008, 0x2111),
  PatientName: Tags.PatientName,
  PatientID: Tags.PatientID,
  BodyPartExamined: tag(0x0018, 0x0015),
  StudyInstanceUID: Tags.StudyInstanceUID,
} as const;

export const el = (tg: Tag, vr: VR, value: string): Element => ({ kind: 'value', tag: tg, vr, bytes: encodeAscii(value, vr === 'UI' ? 0 : 0x20) });
const us = (tg: Tag, value: number): Element => ({ kind: 'value', tag: tg, vr: 'US', bytes: Uint8Array.of(value & 0xff, value >> 8) });
/** A DS value of numbers, at most 10 significant digits each (DS holds 16 characters). */
export const decimals = (values: readonly number[]) => values.map((v) => String(Number(v.toPrecision(10)))).join('\\');

/** What distinguishes one test's series: identity (planted, fake), modality and pixel encoding. */
export interface HeadSeriesSpec {
  readonly sopClassUid: string;
  readonly modality: 'MR' | 'CT';
  readonly imageType: string;
  readonly studyUid: string;
  readonly seriesUid: string;
  readonly studyDate: string;
  readonly studyDescription: string;
  readonly seriesDescription: string;
  readonly patientName: string;
  readonly patientId: string;
  /** Bits Stored of 16 allocated, and whether the stored values are signed. */
  readonly bitsStored: number;
  readonly signed: boolean;
  readonly rescale: { readonly intercept: number; readonly slope: number };
  /** Further elements, the same in every file (Rescale Type, KVP, Spacing Between Slices, …). */
  readonly extra?: readonly Element[];
  /** File names are this prefix and the instance number, four digits. */
  readonly filePrefix: string;
}

/** A T1 head MR series as the tests plant it (fake identities; 12 of 16 bits, unsigned, no rescale). */
export const T1_HEAD: Omit<HeadSeriesSpec, 'studyUid' | 'seriesUid'> = {
  sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
  modality: 'MR',
  imageType: 'ORIGINAL\\PRIMARY\\M\\ND',
  studyDate: '20240102',
  studyDescription: 'MRI BRAIN',
  seriesDescription: 'T1 axial',
  patientName: 'Quux^Zorblatt',
  patientId: 'MRN55501234',
  bitsStored: 12,
  signed: false,
  rescale: { intercept: 0, slope: 1 },
  filePrefix: 'IM',
};

/** The volume with a right-handed axis system: DICOM slices are ordered along row × column. */
export function rightHanded<V extends Volume>(volume: V): V {
  const d = volume.grid.direction;
  const det = d[0]! * (d[4]! * d[8]! - d[7]! * d[5]!) - d[3]! * (d[1]! * d[8]! - d[7]! * d[2]!) + d[6]! * (d[1]! * d[5]! - d[4]! * d[2]!);
  if (det > 0) return volume;
  const [nx, ny, nz] = volume.grid.dims;
  const data = volume.data.slice();
  const slice = nx * ny;
  for (let k = 0; k < nz; k++) data.set(volume.data.subarray((nz - 1 - k) * slice, (nz - k) * slice), k * slice);
  const grid: Grid = { ...volume.grid, origin: indexToWorld(volume.grid, 0, 0, nz - 1), direction: [...d.slice(0, 6), -d[6]!, -d[7]!, -d[8]!] };
  return { grid, data } as V;
}

/**
 * A series on `grid` with zero pixels, one file per slice: the header template the series writer
 * fills. Positions are the centre of each slice's first pixel along the k axis; Pixel Spacing is
 * [between rows, between columns] = [j, i].
 */
export function writeHeaderSeries(grid: Grid, dir: string, spec: HeadSeriesSpec): void {
  mkdirSync(dir, { recursive: true });
  const [nx, ny, nz] = grid.dims;
  const [si, sj, sk] = grid.spacing;
  for (let k = 0; k < nz; k++) {
    const sop = `${spec.seriesUid}.${k + 1}`;
    const elements: Element[] = [
      el(t.ImageType, 'CS', spec.imageType),
      el(t.SOPClassUID, 'UI', spec.sopClassUid),
      el(t.SOPInstanceUID, 'UI', sop),
      el(t.StudyDate, 'DA', spec.studyDate),
      el(t.Modality, 'CS', spec.modality),
      el(t.StudyDescription, 'LO', spec.studyDescription),
      el(t.SeriesDescription, 'LO', spec.seriesDescription),
      el(t.PatientName, 'PN', spec.patientName),
      el(t.PatientID, 'LO', spec.patientId),
      el(t.BodyPartExamined, 'CS', 'HEAD'),
      el(t.SliceThickness, 'DS', decimals([sk])),
      el(t.StudyInstanceUID, 'UI', spec.studyUid),
      el(t.SeriesInstanceUID, 'UI', spec.seriesUid),
      el(t.InstanceNumber, 'IS', String(k + 1)),
      el(t.ImagePositionPatient, 'DS', decimals(indexToWorld(grid, 0, 0, k))),
      el(t.ImageOrientationPatient, 'DS', decimals(grid.direction.slice(0, 6))),
      el(t.FrameOfReferenceUID, 'UI', `${spec.studyUid}.9`),
      us(t.SamplesPerPixel, 1),
      el(t.PhotometricInterpretation, 'CS', 'MONOCHROME2'),
      us(t.Rows, ny),
      us(t.Columns, nx),
      el(t.PixelSpacing, 'DS', decimals([sj, si])),
      us(t.BitsAllocated, 16),
      us(t.BitsStored, spec.bitsStored),
      us(t.HighBit, spec.bitsStored - 1),
      us(t.PixelRepresentation, spec.signed ? 1 : 0),
      el(t.RescaleIntercept, 'DS', String(spec.rescale.intercept)),
      el(t.RescaleSlope, 'DS', String(spec.rescale.slope)),
      ...(spec.extra ?? []),
      { kind: 'value', tag: Tags.PixelData, vr: 'OW', bytes: new Uint8Array(2 * nx * ny) },
    ];
    const dataset = new Map<Tag, Element>(elements.map((e) => [e.tag, e]));
    const meta = new Map<Tag, Element>([
      [FILE_META_VERSION.tag, FILE_META_VERSION],
      [Tags.MediaStorageSOPClassUID, el(Tags.MediaStorageSOPClassUID, 'UI', spec.sopClassUid)],
      [Tags.MediaStorageSOPInstanceUID, el(Tags.MediaStorageSOPInstanceUID, 'UI', sop)],
      [Tags.TransferSyntaxUID, el(Tags.TransferSyntaxUID, 'UI', '1.2.840.10008.1.2.1')],
    ]);
    writeFileSync(path.join(dir, `${spec.filePrefix}${String(k + 1).padStart(4, '0')}`), encodeDicomToBuffer({ meta, dataset }));
  }
}

/**
 * `volume` (values after the rescale, on a right-handed grid) written as a series into `dir`:
 * headers from `spec`, values through radanon's series writer (which stores the inverse of the
 * rescale). Returns the series read back.
 */
export async function writeHeadSeries(volume: Volume, dir: string, spec: HeadSeriesSpec, derivationDescription: string): Promise<DicomSeriesVolume> {
  const headers = `${dir}.headers`;
  writeHeaderSeries(volume.grid, headers, spec);
  const layout = await readDicomSeries(headers);
  await writeDicomSeries({ grid: layout.grid, data: volume.data }, layout, dir, { derivationDescription, uidSeed: spec.seriesUid, uidKey: Buffer.alloc(32, 3) });
  rmSync(headers, { recursive: true, force: true });
  return readDicomSeries(dir);
}
