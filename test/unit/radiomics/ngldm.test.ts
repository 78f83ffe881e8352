/**
 * NGLDM (IBSI 3.11) on the IBSI digital phantom: the matrices of the IBSI reference manual,
 * chapter 6 ("Digital phantom texture matrices"), and the reference values of the IBSI reference
 * value table (data "dig. phantom"); a direct transcription of the definition at other distances
 * and coarseness.
 */
import { describe, expect, test } from 'vitest';
import { ngldmFeatures, ngldmSliceMatrices, ngldmVolumeMatrix } from '../../../src/radiomics/features/ngldm.js';
import { countMatrixRows } from '../../../src/radiomics/features/zone-matrix.js';
import { TextureInputError } from '../../../src/radiomics/features/zones.js';
import type { DiscretisedRoi } from '../../../src/radiomics/types.js';
import type { Vec3 } from '../../../src/volume/volume.js';
import { phantomLevels as phantomRoi, ALL_TEXTURE as ALL, expectPublished } from '../support/ibsi-phantom.js';

/** The phantom's grey levels 1..6 inside its mask, used as they are (IBSI chapter 5). */

describe('NGLDM matrices of the digital phantom (IBSI manual, chapter 6)', () => {
  test('per slice, distance 1, coarseness 0: "Neighbouring grey level dependence matrices extracted from the xy plane (2D)"', () => {
    // [grey level i, dependence count j, s_ij], slices k = 0..3.
    const expected = [
      [[1, 2, 3], [1, 3, 1], [1, 4, 3], [1, 5, 2], [4, 2, 2], [4, 3, 4], [4, 4, 2], [6, 2, 2], [6, 3, 1]],
      [[1, 3, 2], [1, 4, 6], [1, 6, 4], [3, 1, 1], [4, 2, 4], [6, 1, 2]],
      [[1, 3, 1], [1, 4, 5], [1, 5, 3], [1, 6, 3], [1, 7, 2], [4, 2, 2], [6, 1, 1]],
      [[1, 3, 1], [1, 4, 3], [1, 5, 3], [1, 6, 4], [1, 7, 1], [1, 8, 3], [4, 2, 2], [6, 1, 1]],
    ];
    const slices = ngldmSliceMatrices(phantomRoi(), 1, 0);
    expect(slices.map(countMatrixRows)).toEqual(expected);
    expect(slices.map((m) => m.voxels)).toEqual([20, 19, 17, 18]);
  });

  test('the volume: "Neighbouring grey level dependence matrix extracted volumetrically (3D)"', () => {
    const expected = [
      [1, 5, 2], [1, 6, 2], [1, 7, 1], [1, 8, 6], [1, 9, 4], [1, 10, 6], [1, 11, 5], [1, 12, 5], [1, 13, 3], [1, 14, 2], [1, 15, 5],
      [1, 16, 3], [1, 17, 3], [1, 18, 2], [1, 21, 1], [3, 1, 1], [4, 2, 2], [4, 4, 2], [4, 5, 6], [4, 6, 4], [4, 7, 2], [6, 2, 1],
      [6, 3, 4], [6, 4, 1], [6, 5, 1],
    ];
    const m = ngldmVolumeMatrix(phantomRoi(), 1, 0);
    expect(countMatrixRows(m)).toEqual(expected);
    expect(m.voxels).toBe(74);
  });
});

// IBSI reference value table, family "ngl", data "dig. phantom": [feature, code, aggregation, value].
const REFERENCE: readonly [string, string, string, number][] = [
  ['Low dependence emphasis', 'SODN', '2D', 0.158],
  ['Low dependence emphasis', 'SODN', '2.5D', 0.159],
  ['Low dependence emphasis', 'SODN', '3D', 0.045],
  ['High dependence emphasis', 'IMOQ', '2D', 19.2],
  ['High dependence emphasis', 'IMOQ', '2.5D', 18.8],
  ['High dependence emphasis', 'IMOQ', '3D', 109],
  ['Low grey level count emphasis', 'TL9H', '2D', 0.702],
  ['Low grey level count emphasis', 'TL9H', '2.5D', 0.693],
  ['Low grey level count emphasis', 'TL9H', '3D', 0.693],
  ['High grey level count emphasis', 'OAE7', '2D', 7.49],
  ['High grey level count emphasis', 'OAE7', '2.5D', 7.66],
  ['High grey level count emphasis', 'OAE7', '3D', 7.66],
  ['Low dependence low grey level emphasis', 'EQ3F', '2D', 0.0473],
  ['Low dependence low grey level emphasis', 'EQ3F', '2.5D', 0.0477],
  ['Low dependence low grey level emphasis', 'EQ3F', '3D', 0.00963],
  ['Low dependence high grey level emphasis', 'JA6D', '2D', 3.06],
  ['Low dependence high grey level emphasis', 'JA6D', '2.5D', 3.07],
  ['Low dependence high grey level emphasis', 'JA6D', '3D', 0.736],
  ['High dependence low grey level emphasis', 'NBZI', '2D', 17.6],
  ['High dependence low grey level emphasis', 'NBZI', '2.5D', 17.2],
  ['High dependence low grey level emphasis', 'NBZI', '3D', 102],
  ['High dependence high grey level emphasis', '9QMG', '2D', 49.5],
  ['High dependence high grey level emphasis', '9QMG', '2.5D', 50.8],
  ['High dependence high grey level emphasis', '9QMG', '3D', 235],
  ['Grey level non-uniformity', 'FP8K', '2D', 10.2],
  ['Grey level non-uniformity', 'FP8K', '2.5D', 37.9],
  ['Grey level non-uniformity', 'FP8K', '3D', 37.9],
  ['Normalised grey level non-uniformity', '5SPA', '2D', 0.562],
  ['Normalised grey level non-uniformity', '5SPA', '2.5D', 0.512],
  ['Normalised grey level non-uniformity', '5SPA', '3D', 0.512],
  ['Dependence count non-uniformity', 'Z87G', '2D', 3.96],
  ['Dependence count non-uniformity', 'Z87G', '2.5D', 12.4],
  ['Dependence count non-uniformity', 'Z87G', '3D', 4.86],
  ['Normalised dependence count non-uniformity', 'OKJI', '2D', 0.212],
  ['Normalised dependence count non-uniformity', 'OKJI', '2.5D', 0.167],
  ['Normalised dependence count non-uniformity', 'OKJI', '3D', 0.0657],
  ['Dependence count percentage', '6XV8', '2D', 1],
  ['Dependence count percentage', '6XV8', '2.5D', 1],
  ['Dependence count percentage', '6XV8', '3D', 1],
  ['Grey level variance', '1PFV', '2D', 2.7],
  ['Grey level variance', '1PFV', '2.5D', 3.05],
  ['Grey level variance', '1PFV', '3D', 3.05],
  ['Dependence count variance', 'DNX2', '2D', 2.73],
  ['Dependence count variance', 'DNX2', '2.5D', 3.27],
  ['Dependence count variance', 'DNX2', '3D', 22.1],
  ['Dependence count entropy', 'FCBV', '2D', 2.71],
  ['Dependence count entropy', 'FCBV', '2.5D', 3.36],
  ['Dependence count entropy', 'FCBV', '3D', 4.4],
  ['Dependence count energy', 'CAS9', '2D', 0.17],
  ['Dependence count energy', 'CAS9', '2.5D', 0.122],
  ['Dependence count energy', 'CAS9', '3D', 0.0533],
];

describe('NGLDM features of the digital phantom', () => {
  const rows = ngldmFeatures(phantomRoi(), ALL);

  test('emits exactly the (feature, code, aggregation) rows of the reference table', () => {
    expect(rows.every((r) => r.family === 'ngl')).toBe(true);
    const emitted = rows.map((r) => `${r.name}|${r.code}|${r.aggregation}`).sort();
    expect(emitted).toEqual(REFERENCE.map(([name, code, aggregation]) => `${name}|${code}|${aggregation}`).sort());
  });

  test.each(REFERENCE)('%s (%s), %s = %d', (name, code, aggregation, value) => {
    const row = rows.find((r) => r.name === name && r.code === code && r.aggregation === aggregation);
    expect(row).toBeDefined();
    expectPublished(row!.value, value, `${name} ${aggregation}`);
  });
});

/** The definition transcribed directly: j_k = number of voxels within Chebyshev δ, centre included, in the ROI and within α of the centre. */
function naiveNgldm(d: DiscretisedRoi, delta: number, alpha: number, inSlice: boolean): Map<string, number>[] {
  const [nx, ny, nz] = d.dims;
  const at = (i: number, j: number, k: number) => d.levels[i + nx * (j + ny * k)]!;
  const out = Array.from({ length: inSlice ? nz : 1 }, () => new Map<string, number>());
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const g = at(i, j, k);
        if (g === 0) continue;
        let dependence = 0;
        for (let c = inSlice ? 0 : -delta; c <= (inSlice ? 0 : delta); c++) {
          for (let b = -delta; b <= delta; b++) {
            for (let a = -delta; a <= delta; a++) {
              const [p, q, r] = [i + a, j + b, k + c];
              if (p < 0 || p >= nx || q < 0 || q >= ny || r < 0 || r >= nz) continue;
              const h = at(p, q, r);
              if (h > 0 && Math.abs(h - g) <= alpha) dependence++;
            }
          }
        }
        const m = out[inSlice ? k : 0]!;
        const key = `${g},${dependence}`;
        m.set(key, (m.get(key) ?? 0) + 1);
      }
    }
  }
  return out;
}

function asMap(rows: [number, number, number][]): Map<string, number> {
  return new Map(rows.map(([i, j, s]) => [`${i},${j}`, s]));
}

function randomRoi(dims: Vec3, ng: number, seed: number): DiscretisedRoi {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const levels = new Int32Array(dims[0] * dims[1] * dims[2]);
  for (let v = 0; v < levels.length; v++) levels[v] = random() < 0.2 ? 0 : 1 + Math.floor(random() * ng);
  return { dims, spacing: [1, 1, 1], levels, ng };
}

describe('NGLDM against the definition', () => {
  test.each([
    [1, 0],
    [1, 1],
    [2, 0],
    [2, 2],
  ])('distance %d, coarseness %d, a random ROI with holes', (delta, alpha) => {
    const d = randomRoi([8, 7, 6], 5, 101 + 10 * delta + alpha);
    const slices = ngldmSliceMatrices(d, delta, alpha);
    expect(slices.map((m) => asMap(countMatrixRows(m)))).toEqual(naiveNgldm(d, delta, alpha, true));
    expect(asMap(countMatrixRows(ngldmVolumeMatrix(d, delta, alpha)))).toEqual(naiveNgldm(d, delta, alpha, false)[0]);
  });

  test('coarseness from the options reaches the matrix: with α = 5 every ROI neighbour is dependent', () => {
    const d = randomRoi([6, 6, 4], 5, 7);
    const rows = ngldmFeatures(d, { ...ALL, dimensions: ['3D'], ngldmCoarseness: 5 });
    const tight = ngldmFeatures(d, { ...ALL, dimensions: ['3D'] });
    const hde = (r: typeof rows) => r.find((x) => x.name === 'High dependence emphasis')!.value;
    expect(hde(rows)).toBeGreaterThan(hde(tight));
  });
});

describe('edge cases and bad input', () => {
  test('every voxel is a neighbourhood centre: N_s = N_v, dependence count percentage 1', () => {
    const d = randomRoi([5, 5, 3], 3, 3);
    const rows = ngldmFeatures(d, ALL);
    expect(rows.filter((r) => r.name === 'Dependence count percentage').map((r) => r.value)).toEqual([1, 1, 1]);
  });

  test('an empty ROI gives every row, each NaN; a negative coarseness throws TextureInputError', () => {
    const empty: DiscretisedRoi = { dims: [2, 2, 2], spacing: [1, 1, 1], levels: new Int32Array(8), ng: 2 };
    const rows = ngldmFeatures(empty, ALL);
    expect(rows).toHaveLength(51);
    expect(rows.every((r) => Number.isNaN(r.value))).toBe(true);
    expect(() => ngldmFeatures(empty, { ...ALL, ngldmCoarseness: -1 })).toThrow(TextureInputError);
    expect(() => ngldmVolumeMatrix(empty, 1, Number.NaN)).toThrow(TextureInputError);
  });
});
