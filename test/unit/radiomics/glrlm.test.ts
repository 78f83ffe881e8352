/**
 * GLRLM (IBSI 3.7) on the IBSI digital phantom: the matrices against the reference manual's
 * chapter 6 ("Digital phantom texture matrices"), every `rlm` reference value of the digital
 * phantom, and the definitions' edge cases on small synthetic volumes.
 */
import { describe, expect, it } from 'vitest';
import { RadiomicsInputError } from '../../../src/radiomics/errors.js';
import { DIRECTIONS_2D, DIRECTIONS_3D, type Direction } from '../../../src/radiomics/features/directions.js';
import { glrlmFeatures, GLRLM_FEATURES, runLengthFeatures, runLengthMatrix, type RunLengthMatrix } from '../../../src/radiomics/features/glrlm.js';
import type { Aggregation, DiscretisedRoi, Feature } from '../../../src/radiomics/types.js';
import { phantomLevels as phantomRoi, ALL_TEXTURE as ALL } from '../support/ibsi-phantom.js';

/** The phantom's grey levels inside its mask, 0 outside; ng = 6 (IBSI 5.1: no discretisation). */

type Entry = readonly [i: number, r: number, n: number];

/** The non-zero cells of a run length matrix as [grey level, run length, count]. */
function entries(m: RunLengthMatrix): Entry[] {
  const out: Entry[] = [];
  for (let i = 1; i <= m.ng; i++) {
    for (let r = 1; r <= m.maxRun; r++) {
      const n = m.counts[(i - 1) * m.maxRun + r - 1]!;
      if (n) out.push([i, r, n]);
    }
  }
  return out;
}

function merge(parts: readonly RunLengthMatrix[]): RunLengthMatrix {
  const first = parts[0]!;
  const counts = new Float64Array(first.counts.length);
  for (const m of parts) m.counts.forEach((v, x) => (counts[x] = counts[x]! + v));
  return { ng: first.ng, maxRun: first.maxRun, counts, voxels: parts.reduce((n, m) => n + m.voxels, 0) };
}

/**
 * IBSI reference manual, chapter 6, "Grey level run length matrix (2D)": the matrices of the xy
 * plane as [i, r, n], by direction (chapter 6's order, which `DIRECTIONS_2D` follows) and slice
 * 1..4 (k = 0..3).
 */
const GLRLM_2D: readonly (readonly Entry[])[][] = [
  // (0, 1, 0)
  [
    [[1, 1, 1], [1, 2, 2], [1, 4, 1], [4, 1, 2], [4, 2, 3], [6, 3, 1]],
    [[1, 2, 2], [1, 4, 2], [3, 1, 1], [4, 1, 4], [6, 1, 2]],
    [[1, 1, 1], [1, 3, 3], [1, 4, 1], [4, 1, 2], [6, 1, 1]],
    [[1, 2, 1], [1, 3, 3], [1, 4, 1], [4, 1, 2], [6, 1, 1]],
  ],
  // (1, −1, 0)
  [
    [[1, 1, 7], [1, 2, 1], [4, 1, 5], [4, 3, 1], [6, 1, 3]],
    [[1, 1, 6], [1, 2, 3], [3, 1, 1], [4, 1, 4], [6, 1, 2]],
    [[1, 1, 5], [1, 2, 3], [1, 3, 1], [4, 1, 2], [6, 1, 1]],
    [[1, 1, 3], [1, 2, 3], [1, 3, 2], [4, 1, 2], [6, 1, 1]],
  ],
  // (1, 0, 0)
  [
    [[1, 1, 5], [1, 2, 2], [4, 1, 4], [4, 2, 2], [6, 1, 3]],
    [[1, 1, 2], [1, 2, 5], [3, 1, 1], [4, 2, 2], [6, 1, 2]],
    [[1, 1, 1], [1, 2, 4], [1, 5, 1], [4, 2, 1], [6, 1, 1]],
    [[1, 1, 1], [1, 2, 2], [1, 5, 2], [4, 2, 1], [6, 1, 1]],
  ],
  // (1, 1, 0)
  [
    [[1, 1, 3], [1, 2, 3], [4, 1, 6], [4, 2, 1], [6, 1, 3]],
    [[1, 1, 2], [1, 2, 5], [3, 1, 1], [4, 1, 4], [6, 1, 2]],
    [[1, 1, 3], [1, 2, 4], [1, 3, 1], [4, 1, 2], [6, 1, 1]],
    [[1, 1, 2], [1, 2, 3], [1, 3, 1], [1, 4, 1], [4, 1, 2], [6, 1, 1]],
  ],
];

/** Chapter 6, "Grey level run length matrix (2D, merged)": the 4 directions merged, per slice 1..4. */
const GLRLM_2D_MERGED: readonly (readonly Entry[])[] = [
  [[1, 1, 16], [1, 2, 8], [1, 4, 1], [4, 1, 17], [4, 2, 6], [4, 3, 1], [6, 1, 9], [6, 3, 1]],
  [[1, 1, 10], [1, 2, 15], [1, 4, 2], [3, 1, 4], [4, 1, 12], [4, 2, 2], [6, 1, 8]],
  [[1, 1, 10], [1, 2, 11], [1, 3, 5], [1, 4, 1], [1, 5, 1], [4, 1, 6], [4, 2, 1], [6, 1, 4]],
  [[1, 1, 6], [1, 2, 9], [1, 3, 6], [1, 4, 2], [1, 5, 2], [4, 1, 6], [4, 2, 1], [6, 1, 4]],
];

/** Chapter 6, "Grey level run length matrix (3D)": one matrix per direction, in `DIRECTIONS_3D` order. */
const GLRLM_3D: readonly (readonly Entry[])[] = [
  [[1, 1, 1], [1, 2, 6], [1, 3, 3], [1, 4, 7], [3, 1, 1], [4, 1, 4], [4, 2, 2], [4, 4, 2], [6, 1, 1], [6, 2, 1], [6, 4, 1]], // (0, 0, 1)
  [[1, 1, 11], [1, 2, 15], [1, 3, 3], [3, 1, 1], [4, 1, 14], [4, 2, 1], [6, 1, 5], [6, 2, 1]], // (0, 1, −1)
  [[1, 1, 2], [1, 2, 5], [1, 3, 6], [1, 4, 5], [3, 1, 1], [4, 1, 10], [4, 2, 3], [6, 1, 4], [6, 3, 1]], // (0, 1, 0)
  [[1, 1, 10], [1, 2, 5], [1, 3, 6], [1, 4, 3], [3, 1, 1], [4, 1, 14], [4, 2, 1], [6, 1, 5], [6, 2, 1]], // (0, 1, 1)
  [[1, 1, 22], [1, 2, 11], [1, 3, 2], [3, 1, 1], [4, 1, 16], [6, 1, 7]], // (1, −1, −1)
  [[1, 1, 21], [1, 2, 10], [1, 3, 3], [3, 1, 1], [4, 1, 13], [4, 3, 1], [6, 1, 7]], // (1, −1, 0)
  [[1, 1, 30], [1, 2, 10], [3, 1, 1], [4, 1, 14], [4, 2, 1], [6, 1, 7]], // (1, −1, 1)
  [[1, 1, 16], [1, 2, 12], [1, 3, 2], [1, 4, 1], [3, 1, 1], [4, 1, 8], [4, 2, 4], [6, 1, 7]], // (1, 0, −1)
  [[1, 1, 9], [1, 2, 13], [1, 5, 3], [3, 1, 1], [4, 1, 4], [4, 2, 6], [6, 1, 7]], // (1, 0, 0)
  [[1, 1, 19], [1, 2, 12], [1, 3, 1], [1, 4, 1], [3, 1, 1], [4, 1, 8], [4, 2, 4], [6, 1, 7]], // (1, 0, 1)
  [[1, 1, 20], [1, 2, 12], [1, 3, 2], [3, 1, 1], [4, 1, 16], [6, 1, 7]], // (1, 1, −1)
  [[1, 1, 10], [1, 2, 15], [1, 3, 2], [1, 4, 1], [3, 1, 1], [4, 1, 14], [4, 2, 1], [6, 1, 7]], // (1, 1, 0)
  [[1, 1, 19], [1, 2, 14], [1, 3, 1], [3, 1, 1], [4, 1, 14], [4, 2, 1], [6, 1, 7]], // (1, 1, 1)
];

/** Chapter 6, "Grey level run length matrix (3D, merged)". */
const GLRLM_3D_MERGED: readonly Entry[] = [
  [1, 1, 190], [1, 2, 140], [1, 3, 31], [1, 4, 18], [1, 5, 3], [3, 1, 13], [4, 1, 149], [4, 2, 24], [4, 3, 1],
  [4, 4, 2], [6, 1, 78], [6, 2, 3], [6, 3, 1], [6, 4, 1],
];

/**
 * The IBSI consensus values of the `rlm` family for the digital phantom (ibsi1_reference_values.csv,
 * data = "dig. phantom"; IBSI reference manual 3.7): [feature, IBSI code, aggregation, value].
 * Their tolerance is 0: the values are published to three significant digits.
 */
const REFERENCE: readonly (readonly [name: string, code: string, aggregation: Aggregation, value: number])[] = [
  ['Short runs emphasis', '22OV', '2D, averaged', 0.641],
  ['Short runs emphasis', '22OV', '2D, slice-merged', 0.661],
  ['Short runs emphasis', '22OV', '2.5D, direction-merged', 0.665],
  ['Short runs emphasis', '22OV', '2.5D, merged', 0.68],
  ['Short runs emphasis', '22OV', '3D, averaged', 0.705],
  ['Short runs emphasis', '22OV', '3D, merged', 0.729],
  ['Long runs emphasis', 'W4KF', '2D, averaged', 3.78],
  ['Long runs emphasis', 'W4KF', '2D, slice-merged', 3.51],
  ['Long runs emphasis', 'W4KF', '2.5D, direction-merged', 3.46],
  ['Long runs emphasis', 'W4KF', '2.5D, merged', 3.27],
  ['Long runs emphasis', 'W4KF', '3D, averaged', 3.06],
  ['Long runs emphasis', 'W4KF', '3D, merged', 2.76],
  ['Low grey level run emphasis', 'V3SW', '2D, averaged', 0.604],
  ['Low grey level run emphasis', 'V3SW', '2D, slice-merged', 0.609],
  ['Low grey level run emphasis', 'V3SW', '2.5D, direction-merged', 0.58],
  ['Low grey level run emphasis', 'V3SW', '2.5D, merged', 0.585],
  ['Low grey level run emphasis', 'V3SW', '3D, averaged', 0.603],
  ['Low grey level run emphasis', 'V3SW', '3D, merged', 0.607],
  ['High grey level run emphasis', 'G3QZ', '2D, averaged', 9.82],
  ['High grey level run emphasis', 'G3QZ', '2D, slice-merged', 9.74],
  ['High grey level run emphasis', 'G3QZ', '2.5D, direction-merged', 10.3],
  ['High grey level run emphasis', 'G3QZ', '2.5D, merged', 10.2],
  ['High grey level run emphasis', 'G3QZ', '3D, averaged', 9.7],
  ['High grey level run emphasis', 'G3QZ', '3D, merged', 9.64],
  ['Short run low grey level emphasis', 'HTZT', '2D, averaged', 0.294],
  ['Short run low grey level emphasis', 'HTZT', '2D, slice-merged', 0.311],
  ['Short run low grey level emphasis', 'HTZT', '2.5D, direction-merged', 0.296],
  ['Short run low grey level emphasis', 'HTZT', '2.5D, merged', 0.312],
  ['Short run low grey level emphasis', 'HTZT', '3D, averaged', 0.352],
  ['Short run low grey level emphasis', 'HTZT', '3D, merged', 0.372],
  ['Short run high grey level emphasis', 'GD3A', '2D, averaged', 8.57],
  ['Short run high grey level emphasis', 'GD3A', '2D, slice-merged', 8.67],
  ['Short run high grey level emphasis', 'GD3A', '2.5D, direction-merged', 9.03],
  ['Short run high grey level emphasis', 'GD3A', '2.5D, merged', 9.05],
  ['Short run high grey level emphasis', 'GD3A', '3D, averaged', 8.54],
  ['Short run high grey level emphasis', 'GD3A', '3D, merged', 8.67],
  ['Long run low grey level emphasis', 'IVPO', '2D, averaged', 3.14],
  ['Long run low grey level emphasis', 'IVPO', '2D, slice-merged', 2.92],
  ['Long run low grey level emphasis', 'IVPO', '2.5D, direction-merged', 2.79],
  ['Long run low grey level emphasis', 'IVPO', '2.5D, merged', 2.63],
  ['Long run low grey level emphasis', 'IVPO', '3D, averaged', 2.39],
  ['Long run low grey level emphasis', 'IVPO', '3D, merged', 2.16],
  ['Long run high grey level emphasis', '3KUM', '2D, averaged', 17.4],
  ['Long run high grey level emphasis', '3KUM', '2D, slice-merged', 16.1],
  ['Long run high grey level emphasis', '3KUM', '2.5D, direction-merged', 17.9],
  ['Long run high grey level emphasis', '3KUM', '2.5D, merged', 17],
  ['Long run high grey level emphasis', '3KUM', '3D, averaged', 17.6],
  ['Long run high grey level emphasis', '3KUM', '3D, merged', 15.6],
  ['Grey level non-uniformity', 'R5YN', '2D, averaged', 5.2],
  ['Grey level non-uniformity', 'R5YN', '2D, slice-merged', 20.5],
  ['Grey level non-uniformity', 'R5YN', '2.5D, direction-merged', 19.5],
  ['Grey level non-uniformity', 'R5YN', '2.5D, merged', 77.1],
  ['Grey level non-uniformity', 'R5YN', '3D, averaged', 21.8],
  ['Grey level non-uniformity', 'R5YN', '3D, merged', 281],
  ['Normalised grey level non-uniformity', 'OVBL', '2D, averaged', 0.46],
  ['Normalised grey level non-uniformity', 'OVBL', '2D, slice-merged', 0.456],
  ['Normalised grey level non-uniformity', 'OVBL', '2.5D, direction-merged', 0.413],
  ['Normalised grey level non-uniformity', 'OVBL', '2.5D, merged', 0.412],
  ['Normalised grey level non-uniformity', 'OVBL', '3D, averaged', 0.43],
  ['Normalised grey level non-uniformity', 'OVBL', '3D, merged', 0.43],
  ['Run length non-uniformity', 'W92Y', '2D, averaged', 6.12],
  ['Run length non-uniformity', 'W92Y', '2D, slice-merged', 21.6],
  ['Run length non-uniformity', 'W92Y', '2.5D, direction-merged', 22.3],
  ['Run length non-uniformity', 'W92Y', '2.5D, merged', 83.2],
  ['Run length non-uniformity', 'W92Y', '3D, averaged', 26.9],
  ['Run length non-uniformity', 'W92Y', '3D, merged', 328],
  ['Normalised run length non-uniformity', 'IC23', '2D, averaged', 0.492],
  ['Normalised run length non-uniformity', 'IC23', '2D, slice-merged', 0.441],
  ['Normalised run length non-uniformity', 'IC23', '2.5D, direction-merged', 0.461],
  ['Normalised run length non-uniformity', 'IC23', '2.5D, merged', 0.445],
  ['Normalised run length non-uniformity', 'IC23', '3D, averaged', 0.513],
  ['Normalised run length non-uniformity', 'IC23', '3D, merged', 0.501],
  ['Run percentage', '9ZK5', '2D, averaged', 0.627],
  ['Run percentage', '9ZK5', '2D, slice-merged', 0.627],
  ['Run percentage', '9ZK5', '2.5D, direction-merged', 0.632],
  ['Run percentage', '9ZK5', '2.5D, merged', 0.632],
  ['Run percentage', '9ZK5', '3D, averaged', 0.68],
  ['Run percentage', '9ZK5', '3D, merged', 0.68],
  ['Grey level variance', '8CE5', '2D, averaged', 3.35],
  ['Grey level variance', '8CE5', '2D, slice-merged', 3.37],
  ['Grey level variance', '8CE5', '2.5D, direction-merged', 3.58],
  ['Grey level variance', '8CE5', '2.5D, merged', 3.59],
  ['Grey level variance', '8CE5', '3D, averaged', 3.46],
  ['Grey level variance', '8CE5', '3D, merged', 3.48],
  ['Run length variance', 'SXLW', '2D, averaged', 0.761],
  ['Run length variance', 'SXLW', '2D, slice-merged', 0.778],
  ['Run length variance', 'SXLW', '2.5D, direction-merged', 0.758],
  ['Run length variance', 'SXLW', '2.5D, merged', 0.767],
  ['Run length variance', 'SXLW', '3D, averaged', 0.574],
  ['Run length variance', 'SXLW', '3D, merged', 0.598],
  ['Run entropy', 'HJ9O', '2D, averaged', 2.17],
  ['Run entropy', 'HJ9O', '2D, slice-merged', 2.57],
  ['Run entropy', 'HJ9O', '2.5D, direction-merged', 2.52],
  ['Run entropy', 'HJ9O', '2.5D, merged', 2.76],
  ['Run entropy', 'HJ9O', '3D, averaged', 2.43],
  ['Run entropy', 'HJ9O', '3D, merged', 2.62],
];

/** |value − reference| within half a unit of the reference's third significant digit. */
function publishedPrecision(reference: number): number {
  return 0.5 * 10 ** (Math.floor(Math.log10(Math.abs(reference))) - 2);
}

const key = (f: Pick<Feature, 'name' | 'code' | 'aggregation'>) => `${f.name}|${f.code}|${f.aggregation}`;

describe('GLRLM matrices of the digital phantom (IBSI chapter 6)', () => {
  const roi = phantomRoi();
  /** Voxels of the phantom's mask in slices 1..4. */
  const sliceVoxels = [20, 19, 17, 18];

  it('matches every 2-D matrix per direction and slice, with the voxels of its slice', () => {
    DIRECTIONS_2D.forEach((direction, n) => {
      for (let k = 0; k < 4; k++) {
        const m = runLengthMatrix(roi, direction, k);
        expect(entries(m), `(${direction.join(', ')}) slice ${k + 1}`).toEqual(GLRLM_2D[n]![k]);
        expect(m.voxels).toBe(sliceVoxels[k]);
      }
    });
  });

  it('matches the 2-D matrices merged over directions, per slice', () => {
    for (let k = 0; k < 4; k++) {
      const merged = merge(DIRECTIONS_2D.map((direction) => runLengthMatrix(roi, direction, k)));
      expect(entries(merged), `slice ${k + 1}`).toEqual(GLRLM_2D_MERGED[k]);
    }
  });

  it('matches every 3-D matrix per direction and the merged 3-D matrix', () => {
    const matrices = DIRECTIONS_3D.map((direction) => runLengthMatrix(roi, direction, null));
    matrices.forEach((m, n) => expect(entries(m), `(${DIRECTIONS_3D[n]!.join(', ')})`).toEqual(GLRLM_3D[n]));
    expect(matrices.every((m) => m.voxels === 74)).toBe(true);
    expect(entries(merge(matrices))).toEqual(GLRLM_3D_MERGED);
  });

  it('finds the same runs along a direction and its opposite', () => {
    const opposite = (d: Direction): Direction => [-d[0], -d[1], -d[2]];
    for (const direction of DIRECTIONS_3D) expect(runLengthMatrix(roi, opposite(direction), null)).toEqual(runLengthMatrix(roi, direction, null));
  });

  it('covers every voxel of the mask exactly once per direction', () => {
    for (const direction of DIRECTIONS_3D) {
      const m = runLengthMatrix(roi, direction, null);
      expect(entries(m).reduce((n, [, r, count]) => n + r * count, 0)).toBe(74);
    }
  });
});

describe('GLRLM features of the digital phantom (IBSI consensus values)', () => {
  const features = glrlmFeatures(phantomRoi(), ALL);

  it('emits exactly the reference set of names, codes and aggregations', () => {
    expect(features.every((f) => f.family === 'rlm')).toBe(true);
    expect(features.map(key).sort()).toEqual(REFERENCE.map(([name, code, aggregation]) => key({ name, code, aggregation })).sort());
  });

  it.each(REFERENCE.map((r) => ({ name: r[0], code: r[1], aggregation: r[2], value: r[3] })))('$name ($code, $aggregation) = $value', ({ name, code, aggregation, value }) => {
    const ours = features.find((f) => key(f) === key({ name, code, aggregation }));
    expect(ours).toBeDefined();
    expect(Math.abs(ours!.value - value)).toBeLessThanOrEqual(publishedPrecision(value));
  });

  it('computes only the aggregations of the dimensions asked for', () => {
    const only2d = glrlmFeatures(phantomRoi(), { ...ALL, dimensions: ['2D', '2.5D'] });
    expect(new Set(only2d.map((f) => f.aggregation))).toEqual(new Set(['2D, averaged', '2D, slice-merged', '2.5D, direction-merged', '2.5D, merged']));
    expect(only2d).toEqual(features.filter((f) => !f.aggregation.startsWith('3D')));
  });
});

describe('GLRLM definitions on small volumes', () => {
  const line = (levels: number[], ng: number): DiscretisedRoi => ({ dims: [levels.length, 1, 1], spacing: [1, 1, 1], levels: Int32Array.from(levels), ng });

  it('ends runs at a change of grey level and at a voxel outside the mask', () => {
    const m = runLengthMatrix(line([1, 1, 0, 1, 2, 2, 2], 2), [1, 0, 0], null);
    expect(entries(m)).toEqual([[1, 1, 1], [1, 2, 1], [2, 3, 1]]);
    expect(m.voxels).toBe(6);
  });

  it('computes the features of a known matrix', () => {
    // Runs: level 1 of lengths 1 and 2, level 2 of length 3; N_s = 3, N_v = 6.
    const v = runLengthFeatures(runLengthMatrix(line([1, 1, 0, 1, 2, 2, 2], 2), [1, 0, 0], null));
    const names = GLRLM_FEATURES.map((f) => f.name);
    const at = (name: string) => v[names.indexOf(name)]!;
    expect(at('Short runs emphasis')).toBeCloseTo((1 + 1 / 4 + 1 / 9) / 3, 14);
    expect(at('Long runs emphasis')).toBeCloseTo((1 + 4 + 9) / 3, 14);
    expect(at('Low grey level run emphasis')).toBeCloseTo((2 + 1 / 4) / 3, 14);
    expect(at('Long run high grey level emphasis')).toBeCloseTo((1 + 4 + 4 * 9) / 3, 14);
    expect(at('Grey level non-uniformity')).toBeCloseTo((4 + 1) / 3, 14);
    expect(at('Run length non-uniformity')).toBeCloseTo(3 / 3, 14);
    expect(at('Run percentage')).toBeCloseTo(3 / 6, 14);
    expect(at('Grey level variance')).toBeCloseTo(2 / 9, 14);
    expect(at('Run length variance')).toBeCloseTo(2 / 3, 14);
    expect(at('Run entropy')).toBeCloseTo(Math.log2(3), 14);
  });

  it('sums the voxels of merged matrices for the run percentage (IBSI 3.7.1)', () => {
    // Each of the 13 directions sees N_v = 74; merged, N_v = 13 · 74.
    const roi = phantomRoi();
    const matrices = DIRECTIONS_3D.map((direction) => runLengthMatrix(roi, direction, null));
    const runs = matrices.reduce((n, m) => n + m.counts.reduce((a, b) => a + b, 0), 0);
    const merged = glrlmFeatures(roi, { ...ALL, dimensions: ['3D'] }).find((f) => f.name === 'Run percentage' && f.aggregation === '3D, merged')!;
    expect(merged.value).toBeCloseTo(runs / (13 * 74), 14);
  });

  it('gives NaN for every feature of an empty ROI', () => {
    const empty = glrlmFeatures(line([0, 0, 0], 2), ALL);
    expect(empty).toHaveLength(GLRLM_FEATURES.length * 6);
    expect(empty.every((f) => Number.isNaN(f.value))).toBe(true);
  });

  it('rejects directions, slices and levels it cannot use', () => {
    const roi = phantomRoi();
    expect(() => runLengthMatrix(roi, [1, 2, 0], null)).toThrow(RadiomicsInputError);
    expect(() => runLengthMatrix(roi, [1, 1, 1], 0)).toThrow(/leaves the slice plane/);
    expect(() => runLengthMatrix(roi, [1, 0, 0], -1)).toThrow(/slice -1/);
    expect(() => glrlmFeatures({ ...roi, ng: 4 }, ALL)).toThrow(/grey level 6/);
  });
});
