/**
 * The text detector: pre-filter, text rendering and OCR per frame. Every word the engine
 * reports becomes a finding, whatever its confidence; the recognised text leaves only masked
 * and digested.
 */
import { touchesMask } from '../inpaint/mask.js';
import type { Box, Finding, Frame, Mask } from '../types.js';
import { OcrPool } from './ocr.js';
import { prefilterByLevel, type CandidateLine } from './prefilter.js';
import { TextDigester } from './text-mask.js';
import { ocrRendering, regionTopHat, textView, type BlockThresholds, type Plane } from './windowing.js';

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
  /**
   * Only words touching this mask (of the frame's size) are wanted, as when a cleaned frame is
   * read again to check its cleaned areas: regions that cannot yield such a word are not read, and
   * only findings touching it are returned. The same as filtering a full reading, at a fraction of
   * its cost when the cleaned areas are a small part of the frame.
   */
  readonly near?: Mask;
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
/** White margin around each crop: tesseract drops words touching the image border. */
const BORDER = 12;
/**
 * Regions reach this many of a line's tallest glyphs beyond each end: the first or last word of
 * a line whose letters join anatomy drops out of the candidate line, and the engine reads it
 * when its region includes it (synthetic suite: 219 → 227 of 236 words, 0.7 % more area flagged
 * around text, nothing on text-free frames, which have no line).
 */
const LINE_REACH = 4;

/** Share of a line's box inside a line of a higher rendering for the two to be one line. */
const SAME_LINE = 0.9;

interface Region {
  readonly box: Box;
  readonly scale: number;
  readonly level: number;
  /** Top-hat threshold of its OCR rendering (one value, or one per block of the frame). */
  readonly threshold: number | BlockThresholds;
}

function union(a: Box, b: Box): Box {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

function intersects(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function overlapArea(a: Box, b: Box): number {
  return Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)) * Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
}

function grownBox(b: Box, by: number): Box {
  return { x: b.x - by, y: b.y - by, width: b.width + 2 * by, height: b.height + 2 * by };
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
  // Print far above the anatomy passes every rendering: a line already seen at a higher
  // threshold is read there only (1024×768 ultrasound: each annotation line came four times).
  const distinct = lines.filter((l) => !lines.some((h) => h.level < l.level && overlapArea(h.box, l.box) >= SAME_LINE * l.box.width * l.box.height));
  let regions: Region[] = distinct.map((l) => {
    const pad = Math.max(4, Math.round(l.glyphHeight * 0.75));
    const side = Math.round(LINE_REACH * l.tallest);
    return { box: clip({ x: l.box.x - pad - side, y: l.box.y - pad, width: l.box.width + 2 * pad + 2 * side, height: l.box.height + 2 * pad }, width, height), scale: scaleFor(l.glyphHeight), level: l.level, threshold: l.threshold };
  });
  for (let merged = true; merged; ) {
    merged = false;
    outer: for (let i = 0; i < regions.length; i++) {
      for (let j = i + 1; j < regions.length; j++) {
        if (regions[i]!.level === regions[j]!.level && intersects(regions[i]!.box, regions[j]!.box)) {
          const m = { box: union(regions[i]!.box, regions[j]!.box), scale: Math.max(regions[i]!.scale, regions[j]!.scale), level: regions[i]!.level, threshold: regions[i]!.threshold };
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

/** The column runs of a line's box that no word box covering its rows reaches, as boxes of the line's height. */
export function unreadRuns(line: Box, words: readonly Box[]): Box[] {
  const covered = new Uint8Array(line.width);
  for (const w of words) {
    if (w.y > line.y || w.y + w.height < line.y + line.height) {
      // A word counts for its columns only when it spans (nearly) all of the line's rows.
      if (!intersects(w, line)) continue;
      const top = Math.max(w.y, line.y);
      const bottom = Math.min(w.y + w.height, line.y + line.height);
      if (bottom - top < 0.8 * line.height) continue;
    }
    for (let x = Math.max(w.x, line.x); x < Math.min(w.x + w.width, line.x + line.width); x++) covered[x - line.x] = 1;
  }
  const runs: Box[] = [];
  for (let x = 0; x < line.width; ) {
    if (covered[x]) {
      x++;
      continue;
    }
    const start = x;
    while (x < line.width && !covered[x]) x++;
    runs.push({ x: line.x + start, y: line.y, width: x - start, height: line.height });
  }
  return runs;
}

/** Zeroes the covered boxes of a region's top-hat: what the header already removes is not read. */
function blank(image: Plane, region: Box, boxes: readonly Box[]): void {
  for (const b of boxes) {
    const c = clip({ x: b.x - region.x, y: b.y - region.y, width: b.width, height: b.height }, image.width, image.height);
    for (let y = c.y; y < c.y + c.height; y++) image.data.fill(0, y * image.width + c.x, y * image.width + c.x + c.width);
  }
}

export async function createTextDetector(options: TextDetectorOptions = {}): Promise<TextDetector> {
  if (options.workers !== undefined && (!Number.isInteger(options.workers) || options.workers < 1)) {
    throw new Error(`workers: must be a positive integer (got ${options.workers})`);
  }
  const digester = new TextDigester(options.digestKey);
  // The engines start on the first region to read: a batch of text-free slices never pays for
  // them (one to two seconds per engine and thread).
  let pool: Promise<OcrPool> | undefined;
  const engines = (): Promise<OcrPool> => (pool ??= OcrPool.start(options.workers));
  return {
    async detect(frame: Frame, hints: FrameHints): Promise<Finding[]> {
      if (!Number.isInteger(hints.frameIndex) || hints.frameIndex < 0) throw new Error(`hints.frameIndex: must be a non-negative integer (got ${hints.frameIndex})`);
      const view = textView(frame);
      const { width, height } = view.plane;
      const covered = hints.covered ?? [];
      const near = hints.near;
      if (near && (near.rows !== height || near.columns !== width)) {
        throw new Error(`hints.near: a ${near.columns}×${near.rows} mask for a ${width}×${height} frame`);
      }
      // A word's box lies within its region grown by the rendering's border and the word padding,
      // and a line's unread runs within its region: a region that cannot reach `near` is not read.
      const wanted = (r: Region) => !near || touchesMask(grownBox(r.box, BORDER + WORD_PADDING + 1), near);
      const read = async (region: Region): Promise<Finding[]> => {
        const tophat = regionTopHat(view, region.box);
        blank(tophat, region.box, covered);
        const words = await (await engines()).recognize(ocrRendering(tophat, region.threshold, region.scale, BORDER, region.box));
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
      };
      const lines: CandidateLine[] = [];
      const reading: Promise<Finding[]>[] = [];
      const start = (region: Region) => {
        const job = read(region);
        // Awaited below with the rest; a failure before then must not count as unhandled.
        job.catch(() => undefined);
        reading.push(job);
      };
      for (const levelLines of prefilterByLevel(view, covered)) {
        if (levelLines.length === 0) continue;
        lines.push(...levelLines);
        // A level's regions depend only on its own lines and those of higher contrast levels, all
        // seen by now: the engines read them while this thread renders the next level.
        const level = levelLines[0]!.level;
        const regions = ocrRegions(lines, width, height).filter((r) => r.level === level && wanted(r));
        regions.forEach(start);
        if (regions.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      // Every frame, small ones included, is gated by its candidate lines: OCR of a whole
      // 64×64 slice reads anatomy as words, and every word becomes a finding.
      if (lines.length === 0) {
        if (hints.prefilter !== false) return [];
        const scale = width * height <= 1024 * 1024 ? 2 : 1;
        const whole = view.thresholds.map((threshold, level): Region => ({ box: { x: 0, y: 0, width, height }, scale, level, threshold }));
        whole.filter(wanted).forEach(start);
      }
      const perRegion = await Promise.all(reading);
      const words = perRegion.flat().filter((f) => f.box.width > 0 && f.box.height > 0);
      // The parts of a candidate line the engine read no word on are still removed: small or
      // faint text is where the engine fails first (it also splits a word in two with a
      // one-pixel gap, or drops a letter), and a missed name costs more than a patch of
      // inpainted background. Candidate lines are single rows of glyphs of one printed value,
      // so the patch is print. Such findings carry confidence 0 and no text.
      // Padded by a quarter glyph: a line is seen by its vertical strokes, bars and tails of
      // some letters reach a little beyond them. Lengthened by its tallest glyph at each end:
      // first and last letters joined to anatomy drop out of a line (measured on the synthetic
      // suite), and the engine's words do not always reach them either.
      const unread = lines.flatMap((l) => {
        const pad = Math.max(WORD_PADDING, Math.round(0.25 * l.glyphHeight));
        const long = clip({ x: l.box.x - l.tallest, y: l.box.y, width: l.box.width + 2 * l.tallest, height: l.box.height }, width, height);
        return unreadRuns(long, words.map((w) => w.box)).map(
          (b): Finding => ({ frame: hints.frameIndex, box: clip({ x: b.x - pad, y: b.y - pad, width: b.width + 2 * pad, height: b.height + 2 * pad }, width, height), source: 'ocr', confidence: 0 }),
        );
      });
      const found = [...words, ...unread];
      return near ? found.filter((f) => touchesMask(f.box, near)) : found;
    },
    close: async () => {
      const started = pool;
      pool = undefined;
      if (started) await (await started).close();
    },
  };
}
