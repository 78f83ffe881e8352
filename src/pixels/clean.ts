/**
 * Pixel de-identification of one file: the frames are decoded (codec/), text is looked for by
 * the header's hints, the device rules and OCR (detect/), what was found and what the user marked
 * is inpainted (inpaint/), the cleaned frame is read again by OCR, and only the changed frames
 * are written back (codec/replaceFrames). Either every frame of a file is clean, or the file fails
 * with the reason: nothing half-cleaned is returned.
 */
import path from 'node:path';
import { asciiValue, encodeAscii, uint16Value, type DicomFile, type Element } from '../dicom/dataset.js';
import { Tags, tag, type Tag } from '../dicom/tag.js';
import { openPixelData, type PixelData } from './codec/pixel-data.js';
import { replaceFrames, type ReplaceEncoding } from './codec/replace.js';
import { createTextDetector, type TextDetector } from './detect/detector.js';
import { headerFindings } from './detect/header-hints.js';
import { loadDeviceRules, shippedDeviceRules, type DeviceRules } from './detect/device-rules.js';
import { boxesToMask, dilateMask, inpaintFrame, maskArea, unionMasks } from './inpaint/index.js';
import { loadMarkedRegions, markedMaskFor, type MarkedRegions } from './regions.js';
import { PixelCleaningError } from './errors.js';
import type { PixelSettings } from './settings.js';
import type { Box, Finding, Frame, Mask, Redaction } from './types.js';

export { DEFAULT_PIXEL_SETTINGS, type PixelSettings } from './settings.js';
export { PixelCleaningError } from './errors.js';

/** What was done to one finding's pixels. */
export type PixelAction = Redaction | 'reported';

/** A finding as the report lists it: where, why, the masked text, what was done. */
export interface ReportedFinding extends Finding {
  readonly action: PixelAction;
}

/** The pixel part of one file's outcome. Holds no pixel value and no recognised text in clear. */
export interface PixelFileReport {
  readonly frames: number;
  /** Frames changed (and re-encoded); the others keep their exact bytes. */
  readonly cleanedFrames: number;
  readonly findings: readonly ReportedFinding[];
  /** How the pixel data was written back. */
  readonly encoding: ReplaceEncoding;
  /** What the codec did (a lossy input written losslessly, …). */
  readonly note?: string;
  /** OCR passes that found more text after a cleaning and grew the mask (0 when one pass sufficed). */
  readonly extraPasses: number;
}


const BURNED_IN_ANNOTATION: Tag = tag(0x0028, 0x0301);
const FRAME_OF_REFERENCE_UID: Tag = tag(0x0020, 0x0052);
const IMAGE_POSITION_PATIENT: Tag = tag(0x0020, 0x0032);

const BITS_ALLOCATED: Tag = tag(0x0028, 0x0100);

/** 1-bit pixel data (a segmentation's or overlay-like bitmap) holds no burned-in text to read. */
function isBitmap(file: DicomFile): boolean {
  return uint16Value(file.dataset.get(BITS_ALLOCATED), file.transferSyntax.littleEndian) === 1;
}

/** A DS value of three numbers (Image Position (Patient)), or undefined. */
function decimalTriple(element: Element | undefined): readonly [number, number, number] | undefined {
  const parts = asciiValue(element)?.split('\\').map(Number);
  return parts && parts.length === 3 && parts.every(Number.isFinite) ? [parts[0]!, parts[1]!, parts[2]!] : undefined;
}
/**
 * Passes of clean → read again before a file whose text keeps being found fails. A reading of a
 * cleaned frame can find words next to the cleaned areas that the first reading missed (the
 * cleaned text no longer joins them), and each such pass grows the mask a little: frames with
 * many findings over texture (a test pattern, a colour photograph, a Doppler sector) took four
 * passes to end in the corpus, and failed at three; frames with text only take one or two.
 */
const MAX_PASSES = 5;

/** One thread's cleaner: rules and marked regions loaded once, the OCR engines started on first use. */
export class PixelCleaner {
  #detector: Promise<TextDetector> | undefined;

  private constructor(
    readonly settings: PixelSettings,
    private readonly rules: DeviceRules,
    private readonly marked: readonly MarkedRegions[],
    private readonly digestKey: Uint8Array,
    private readonly headerHints: boolean,
  ) {}

  /**
   * Loads the device rules and marked regions; errors name the file and the reason. Without
   * `headerHints` only OCR looks (for checking an output, whose declared regions were cleaned).
   */
  static create(settings: PixelSettings, digestKey: Uint8Array, options: { readonly headerHints?: boolean } = {}): PixelCleaner {
    const rules = settings.deviceRules === undefined ? shippedDeviceRules() : loadDeviceRules(settings.deviceRules);
    return new PixelCleaner(settings, rules, settings.marked.map(loadMarkedRegions), digestKey, options.headerHints !== false);
  }

  private detector(): Promise<TextDetector> {
    this.#detector ??= createTextDetector({ workers: this.settings.ocrWorkers ?? 1, digestKey: this.digestKey });
    return this.#detector;
  }

  async close(): Promise<void> {
    if (this.#detector) await (await this.#detector).close();
    this.#detector = undefined;
  }

  /** Everything to remove on each frame of `file`, without changing it. */
  async scan(file: DicomFile, relativePath: string, onFrame?: (index: number, frame: Frame, findings: readonly Finding[]) => void | Promise<void>): Promise<{ readonly frames: number; readonly findings: Finding[] }> {
    if (isBitmap(file)) return { frames: 0, findings: [] };
    const pixels = await openPixelData(file);
    if (!pixels) return { frames: 0, findings: [] };
    const all: Finding[] = [];
    const plan = this.plan(file, pixels, relativePath);
    for (let index = 0; index < pixels.frameCount; index++) {
      const frame = pixels.decodeFrame(index);
      const found = await this.findOnFrame(frame, index, plan.header);
      const marked = plan.marked(index);
      const findings = marked ? [...found, ...markedFindings(marked, index)] : found;
      all.push(...findings);
      await onFrame?.(index, frame, findings);
    }
    return { frames: pixels.frameCount, findings: all };
  }

  /**
   * Cleans `target` (the de-identified file, whose pixel data is still the original's) using the
   * original `source` for the header hints (manufacturer, ultrasound regions) that the header
   * engine may have removed. Returns the file to write and the report; throws PixelCleaningError
   * (or the codec's decode/encode errors) when the file cannot be made clean.
   */
  async clean(source: DicomFile, target: DicomFile, relativePath: string): Promise<{ readonly file: DicomFile; readonly report: PixelFileReport }> {
    if (isBitmap(source)) {
      return { file: target, report: { frames: 0, cleanedFrames: 0, findings: [], encoding: 'unchanged', note: 'a 1-bit segmentation bitmap, not an image: nothing to read', extraPasses: 0 } };
    }
    const pixels = await openPixelData(source);
    if (!pixels) {
      return { file: target, report: { frames: 0, cleanedFrames: 0, findings: [], encoding: 'unchanged', extraPasses: 0 } };
    }
    const plan = this.plan(source, pixels, relativePath);
    const replacements = new Map<number, Frame>();
    const reported: ReportedFinding[] = [];
    let extraPasses = 0;
    // Telea and Navier–Stokes average neighbouring values, which on PALETTE COLOR frames are
    // indices into a colour table: their averages are colours the image never had. Text on such
    // frames (palette ultrasound) is filled with the index its surroundings use most instead.
    const palette = pixels.format.photometric === 'PALETTE COLOR';
    const averages = (method: Redaction) => method === 'telea' || method === 'navier-stokes';
    const redaction: Redaction = palette && averages(this.settings.redaction) ? 'fill' : this.settings.redaction;
    const markedRedaction: Redaction = palette && averages(this.settings.markedRedaction) ? 'exemplar' : this.settings.markedRedaction;
    for (let index = 0; index < pixels.frameCount; index++) {
      const original = pixels.decodeFrame(index);
      const { rows, columns } = original.format;
      const textFindings = await this.findOnFrame(original, index, plan.header);
      const markedMask = plan.marked(index);
      if (textFindings.length === 0 && !markedMask) continue;

      // Regions the header or a device rule declares hold display furniture, not anatomy: they are
      // filled with the background (inpainting a whole bar would smear the colours around it into
      // shapes OCR reads as words). What OCR found is inpainted, then what the user marked.
      const declared = textFindings.filter((f) => f.source !== 'ocr');
      const declaredMask = declared.length ? boxesToMask(declared.map((f) => f.box), rows, columns) : undefined;
      const base = declaredMask ? await inpaintFrame(original, declaredMask, 'fill') : original;
      let ocrFindings = textFindings.filter((f) => f.source === 'ocr');
      let textMask: Mask | undefined;
      let cleaned = base;
      for (let pass = 1; ; pass++) {
        textMask = ocrFindings.length ? dilateMask(boxesToMask(ocrFindings.map((f) => f.box), rows, columns), this.settings.dilation) : undefined;
        cleaned = textMask ? await inpaintFrame(base, textMask, redaction) : base;
        if (markedMask) cleaned = await inpaintFrame(cleaned, markedMask, markedRedaction);
        // Read the cleaned frame again: a word still found across what OCR found (a glyph its box
        // did not cover) grows the mask, and the frame is cleaned again.
        if (!textMask) break;
        const fresh = await (await this.detector()).detect(cleaned, { frameIndex: index, covered: declared.map((f) => f.box), prefilter: this.settings.prefilter, near: textMask });
        if (fresh.length === 0) break;
        if (pass === MAX_PASSES) {
          throw new PixelCleaningError(`frame ${index}: text is still found in the cleaned area after ${MAX_PASSES} cleaning passes (${fresh.length} word box(es)); not written`);
        }
        extraPasses++;
        ocrFindings = [...ocrFindings, ...fresh];
      }
      for (const f of declared) reported.push({ ...f, action: 'fill' });
      for (const f of ocrFindings) reported.push({ ...f, action: redaction });
      if (markedMask) for (const f of markedFindings(markedMask, index)) reported.push({ ...f, action: markedRedaction });
      if (declaredMask || textMask || markedMask) replacements.set(index, cleaned);
    }
    const written = await replaceFrames(target, replacements);
    const substituted = reported.some((f) => f.source === 'ocr') && redaction !== this.settings.redaction ? `PALETTE COLOR: text filled with its surroundings' most frequent index (${this.settings.redaction} would average palette indices into colours the image does not have)` : undefined;
    const markedSubstituted = reported.some((f) => f.source === 'marked') && markedRedaction !== this.settings.markedRedaction ? `PALETTE COLOR: marked regions inpainted by exemplar (${this.settings.markedRedaction} would average palette indices)` : undefined;
    const note = [written.note, substituted, markedSubstituted].filter((n): n is string => n !== undefined).join('; ');
    return {
      file: declareClean(written.file),
      report: {
        frames: pixels.frameCount,
        cleanedFrames: replacements.size,
        findings: reported,
        encoding: written.encoding,
        ...(note ? { note } : {}),
        extraPasses,
      },
    };
  }

  /** The per-file part of the work: header findings once, marked masks per frame. */
  private plan(file: DicomFile, pixels: PixelData, relativePath: string) {
    const header = this.headerHints ? headerFindings(file.dataset, pixels.format, pixels.frameCount, this.rules, file.transferSyntax.littleEndian) : { findings: [] };
    const sopInstanceUid = asciiValue(file.dataset.get(Tags.SOPInstanceUID)) ?? '';
    const seriesInstanceUid = asciiValue(file.dataset.get(Tags.SeriesInstanceUID)) ?? '';
    const { rows, columns } = pixels.format;
    // Where a single-frame image lies, so a SEG frame that names no source image is placed by position.
    const ipp = pixels.frameCount === 1 ? decimalTriple(file.dataset.get(IMAGE_POSITION_PATIENT)) : undefined;
    const frameOfReferenceUid = asciiValue(file.dataset.get(FRAME_OF_REFERENCE_UID));
    const image = { sopInstanceUid, seriesInstanceUid, relativePath: relativePath.split(path.sep).join('/'), rows, columns, ...(ipp ? { imagePositionPatient: ipp } : {}), ...(frameOfReferenceUid ? { frameOfReferenceUid } : {}) };
    const marked = (frame: number): Mask | undefined => {
      const masks = this.marked
        .map((regions) => markedMaskFor(regions, { ...image, frame }))
        .filter((m): m is Mask => m !== undefined && maskArea(m) > 0);
      return masks.length === 0 ? undefined : unionMasks(masks[0]!, ...masks.slice(1));
    };
    return { header: header.findings, marked };
  }

  private async findOnFrame(frame: Frame, index: number, header: readonly Finding[]): Promise<Finding[]> {
    const declared = header.filter((f) => f.frame === index);
    const ocr = await (await this.detector()).detect(frame, { frameIndex: index, covered: declared.map((f) => f.box), prefilter: this.settings.prefilter });
    // A word wholly inside a declared region is removed with it: report it once, as the region.
    return [...declared, ...ocr.filter((o) => !declared.some((d) => contains(d.box, o.box)))];
  }
}

function contains(outer: Box, inner: Box): boolean {
  return inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;
}

/** The marked mask of a frame as findings, one per bounding box of its connected parts. */
function markedFindings(mask: Mask, frame: number): Finding[] {
  let minX = mask.columns;
  let minY = mask.rows;
  let maxX = -1;
  let maxY = -1;
  for (let y = 0; y < mask.rows; y++) {
    for (let x = 0; x < mask.columns; x++) {
      if (!mask.data[y * mask.columns + x]) continue;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  if (maxX < 0) return [];
  return [{ frame, box: { x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1 }, source: 'marked' }];
}

/** Burned In Annotation (0028,0301) becomes NO: every frame was read and what was found removed. */
function declareClean(file: DicomFile): DicomFile {
  const dataset = new Map<Tag, Element>(file.dataset);
  dataset.set(BURNED_IN_ANNOTATION, { kind: 'value', tag: BURNED_IN_ANNOTATION, vr: 'CS', bytes: encodeAscii('NO', 0x20) });
  return { ...file, dataset };
}
