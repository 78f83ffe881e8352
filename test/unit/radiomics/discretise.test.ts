import { describe, expect, test } from 'vitest';
import { discretise, fbnLevel, fbsBinCentre, fbsLevel, fbsLowestEdge } from '../../../src/radiomics/discretise.js';
import { RadiomicsInputError } from '../../../src/radiomics/errors.js';
import type { RoiImage } from '../../../src/radiomics/types.js';
import { digitalPhantom } from '../support/ibsi-phantom.js';

/** A one-row ROI of the given intensities; `outside` lists voxels not in the intensity mask. */
function roiOf(values: readonly number[], outside: readonly number[] = []): RoiImage {
  const intensityMask = new Uint8Array(values.length).fill(1);
  for (const i of outside) intensityMask[i] = 0;
  return { dims: [values.length, 1, 1], spacing: [1, 1, 1], intensity: Float64Array.from(values), morphMask: new Uint8Array(values.length).fill(1), intensityMask };
}

describe('fixed bin number', () => {
  test('levels by hand: floor(Ng(x − min)/(max − min)) + 1, the maximum in the last bin', () => {
    const d = discretise(roiOf([0, 1, 2.5, 5, 7.5, 10]), { method: 'FBN', bins: 4 }, null);
    expect([...d.levels]).toEqual([1, 1, 2, 3, 4, 4]);
    expect(d.ng).toBe(4);
  });

  test('min and max come from the intensity mask only; voxels outside get level 0', () => {
    // Voxels 0 and 5 are outside the intensity mask: min 2, max 6 over the rest.
    const d = discretise(roiOf([-100, 2, 3, 4, 6, 100], [0, 5]), { method: 'FBN', bins: 2 }, [-1000, 1000]);
    expect([...d.levels]).toEqual([0, 1, 1, 2, 2, 0]);
  });

  test('a constant ROI is one level; the per-value helper agrees', () => {
    expect([...discretise(roiOf([5, 5, 5]), { method: 'FBN', bins: 32 }, null).levels]).toEqual([1, 1, 1]);
    expect(fbnLevel(-500, -500, 400, 32)).toBe(1);
    expect(fbnLevel(400, -500, 400, 32)).toBe(32);
    expect(fbnLevel(-500 + 900 / 32, -500, 400, 32)).toBe(2); // on a bin edge: the upper bin
  });
});

describe('fixed bin size', () => {
  test('bins start at the re-segmentation range lower bound', () => {
    const d = discretise(roiOf([-500, -476, -475, 0, 377]), { method: 'FBS', binWidth: 25 }, [-500, 400]);
    expect([...d.levels]).toEqual([1, 1, 2, 21, 36]);
    expect(d.ng).toBe(36); // the highest level present
  });

  test('without a range (or with an open lower bound) bins start at the ROI minimum', () => {
    const values = [-20, -10, 4, 5];
    expect([...discretise(roiOf(values), { method: 'FBS', binWidth: 10 }, null).levels]).toEqual([1, 2, 3, 3]);
    expect([...discretise(roiOf(values), { method: 'FBS', binWidth: 10 }, [-Infinity, 100]).levels]).toEqual([1, 2, 3, 3]);
    expect(fbsLowestEdge([-1000, 400], -939)).toBe(-1000);
    expect(fbsLowestEdge(null, -939)).toBe(-939);
  });

  test('values exactly on a bin edge open the next bin, floating-point division notwithstanding', () => {
    expect(0.3 / 0.1).toBeLessThan(3); // 2.9999999999999996
    expect(fbsLevel(0.3, 0, 0.1)).toBe(4);
    expect(fbsLevel(0.29, 0, 0.1)).toBe(3);
  });

  test('IVH bin centres: Xmin + (level − 0.5)·w', () => {
    expect(fbsBinCentre(1, -1000, 2.5)).toBe(-998.75);
    expect(fbsBinCentre(fbsLevel(-939, -1000, 2.5), -1000, 2.5)).toBe(-938.75);
  });

  test('an intensity below the first bin edge is refused', () => {
    expect(() => discretise(roiOf([-600, 0]), { method: 'FBS', binWidth: 25 }, [-500, 400])).toThrow(RadiomicsInputError);
  });
});

describe('no discretisation', () => {
  test('the digital phantom: grey levels 1..6 used as they are', () => {
    const { image, mask } = digitalPhantom();
    const roi: RoiImage = { dims: image.grid.dims, spacing: image.grid.spacing, intensity: image.data, morphMask: mask.data, intensityMask: mask.data };
    const d = discretise(roi, { method: 'none' }, null);
    expect(d.ng).toBe(6);
    let inside = 0;
    for (let i = 0; i < d.levels.length; i++) {
      expect(d.levels[i]).toBe(mask.data[i] ? image.data[i] : 0);
      inside += mask.data[i]!;
    }
    expect(inside).toBe(74);
    expect(new Set([...d.levels].filter((l) => l > 0))).toEqual(new Set([1, 3, 4, 6])); // 2 and 5 are absent
  });

  test('intensities that are not whole numbers ≥ 1 are refused', () => {
    expect(() => discretise(roiOf([1, 2.5]), { method: 'none' }, null)).toThrow(/whole numbers ≥ 1; voxel 1 has 2.5/);
    expect(() => discretise(roiOf([0, 2]), { method: 'none' }, null)).toThrow(RadiomicsInputError);
  });
});

test('an empty intensity mask cannot be discretised', () => {
  expect(() => discretise(roiOf([1, 2], [0, 1]), { method: 'FBN', bins: 8 }, null)).toThrow(/intensity mask is empty/);
});
