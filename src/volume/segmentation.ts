/**
 * DICOM Segmentation objects (PS3.3 A.51, C.8.20) as masks on an image's grid.
 *
 * A SEG holds one frame per (segment, slice) that has any of the segment, each frame placed by
 * its Plane Position Sequence (Per-frame Functional Groups) or, failing that, by the source image
 * it was derived from (Derivation Image Sequence → Source Image Sequence), which the grid of a
 * DICOM series can place. Types: BINARY (1 bit per pixel, packed across frame boundaries with no
 * padding, first pixel in the lowest bit: PS3.5 8.1.1 and PS3.3 C.8.20.2.1), FRACTIONAL (a
 * probability or occupancy up to Maximum Fractional Value; a voxel is inside from half of it),
 * and LABELMAP (Label Map Segmentation: the pixel value is the segment number).
 *
 * FRACTIONAL and LABELMAP pixel data may be compressed (encapsulated): readSegmentation decodes it
 * through the codec layer (decodeSegmentation). 1-bit BINARY frames are native in every syntax
 * but Deflated Image Frame Compression, whose 1-bit frames the codecs do not take (they decode
 * frames of 8, 16 or 32 bits): such a file is refused with that reason.
 */
import type { Dataset, DicomFile } from '../dicom/dataset.js';
import { characterSetsOf } from '../dicom/text.js';
import { functionalGroup, itemsOf, labelOf, numberOf, numbersOf, readDicomFile, textOf, VolumeTags as T } from './dicom-values.js';
import { VolumeFormatError, VolumeGeometryError } from './errors.js';
import { axisOf, worldToIndex } from './geometry.js';
import { loadCodec } from './pixel-values.js';
import { selectRegion, type LabelledRegion, type RegionSelection } from './selection.js';
import { instanceKey, seriesOf, sourceOf } from './source.js';
import { voxelCount, type Grid, type Mask, type Vec3 } from './volume.js';

const SEGMENTATION_SOP_CLASSES = new Set(['1.2.840.10008.5.1.4.1.1.66.4', '1.2.840.10008.5.1.4.1.1.66.7']);

export interface SegmentInfo extends LabelledRegion {
  /** Segment Number (0062,0004). */
  readonly number: number;
  /** Segment Label (0062,0005). */
  readonly label: string | undefined;
  /** Number of frames holding this segment (for a label map: every frame). */
  readonly frames: number;
}

export interface SegmentationReadOptions {
  /** The segment, by Segment Number or Segment Label; needed when the SEG holds several. */
  readonly segment?: RegionSelection;
}

/** How far a frame may lie from the grid's voxel centres, in voxels. */
const PLACEMENT_TOLERANCE = 0.05;

/** A parsed SEG: its type, segments and functional groups, before any frame is placed. */
export interface SegFile {
  readonly file: string;
  readonly dataset: Dataset;
  readonly littleEndian: boolean;
  readonly type: 'BINARY' | 'FRACTIONAL' | 'LABELMAP';
  readonly segments: readonly SegmentInfo[];
  readonly perFrame: readonly Dataset[];
  readonly shared: Dataset | undefined;
  readonly frameCount: number;
}

/** A SEG file parsed, its compressed pixel data (if any) decoded. */
async function openSegmentation(file: string): Promise<SegFile> {
  const dicom = await readDicomFile(file);
  return decodeSegmentation(parseSegmentation(dicom, file), dicom);
}

/** Reads a SEG's attributes (errors name `file`): what both volumes and marked regions need. */
export function parseSegmentation(dicom: DicomFile, file: string): SegFile {
  const ds = dicom.dataset;
  const little = dicom.transferSyntax.littleEndian;
  const sopClass = textOf(ds, T.SOPClassUID) ?? textOf(dicom.meta, T.MediaStorageSOPClassUID);
  const modality = textOf(ds, T.Modality);
  if (!(sopClass && SEGMENTATION_SOP_CLASSES.has(sopClass)) && modality !== 'SEG') {
    throw new VolumeFormatError(`not a DICOM Segmentation (Modality ${modality ?? 'absent'}, SOP Class ${sopClass ?? 'absent'})`, file);
  }
  const typeText = textOf(ds, T.SegmentationType) ?? (sopClass === '1.2.840.10008.5.1.4.1.1.66.7' ? 'LABELMAP' : undefined);
  if (typeText !== 'BINARY' && typeText !== 'FRACTIONAL' && typeText !== 'LABELMAP') {
    throw new VolumeFormatError(`Segmentation Type ${typeText ?? '(absent)'} is not supported (BINARY, FRACTIONAL or LABELMAP)`, file);
  }
  const sets = characterSetsOf(ds);
  const perFrame = itemsOf(ds, T.PerFrameFunctionalGroupsSequence);
  const shared = itemsOf(ds, T.SharedFunctionalGroupsSequence)[0];
  // Number of Frames is required (Type 1); without it, the per-frame items say how many there are.
  const frameCount = numberOf(ds, T.NumberOfFrames, little) ?? perFrame.length;
  if (!Number.isInteger(frameCount) || frameCount < 1) throw new VolumeFormatError(`invalid Number of Frames ${frameCount}`, file);
  if (perFrame.length !== frameCount) throw new VolumeFormatError(`${frameCount} frames but ${perFrame.length} Per-frame Functional Groups items`, file);
  const frameSegments = perFrame.map((pf) => segmentOfFrame(pf, shared, little));
  const segments = itemsOf(ds, T.SegmentSequence).map((item, n): SegmentInfo => {
    const number = numberOf(item, T.SegmentNumber, little);
    if (number === undefined || !Number.isInteger(number)) throw new VolumeFormatError(`Segment Sequence item ${n + 1} has no Segment Number`, file);
    return {
      number,
      label: labelOf(item, T.SegmentLabel, sets),
      frames: typeText === 'LABELMAP' ? frameCount : frameSegments.filter((s) => s === number).length,
    };
  });
  return { file, dataset: ds, littleEndian: little, type: typeText, segments, perFrame, shared, frameCount };
}

/**
 * The SEG with compressed (encapsulated) pixel data decoded, every frame, into native little-endian
 * pixel data, so segmentPixels can read it; a SEG with native pixel data is returned as it is.
 * Undecodable frames are a VolumeFormatError naming the file and the codec's reason.
 */
export async function decodeSegmentation(seg: SegFile, dicom: DicomFile): Promise<SegFile> {
  const element = seg.dataset.get(T.PixelData);
  if (element?.kind !== 'encapsulated') return seg;
  if ((numberOf(seg.dataset, T.BitsAllocated, seg.littleEndian) ?? (seg.type === 'BINARY' ? 1 : 8)) === 1) {
    throw new VolumeFormatError(`compressed 1-bit segmentation frames (transfer syntax ${dicom.transferSyntax.uid}) are not decoded: the codecs take frames of 8, 16 or 32 bits`, seg.file);
  }
  const { bytesOf, openPixelData, PixelDecodeError } = await loadCodec();
  try {
    const pixels = await openPixelData(dicom);
    if (!pixels) throw new VolumeFormatError('the segmentation has no pixel data', seg.file);
    if (pixels.format.samplesPerPixel !== 1) throw new VolumeFormatError(`${pixels.format.samplesPerPixel} samples per pixel: a segmentation has one`, seg.file);
    const frameBytes = pixels.format.rows * pixels.format.columns * (pixels.format.bitsAllocated >> 3);
    const bytes = new Uint8Array(frameBytes * pixels.frameCount);
    for (let f = 0; f < pixels.frameCount; f++) {
      bytes.set(bytesOf(pixels.decodeFrame(f).data), f * frameBytes);
    }
    const dataset = new Map(seg.dataset).set(T.PixelData, { kind: 'value', tag: T.PixelData, vr: pixels.format.bitsAllocated === 8 ? 'OB' : 'OW', bytes });
    // Encapsulated syntaxes are all little endian: the other attributes keep their byte order.
    return { ...seg, dataset };
  } catch (e) {
    if (e instanceof PixelDecodeError) throw new VolumeFormatError(e.message, seg.file);
    throw e;
  }
}

/** The segment a frame holds (Referenced Segment Number of its Segment Identification). */
export function segmentOfFrame(perFrame: Dataset, shared: Dataset | undefined, little: boolean): number | undefined {
  return numberOf(functionalGroup(perFrame, shared, T.SegmentIdentificationSequence), T.ReferencedSegmentNumber, little);
}

/**
 * The pixels of a SEG for one segment: the frame size and whether pixel p (frame-relative,
 * row-major) of frame f is in the segment, for BINARY (bit-packed across frames), FRACTIONAL (from
 * half the Maximum Fractional Value) and LABELMAP (the value is the segment number).
 */
export function segmentPixels(seg: SegFile, segmentNumber: number): { readonly rows: number; readonly columns: number; readonly inside: (f: number, p: number) => boolean } {
  const { dataset: ds, littleEndian: little, file } = seg;
  const rows = numberOf(ds, T.Rows, little);
  const columns = numberOf(ds, T.Columns, little);
  if (!rows || !columns) throw new VolumeFormatError('Rows or Columns is missing', file);
  const bitsAllocated = numberOf(ds, T.BitsAllocated, little) ?? (seg.type === 'BINARY' ? 1 : 8);
  const expectedBits = seg.type === 'BINARY' ? [1] : [8, 16];
  if (!expectedBits.includes(bitsAllocated)) throw new VolumeFormatError(`Bits Allocated ${bitsAllocated} is not valid for a ${seg.type} segmentation`, file);
  const pixelElement = ds.get(T.PixelData);
  if (pixelElement?.kind === 'encapsulated') throw new VolumeFormatError('the segmentation\'s pixel data is compressed: decode it first (decodeSegmentation)', file);
  if (!pixelElement || pixelElement.kind !== 'value') throw new VolumeFormatError('the segmentation has no pixel data', file);
  const pixels = pixelElement.bytes;
  const frameSize = rows * columns;
  const needed = Math.ceil((seg.frameCount * frameSize * bitsAllocated) / 8);
  if (pixels.length < needed) {
    throw new VolumeFormatError(`pixel data holds ${pixels.length} bytes, but ${seg.frameCount} frames of ${columns}×${rows} × ${bitsAllocated} bit need ${needed}`, file);
  }
  // Bytes of an OW value in a big-endian data set are swapped in pairs (PS3.5 8.1.1).
  const swapPairs = !little && pixelElement.vr === 'OW' && bitsAllocated <= 8;
  const byteAt = (n: number): number => pixels[swapPairs ? n ^ 1 : n]!;
  const maxFractional = numberOf(ds, T.MaximumFractionalValue, little) ?? 255;
  const view = new DataView(pixels.buffer, pixels.byteOffset, pixels.byteLength);

  /** Whether pixel p (frame-relative index, row-major) of frame f is in the segment. */
  const inside = (f: number, p: number): boolean => {
    const n = f * frameSize + p;
    if (bitsAllocated === 1) return ((byteAt(n >> 3) >> (n & 7)) & 1) === 1;
    const value = bitsAllocated === 8 ? byteAt(n) : view.getUint16(2 * n, little);
    if (seg.type === 'LABELMAP') return value === segmentNumber;
    return value >= 0.5 * maxFractional;
  };

  return { rows, columns, inside };
}

/** The segments of a SEG file: number, label and how many frames hold each. */
export async function listSegments(file: string): Promise<SegmentInfo[]> {
  return [...parseSegmentation(await readDicomFile(file), file).segments];
}

/**
 * One segment of a DICOM SEG as a mask on `referenceGrid`. Frames must lie on the grid's slices
 * (within 5 % of a voxel), parallel to them and with the same pixel spacing; a grid read by
 * readDicomSeries also places frames that only name their source image.
 */
export async function readSegmentation(file: string, referenceGrid: Grid, options: SegmentationReadOptions = {}): Promise<Mask> {
  const seg = await openSegmentation(file);
  const segment = selectRegion(seg.segments, options.segment, 'segment', file);
  const { dataset: ds, littleEndian: little } = seg;
  const reference = sourceOf(referenceGrid) ?? 'the image';

  const series = seriesOf(referenceGrid);
  const segFrameOfReference = textOf(ds, T.FrameOfReferenceUID);
  if (series?.frameOfReferenceUid && segFrameOfReference && series.frameOfReferenceUid !== segFrameOfReference) {
    throw new VolumeGeometryError(`the segmentation's Frame of Reference UID ${segFrameOfReference} is not that of ${reference} (${series.frameOfReferenceUid})`, file);
  }

  const { rows, columns, inside } = segmentPixels(seg, segment.number);

  const [nx, ny, nz] = referenceGrid.dims;
  const data = new Uint8Array(voxelCount(referenceGrid));
  const toIndex = worldToIndex(referenceGrid);
  let checkedGeometry = false;
  for (let f = 0; f < seg.frameCount; f++) {
    const pf = seg.perFrame[f]!;
    if (seg.type !== 'LABELMAP' && segmentOfFrame(pf, seg.shared, little) !== segment.number) continue;
    if (!checkedGeometry) {
      checkFrameGeometry(pf, seg.shared, ds, little, referenceGrid, file, reference);
      checkedGeometry = true;
    }
    const [i0, j0, k] = placeFrame(pf, seg.shared, little, referenceGrid, toIndex, f, file, reference);
    if (i0 < 0 || j0 < 0 || k < 0 || i0 + columns > nx || j0 + rows > ny || k >= nz) {
      throw new VolumeGeometryError(
        `frame ${f + 1} (${columns}×${rows} from voxel [${i0}, ${j0}, ${k}]) does not fit within the ${nx}×${ny}×${nz} grid of ${reference}`,
        file,
      );
    }
    for (let r = 0; r < rows; r++) {
      const rowStart = i0 + nx * (j0 + r + ny * k);
      for (let c = 0; c < columns; c++) {
        if (inside(f, r * columns + c)) data[rowStart + c] = 1;
      }
    }
  }
  return { grid: referenceGrid, data };
}

/** Frames must be parallel to the grid's slices, with its in-plane axes and spacing. */
function checkFrameGeometry(pf: Dataset, shared: Dataset | undefined, ds: Dataset, little: boolean, grid: Grid, file: string, reference: string): void {
  const iop = numbersOf(functionalGroup(pf, shared, T.PlaneOrientationSequence), T.ImageOrientationPatient, little) ?? numbersOf(ds, T.ImageOrientationPatient, little);
  if (iop && iop.length >= 6) {
    const row: Vec3 = [iop[0]!, iop[1]!, iop[2]!];
    const column: Vec3 = [iop[3]!, iop[4]!, iop[5]!];
    const gi = axisOf(grid, 0);
    const gj = axisOf(grid, 1);
    const off = Math.max(...[0, 1, 2].map((n) => Math.max(Math.abs(row[n]! - gi[n]!), Math.abs(column[n]! - gj[n]!))));
    if (off > 1e-3) {
      throw new VolumeGeometryError(
        `frame orientation [${iop.slice(0, 6).join(', ')}] differs from the in-plane axes of ${reference} [${[...gi, ...gj].map((v) => Number(v.toFixed(6))).join(', ')}]`,
        file,
      );
    }
  }
  const spacing = numbersOf(functionalGroup(pf, shared, T.PixelMeasuresSequence), T.PixelSpacing, little) ?? numbersOf(ds, T.PixelSpacing, little);
  if (spacing && spacing.length >= 2) {
    // Pixel Spacing is [between rows (j), between columns (i)].
    const [sj, si] = [spacing[0]!, spacing[1]!];
    if (Math.abs(si - grid.spacing[0]) > 1e-3 * grid.spacing[0] || Math.abs(sj - grid.spacing[1]) > 1e-3 * grid.spacing[1]) {
      throw new VolumeGeometryError(`pixel spacing [${sj}, ${si}] differs from that of ${reference} [${grid.spacing[1]}, ${grid.spacing[0]}]`, file);
    }
  }
}

/** Voxel index (i, j, k) of a frame's first pixel on the grid. */
function placeFrame(
  pf: Dataset,
  shared: Dataset | undefined,
  little: boolean,
  grid: Grid,
  toIndex: ReturnType<typeof worldToIndex>,
  f: number,
  file: string,
  reference: string,
): Vec3 {
  const position = numbersOf(functionalGroup(pf, shared, T.PlanePositionSequence), T.ImagePositionPatient, little);
  if (position && position.length >= 3 && position.slice(0, 3).every(Number.isFinite)) {
    const index = toIndex(position[0]!, position[1]!, position[2]!);
    const rounded = index.map(Math.round) as unknown as Vec3;
    const off = Math.max(...index.map((v, n) => Math.abs(v - rounded[n]!)));
    if (off > PLACEMENT_TOLERANCE) {
      throw new VolumeGeometryError(
        `frame ${f + 1} at [${position.slice(0, 3).join(', ')}] mm does not fall on the voxel grid of ${reference} (voxel index [${index.map((v) => v.toFixed(3)).join(', ')}])`,
        file,
      );
    }
    return rounded;
  }
  // No position: the source image the frame was derived from names its slice.
  const series = seriesOf(grid);
  for (const derivation of itemsOf(pf, T.DerivationImageSequence)) {
    for (const sourceImage of itemsOf(derivation, T.SourceImageSequence)) {
      const uid = textOf(sourceImage, T.ReferencedSOPInstanceUID);
      if (!uid) continue;
      if (!series) {
        throw new VolumeGeometryError(
          `frame ${f + 1} has no Plane Position and names its source image only (${uid}); ${reference} is not a DICOM series whose images could place it`,
          file,
        );
      }
      const frameNumber = numberOf(sourceImage, T.ReferencedFrameNumber, little);
      const k = series.sliceOfInstance.get(instanceKey(uid, frameNumber)) ?? (frameNumber === undefined ? series.sliceOfInstance.get(instanceKey(uid, 1)) : undefined);
      if (k === undefined) {
        throw new VolumeGeometryError(`frame ${f + 1} was derived from image ${uid}${frameNumber ? ` frame ${frameNumber}` : ''}, which is not in the series of ${reference}`, file);
      }
      return [0, 0, k];
    }
  }
  throw new VolumeFormatError(`frame ${f + 1} has neither a Plane Position Sequence nor a Source Image reference`, file);
}
