import { describe, expect, it } from 'vitest';
import { unreadRuns } from '../../../src/pixels/detect/detector.js';
import { candidateLines, components, DEFAULT_PREFILTER, lineContrastToNoise, prefilter } from '../../../src/pixels/detect/prefilter.js';
import { maskText, TextDigester } from '../../../src/pixels/detect/text-mask.js';
import { binarise, displayPlane, rowTopHat, textView, whiteTopHat, type BinaryImage } from '../../../src/pixels/detect/windowing.js';
import type { Frame, PixelFormat } from '../../../src/pixels/types.js';
import { readFixture } from '../support/dicom.js';
import { seededRandom } from '../../support/random.js';

function mono(rows: number, columns: number, photometric: 'MONOCHROME1' | 'MONOCHROME2', data: Int16Array): Frame {
  const format: PixelFormat = { rows, columns, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 1, photometric };
  return { format, data };
}

/** The native 16-bit frame of a fixture (CT_small: explicit VR little endian, signed). */
function ctSmall(): Frame {
  const file = readFixture('CT_small.dcm');
  const el = file.dataset.get(0x7fe00010 as never);
  if (!el || el.kind !== 'value') throw new Error('CT_small.dcm: no native pixel data');
  const data = new Int16Array(128 * 128);
  const view = new DataView(el.bytes.buffer, el.bytes.byteOffset, el.bytes.byteLength);
  for (let i = 0; i < data.length; i++) data[i] = view.getInt16(2 * i, true);
  return mono(128, 128, 'MONOCHROME2', data);
}

/** Block letters: each glyph a 2-pixel-wide vertical stroke pair with a bar, standing on one baseline. */
function drawGlyphRow(image: Uint8Array, width: number, x0: number, baseline: number, glyphs: number, height: number): void {
  for (let g = 0; g < glyphs; g++) {
    const left = x0 + g * Math.round(height * 0.8);
    for (let y = baseline - height + 1; y <= baseline; y++) {
      image[y * width + left] = 1;
      image[y * width + left + 1] = 1;
      image[y * width + left + Math.round(height * 0.45)] = 1;
    }
    for (let x = left; x <= left + Math.round(height * 0.45); x++) image[(baseline - (height >> 1)) * width + x] = 1;
  }
}

describe('text masking', () => {
  it('masks letters by case and digits, keeps punctuation', () => {
    expect(maskText('DOE^Jane 04/03/2019 MRN 00123456')).toBe('XXX^Xxxx 99/99/9999 XXX 99999999');
    expect(maskText('Müller, Zoë 45Y')).toBe('Xxxxxx, Xxx 99X');
  });

  it('digests under the key only: same text and key agree, another key differs, nothing readable', () => {
    const key = new Uint8Array(32).fill(1);
    const a = new TextDigester(key).describe('DOE^JANE');
    expect(a).toEqual(new TextDigester(key).describe('DOE^JANE'));
    expect(a.digest).toMatch(/^[0-9a-f]{16}$/);
    expect(new TextDigester(new Uint8Array(32).fill(2)).describe('DOE^JANE').digest).not.toBe(a.digest);
    expect(JSON.stringify({ d: new TextDigester(key) })).not.toContain('1,1');
    expect(() => new TextDigester(new Uint8Array(8))).toThrow(/at least 16 bytes/);
  });
});

describe('text renderings', () => {
  it('inverts MONOCHROME1 so text at the minimum is bright, and drops bits above Bits Stored', () => {
    const data = new Int16Array([0, 100, 2047, 0x7000 | 5]);
    const m1 = displayPlane(mono(2, 2, 'MONOCHROME1', data));
    expect(Array.from(m1.data.slice(0, 3), (v) => v + 0)).toEqual([0, -100, -2047]);
    const m2 = displayPlane(mono(2, 2, 'MONOCHROME2', data));
    expect(m2.data[3]).toBe(5);
  });

  it('takes the largest of R, G, B, so yellow and green annotations are as bright as white', () => {
    const format: PixelFormat = { rows: 1, columns: 3, samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, highBit: 7, pixelRepresentation: 0, photometric: 'RGB' };
    const p = displayPlane({ format, data: new Uint8Array([255, 255, 0, 0, 255, 0, 40, 40, 40]) });
    expect(Array.from(p.data)).toEqual([255, 255, 40]);
  });

  it('rejects a frame whose sample count does not fit its format, naming the sizes', () => {
    expect(() => displayPlane(mono(4, 4, 'MONOCHROME2', new Int16Array(10)))).toThrow(/10 samples for 4×4×1 \(16 needed\)/);
  });

  it('the top-hat keeps a thin bright stroke over a ramp and drops the ramp and wide plateaus', () => {
    const w = 64;
    const data = new Float32Array(w * w);
    for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) data[y * w + x] = x * 10 + (x >= 10 && x < 12 ? 500 : 0) + (x >= 30 && x < 50 ? 500 : 0);
    const th = whiteTopHat({ width: w, height: w, data }, 11);
    expect(th.data[20 * w + 10]).toBeGreaterThan(450);
    // A plateau wider than the element keeps no contrast (its rising half only the ramp's).
    expect(th.data[20 * w + 35]).toBeLessThan(1e-3);
    expect(th.data[20 * w + 45]).toBeLessThan(110);
    expect(th.data[20 * w + 5]).toBeLessThan(1e-3);
    const row = rowTopHat({ width: w, height: w, data }, 11);
    expect(row.data[20 * w + 11]).toBeGreaterThan(450);
    expect(row.data[20 * w + 35]).toBeLessThan(1e-3);
  });
});

describe('pre-filter', () => {
  it('labels 8-connected components with their boxes', () => {
    const data = new Uint8Array(5 * 5);
    for (const [x, y] of [[0, 0], [1, 1], [2, 2], [4, 0], [4, 4], [3, 4]]) data[y * 5 + x] = 1;
    const c = components({ width: 5, height: 5, data }).map((k) => [k.x0, k.y0, k.x1, k.y1, k.pixels]);
    expect(c.sort()).toEqual([[0, 0, 2, 2, 3], [3, 4, 4, 4, 2], [4, 0, 4, 0, 1]].sort());
  });

  it('finds a line of glyphs on a baseline and not scattered blobs', () => {
    const width = 200;
    const height = 100;
    const img: BinaryImage = { width, height, data: new Uint8Array(width * height) };
    drawGlyphRow(img.data, width, 20, 40, 6, 12);
    const lines = candidateLines(img);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.box.x).toBe(20);
    expect(lines[0]!.box.y).toBe(29);
    expect(lines[0]!.glyphHeight).toBe(12);
    const blobs: BinaryImage = { width, height, data: new Uint8Array(width * height) };
    for (const [x, y, s] of [[10, 10, 5], [40, 50, 9], [90, 20, 4], [150, 70, 12]] as const) {
      for (let dy = 0; dy < s; dy++) for (let dx = 0; dx < s; dx++) blobs.data[(y + dy) * width + x + dx] = 1;
    }
    expect(candidateLines(blobs)).toEqual([]);
  });

  it('finds text drawn at the maximum on a real CT slice, and nothing on the slice itself', () => {
    const base = ctSmall();
    expect(prefilter(textView(base))).toEqual([]);
    const data = base.data.slice() as Int16Array;
    const marks = new Uint8Array(128 * 128);
    drawGlyphRow(marks, 128, 8, 118, 7, 9);
    // 2047: the largest value of 12 bits stored, signed (4095 would read as −1).
    for (let i = 0; i < marks.length; i++) if (marks[i]) data[i] = 2047;
    const lines = prefilter(textView({ format: base.format, data }));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    const l = lines.find((x) => x.box.y <= 110 && x.box.y + x.box.height >= 118)!;
    expect(l.box.x).toBeLessThanOrEqual(12);
    expect(l.box.x + l.box.width).toBeGreaterThanOrEqual(8 + 6 * 7);
    expect(binarise({ width: 1, height: 1, data: new Float32Array([3]) }, 2).data[0]).toBe(1);
  });

  it('keeps a line only when its glyphs share one printed value (anatomy varies, print does not)', () => {
    const base = ctSmall();
    const marks = new Uint8Array(128 * 128);
    drawGlyphRow(marks, 128, 8, 118, 7, 9);
    const glyphOf = (i: number) => Math.floor(((i % 128) - 8) / Math.round(9 * 0.8));
    const drawn = (value: (glyph: number) => number) => {
      const data = base.data.slice() as Int16Array;
      for (let i = 0; i < marks.length; i++) if (marks[i]) data[i] = value(glyphOf(i));
      return prefilter(textView({ format: base.format, data })).filter((l) => l.box.y <= 118 && l.box.y + l.box.height >= 110);
    };
    // One value, and one value lowered by anti-aliasing on some glyphs (a share of the contrast).
    expect(drawn(() => 2047).length).toBeGreaterThanOrEqual(1);
    expect(drawn((g) => (g % 2 === 0 ? 2047 : 1850)).length).toBeGreaterThanOrEqual(1);
    // Every glyph bright but each a different brightness, as bone edges are: not a line of print.
    expect(drawn((g) => 1400 + 100 * g)).toEqual([]);
  });
});

describe('contrast of a line over the noise around it', () => {
  /** A 200×80 frame: background 500 plus uniform noise of ±amplitude, a row of glyphs `contrast` above it. */
  function noisyLine(amplitude: number, contrast: number): Frame {
    const random = seededRandom(11);
    const data = new Int16Array(200 * 80);
    for (let i = 0; i < data.length; i++) data[i] = 500 + Math.round((2 * random() - 1) * amplitude);
    const marks = new Uint8Array(200 * 80);
    drawGlyphRow(marks, 200, 20, 50, 6, 12);
    for (let i = 0; i < marks.length; i++) if (marks[i]) data[i] = 500 + contrast;
    // Air in one corner gives the frame a CT-like range, so the print is not its whole range.
    for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) data[y * 200 + x] = -1000;
    return mono(80, 200, 'MONOCHROME2', data);
  }
  const line = { box: { x: 20, y: 39, width: 100, height: 12 }, glyphHeight: 12, tallest: 12, glyphs: 6, level: 0 };

  it('measures the print far above flat or mildly noisy background, and specks of noise barely above it', () => {
    expect(lineContrastToNoise(textView(noisyLine(0, 300)).plane, line)).toBe(Infinity);
    expect(lineContrastToNoise(textView(noisyLine(10, 300)).plane, line)).toBeGreaterThan(20);
    expect(lineContrastToNoise(textView(noisyLine(40, 120)).plane, line)).toBeLessThan(DEFAULT_PREFILTER.minContrastToNoise);
  });

  it('keeps print standing well above the noise, and drops a line of one value that rises only a few noise steps above it', () => {
    const on = (frame: Frame, settings = DEFAULT_PREFILTER) => prefilter(textView(frame), [], settings).filter((l) => l.box.y <= 50 && l.box.y + l.box.height >= 40 && l.box.x <= 30);
    expect(on(noisyLine(10, 300)).length).toBeGreaterThanOrEqual(1);
    // The geometry and one-value rules take the faint line for print; the noise rule does not.
    expect(on(noisyLine(40, 120), { ...DEFAULT_PREFILTER, minContrastToNoise: 0 }).length).toBeGreaterThanOrEqual(1);
    expect(on(noisyLine(40, 120))).toEqual([]);
  });
});

describe('unread parts of candidate lines', () => {
  const line = { x: 10, y: 20, width: 100, height: 10 };

  it('returns the columns no word reaches: a gap between two words and both ends', () => {
    const words = [
      { x: 20, y: 18, width: 30, height: 14 },
      { x: 51, y: 19, width: 40, height: 12 },
    ];
    expect(unreadRuns(line, words)).toEqual([
      { x: 10, y: 20, width: 10, height: 10 },
      { x: 50, y: 20, width: 1, height: 10 },
      { x: 91, y: 20, width: 19, height: 10 },
    ]);
  });

  it('does not count a word that spans only a few of the line rows, and returns nothing for a line read whole', () => {
    expect(unreadRuns(line, [{ x: 0, y: 27, width: 200, height: 10 }])).toEqual([line]);
    expect(unreadRuns(line, [{ x: 0, y: 0, width: 200, height: 100 }])).toEqual([]);
  });
});
