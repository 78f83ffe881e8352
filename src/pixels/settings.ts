/** Pixel cleaning settings: plain data, so they cross into worker threads and the CLI loads nothing heavy. */
import type { Redaction } from './types.js';

/** How a run treats pixel data (serialisable: it travels to worker threads). */
export interface PixelSettings {
  /** How text and header-declared regions are filled (default Telea inpainting). */
  readonly redaction: Redaction;
  /** How user-marked regions are filled (default exemplar inpainting, which continues texture). */
  readonly markedRedaction: Redaction;
  /** Pixels the removal mask grows by around each box, for anti-aliased glyph edges. */
  readonly dilation: number;
  /** Device rules file; default the shipped `assets/pixels/device-rules.yaml`. */
  readonly deviceRules?: string;
  /** Files of user-marked regions (rectangles JSON, mask PNG or DICOM SEG). */
  readonly marked: readonly string[];
  /** false: every frame goes to OCR, even those the pre-filter proves text-free. */
  readonly prefilter: boolean;
  /** OCR engines per thread (default: one; a batch already runs one thread per core). */
  readonly ocrWorkers?: number;
}

export const DEFAULT_PIXEL_SETTINGS: PixelSettings = { redaction: 'telea', markedRedaction: 'exemplar', dilation: 2, marked: [], prefilter: true };
