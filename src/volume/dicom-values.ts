/**
 * Reading the values the volume readers need out of a parsed DICOM dataset: numbers of any VR,
 * text, sequence items, functional groups, and the attributes' tags (PS3.6 / PS3.3 names).
 */
import { readFile } from 'node:fs/promises';
import type { CharacterSets } from '../dicom/charset.js';
import { asciiValue, type Dataset, type DicomFile, type Element } from '../dicom/dataset.js';
import { DicomParseError, NotDicomError } from '../dicom/errors.js';
import { readDicom } from '../dicom/reader.js';
import { tag, type Tag } from '../dicom/tag.js';
import { textValue } from '../dicom/text.js';
import { VolumeFormatError } from './errors.js';

/** The attributes the volume readers use, by their PS3.6 keywords. */
export const VolumeTags = {
  TransferSyntaxUID: tag(0x0002, 0x0010),
  MediaStorageSOPClassUID: tag(0x0002, 0x0002),
  SOPClassUID: tag(0x0008, 0x0016),
  SOPInstanceUID: tag(0x0008, 0x0018),
  Modality: tag(0x0008, 0x0060),
  SeriesDescription: tag(0x0008, 0x103e),
  ReferencedSOPInstanceUID: tag(0x0008, 0x1155),
  ReferencedFrameNumber: tag(0x0008, 0x1160),
  SourceImageSequence: tag(0x0008, 0x2112),
  DerivationImageSequence: tag(0x0008, 0x9124),
  SliceThickness: tag(0x0018, 0x0050),
  SpacingBetweenSlices: tag(0x0018, 0x0088),
  SeriesInstanceUID: tag(0x0020, 0x000e),
  SeriesNumber: tag(0x0020, 0x0011),
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
  GridFrameOffsetVector: tag(0x3004, 0x000c),
  DoseGridScaling: tag(0x3004, 0x000e),
  StructureSetROISequence: tag(0x3006, 0x0020),
  ROINumber: tag(0x3006, 0x0022),
  ReferencedFrameOfReferenceUID: tag(0x3006, 0x0024),
  ROIName: tag(0x3006, 0x0026),
  ROIContourSequence: tag(0x3006, 0x0039),
  ContourSequence: tag(0x3006, 0x0040),
  ContourGeometricType: tag(0x3006, 0x0042),
  ContourData: tag(0x3006, 0x0050),
  ReferencedROINumber: tag(0x3006, 0x0084),
  SegmentationType: tag(0x0062, 0x0001),
  SegmentSequence: tag(0x0062, 0x0002),
  SegmentNumber: tag(0x0062, 0x0004),
  SegmentLabel: tag(0x0062, 0x0005),
  SegmentIdentificationSequence: tag(0x0062, 0x000a),
  ReferencedSegmentNumber: tag(0x0062, 0x000b),
  MaximumFractionalValue: tag(0x0062, 0x000e),
  SharedFunctionalGroupsSequence: tag(0x5200, 0x9229),
  PerFrameFunctionalGroupsSequence: tag(0x5200, 0x9230),
  FloatPixelData: tag(0x7fe0, 0x0008),
  DoubleFloatPixelData: tag(0x7fe0, 0x0009),
  PixelData: tag(0x7fe0, 0x0010),
} as const;

/** Reads and parses a DICOM file; a parse failure becomes a VolumeFormatError naming the file. */
export async function readDicomFile(file: string): Promise<DicomFile> {
  const bytes = await readFile(file);
  try {
    return readDicom(bytes);
  } catch (e) {
    if (e instanceof DicomParseError) throw new VolumeFormatError(`not a readable DICOM file (${e.message})`, file);
    throw e;
  }
}

/** Like readDicomFile, but undefined for a file that is not DICOM at all (a side file in a folder). */
export async function readDicomFileIfDicom(file: string): Promise<DicomFile | undefined> {
  const bytes = await readFile(file);
  try {
    return readDicom(bytes);
  } catch (e) {
    if (e instanceof NotDicomError) return undefined;
    if (e instanceof DicomParseError) throw new VolumeFormatError(`not a readable DICOM file (${e.message})`, file);
    throw e;
  }
}

/** The items of a sequence; none when absent or not a sequence. */
export function itemsOf(ds: Dataset | undefined, t: Tag): readonly Dataset[] {
  const el = ds?.get(t);
  return el?.kind === 'sequence' ? el.items : [];
}

/** A text value without leading or trailing padding (non-charset VRs: UI, CS, DS, IS, ...). */
export function textOf(ds: Dataset | undefined, t: Tag): string | undefined {
  const value = asciiValue(ds?.get(t))?.trim();
  return value === '' ? undefined : value;
}

/** A text value of a charset-aware VR (LO, SH, ...) decoded in the given character sets. */
export function labelOf(ds: Dataset | undefined, t: Tag, sets: CharacterSets): string | undefined {
  const value = textValue(ds?.get(t), sets)?.trim();
  return value === '' ? undefined : value;
}

const BINARY_NUMBER_SIZES: Partial<Record<string, number>> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, AT: 4 };

/**
 * Every number of an element: decimal strings (DS, IS) split at backslashes, binary values (US, SS,
 * UL, SL, FL, FD) in the data set's byte order. Undefined when absent or empty; a decimal string
 * that is not a number gives NaN (for the caller to reject with the attribute's name).
 */
export function numbersOf(ds: Dataset | undefined, t: Tag, littleEndian: boolean): number[] | undefined {
  const el = ds?.get(t);
  if (!el || el.kind !== 'value' || el.bytes.length === 0) return undefined;
  return elementNumbers(el, littleEndian);
}

function elementNumbers(el: Element & { kind: 'value' }, littleEndian: boolean): number[] | undefined {
  const size = BINARY_NUMBER_SIZES[el.vr];
  if (size === undefined) {
    const text = asciiValue(el)?.trim();
    if (!text) return undefined;
    return text.split('\\').map((part) => (part.trim() === '' ? NaN : Number(part.trim())));
  }
  const view = new DataView(el.bytes.buffer, el.bytes.byteOffset, el.bytes.byteLength);
  const out: number[] = [];
  for (let p = 0; p + size <= el.bytes.length; p += size) {
    switch (el.vr) {
      case 'US':
        out.push(view.getUint16(p, littleEndian));
        break;
      case 'SS':
        out.push(view.getInt16(p, littleEndian));
        break;
      case 'UL':
      case 'AT':
        out.push(view.getUint32(p, littleEndian));
        break;
      case 'SL':
        out.push(view.getInt32(p, littleEndian));
        break;
      case 'FL':
        out.push(view.getFloat32(p, littleEndian));
        break;
      default:
        out.push(view.getFloat64(p, littleEndian));
    }
  }
  return out;
}

/** The first number of an element, or undefined. */
export function numberOf(ds: Dataset | undefined, t: Tag, littleEndian: boolean): number | undefined {
  return numbersOf(ds, t, littleEndian)?.[0];
}

/**
 * The item of a functional group macro that applies to one frame (PS3.3 C.7.6.16): the group's
 * sequence in the frame's Per-frame Functional Groups item, else in the Shared one.
 */
export function functionalGroup(perFrame: Dataset | undefined, shared: Dataset | undefined, sequence: Tag): Dataset | undefined {
  return itemsOf(perFrame, sequence)[0] ?? itemsOf(shared, sequence)[0];
}
