/**
 * The OCR engine: a pool of tesseract.js workers started once and reused for every frame.
 * Works offline: the English LSTM model comes from the installed @tesseract.js-data/eng
 * package (without a local langPath tesseract.js waits forever on a failed download).
 */
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import Tesseract from 'tesseract.js';
import type { Box } from '../types.js';

/** An 8-bit greyscale image; text should be dark on light. */
export interface GreyImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** One word as the engine reports it, in the pixel coordinates of the image it read. */
export interface OcrWord {
  readonly text: string;
  readonly confidence: number;
  readonly box: Box;
}

/** The folder of the English `best_int` model inside the installed package. */
export function englishModelPath(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@tesseract.js-data/eng')), '4.0.0_best_int');
}

/**
 * Binary PGM: leptonica inside tesseract reads it directly, so a frame reaches the engine
 * without a PNG encoder in the loop.
 */
function toPgm(image: GreyImage): Buffer {
  const header = Buffer.from(`P5\n${image.width} ${image.height}\n255\n`, 'latin1');
  return Buffer.concat([header, Buffer.from(image.data.buffer, image.data.byteOffset, image.width * image.height)]);
}

export class OcrPool {
  readonly #scheduler: Tesseract.Scheduler;
  readonly workers: number;
  #closed = false;

  private constructor(scheduler: Tesseract.Scheduler, workers: number) {
    this.#scheduler = scheduler;
    this.workers = workers;
  }

  /** Starts `workers` engines (default: the number of cores); each loads the model once. */
  static async start(workers = os.availableParallelism()): Promise<OcrPool> {
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers: must be a positive integer (got ${workers})`);
    const langPath = englishModelPath();
    const scheduler = Tesseract.createScheduler();
    try {
      const started = await Promise.all(
        Array.from({ length: workers }, async () => {
          const worker = await Tesseract.createWorker('eng', Tesseract.OEM.LSTM_ONLY, { langPath, gzip: true, cacheMethod: 'none' });
          // Sparse text: burned-in annotations are scattered words and short lines, not pages.
          // The library prints nothing: a stated resolution keeps the engine from estimating one
          // per image ("Estimating resolution as …"), and the engine's other notes ("Detected
          // N diacritics") go to its debug file, here the null device of its virtual file system.
          await worker.setParameters({ tessedit_pageseg_mode: Tesseract.PSM.SPARSE_TEXT, user_defined_dpi: '300', debug_file: '/dev/null' });
          return worker;
        }),
      );
      for (const w of started) scheduler.addWorker(w);
    } catch (e) {
      await scheduler.terminate();
      throw new Error(`OCR engine could not start: ${e instanceof Error ? e.message : String(e)}`);
    }
    return new OcrPool(scheduler, workers);
  }

  /** Every word the engine reports, whatever its confidence. */
  async recognize(image: GreyImage): Promise<OcrWord[]> {
    if (this.#closed) throw new Error('OCR pool is closed');
    const result = await this.#scheduler.addJob('recognize', toPgm(image), {}, { blocks: true, text: false });
    const words: OcrWord[] = [];
    for (const block of result.data.blocks ?? []) {
      for (const paragraph of block.paragraphs) {
        for (const line of paragraph.lines) {
          for (const w of line.words) {
            const { x0, y0, x1, y1 } = w.bbox;
            words.push({ text: w.text, confidence: w.confidence, box: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } });
          }
        }
      }
    }
    return words;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#scheduler.terminate();
  }
}
