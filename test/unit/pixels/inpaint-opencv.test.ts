/**
 * What the installed OpenCV.js build offers, since the design rests on it: Telea and
 * Navier–Stokes through `cv.inpaint` on 8UC1/8UC3/16UC1/32FC1, and no exemplar or other
 * patch-based inpainting (no contrib xphoto), which is why exemplar.ts exists.
 */
import { describe, expect, it } from 'vitest';
import { boxesToMask, loadOpenCv } from '../../../src/pixels/inpaint/index.js';
import { maskWindows, openCvValues } from '../../../src/pixels/inpaint/telea.js';
import type { PixelFormat } from '../../../src/pixels/types.js';

describe('the OpenCV.js build', () => {
  it('loads once, is handed out in a holder (the module itself is thenable) and has cv.inpaint', async () => {
    const [a, b] = await Promise.all([loadOpenCv(), loadOpenCv()]);
    expect(a.cv).toBe(b.cv);
    expect(typeof (a.cv as unknown as { then?: unknown }).then).toBe('function');
    expect(typeof a.cv.inpaint).toBe('function');
    expect([a.cv.INPAINT_NS, a.cv.INPAINT_TELEA]).toEqual([0, 1]);
  });

  it('has no patch-based inpainting (xphoto)', async () => {
    const { cv } = await loadOpenCv();
    const names = Object.keys(cv as object);
    expect(names.filter((k) => /xphoto|shiftmap|INPAINT_FSR|exemplar|criminisi/i.test(k))).toEqual([]);
    expect(names.filter((k) => /inpaint/i.test(k)).sort()).toEqual(['INPAINT_NS', 'INPAINT_TELEA', 'inpaint']);
  });

  it('accepts 8UC1, 8UC3, 16UC1 and 32FC1 for both methods, and refuses 16SC1', async () => {
    const { cv } = await loadOpenCv();
    const raw = cv as unknown as { CV_16SC1: number };
    const run = (type: number, flag: number): boolean => {
      const src = new cv.Mat(16, 16, type);
      const dst = new cv.Mat(16, 16, type);
      const mask = new cv.Mat(16, 16, cv.CV_8UC1);
      try {
        mask.data.fill(0);
        mask.data[5 * 16 + 5] = 1;
        cv.inpaint(src, mask, dst, 3, flag);
        return true;
      } catch {
        return false;
      } finally {
        src.delete();
        dst.delete();
        mask.delete();
      }
    };
    for (const flag of [cv.INPAINT_TELEA, cv.INPAINT_NS]) {
      expect([cv.CV_8UC1, cv.CV_8UC3, cv.CV_16UC1, cv.CV_32FC1].map((t) => run(t, flag))).toEqual([true, true, true, true]);
      expect(run(raw.CV_16SC1, flag)).toBe(false);
    }
  });

  it('gives the same values on the window around the mask as on the whole frame', async () => {
    const { cv } = await loadOpenCv();
    let seed = 9;
    const next = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (const [spp, bits, pr] of [[1, 16, 1], [1, 16, 0], [3, 8, 0], [1, 8, 0]] as const) {
      const format: PixelFormat = { rows: 80, columns: 90, samplesPerPixel: spp, bitsAllocated: bits, bitsStored: bits, highBit: bits - 1, pixelRepresentation: pr, photometric: spp === 3 ? 'RGB' : 'MONOCHROME2' };
      const values = Float64Array.from({ length: 80 * 90 * spp }, () => Math.floor(next() * 250));
      const near = boxesToMask([{ x: 30, y: 20, width: 14, height: 9 }, { x: 50, y: 35, width: 3, height: 12 }], 80, 90);
      // Words in opposite corners: separate windows, each read alone.
      const corners = boxesToMask([{ x: 1, y: 2, width: 12, height: 5 }, { x: 75, y: 70, width: 14, height: 8 }, { x: 2, y: 72, width: 6, height: 6 }, { x: 60, y: 4, width: 20, height: 4 }], 80, 90);
      expect(maskWindows(corners, 5)).toHaveLength(4);
      expect(maskWindows(near, 5)).toHaveLength(1);
      for (const [method, mask] of [['telea', near], ['navier-stokes', near], ['telea', corners], ['navier-stokes', corners]] as const) {
        const windowed = openCvValues(cv, format, values, mask, method, 3);
        const whole = openCvValues(cv, format, values, mask, method, 3, [{ x: 0, y: 0, width: 90, height: 80 }]);
        let differing = 0;
        for (let p = 0; p < 80 * 90; p++) for (let s = 0; s < spp; s++) if (mask.data[p] && windowed[p * spp + s] !== whole[p * spp + s]) differing++;
        expect(differing).toBe(0);
      }
    }
  });
});
