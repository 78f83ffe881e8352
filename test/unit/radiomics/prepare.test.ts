import { describe, expect, test } from 'vitest';
import { discretise } from '../../../src/radiomics/discretise.js';
import { RadiomicsInputError } from '../../../src/radiomics/errors.js';
import { interpolateMask, interpolateVolume } from '../../../src/radiomics/interpolate.js';
import { prepareRoi, ROI_MARGIN_MM } from '../../../src/radiomics/prepare.js';
import { PRESETS, type RadiomicsSettings } from '../../../src/radiomics/settings.js';
import type { Grid, Mask, Vec3, Volume } from '../../../src/volume/volume.js';
import { digitalPhantom } from '../support/ibsi-phantom.js';

const IDENTITY = [1, 0, 0, 0, 1, 0, 0, 0, 1];

function grid(dims: Vec3, spacing: Vec3, origin: Vec3 = [0, 0, 0]): Grid {
  return { dims, spacing, origin, direction: IDENTITY };
}

function volumeOf(g: Grid, f: (i: number, j: number, k: number) => number): Volume<Float64Array> {
  const [nx, ny, nz] = g.dims;
  const data = new Float64Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) data[i + nx * (j + ny * k)] = f(i, j, k);
  return { grid: g, data };
}

function maskOf(g: Grid, inside: (i: number, j: number, k: number) => boolean): Mask {
  const v = volumeOf(g, (i, j, k) => (inside(i, j, k) ? 1 : 0));
  return { grid: g, data: Uint8Array.from(v.data) };
}

const count = (m: Uint8Array) => m.reduce((a, b) => a + b, 0);

function inputError(run: () => unknown): RadiomicsInputError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(RadiomicsInputError);
    return e as RadiomicsInputError;
  }
  throw new Error('input accepted');
}

const NO_PROCESSING: RadiomicsSettings = PRESETS['ibsi-phantom'];

describe('the digital phantom under its preset', () => {
  test('is kept as it is: 74 voxels in both masks, grey levels 1..6', () => {
    const { image, mask } = digitalPhantom();
    const roi = prepareRoi(image, mask, NO_PROCESSING);
    // The phantom is smaller than the margin: the whole of it is kept.
    expect(roi.dims).toEqual([5, 4, 4]);
    expect(roi.spacing).toEqual([2, 2, 2]);
    expect([...roi.intensity]).toEqual([...image.data]);
    expect(count(roi.morphMask)).toBe(74);
    expect(roi.intensityMask).toEqual(roi.morphMask);
    // IBSI reference: volume by voxel counting = 592 mm³ (74 voxels of 8 mm³).
    expect(count(roi.morphMask) * 8).toBe(592);
    expect(discretise(roi, NO_PROCESSING.discretisation, null).ng).toBe(6);
  });
});

describe('cropping to the ROI and a margin', () => {
  test('without interpolation: the bounding box plus ceil(margin / spacing) voxels, clipped to the image', () => {
    const g = grid([60, 50, 20], [1, 2, 3]);
    const image = volumeOf(g, (i, j, k) => i + 100 * j + 10000 * k);
    const mask = maskOf(g, (i, j, k) => i >= 30 && i < 35 && j >= 2 && j < 6 && k >= 10 && k < 12);
    const roi = prepareRoi(image, mask, { ...NO_PROCESSING, textureDimensions: ['3D'] });
    const margin = [ROI_MARGIN_MM / 1, ROI_MARGIN_MM / 2, Math.ceil(ROI_MARGIN_MM / 3)];
    expect(margin).toEqual([10, 5, 4]);
    // i: 20..44, j: 0 (clipped from −3)..10, k: 6..15
    expect(roi.dims).toEqual([5 + 20, 6 + 5, 2 + 8]);
    expect(roi.intensity[0]).toBe(20 + 0 + 10000 * 6);
    expect(count(roi.morphMask)).toBe(5 * 4 * 2);
    // The mask sits where the image's ROI voxels are.
    for (let index = 0; index < roi.intensity.length; index++) {
      const v = roi.intensity[index]!;
      const [i, j, k] = [v % 100, Math.floor(v / 100) % 100, Math.floor(v / 10000)];
      expect(roi.morphMask[index]).toBe(i >= 30 && i < 35 && j >= 2 && j < 6 && k >= 10 && k < 12 ? 1 : 0);
    }
  });
});

/**
 * Where `sub` (dims `sd`) sits inside `whole` (dims `wd`): the voxel offset at which every value
 * matches within 1e-9, or undefined.
 */
function locate(sub: Float64Array, sd: Vec3, whole: Float64Array, wd: Vec3): Vec3 | undefined {
  for (let k0 = 0; k0 + sd[2] <= wd[2]; k0++) {
    for (let j0 = 0; j0 + sd[1] <= wd[1]; j0++) {
      for (let i0 = 0; i0 + sd[0] <= wd[0]; i0++) {
        let same = true;
        for (let k = 0; same && k < sd[2]; k++) {
          for (let j = 0; same && j < sd[1]; j++) {
            for (let i = 0; same && i < sd[0]; i++) {
              same = Math.abs(sub[i + sd[0] * (j + sd[1] * k)]! - whole[i0 + i + wd[0] * (j0 + j + wd[1] * (k0 + k))]!) <= 1e-9;
            }
          }
        }
        if (same) return [i0, j0, k0];
      }
    }
  }
  return undefined;
}

describe('interpolation inside prepareRoi', () => {
  // A 1 mm grid, a 10 × 8 × 10 mm block ROI, interpolation to 2 mm.
  const g = grid([40, 40, 30], [1, 1, 1]);
  const image = volumeOf(g, (x, y, z) => Math.sin(x / 3) * 100 + y * y - 7 * z);
  const inBlock = (i: number, j: number, k: number) => i >= 15 && i < 25 && j >= 16 && j < 24 && k >= 10 && k < 20;
  const mask = maskOf(g, inBlock);
  const interpolation = { spacing: [2, 2, 2] as Vec3, method: 'linear' as const, roundIntensities: null, maskMethod: 'linear' as const, partialVolumeThreshold: 0.5 };
  const settings: RadiomicsSettings = { ...PRESETS['ibsi-C'], resegmentation: { range: null, outlierSigma: null }, interpolation };

  test.each(['linear', 'cubic'] as const)('%s: the result is the ROI part of the whole image interpolated on the IBSI grid', (method) => {
    const roi = prepareRoi(image, mask, { ...settings, interpolation: { ...interpolation, method } });
    const whole = interpolateVolume(image, [2, 2, 2], method, '3D');
    const wholeMask = interpolateMask(mask, [2, 2, 2], 'linear', 0.5, '3D');
    expect(whole.grid.dims).toEqual([20, 20, 15]);
    expect(roi.spacing).toEqual([2, 2, 2]);
    const at = locate(roi.intensity, roi.dims, whole.data, whole.grid.dims);
    expect(at).toBeDefined();
    const [i0, j0, k0] = at!;
    // The crop holds every ROI voxel of the whole grid, and the same mask there.
    let inCrop = 0;
    for (let k = 0; k < roi.dims[2]; k++) {
      for (let j = 0; j < roi.dims[1]; j++) {
        for (let i = 0; i < roi.dims[0]; i++) {
          const m = wholeMask.data[i0 + i + 20 * (j0 + j + 20 * (k0 + k))]!;
          expect(roi.morphMask[i + roi.dims[0] * (j + roi.dims[1] * k)]).toBe(m);
          inCrop += m;
        }
      }
    }
    expect(inCrop).toBe(count(wholeMask.data));
    // New centres at 0.5 + 2m mm: ≥ 0.5 inside on [14.5, 24.5] (6 along i), [15.5, 23.5] (4 along j), [9.5, 19.5] (5 along k).
    expect(count(roi.morphMask)).toBe(6 * 4 * 5);
    // The margin: at least ROI_MARGIN_MM around the ROI's new voxels, where the grid has room.
    const [x0, y0] = [0.5 + 2 * i0, 0.5 + 2 * j0];
    expect(14.5 - x0).toBeGreaterThanOrEqual(ROI_MARGIN_MM);
    expect(16.5 - y0).toBeGreaterThanOrEqual(ROI_MARGIN_MM);
    expect(k0).toBe(0); // the ROI is within 10 mm of the first slice: clipped
    expect(0.5 + 2 * (i0 + roi.dims[0] - 1) - 24.5).toBeGreaterThanOrEqual(ROI_MARGIN_MM);
  });

  test('intensities are rounded after interpolation when asked', () => {
    const unrounded = prepareRoi(image, mask, settings);
    const rounded = prepareRoi(image, mask, { ...settings, interpolation: { ...interpolation, roundIntensities: 1 } });
    expect(unrounded.intensity.some((v) => !Number.isInteger(v))).toBe(true);
    rounded.intensity.forEach((v, i) => {
      expect(Number.isInteger(v)).toBe(true);
      expect(Math.abs(v - unrounded.intensity[i]!)).toBeLessThanOrEqual(0.5);
    });
  });

  test("spacing 'none' keeps the grid and only rounds", () => {
    const g2 = grid([6, 6, 6], [0.8, 0.8, 2]);
    const img = volumeOf(g2, (i, j, k) => i * 0.26 + j - k * 1.5);
    const m = maskOf(g2, (i, j, k) => i > 1 && j > 1 && k > 1 && i < 4 && j < 4 && k < 4);
    const roi = prepareRoi(img, m, { ...settings, interpolation: { ...interpolation, spacing: 'none', roundIntensities: 0.5 } });
    expect(roi.dims).toEqual([6, 6, 6]);
    expect(roi.spacing).toEqual([0.8, 0.8, 2]);
    expect(count(roi.morphMask)).toBe(8);
    roi.intensity.forEach((v, i) => {
      expect(Number.isInteger(v * 2)).toBe(true);
      expect(Math.abs(v - img.data[i]!)).toBeLessThanOrEqual(0.25);
    });
  });

  test('the 2D approach keeps the slices: k spacing and slice count are the original ones', () => {
    const thick = grid([40, 40, 12], [1, 1, 3]);
    const img = volumeOf(thick, (i, j, k) => i + j + 1000 * k);
    const m = maskOf(thick, (i, j, k) => i >= 15 && i < 25 && j >= 15 && j < 25 && k >= 5 && k < 7);
    const roi = prepareRoi(img, m, { ...settings, approach: '2D', textureDimensions: ['2D', '2.5D'] });
    expect(roi.spacing).toEqual([2, 2, 3]);
    expect(roi.dims[2]).toBe(2 + 2 * Math.ceil(ROI_MARGIN_MM / 3));
    // Slices are not mixed: i + j < 80 < 1000, so every value's thousands are a slice number.
    const slices = new Set([...roi.intensity].map((v) => Math.floor(v / 1000)));
    expect([...slices].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const v of roi.intensity) expect(v % 1000).toBeLessThan(80);
    // In-plane centres at 0.5 + 2m mm; the block [15, 24] is ≥ 0.5 on [14.5, 24.5]: 6 × 6 centres, of
    // which the 4 corners are only 0.5 × 0.5 = 0.25 inside. Two slices.
    expect(count(roi.morphMask)).toBe(2 * (6 * 6 - 4));
  });
});

describe('re-segmentation inside prepareRoi', () => {
  test('the intensity mask drops voxels out of range; the morphological mask keeps them', () => {
    const g = grid([30, 30, 30], [1, 1, 1]);
    const image = volumeOf(g, (i) => (i < 15 ? -800 : 50));
    const mask = maskOf(g, (i, j, k) => i >= 10 && i < 20 && j >= 10 && j < 20 && k >= 10 && k < 20);
    const roi = prepareRoi(image, mask, { ...NO_PROCESSING, resegmentation: { range: [-500, 400], outlierSigma: null } });
    expect(count(roi.morphMask)).toBe(1000);
    expect(count(roi.intensityMask)).toBe(500);
  });
});

describe('input checks', () => {
  const g = grid([4, 4, 4], [1, 1, 1]);
  const image = volumeOf(g, () => 10);
  const mask = maskOf(g, (i, j, k) => i === 1 && j === 1 && k < 3);

  test('grids that differ', () => {
    expect(inputError(() => prepareRoi(image, maskOf(grid([4, 4, 5], [1, 1, 1]), () => true), NO_PROCESSING)).message).toBe(
      'image and mask grids differ: the image has 64 voxels (4×4×4), the mask 80 (4×4×5)',
    );
    expect(inputError(() => prepareRoi(image, maskOf(grid([4, 8, 2], [1, 1, 1]), () => true), NO_PROCESSING)).message).toBe(
      'image and mask grids differ: dimensions (4, 4, 4) in the image, (4, 8, 2) in the mask',
    );
    expect(inputError(() => prepareRoi(image, { ...mask, grid: grid([4, 4, 4], [1, 1, 1.1]) }, NO_PROCESSING)).message).toMatch(/^image and mask grids differ: spacing \(mm\) \(1, 1, 1\) in the image, \(1, 1, 1\.1\) in the mask$/);
    expect(inputError(() => prepareRoi(image, { ...mask, grid: grid([4, 4, 4], [1, 1, 1], [0, 0.5, 0]) }, NO_PROCESSING)).message).toMatch(/origin/);
    expect(inputError(() => prepareRoi(image, { ...mask, grid: { ...g, direction: [-1, 0, 0, 0, 1, 0, 0, 0, 1] } }, NO_PROCESSING)).message).toMatch(/direction/);
    // Within tolerance: the same grid.
    expect(() => prepareRoi(image, { ...mask, grid: grid([4, 4, 4], [1.0000001, 1, 1]) }, NO_PROCESSING)).not.toThrow();
  });

  test('data that does not fill its grid', () => {
    expect(inputError(() => prepareRoi({ grid: g, data: new Float64Array(63) }, mask, NO_PROCESSING)).message).toBe('the image has 63 voxels but its grid 4×4×4 needs 64');
    expect(inputError(() => prepareRoi(image, { grid: g, data: new Uint8Array(65) }, NO_PROCESSING)).message).toBe('the mask has 65 voxels but its grid 4×4×4 needs 64');
  });

  test('an empty mask', () => {
    expect(inputError(() => prepareRoi(image, maskOf(g, () => false), NO_PROCESSING)).message).toBe('the mask is empty: no voxel is inside the ROI');
  });

  test('non-finite intensities inside the ROI, with their count and the first voxel', () => {
    const data = Float64Array.from(image.data);
    data[1 + 4 * (1 + 4 * 1)] = NaN; // (1, 1, 1)
    data[1 + 4 * (1 + 4 * 2)] = Infinity; // (1, 1, 2)
    data[0] = NaN; // outside the ROI: allowed without interpolation
    expect(inputError(() => prepareRoi({ grid: g, data }, mask, NO_PROCESSING)).message).toBe(
      '2 voxels inside the ROI of the image have a non-finite intensity (NaN or infinite); the first is voxel (i, j, k) = (1, 1, 1) with NaN',
    );
    const outsideOnly = Float64Array.from(image.data);
    outsideOnly[0] = NaN;
    expect(count(prepareRoi({ grid: g, data: outsideOnly }, mask, NO_PROCESSING).intensityMask)).toBe(3);
  });

  test('an intensity mask emptied by re-segmentation names the range', () => {
    const e = inputError(() => prepareRoi(image, mask, { ...NO_PROCESSING, resegmentation: { range: [-1000, 0], outlierSigma: null } }));
    expect(e.message).toBe('the intensity mask is empty after re-segmentation (range [-1000, 0]): no ROI intensity lies in [-1000, 0]');
  });

  test('a ROI that vanishes at the partial-volume threshold', () => {
    const one = maskOf(g, (i, j, k) => i === 1 && j === 1 && k === 1);
    const settings: RadiomicsSettings = {
      ...NO_PROCESSING,
      interpolation: { spacing: [3, 3, 3], method: 'linear', roundIntensities: null, maskMethod: 'linear', partialVolumeThreshold: 0.9 },
    };
    expect(inputError(() => prepareRoi(image, one, settings)).message).toMatch(/^the mask is empty after interpolation to \(3, 3, 3\) mm: no voxel reaches the partial-volume threshold 0\.9$/);
  });
});
