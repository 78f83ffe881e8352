/**
 * inpaintFrame on synthetic frames of every supported depth: nothing outside the mask changes
 * (bit for bit, unused high bits included), the input is never modified, results respect Bits
 * Stored, and each method does its job (diffusion methods interpolate a ramp, exemplar continues
 * noise texture and straight edges with real sample values, fill takes the surrounding value).
 */
import { describe, expect, it } from 'vitest';
import { boxesToMask, inpaintFrame, InpaintError, maskArea } from '../../../src/pixels/inpaint/index.js';
import type { Frame, Mask, PixelFormat, Redaction, Samples } from '../../../src/pixels/types.js';

const METHODS: readonly Redaction[] = ['telea', 'navier-stokes', 'exemplar', 'fill'];

function format(over: Partial<PixelFormat> & Pick<PixelFormat, 'rows' | 'columns'>): PixelFormat {
  const bitsAllocated = over.bitsAllocated ?? 16;
  const bitsStored = over.bitsStored ?? bitsAllocated;
  return { samplesPerPixel: 1, bitsAllocated, bitsStored, highBit: bitsStored - 1, pixelRepresentation: 0, photometric: 'MONOCHROME2', ...over };
}

/** A deterministic pseudo-random sequence in [0, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function frameOf(fmt: PixelFormat, data: Samples): Frame {
  return { format: fmt, data };
}

/** Asserts what every method must guarantee, and returns the output. */
async function inpaintChecked(frame: Frame, mask: Mask, method: Redaction, options = {}): Promise<Frame> {
  const before = frame.data.slice();
  const out = await inpaintFrame(frame, mask, method, options);
  expect(frame.data).toEqual(before);
  expect(out.data).not.toBe(frame.data);
  expect(out.data.constructor).toBe(frame.data.constructor);
  expect(out.format).toEqual(frame.format);
  const spp = frame.format.samplesPerPixel;
  for (let n = 0; n < out.data.length; n++) {
    if (!mask.data[Math.floor(n / spp)] && out.data[n] !== frame.data[n]) throw new Error(`sample ${n} outside the mask changed`);
  }
  return out;
}

const R = 48;
const C = 64;
const hole = boxesToMask([{ x: 24, y: 18, width: 12, height: 10 }], R, C);

describe('depths and bit exactness', () => {
  const rnd = random(7);
  const cases: { name: string; frame: Frame }[] = [
    { name: '8-bit grey', frame: frameOf(format({ rows: R, columns: C, bitsAllocated: 8 }), Uint8Array.from({ length: R * C }, (_, n) => (n % C) * 3 + Math.floor(rnd() * 8))) },
    {
      name: '8-bit RGB',
      frame: frameOf(format({ rows: R, columns: C, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'RGB' }), Uint8Array.from({ length: R * C * 3 }, (_, n) => ((n % 3) * 60 + Math.floor(n / 3) % C) & 0xff)),
    },
    {
      // 12 bits stored, with junk in the 4 unused high bits that must survive outside the mask.
      name: '16-bit unsigned, 12 stored, junk high bits',
      frame: frameOf(format({ rows: R, columns: C, bitsStored: 12 }), Uint16Array.from({ length: R * C }, (_, n) => (((n % C) * 60 + Math.floor(rnd() * 30)) & 0x0fff) | ((n % 7) << 12))),
    },
    { name: '16-bit signed', frame: frameOf(format({ rows: R, columns: C, pixelRepresentation: 1 }), Int16Array.from({ length: R * C }, (_, n) => -1000 + (n % C) * 30 + Math.floor(rnd() * 20))) },
    {
      name: '16-bit signed held in a Uint16Array (two’s complement)',
      frame: frameOf(format({ rows: R, columns: C, pixelRepresentation: 1 }), Uint16Array.from({ length: R * C }, (_, n) => (-1000 + (n % C) * 30) & 0xffff)),
    },
    { name: '32-bit unsigned', frame: frameOf(format({ rows: R, columns: C, bitsAllocated: 32 }), Uint32Array.from({ length: R * C }, (_, n) => 3_000_000_000 + (n % C) * 1000)) },
    { name: '16-bit RGB', frame: frameOf(format({ rows: R, columns: C, samplesPerPixel: 3, photometric: 'RGB' }), Uint16Array.from({ length: R * C * 3 }, (_, n) => (n % 3) * 10000 + (Math.floor(n / 3) % C) * 100)) },
  ];
  for (const { name, frame: clean } of cases) {
    // "Ink" in the hole: the largest sample the array holds, so that every method has to change it.
    const inked = clean.data.slice();
    const ink = clean.data instanceof Int16Array ? 32767 : 2 ** clean.format.bitsAllocated - 1;
    for (let p = 0; p < R * C; p++) if (hole.data[p]) inked.fill(ink, p * clean.format.samplesPerPixel, (p + 1) * clean.format.samplesPerPixel);
    const frame = frameOf(clean.format, inked);
    for (const method of METHODS) {
      it(`${name}: ${method} changes only masked pixels and stays in range`, async () => {
        const out = await inpaintChecked(frame, hole, method);
        const fmt = frame.format;
        const lo = fmt.pixelRepresentation === 1 ? -(2 ** (fmt.bitsStored - 1)) : 0;
        const hi = fmt.pixelRepresentation === 1 ? 2 ** (fmt.bitsStored - 1) - 1 : 2 ** fmt.bitsStored - 1;
        const signedView = fmt.pixelRepresentation === 1 && out.data instanceof Uint16Array ? new Int16Array(out.data.buffer) : out.data;
        let changed = 0;
        for (let p = 0; p < R * C; p++) {
          if (!hole.data[p]) continue;
          for (let s = 0; s < fmt.samplesPerPixel; s++) {
            const v = signedView[p * fmt.samplesPerPixel + s]!;
            expect(v).toBeGreaterThanOrEqual(lo);
            expect(v).toBeLessThanOrEqual(hi);
            if (out.data[p * fmt.samplesPerPixel + s] !== frame.data[p * fmt.samplesPerPixel + s]) changed++;
          }
        }
        expect(changed).toBeGreaterThan(0);
      });
    }
  }

  it('diffusion methods interpolate a horizontal ramp across the hole (16-bit signed)', async () => {
    const fmt = format({ rows: R, columns: C, pixelRepresentation: 1 });
    const ramp = frameOf(fmt, Int16Array.from({ length: R * C }, (_, n) => -2000 + (n % C) * 50));
    for (const method of ['telea', 'navier-stokes'] as const) {
      const out = await inpaintChecked(ramp, hole, method);
      for (let p = 0; p < R * C; p++) {
        if (hole.data[p]) expect(Math.abs(out.data[p]! - ramp.data[p]!)).toBeLessThanOrEqual(250);
      }
    }
  });

  it('stays within Bits Stored: a hole among values at the 12-bit maximum stays ≤ 4095', async () => {
    const fmt = format({ rows: R, columns: C, bitsStored: 12 });
    const bright = frameOf(fmt, new Uint16Array(R * C).fill(4095));
    for (const p of [0, 1, 2]) bright.data[p] = 0; // a far-away dark corner keeps the range honest
    for (const method of METHODS) {
      const out = await inpaintChecked(bright, hole, method);
      for (let p = 0; p < R * C; p++) {
        if (!hole.data[p]) continue;
        expect(out.data[p]).toBeLessThanOrEqual(4095);
        expect(out.data[p]).toBeGreaterThanOrEqual(4090);
      }
    }
  });

  it('returns an unchanged copy for an empty mask', async () => {
    const frame = cases[0]!.frame;
    const out = await inpaintFrame(frame, boxesToMask([], R, C), 'telea');
    expect(out.format).toBe(frame.format);
    expect(out.data).toEqual(frame.data);
    expect(out.data).not.toBe(frame.data);
  });
});

describe('fill', () => {
  it('uses the most frequent value around each region, region by region', async () => {
    const fmt = format({ rows: R, columns: C, bitsAllocated: 8 });
    const data = new Uint8Array(R * C);
    // Left half dark (10, with a few 11s), right half bright (200).
    for (let p = 0; p < R * C; p++) data[p] = p % C < C / 2 ? (p % 5 === 0 ? 11 : 10) : 200;
    const mask = boxesToMask([{ x: 4, y: 4, width: 6, height: 6 }, { x: 50, y: 30, width: 5, height: 5 }], R, C);
    for (let p = 0; p < R * C; p++) if (mask.data[p]) data[p] = 255; // the "text"
    const out = await inpaintChecked(frameOf(fmt, data), mask, 'fill');
    expect(out.data[6 * C + 6]).toBe(10);
    expect(out.data[32 * C + 52]).toBe(200);
  });

  it('picks the most frequent colour for RGB and black of MONOCHROME1 for a full mask', async () => {
    const rgb = frameOf(format({ rows: 8, columns: 8, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'RGB' }), new Uint8Array(8 * 8 * 3).fill(0));
    for (let p = 0; p < 64; p++) rgb.data.set([30, 60, 90], p * 3);
    const out = await inpaintChecked(rgb, boxesToMask([{ x: 2, y: 2, width: 3, height: 3 }], 8, 8), 'fill');
    expect(Array.from(out.data.slice((3 * 8 + 3) * 3, (3 * 8 + 3) * 3 + 3))).toEqual([30, 60, 90]);
    const mono1 = frameOf(format({ rows: 4, columns: 4, bitsStored: 10, photometric: 'MONOCHROME1' }), new Uint16Array(16).fill(5));
    const full = await inpaintChecked(mono1, boxesToMask([{ x: 0, y: 0, width: 4, height: 4 }], 4, 4), 'fill');
    expect(Array.from(full.data)).toEqual(new Array(16).fill(1023));
  });
});

describe('exemplar', () => {
  const rows = 96;
  const columns = 96;
  const fmt = format({ rows, columns });

  function noiseStd(frame: Frame, mask: Mask, inside: boolean): number {
    const xs: number[] = [];
    for (let p = 0; p < rows * columns; p++) if (Boolean(mask.data[p]) === inside) xs.push(frame.data[p]!);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  }

  it('continues noise texture with real sample values; Telea smooths it away', async () => {
    const rnd = random(3);
    const frame = frameOf(fmt, Uint16Array.from({ length: rows * columns }, () => 1000 + Math.floor(rnd() * 200)));
    const mask = boxesToMask([{ x: 28, y: 28, width: 40, height: 40 }], rows, columns);
    const exemplar = await inpaintChecked(frame, mask, 'exemplar');
    const telea = await inpaintChecked(frame, mask, 'telea');
    const outside = noiseStd(frame, mask, false);
    expect(noiseStd(exemplar, mask, true) / outside).toBeGreaterThan(0.8);
    expect(noiseStd(exemplar, mask, true) / outside).toBeLessThan(1.2);
    expect(noiseStd(telea, mask, true) / outside).toBeLessThan(0.4);
    const known = new Set<number>();
    for (let p = 0; p < rows * columns; p++) if (!mask.data[p]) known.add(frame.data[p]!);
    for (let p = 0; p < rows * columns; p++) if (mask.data[p]) expect(known.has(exemplar.data[p]!)).toBe(true);
  });

  for (const [name, edgeAt] of [
    ['vertical', (r: number) => 47 + 0 * r],
    ['diagonal', (r: number) => 20 + r * 0.6],
  ] as const) {
    it(`continues a straight ${name} edge crossing the hole`, async () => {
      const rnd = random(11);
      const frame = frameOf(fmt, Uint16Array.from({ length: rows * columns }, (_, p) => {
        const r = Math.floor(p / columns);
        const c = p % columns;
        return (c < edgeAt(r) ? 300 : 900) + Math.floor(rnd() * 40);
      }));
      const mask = boxesToMask([{ x: 34, y: 30, width: 28, height: 28 }], rows, columns);
      const out = await inpaintChecked(frame, mask, 'exemplar');
      for (let r = 30; r < 58; r++) {
        // The first bright pixel of the row, from the left.
        let c = 0;
        while (c < columns && out.data[r * columns + c]! < 600) c++;
        expect(Math.abs(c - Math.ceil(edgeAt(r)))).toBeLessThanOrEqual(2);
      }
    });
  }

  it('fills several regions, including one at the frame edge', async () => {
    const rnd = random(5);
    const frame = frameOf(fmt, Uint16Array.from({ length: rows * columns }, () => 500 + Math.floor(rnd() * 50)));
    const mask = boxesToMask([{ x: 0, y: 0, width: 10, height: 6 }, { x: 80, y: 85, width: 16, height: 11 }, { x: 40, y: 40, width: 3, height: 3 }], rows, columns);
    const out = await inpaintChecked(frame, mask, 'exemplar', { patchSize: 7 });
    for (let p = 0; p < rows * columns; p++) if (mask.data[p]) expect(out.data[p]).toBeGreaterThanOrEqual(500);
    expect(maskArea(mask)).toBe(60 + 176 + 9);
  });
});

describe('errors', () => {
  const frame = frameOf(format({ rows: 8, columns: 8, bitsAllocated: 8 }), new Uint8Array(64));
  const mask = boxesToMask([{ x: 1, y: 1, width: 2, height: 2 }], 8, 8);

  it('rejects a mask of another size, a frame whose data does not match its format, and bad options', async () => {
    await expect(inpaintFrame(frame, boxesToMask([], 8, 9), 'telea')).rejects.toThrow(/mask: 9×8 does not match the frame's 8×8/);
    await expect(inpaintFrame(frameOf(frame.format, new Uint8Array(10)), mask, 'fill')).rejects.toThrow(/frame: 10 samples, but 8×8×1 needs 64/);
    await expect(inpaintFrame(frameOf(frame.format, new Uint16Array(64)), mask, 'fill')).rejects.toThrow(/Uint16Array cannot hold 8-bit samples/);
    await expect(inpaintFrame(frame, mask, 'exemplar', { patchSize: 8 })).rejects.toThrow(/patchSize must be an odd integer/);
    await expect(inpaintFrame(frame, mask, 'telea', { radius: 0 })).rejects.toThrow(InpaintError);
    await expect(inpaintFrame(frame, mask, 'bogus' as Redaction)).rejects.toThrow(/unknown redaction method "bogus"/);
  });

  it('refuses to interpolate palette indices, but fills and copies them', async () => {
    const palette = frameOf({ ...frame.format, photometric: 'PALETTE COLOR' }, Uint8Array.from({ length: 64 }, (_, n) => n % 4));
    await expect(inpaintFrame(palette, mask, 'telea')).rejects.toThrow(/PALETTE COLOR/);
    const out = await inpaintFrame(palette, mask, 'exemplar', { patchSize: 3 });
    for (let p = 0; p < 64; p++) expect(out.data[p]).toBeLessThan(4);
  });

  it('says when no mask-free patch exists for exemplar', async () => {
    const most = boxesToMask([{ x: 0, y: 0, width: 8, height: 7 }], 8, 8);
    await expect(inpaintFrame(frame, most, 'exemplar', { patchSize: 3 })).rejects.toThrow(/no 3×3 patch free of the mask/);
  });
});
