/**
 * Marked regions: areas a user asks to remove from given images (a tattoo on the skin in a CT, a
 * name written on a cast), from a file of one of three kinds:
 *
 * - a JSON file (format below) of entries, each naming its target (a file by its relative path,
 *   an image by SOP Instance UID, or a whole series by Series Instance UID) and what to remove
 *   there: rectangles in pixel coordinates, or a mask image (PNG of the frame's size, non-zero =
 *   remove), optionally on some frames only; an entry may also name a DICOM SEG;
 * - a DICOM Segmentation (SEG) file directly: each frame of the chosen segment is applied to the
 *   source image it was derived from (Derivation Image → Source Image: Referenced SOP Instance UID
 *   and Referenced Frame Number) or, failing that, to the image of the referenced series (or the
 *   same Frame of Reference) at the same Image Position (Patient);
 * - not a PNG on its own: a mask image does not say which image it belongs to.
 *
 * JSON format (version 1):
 * ```json
 * { "regions": [
 *   { "file": "CT/IM0012.dcm", "rectangles": [{ "x": 300, "y": 120, "width": 40, "height": 30 }] },
 *   { "sopInstanceUid": "1.2.3", "rectangles": [...], "frames": [1, 2] },
 *   { "seriesInstanceUid": "1.2.4", "maskImage": "masks/tattoo.png" },
 *   { "segmentation": "seg/tattoo.dcm", "segment": "Tattoo" }
 * ] }
 * ```
 * `frames` are DICOM frame numbers (from 1); without them an entry applies to every frame.
 * Relative paths of mask images and segmentations are resolved from the JSON file's folder.
 * Unknown fields are refused, so that a misspelt field cannot silently mark nothing.
 *
 * Errors name the regions file and the field (`regions[2].rectangles[0].width`) or entry, never a
 * UID or a path of an image, which may identify a patient.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { convertIndexedToRgb, decode as decodePng, hasPngSignature } from 'fast-png';
import type { Dataset, DicomFile } from '../dicom/dataset.js';
import { readDicom } from '../dicom/reader.js';
import { tag } from '../dicom/tag.js';
import { VolumeError } from '../volume/errors.js';
import { functionalGroup, itemsOf, numberOf, numbersOf, textOf, VolumeTags as T } from '../volume/dicom-values.js';
import { parseSegmentation, segmentOfFrame, segmentPixels, type SegFile } from '../volume/segmentation.js';
import { selectRegion, type RegionSelection } from '../volume/selection.js';
import { boxesToMask, unionMasks } from './inpaint/mask.js';
import type { Box, Mask } from './types.js';

/** A marked-regions file that cannot be used: the file, the field or entry, and why. */
export class MarkedRegionsError extends Error {
  override readonly name = 'MarkedRegionsError';
  constructor(
    /** The regions file (or the mask image or SEG it names). */
    readonly file: string,
    /** Where in it, e.g. `regions[2].rectangles[0].width`; empty for the file as a whole. */
    readonly field: string,
    /** What is wrong. */
    readonly reason: string,
  ) {
    super(`${file}: ${field ? `${field}: ` : ''}${reason}`);
  }
}

/** Which images an entry applies to. */
export type RegionTarget =
  | { readonly kind: 'file'; readonly relativePath: string }
  | { readonly kind: 'instance'; readonly sopInstanceUid: string }
  | { readonly kind: 'series'; readonly seriesInstanceUid: string };

/** One frame of a DICOM SEG segment, with what places it on a source image. */
interface SegFrame {
  readonly sopInstanceUid: string | undefined;
  /** Referenced Frame Number (from 1); undefined = every frame of the source image. */
  readonly frameNumber: number | undefined;
  readonly position: readonly [number, number, number] | undefined;
  readonly mask: Mask;
}

type Entry =
  | { readonly kind: 'rectangles'; readonly where: string; readonly target: RegionTarget; readonly frames: ReadonlySet<number> | undefined; readonly boxes: readonly Box[] }
  | { readonly kind: 'mask-image'; readonly where: string; readonly target: RegionTarget; readonly frames: ReadonlySet<number> | undefined; readonly mask: Mask }
  | {
      readonly kind: 'segmentation';
      readonly where: string;
      readonly seriesInstanceUids: ReadonlySet<string>;
      readonly frameOfReferenceUid: string | undefined;
      readonly frames: readonly SegFrame[];
    };

/** The marked regions of one file, ready to be resolved image by image. */
export interface MarkedRegions {
  /** The file's name (no folder), for reports: `Finding.rule`. */
  readonly name: string;
  /** The file as given, for error messages. */
  readonly file: string;
  readonly entries: readonly Entry[];
}

/** The image (and frame) a mask is asked for. */
export interface MarkedImage {
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid: string;
  /** Relative to the input folder, with "/" separators. */
  readonly relativePath: string;
  /** 0-based frame index. */
  readonly frame: number;
  readonly rows: number;
  readonly columns: number;
  /** Of this frame; lets a SEG frame without a source reference be placed by position. */
  readonly imagePositionPatient?: readonly [number, number, number];
  readonly frameOfReferenceUid?: string;
}

/** Positions closer than this (mm) are the same plane: SEG writers copy the source's position. */
const POSITION_TOLERANCE_MM = 0.05;

const ReferencedSeriesSequence = tag(0x0008, 0x1115);

/**
 * Marked regions from a file: JSON rectangles or mask images, or a DICOM SEG (which must then hold
 * one segment; to choose among several, name it in a JSON entry: `{"segmentation": …, "segment": …}`).
 * Synchronous, so that a worker loads its regions once before its first file.
 */
export function loadMarkedRegions(file: string): MarkedRegions {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new MarkedRegionsError(file, '', `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const name = path.basename(file);
  if (hasPngSignature(bytes)) {
    throw new MarkedRegionsError(file, '', 'a mask image says nothing of the image it belongs to; name it in a JSON regions file ("maskImage") with its file or series');
  }
  if (isDicom(bytes)) return { name, file, entries: [segmentationEntry(file, bytes, undefined, '')] };
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new MarkedRegionsError(file, '', `is neither a DICOM SEG nor valid JSON (${(e as Error).message})`);
  }
  return { name, file, entries: parseRegionsJson(file, json) };
}

function isDicom(bytes: Buffer): boolean {
  return bytes.length >= 132 && bytes.toString('latin1', 128, 132) === 'DICM';
}

/**
 * The mask of one frame of one image: the union of every entry that applies to it, or undefined
 * when nothing is marked there. Throws when an entry that applies does not fit the image.
 */
export function markedMaskFor(regions: MarkedRegions, image: MarkedImage): Mask | undefined {
  const masks: Mask[] = [];
  for (const entry of regions.entries) {
    if (entry.kind === 'segmentation') {
      for (const frame of entry.frames) {
        if (!segFrameApplies(entry, frame, image)) continue;
        checkSize(regions.file, entry.where, 'the segmentation frame', frame.mask, image);
        masks.push(frame.mask);
      }
      continue;
    }
    if (!targets(entry.target, image) || (entry.frames && !entry.frames.has(image.frame + 1))) continue;
    if (entry.kind === 'mask-image') {
      checkSize(regions.file, entry.where, 'the mask image', entry.mask, image);
      masks.push(entry.mask);
    } else {
      entry.boxes.forEach((box, n) => {
        if (box.x + box.width > image.columns || box.y + box.height > image.rows) {
          throw new MarkedRegionsError(regions.file, `${entry.where}.rectangles[${n}]`, `reaches beyond the ${image.columns}×${image.rows} image it applies to`);
        }
      });
      masks.push(boxesToMask(entry.boxes, image.rows, image.columns));
    }
  }
  const [first, ...rest] = masks;
  return first ? unionMasks(first, ...rest) : undefined;
}

function targets(target: RegionTarget, image: MarkedImage): boolean {
  switch (target.kind) {
    case 'file':
      return target.relativePath === normalisePath(image.relativePath);
    case 'instance':
      return target.sopInstanceUid === image.sopInstanceUid;
    case 'series':
      return target.seriesInstanceUid === image.seriesInstanceUid;
  }
}

function segFrameApplies(entry: Extract<Entry, { kind: 'segmentation' }>, frame: SegFrame, image: MarkedImage): boolean {
  if (frame.sopInstanceUid !== undefined) {
    return frame.sopInstanceUid === image.sopInstanceUid && (frame.frameNumber === undefined || frame.frameNumber === image.frame + 1);
  }
  if (!frame.position || !image.imagePositionPatient) return false;
  // A position alone names a plane in some patient space: it must be the series the SEG refers
  // to, or at least the same Frame of Reference.
  const sameSpace =
    entry.seriesInstanceUids.size > 0
      ? entry.seriesInstanceUids.has(image.seriesInstanceUid)
      : entry.frameOfReferenceUid !== undefined && entry.frameOfReferenceUid === image.frameOfReferenceUid;
  if (!sameSpace) return false;
  const [x, y, z] = image.imagePositionPatient;
  return Math.hypot(frame.position[0] - x, frame.position[1] - y, frame.position[2] - z) <= POSITION_TOLERANCE_MM;
}

function checkSize(file: string, where: string, what: string, mask: Mask, image: MarkedImage): void {
  if (mask.rows !== image.rows || mask.columns !== image.columns) {
    throw new MarkedRegionsError(file, where, `${what} is ${mask.columns}×${mask.rows}, but the image it applies to is ${image.columns}×${image.rows}`);
  }
}

function normalisePath(p: string): string {
  return path.posix.normalize(p.replaceAll('\\', '/')).replace(/^\.\//, '');
}

// ---------------------------------------------------------------------------------------------
// The JSON format

const ENTRY_FIELDS = new Set(['file', 'sopInstanceUid', 'seriesInstanceUid', 'rectangles', 'maskImage', 'segmentation', 'segment', 'frames', 'label']);

function parseRegionsJson(file: string, json: unknown): Entry[] {
  const fail = (field: string, reason: string): never => {
    throw new MarkedRegionsError(file, field, reason);
  };
  if (!isObject(json)) return fail('', 'must be a JSON object with a "regions" array');
  for (const key of Object.keys(json)) if (key !== 'regions' && key !== 'version') fail(key, 'is not a field of a regions file (fields: version, regions)');
  if (json.version !== undefined && json.version !== 1) fail('version', 'must be 1');
  const list = json.regions;
  if (!Array.isArray(list) || list.length === 0) return fail('regions', 'must be a non-empty array');
  const folder = path.dirname(file);
  const entries: Entry[] = [];
  for (const [n, raw] of list.entries()) {
    const where = `regions[${n}]`;
    if (!isObject(raw)) fail(where, 'must be an object');
    const entry = raw as Record<string, unknown>;
    for (const key of Object.keys(entry)) if (!ENTRY_FIELDS.has(key)) fail(`${where}.${key}`, `is not a field of an entry (fields: ${[...ENTRY_FIELDS].join(', ')})`);
    if (entry.label !== undefined && typeof entry.label !== 'string') fail(`${where}.label`, 'must be a string');
    const what = (['rectangles', 'maskImage', 'segmentation'] as const).filter((k) => entry[k] !== undefined);
    if (what.length !== 1) fail(where, 'must have exactly one of rectangles, maskImage, segmentation');
    if (what[0] === 'segmentation') {
      for (const k of ['file', 'sopInstanceUid', 'seriesInstanceUid', 'frames'] as const) {
        if (entry[k] !== undefined) fail(`${where}.${k}`, 'does not apply to a segmentation, which names its source images itself');
      }
      const segPath = nonEmptyString(entry.segmentation, `${where}.segmentation`, fail);
      const segment = entry.segment;
      if (segment !== undefined && typeof segment !== 'string' && !(typeof segment === 'number' && Number.isInteger(segment) && segment > 0)) {
        fail(`${where}.segment`, 'must be a segment number (a positive integer) or a label');
      }
      const segFile = path.resolve(folder, segPath);
      let segBytes: Buffer;
      try {
        segBytes = readFileSync(segFile);
      } catch (e) {
        return fail(`${where}.segmentation`, `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      entries.push(segmentationEntry(segFile, segBytes, segment as RegionSelection | undefined, where));
      continue;
    }
    if (entry.segment !== undefined) fail(`${where}.segment`, 'applies only to a segmentation');
    const target = parseTarget(entry, where, fail);
    const frames = parseFrames(entry.frames, `${where}.frames`, fail);
    if (what[0] === 'rectangles') {
      const rects = entry.rectangles;
      if (!Array.isArray(rects) || rects.length === 0) fail(`${where}.rectangles`, 'must be a non-empty array');
      const boxes = (rects as unknown[]).map((r, k) => parseBox(r, `${where}.rectangles[${k}]`, fail));
      entries.push({ kind: 'rectangles', where, target, frames, boxes });
    } else {
      const maskPath = path.resolve(folder, nonEmptyString(entry.maskImage, `${where}.maskImage`, fail));
      entries.push({ kind: 'mask-image', where, target, frames, mask: readMaskImage(maskPath) });
    }
  }
  return entries;
}

type Fail = (field: string, reason: string) => never;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmptyString(v: unknown, field: string, fail: Fail): string {
  if (typeof v !== 'string' || v.trim() === '') fail(field, 'must be a non-empty string');
  return v as string;
}

function parseTarget(entry: Record<string, unknown>, where: string, fail: Fail): RegionTarget {
  const given = (['file', 'sopInstanceUid', 'seriesInstanceUid'] as const).filter((k) => entry[k] !== undefined);
  if (given.length !== 1) fail(where, 'must name exactly one of file, sopInstanceUid, seriesInstanceUid');
  const key = given[0]!;
  const value = nonEmptyString(entry[key], `${where}.${key}`, fail).trim();
  if (key === 'file') {
    const relativePath = normalisePath(value);
    if (path.posix.isAbsolute(relativePath) || relativePath.startsWith('../')) fail(`${where}.file`, 'must be a path relative to the input folder');
    return { kind: 'file', relativePath };
  }
  if (!/^[0-9]+(\.[0-9]+)*$/.test(value) || value.length > 64) fail(`${where}.${key}`, 'must be a UID (digits and dots, at most 64 characters)');
  return key === 'sopInstanceUid' ? { kind: 'instance', sopInstanceUid: value } : { kind: 'series', seriesInstanceUid: value };
}

function parseFrames(v: unknown, field: string, fail: Fail): ReadonlySet<number> | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0) fail(field, 'must be a non-empty array of frame numbers (from 1)');
  (v as unknown[]).forEach((f, k) => {
    if (typeof f !== 'number' || !Number.isInteger(f) || f < 1) fail(`${field}[${k}]`, 'must be a frame number, an integer from 1');
  });
  return new Set(v as number[]);
}

function parseBox(v: unknown, field: string, fail: Fail): Box {
  if (!isObject(v)) fail(field, 'must be an object with x, y, width, height');
  const r = v as Record<string, unknown>;
  for (const key of Object.keys(r)) if (!['x', 'y', 'width', 'height'].includes(key)) fail(`${field}.${key}`, 'is not a field of a rectangle (x, y, width, height)');
  const int = (key: 'x' | 'y' | 'width' | 'height', min: number): number => {
    const n = r[key];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min) fail(`${field}.${key}`, `must be an integer ≥ ${min} (pixels)`);
    return n as number;
  };
  return { x: int('x', 0), y: int('y', 0), width: int('width', 1), height: int('height', 1) };
}

// ---------------------------------------------------------------------------------------------
// Mask images

/** A PNG as a mask: a pixel is marked when any colour sample is non-zero and it is not transparent. */
function readMaskImage(file: string): Mask {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new MarkedRegionsError(file, '', `mask image cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!hasPngSignature(bytes)) throw new MarkedRegionsError(file, '', 'mask image is not a PNG');
  let png: ReturnType<typeof decodePng>;
  try {
    png = decodePng(bytes);
  } catch (e) {
    throw new MarkedRegionsError(file, '', `mask image is not a readable PNG (${(e as Error).message})`);
  }
  const { width, height } = png;
  let data: ArrayLike<number> = png.data;
  let channels = png.channels;
  if (png.palette) {
    data = convertIndexedToRgb(png);
    channels = png.palette[0]?.length === 4 || png.transparency ? 4 : 3;
  }
  const alpha = channels === 2 || channels === 4;
  const colours = alpha ? channels - 1 : channels;
  const out = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p++) {
    const base = p * channels;
    if (alpha && data[base + colours] === 0) continue;
    for (let k = 0; k < colours; k++) {
      if (data[base + k] !== 0) {
        out[p] = 1;
        break;
      }
    }
  }
  return { rows: height, columns: width, data: out };
}

// ---------------------------------------------------------------------------------------------
// DICOM SEG

/**
 * The chosen segment's frames with their placement. The attributes and pixels are read by
 * volume/segmentation.ts (the same type, segment selection and BINARY / FRACTIONAL / LABELMAP
 * rules); here frames are placed frame by frame onto source images rather than onto a volume grid.
 */
function segmentationEntry(file: string, bytes: Uint8Array, selection: RegionSelection | undefined, where: string): Entry {
  const fail = (reason: string): never => {
    throw new MarkedRegionsError(file, where ? `${where}.segmentation` : '', reason);
  };
  let dicom: DicomFile;
  try {
    dicom = readDicom(bytes);
  } catch (e) {
    return fail(`not a readable DICOM file (${(e as Error).message})`);
  }
  let seg: SegFile;
  let segmentNumber: number;
  let pixels: ReturnType<typeof segmentPixels>;
  try {
    seg = parseSegmentation(dicom, file);
    segmentNumber = selectRegion(seg.segments, selection, 'segment', file).number;
    // Regions load synchronously, once per worker before its first file, and decoding is
    // asynchronous: a compressed SEG (rare for marks, and never 1-bit) is refused with the fix.
    if (seg.dataset.get(T.PixelData)?.kind === 'encapsulated') {
      return fail(`its pixel data is compressed (transfer syntax ${dicom.transferSyntax.uid}); marked regions are read from uncompressed segmentations: write it uncompressed first (e.g. dcmdjpeg, gdcmconv --raw)`);
    }
    pixels = segmentPixels(seg, segmentNumber);
  } catch (e) {
    if (e instanceof VolumeError) return fail(e.reason);
    throw e;
  }
  const { dataset: ds, littleEndian: little, perFrame, shared, type } = seg;
  const { rows, columns, inside } = pixels;
  const frameSize = rows * columns;

  const frames: SegFrame[] = [];
  perFrame.forEach((pf, f) => {
    if (type !== 'LABELMAP' && segmentOfFrame(pf, shared, little) !== segmentNumber) return;
    const data = new Uint8Array(frameSize);
    let any = false;
    for (let p = 0; p < frameSize; p++) {
      if (inside(f, p)) {
        data[p] = 1;
        any = true;
      }
    }
    if (!any) return;
    const source = sourceOfFrame(pf, little);
    const position = numbersOf(functionalGroup(pf, shared, T.PlanePositionSequence), T.ImagePositionPatient, little);
    const placed = position && position.length >= 3 && position.slice(0, 3).every(Number.isFinite) ? ([position[0]!, position[1]!, position[2]!] as const) : undefined;
    if (!source && !placed) fail(`frame ${f + 1} has neither a Source Image reference nor a Plane Position`);
    frames.push({ sopInstanceUid: source?.uid, frameNumber: source?.frameNumber, position: placed, mask: { rows, columns, data } });
  });
  const seriesInstanceUids = new Set(itemsOf(ds, ReferencedSeriesSequence).map((item) => textOf(item, T.SeriesInstanceUID)).filter((u): u is string => u !== undefined));
  return { kind: 'segmentation', where: where || 'segmentation', seriesInstanceUids, frameOfReferenceUid: textOf(ds, T.FrameOfReferenceUID), frames };
}

function sourceOfFrame(pf: Dataset, little: boolean): { uid: string; frameNumber: number | undefined } | undefined {
  for (const derivation of itemsOf(pf, T.DerivationImageSequence)) {
    for (const sourceImage of itemsOf(derivation, T.SourceImageSequence)) {
      const uid = textOf(sourceImage, T.ReferencedSOPInstanceUID);
      if (uid) return { uid, frameNumber: numberOf(sourceImage, T.ReferencedFrameNumber, little) };
    }
  }
  return undefined;
}
