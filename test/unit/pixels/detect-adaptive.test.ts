import { describe, expect, it } from 'vitest';
import { ocrRegions } from '../../../src/pixels/detect/detector.js';
import { prefilter, type CandidateLine } from '../../../src/pixels/detect/prefilter.js';
import { binariseBlocks, blockThresholds, ocrRendering, textView, topHatSizeFor, type Plane } from '../../../src/pixels/detect/windowing.js';
import type { Frame } from '../../../src/pixels/types.js';
import { seededRandom } from '../../support/random.js';

/** Block letters (two stems and a bar) standing on one baseline, written into a plane at `value`. */
function glyphRow(data: Int16Array | Float32Array, width: number, x0: number, baseline: number, glyphs: number, height: number, value: number): void {
  for (let g = 0; g < glyphs; g++) {
    const left = x0 + g * Math.round(height * 0.8);
    for (let y = baseline - height + 1; y <= baseline; y++) {
      data[y * width + left] = value;
      data[y * width + left + 1] = value;
      data[y * width + left + Math.round(height * 0.45)] = value;
    }
    for (let x = left; x <= left + Math.round(height * 0.45); x++) data[(baseline - (height >> 1)) * width + x] = value;
  }
}

/**
 * A 256² CT-like frame: the left third is flat padding (0), the rest a textured "body" with a wide
 * range, so that 2 % of the range is far below the fixed contrast levels.
 */
function paddedFrame(): Frame {
  const width = 256;
  const r = seededRandom(11);
  const data = new Int16Array(width * width);
  for (let y = 0; y < width; y++) {
    for (let x = 86; x < width; x++) data[y * width + x] = 1000 + Math.round(800 * Math.sin(x / 9) * Math.cos(y / 13) + 150 * r());
  }
  return { format: { rows: width, columns: width, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 1, photometric: 'MONOCHROME2' }, data };
}

function line(box: CandidateLine['box'], level: number, threshold = 10): CandidateLine {
  return { box, glyphHeight: box.height, tallest: box.height, glyphs: 5, level, threshold };
}

describe('the clutter-following rendering', () => {
  it('keeps the threshold at its floor over flat background and raises it over texture', () => {
    const width = 64;
    const data = new Float32Array(width * width);
    const r = seededRandom(3);
    for (let y = 0; y < width; y++) for (let x = 32; x < width; x++) data[y * width + x] = 200 * r();
    glyphRow(data, width, 2, 20, 3, 8, 30);
    const tophat: Plane = { width, height: width, data };
    const map = blockThresholds(tophat, 16, 5, 4);
    expect(map.columns).toBe(4);
    expect(map.rows).toBe(4);
    // Block (0,3): flat, three blocks away from the texture: only the floor.
    expect(map.data[3 * 4]).toBe(5);
    // Blocks inside the texture: four times its mean (about 100), far above faint print.
    expect(map.data[1 * 4 + 3]!).toBeGreaterThan(250);
    const ink = binariseBlocks(tophat, map);
    expect(ink.data[20 * width + 2]).toBe(1);
    let texture = 0;
    for (let y = 0; y < width; y++) for (let x = 48; x < width; x++) texture += ink.data[y * width + x]!;
    expect(texture).toBeLessThan(0.05 * 16 * width);
  });

  it('finds faint print over a CT padding that no fixed level sees, and nothing without it', () => {
    const base = paddedFrame();
    expect(prefilter(textView(base))).toEqual([]);
    const data = base.data.slice() as Int16Array;
    const view0 = textView(base);
    const faint = Math.round(0.02 * (view0.high - view0.low));
    expect(faint).toBeLessThan(view0.thresholds[view0.thresholds.length - 1]!);
    glyphRow(data, 256, 10, 40, 6, 12, faint);
    const view = textView({ format: base.format, data });
    const lines = prefilter(view);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe(view.thresholds.length);
    expect(lines[0]!.box).toEqual({ x: 10, y: 29, width: 6 * 10 - 10 + 6, height: 12 });
    expect(typeof lines[0]!.threshold).toBe('object');
  });

  it('renders a region for the engine with the threshold of each block, offset by the region origin', () => {
    const map = { block: 4, columns: 2, rows: 1, data: new Float32Array([10, 100]) };
    const tophat: Plane = { width: 4, height: 1, data: new Float32Array([50, 50, 50, 50]) };
    // Columns 2–5 of the frame: the first two lie in block 0 (threshold 10), the rest in block 1.
    const img = ocrRendering(tophat, map, 1, 0, { x: 2, y: 0 });
    expect(Array.from(img.data)).toEqual([0, 0, 255, 255]);
    expect(Array.from(ocrRendering(tophat, 60, 2, 1, { x: 2, y: 0 }).data.slice(0, 10))).toEqual(new Array(10).fill(255));
  });
});

describe('OCR regions', () => {
  it('reads a line once when a higher rendering already holds it, and keeps one that reaches farther', () => {
    const same = ocrRegions([line({ x: 100, y: 100, width: 80, height: 12 }, 0), line({ x: 101, y: 100, width: 78, height: 12 }, 1), line({ x: 100, y: 101, width: 80, height: 11 }, 3)], 1024, 768);
    expect(same).toHaveLength(1);
    expect(same[0]!.level).toBe(0);
    const longer = ocrRegions([line({ x: 100, y: 100, width: 80, height: 12 }, 0), line({ x: 100, y: 100, width: 160, height: 12 }, 2)], 1024, 768);
    expect(longer.map((r) => r.level).sort()).toEqual([0, 2]);
  });
});

describe('small frames', () => {
  it('use a 7 px top-hat under 128², 11 px from 128² to 768², more above', () => {
    expect(topHatSizeFor({ rows: 64, columns: 64 })).toBe(7);
    expect(topHatSizeFor({ rows: 96, columns: 300 })).toBe(7);
    expect(topHatSizeFor({ rows: 128, columns: 128 })).toBe(11);
    expect(topHatSizeFor({ rows: 512, columns: 512 })).toBe(11);
    expect(topHatSizeFor({ rows: 2140, columns: 1760 })).toBe(25);
  });

  it('take two touching letters a little wider than tall for a word, so "DOB" of 9 px is one line on a 64² frame', () => {
    const width = 64;
    const data = new Int16Array(width * width);
    // A smooth ramp: a top-hat leaves nothing of it, so only the letters can make a line.
    for (let i = 0; i < data.length; i++) data[i] = 300 + (i % width) + Math.floor(i / width);
    const at = (x: number, y: number) => (data[y * width + x] = 2047);
    const frame = (): Frame => ({ format: { rows: width, columns: width, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 1, photometric: 'MONOCHROME2' }, data });
    const before = prefilter(textView(frame()));
    expect(before).toEqual([]);
    // "D", then "O" and "B" joined by one anti-aliased pixel between them (11×7 px, crossed by
    // a row four times): bars stay under the 7 px top-hat, as 9 px print does.
    for (let y = 16; y <= 22; y++) for (const x of [20, 24, 26, 30, 32, 36]) at(x, y);
    for (const x of [21, 22, 23, 27, 28, 29, 33, 34, 35]) {
      at(x, 16);
      at(x, 22);
    }
    for (const x of [31, 33, 34]) at(x, 19);
    const lines = prefilter(textView(frame()));
    expect(lines.some((l) => l.box.y <= 16 && l.box.y + l.box.height >= 22 && l.box.x <= 26)).toBe(true);
  });
});
