import { describe, expect, it } from 'vitest';
import { connectedRuns } from '../../../src/pixels/connected-runs.js';
import { components } from '../../../src/pixels/detect/prefilter.js';
import { quantiles } from '../../../src/pixels/detect/windowing.js';
import { maskComponents } from '../../../src/pixels/inpaint/mask.js';

/** Reference labelling: breadth-first flood fill over 8 neighbours, components in raster order of their first pixel. */
function floodComponents(data: Uint8Array, width: number, height: number): number[][] {
  const seen = new Uint8Array(data.length);
  const out: number[][] = [];
  for (let start = 0; start < data.length; start++) {
    if (!data[start] || seen[start]) continue;
    const pixels: number[] = [];
    const queue = [start];
    seen[start] = 1;
    while (queue.length) {
      const p = queue.pop()!;
      pixels.push(p);
      const y = Math.floor(p / width);
      const x = p % width;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
          const q = yy * width + xx;
          if (data[q] && !seen[q]) {
            seen[q] = 1;
            queue.push(q);
          }
        }
      }
    }
    out.push(pixels.sort((a, b) => a - b));
  }
  return out;
}

function randomImage(width: number, height: number, density: number, seed: number): Uint8Array {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Uint8Array.from({ length: width * height }, () => (next() < density ? 1 : 0));
}

describe('connected components by runs', () => {
  const cases = [
    { width: 1, height: 1, density: 1 },
    { width: 7, height: 1, density: 0.5 },
    { width: 1, height: 9, density: 0.5 },
    { width: 40, height: 30, density: 0.1 },
    { width: 40, height: 30, density: 0.45 },
    { width: 64, height: 48, density: 0.6 },
    { width: 97, height: 61, density: 0.3 },
  ];

  it('finds the same components, in the same order, as a flood fill (mask components with their pixels)', () => {
    cases.forEach(({ width, height, density }, n) => {
      const data = randomImage(width, height, density, 11 + n);
      const expected = floodComponents(data, width, height);
      const got = maskComponents({ rows: height, columns: width, data });
      expect(got.map((c) => Array.from(c.pixels))).toEqual(expected);
      got.forEach((c, i) => {
        const xs = expected[i]!.map((p) => p % width);
        const ys = expected[i]!.map((p) => Math.floor(p / width));
        expect(c.bounds).toEqual({ x: Math.min(...xs), y: Math.min(...ys), width: Math.max(...xs) - Math.min(...xs) + 1, height: Math.max(...ys) - Math.min(...ys) + 1 });
      });
      expect(connectedRuns(data, width, height).components).toBe(expected.length);
    });
  });

  it('gives the pre-filter each component box, size and peak value', () => {
    const width = 97;
    const height = 61;
    const data = randomImage(width, height, 0.35, 5);
    const values = Float32Array.from({ length: width * height }, (_, i) => (i * 7919) % 1000);
    const expected = floodComponents(data, width, height);
    const got = components({ width, height, data }, values);
    expect(got).toHaveLength(expected.length);
    got.forEach((c, i) => {
      const pixels = expected[i]!;
      const xs = pixels.map((p) => p % width);
      const ys = pixels.map((p) => Math.floor(p / width));
      expect(c).toMatchObject({ x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys), pixels: pixels.length, peak: Math.max(...pixels.map((p) => values[p]!)) });
    });
    expect(components({ width, height, data })[0]!.peak).toBe(-Infinity);
  });

  it('handles an empty image and one full of set pixels', () => {
    expect(maskComponents({ rows: 5, columns: 6, data: new Uint8Array(30) })).toEqual([]);
    const full = maskComponents({ rows: 5, columns: 6, data: new Uint8Array(30).fill(1) });
    expect(full).toHaveLength(1);
    expect(full[0]!.pixels.length).toBe(30);
  });
});

describe('quantiles', () => {
  const bySorting = (values: Float32Array, qs: number[], step: number) => {
    const sample: number[] = [];
    for (let i = 0; i < values.length; i += step) sample.push(values[i]!);
    sample.sort((a, b) => a - b);
    return qs.map((q) => sample[Math.min(sample.length - 1, Math.max(0, Math.round(q * (sample.length - 1))))]!);
  };

  it('ranks whole numbers by counting with the answer of sorting, signed and unsigned', () => {
    let s = 3;
    const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (const [lo, hi] of [[0, 255], [-1024, 3071], [-32768, 32767], [5, 5]] as const) {
      const values = Float32Array.from({ length: 20_011 }, () => lo + Math.floor(next() ** 2 * (hi - lo + 1)));
      const qs = [0, 0.01, 0.5, 0.98, 1];
      expect(quantiles(values, qs)).toEqual(bySorting(values, qs, 7));
      expect(quantiles(values, qs, 1)).toEqual(bySorting(values, qs, 1));
    }
  });

  it('sorts values that are not whole numbers (colour converted from YBR)', () => {
    const values = Float32Array.from({ length: 5000 }, (_, i) => Math.fround(Math.sin(i) * 100.5));
    expect(quantiles(values, [0.01, 0.98])).toEqual(bySorting(values, [0.01, 0.98], 7));
  });
});
