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

  it('matches a brute-force dilation on a random mask, and does not modify its input', () => {
    let s = 42;
    const data = Uint8Array.from({ length: 30 * 40 }, () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) % 23 === 0 ? 1 : 0));
    const mask: Mask = { rows: 30, columns: 40, data };
    const copy = data.slice();
    const out = dilateMask(mask, 3);
    expect(mask.data).toEqual(copy);
    for (let r = 0; r < 30; r++) {
      for (let c = 0; c < 40; c++) {
        let any = 0;
        for (let rr = Math.max(0, r - 3); rr <= Math.min(29, r + 3); rr++) for (let cc = Math.max(0, c - 3); cc <= Math.min(39, c + 3); cc++) any |= data[rr * 40 + cc]!;
        expect(out.data[r * 40 + c]).toBe(any);
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
