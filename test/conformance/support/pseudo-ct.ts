/**
 * A synthetic "pseudo-CT" head made from a real T1-weighted head, for the CT path of defacing.
 *
 * The shared data holds no CT head volume. The pseudo-CT gives a real head's shape (skin surface,
 * face, brain) CT-like values: it proves what defacing does with Hounsfield units (the background
 * written into the face, the registration and the similarity check across modalities, the skin
 * threshold of the renders, face detection on the skin surface, the DICOM CT round trip) and says
 * nothing about CT anatomy. Its tissue classes come from the T1 intensities and the brain mask the
 * template carries onto the head:
 *
 * | where (T1 head) | value (HU) |
 * | --- | --- |
 * | outside the head (T1 at or below its skin threshold, connected to the grid's border) | air, −1000 ± 10, rising with the T1 towards the skin (below) |
 * | inside the head, dark in T1, outside the skull band (sinuses) | air, −1000 ± 10 |
 * | brain mask: dark (CSF) | 5 ± 5 |
 * | brain mask: the rest (grey and white matter, by T1 brightness) | 30 to 40 ± 5 |
 * | skull band (1 to 14 mm outside the brain), dark in T1 | bone, 800 to 1500 (denser where darker) |
 * | elsewhere in the head, bright in T1 (fat) | −100 ± 10 |
 * | elsewhere in the head (skin, muscle, soft tissue) | 40 ± 10; at the skin, −1000 + 1040 · T1 / (2 · skin threshold), the T1's partial volume |
 * | outside the circular reconstruction field (in each slice across the head's long axis) | padding, −3024 |
 *
 * The values are Int16 Hounsfield units; a DICOM CT series stores them with Rescale Intercept
 * −1024 and slope 1 (dicom-series-writer inverts the rescale).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeAscii, type Element } from '../../../src/dicom/dataset.js';
import { tag, Tags, type Tag } from '../../../src/dicom/tag.js';
import type { VR } from '../../../src/dicom/vr.js';
import { encodeDicomToBuffer, FILE_META_VERSION } from '../../../src/dicom/writer.js';
import { dilateMask } from '../../../src/volume/deface/face-mask.js';
import { skinThreshold } from '../../../src/volume/deface/render.js';
import { readDicomSeries, type DicomSeriesVolume } from '../../../src/volume/dicom-series.js';
import { writeDicomSeries } from '../../../src/volume/dicom-series-writer.js';
import { indexToWorld } from '../../../src/volume/geometry.js';
import type { Grid, Mask, Volume } from '../../../src/volume/volume.js';

export const PADDING_HU = -3024;
export const AIR_HU = -1000;

/** Deterministic noise: a Park–Miller generator and a sum of four uniforms (close enough to Gaussian). */
function noise(seed: number): (sd: number) => number {
  let s = seed % 2147483647 || 1;
  const next = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  return (sd) => (next() + next() + next() + next() - 2) * sd * Math.sqrt(3);
}

/** The grid axis that runs closest to superior (patient +z): the reconstruction circle lies across it. */
function axialAxis(grid: Grid): number {
  let best = 0;
  for (let a = 1; a < 3; a++) if (Math.abs(grid.direction[3 * a + 2]!) > Math.abs(grid.direction[3 * best + 2]!)) best = a;
  return best;
}

/**
 * The pseudo-CT of a T1 head, on its grid. `brain` is the template's brain mask carried onto the
 * head (defaceVolume's brainMask). `seed` fixes the noise.
 */
export function pseudoCtFromT1(t1: Volume, brain: Mask, seed = 7): Volume<Int16Array> {
  const { grid, data } = t1;
  const count = data.length;
  const skin = skinThreshold(t1);
  const near = dilateMask(brain, 1).data;
  const band = dilateMask(brain, 14).data;
  // T1 brightness inside the head, as quantiles, for the class boundaries.
  const inside: number[] = [];
  for (let n = 0; n < count; n += 7) if (data[n]! > skin) inside.push(data[n]!);
  inside.sort((a, b) => a - b);
  const at = (q: number) => inside[Math.min(inside.length - 1, Math.floor(q * inside.length))]!;
  const fat = at(0.9);
  const brainValues: number[] = [];
  for (let n = 0; n < count; n += 7) if (brain.data[n]) brainValues.push(data[n]!);
  brainValues.sort((a, b) => a - b);
  const csf = brainValues[Math.floor(0.1 * brainValues.length)]!;
  const brainTop = brainValues[Math.floor(0.95 * brainValues.length)]!;
  const outside = outsideAir(grid, data, skin);
  const rand = noise(seed);
  const out = new Int16Array(count);
  for (let n = 0; n < count; n++) {
    const v = data[n]!;
    let hu: number;
    // From air to soft tissue, the T1's own partial-volume ramp at the skin (0 → twice the skin
    // threshold) becomes −1000 → 40 HU, as a CT's point-spread blurs the skin: with a step instead,
    // the rendered skin is a staircase of voxels.
    const ramp = AIR_HU + (40 - AIR_HU) * Math.min(1, Math.max(0, v / (2 * skin)));
    if (outside[n]) {
      hu = ramp + rand(10);
    } else if (brain.data[n]) {
      hu = v <= csf ? 5 + rand(5) : 30 + 10 * Math.min(1, Math.max(0, (v - csf) / (brainTop - csf))) + rand(5);
    } else if (band[n] && !near[n] && v < skin * 1.5) {
      // The dark band between scalp and brain: bone, densest where the T1 is darkest.
      hu = 800 + 700 * Math.min(1, Math.max(0, 1 - v / (skin * 1.5))) + rand(20);
    } else if (v <= skin) {
      // Dark inside the head, away from the skull: the sinuses.
      hu = AIR_HU + rand(10);
    } else if (v >= fat) {
      hu = -100 + rand(10);
    } else {
      hu = ramp + rand(10);
    }
    out[n] = Math.round(hu);
  }
  // The reconstruction field: a circle across the axial axis, centred on the grid, its radius 55%
  // of the larger in-plane extent; the corners of each slice are padding.
  const axial = axialAxis(grid);
  const [a, b] = [0, 1, 2].filter((x) => x !== axial) as [number, number];
  const dims = grid.dims;
  const radius = 0.55 * Math.max(dims[a]! * grid.spacing[a]!, dims[b]! * grid.spacing[b]!);
  const ca = (dims[a]! - 1) / 2;
  const cb = (dims[b]! - 1) / 2;
  const strides = [1, dims[0], dims[0] * dims[1]];
  for (let n = 0; n < count; n++) {
    const index = [n % dims[0], Math.floor(n / strides[1]!) % dims[1], Math.floor(n / strides[2]!)];
    const da = (index[a]! - ca) * grid.spacing[a]!;
    const db = (index[b]! - cb) * grid.spacing[b]!;
    if (da * da + db * db > radius * radius) out[n] = PADDING_HU;
  }
  return { grid, data: out };
}

/**
 * The air around the head: the voxels at or below the skin threshold that connect (face to face)
 * to the border of the grid. Dark voxels inside the head (skull, sinuses) are not reached.
 */
function outsideAir(grid: Grid, data: ArrayLike<number>, skin: number): Uint8Array {
  const [nx, ny, nz] = grid.dims;
  const reached = new Uint8Array(data.length);
  const queue = new Int32Array(data.length);
  let head = 0;
  let tail = 0;
  const visit = (n: number) => {
    if (!reached[n] && data[n]! <= skin) {
      reached[n] = 1;
      queue[tail++] = n;
    }
  };
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        if (i === 0 || j === 0 || k === 0 || i === nx - 1 || j === ny - 1 || k === nz - 1) visit(i + nx * (j + ny * k));
      }
    }
  }
  while (head < tail) {
    const n = queue[head++]!;
    const i = n % nx;
    const j = Math.floor(n / nx) % ny;
    const k = Math.floor(n / (nx * ny));
    if (i > 0) visit(n - 1);
    if (i < nx - 1) visit(n + 1);
    if (j > 0) visit(n - nx);
    if (j < ny - 1) visit(n + nx);
    if (k > 0) visit(n - nx * ny);
    if (k < nz - 1) visit(n + nx * ny);
  }
  return reached;
}

// ---------------------------------------------------------------------------------------------
// As a DICOM CT series

const t = {
  ImageType: tag(0x0008, 0x0008),
  SOPClassUID: tag(0x0008, 0x0016),
  SOPInstanceUID: tag(0x0008, 0x0018),
  StudyDate: tag(0x0008, 0x0020),
  Modality: tag(0x0008, 0x0060),
  StudyDescription: tag(0x0008, 0x1030),
  SeriesDescription: tag(0x0008, 0x103e),
  PatientName: tag(0x0010, 0x0010),
  PatientID: tag(0x0010, 0x0020),
  BodyPartExamined: tag(0x0018, 0x0015),
  SliceThickness: tag(0x0018, 0x0050),
  KVP: tag(0x0018, 0x0060),
  StudyInstanceUID: tag(0x0020, 0x000d),
  SeriesInstanceUID: tag(0x0020, 0x000e),
  InstanceNumber: tag(0x0020, 0x0013),
  ImagePositionPatient: tag(0x0020, 0x0032),
  ImageOrientationPatient: tag(0x0020, 0x0037),
  FrameOfReferenceUID: tag(0x0020, 0x0052),
  SamplesPerPixel: tag(0x0028, 0x0002),
  PhotometricInterpretation: tag(0x0028, 0x0004),
  Rows: tag(0x0028, 0x0010),
  Columns: tag(0x0028, 0x0011),
  PixelSpacing: tag(0x0028, 0x0030),
  BitsAllocated: tag(0x0028, 0x0100),
  BitsStored: tag(0x0028, 0x0101),
  HighBit: tag(0x0028, 0x0102),
  PixelRepresentation: tag(0x0028, 0x0103),
  RescaleIntercept: tag(0x0028, 0x1052),
  RescaleSlope: tag(0x0028, 0x1053),
  RescaleType: tag(0x0028, 0x1054),
};
export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const CT_STUDY_UID = '1.2.826.0.1.3680043.10.1234.7';
export const CT_SERIES_UID = '1.2.826.0.1.3680043.10.1234.7.2';

const el = (tg: Tag, vr: VR, value: string): Element => ({ kind: 'value', tag: tg, vr, bytes: encodeAscii(value, vr === 'UI' ? 0 : 0x20) });
const us = (tg: Tag, value: number): Element => ({ kind: 'value', tag: tg, vr: 'US', bytes: Uint8Array.of(value & 0xff, value >> 8) });
const decimals = (values: readonly number[]) => values.map((v) => String(Number(v.toPrecision(10)))).join('\\');

/**
 * Writes `volume` (Hounsfield units on a right-handed grid) as a DICOM CT series into `dir`, one
 * CT Image Storage file per slice along k: signed 16-bit pixels, Rescale Intercept −1024, slope 1,
 * Rescale Type HU, with planted fake identities. Returns the series read back.
 */
export async function writeCtSeries(volume: Volume<Int16Array>, dir: string): Promise<DicomSeriesVolume> {
  const headers = `${dir}.headers`;
  mkdirSync(headers, { recursive: true });
  const grid = volume.grid;
  const [nx, ny, nz] = grid.dims;
  const [si, sj, sk] = grid.spacing;
  for (let k = 0; k < nz; k++) {
    const sop = `${CT_SERIES_UID}.${k + 1}`;
    const dataset = new Map<Tag, Element>(
      [
        el(t.ImageType, 'CS', 'ORIGINAL\\PRIMARY\\AXIAL'),
        el(t.SOPClassUID, 'UI', CT_IMAGE_STORAGE),
        el(t.SOPInstanceUID, 'UI', sop),
        el(t.StudyDate, 'DA', '20240305'),
        el(t.Modality, 'CS', 'CT'),
        el(t.StudyDescription, 'LO', 'CT HEAD'),
        el(t.SeriesDescription, 'LO', 'pseudo-CT head (synthetic)'),
        el(t.PatientName, 'PN', 'Quux^Zorblatt'),
        el(t.PatientID, 'LO', 'MRN55507777'),
        el(t.BodyPartExamined, 'CS', 'HEAD'),
        el(t.SliceThickness, 'DS', decimals([sk])),
        el(t.KVP, 'DS', '120'),
        el(t.StudyInstanceUID, 'UI', CT_STUDY_UID),
        el(t.SeriesInstanceUID, 'UI', CT_SERIES_UID),
        el(t.InstanceNumber, 'IS', String(k + 1)),
        el(t.ImagePositionPatient, 'DS', decimals(indexToWorld(grid, 0, 0, k))),
        el(t.ImageOrientationPatient, 'DS', decimals(grid.direction.slice(0, 6))),
        el(t.FrameOfReferenceUID, 'UI', `${CT_STUDY_UID}.9`),
        us(t.SamplesPerPixel, 1),
        el(t.PhotometricInterpretation, 'CS', 'MONOCHROME2'),
        us(t.Rows, ny),
        us(t.Columns, nx),
        el(t.PixelSpacing, 'DS', decimals([sj, si])),
        us(t.BitsAllocated, 16),
        us(t.BitsStored, 16),
        us(t.HighBit, 15),
        us(t.PixelRepresentation, 1),
        el(t.RescaleIntercept, 'DS', '-1024'),
        el(t.RescaleSlope, 'DS', '1'),
        el(t.RescaleType, 'LO', 'HU'),
        { kind: 'value', tag: Tags.PixelData, vr: 'OW', bytes: new Uint8Array(2 * nx * ny) },
      ].map((e) => [e.tag, e]),
    );
    const meta = new Map<Tag, Element>([
      [FILE_META_VERSION.tag, FILE_META_VERSION],
      [Tags.MediaStorageSOPClassUID, el(Tags.MediaStorageSOPClassUID, 'UI', CT_IMAGE_STORAGE)],
      [Tags.MediaStorageSOPInstanceUID, el(Tags.MediaStorageSOPInstanceUID, 'UI', sop)],
      [Tags.TransferSyntaxUID, el(Tags.TransferSyntaxUID, 'UI', '1.2.840.10008.1.2.1')],
    ]);
    writeFileSync(path.join(headers, `CT${String(k + 1).padStart(4, '0')}`), encodeDicomToBuffer({ meta, dataset }));
  }
  const layout = await readDicomSeries(headers);
  // The values go in through the series writer, which stores HU + 1024 (the inverse rescale).
  await writeDicomSeries({ grid: layout.grid, data: volume.data }, layout, dir, { derivationDescription: 'pseudo-CT (synthetic) from a T1 head', uidSeed: 'pseudo-ct', uidKey: Buffer.alloc(32, 3) });
  rmSync(headers, { recursive: true, force: true });
  return readDicomSeries(dir);
}
