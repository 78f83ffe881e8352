/**
 * The text detector: pre-filter, text rendering and OCR per frame. Every word the engine
 * reports becomes a finding, whatever its confidence; the recognised text leaves only masked
 * and digested.
 */
import type { Box, Finding, Frame } from '../types.js';
import { OcrPool } from './ocr.js';
import { prefilter, type CandidateLine } from './prefilter.js';
import { TextDigester } from './text-mask.js';
import { ocrRendering, regionTopHat, textView, type Plane } from './windowing.js';

/** What the header tells the detector about one frame. */
export interface FrameHints {
  /** 0-based index of the frame in its file (becomes Finding.frame). */
  readonly frameIndex: number;
  /** Regions already removed by header findings (ultrasound regions, device rules): not read again. */
  readonly covered?: readonly Box[];
  /**
   * false: OCR frames the pre-filter would skip too (whole frame). For measuring that the
   * pre-filter loses nothing, and for users who prefer time to risk.
   */
  readonly prefilter?: boolean;
}

export interface TextDetector {
  detect(frame: Frame, hints: FrameHints): Promise<Finding[]>;
  close(): Promise<void>;
}

export interface TextDetectorOptions {
  /** OCR engines run in parallel; default: the number of cores. */
  readonly workers?: number;
  /** HMAC key for Finding.text.digest (≥ 16 bytes); default: a random key per detector. */
  readonly digestKey?: Uint8Array;
}

/** Pixels added around each OCR word box, so anti-aliased edges are inside it. */
export const WORD_PADDING = 2;
/** Height the OCR engine reads text best at; smaller candidate lines are upscaled towards it. */
const TARGET_GLYPH_HEIGHT = 30;
const MAX_UPSCALE = 4;
/** Frames with fewer pixels than 256×256 skip the pre-filter (see detect). */
export const GATED_MIN_PIXELS = 256 * 256;
/** White margin around each crop: tesseract drops words touching the image border. */
const BORDER = 12;

interface Region {
  readonly box: Box;
  readonly scale: number;
  readonly level: number;
}

function union(a: Box, b: Box): Box {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

function intersects(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function clip(b: Box, width: number, height: number): Box {
  const x = Math.max(0, b.x);
  const y = Math.max(0, b.y);
  return { x, y, width: Math.max(0, Math.min(width, b.x + b.width) - x), height: Math.max(0, Math.min(height, b.y + b.height) - y) };
}

function scaleFor(glyphHeight: number): number {
  return Math.max(1, Math.min(MAX_UPSCALE, Math.round(TARGET_GLYPH_HEIGHT / Math.max(1, glyphHeight))));
}

/**
 * Candidate lines, padded (a line seen by its vertical strokes only needs room for the rest of
 * its letters) and merged per contrast level into the regions the engine reads, each at one
 * scale.
 */
export function ocrRegions(lines: readonly CandidateLine[], width: number, height: number): Region[] {
  let regions: Region[] = lines.map((l) => {
    const pad = Math.max(4, Math.round(l.glyphHeight * 0.75));
    return { box: clip({ x: l.box.x - pad, y: l.box.y - pad, width: l.box.width + 2 * pad, height: l.box.height + 2 * pad }, width, height), scale: scaleFor(l.glyphHeight), level: l.level };
  });
  for (let merged = true; merged; ) {
    merged = false;
    outer: for (let i = 0; i < regions.length; i++) {
      for (let j = i + 1; j < regions.length; j++) {
        if (regions[i]!.level === regions[j]!.level && intersects(regions[i]!.box, regions[j]!.box)) {
          const m = { box: union(regions[i]!.box, regions[j]!.box), scale: Math.max(regions[i]!.scale, regions[j]!.scale), level: regions[i]!.level };
          regions = regions.filter((_, k) => k !== i && k !== j);
          regions.push(m);
          merged = true;
          break outer;
        }
      }
    }
  }
  return regions;
}

/** Zeroes the covered boxes of a region's top-hat: what the header already removes is not read. */
function blank(image: Plane, region: Box, boxes: readonly Box[]): void {
  for (const b of boxes) {
    const c = clip({ x: b.x - region.x, y: b.y - region.y, width: b.width, height: b.height }, image.width, image.height);
    for (let y = c.y; y < c.y + c.height; y++) image.data.fill(0, y * image.width + c.x, y * image.width + c.x + c.width);
  }
}

export async function createTextDetector(options: TextDetectorOptions = {}): Promise<TextDetector> {
  const digester = new TextDigester(options.digestKey);
  const pool = await OcrPool.start(options.workers);
  return {
    async detect(frame: Frame, hints: FrameHints): Promise<Finding[]> {
      if (!Number.isInteger(hints.frameIndex) || hints.frameIndex < 0) throw new Error(`hints.frameIndex: must be a non-negative integer (got ${hints.frameIndex})`);
      const view = textView(frame);
      const { width, height } = view.plane;
      const covered = hints.covered ?? [];
      const lines = prefilter(view, covered);
      let regions = ocrRegions(lines, width, height);
      if (width * height < GATED_MIN_PIXELS) {
        // Small frames are not gated: the engine also reads them whole at the high contrast
        // level, which costs little, and on them text over anatomy merges with it in the
        // rendering, where the pre-filter cannot see lines. (Whole at the low level too would
        // read anatomy as words over most of a 64×64 slice.)
        regions = [...regions, { box: { x: 0, y: 0, width, height }, scale: MAX_UPSCALE, level: 0 }];
      } else if (regions.length === 0) {
        if (hints.prefilter !== false) return [];
        const scale = width * height <= 1024 * 1024 ? 2 : 1;
        regions = view.thresholds.map((_, level) => ({ box: { x: 0, y: 0, width, height }, scale, level }));
      }
      const perRegion = await Promise.all(
        regions.map(async (region) => {
          const tophat = regionTopHat(view, region.box);
          blank(tophat, region.box, covered);
          const words = await pool.recognize(ocrRendering(tophat, view.thresholds[region.level]!, region.scale, BORDER));
          return words.map((w): Finding => {
            const x0 = region.box.x + Math.floor((w.box.x - BORDER) / region.scale) - WORD_PADDING;
            const y0 = region.box.y + Math.floor((w.box.y - BORDER) / region.scale) - WORD_PADDING;
            const x1 = region.box.x + Math.ceil((w.box.x + w.box.width - BORDER) / region.scale) + WORD_PADDING;
            const y1 = region.box.y + Math.ceil((w.box.y + w.box.height - BORDER) / region.scale) + WORD_PADDING;
            return {
              frame: hints.frameIndex,
              box: clip({ x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, width, height),
              source: 'ocr',
              confidence: w.confidence,
              text: digester.describe(w.text),
            };
          });
        }),
      );
      const words = perRegion.flat().filter((f) => f.box.width > 0 && f.box.height > 0);
      // A candidate line the engine read no word on is still removed: small or faint text is
      // where the engine fails first, and a missed name costs more than a patch of inpainted
      // background. Only single-row lines (no taller than two glyphs): a taller cluster is
      // anatomy, not print. Such findings carry confidence 0 and no text.
      const unread = lines
        .filter((l) => l.box.height <= 2 * l.glyphHeight && !words.some((w) => intersects(w.box, l.box)))
        .map((l): Finding => ({ frame: hints.frameIndex, box: clip({ x: l.box.x - WORD_PADDING, y: l.box.y - WORD_PADDING, width: l.box.width + 2 * WORD_PADDING, height: l.box.height + 2 * WORD_PADDING }, width, height), source: 'ocr', confidence: 0 }));
      return [...words, ...unread];
    },
    close: () => pool.close(),
  };
}
