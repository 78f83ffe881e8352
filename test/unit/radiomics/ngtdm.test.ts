/**
 * NGTDM (IBSI 3.10) on the IBSI digital phantom: the matrices of the IBSI reference manual,
 * chapter 6 ("Digital phantom texture matrices"), and the reference values of the IBSI reference
 * value table (data "dig. phantom"); a direct transcription of the definition at a larger
 * distance, and the special cases IBSI defines.
 */
import { describe, expect, test } from 'vitest';
import { ngtdmFeatures, ngtdmMatrixFeatures, ngtdmSliceMatrices, ngtdmVolumeMatrix, type NgtdmMatrix } from '../../../src/radiomics/features/ngtdm.js';
import { TextureInputError } from '../../../src/radiomics/features/zones.js';
import type { DiscretisedRoi } from '../../../src/radiomics/types.js';
import type { Vec3 } from '../../../src/volume/volume.js';
import { phantomLevels as phantomRoi, ALL_TEXTURE as ALL, expectPublished } from '../support/ibsi-phantom.js';

/** The phantom's grey levels 1..6 inside its mask, used as they are (IBSI chapter 5). */

/** [grey level i, s_i, n_i] for the levels with n_i > 0, as the manual lists them. */
function rowsOf(m: NgtdmMatrix): [number, number, number][] {
  const rows: [number, number, number][] = [];
  for (let i = 0; i < m.ng; i++) if (m.n[i]! > 0) rows.push([i + 1, m.s[i]!, m.n[i]!]);
  return rows;
}

/** The manual prints s_i to 6 decimals: compare to that, n_i exactly. */
function expectRows(actual: [number, number, number][], expected: [number, number, number][]): void {
  expect(actual.map(([i, , n]) => [i, n])).toEqual(expected.map(([i, , n]) => [i, n]));
  actual.forEach(([, s], r) => expect(Math.abs(s - expected[r]![1])).toBeLessThanOrEqual(5e-7));
}

describe('NGTDM matrices of the digital phantom (IBSI manual, chapter 6)', () => {
  test('per slice, Chebyshev distance 1: "Neighbourhood grey tone difference matrices extracted from the xy plane (2D)"', () => {
    // [i, s_i, n_i], slices k = 0..3.
    const expected: [number, number, number][][] = [
      [[1, 14.575, 9], [4, 5.775, 8], [6, 7.325, 3]],
      [[1, 11.928571, 12], [3, 0.375, 1], [4, 4.8, 4], [6, 8.0, 2]],
      [[1, 7.985714, 14], [4, 4.65, 2], [6, 5.0, 1]],
      [[1, 7.582143, 15], [4, 4.65, 2], [6, 5.0, 1]],
    ];
    const slices = ngtdmSliceMatrices(phantomRoi(), 1);
    expect(slices).toHaveLength(4);
    slices.forEach((m, k) => expectRows(rowsOf(m), expected[k]!));
  });

  test('the volume: "Neighbourhood grey tone difference matrix extracted volumetrically (3D)"', () => {
    expectRows(rowsOf(ngtdmVolumeMatrix(phantomRoi(), 1)), [[1, 39.946954, 50], [3, 0.2, 1], [4, 20.825401, 16], [6, 24.127005, 7]]);
  });
});

// IBSI reference value table, family "ngt", data "dig. phantom": [feature, code, aggregation, value].
const REFERENCE: readonly [string, string, string, number][] = [
  ['Coarseness', 'QCDE', '2D', 0.121],
  ['Coarseness', 'QCDE', '2.5D', 0.0285],
  ['Coarseness', 'QCDE', '3D', 0.0296],
  ['Contrast', '65HE', '2D', 0.925],
  ['Contrast', '65HE', '2.5D', 0.601],
  ['Contrast', '65HE', '3D', 0.584],
  ['Busyness', 'NQ30', '2D', 2.99],
  ['Busyness', 'NQ30', '2.5D', 6.8],
  ['Busyness', 'NQ30', '3D', 6.54],
  ['Complexity', 'HDEZ', '2D', 10.4],
  ['Complexity', 'HDEZ', '2.5D', 14.1],
  ['Complexity', 'HDEZ', '3D', 13.5],
  ['Strength', '1X9X', '2D', 2.88],
  ['Strength', '1X9X', '2.5D', 0.741],
  ['Strength', '1X9X', '3D', 0.763],
];

describe('NGTDM features of the digital phantom', () => {
  const rows = ngtdmFeatures(phantomRoi(), ALL);

  test('emits exactly the (feature, code, aggregation) rows of the reference table', () => {
    expect(rows.every((r) => r.family === 'ngt')).toBe(true);
    const emitted = rows.map((r) => `${r.name}|${r.code}|${r.aggregation}`).sort();
    expect(emitted).toEqual(REFERENCE.map(([name, code, aggregation]) => `${name}|${code}|${aggregation}`).sort());
  });

  test.each(REFERENCE)('%s (%s), %s = %d', (name, code, aggregation, value) => {
    const row = rows.find((r) => r.name === name && r.code === code && r.aggregation === aggregation);
    expect(row).toBeDefined();
    expectPublished(row!.value, value, `${name} ${aggregation}`);
  });
});

/** The definition transcribed directly: every voxel, every offset within Chebyshev `delta`, neighbours in the ROI only. */
function naiveNgtdm(levels: Int32Array, dims: Vec3, ng: number, delta: number, inSlice: boolean): { s: number[]; n: number[] }[] {
  const [nx, ny, nz] = dims;
  const at = (i: number, j: number, k: number) => levels[i + nx * (j + ny * k)]!;
  const out = Array.from({ length: inSlice ? nz : 1 }, () => ({ s: new Array<number>(ng).fill(0), n: new Array<number>(ng).fill(0) }));
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const g = at(i, j, k);
        if (g === 0) continue;
        let sum = 0, w = 0;
        for (let c = inSlice ? 0 : -delta; c <= (inSlice ? 0 : delta); c++) {
          for (let b = -delta; b <= delta; b++) {
            for (let a = -delta; a <= delta; a++) {
              if (a === 0 && b === 0 && c === 0) continue;
              const [p, q, r] = [i + a, j + b, k + c];
              if (p < 0 || p >= nx || q < 0 || q >= ny || r < 0 || r >= nz || at(p, q, r) === 0) continue;
              sum += at(p, q, r);
              w++;
            }
          }
        }
        if (w === 0) continue;
        const m = out[inSlice ? k : 0]!;
        m.s[g - 1]! += Math.abs(g - sum / w);
        m.n[g - 1]! += 1;
      }
    }
  }
  return out;
}

function randomRoi(dims: Vec3, ng: number, seed: number): DiscretisedRoi {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const levels = new Int32Array(dims[0] * dims[1] * dims[2]);
  for (let v = 0; v < levels.length; v++) levels[v] = random() < 0.2 ? 0 : 1 + Math.floor(random() * ng);
  return { dims, spacing: [1, 1, 1], levels, ng };
}

describe('NGTDM against the definition', () => {
  test.each([1, 2, 3])('Chebyshev distances 1 to 3, a random ROI with holes: distance %d', (delta) => {
    const d = randomRoi([9, 8, 6], 5, 17 + delta);
    const slices = ngtdmSliceMatrices(d, delta);
    const naiveSlices = naiveNgtdm(d.levels, d.dims, d.ng, delta, true);
    slices.forEach((m, k) => {
      expect(Array.from(m.n)).toEqual(naiveSlices[k]!.n);
      Array.from(m.s).forEach((s, i) => expect(s).toBeCloseTo(naiveSlices[k]!.s[i]!, 10));
    });
    const volume = ngtdmVolumeMatrix(d, delta);
    const naive = naiveNgtdm(d.levels, d.dims, d.ng, delta, false)[0]!;
    expect(Array.from(volume.n)).toEqual(naive.n);
    Array.from(volume.s).forEach((s, i) => expect(s).toBeCloseTo(naive.s[i]!, 10));
  });
});

describe('special cases (IBSI 3.10)', () => {
  test('one grey level: coarseness at its maximum 10^6, contrast, busyness, complexity and strength 0', () => {
    const levels = new Int32Array(27).fill(2);
    const rows = ngtdmFeatures({ dims: [3, 3, 3], spacing: [1, 1, 1], levels, ng: 3 }, ALL);
    for (const aggregation of ['2D', '2.5D', '3D']) {
      const value = (name: string) => rows.find((r) => r.name === name && r.aggregation === aggregation)!.value;
      expect(value('Coarseness')).toBe(1e6);
      expect(value('Contrast')).toBe(0);
      expect(value('Busyness')).toBe(0);
      expect(value('Complexity')).toBe(0);
      expect(value('Strength')).toBe(0);
    }
  });

  test('voxels without a neighbour in the ROI are left out; a matrix without any is undefined (NaN)', () => {
    const isolated: NgtdmMatrix = { ng: 2, s: new Float64Array(2), n: new Float64Array(2) };
    expect(Object.values(ngtdmMatrixFeatures(isolated)).every(Number.isNaN)).toBe(true);
    // Slice 0: two voxels side by side (levels 1, 2); slice 1: a lone voxel right above one of them.
    const levels = new Int32Array(2 * 1 * 2);
    levels[0] = 1;
    levels[1] = 2;
    levels[2] = 2;
    const d: DiscretisedRoi = { dims: [2, 1, 2], spacing: [1, 1, 1], levels, ng: 2 };
    const slices = ngtdmSliceMatrices(d, 1);
    expect(slices.map((m) => Array.from(m.n))).toEqual([[1, 1], [0, 0]]);
    // '2D' averages the slices that define a value: here slice 0 alone.
    const rows = ngtdmFeatures(d, { ...ALL, dimensions: ['2D'] });
    const slice0 = ngtdmMatrixFeatures(slices[0]!);
    expect(rows.map((r) => r.value)).toEqual([slice0.coarseness, slice0.contrast, slice0.busyness, slice0.complexity, slice0.strength]);
    // s = |1 − 2| + |2 − 1| = 2, p = (½, ½): coarseness 1/(½·1 + ½·1) = 1, contrast (½·½·1·2 / 2)·(2/2) = 0.25.
    expect(slice0.coarseness).toBe(1);
    expect(slice0.contrast).toBeCloseTo(0.25, 12);
  });

  test('an empty ROI gives every row, each NaN; a bad distance throws TextureInputError', () => {
    const empty: DiscretisedRoi = { dims: [2, 2, 2], spacing: [1, 1, 1], levels: new Int32Array(8), ng: 2 };
    const rows = ngtdmFeatures(empty, ALL);
    expect(rows).toHaveLength(15);
    expect(rows.every((r) => Number.isNaN(r.value))).toBe(true);
    expect(() => ngtdmFeatures(empty, { ...ALL, distance: 1.5 })).toThrow(TextureInputError);
    expect(() => ngtdmSliceMatrices(empty, 0)).toThrow(TextureInputError);
  });
});
