/**
 * GLDZM (IBSI 3.9) on the IBSI digital phantom: the matrices of the IBSI reference manual,
 * chapter 6 ("Digital phantom texture matrices"), and the reference values of the IBSI reference
 * value table (data "dig. phantom"); the distance map against a breadth-first search, and the
 * roles of the morphological and intensity masks.
 */
import { describe, expect, test } from 'vitest';
import { edgeDistanceMap, gldzmFeatures, gldzmSliceMatrices, gldzmVolumeMatrix } from '../../../src/radiomics/features/gldzm.js';
import { countMatrixRows } from '../../../src/radiomics/features/zone-matrix.js';
import { TextureInputError } from '../../../src/radiomics/features/zones.js';
import type { DiscretisedRoi } from '../../../src/radiomics/types.js';
import type { Vec3 } from '../../../src/volume/volume.js';
import { digitalPhantom, ALL_TEXTURE as ALL, expectPublished } from '../support/ibsi-phantom.js';

/** The phantom's grey levels 1..6 inside its mask, used as they are; its morphological mask is its mask (IBSI chapter 5). */
function phantomRoi(): { d: DiscretisedRoi; morph: Uint8Array } {
  const { image, mask } = digitalPhantom();
  const levels = Int32Array.from(image.data, (x, v) => (mask.data[v] ? Math.round(x) : 0));
  return { d: { dims: image.grid.dims, spacing: image.grid.spacing, levels, ng: 6 }, morph: mask.data };
}

describe('GLDZM matrices of the digital phantom (IBSI manual, chapter 6)', () => {
  test('per slice: "Grey level distance zone matrices extracted from the xy plane (2D)"', () => {
    // [grey level i, distance j, number of zones], slices k = 0..3.
    const expected = [
      [[1, 1, 2], [4, 1, 2], [6, 1, 1]],
      [[1, 1, 2], [3, 2, 1], [4, 1, 2], [6, 1, 1], [6, 2, 1]],
      [[1, 1, 1], [4, 1, 1], [6, 1, 1]],
      [[1, 1, 1], [4, 1, 1], [6, 1, 1]],
    ];
    const { d, morph } = phantomRoi();
    expect(gldzmSliceMatrices(d, morph).map(countMatrixRows)).toEqual(expected);
  });

  test('the volume: "Grey level distance zone matrix extracted volumetrically (3D)"', () => {
    const { d, morph } = phantomRoi();
    const m = gldzmVolumeMatrix(d, morph);
    expect(countMatrixRows(m)).toEqual([[1, 1, 1], [3, 1, 1], [4, 1, 2], [6, 1, 1]]);
    expect(m.voxels).toBe(74);
  });
});

// IBSI reference value table, family "dzm", data "dig. phantom": [feature, code, aggregation, value].
const REFERENCE: readonly [string, string, string, number][] = [
  ['Small distance emphasis', '0GBI', '2D', 0.946],
  ['Small distance emphasis', '0GBI', '2.5D', 0.917],
  ['Small distance emphasis', '0GBI', '3D', 1],
  ['Large distance emphasis', 'MB4I', '2D', 1.21],
  ['Large distance emphasis', 'MB4I', '2.5D', 1.33],
  ['Large distance emphasis', 'MB4I', '3D', 1],
  ['Low grey level zone emphasis', 'S1RA', '2D', 0.371],
  ['Low grey level zone emphasis', 'S1RA', '2.5D', 0.368],
  ['Low grey level zone emphasis', 'S1RA', '3D', 0.253],
  ['High grey level zone emphasis', 'K26C', '2D', 16.4],
  ['High grey level zone emphasis', 'K26C', '2.5D', 16.2],
  ['High grey level zone emphasis', 'K26C', '3D', 15.6],
  ['Small distance low grey level emphasis', 'RUVG', '2D', 0.367],
  ['Small distance low grey level emphasis', 'RUVG', '2.5D', 0.362],
  ['Small distance low grey level emphasis', 'RUVG', '3D', 0.253],
  ['Small distance high grey level emphasis', 'DKNJ', '2D', 15.2],
  ['Small distance high grey level emphasis', 'DKNJ', '2.5D', 14.3],
  ['Small distance high grey level emphasis', 'DKNJ', '3D', 15.6],
  ['Large distance low grey level emphasis', 'A7WM', '2D', 0.386],
  ['Large distance low grey level emphasis', 'A7WM', '2.5D', 0.391],
  ['Large distance low grey level emphasis', 'A7WM', '3D', 0.253],
  ['Large distance high grey level emphasis', 'KLTH', '2D', 21.3],
  ['Large distance high grey level emphasis', 'KLTH', '2.5D', 23.7],
  ['Large distance high grey level emphasis', 'KLTH', '3D', 15.6],
  ['Grey level non-uniformity', 'VFT7', '2D', 1.41],
  ['Grey level non-uniformity', 'VFT7', '2.5D', 5.44],
  ['Grey level non-uniformity', 'VFT7', '3D', 1.4],
  ['Normalised grey level non-uniformity', '7HP3', '2D', 0.323],
  ['Normalised grey level non-uniformity', '7HP3', '2.5D', 0.302],
  ['Normalised grey level non-uniformity', '7HP3', '3D', 0.28],
  ['Zone distance non-uniformity', 'V294', '2D', 3.79],
  ['Zone distance non-uniformity', 'V294', '2.5D', 14.4],
  ['Zone distance non-uniformity', 'V294', '3D', 5],
  ['Normalised zone distance non-uniformity', 'IATH', '2D', 0.898],
  ['Normalised zone distance non-uniformity', 'IATH', '2.5D', 0.802],
  ['Normalised zone distance non-uniformity', 'IATH', '3D', 1],
  ['Zone percentage', 'VIWW', '2D', 0.24],
  ['Zone percentage', 'VIWW', '2.5D', 0.243],
  ['Zone percentage', 'VIWW', '3D', 0.0676],
  ['Grey level variance', 'QK93', '2D', 3.97],
  ['Grey level variance', 'QK93', '2.5D', 3.92],
  ['Grey level variance', 'QK93', '3D', 2.64],
  ['Zone distance variance', '7WT1', '2D', 0.051],
  ['Zone distance variance', '7WT1', '2.5D', 0.0988],
  ['Zone distance variance', '7WT1', '3D', 0],
  ['Zone distance entropy', 'GBDU', '2D', 1.73],
  ['Zone distance entropy', 'GBDU', '2.5D', 2],
  ['Zone distance entropy', 'GBDU', '3D', 1.92],
];

describe('GLDZM features of the digital phantom', () => {
  const { d, morph } = phantomRoi();
  const rows = gldzmFeatures(d, morph, ALL);

  test('emits exactly the (feature, code, aggregation) rows of the reference table', () => {
    expect(rows.every((r) => r.family === 'dzm')).toBe(true);
    const emitted = rows.map((r) => `${r.name}|${r.code}|${r.aggregation}`).sort();
    expect(emitted).toEqual(REFERENCE.map(([name, code, aggregation]) => `${name}|${code}|${aggregation}`).sort());
  });

  test.each(REFERENCE)('%s (%s), %s = %d', (name, code, aggregation, value) => {
    const row = rows.find((r) => r.name === name && r.code === code && r.aggregation === aggregation);
    expect(row).toBeDefined();
    expectPublished(row!.value, value, `${name} ${aggregation}`);
  });
});

/** Reference distance map: breadth-first search from every voxel outside the mask, the grid padded by one outside voxel. */
function bfsDistance(mask: Uint8Array, dims: Vec3, inSlice: boolean): Int32Array {
  const [nx, ny, nz] = dims;
  const dist = new Int32Array(mask.length).fill(-1);
  let frontier: number[] = [];
  const steps = inSlice ? [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]] : [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]];
  const at = (i: number, j: number, k: number) => i + nx * (j + ny * k);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const v = at(i, j, k);
        if (!mask[v]) {
          dist[v] = 0;
          continue;
        }
        // Next to outside (or to the padding beyond the grid): distance 1.
        const edge = steps.some(([a, b, c]) => {
          const [p, q, r] = [i + a!, j + b!, k + c!];
          return p < 0 || p >= nx || q < 0 || q >= ny || r < 0 || r >= nz || !mask[at(p, q, r)];
        });
        if (edge) {
          dist[v] = 1;
          frontier.push(v);
        }
      }
    }
  }
  for (let d = 2; frontier.length > 0; d++) {
    const next: number[] = [];
    for (const v of frontier) {
      const i = v % nx, j = Math.floor(v / nx) % ny, k = Math.floor(v / (nx * ny));
      for (const [a, b, c] of steps) {
        const [p, q, r] = [i + a!, j + b!, k + c!];
        if (p < 0 || p >= nx || q < 0 || q >= ny || r < 0 || r >= nz) continue;
        const w = at(p, q, r);
        if (dist[w] === -1) {
          dist[w] = d;
          next.push(w);
        }
      }
    }
    frontier = next;
  }
  return dist;
}

/** A blob: voxels within a radius of the centre, with a few holes punched in by a seeded generator. */
function blob(dims: Vec3, seed: number): Uint8Array {
  const [nx, ny, nz] = dims;
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const mask = new Uint8Array(nx * ny * nz);
  for (let k = 0, v = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, v++) {
        const r = Math.hypot((i - nx / 2) / nx, (j - ny / 2) / ny, (k - nz / 2) / nz);
        mask[v] = r < 0.45 && random() > 0.05 ? 1 : 0;
      }
    }
  }
  return mask;
}

describe('distance to the ROI edge (IBSI 3.9)', () => {
  test.each([1, 2, 3])('equals a breadth-first search, in slices (4-connected) and in the volume (6-connected), seed %d', (seed) => {
    const dims: Vec3 = [23, 19, 11];
    const mask = blob(dims, seed);
    expect(Array.from(edgeDistanceMap(mask, dims, true))).toEqual(Array.from(bfsDistance(mask, dims, true)));
    expect(Array.from(edgeDistanceMap(mask, dims, false))).toEqual(Array.from(bfsDistance(mask, dims, false)));
  });

  test('a full 5×5×5 block: 1 on the faces, 3 at the centre; voxels on the grid border are on the edge', () => {
    const mask = new Uint8Array(125).fill(1);
    const dist = edgeDistanceMap(mask, [5, 5, 5], false);
    expect(dist[0]).toBe(1);
    expect(dist[1 + 5 * (1 + 5 * 1)]).toBe(2);
    expect(dist[2 + 5 * (2 + 5 * 2)]).toBe(3);
    // In slices the third axis does not count: the centre of each slice is at distance 3.
    expect(edgeDistanceMap(mask, [5, 5, 5], true)[2 + 5 * (2 + 5 * 0)]).toBe(3);
  });

  test('distances come from the morphological mask, zones from the intensity mask', () => {
    // One 7×7 slice: the morphological mask is the whole slice, the intensity mask its central 3×3
    // (grey level 1). Measured on the morphological mask, the zone's nearest voxel is 2 steps from the edge.
    const dims: Vec3 = [7, 7, 1];
    const morph = new Uint8Array(49).fill(1);
    const levels = new Int32Array(49);
    for (let j = 2; j <= 4; j++) for (let i = 2; i <= 4; i++) levels[i + 7 * j] = 1;
    const d: DiscretisedRoi = { dims, spacing: [1, 1, 1], levels, ng: 1 };
    expect(countMatrixRows(gldzmSliceMatrices(d, morph)[0]!)).toEqual([[1, 3, 1]]);
    expect(countMatrixRows(gldzmVolumeMatrix(d, morph))).toEqual([[1, 1, 1]]); // a single slice: every voxel touches the outside in 3-D
    const rows = gldzmFeatures(d, morph, { ...ALL, dimensions: ['2D'] });
    expect(rows.find((r) => r.name === 'Large distance emphasis')!.value).toBe(9);
    // With the intensity mask as morphological mask, the zone would lie on the edge.
    const asIntensity = Uint8Array.from(levels, (g) => (g > 0 ? 1 : 0));
    expect(countMatrixRows(gldzmSliceMatrices(d, asIntensity)[0]!)).toEqual([[1, 1, 1]]);
  });
});

describe('edge cases and bad input', () => {
  test('an empty ROI gives every row, each NaN', () => {
    const rows = gldzmFeatures({ dims: [3, 3, 2], spacing: [1, 1, 1], levels: new Int32Array(18), ng: 2 }, new Uint8Array(18), ALL);
    expect(rows).toHaveLength(48);
    expect(rows.every((r) => Number.isNaN(r.value))).toBe(true);
  });

  test('a morphological mask of the wrong size, or one not covering the intensity mask, throws TextureInputError', () => {
    const d: DiscretisedRoi = { dims: [2, 2, 1], spacing: [1, 1, 1], levels: Int32Array.from([1, 2, 0, 1]), ng: 2 };
    expect(() => gldzmFeatures(d, new Uint8Array(3), ALL)).toThrow(TextureInputError);
    expect(() => gldzmFeatures(d, Uint8Array.from([1, 1, 0, 0]), ALL)).toThrow(/outside the morphological mask/);
  });
});
