/** Pixel cleaning settings: plain data, so they cross into worker threads and the CLI loads nothing heavy. */
import { availableParallelism } from 'node:os';
import type { Redaction } from './types.js';

/** How a run treats pixel data (serialisable: it travels to worker threads). */
export interface PixelSettings {
  /** How text and header-declared regions are filled (default Telea inpainting). */
  readonly redaction: Redaction;
  /** How user-marked regions are filled (default exemplar inpainting, which continues texture). */
  readonly markedRedaction: Redaction;
  /**
   * Pixels the removal mask grows by around each box, for anti-aliased glyph edges. 3 by default:
   * at 2, the halo of 12–16 px annotations on the corpus's ultrasound frames was read again as a
   * line after cleaning, and every such frame took a second cleaning pass (3 of 4 with text;
   * none at 3, and those frames cleaned in 0.4–0.6 s instead of 0.7–1.2 s).
   */
  readonly dilation: number;
  /** Device rules file; default the shipped `assets/pixels/device-rules.yaml`. */
  readonly deviceRules?: string;
  /** Files of user-marked regions (rectangles JSON, mask PNG or DICOM SEG). */
  readonly marked: readonly string[];
  /** false: every frame goes to OCR, even those the pre-filter proves text-free. */
  readonly prefilter: boolean;
  /**
   * OCR engines per thread. Default: the cores left to each thread of the run
   * (`ocrEnginesPerThread`): one per thread when a batch runs a thread per core, every core for a
   * single thread (`pixels scan`, `verify --pixels`, `deid --workers 1`), where the regions of
   * one frame are read in parallel.
   */
  readonly ocrWorkers?: number;
}

/**
 * Most engines one thread starts: a frame rarely has more candidate regions at one contrast level
 * than this, and each engine holds its own copy of the model (about 45 MB of memory each).
 */
const MAX_ENGINES_PER_THREAD = 4;

/** OCR engines for each of `threads` threads sharing the machine's cores: at least one. */
export function ocrEnginesPerThread(threads: number): number {
  return Math.max(1, Math.min(MAX_ENGINES_PER_THREAD, Math.floor(availableParallelism() / Math.max(1, threads))));
}

/** The settings with `ocrWorkers` set for `threads` threads unless the user chose it. */
export function withOcrEngines(settings: PixelSettings, threads: number): PixelSettings {
  return settings.ocrWorkers === undefined ? { ...settings, ocrWorkers: ocrEnginesPerThread(threads) } : settings;
}

export const DEFAULT_PIXEL_SETTINGS: PixelSettings = { redaction: 'telea', markedRedaction: 'exemplar', dilation: 3, marked: [], prefilter: true };
