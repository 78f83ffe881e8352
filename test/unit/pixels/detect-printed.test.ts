/**
 * The pre-filter's printed-glyph rule (prefilter.ts, printedLike): glyphs of a line below the
 * frame's extreme need flat tops, and the glyphs of a colour line one printed colour. Frames are
 * built here so that each case differs from its counterpart by the one property the rule judges.
 */
import { describe, expect, it } from 'vitest';
import { prefilter } from '../../../src/pixels/detect/prefilter.js';
import { displayColours, textView } from '../../../src/pixels/detect/windowing.js';
import type { Frame, PixelFormat } from '../../../src/pixels/types.js';
import { seededRandom } from '../../support/random.js';

const WIDTH = 200;
const HEIGHT = 100;
/** The row the test lines stand on, and their glyph height. */
const BASELINE = 60;
const GLYPH = 12;

type Rgb = readonly [number, number, number];

function rgbFormat(photometric: 'RGB' | 'YBR_FULL' = 'RGB'): PixelFormat {
  return { rows: HEIGHT, columns: WIDTH, samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, highBit: 7, pixelRepresentation: 0, photometric };
}

/** An 8-bit RGB frame: grey B-mode-like noise around 40, and a white patch (5 % of the frame) that sets the extreme at the top of the range. */
function colourBase(): Uint8Array {
  const random = seededRandom(23);
  const data = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let i = 0; i < WIDTH * HEIGHT; i++) {
    const v = 35 + Math.round(10 * random());
    data.fill(v, 3 * i, 3 * i + 3);
  }
  for (let y = 0; y < 25; y++) for (let x = 160; x < 200; x++) data.fill(255, 3 * (y * WIDTH + x), 3 * (y * WIDTH + x) + 3);
  return data;
}

function set(data: Uint8Array, x: number, y: number, c: Rgb): void {
  data.set(c, 3 * (y * WIDTH + x));
}

/** Pixels of `count` block letters (two stroke pairs and a bar, as in detect-render.test.ts) on BASELINE: [x, y, glyph, column in glyph]. */
function letterPixels(count = 6): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  const bar = Math.round(GLYPH * 0.45);
  for (let g = 0; g < count; g++) {
    const left = 20 + g * Math.round(GLYPH * 0.8);
    for (let y = BASELINE - GLYPH + 1; y <= BASELINE; y++) for (const dx of [0, 1, bar]) out.push([left + dx, y, g, dx]);
    for (let dx = 2; dx < bar; dx++) out.push([left + dx, BASELINE - (GLYPH >> 1), g, dx]);
  }
  return out;
}

/** The lines the pre-filter finds on the test row. */
function onRow(frame: Frame) {
  return prefilter(textView(frame)).filter((l) => l.box.y <= BASELINE && l.box.y + l.box.height >= BASELINE - GLYPH + 1);
}

describe('displayColours', () => {
  it('gives the red, green and blue of RGB and YBR_FULL frames, and nothing for grey ones', () => {
    const rgb: Frame = { format: { ...rgbFormat(), rows: 1, columns: 2 }, data: new Uint8Array([255, 93, 0, 10, 20, 30]) };
    expect(Array.from(displayColours(rgb)!)).toEqual([255, 93, 0, 10, 20, 30]);
    // Y 128, Cb 128, Cr 128 is mid grey; Cr above the middle is redder.
    const ybr: Frame = { format: { ...rgbFormat('YBR_FULL'), rows: 1, columns: 2 }, data: new Uint8Array([128, 128, 128, 100, 128, 178]) };
    const c = Array.from(displayColours(ybr)!, (v) => Math.round(v));
    expect(c.slice(0, 3)).toEqual([128, 128, 128]);
    expect(c[3]!).toBeGreaterThan(c[4]!);
    const grey: Frame = { format: { rows: 1, columns: 2, samplesPerPixel: 1, bitsAllocated: 8, bitsStored: 8, highBit: 7, pixelRepresentation: 0, photometric: 'MONOCHROME2' }, data: new Uint8Array([1, 2]) };
    expect(displayColours(grey)).toBeUndefined();
    expect(textView(grey).colours).toBeUndefined();
    expect(() => displayColours({ format: rgbFormat(), data: new Uint8Array(5) })).toThrow(/5 samples for 100×200×3/);
  });
});

describe('one printed colour on colour frames', () => {
  /**
   * Six colour-flow blobs side by side: red saturated throughout (so their brightest value, all
   * the grey plane sees, is one value), green rising to a different top in each, as the blobs of
   * a red-to-yellow Doppler map do.
   */
  function flowBlobs(data: Uint8Array, grey: boolean): void {
    for (const [x, y, g] of letterPixels()) {
      const green = 60 + 30 * g + 3 * (y - (BASELINE - GLYPH));
      const c: Rgb = grey ? [255, 255, 255] : [255, Math.min(255, green), 0];
      set(data, x, y, c);
    }
  }

  it('drops a line of colour-flow blobs that the grey plane alone takes for print', () => {
    const flat = colourBase();
    flowBlobs(flat, true);
    expect(onRow({ format: rgbFormat(), data: flat })).not.toEqual([]);
    const flow = colourBase();
    flowBlobs(flow, false);
    expect(onRow({ format: rgbFormat(), data: flow })).toEqual([]);
  });

  it('keeps print in one colour, anti-aliased glyphs of the same hue, and sub-pixel fringed grey print', () => {
    const yellow = colourBase();
    for (const [x, y] of letterPixels()) set(yellow, x, y, [255, 255, 0]);
    expect(onRow({ format: rgbFormat(), data: yellow })).not.toEqual([]);

    // Three glyphs in full green, four mixed with the grey under them by 5–20 % (thin strokes):
    // fewer than half of the peaks are one colour, all of them one hue.
    const green = colourBase();
    const mixed = (a: number): Rgb => [Math.round((1 - a) * 40), Math.round(a * 255 + (1 - a) * 40), Math.round((1 - a) * 40)];
    for (const [x, y, g] of letterPixels(7)) set(green, x, y, mixed(g < 3 ? 1 : 1 - 0.05 * (g - 2)));
    expect(onRow({ format: rgbFormat(), data: green })).not.toEqual([]);

    // ClearType: each stroke column fringed in one of three ways, rotating from glyph to glyph,
    // so the glyphs' peak pixels are three colours; every channel still reaches 200 in each glyph.
    const fringes: Rgb[] = [
      [200, 200, 150],
      [150, 200, 200],
      [200, 150, 200],
    ];
    const clear = colourBase();
    for (const [x, y, g, dx] of letterPixels()) set(clear, x, y, fringes[(g + Math.min(dx, 2)) % 3]!);
    expect(onRow({ format: rgbFormat(), data: clear })).not.toEqual([]);
  });
});

describe('flat-topped glyphs below the extreme', () => {
  /** A 16-bit grey frame: noisy background 1000, a patch at 3000 (the extreme), and six hills or plateaus 500 above the background on BASELINE. */
  function greyFrame(flatTop: boolean): Frame {
    const random = seededRandom(5);
    const data = new Uint16Array(WIDTH * HEIGHT);
    for (let i = 0; i < data.length; i++) data[i] = 1000 + Math.round(20 * random());
    for (let y = 0; y < 25; y++) for (let x = 160; x < 200; x++) data[y * WIDTH + x] = 3000;
    for (let g = 0; g < 6; g++) {
      const cx = 26 + 11 * g;
      const cy = BASELINE - 5;
      for (let y = cy - 6; y <= cy + 6; y++) {
        for (let x = cx - 4; x <= cx + 4; x++) {
          // A speckle grain is a smooth hill with one brightest pixel; a stroke's core is flat.
          const d = flatTop ? Math.max(0, Math.abs(x - cx) - 1) ** 2 + Math.max(0, Math.abs(y - cy) - 3) ** 2 : (x - cx) ** 2 + ((y - cy) / 1.5) ** 2;
          data[y * WIDTH + x] = Math.max(data[y * WIDTH + x]!, Math.round(1500 - 60 * d));
        }
      }
    }
    return { format: { rows: HEIGHT, columns: WIDTH, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 0, photometric: 'MONOCHROME2' }, data };
  }

  it('drops a row of speckle-like hills with one value at their tops, keeps the same row with flat tops', () => {
    const view = textView(greyFrame(false));
    expect(view.high).toBe(3000);
    expect(onRow(greyFrame(false))).toEqual([]);
    expect(onRow(greyFrame(true))).not.toEqual([]);
  });
});
