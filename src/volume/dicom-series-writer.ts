/**
 * A volume written back as a DICOM series, with the series it was derived from as the template:
 * one output file per source file (a classic single-frame series gives one file per slice, an
 * enhanced multi-frame image one file), each keeping its source file's header and transfer
 * syntax, with new pixel data and the attributes a derived image must carry.
 *
 * What changes in each file:
 * - Pixel Data: the volume's values converted back to stored values with the inverse of each
 *   frame's own Modality LUT (PS3.3 C.11.1: value = stored × Rescale Slope + Rescale Intercept),
 *   rounded, clamped to the range Bits Stored and Pixel Representation allow, in the same Bits
 *   Allocated, Bits Stored, High Bit, Pixel Representation, byte order and transfer syntax. The
 *   bits outside Bits Stored are written as zero (PS3.5 8.1.1: they carry no image).
 * - Compressed (encapsulated) pixel data goes through the codec layer's replaceFrames: only the
 *   frames whose stored values changed are re-encoded, losslessly in the file's own transfer
 *   syntax (each new codestream is decoded again and must give the frame back exactly), and the
 *   others keep their codestreams byte for byte. A lossy source (JPEG baseline, JPEG-LS
 *   near-lossless, irreversible JPEG 2000) with a changed frame is written decoded in Explicit VR
 *   Little Endian with Lossy Image Compression kept at 01, so no second lossy generation is
 *   added; WrittenFile.transferSyntaxUid and note say so.
 * - SOP Instance UID (and the file meta's copy) and Series Instance UID are new: changed pixel
 *   data is a new instance (PS3.3 C.12.1.1.1), and the derived images form a new series. The
 *   new UIDs are keyed: an HMAC, under the caller's `uidKey`, of the original UID and the
 *   caller's `uidSeed`, so the same derivation of the same series under the same key gives the
 *   same UIDs run after run, and no one without the key can tell which original they came from.
 * - Image Type (0008,0008) value 1 becomes DERIVED (PS3.3 C.7.6.1.1.2), as does Frame Type
 *   (0008,9007) in the functional groups of an enhanced image (C.8.16.1).
 * - Derivation Description (0008,2111), Derivation Code Sequence (0008,9215) and Source Image
 *   Sequence (0008,2112) say how the image was derived and from which instance (C.7.6.1).
 * - Largest/Smallest Image Pixel Value and Largest/Smallest Pixel Value in Series (Type 3) are
 *   removed: they described the old pixels.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { asciiValue, encodeAscii, type Dataset, type DicomFile, type Element, type TransferSyntax } from '../dicom/dataset.js';
import { tag, Tags, type Tag } from '../dicom/tag.js';
import { encodeDicom } from '../dicom/writer.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../version.js';
import type { Frame, Samples } from '../pixels/types.js';
import type { DicomSeriesVolume } from './dicom-series.js';
import { functionalGroup, itemsOf, numberOf, readDicomFileIfDicom, textOf, VolumeTags as T } from './dicom-values.js';
import { VolumeFormatError, VolumeGeometryError } from './errors.js';
import { gridDifference } from './geometry.js';
import { decodedReader, encodedSample, frameBytes, loadCodec, readPixelLayout, swapsPairs, type PixelLayout } from './pixel-values.js';
import { instanceKey, sourceOf } from './source.js';
import { voxelCount, type Volume, type VoxelArray } from './volume.js';

/** A coded concept (PS3.3 Table 8.8-1a): Code Value, Coding Scheme Designator, Code Meaning. */
export interface CodedConcept {
  readonly value: string;
  readonly scheme: string;
  readonly meaning: string;
}

/**
 * PS3.16 CID 7203 "Image Derivation", (113077, DCM, "Volume editing"): the derivation that
 * removes or masks part of a volume, which is what defacing does. (113076 is "Segmentation",
 * 113062 "Pixel by pixel subtraction": neither describes setting voxels to background.)
 */
export const VOLUME_EDITING: CodedConcept = { value: '113077', scheme: 'DCM', meaning: 'Volume editing' };

/** PS3.16 CID 7202 "Source Image Purpose of Reference": (121322, DCM, "Source image for image processing operation"). */
const SOURCE_FOR_PROCESSING: CodedConcept = { value: '121322', scheme: 'DCM', meaning: 'Source image for image processing operation' };

export interface DicomSeriesWriteOptions {
  /** Derivation Description (0008,2111), at most 1024 characters (ST). */
  readonly derivationDescription: string;
  /** The Derivation Code Sequence item; default VOLUME_EDITING. */
  readonly derivationCode?: CodedConcept;
  /**
   * What distinguishes this derivation (e.g. the method, its settings and the tool's version):
   * the new UIDs are derived from it and the original UIDs, so another derivation of the same
   * series gets other UIDs.
   */
  readonly uidSeed: string;
  /**
   * Key of the new UIDs (never a plain hash of an identifier): a subkey of the project secret
   * when runs must give the same UIDs (radanon deid --deface), random bytes otherwise.
   */
  readonly uidKey: Uint8Array;
  /**
   * The files of the source series. Default: the files found again under the source grid's
   * folder (or file) whose Series Instance UID is the series'. Files of other series are passed over.
   */
  readonly files?: readonly string[];
  /**
   * Where the output of a source file goes, relative to the output folder. Default: its path
   * relative to the deepest folder holding all the series' files (the same tree of names).
   */
  readonly outputName?: (sourceFile: string) => string;
}

export interface WrittenFile {
  readonly source: string;
  /** Relative to the output folder. */
  readonly output: string;
  readonly sopInstanceUid: string;
  readonly frames: number;
  /**
   * Transfer Syntax UID of the output file: the source file's, but Explicit VR Little Endian for a
   * lossy compressed source with a changed frame (written decoded, never compressed again).
   */
  readonly transferSyntaxUid: string;
  /** For a compressed source: how its pixel data was written (frames re-encoded, or written decoded and why). */
  readonly note?: string;
}

export interface WrittenSeries {
  readonly seriesInstanceUid: string;
  readonly files: readonly WrittenFile[];
  /** Voxels whose value lay outside what the stored values can hold, written as the nearest one. */
  readonly clampedVoxels: number;
}

const DerivationDescription = tag(0x0008, 0x2111);
const DerivationCodeSequence = tag(0x0008, 0x9215);
const ImageType = tag(0x0008, 0x0008);
const FrameType = tag(0x0008, 0x9007);
const CodeValue = tag(0x0008, 0x0100);
const CodingSchemeDesignator = tag(0x0008, 0x0102);
const CodeMeaning = tag(0x0008, 0x0104);
const ReferencedSOPClassUID = tag(0x0008, 0x1150);
const PurposeOfReferenceCodeSequence = tag(0x0040, 0xa170);
/** Type 3 attributes that describe the old pixel values (PS3.3 C.7.6.3, C.7.3.1). */
const STALE_PIXEL_STATISTICS: readonly Tag[] = [tag(0x0028, 0x0106), tag(0x0028, 0x0107), tag(0x0028, 0x0108), tag(0x0028, 0x0109)];

/**
 * Writes `volume` (on the grid of `source`) as a DICOM series into `outputDir`, one file per
 * file of the source series, each written atomically and never over an existing file.
 */
export async function writeDicomSeries(volume: Volume, source: DicomSeriesVolume, outputDir: string, options: DicomSeriesWriteOptions): Promise<WrittenSeries> {
  const where = sourceOf(source.grid);
  const difference = gridDifference(source.grid, volume.grid);
  if (difference) throw new VolumeGeometryError(`the volume to write is not on the source series' grid (${difference})`, where);
  if (volume.data.length !== voxelCount(source.grid)) {
    throw new VolumeGeometryError(`the volume has ${volume.data.length} values for a ${source.grid.dims.join('×')} grid`, where);
  }
  const series = source.grid.series;
  const candidates = options.files ? [...options.files] : await seriesFiles(where);
  // A first pass finds the series' files (headers only are used), so that names can be made
  // relative to the folder holding them all.
  const members: string[] = [];
  for (const file of candidates) {
    const dicom = await readDicomFileIfDicom(file);
    if (dicom && textOf(dicom.dataset, T.SeriesInstanceUID) === series.seriesInstanceUid) members.push(file);
  }
  const root = commonFolder(members);
  const nameOf = options.outputName ?? ((file: string) => path.relative(root, file));
  const newSeriesUid = derivedUid(options.uidKey, options.uidSeed, series.seriesInstanceUid);
  const context: FileContext = {
    volume,
    sliceOfInstance: series.sliceOfInstance,
    frameSize: source.grid.dims[0] * source.grid.dims[1],
    rows: source.grid.dims[1],
    columns: source.grid.dims[0],
    newSeriesUid,
    options,
  };

  const written: WrittenFile[] = [];
  const slicesWritten = new Set<number>();
  let clampedVoxels = 0;
  for (const file of members) {
    const dicom = await readDicomFileIfDicom(file);
    if (!dicom) throw new VolumeFormatError('the file changed while it was read: no longer DICOM', file);
    const derived = await deriveFile(dicom, file, context);
    for (const k of derived.slices) slicesWritten.add(k);
    clampedVoxels += derived.clamped;
    const output = nameOf(file);
    if (output === '' || output.startsWith('..') || path.isAbsolute(output)) throw new VolumeFormatError(`output name "${output}" is not a path inside the output folder`, file);
    await writeExclusive(path.join(outputDir, output), encodeDicom({ meta: derived.meta, dataset: derived.dataset, transferSyntax: derived.transferSyntax }));
    written.push({
      source: file,
      output,
      sopInstanceUid: derived.sopInstanceUid,
      frames: derived.slices.length,
      transferSyntaxUid: derived.transferSyntax.uid,
      ...(derived.note ? { note: derived.note } : {}),
    });
  }
  if (slicesWritten.size !== source.grid.dims[2]) {
    throw new VolumeFormatError(`only ${slicesWritten.size} of the series' ${source.grid.dims[2]} slices were found among its files: the series changed since it was read`, where);
  }
  return { seriesInstanceUid: newSeriesUid, files: written, clampedVoxels };
}

/**
 * A UID under the 2.25 root (PS3.5 B.2) named by `seed` and `original` under `key`: the first
 * 128 bits of their HMAC-SHA256 with the UUID version (8, "custom", RFC 9562) and variant bits set.
 */
export function derivedUid(key: Uint8Array, seed: string, original: string): string {
  const h = createHmac('sha256', key).update('radanon derived UID\0').update(seed).update('\0').update(original).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  return `2.25.${BigInt('0x' + h.subarray(0, 16).toString('hex')).toString(10)}`;
}

interface FileContext {
  readonly volume: Volume;
  readonly sliceOfInstance: ReadonlyMap<string, number>;
  readonly frameSize: number;
  readonly rows: number;
  readonly columns: number;
  readonly newSeriesUid: string;
  readonly options: DicomSeriesWriteOptions;
}

interface DerivedFile {
  readonly meta: Dataset;
  readonly dataset: Dataset;
  readonly transferSyntax: TransferSyntax;
  readonly note?: string;
  readonly sopInstanceUid: string;
  /** The slice k of each frame, in frame order. */
  readonly slices: readonly number[];
  readonly clamped: number;
}

async function deriveFile(dicom: DicomFile, file: string, c: FileContext): Promise<DerivedFile> {
  const ds = dicom.dataset;
  const little = dicom.transferSyntax.littleEndian;
  const layout = pixelLayout(ds, little, file);
  if (layout.rows !== c.rows || layout.columns !== c.columns) {
    throw new VolumeGeometryError(`${layout.columns}×${layout.rows} pixels, but the series' grid is ${c.columns}×${c.rows}`, file);
  }
  const pixelTag = layout.sample === 'float32' ? T.FloatPixelData : layout.sample === 'float64' ? T.DoubleFloatPixelData : T.PixelData;
  const pixels = ds.get(pixelTag);
  if (!pixels || pixels.kind === 'sequence') throw new VolumeFormatError('the pixel data element is missing', file);

  // The frames and the slice each lies on, keyed as the series reader keyed them.
  const originalSop = textOf(ds, T.SOPInstanceUID);
  const sop = originalSop ?? file;
  const frameCount = numberOf(ds, T.NumberOfFrames, little) ?? 1;
  const perFrame = itemsOf(ds, T.PerFrameFunctionalGroupsSequence);
  const shared = itemsOf(ds, T.SharedFunctionalGroupsSequence)[0];
  const enhanced = perFrame.length > 0 || shared !== undefined;
  const multiFrame = frameCount > 1 || enhanced;
  const frames: FrameTransform[] = [];
  for (let f = 0; f < frameCount; f++) {
    const k = c.sliceOfInstance.get(instanceKey(sop, multiFrame ? f + 1 : undefined));
    if (k === undefined) throw new VolumeFormatError(`${multiFrame ? `frame ${f + 1}` : 'the image'} is not a slice of the series as it was read`, file);
    const transform = enhanced ? functionalGroup(perFrame[f], shared, T.PixelValueTransformationSequence) : undefined;
    const rescale = transform ?? ds;
    let slope = numberOf(rescale, T.RescaleSlope, little) ?? 1;
    const intercept = numberOf(rescale, T.RescaleIntercept, little) ?? 0;
    // RT Dose: Dose Grid Scaling is the slope when there is no Rescale Slope (PS3.3 C.8.8.3), as the reader takes it.
    const doseScaling = numberOf(ds, T.DoseGridScaling, little);
    if (doseScaling !== undefined && !transform && !ds.has(T.RescaleSlope)) slope = doseScaling;
    if (!Number.isFinite(slope) || slope === 0 || !Number.isFinite(intercept)) throw new VolumeFormatError(`frame ${f + 1}: Rescale Slope ${slope} / Intercept ${intercept} cannot be inverted`, file);
    frames.push({ slice: k, slope, intercept });
  }
  // The file with its new pixels: native bytes written here, compressed frames through the codec layer.
  let withPixels: DicomFile;
  let clamped: number;
  let note: string | undefined;
  if (pixels.kind === 'encapsulated') {
    ({ file: withPixels, clamped, note } = await replaceCompressedFrames(dicom, file, frames, c, layout));
  } else {
    const encoded = encodeFrames(c.volume.data, frames, c.frameSize, layout, little, swapsPairs(layout, little, pixels.vr));
    withPixels = { ...dicom, dataset: new Map(ds).set(pixelTag, { kind: 'value', tag: pixelTag, vr: pixels.vr, bytes: encoded.bytes }) };
    clamped = encoded.clamped;
  }

  const newSop = derivedUid(c.options.uidKey, c.options.uidSeed, sop);
  const out = new Map<Tag, Element>(withPixels.dataset);
  out.set(T.SOPInstanceUID, uidElement(T.SOPInstanceUID, newSop));
  out.set(T.SeriesInstanceUID, uidElement(T.SeriesInstanceUID, c.newSeriesUid));
  out.set(ImageType, derivedType(ImageType, ds.get(ImageType)));
  out.set(DerivationDescription, { kind: 'value', tag: DerivationDescription, vr: 'ST', bytes: encodeAscii(asciiOnly(c.options.derivationDescription).slice(0, 1024), 0x20) });
  out.set(DerivationCodeSequence, { kind: 'sequence', tag: DerivationCodeSequence, vr: 'SQ', items: [codeItem(c.options.derivationCode ?? VOLUME_EDITING)] });
  const sopClass = textOf(ds, T.SOPClassUID) ?? textOf(dicom.meta, T.MediaStorageSOPClassUID);
  if (originalSop !== undefined && sopClass !== undefined) {
    out.set(T.SourceImageSequence, {
      kind: 'sequence',
      tag: T.SourceImageSequence,
      vr: 'SQ',
      items: [
        new Map<Tag, Element>([
          [ReferencedSOPClassUID, uidElement(ReferencedSOPClassUID, sopClass)],
          [T.ReferencedSOPInstanceUID, uidElement(T.ReferencedSOPInstanceUID, originalSop)],
          [PurposeOfReferenceCodeSequence, { kind: 'sequence', tag: PurposeOfReferenceCodeSequence, vr: 'SQ', items: [codeItem(SOURCE_FOR_PROCESSING)] }],
        ]),
      ],
    });
  }
  for (const t of STALE_PIXEL_STATISTICS) out.delete(t);
  if (enhanced) {
    for (const groups of [T.SharedFunctionalGroupsSequence, T.PerFrameFunctionalGroupsSequence]) {
      const el = out.get(groups);
      if (el?.kind === 'sequence') out.set(groups, { ...el, items: el.items.map(derivedFrameTypes) });
    }
  }

  const meta = new Map<Tag, Element>(withPixels.meta);
  meta.set(Tags.MediaStorageSOPInstanceUID, uidElement(Tags.MediaStorageSOPInstanceUID, newSop));
  meta.set(Tags.ImplementationClassUID, uidElement(Tags.ImplementationClassUID, IMPLEMENTATION_CLASS_UID));
  meta.set(Tags.ImplementationVersionName, { kind: 'value', tag: Tags.ImplementationVersionName, vr: 'SH', bytes: encodeAscii(IMPLEMENTATION_VERSION_NAME, 0x20) });
  return {
    meta,
    dataset: out,
    transferSyntax: withPixels.transferSyntax,
    ...(note ? { note } : {}),
    sopInstanceUid: newSop,
    slices: frames.map((f) => f.slice),
    clamped,
  };
}

/**
 * The file with its compressed frames replaced where their stored values changed (replaceFrames:
 * lossless re-encoding in the file's syntax, or a lossy source written decoded). Decoding each
 * original frame to compare costs less than encoding and verifying frames that did not change,
 * and keeps their codestreams byte for byte.
 */
async function replaceCompressedFrames(
  dicom: DicomFile,
  file: string,
  frames: readonly FrameTransform[],
  c: FileContext,
  layout: PixelLayout,
): Promise<{ file: DicomFile; clamped: number; note?: string }> {
  const { newSamples, openPixelData, replaceFrames, PixelDecodeError, PixelEncodeError } = await loadCodec();
  const codecError = (e: unknown): unknown => (e instanceof PixelDecodeError || e instanceof PixelEncodeError ? new VolumeFormatError(e.message, file) : e);
  if (layout.sample !== 'integer') throw new VolumeFormatError('compressed float pixel data is not an image the codecs know', file);
  let pixels;
  try {
    pixels = await openPixelData(dicom);
  } catch (e) {
    throw codecError(e);
  }
  if (!pixels || pixels.frameCount !== frames.length) throw new VolumeFormatError(`the pixel data does not hold the file's ${frames.length} frame(s)`, file);
  const converter = new StoredConverter(layout);
  const replacements = new Map<number, Frame>();
  for (let f = 0; f < frames.length; f++) {
    let original: Samples;
    try {
      original = pixels.decodeFrame(f).data;
    } catch (e) {
      throw codecError(e);
    }
    const read = decodedReader(original, layout);
    const { slice, slope, intercept } = frames[f]!;
    const from = slice * c.frameSize;
    const data = newSamples(c.frameSize, pixels.format);
    let changed = false;
    for (let n = 0; n < c.frameSize; n++) {
      const s = converter.stored(c.volume.data[from + n]!, slope, intercept);
      if (s !== read(n)) changed = true;
      data[n] = encodedSample(s, layout);
    }
    if (changed) replacements.set(f, { format: pixels.format, data });
  }
  try {
    const result = await replaceFrames(dicom, replacements);
    return { file: result.file, clamped: converter.clamped, ...(result.note ? { note: result.note } : {}) };
  } catch (e) {
    throw codecError(e);
  }
}

/**
 * value → stored value for integer pixel data: (value − intercept) / slope, rounded to the
 * nearest integer and clamped to what Bits Stored and Pixel Representation allow (NaN to the
 * lowest), counting the values clamped.
 */
class StoredConverter {
  clamped = 0;
  private readonly lowest: number;
  private readonly highest: number;
  constructor(layout: PixelLayout) {
    const bits = layout.bitsStored;
    this.lowest = layout.signed ? -(2 ** (bits - 1)) : 0;
    this.highest = layout.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  }

  stored(value: number, slope: number, intercept: number): number {
    const s = Math.round((value - intercept) / slope);
    if (s >= this.lowest && s <= this.highest) return s;
    this.clamped++;
    return s > this.highest ? this.highest : this.lowest;
  }
}

interface FrameTransform {
  readonly slice: number;
  readonly slope: number;
  readonly intercept: number;
}

/**
 * The stored values of the frames, in the file's layout: stored = (value − intercept) / slope,
 * rounded to the nearest integer and clamped to the stored range for integer pixel data.
 */
function encodeFrames(
  values: VoxelArray,
  frames: readonly FrameTransform[],
  frameSize: number,
  layout: PixelLayout,
  little: boolean,
  swapPairs: boolean,
): { bytes: Uint8Array; clamped: number } {
  const length = frames.length * frameBytes(layout);
  const bytes = new Uint8Array(length + (length & 1));
  const view = new DataView(bytes.buffer);
  if (layout.sample !== 'integer') {
    const wide = layout.sample === 'float64';
    frames.forEach((fr, f) => {
      const from = fr.slice * frameSize;
      const to = f * frameSize;
      for (let n = 0; n < frameSize; n++) {
        const v = (values[from + n]! - fr.intercept) / fr.slope;
        if (wide) view.setFloat64(8 * (to + n), v, little);
        else view.setFloat32(4 * (to + n), v, little);
      }
    });
    return { bytes, clamped: 0 };
  }
  const bits = layout.bitsStored;
  const shift = layout.highBit + 1 - bits;
  const mask = bits === 32 ? 0xffffffff : 2 ** bits - 1;
  const converter = new StoredConverter(layout);
  frames.forEach((fr, f) => {
    const from = fr.slice * frameSize;
    const to = f * frameSize;
    const { slope, intercept } = fr;
    for (let n = 0; n < frameSize; n++) {
      const s = converter.stored(values[from + n]!, slope, intercept);
      // Two's complement within Bits Stored, moved up to end at High Bit; other bits zero.
      const raw = bits === 32 ? s >>> 0 : ((s & mask) * 2 ** shift) >>> 0;
      const at = to + n;
      if (layout.bitsAllocated === 8) bytes[swapPairs ? at ^ 1 : at] = raw & 0xff;
      else if (layout.bitsAllocated === 16) view.setUint16(2 * at, raw & 0xffff, little);
      else view.setUint32(4 * at, raw, little);
    }
  });
  return { bytes, clamped: converter.clamped };
}

/** The pixel layout of a source file, as the series reader reads it. */
function pixelLayout(ds: Dataset, little: boolean, file: string): PixelLayout {
  return readPixelLayout(ds, little, (reason) => new VolumeFormatError(reason, file));
}

function uidElement(t: Tag, uid: string): Element {
  return { kind: 'value', tag: t, vr: 'UI', bytes: encodeAscii(uid, 0x00) };
}

function codeItem(code: CodedConcept): Dataset {
  return new Map<Tag, Element>([
    [CodeValue, { kind: 'value', tag: CodeValue, vr: 'SH', bytes: encodeAscii(code.value, 0x20) }],
    [CodingSchemeDesignator, { kind: 'value', tag: CodingSchemeDesignator, vr: 'SH', bytes: encodeAscii(code.scheme, 0x20) }],
    [CodeMeaning, { kind: 'value', tag: CodeMeaning, vr: 'LO', bytes: encodeAscii(code.meaning, 0x20) }],
  ]);
}

/** Image Type or Frame Type with value 1 DERIVED (the others kept); DERIVED\SECONDARY when absent. */
function derivedType(t: Tag, el: Element | undefined): Element {
  const values = (asciiValue(el) ?? '').split('\\').map((v) => v.trim());
  const next = values.length > 0 && values[0] !== '' ? ['DERIVED', ...values.slice(1)] : ['DERIVED', 'SECONDARY'];
  return { kind: 'value', tag: t, vr: 'CS', bytes: encodeAscii(next.join('\\'), 0x20) };
}

/** A functional groups item with Frame Type (in its frame type macro's sequence) made DERIVED. */
function derivedFrameTypes(item: Dataset): Dataset {
  let changed: Map<Tag, Element> | undefined;
  for (const el of item.values()) {
    if (el.kind !== 'sequence' || !el.items.some((i) => i.has(FrameType))) continue;
    changed ??= new Map(item);
    changed.set(el.tag, {
      ...el,
      items: el.items.map((i) => (i.has(FrameType) ? new Map(i).set(FrameType, derivedType(FrameType, i.get(FrameType))) : i)),
    });
  }
  return changed ?? item;
}

function asciiOnly(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

/** The deepest folder holding every file. */
function commonFolder(files: readonly string[]): string {
  if (files.length === 0) return '.';
  let parts = path.resolve(path.dirname(files[0]!)).split(path.sep);
  for (const f of files.slice(1)) {
    const other = path.resolve(path.dirname(f)).split(path.sep);
    let n = 0;
    while (n < parts.length && n < other.length && parts[n] === other[n]) n++;
    parts = parts.slice(0, n);
  }
  return parts.join(path.sep) || path.sep;
}

/** The files under the series' source (a folder, searched with its subfolders, or one file). */
async function seriesFiles(where: string | undefined): Promise<string[]> {
  if (where === undefined) throw new VolumeFormatError('the source series does not say where it was read from: give its files');
  const info = await stat(where).catch(() => undefined);
  if (!info) throw new VolumeFormatError('the source series can no longer be found', where);
  if (!info.isDirectory()) return [where];
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) out.push(full);
    }
  };
  await walk(where);
  return out;
}

/** Writes into a temporary file in the target folder, then links it into place: fails if the target exists. */
async function writeExclusive(target: string, chunks: readonly Uint8Array[]): Promise<void> {
  const dir = path.dirname(target);
  await mkdir(dir, { recursive: true });
  const temporary = path.join(dir, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx');
  try {
    await handle.writeFile(Buffer.concat(chunks));
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new VolumeFormatError('a file is already there: not overwritten', target);
    throw e;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}
