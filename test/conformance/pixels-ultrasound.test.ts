/**
 * Burned-in text detection on the real ultrasound files of the corpus: findings inside the image
 * sectors (speckle, colour-flow blobs) against those around them (the scanner's annotations).
 * Runs the real OCR engine through PixelCleaner, as `radanon deid --clean-pixels` does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDicom } from '../../src/dicom/reader.js';
import { openPixelData } from '../../src/pixels/codec/pixel-data.js';
import { DEFAULT_PIXEL_SETTINGS, PixelCleaner } from '../../src/pixels/clean.js';
import type { Box, Finding } from '../../src/pixels/types.js';
import { dicomDir } from './helpers.js';
import { findingArea, wordCovered } from './support/synthetic-text.js';

/**
 * The image sector of each file (rectangles inside the fan or the image, clear of the annotations
 * printed over it), drawn by eye on renderings of the first frame, and the most findings whose
 * centre may lie in it over all frames. Measured with the pre-filter's printed-glyph rule
 * (printedLike): US1_J2KR 5, ALOKA 11, IM00001 14 (8 frames), OBXXXX1A 5, GREYSCALE 2 (two
 * specks at the sector's top-left corner), the others 0; before it 212, 24, 25, 5, 2 and 1
 * (JPGLossless). The bounds leave a few findings of room, far below the numbers before.
 */
const SECTORS: readonly { readonly file: string; readonly sector: readonly Box[]; readonly bound: number }[] = [
  { file: 'pydicom-data/US1_J2KR.dcm', sector: [{ x: 60, y: 110, width: 520, height: 228 }], bound: 8 },
  { file: 'deid-data/ultrasounds__RGB_IMAGE.dcm', sector: [{ x: 20, y: 80, width: 880, height: 650 }], bound: 2 },
  { file: 'deid-data/ultrasounds__GREYSCALE_IMAGE.dcm', sector: [{ x: 127, y: 90, width: 720, height: 610 }], bound: 4 },
  { file: 'pydicom-data/JPGLosslessP14SV1_1s_1f_8b.dcm', sector: [{ x: 140, y: 160, width: 760, height: 500 }], bound: 2 },
  {
    file: 'pydicom-data/gdcm-US-ALOKA-16.dcm',
    sector: [
      { x: 32, y: 72, width: 303, height: 338 },
      { x: 337, y: 72, width: 303, height: 338 },
    ],
    bound: 14,
  },
  { file: 'pydicom-data/OBXXXX1A.dcm', sector: [{ x: 130, y: 110, width: 640, height: 370 }], bound: 7 },
  { file: 'dicomParser/encapsulated__multi-frame__IM00001.fragmented_no_bot_jpeg_baseline.50.dcm', sector: [{ x: 0, y: 16, width: 320, height: 202 }], bound: 17 },
  { file: 'pydicom/ExplVR_BigEnd.dcm', sector: [{ x: 0, y: 0, width: 80, height: 60 }], bound: 0 },
];

/**
 * The annotation lines of US1_J2KR (white on black around the sector: site, patient and study
 * lines top left, clock, probe and preset top right, "PWR" beside the colour bars, the
 * caption under the sector, the output indices bottom right), located on a rendering.
 */
const US1_TEXT: readonly Box[] = [
  { x: 20, y: 26, width: 148, height: 12 },
  { x: 20, y: 42, width: 68, height: 12 },
  { x: 20, y: 58, width: 48, height: 12 },
  { x: 20, y: 74, width: 58, height: 12 },
  { x: 22, y: 90, width: 36, height: 12 },
  { x: 280, y: 42, width: 78, height: 12 },
  { x: 500, y: 25, width: 118, height: 16 },
  { x: 550, y: 42, width: 68, height: 12 },
  { x: 530, y: 58, width: 88, height: 12 },
  { x: 570, y: 74, width: 48, height: 12 },
  { x: 560, y: 90, width: 58, height: 12 },
  { x: 10, y: 138, width: 28, height: 12 },
  { x: 10, y: 217, width: 28, height: 13 },
  { x: 600, y: 138, width: 28, height: 12 },
  { x: 250, y: 362, width: 108, height: 12 },
  { x: 400, y: 458, width: 218, height: 12 },
];

function centreIn(b: Box, boxes: readonly Box[]): boolean {
  const cx = b.x + b.width / 2;
  const cy = b.y + b.height / 2;
  return boxes.some((s) => cx >= s.x && cx < s.x + s.width && cy >= s.y && cy < s.y + s.height);
}

function read(rel: string) {
  return readDicom(fs.readFileSync(path.join(dicomDir, rel)));
}

let cleaner: PixelCleaner;

beforeAll(() => {
  cleaner = PixelCleaner.create({ ...DEFAULT_PIXEL_SETTINGS, ocrWorkers: 2 }, new Uint8Array(32).fill(5));
});

afterAll(async () => {
  await cleaner?.close();
});

describe('ultrasound image sectors', () => {
  for (const { file, sector, bound } of SECTORS) {
    it(`${path.basename(file)}: at most ${bound} findings inside the image sector`, async () => {
      const { frames, findings } = await cleaner.scan(read(file), file);
      expect(frames).toBeGreaterThan(0);
      const inside = findings.filter((f) => f.source === 'ocr' && centreIn(f.box, sector));
      expect(inside.length).toBeLessThanOrEqual(bound);
    });
  }

  it('US1_J2KR (colour Doppler): every annotation pixel is inside a finding, and the file cleans within the passes', async () => {
    const file = read('pydicom-data/US1_J2KR.dcm');
    const pixels = await openPixelData(file);
    const frame = pixels!.decodeFrame(0);
    const { rows, columns } = frame.format;
    const { report } = await cleaner.clean(file, file, 'US1_J2KR.dcm');
    expect(report.cleanedFrames).toBe(1);
    // The print is white (every channel ≥ 200); the glyph pixels of each annotation box are the ground truth.
    const uncovered = US1_TEXT.filter((box) => {
      const glyph = new Uint8Array(box.width * box.height);
      for (let y = 0; y < box.height; y++) {
        for (let x = 0; x < box.width; x++) {
          const i = 3 * ((box.y + y) * columns + box.x + x);
          if (frame.data[i]! >= 200 && frame.data[i + 1]! >= 200 && frame.data[i + 2]! >= 200) glyph[y * box.width + x] = 1;
        }
      }
      expect(glyph.some((v) => v === 1)).toBe(true);
      return !wordCovered({ box, glyph }, report.findings as readonly Finding[]);
    });
    expect(uncovered).toEqual([]);
    // Before the printed-glyph rule: 401 findings over 44 % of the frame, and the file failed
    // after three passes ("text is still found in the cleaned area"). Measured after: 170
    // findings over 10.4 % of it, clean after the first pass.
    const share = findingArea(report.findings, rows, columns) / (rows * columns);
    expect(share).toBeLessThan(0.15);
    expect(report.extraPasses).toBeLessThanOrEqual(1);
  });
});
