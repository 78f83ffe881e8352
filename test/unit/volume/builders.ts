/**
 * Builders of small synthetic DICOM files (image slices, enhanced multi-frame images, SEG,
 * RTSTRUCT) and NIfTI files for the volume tests, written with the project's own DICOM writer
 * or, for NIfTI, byte by byte from the nifti1.h layout (independently of radanon's encoder).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { TRANSFER_SYNTAX, type Dataset, type Element } from '../../../src/dicom/dataset.js';
import { tag, Tags, type Tag } from '../../../src/dicom/tag.js';
import { FILE_META_VERSION, encodeDicomToBuffer } from '../../../src/dicom/writer.js';
import type { VR } from '../../../src/dicom/vr.js';
import { binaryElement, sequence, textElement } from '../support/dicom.js';

/** A temporary folder removed after the test file's tests. */
export function temporaryFolder(prefix = 'radanon-volume-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const TS = {
  explicitLittle: TRANSFER_SYNTAX.ExplicitVRLittleEndian,
  implicitLittle: TRANSFER_SYNTAX.ImplicitVRLittleEndian,
  explicitBig: TRANSFER_SYNTAX.ExplicitVRBigEndian,
  jpegBaseline: '1.2.840.10008.1.2.4.50',
} as const;

export const SOP_CLASS = {
  ct: '1.2.840.10008.5.1.4.1.1.2',
  enhancedCt: '1.2.840.10008.5.1.4.1.1.2.1',
  seg: '1.2.840.10008.5.1.4.1.1.66.4',
  rtstruct: '1.2.840.10008.5.1.4.1.1.481.3',
} as const;

export const t = {
  SOPClassUID: tag(0x0008, 0x0016),
  SOPInstanceUID: tag(0x0008, 0x0018),
  Modality: tag(0x0008, 0x0060),
  ReferencedSOPInstanceUID: tag(0x0008, 0x1155),
  SourceImageSequence: tag(0x0008, 0x2112),
  DerivationImageSequence: tag(0x0008, 0x9124),
  SeriesInstanceUID: tag(0x0020, 0x000e),
  InstanceNumber: tag(0x0020, 0x0013),
  ImagePositionPatient: tag(0x0020, 0x0032),
  ImageOrientationPatient: tag(0x0020, 0x0037),
  FrameOfReferenceUID: tag(0x0020, 0x0052),
  PlanePositionSequence: tag(0x0020, 0x9113),
  PlaneOrientationSequence: tag(0x0020, 0x9116),
  SamplesPerPixel: tag(0x0028, 0x0002),
  PhotometricInterpretation: tag(0x0028, 0x0004),
  NumberOfFrames: tag(0x0028, 0x0008),
  Rows: tag(0x0028, 0x0010),
  Columns: tag(0x0028, 0x0011),
  PixelSpacing: tag(0x0028, 0x0030),
  BitsAllocated: tag(0x0028, 0x0100),
  BitsStored: tag(0x0028, 0x0101),
  HighBit: tag(0x0028, 0x0102),
  PixelRepresentation: tag(0x0028, 0x0103),
  RescaleIntercept: tag(0x0028, 0x1052),
  RescaleSlope: tag(0x0028, 0x1053),
  PixelMeasuresSequence: tag(0x0028, 0x9110),
  PixelValueTransformationSequence: tag(0x0028, 0x9145),
  SegmentationType: tag(0x0062, 0x0001),
  SegmentSequence: tag(0x0062, 0x0002),
  SegmentNumber: tag(0x0062, 0x0004),
  SegmentLabel: tag(0x0062, 0x0005),
  SegmentIdentificationSequence: tag(0x0062, 0x000a),
  ReferencedSegmentNumber: tag(0x0062, 0x000b),
  MaximumFractionalValue: tag(0x0062, 0x000e),
  StructureSetROISequence: tag(0x3006, 0x0020),
  ROINumber: tag(0x3006, 0x0022),
  ReferencedFrameOfReferenceUID: tag(0x3006, 0x0024),
  ROIName: tag(0x3006, 0x0026),
  ROIContourSequence: tag(0x3006, 0x0039),
  ContourSequence: tag(0x3006, 0x0040),
  ContourGeometricType: tag(0x3006, 0x0042),
  NumberOfContourPoints: tag(0x3006, 0x0046),
  ContourData: tag(0x3006, 0x0050),
  ReferencedROINumber: tag(0x3006, 0x0084),
  SharedFunctionalGroupsSequence: tag(0x5200, 0x9229),
  PerFrameFunctionalGroupsSequence: tag(0x5200, 0x9230),
  PixelData: Tags.PixelData,
} as const;

export function str(tg: Tag, vr: VR, value: string): Element {
  return textElement(tg, vr, value);
}

/** A decimal string (DS) of several values. */
export function decimals(tg: Tag, values: readonly number[]): Element {
  return textElement(tg, 'DS', values.map((v) => formatDecimal(v)).join('\\'));
}

/** DS values hold at most 16 characters. */
function formatDecimal(v: number): string {
  for (let digits = 12; digits > 0; digits--) {
    const s = String(Number(v.toPrecision(digits)));
    if (s.length <= 16) return s;
  }
  return v.toExponential(6);
}

export function us(tg: Tag, value: number, little = true): Element {
  const bytes = new Uint8Array(2);
  new DataView(bytes.buffer).setUint16(0, value, little);
  return binaryElement(tg, 'US', bytes);
}

export function seq(tg: Tag, items: readonly Element[][]): Element {
  return sequence(tg, items.map((els) => new Map(els.map((e) => [e.tag, e]))));
}

export function ds(...elements: Element[]): Map<Tag, Element> {
  return new Map(elements.map((e) => [e.tag, e]));
}

/** Encodes a dataset as a Part 10 file in the given transfer syntax. */
export function encode(dataset: Dataset, transferSyntax: string = TS.explicitLittle): Buffer {
  const sopClass = dataset.get(t.SOPClassUID);
  const sopInstance = dataset.get(t.SOPInstanceUID);
  const meta = ds(
    FILE_META_VERSION,
    str(Tags.MediaStorageSOPClassUID, 'UI', sopClass?.kind === 'value' ? Buffer.from(sopClass.bytes).toString('latin1').replace(/\0+$/, '') : SOP_CLASS.ct),
    str(Tags.MediaStorageSOPInstanceUID, 'UI', sopInstance?.kind === 'value' ? Buffer.from(sopInstance.bytes).toString('latin1').replace(/\0+$/, '') : '1.2.3'),
    str(Tags.TransferSyntaxUID, 'UI', transferSyntax),
  );
  return encodeDicomToBuffer({ meta, dataset });
}

export function writeDicom(file: string, dataset: Dataset, transferSyntax: string = TS.explicitLittle): string {
  writeFileSync(file, encode(dataset, transferSyntax));
  return file;
}

/** Stored pixel values as bytes in the given layout and byte order. */
export function pixelBytes(values: ArrayLike<number>, bitsAllocated: 8 | 16 | 32, little: boolean): Uint8Array {
  const size = bitsAllocated / 8;
  const bytes = new Uint8Array(values.length * size + ((values.length * size) & 1));
  const view = new DataView(bytes.buffer);
  for (let n = 0; n < values.length; n++) {
    const v = values[n]!;
    if (size === 1) bytes[n] = v & 0xff;
    else if (size === 2) view.setUint16(2 * n, v & 0xffff, little);
    else view.setUint32(4 * n, v >>> 0, little);
  }
  return bytes;
}

export interface SliceSpec {
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly frameOfReferenceUid?: string;
  readonly position: readonly number[];
  /** Row direction then column direction. */
  readonly orientation?: readonly number[];
  /** [between rows, between columns]. */
  readonly pixelSpacing?: readonly number[];
  readonly rows: number;
  readonly columns: number;
  /** Stored values, row by row. */
  readonly stored: ArrayLike<number>;
  readonly bitsAllocated?: 8 | 16 | 32;
  readonly bitsStored?: number;
  readonly signed?: boolean;
  readonly slope?: number;
  readonly intercept?: number;
  readonly little?: boolean;
  readonly instanceNumber?: number;
}

/** A single-frame CT image. */
export function ctSlice(s: SliceSpec): Map<Tag, Element> {
  const little = s.little ?? true;
  const bits = s.bitsAllocated ?? 16;
  const elements: Element[] = [
    str(t.SOPClassUID, 'UI', SOP_CLASS.ct),
    str(t.SOPInstanceUID, 'UI', s.sopInstanceUid),
    str(t.Modality, 'CS', 'CT'),
    str(t.SeriesInstanceUID, 'UI', s.seriesInstanceUid),
    str(t.InstanceNumber, 'IS', String(s.instanceNumber ?? 1)),
    decimals(t.ImagePositionPatient, s.position),
    decimals(t.ImageOrientationPatient, s.orientation ?? [1, 0, 0, 0, 1, 0]),
    us(t.SamplesPerPixel, 1, little),
    str(t.PhotometricInterpretation, 'CS', 'MONOCHROME2'),
    us(t.Rows, s.rows, little),
    us(t.Columns, s.columns, little),
    decimals(t.PixelSpacing, s.pixelSpacing ?? [1, 1]),
    us(t.BitsAllocated, bits, little),
    us(t.BitsStored, s.bitsStored ?? bits, little),
    us(t.HighBit, (s.bitsStored ?? bits) - 1, little),
    us(t.PixelRepresentation, s.signed ? 1 : 0, little),
    binaryElement(t.PixelData, bits === 8 ? 'OB' : 'OW', pixelBytes(s.stored, bits, little)),
  ];
  if (s.frameOfReferenceUid) elements.push(str(t.FrameOfReferenceUID, 'UI', s.frameOfReferenceUid));
  if (s.slope !== undefined) elements.push(decimals(t.RescaleSlope, [s.slope]));
  if (s.intercept !== undefined) elements.push(decimals(t.RescaleIntercept, [s.intercept]));
  return ds(...elements);
}

/** Encapsulated pixel data: an empty Basic Offset Table, one fragment per frame, the sequence delimiter. */
export function encapsulate(codestreams: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.from([0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0])];
  for (const stream of codestreams) {
    const even = stream.length & 1 ? Uint8Array.from([...stream, 0]) : stream;
    const header = new Uint8Array(8);
    header.set([0xfe, 0xff, 0x00, 0xe0]);
    new DataView(header.buffer).setUint32(4, even.length, true);
    parts.push(header, even);
  }
  parts.push(Uint8Array.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]));
  return Buffer.concat(parts);
}

/** Packs 0/1 values into bits, first value in the lowest bit of the first byte (PS3.5 8.1.1). */
export function packBits(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(Math.ceil(values.length / 8) + (Math.ceil(values.length / 8) & 1));
  for (let n = 0; n < values.length; n++) if (values[n]) bytes[n >> 3]! |= 1 << (n & 7);
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// NIfTI-1 bytes from nifti1.h, field by field

export interface NiftiSpec {
  readonly dims: readonly number[]; // dim[0..7]
  readonly datatype: number;
  readonly bitpix: number;
  readonly pixdim?: readonly number[]; // pixdim[0..7]
  readonly sclSlope?: number;
  readonly sclInter?: number;
  readonly xyztUnits?: number;
  readonly qformCode?: number;
  readonly sformCode?: number;
  readonly quatern?: readonly [number, number, number];
  readonly qoffset?: readonly [number, number, number];
  /** srow_x, srow_y, srow_z: 12 numbers. */
  readonly srow?: readonly number[];
  readonly littleEndian?: boolean;
  /** The voxel bytes, already in the file's byte order. */
  readonly body: Uint8Array;
}

export function niftiBytes(spec: NiftiSpec): Uint8Array {
  const le = spec.littleEndian ?? true;
  const out = new Uint8Array(352 + spec.body.length);
  const v = new DataView(out.buffer);
  v.setInt32(0, 348, le);
  for (let n = 0; n < 8; n++) v.setInt16(40 + 2 * n, spec.dims[n] ?? 0, le);
  v.setInt16(70, spec.datatype, le);
  v.setInt16(72, spec.bitpix, le);
  const pixdim = spec.pixdim ?? [1, 1, 1, 1, 0, 0, 0, 0];
  for (let n = 0; n < 8; n++) v.setFloat32(76 + 4 * n, pixdim[n] ?? 0, le);
  v.setFloat32(108, 352, le);
  v.setFloat32(112, spec.sclSlope ?? 0, le);
  v.setFloat32(116, spec.sclInter ?? 0, le);
  out[123] = spec.xyztUnits ?? 2;
  v.setInt16(252, spec.qformCode ?? 0, le);
  v.setInt16(254, spec.sformCode ?? 0, le);
  const q = spec.quatern ?? [0, 0, 0];
  const o = spec.qoffset ?? [0, 0, 0];
  for (let n = 0; n < 3; n++) {
    v.setFloat32(256 + 4 * n, q[n]!, le);
    v.setFloat32(268 + 4 * n, o[n]!, le);
  }
  const srow = spec.srow ?? new Array<number>(12).fill(0);
  for (let n = 0; n < 12; n++) v.setFloat32(280 + 4 * n, srow[n]!, le);
  out.set([0x6e, 0x2b, 0x31, 0x00], 344);
  out.set(spec.body, 352);
  return out;
}

/** Values as bytes of a NIfTI datatype in the given byte order. */
export function niftiBody(values: readonly number[], type: 'uint8' | 'int16' | 'float32' | 'float64', littleEndian = true): Uint8Array {
  const size = { uint8: 1, int16: 2, float32: 4, float64: 8 }[type];
  const out = new Uint8Array(values.length * size);
  const v = new DataView(out.buffer);
  values.forEach((x, n) => {
    if (type === 'uint8') v.setUint8(n, x);
    else if (type === 'int16') v.setInt16(2 * n, x, littleEndian);
    else if (type === 'float32') v.setFloat32(4 * n, x, littleEndian);
    else v.setFloat64(8 * n, x, littleEndian);
  });
  return out;
}
