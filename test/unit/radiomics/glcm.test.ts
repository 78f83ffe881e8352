/**
 * GLCM (IBSI 3.6) on the IBSI digital phantom: the matrices against the reference manual's
 * chapter 6 ("Digital phantom texture matrices"), every `cm` reference value of the digital
 * phantom, and the definitions' edge cases on small synthetic volumes.
 */
import { describe, expect, it } from 'vitest';
import { RadiomicsInputError } from '../../../src/radiomics/errors.js';
import { DIRECTIONS_2D, DIRECTIONS_3D, type Direction } from '../../../src/radiomics/features/directions.js';
import { cooccurrenceFeatures, cooccurrenceMatrix, glcmFeatures, GLCM_FEATURES } from '../../../src/radiomics/features/glcm.js';
import type { Aggregation, DiscretisedRoi, Feature } from '../../../src/radiomics/types.js';
import { phantomLevels as phantomRoi, ALL_TEXTURE as ALL } from '../support/ibsi-phantom.js';

/** The phantom's grey levels inside its mask, 0 outside; ng = 6 (IBSI 5.1: no discretisation). */

type Entry = readonly [i: number, j: number, n: number];

/** The non-zero cells of an ng × ng matrix as [i, j, n], i and j from 1, row by row. */
function entries(counts: Float64Array, ng: number): Entry[] {
  const out: Entry[] = [];
  for (let i = 1; i <= ng; i++) for (let j = 1; j <= ng; j++) if (counts[(i - 1) * ng + j - 1]) out.push([i, j, counts[(i - 1) * ng + j - 1]!]);
  return out;
}

function sum(matrices: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(matrices[0]!.length);
  for (const m of matrices) m.forEach((v, x) => (out[x] = out[x]! + v));
  return out;
}

/**
 * IBSI reference manual, chapter 6, "Grey level co-occurrence matrix (2D)": the matrices of the
 * xy plane at Chebyshev distance 1, as [i, j, n], by direction (chapter 6's order, which
 * `DIRECTIONS_2D` follows) and slice 1..4 (k = 0..3).
 */
const GLCM_2D: readonly (readonly Entry[])[][] = [
  // (0, 1, 0)
  [
    [[1, 1, 10], [1, 4, 4], [4, 1, 4], [4, 4, 6], [4, 6, 1], [6, 4, 1], [6, 6, 4]],
    [[1, 1, 16], [1, 4, 2], [3, 6, 2], [4, 1, 2], [4, 6, 1], [6, 3, 2], [6, 4, 1]],
    [[1, 1, 18], [1, 4, 2], [4, 1, 2]],
    [[1, 1, 20], [1, 4, 2], [1, 6, 1], [4, 1, 2], [6, 1, 1]],
  ],
  // (1, −1, 0)
  [
    [[1, 1, 2], [1, 4, 4], [1, 6, 3], [4, 1, 4], [4, 4, 4], [4, 6, 2], [6, 1, 3], [6, 4, 2]],
    [[1, 1, 6], [1, 3, 1], [1, 4, 3], [1, 6, 3], [3, 1, 1], [3, 4, 1], [4, 1, 3], [4, 3, 1], [6, 1, 3]],
    [[1, 1, 10], [1, 4, 2], [1, 6, 1], [4, 1, 2], [6, 1, 1]],
    [[1, 1, 14], [1, 4, 2], [1, 6, 1], [4, 1, 2], [6, 1, 1]],
  ],
  // (1, 0, 0)
  [
    [[1, 1, 4], [1, 4, 6], [1, 6, 2], [4, 1, 6], [4, 4, 4], [4, 6, 4], [6, 1, 2], [6, 4, 4]],
    [[1, 1, 10], [1, 3, 2], [1, 4, 2], [1, 6, 3], [3, 1, 2], [4, 1, 2], [4, 4, 4], [4, 6, 1], [6, 1, 3], [6, 4, 1]],
    [[1, 1, 16], [1, 4, 1], [1, 6, 2], [4, 1, 1], [4, 4, 2], [6, 1, 2]],
    [[1, 1, 20], [1, 4, 1], [1, 6, 2], [4, 1, 1], [4, 4, 2], [6, 1, 2]],
  ],
  // (1, 1, 0)
  [
    [[1, 1, 6], [1, 4, 3], [1, 6, 1], [4, 1, 3], [4, 4, 2], [4, 6, 4], [6, 1, 1], [6, 4, 4]],
    [[1, 1, 10], [1, 3, 2], [1, 4, 1], [1, 6, 2], [3, 1, 2], [4, 1, 1], [4, 6, 1], [6, 1, 2], [6, 4, 1]],
    [[1, 1, 12], [1, 4, 2], [1, 6, 1], [4, 1, 2], [6, 1, 1]],
    [[1, 1, 16], [1, 4, 2], [1, 6, 1], [4, 1, 2], [6, 1, 1]],
  ],
];

/** Chapter 6, "Grey level co-occurrence matrix (2D, merged)": the 4 directions merged, per slice 1..4. */
const GLCM_2D_MERGED: readonly (readonly Entry[])[] = [
  [[1, 1, 22], [1, 4, 17], [1, 6, 6], [4, 1, 17], [4, 4, 16], [4, 6, 11], [6, 1, 6], [6, 4, 11], [6, 6, 4]],
  [[1, 1, 42], [1, 3, 5], [1, 4, 8], [1, 6, 8], [3, 1, 5], [3, 4, 1], [3, 6, 2], [4, 1, 8], [4, 3, 1], [4, 4, 4], [4, 6, 3], [6, 1, 8], [6, 3, 2], [6, 4, 3]],
  [[1, 1, 56], [1, 4, 7], [1, 6, 4], [4, 1, 7], [4, 4, 2], [6, 1, 4]],
  [[1, 1, 70], [1, 4, 7], [1, 6, 5], [4, 1, 7], [4, 4, 2], [6, 1, 5]],
];

/** Chapter 6, "Grey level co-occurrence matrix (3D)": one matrix per direction, in `DIRECTIONS_3D` order. */
const GLCM_3D: readonly (readonly Entry[])[] = [
  [[1, 1, 66], [1, 4, 5], [1, 6, 1], [3, 6, 1], [4, 1, 5], [4, 4, 16], [6, 1, 1], [6, 3, 1], [6, 6, 8]], // (0, 0, 1)
  [[1, 1, 42], [1, 3, 1], [1, 4, 9], [1, 6, 1], [3, 1, 1], [3, 6, 1], [4, 1, 9], [4, 4, 2], [4, 6, 2], [6, 1, 1], [6, 3, 1], [6, 4, 2], [6, 6, 2]], // (0, 1, −1)
  [[1, 1, 64], [1, 4, 10], [1, 6, 1], [3, 6, 2], [4, 1, 10], [4, 4, 6], [4, 6, 2], [6, 1, 1], [6, 3, 2], [6, 4, 2], [6, 6, 4]], // (0, 1, 0)
  [[1, 1, 52], [1, 4, 8], [3, 6, 2], [4, 1, 8], [4, 4, 2], [4, 6, 1], [6, 3, 2], [6, 4, 1], [6, 6, 2]], // (0, 1, 1)
  [[1, 1, 30], [1, 3, 2], [1, 4, 7], [1, 6, 5], [3, 1, 2], [4, 1, 7], [4, 6, 2], [6, 1, 5], [6, 4, 2]], // (1, −1, −1)
  [[1, 1, 32], [1, 3, 1], [1, 4, 11], [1, 6, 8], [3, 1, 1], [3, 4, 1], [4, 1, 11], [4, 3, 1], [4, 4, 4], [4, 6, 2], [6, 1, 8], [6, 4, 2]], // (1, −1, 0)
  [[1, 1, 20], [1, 3, 1], [1, 4, 10], [1, 6, 6], [3, 1, 1], [3, 4, 1], [4, 1, 10], [4, 3, 1], [4, 4, 2], [6, 1, 6]], // (1, −1, 1)
  [[1, 1, 38], [1, 3, 1], [1, 4, 7], [1, 6, 8], [3, 1, 1], [3, 4, 1], [4, 1, 7], [4, 3, 1], [4, 4, 8], [4, 6, 2], [6, 1, 8], [6, 4, 2]], // (1, 0, −1)
  [[1, 1, 50], [1, 3, 2], [1, 4, 10], [1, 6, 9], [3, 1, 2], [4, 1, 10], [4, 4, 12], [4, 6, 5], [6, 1, 9], [6, 4, 5]], // (1, 0, 0)
  [[1, 1, 34], [1, 3, 2], [1, 4, 8], [1, 6, 7], [3, 1, 2], [4, 1, 8], [4, 4, 8], [4, 6, 3], [6, 1, 7], [6, 4, 3]], // (1, 0, 1)
  [[1, 1, 32], [1, 3, 1], [1, 4, 6], [1, 6, 4], [3, 1, 1], [3, 4, 1], [4, 1, 6], [4, 3, 1], [4, 6, 3], [6, 1, 4], [6, 4, 3]], // (1, 1, −1)
  [[1, 1, 44], [1, 3, 2], [1, 4, 8], [1, 6, 5], [3, 1, 2], [4, 1, 8], [4, 4, 2], [4, 6, 5], [6, 1, 5], [6, 4, 5]], // (1, 1, 0)
  [[1, 1, 32], [1, 3, 1], [1, 4, 6], [1, 6, 6], [3, 1, 1], [3, 4, 1], [4, 1, 6], [4, 3, 1], [4, 4, 2], [4, 6, 1], [6, 1, 6], [6, 4, 1]], // (1, 1, 1)
];

/** Chapter 6, "Grey level co-occurrence matrix (3D, merged)". */
const GLCM_3D_MERGED: readonly Entry[] = [
  [1, 1, 536], [1, 3, 14], [1, 4, 105], [1, 6, 61], [3, 1, 14], [3, 4, 5], [3, 6, 6], [4, 1, 105], [4, 3, 5],
  [4, 4, 64], [4, 6, 28], [6, 1, 61], [6, 3, 6], [6, 4, 28], [6, 6, 16],
];

/**
 * The IBSI consensus values of the `cm` family for the digital phantom (ibsi1_reference_values.csv,
 * data = "dig. phantom"; IBSI reference manual 3.6): [feature, IBSI code, aggregation, value].
 * Their tolerance is 0: the values are published to three significant digits.
 */
const REFERENCE: readonly (readonly [name: string, code: string, aggregation: Aggregation, value: number])[] = [
  ['Joint maximum', 'GYBY', '2D, averaged', 0.519],
  ['Joint maximum', 'GYBY', '2D, slice-merged', 0.512],
  ['Joint maximum', 'GYBY', '2.5D, direction-merged', 0.489],
  ['Joint maximum', 'GYBY', '2.5D, merged', 0.492],
  ['Joint maximum', 'GYBY', '3D, averaged', 0.503],
  ['Joint maximum', 'GYBY', '3D, merged', 0.509],
  ['Joint average', '60VM', '2D, averaged', 2.14],
  ['Joint average', '60VM', '2D, slice-merged', 2.14],
  ['Joint average', '60VM', '2.5D, direction-merged', 2.2],
  ['Joint average', '60VM', '2.5D, merged', 2.2],
  ['Joint average', '60VM', '3D, averaged', 2.14],
  ['Joint average', '60VM', '3D, merged', 2.15],
  ['Joint variance', 'UR99', '2D, averaged', 2.69],
  ['Joint variance', 'UR99', '2D, slice-merged', 2.71],
  ['Joint variance', 'UR99', '2.5D, direction-merged', 3.22],
  ['Joint variance', 'UR99', '2.5D, merged', 3.24],
  ['Joint variance', 'UR99', '3D, averaged', 3.1],
  ['Joint variance', 'UR99', '3D, merged', 3.13],
  ['Joint entropy', 'TU9B', '2D, averaged', 2.05],
  ['Joint entropy', 'TU9B', '2D, slice-merged', 2.24],
  ['Joint entropy', 'TU9B', '2.5D, direction-merged', 2.48],
  ['Joint entropy', 'TU9B', '2.5D, merged', 2.61],
  ['Joint entropy', 'TU9B', '3D, averaged', 2.4],
  ['Joint entropy', 'TU9B', '3D, merged', 2.57],
  ['Difference average', 'TF7R', '2D, averaged', 1.42],
  ['Difference average', 'TF7R', '2D, slice-merged', 1.4],
  ['Difference average', 'TF7R', '2.5D, direction-merged', 1.46],
  ['Difference average', 'TF7R', '2.5D, merged', 1.44],
  ['Difference average', 'TF7R', '3D, averaged', 1.43],
  ['Difference average', 'TF7R', '3D, merged', 1.38],
  ['Difference variance', 'D3YU', '2D, averaged', 2.9],
  ['Difference variance', 'D3YU', '2D, slice-merged', 3.06],
  ['Difference variance', 'D3YU', '2.5D, direction-merged', 3.11],
  ['Difference variance', 'D3YU', '2.5D, merged', 3.23],
  ['Difference variance', 'D3YU', '3D, averaged', 3.06],
  ['Difference variance', 'D3YU', '3D, merged', 3.21],
  ['Difference entropy', 'NTRS', '2D, averaged', 1.4],
  ['Difference entropy', 'NTRS', '2D, slice-merged', 1.49],
  ['Difference entropy', 'NTRS', '2.5D, direction-merged', 1.61],
  ['Difference entropy', 'NTRS', '2.5D, merged', 1.67],
  ['Difference entropy', 'NTRS', '3D, averaged', 1.56],
  ['Difference entropy', 'NTRS', '3D, merged', 1.64],
  ['Sum average', 'ZGXS', '2D, averaged', 4.28],
  ['Sum average', 'ZGXS', '2D, slice-merged', 4.29],
  ['Sum average', 'ZGXS', '2.5D, direction-merged', 4.41],
  ['Sum average', 'ZGXS', '2.5D, merged', 4.41],
  ['Sum average', 'ZGXS', '3D, averaged', 4.29],
  ['Sum average', 'ZGXS', '3D, merged', 4.3],
  ['Sum variance', 'OEEB', '2D, averaged', 5.47],
  ['Sum variance', 'OEEB', '2D, slice-merged', 5.66],
  ['Sum variance', 'OEEB', '2.5D, direction-merged', 7.48],
  ['Sum variance', 'OEEB', '2.5D, merged', 7.65],
  ['Sum variance', 'OEEB', '3D, averaged', 7.07],
  ['Sum variance', 'OEEB', '3D, merged', 7.41],
  ['Sum entropy', 'P6QZ', '2D, averaged', 1.6],
  ['Sum entropy', 'P6QZ', '2D, slice-merged', 1.79],
  ['Sum entropy', 'P6QZ', '2.5D, direction-merged', 2.01],
  ['Sum entropy', 'P6QZ', '2.5D, merged', 2.14],
  ['Sum entropy', 'P6QZ', '3D, averaged', 1.92],
  ['Sum entropy', 'P6QZ', '3D, merged', 2.11],
  ['Angular second moment', '8ZQL', '2D, averaged', 0.368],
  ['Angular second moment', '8ZQL', '2D, slice-merged', 0.352],
  ['Angular second moment', '8ZQL', '2.5D, direction-merged', 0.286],
  ['Angular second moment', '8ZQL', '2.5D, merged', 0.277],
  ['Angular second moment', '8ZQL', '3D, averaged', 0.303],
  ['Angular second moment', '8ZQL', '3D, merged', 0.291],
  ['Contrast', 'ACUI', '2D, averaged', 5.28],
  ['Contrast', 'ACUI', '2D, slice-merged', 5.19],
  ['Contrast', 'ACUI', '2.5D, direction-merged', 5.39],
  ['Contrast', 'ACUI', '2.5D, merged', 5.29],
  ['Contrast', 'ACUI', '3D, averaged', 5.32],
  ['Contrast', 'ACUI', '3D, merged', 5.12],
  ['Dissimilarity', '8S9J', '2D, averaged', 1.42],
  ['Dissimilarity', '8S9J', '2D, slice-merged', 1.4],
  ['Dissimilarity', '8S9J', '2.5D, direction-merged', 1.46],
  ['Dissimilarity', '8S9J', '2.5D, merged', 1.44],
  ['Dissimilarity', '8S9J', '3D, averaged', 1.43],
  ['Dissimilarity', '8S9J', '3D, merged', 1.38],
  ['Inverse difference', 'IB1Z', '2D, averaged', 0.678],
  ['Inverse difference', 'IB1Z', '2D, slice-merged', 0.683],
  ['Inverse difference', 'IB1Z', '2.5D, direction-merged', 0.668],
  ['Inverse difference', 'IB1Z', '2.5D, merged', 0.673],
  ['Inverse difference', 'IB1Z', '3D, averaged', 0.677],
  ['Inverse difference', 'IB1Z', '3D, merged', 0.688],
  ['Normalised inverse difference', 'NDRX', '2D, averaged', 0.851],
  ['Normalised inverse difference', 'NDRX', '2D, slice-merged', 0.854],
  ['Normalised inverse difference', 'NDRX', '2.5D, direction-merged', 0.847],
  ['Normalised inverse difference', 'NDRX', '2.5D, merged', 0.85],
  ['Normalised inverse difference', 'NDRX', '3D, averaged', 0.851],
  ['Normalised inverse difference', 'NDRX', '3D, merged', 0.856],
  ['Inverse difference moment', 'WF0Z', '2D, averaged', 0.619],
  ['Inverse difference moment', 'WF0Z', '2D, slice-merged', 0.625],
  ['Inverse difference moment', 'WF0Z', '2.5D, direction-merged', 0.606],
  ['Inverse difference moment', 'WF0Z', '2.5D, merged', 0.613],
  ['Inverse difference moment', 'WF0Z', '3D, averaged', 0.618],
  ['Inverse difference moment', 'WF0Z', '3D, merged', 0.631],
  ['Normalised inverse difference moment', '1QCO', '2D, averaged', 0.899],
  ['Normalised inverse difference moment', '1QCO', '2D, slice-merged', 0.901],
  ['Normalised inverse difference moment', '1QCO', '2.5D, direction-merged', 0.897],
  ['Normalised inverse difference moment', '1QCO', '2.5D, merged', 0.899],
  ['Normalised inverse difference moment', '1QCO', '3D, averaged', 0.898],
  ['Normalised inverse difference moment', '1QCO', '3D, merged', 0.902],
  ['Inverse variance', 'E8JP', '2D, averaged', 0.0567],
  ['Inverse variance', 'E8JP', '2D, slice-merged', 0.0553],
  ['Inverse variance', 'E8JP', '2.5D, direction-merged', 0.0597],
  ['Inverse variance', 'E8JP', '2.5D, merged', 0.0582],
  ['Inverse variance', 'E8JP', '3D, averaged', 0.0604],
  ['Inverse variance', 'E8JP', '3D, merged', 0.0574],
  ['Correlation', 'NI2N', '2D, averaged', -0.0121],
  ['Correlation', 'NI2N', '2D, slice-merged', 0.0173],
  ['Correlation', 'NI2N', '2.5D, direction-merged', 0.178],
  ['Correlation', 'NI2N', '2.5D, merged', 0.182],
  ['Correlation', 'NI2N', '3D, averaged', 0.157],
  ['Correlation', 'NI2N', '3D, merged', 0.183],
  ['Autocorrelation', 'QWB0', '2D, averaged', 5.09],
  ['Autocorrelation', 'QWB0', '2D, slice-merged', 5.14],
  ['Autocorrelation', 'QWB0', '2.5D, direction-merged', 5.4],
  ['Autocorrelation', 'QWB0', '2.5D, merged', 5.45],
  ['Autocorrelation', 'QWB0', '3D, averaged', 5.06],
  ['Autocorrelation', 'QWB0', '3D, merged', 5.19],
  ['Cluster tendency', 'DG8W', '2D, averaged', 5.47],
  ['Cluster tendency', 'DG8W', '2D, slice-merged', 5.66],
  ['Cluster tendency', 'DG8W', '2.5D, direction-merged', 7.48],
  ['Cluster tendency', 'DG8W', '2.5D, merged', 7.65],
  ['Cluster tendency', 'DG8W', '3D, averaged', 7.07],
  ['Cluster tendency', 'DG8W', '3D, merged', 7.41],
  ['Cluster shade', '7NFM', '2D, averaged', 7],
  ['Cluster shade', '7NFM', '2D, slice-merged', 6.98],
  ['Cluster shade', '7NFM', '2.5D, direction-merged', 16.6],
  ['Cluster shade', '7NFM', '2.5D, merged', 16.4],
  ['Cluster shade', '7NFM', '3D, averaged', 16.6],
  ['Cluster shade', '7NFM', '3D, merged', 17.4],
  ['Cluster prominence', 'AE86', '2D, averaged', 79.1],
  ['Cluster prominence', 'AE86', '2D, slice-merged', 80.4],
  ['Cluster prominence', 'AE86', '2.5D, direction-merged', 147],
  ['Cluster prominence', 'AE86', '2.5D, merged', 142],
  ['Cluster prominence', 'AE86', '3D, averaged', 145],
  ['Cluster prominence', 'AE86', '3D, merged', 147],
  ['Information correlation 1', 'R8DG', '2D, averaged', -0.155],
  ['Information correlation 1', 'R8DG', '2D, slice-merged', -0.0341],
  ['Information correlation 1', 'R8DG', '2.5D, direction-merged', -0.124],
  ['Information correlation 1', 'R8DG', '2.5D, merged', -0.0334],
  ['Information correlation 1', 'R8DG', '3D, averaged', -0.157],
  ['Information correlation 1', 'R8DG', '3D, merged', -0.0288],
  ['Information correlation 2', 'JN9H', '2D, averaged', 0.487],
  ['Information correlation 2', 'JN9H', '2D, slice-merged', 0.263],
  ['Information correlation 2', 'JN9H', '2.5D, direction-merged', 0.487],
  ['Information correlation 2', 'JN9H', '2.5D, merged', 0.291],
  ['Information correlation 2', 'JN9H', '3D, averaged', 0.52],
  ['Information correlation 2', 'JN9H', '3D, merged', 0.269],
];

/** |value − reference| within half a unit of the reference's third significant digit. */
function publishedPrecision(reference: number): number {
  return 0.5 * 10 ** (Math.floor(Math.log10(Math.abs(reference))) - 2);
}

const key = (f: Pick<Feature, 'name' | 'code' | 'aggregation'>) => `${f.name}|${f.code}|${f.aggregation}`;

describe('texture directions', () => {
  it('has the 13 unique directions of the 26-neighbourhood and the 4 of the 8-neighbourhood in the slice plane', () => {
    const unique = (dirs: readonly Direction[]) => {
      const seen = new Set<string>();
      for (const [a, b, c] of dirs) {
        expect(Math.max(Math.abs(a), Math.abs(b), Math.abs(c))).toBe(1);
        expect(seen.has(`${-a},${-b},${-c}`)).toBe(false); // no direction together with its opposite
        seen.add(`${a},${b},${c}`);
      }
      return seen.size;
    };
    expect(unique(DIRECTIONS_3D)).toBe(13);
    expect(unique(DIRECTIONS_2D)).toBe(4);
    expect(DIRECTIONS_2D.every((d) => d[2] === 0)).toBe(true);
  });
});

describe('GLCM matrices of the digital phantom (IBSI chapter 6)', () => {
  const roi = phantomRoi();

  it('matches every 2-D matrix per direction and slice', () => {
    DIRECTIONS_2D.forEach((direction, n) => {
      for (let k = 0; k < 4; k++) expect(entries(cooccurrenceMatrix(roi, direction, k), 6), `(${direction.join(', ')}) slice ${k + 1}`).toEqual(GLCM_2D[n]![k]);
    });
  });

  it('matches the 2-D matrices merged over directions, per slice', () => {
    for (let k = 0; k < 4; k++) {
      const merged = sum(DIRECTIONS_2D.map((direction) => cooccurrenceMatrix(roi, direction, k)));
      expect(entries(merged, 6), `slice ${k + 1}`).toEqual(GLCM_2D_MERGED[k]);
    }
  });

  it('matches every 3-D matrix per direction and the merged 3-D matrix', () => {
    const matrices = DIRECTIONS_3D.map((direction) => cooccurrenceMatrix(roi, direction, null));
    matrices.forEach((m, n) => expect(entries(m, 6), `(${DIRECTIONS_3D[n]!.join(', ')})`).toEqual(GLCM_3D[n]));
    expect(entries(sum(matrices), 6)).toEqual(GLCM_3D_MERGED);
  });

  it('counts a direction and its opposite alike', () => {
    const opposite = (d: Direction): Direction => [-d[0], -d[1], -d[2]];
    for (const direction of DIRECTIONS_3D) expect(cooccurrenceMatrix(roi, opposite(direction), null)).toEqual(cooccurrenceMatrix(roi, direction, null));
  });
});

describe('GLCM features of the digital phantom (IBSI consensus values)', () => {
  const features = glcmFeatures(phantomRoi(), ALL);

  it('emits exactly the reference set of names, codes and aggregations', () => {
    expect(features.every((f) => f.family === 'cm')).toBe(true);
    expect(features.map(key).sort()).toEqual(REFERENCE.map(([name, code, aggregation]) => key({ name, code, aggregation })).sort());
  });

  it.each(REFERENCE.map((r) => ({ name: r[0], code: r[1], aggregation: r[2], value: r[3] })))('$name ($code, $aggregation) = $value', ({ name, code, aggregation, value }) => {
    const ours = features.find((f) => key(f) === key({ name, code, aggregation }));
    expect(ours).toBeDefined();
    expect(Math.abs(ours!.value - value)).toBeLessThanOrEqual(publishedPrecision(value));
  });

  it('computes only the aggregations of the dimensions asked for', () => {
    const only3d = glcmFeatures(phantomRoi(), { ...ALL, dimensions: ['3D'] });
    expect(new Set(only3d.map((f) => f.aggregation))).toEqual(new Set(['3D, averaged', '3D, merged']));
    expect(only3d).toHaveLength(GLCM_FEATURES.length * 2);
    const all3d = features.filter((f) => f.aggregation.startsWith('3D'));
    expect(only3d).toEqual(all3d);
  });
});

describe('GLCM definitions on small volumes', () => {
  const line = (levels: number[], ng: number): DiscretisedRoi => ({ dims: [levels.length, 1, 1], spacing: [1, 1, 1], levels: Int32Array.from(levels), ng });

  it('pairs voxels at the Chebyshev distance asked for, both ways round', () => {
    const roi = line([1, 2, 1, 2, 1], 2);
    expect(entries(cooccurrenceMatrix(roi, [1, 0, 0], null, 1), 2)).toEqual([[1, 2, 4], [2, 1, 4]]);
    expect(entries(cooccurrenceMatrix(roi, [1, 0, 0], null, 2), 2)).toEqual([[1, 1, 4], [2, 2, 2]]);
    expect(entries(cooccurrenceMatrix(roi, [1, 0, 0], null, 5), 2)).toEqual([]);
  });

  it('skips pairs with a voxel outside the intensity mask', () => {
    expect(entries(cooccurrenceMatrix(line([1, 1, 0, 2, 2], 2), [1, 0, 0], null), 2)).toEqual([[1, 1, 2], [2, 2, 2]]);
  });

  it('uses ng of the discretisation in the normalised inverse differences', () => {
    // One pair (1, 2), |i − j| = 1: NDRX = 1 / (1 + 1/ng), 1QCO = 1 / (1 + 1/ng²).
    for (const ng of [2, 10]) {
      const values = cooccurrenceFeatures(cooccurrenceMatrix(line([1, 2], ng), [1, 0, 0], null), ng);
      expect(values[14]).toBeCloseTo(1 / (1 + 1 / ng), 14);
      expect(values[16]).toBeCloseTo(1 / (1 + 1 / ng ** 2), 14);
    }
  });

  it('leaves correlation and information correlation 1 undefined for a single grey level', () => {
    const values = glcmFeatures(line([3, 3, 3], 4), { ...ALL, dimensions: ['3D'] });
    const value = (name: string) => values.find((f) => f.name === name && f.aggregation === '3D, merged')!.value;
    expect(value('Joint maximum')).toBe(1);
    expect(value('Joint average')).toBe(3);
    expect(value('Joint entropy')).toBe(0);
    expect(value('Correlation')).toBeNaN();
    expect(value('Information correlation 1')).toBeNaN();
    expect(value('Information correlation 2')).toBe(0);
  });

  it('gives NaN for every feature without voxel pairs, and averages only defined values', () => {
    const lone = glcmFeatures(line([0, 2, 0], 2), ALL);
    expect(lone).toHaveLength(GLCM_FEATURES.length * 6);
    expect(lone.every((f) => Number.isNaN(f.value))).toBe(true);
    // Two slices: one with a pair (1, 2), one with a single voxel. The single voxel's empty
    // matrices do not enter the 2-D averages.
    const roi: DiscretisedRoi = { dims: [2, 1, 2], spacing: [1, 1, 1], levels: Int32Array.from([1, 2, 0, 1]), ng: 2 };
    const twoD = glcmFeatures(roi, { ...ALL, dimensions: ['2D'] });
    const average = twoD.find((f) => f.name === 'Joint average' && f.aggregation === '2D, averaged')!;
    expect(average.value).toBe(1.5);
  });

  it('rejects directions, slices, distances and levels it cannot use', () => {
    const roi = phantomRoi();
    expect(() => cooccurrenceMatrix(roi, [2, 0, 0], null)).toThrow(RadiomicsInputError);
    expect(() => cooccurrenceMatrix(roi, [0, 0, 0], null)).toThrow(RadiomicsInputError);
    expect(() => cooccurrenceMatrix(roi, [0, 0, 1], 1)).toThrow(/leaves the slice plane/);
    expect(() => cooccurrenceMatrix(roi, [1, 0, 0], 4)).toThrow(/slice 4/);
    expect(() => glcmFeatures(roi, { ...ALL, distance: 0 })).toThrow(/distance/);
    expect(() => glcmFeatures({ ...roi, ng: 5 }, ALL)).toThrow(/grey level 6/);
    expect(() => glcmFeatures({ ...roi, levels: roi.levels.subarray(1) }, ALL)).toThrow(/79 levels/);
  });
});
