/**
 * A DICOM image series as one volume: classic single-frame images (CT, MR, PT, ...), enhanced
 * multi-frame images (functional groups, PS3.3 C.7.6.16) and RT Dose grids (Grid Frame Offset
 * Vector, PS3.3 C.8.8.3.2).
 *
 * Geometry (PS3.3 C.7.6.2): Image Orientation (Patient) holds the direction of a row (the way
 * the column index, radanon's i, grows) and then of a column (j); Image Position (Patient) is the
 * centre of the first pixel; Pixel Spacing is [between rows, between columns], i.e. [j, i]. The
 * slices are ordered by their position along the normal row × column, which is the k axis; their
 * spacing comes from the positions (Slice Thickness says nothing about it) and must be uniform.
 *
 * Files are read twice: once for their headers (to find the series and order its slices), then
 * once each to decode its pixels straight into the volume, so a large series never sits in
 * memory twice.
 *
 * Compressed (encapsulated) pixel data is decoded frame by frame by the codec layer
 * (src/pixels/codec: JPEG, JPEG-LS, JPEG 2000, HTJ2K, RLE, deflated frames), loaded only when a
 * compressed file is met. A lossy encoding (or Lossy Image Compression 01 in any file) is read as
 * decoded and stated on the grid's series reference (SeriesReference.encoding.lossy): its values
 * are not those acquired, which radiomic features are known to be sensitive to.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Dataset, DicomFile } from '../dicom/dataset.js';
import { tag, type Tag } from '../dicom/tag.js';
import type { PixelData } from '../pixels/codec/index.js';
import { functionalGroup, itemsOf, numberOf, numbersOf, readDicomFile, readDicomFileIfDicom, textOf, VolumeTags as T } from './dicom-values.js';
import { VolumeFormatError, VolumeGeometryError, VolumeSelectionError } from './errors.js';
import { cross, dot, norm, subtract } from './geometry.js';
import { decodedReader, frameBytes, loadCodec, readPixelLayout, storedRange, storedReader, swapsPairs, type PixelLayout } from './pixel-values.js';
import { instanceKey, withSource, type SeriesEncoding, type SeriesReference, type SourcedGrid } from './source.js';
import type { Vec3, Volume } from './volume.js';

export interface SeriesReadOptions {
  /** The Series Instance UID to read when the files hold several series. */
  readonly seriesInstanceUid?: string;
  /** Whether a folder is searched with its subfolders (default true). */
  readonly recursive?: boolean;
}

/** A series found among the files, as listed when one has to be chosen. */
export interface SeriesSummary {
  readonly seriesInstanceUid: string;
  readonly modality: string | undefined;
  readonly seriesNumber: string | undefined;
  readonly description: string | undefined;
  /** Number of files (an enhanced multi-frame series may be one file). */
  readonly files: number;
}

/** A volume read from a DICOM series; its grid knows the series and which image lies on which slice. */
export interface DicomSeriesVolume extends Volume {
  readonly grid: SourcedGrid & { readonly series: SeriesReference };
}

/** One frame (a 2-D image) and where it lies. */
interface FrameInfo {
  readonly file: string;
  /** Index of the frame in its file, from 0. */
  readonly frameIndex: number;
  /** Key in SeriesReference.sliceOfInstance. */
  readonly key: string;
  readonly position: Vec3;
  /** Unit vector along a row: the direction in which the column index (i) grows. */
  readonly rowAxis: Vec3;
  /** Unit vector along a column: the direction in which the row index (j) grows. */
  readonly columnAxis: Vec3;
  /** Pixel Spacing [0]: centre-to-centre distance between rows (along j). */
  readonly rowSpacing: number;
  /** Pixel Spacing [1]: distance between columns (along i). */
  readonly columnSpacing: number;
  readonly slope: number;
  readonly intercept: number;
  /** Spacing Between Slices, else Slice Thickness: the k spacing of a one-slice volume. */
  readonly thickness: number | undefined;
  /**
   * Smallest and largest stored value, to choose the narrowest array that holds the result.
   * Undefined for a frame of compressed pixel data: its values are known only once decoded.
   */
  readonly stored: { readonly min: number; readonly max: number } | undefined;
}

interface ImageHeader {
  readonly file: string;
  readonly seriesInstanceUid: string;
  readonly modality: string | undefined;
  readonly seriesNumber: string | undefined;
  readonly description: string | undefined;
  readonly frameOfReferenceUid: string | undefined;
  readonly transferSyntaxUid: string;
  /** The pixel data is compressed: its frames are decoded by the codec layer. */
  readonly encapsulated: boolean;
  /** A lossy encoding, or Lossy Image Compression (0028,2110) 01: the pixels were lossy compressed. */
  readonly lossy: boolean;
  /** Why the image cannot be part of a volume; reported only if its series is the one read. */
  readonly problem?: string;
  readonly layout?: PixelLayout;
  readonly frames: readonly FrameInfo[];
}

/** Lossy Image Compression (0028,2110): 01 when the pixels were lossy compressed at some point (PS3.3 C.7.6.1.1.5). */
const LossyImageCompression = tag(0x0028, 0x2110);

/** Modalities whose objects are not images of a series even when they carry pixel data. */
const NOT_IMAGE_MODALITIES = new Set(['SEG', 'RTSTRUCT', 'RTPLAN', 'SR', 'PR', 'KO', 'REG']);

/**
 * Reads one series as a volume: from a folder (searched recursively; files that are not DICOM,
 * and DICOM objects that are not images, are passed over) or from a list of files.
 */
export async function readDicomSeries(input: string | readonly string[], options: SeriesReadOptions = {}): Promise<DicomSeriesVolume> {
  const fromFolder = typeof input === 'string';
  const files = fromFolder ? await listFiles(input, options.recursive ?? true) : [...input];
  const where = fromFolder ? input : files.length === 1 ? files[0]! : `${files.length} files`;
  const headers = (await mapLimit(files, 8, (f) => scanFile(f, !fromFolder))).filter((h): h is ImageHeader => h !== undefined);
  if (headers.length === 0) throw new VolumeFormatError('no DICOM images found', where);

  const bySeries = groupBySeries(headers);
  let chosen: readonly ImageHeader[] | undefined;
  if (options.seriesInstanceUid !== undefined) {
    chosen = bySeries.get(options.seriesInstanceUid);
    if (!chosen) throw new VolumeSelectionError(`no series with Series Instance UID ${options.seriesInstanceUid}`, where, describeSeries(bySeries));
  } else if (bySeries.size === 1) {
    chosen = [...bySeries.values()][0]!;
  } else {
    throw new VolumeSelectionError(`${bySeries.size} series found; choose one by its Series Instance UID`, where, describeSeries(bySeries));
  }
  return assembleSeries(chosen);
}

/** The series found in a folder or list of files, without reading their pixels. */
export async function listDicomSeries(input: string | readonly string[]): Promise<SeriesSummary[]> {
  const files = typeof input === 'string' ? await listFiles(input) : [...input];
  const headers = (await mapLimit(files, 8, (f) => scanFile(f, false))).filter((h): h is ImageHeader => h !== undefined);
  return [...groupBySeries(headers).values()].map(summarise);
}

function groupBySeries(headers: readonly ImageHeader[]): Map<string, ImageHeader[]> {
  const bySeries = new Map<string, ImageHeader[]>();
  for (const h of headers) {
    const list = bySeries.get(h.seriesInstanceUid);
    if (list) list.push(h);
    else bySeries.set(h.seriesInstanceUid, [h]);
  }
  return bySeries;
}

function summarise(headers: readonly ImageHeader[]): SeriesSummary {
  const first = headers[0]!;
  return {
    seriesInstanceUid: first.seriesInstanceUid,
    modality: first.modality,
    seriesNumber: first.seriesNumber,
    description: first.description,
    files: headers.length,
  };
}

function describeSeries(bySeries: ReadonlyMap<string, readonly ImageHeader[]>): string[] {
  return [...bySeries.values()].map((headers) => {
    const s = summarise(headers);
    const details = [s.modality, s.seriesNumber !== undefined ? `series ${s.seriesNumber}` : undefined, s.description && `"${s.description}"`, `${s.files} file${s.files === 1 ? '' : 's'}`];
    return `${s.seriesInstanceUid} (${details.filter(Boolean).join(', ')})`;
  });
}

async function listFiles(folder: string, recursive = true): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw new VolumeFormatError(`cannot list the folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, dir);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (recursive) await walk(full);
      } else if (entry.isFile()) {
        out.push(full);
      }
    }
  };
  await walk(folder);
  return out;
}

async function mapLimit<A, B>(items: readonly A[], limit: number, fn: (item: A) => Promise<B>): Promise<B[]> {
  const out = new Array<B>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const n = next++;
      out[n] = await fn(items[n]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Reads a file's header. Undefined for what is not an image when `strict` is off (scanning a
 * folder); with `strict` (files named by the caller) that is an error.
 */
async function scanFile(file: string, strict: boolean): Promise<ImageHeader | undefined> {
  const dicom: DicomFile | undefined = strict ? await readDicomFile(file) : await readDicomFileIfDicom(file);
  if (!dicom) return undefined;
  const ds = dicom.dataset;
  const modality = textOf(ds, T.Modality);
  const hasPixels = ds.has(T.PixelData) || ds.has(T.FloatPixelData) || ds.has(T.DoubleFloatPixelData);
  if (!hasPixels || (modality !== undefined && NOT_IMAGE_MODALITIES.has(modality))) {
    if (!strict) return undefined;
    throw new VolumeFormatError(hasPixels ? `a ${modality} object, not an image of a series` : 'not an image: the file has no pixel data', file);
  }
  const seriesInstanceUid = textOf(ds, T.SeriesInstanceUID) ?? '(no Series Instance UID)';
  const base = {
    file,
    seriesInstanceUid,
    modality,
    seriesNumber: textOf(ds, T.SeriesNumber),
    description: textOf(ds, T.SeriesDescription),
    frameOfReferenceUid: textOf(ds, T.FrameOfReferenceUID),
    transferSyntaxUid: dicom.transferSyntax.uid,
    // The element's form decides, not the syntax: some converters leave native data under a compressed syntax.
    encapsulated: ds.get(T.PixelData)?.kind === 'encapsulated',
    lossy: textOf(ds, LossyImageCompression) === '01',
  };
  try {
    const little = dicom.transferSyntax.littleEndian;
    const layout = pixelLayout(ds, little);
    if (base.encapsulated) {
      // The stored range of a compressed frame would cost a decode here on top of the one in the
      // pixel pass (on a 190-slice head: +25 % of the read in JPEG Lossless, +45 % in JPEG-LS,
      // +75 % in JPEG 2000), and Bits Stored alone would often choose an Int32Array where the
      // values fit 16 bits; decodeSeriesPixels widens its array instead when a decoded value does
      // not fit. Opening checks the fragments and loads the decoder now, so an undecodable file is
      // reported like any other unusable image.
      const pixels = await openCompressed(dicom);
      const frames = frameInfos(ds, file, little);
      if (pixels.frameCount !== frames.length) throw new FrameProblem(`the pixel data holds ${pixels.frameCount} frame(s) where the header describes ${frames.length}`);
      return { ...base, lossy: base.lossy || pixels.lossy, layout, frames: frames.map((f) => ({ ...f, stored: undefined })) };
    }
    const pixels = pixelElement(ds, layout);
    const perFrame = frameBytes(layout);
    const frames = frameInfos(ds, file, little);
    if (pixels.bytes.length < frames.length * perFrame) {
      throw new FrameProblem(
        `pixel data holds ${pixels.bytes.length} bytes, but ${frames.length} frame(s) of ${layout.columns}×${layout.rows} × ${layout.bitsAllocated} bits need ${frames.length * perFrame}`,
      );
    }
    const read = storedReader(pixels.bytes, layout, little, swapsPairs(layout, little, pixels.vr));
    const frameSize = layout.rows * layout.columns;
    return { ...base, layout, frames: frames.map((f) => ({ ...f, stored: storedRange(read, f.frameIndex * frameSize, frameSize) })) };
  } catch (e) {
    if (e instanceof FrameProblem) return { ...base, problem: e.message, frames: [] };
    throw e;
  }
}

/** A header that makes an image unusable as part of a volume (reported if its series is read). */
class FrameProblem extends Error {}

/** The compressed pixel data of a file, opened by the codec layer; a PixelDecodeError becomes a FrameProblem. */
async function openCompressed(dicom: DicomFile): Promise<PixelData> {
  const { openPixelData, PixelDecodeError } = await loadCodec();
  try {
    const pixels = await openPixelData(dicom);
    if (!pixels) throw new FrameProblem('the pixel data element is missing');
    return pixels;
  } catch (e) {
    if (e instanceof PixelDecodeError) throw new FrameProblem(e.message);
    throw e;
  }
}

/** The element holding the pixels of the layout's kind, as raw bytes. */
function pixelElement(ds: Dataset, layout: PixelLayout): { readonly bytes: Uint8Array; readonly vr: string } {
  const t = layout.sample === 'float32' ? T.FloatPixelData : layout.sample === 'float64' ? T.DoubleFloatPixelData : T.PixelData;
  const element = ds.get(t);
  if (!element || element.kind !== 'value') throw new FrameProblem('the pixel data element is missing or not native');
  return element;
}

/** The layout of an image that is to join a volume; a problem makes the image unusable. */
function pixelLayout(ds: Dataset, little: boolean): PixelLayout {
  return readPixelLayout(ds, little, (reason) => new FrameProblem(reason));
}

function vec3(values: readonly number[] | undefined, name: string): Vec3 {
  if (!values || values.length < 3 || values.slice(0, 3).some((v) => !Number.isFinite(v))) throw new FrameProblem(`${name} is missing or not three numbers`);
  return [values[0]!, values[1]!, values[2]!];
}

function orientation(values: readonly number[] | undefined): [Vec3, Vec3] {
  if (!values || values.length < 6 || values.slice(0, 6).some((v) => !Number.isFinite(v))) {
    throw new FrameProblem('Image Orientation (Patient) is missing or not six numbers');
  }
  const row: Vec3 = [values[0]!, values[1]!, values[2]!];
  const column: Vec3 = [values[3]!, values[4]!, values[5]!];
  const nr = norm(row);
  const nc = norm(column);
  if (Math.abs(nr - 1) > 0.01 || Math.abs(nc - 1) > 0.01 || Math.abs(dot(row, column)) > 0.01) {
    throw new FrameProblem(`Image Orientation (Patient) [${values.slice(0, 6).join(', ')}] is not two orthogonal unit vectors`);
  }
  return [
    [row[0] / nr, row[1] / nr, row[2] / nr],
    [column[0] / nc, column[1] / nc, column[2] / nc],
  ];
}

function spacingPair(values: readonly number[] | undefined): [number, number] {
  if (!values || values.length < 2 || !(values[0]! > 0) || !(values[1]! > 0) || !Number.isFinite(values[0]!) || !Number.isFinite(values[1]!)) {
    throw new FrameProblem(`Pixel Spacing is missing or not two positive numbers${values ? ` ([${values.join(', ')}])` : ''}`);
  }
  return [values[0]!, values[1]!];
}

function positive(v: number | undefined): number | undefined {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : undefined;
}

/** The frames of an image with their geometry and rescaling. */
function frameInfos(ds: Dataset, file: string, little: boolean): Omit<FrameInfo, 'stored'>[] {
  const sop = textOf(ds, T.SOPInstanceUID) ?? file;
  const frameCount = numberOf(ds, T.NumberOfFrames, little) ?? 1;
  if (!Number.isInteger(frameCount) || frameCount < 1) throw new FrameProblem(`invalid Number of Frames ${frameCount}`);
  const perFrame = itemsOf(ds, T.PerFrameFunctionalGroupsSequence);
  const shared = itemsOf(ds, T.SharedFunctionalGroupsSequence)[0];
  const enhanced = perFrame.length > 0 || shared !== undefined;
  const multiFrame = frameCount > 1 || enhanced;
  if (enhanced && perFrame.length !== frameCount) {
    throw new FrameProblem(`${frameCount} frames but ${perFrame.length} Per-frame Functional Groups items`);
  }
  const offsets = numbersOf(ds, T.GridFrameOffsetVector, little);
  const frames: Omit<FrameInfo, 'stored'>[] = [];
  for (let f = 0; f < frameCount; f++) {
    const pf = perFrame[f];
    const group = (sequence: Tag) => (enhanced ? functionalGroup(pf, shared, sequence) : undefined);
    const [rowAxis, columnAxis] = orientation(numbersOf(group(T.PlaneOrientationSequence) ?? ds, T.ImageOrientationPatient, little) ?? numbersOf(ds, T.ImageOrientationPatient, little));
    const measures = group(T.PixelMeasuresSequence);
    const [rowSpacing, columnSpacing] = spacingPair(numbersOf(measures, T.PixelSpacing, little) ?? numbersOf(ds, T.PixelSpacing, little));
    const planePosition = numbersOf(group(T.PlanePositionSequence), T.ImagePositionPatient, little);
    let position: Vec3;
    if (planePosition) {
      position = vec3(planePosition, `frame ${f + 1}: Image Position (Patient)`);
    } else if (frameCount > 1 && !enhanced && offsets) {
      position = gridFramePosition(vec3(numbersOf(ds, T.ImagePositionPatient, little), 'Image Position (Patient)'), cross(rowAxis, columnAxis), offsets, f);
    } else if (frameCount === 1) {
      position = vec3(numbersOf(ds, T.ImagePositionPatient, little), 'Image Position (Patient)');
    } else {
      throw new FrameProblem(`frame ${f + 1} of ${frameCount} has no position (no Plane Position Sequence and no Grid Frame Offset Vector)`);
    }
    const transform = group(T.PixelValueTransformationSequence);
    const rescaleSource = transform ?? ds;
    let slope = numberOf(rescaleSource, T.RescaleSlope, little) ?? 1;
    const intercept = numberOf(rescaleSource, T.RescaleIntercept, little) ?? 0;
    // RT Dose: Dose Grid Scaling converts stored values to Gy (PS3.3 C.8.8.3).
    const doseScaling = numberOf(ds, T.DoseGridScaling, little);
    if (doseScaling !== undefined && !transform && !ds.has(T.RescaleSlope)) slope = doseScaling;
    if (!Number.isFinite(slope) || !Number.isFinite(intercept)) throw new FrameProblem('Rescale Slope or Rescale Intercept is not a number');
    frames.push({
      file,
      frameIndex: f,
      key: instanceKey(sop, multiFrame ? f + 1 : undefined),
      position,
      rowAxis,
      columnAxis,
      rowSpacing,
      columnSpacing,
      slope,
      intercept,
      thickness: positive(numberOf(measures ?? ds, T.SpacingBetweenSlices, little)) ?? positive(numberOf(measures ?? ds, T.SliceThickness, little)),
    });
  }
  return frames;
}

/**
 * Position of frame f of an RT Dose grid: offsets relative to the first frame along the normal
 * when the first offset is 0, otherwise absolute z coordinates (allowed for axial grids only).
 */
function gridFramePosition(first: Vec3, normal: Vec3, offsets: readonly number[], f: number): Vec3 {
  const offset = offsets[f];
  if (offset === undefined || !Number.isFinite(offset)) throw new FrameProblem(`Grid Frame Offset Vector has no value for frame ${f + 1}`);
  if (offsets[0] === 0) return [first[0] + normal[0] * offset, first[1] + normal[1] * offset, first[2] + normal[2] * offset];
  if (Math.abs(Math.abs(normal[2]) - 1) > 1e-3) throw new FrameProblem('Grid Frame Offset Vector holds z coordinates but the grid is not axial');
  return [first[0], first[1], offset];
}

/** Orders the frames of one series along the normal and builds the grid, then decodes the pixels. */
async function assembleSeries(headers: readonly ImageHeader[]): Promise<DicomSeriesVolume> {
  for (const h of headers) {
    if (h.problem) throw new VolumeFormatError(h.problem, h.file);
  }
  const first = headers[0]!;
  const layout = first.layout!;
  for (const h of headers) {
    const l = h.layout!;
    if (l.rows !== layout.rows || l.columns !== layout.columns) {
      throw new VolumeGeometryError(`${l.columns}×${l.rows} pixels, but ${first.file} has ${layout.columns}×${layout.rows}: the images of a volume must have the same size`, h.file);
    }
    if (l.sample !== layout.sample || l.bitsAllocated !== layout.bitsAllocated) {
      throw new VolumeFormatError(`pixel format (${l.sample}, ${l.bitsAllocated} bits) differs from ${first.file} (${layout.sample}, ${layout.bitsAllocated} bits)`, h.file);
    }
  }
  const frames = headers.flatMap((h) => h.frames);
  const reference = frames[0]!;
  for (const fr of frames) {
    const off = Math.max(...[0, 1, 2].map((n) => Math.max(Math.abs(fr.rowAxis[n]! - reference.rowAxis[n]!), Math.abs(fr.columnAxis[n]! - reference.columnAxis[n]!))));
    if (off > 1e-3) {
      throw new VolumeGeometryError(`Image Orientation (Patient) differs from that of ${reference.file}: the images are not parallel slices of one volume`, fr.file);
    }
    if (Math.abs(fr.rowSpacing - reference.rowSpacing) > 1e-3 * reference.rowSpacing || Math.abs(fr.columnSpacing - reference.columnSpacing) > 1e-3 * reference.columnSpacing) {
      throw new VolumeGeometryError(
        `Pixel Spacing [${fr.rowSpacing}, ${fr.columnSpacing}] differs from [${reference.rowSpacing}, ${reference.columnSpacing}] in ${reference.file}`,
        fr.file,
      );
    }
  }
  const normal = cross(reference.rowAxis, reference.columnAxis);
  const along = frames.map((fr) => ({ frame: fr, distance: dot(fr.position, normal) }));
  along.sort((a, b) => a.distance - b.distance);
  const origin = along[0]!.frame.position;
  const inPlane = Math.min(reference.rowSpacing, reference.columnSpacing);

  let sliceSpacing: number;
  if (along.length === 1) {
    sliceSpacing = reference.thickness ?? 1;
  } else {
    sliceSpacing = (along[along.length - 1]!.distance - along[0]!.distance) / (along.length - 1);
    const steps = along.slice(1).map((b, n) => b.distance - along[n]!.distance);
    const duplicate = steps.findIndex((step) => step <= Math.max(0.01, 1e-3 * inPlane));
    if (duplicate >= 0) {
      const a = along[duplicate]!;
      const b = along[duplicate + 1]!;
      throw new VolumeGeometryError(
        `${describeFrame(a.frame)} and ${describeFrame(b.frame)} lie at the same position (${Number(b.distance.toFixed(3))} mm along the normal): several acquisitions, echoes or time points in one series cannot form one volume`,
        b.frame.file,
      );
    }
    // The typical step is the median: against it a missing slice stands out as a double step.
    const typical = [...steps].sort((x, y) => x - y)[Math.floor(steps.length / 2)]!;
    const tolerance = Math.max(0.01, 0.01 * typical);
    const odd = steps.findIndex((step) => Math.abs(step - typical) > tolerance);
    if (odd >= 0) {
      const a = along[odd]!;
      const b = along[odd + 1]!;
      throw new VolumeGeometryError(
        `slices are not evenly spaced: ${Number(steps[odd]!.toFixed(4))} mm between ${describeFrame(a.frame)} and ${describeFrame(b.frame)}, where slices are ${Number(typical.toFixed(4))} mm apart elsewhere (a missing slice?)`,
        b.frame.file,
      );
    }
  }
  // Every slice must lie on the line through the first along the normal: a gantry tilt shears
  // the grid, which a volume with orthogonal axes would misplace.
  for (const { frame, distance } of along) {
    const expected: Vec3 = [origin[0] + normal[0] * (distance - along[0]!.distance), origin[1] + normal[1] * (distance - along[0]!.distance), origin[2] + normal[2] * (distance - along[0]!.distance)];
    const drift = norm(subtract(frame.position, expected));
    if (drift > 0.05 * inPlane) {
      throw new VolumeGeometryError(
        `${describeFrame(frame)} is ${Number(drift.toFixed(3))} mm off the line of slices along their normal (gantry tilt or sheared acquisition): not supported`,
        frame.file,
      );
    }
  }

  const sliceOfInstance = new Map<string, number>();
  along.forEach(({ frame }, k) => sliceOfInstance.set(frame.key, k));
  const dims: Vec3 = [layout.columns, layout.rows, along.length];
  const source = headers.length === 1 ? first.file : path.dirname(first.file);
  const encoding: SeriesEncoding = {
    transferSyntaxUids: [...new Set(headers.map((h) => h.transferSyntaxUid))],
    compressed: headers.some((h) => h.encapsulated),
    lossy: headers.some((h) => h.lossy),
  };
  const series: SeriesReference = { seriesInstanceUid: first.seriesInstanceUid, frameOfReferenceUid: first.frameOfReferenceUid, sliceOfInstance, encoding };
  const grid = withSource(
    {
      dims,
      spacing: [reference.columnSpacing, reference.rowSpacing, sliceSpacing],
      // `+ 0` turns −0 from the cross product into 0, so grids print and compare plainly.
      origin: origin.map((v) => v + 0) as unknown as Vec3,
      direction: [...reference.rowAxis, ...reference.columnAxis, ...normal].map((v) => v + 0),
    },
    source,
    series,
  ) as SourcedGrid & { readonly series: SeriesReference };

  const sliceOf = new Map<FrameInfo, number>();
  along.forEach(({ frame }, k) => sliceOf.set(frame, k));
  const data = await decodeSeriesPixels(headers, layout, sliceOf);
  return { grid, data };
}

function describeFrame(frame: FrameInfo): string {
  return frame.frameIndex === 0 && !frame.key.includes('#') ? path.basename(frame.file) : `${path.basename(frame.file)} frame ${frame.frameIndex + 1}`;
}

type SeriesArray = Int16Array | Int32Array | Float32Array | Float64Array;

/**
 * The volume's array, which may have to grow wider while compressed frames are decoded (their
 * stored range is not known before): an Int16Array becomes an Int32Array, an Int32Array a
 * Float64Array, the first time a value does not fit. One copy, and only when the values need it,
 * so the array ends as narrow as the one native frames of the same values choose.
 */
class VolumeArray {
  private lowest: number;
  private highest: number;
  constructor(public data: SeriesArray) {
    [this.lowest, this.highest] = bounds(data);
  }

  /** Stores v at n, widening the array first if v does not fit. */
  set(n: number, v: number): void {
    if (v < this.lowest || v > this.highest) this.widen(v);
    this.data[n] = v;
  }

  private widen(v: number): void {
    const wider = this.data instanceof Int16Array && v >= -(2 ** 31) && v <= 2 ** 31 - 1 ? new Int32Array(this.data.length) : new Float64Array(this.data.length);
    wider.set(this.data);
    this.data = wider;
    [this.lowest, this.highest] = bounds(wider);
  }
}

function bounds(data: SeriesArray): [number, number] {
  if (data instanceof Int16Array) return [-32768, 32767];
  if (data instanceof Int32Array) return [-(2 ** 31), 2 ** 31 - 1];
  return [-Infinity, Infinity];
}

/**
 * Decodes every frame into the volume. Integer results (integer stored values, integer slope and
 * intercept) are kept as integers: Int16Array when every rescaled value fits, else Int32Array;
 * other results are Float32Array (Float64Array for double-float pixel data, or for integers
 * beyond 32 bits).
 */
async function decodeSeriesPixels(headers: readonly ImageHeader[], layout: PixelLayout, sliceOf: ReadonlyMap<FrameInfo, number>): Promise<SeriesArray> {
  const frameSize = layout.rows * layout.columns;
  const count = frameSize * sliceOf.size;
  const frames = headers.flatMap((h) => h.frames);
  let out: SeriesArray;
  if (layout.sample === 'float64') {
    out = new Float64Array(count);
  } else if (layout.sample === 'float32') {
    out = new Float32Array(count);
  } else if (frames.every((f) => Number.isInteger(f.slope) && Number.isInteger(f.intercept))) {
    // From the frames whose range is known (native ones); compressed frames widen it if they must.
    let min = 0;
    let max = 0;
    for (const f of frames) {
      if (!f.stored) continue;
      const a = f.stored.min * f.slope + f.intercept;
      const b = f.stored.max * f.slope + f.intercept;
      min = Math.min(min, a, b);
      max = Math.max(max, a, b);
    }
    out = min >= -32768 && max <= 32767 ? new Int16Array(count) : min >= -(2 ** 31) && max <= 2 ** 31 - 1 ? new Int32Array(count) : new Float64Array(count);
  } else {
    out = new Float32Array(count);
  }

  const volume = new VolumeArray(out);
  for (const header of headers) {
    const dicom = await readDicomFile(header.file);
    if (header.encapsulated) {
      await decodeCompressedFrames(dicom, header, layout, sliceOf, volume);
      continue;
    }
    const little = dicom.transferSyntax.littleEndian;
    let pixels: { readonly bytes: Uint8Array; readonly vr: string };
    try {
      pixels = pixelElement(dicom.dataset, layout);
    } catch (e) {
      if (e instanceof FrameProblem) throw new VolumeFormatError(`the file changed while it was read: ${e.message}`, header.file);
      throw e;
    }
    const read = storedReader(pixels.bytes, layout, little, swapsPairs(layout, little, pixels.vr));
    const target = volume.data;
    for (const frame of header.frames) {
      if (pixels.bytes.length < (frame.frameIndex + 1) * frameBytes(layout)) throw new VolumeFormatError('the file changed while it was read: its pixel data is shorter', header.file);
      const first = frame.frameIndex * frameSize;
      const at = sliceOf.get(frame)! * frameSize;
      const { slope, intercept } = frame;
      // Native values fit the array: it was chosen from their range.
      for (let n = 0; n < frameSize; n++) target[at + n] = read(first + n) * slope + intercept;
    }
  }
  return volume.data;
}

/**
 * Decodes the frames of one compressed file into the volume (which widens when a value does not
 * fit). A frame that cannot be decoded is a VolumeFormatError naming the file, the frame and the
 * codec's reason.
 */
async function decodeCompressedFrames(dicom: DicomFile, header: ImageHeader, layout: PixelLayout, sliceOf: ReadonlyMap<FrameInfo, number>, volume: VolumeArray): Promise<void> {
  const { PixelDecodeError } = await loadCodec();
  const frameSize = layout.rows * layout.columns;
  let pixels: PixelData;
  try {
    pixels = await openCompressed(dicom);
  } catch (e) {
    if (e instanceof FrameProblem) throw new VolumeFormatError(e.message, header.file);
    throw e;
  }
  if (!pixels.encapsulated || pixels.frameCount !== header.frames.length) throw new VolumeFormatError('the file changed while it was read: its pixel data is not what its header pass found', header.file);
  for (const frame of header.frames) {
    let samples: ArrayLike<number>;
    try {
      samples = pixels.decodeFrame(frame.frameIndex).data;
    } catch (e) {
      if (e instanceof PixelDecodeError) throw new VolumeFormatError(e.message, header.file);
      throw e;
    }
    const read = decodedReader(samples, layout);
    const at = sliceOf.get(frame)! * frameSize;
    const { slope, intercept } = frame;
    for (let n = 0; n < frameSize; n++) volume.set(at + n, read(n) * slope + intercept);
  }
}
