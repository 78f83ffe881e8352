/** Masks from boxes, dilation, union and components, checked against masks drawn by hand. */
import { describe, expect, it } from 'vitest';
import { boxesToMask, dilateMask, maskArea, maskBounds, maskComponents, unionMasks } from '../../../src/pixels/inpaint/index.js';
import type { Mask } from '../../../src/pixels/types.js';

/** A mask as text rows: '#' set, '.' clear. */
function draw(mask: Mask): string[] {
  return Array.from({ length: mask.rows }, (_, r) => Array.from(mask.data.subarray(r * mask.columns, (r + 1) * mask.columns), (v) => (v ? '#' : '.')).join(''));
}

describe('boxesToMask', () => {
  it('sets the pixels of each box, clips at the frame edge and rounds fractional edges outwards', () => {
    const mask = boxesToMask([{ x: 1, y: 1, width: 2, height: 1 }, { x: 4.5, y: 2.2, width: 1, height: 1 }, { x: -2, y: 3, width: 3, height: 5 }], 5, 7);
    expect(draw(mask)).toEqual(['.......', '.##....', '....##.', '#...##.', '#......']);
  });

  it('names the bad box', () => {
    expect(() => boxesToMask([{ x: 0, y: 0, width: 1, height: 1 }, { x: 0, y: 0, width: -1, height: 1 }], 4, 4)).toThrow(/box 2: .*width and height ≥ 0/);
    expect(() => boxesToMask([{ x: Number.NaN, y: 0, width: 1, height: 1 }], 4, 4)).toThrow(/box 1/);
    expect(() => boxesToMask([], 0, 4)).toThrow(/rows and columns must be positive integers/);
  });
});

describe('dilateMask', () => {
  it('grows a pixel into a (2n+1)² square, clipped at the edges', () => {
    const dot = boxesToMask([{ x: 1, y: 3, width: 1, height: 1 }], 6, 7);
    expect(draw(dilateMask(dot, 2))).toEqual(['.......', '####...', '####...', '####...', '####...', '####...']);
    expect(draw(dilateMask(dot, 0))).toEqual(draw(dot));
  });

  it('matches a brute-force dilation on random masks (dense, a cluster inside the frame, one at a corner, empty), and does not modify its input', () => {
    let s = 42;
    const next = () => (s = (s * 1103515245 + 12345) & 0x7fffffff);
    const rows = 30;
    const columns = 40;
    const within = (x0: number, y0: number, x1: number, y1: number) => (i: number) => {
      const r = Math.floor(i / columns);
      const c = i % columns;
      return r >= y0 && r < y1 && c >= x0 && c < x1;
    };
    const cases = [
      { inside: () => true, density: 23 },
      { inside: within(12, 9, 25, 17), density: 5 },
      { inside: within(0, 26, 6, 30), density: 3 },
      { inside: () => false, density: 2 },
    ];
    for (const { inside, density } of cases) {
      const data = Uint8Array.from({ length: rows * columns }, (_, i) => (inside(i) && next() % density === 0 ? 1 : 0));
      const mask: Mask = { rows, columns, data };
      const copy = data.slice();
      for (const grow of [1, 3]) {
        const out = dilateMask(mask, grow);
        expect(mask.data).toEqual(copy);
        const expected = new Uint8Array(rows * columns);
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < columns; c++) {
            let any = 0;
            for (let rr = Math.max(0, r - grow); rr <= Math.min(rows - 1, r + grow); rr++) for (let cc = Math.max(0, c - grow); cc <= Math.min(columns - 1, c + grow); cc++) any |= data[rr * columns + cc]!;
            expected[r * columns + c] = any;
          }
        }
        expect(out.data).toEqual(expected);
      }
    }
  });

  it('rejects a negative or fractional size', () => {
    const m = boxesToMask([], 3, 3);
    expect(() => dilateMask(m, -1)).toThrow(/pixels must be an integer ≥ 0/);
    expect(() => dilateMask(m, 1.5)).toThrow(/pixels must be an integer ≥ 0/);
  });
});

describe('unionMasks, maskArea, maskBounds, maskComponents', () => {
  it('combines masks of one size and refuses masks of another', () => {
    const a = boxesToMask([{ x: 0, y: 0, width: 2, height: 2 }], 4, 5);
    const b = boxesToMask([{ x: 3, y: 2, width: 2, height: 2 }], 4, 5);
    const u = unionMasks(a, b);
    expect(draw(u)).toEqual(['##...', '##...', '...##', '...##']);
    expect(maskArea(u)).toBe(8);
    expect(maskBounds(u)).toEqual({ x: 0, y: 0, width: 5, height: 4 });
    expect(maskBounds(boxesToMask([], 4, 5))).toBeUndefined();
    expect(() => unionMasks(a, boxesToMask([], 5, 4))).toThrow(/mask: 4×5 does not match the frame's 5×4/);
  });

  it('finds 8-connected components', () => {
    const m = boxesToMask([{ x: 0, y: 0, width: 2, height: 2 }, { x: 2, y: 2, width: 1, height: 1 }, { x: 4, y: 0, width: 1, height: 1 }], 4, 5);
    const components = maskComponents(m);
    expect(components.map((c) => c.bounds)).toEqual([
      { x: 0, y: 0, width: 3, height: 3 },
      { x: 4, y: 0, width: 1, height: 1 },
    ]);
    expect(Array.from(components[0]!.pixels)).toEqual([0, 1, 5, 6, 12]);
  });
});
