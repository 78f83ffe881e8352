/**
 * GLSZM (IBSI 3.8) on the IBSI digital phantom: the matrices of the IBSI reference manual,
 * chapter 6 ("Digital phantom texture matrices"), and the reference values of the IBSI reference
 * value table (data "dig. phantom"), plus the zone linkage rules and bad input.
 */
import { describe, expect, test } from 'vitest';
import { glszmFeatures, glszmSliceMatrices, glszmVolumeMatrix } from '../../../src/radiomics/features/glszm.js';
import { countMatrixRows } from '../../../src/radiomics/features/zone-matrix.js';
import { labelZones, TextureInputError } from '../../../src/radiomics/features/zones.js';
import type { DiscretisedRoi } from '../../../src/radiomics/types.js';
import { phantomLevels as phantomRoi, ALL_TEXTURE as ALL, expectPublished } from '../support/ibsi-phantom.js';

/** The phantom's grey levels 1..6 inside its mask, used as they are (IBSI chapter 5). */

describe('GLSZM matrices of the digital phantom (IBSI manual, chapter 6)', () => {
  test('one matrix per slice, zones 8-connected in the slice: "Grey level size zone matrices extracted from the xy plane (2D)"', () => {
    // [grey level i, zone size j, number of zones], slices k = 0..3.
    const expected = [
      [[1, 3, 1], [1, 6, 1], [4, 2, 1], [4, 6, 1], [6, 3, 1]],
      [[1, 4, 1], [1, 8, 1], [3, 1, 1], [4, 2, 2], [6, 1, 2]],
      [[1, 14, 1], [4, 2, 1], [6, 1, 1]],
      [[1, 15, 1], [4, 2, 1], [6, 1, 1]],
    ];
    const slices = glszmSliceMatrices(phantomRoi());
    expect(slices.map(countMatrixRows)).toEqual(expected);
    expect(slices.map((m) => m.voxels)).toEqual([20, 19, 17, 18]);
  });

  test('the volume, zones 26-connected: "Grey level size zone matrix extracted volumetrically (3D)"', () => {
    const m = glszmVolumeMatrix(phantomRoi());
    expect(countMatrixRows(m)).toEqual([[1, 50, 1], [3, 1, 1], [4, 2, 1], [4, 14, 1], [6, 7, 1]]);
    expect(m.voxels).toBe(74);
  });
});

// IBSI reference value table, family "szm", data "dig. phantom": [feature, code, aggregation, value].
const REFERENCE: readonly [string, string, string, number][] = [
  ['Small zone emphasis', '', '2D', 0.363],
  ['Small zone emphasis', '', '2.5D', 0.368],
  ['Small zone emphasis', '', '3D', 0.255],
  ['Large zone emphasis', '48P8', '2D', 43.9],
  ['Large zone emphasis', '48P8', '2.5D', 34.2],
  ['Large zone emphasis', '48P8', '3D', 550],
  ['Low grey level zone emphasis', 'XMSY', '2D', 0.371],
  ['Low grey level zone emphasis', 'XMSY', '2.5D', 0.368],
  ['Low grey level zone emphasis', 'XMSY', '3D', 0.253],
  ['High grey level zone emphasis', '5GN9', '2D', 16.4],
  ['High grey level zone emphasis', '5GN9', '2.5D', 16.2],
  ['High grey level zone emphasis', '5GN9', '3D', 15.6],
  ['Small zone low grey level emphasis', '5RAI', '2D', 0.0259],
  ['Small zone low grey level emphasis', '5RAI', '2.5D', 0.0295],
  ['Small zone low grey level emphasis', '5RAI', '3D', 0.0256],
  ['Small zone high grey level emphasis', 'HW1V', '2D', 10.3],
  ['Small zone high grey level emphasis', 'HW1V', '2.5D', 9.87],
  ['Small zone high grey level emphasis', 'HW1V', '3D', 2.76],
  ['Large zone low grey level emphasis', 'YH51', '2D', 40.4],
  ['Large zone low grey level emphasis', 'YH51', '2.5D', 30.6],
  ['Large zone low grey level emphasis', 'YH51', '3D', 503],
  ['Large zone high grey level emphasis', 'J17V', '2D', 113],
  ['Large zone high grey level emphasis', 'J17V', '2.5D', 107],
  ['Large zone high grey level emphasis', 'J17V', '3D', 1490],
  ['Grey level non-uniformity', 'JNSA', '2D', 1.41],
  ['Grey level non-uniformity', 'JNSA', '2.5D', 5.44],
  ['Grey level non-uniformity', 'JNSA', '3D', 1.4],
  ['Normalised grey level non-uniformity', 'Y1RO', '2D', 0.323],
  ['Normalised grey level non-uniformity', 'Y1RO', '2.5D', 0.302],
  ['Normalised grey level non-uniformity', 'Y1RO', '3D', 0.28],
  ['Zone size non-uniformity', '4JP3', '2D', 1.49],
  ['Zone size non-uniformity', '4JP3', '2.5D', 3.44],
  ['Zone size non-uniformity', '4JP3', '3D', 1],
  ['Normalised zone size non-uniformity', 'VB3A', '2D', 0.333],
  ['Normalised zone size non-uniformity', 'VB3A', '2.5D', 0.191],
  ['Normalised zone size non-uniformity', 'VB3A', '3D', 0.2],
  ['Zone percentage', 'P30P', '2D', 0.24],
  ['Zone percentage', 'P30P', '2.5D', 0.243],
  ['Zone percentage', 'P30P', '3D', 0.0676],
  ['Grey level variance', 'BYLV', '2D', 3.97],
  ['Grey level variance', 'BYLV', '2.5D', 3.92],
  ['Grey level variance', 'BYLV', '3D', 2.64],
  ['Zone size variance', '3NSA', '2D', 21],
  ['Zone size variance', '3NSA', '2.5D', 17.3],
  ['Zone size variance', '3NSA', '3D', 331],
  ['Zone size entropy', 'GU8N', '2D', 1.93],
  ['Zone size entropy', 'GU8N', '2.5D', 3.08],
  ['Zone size entropy', 'GU8N', '3D', 2.32],
];

describe('GLSZM features of the digital phantom', () => {
  const rows = glszmFeatures(phantomRoi(), ALL);

  test('emits exactly the (feature, code, aggregation) rows of the reference table', () => {
    expect(rows.every((r) => r.family === 'szm')).toBe(true);
    const emitted = rows.map((r) => `${r.name}|${r.code}|${r.aggregation}`).sort();
    expect(emitted).toEqual(REFERENCE.map(([name, code, aggregation]) => `${name}|${code}|${aggregation}`).sort());
  });

  test.each(REFERENCE)('%s (%s), %s = %d', (name, code, aggregation, value) => {
    const row = rows.find((r) => r.name === name && r.code === code && r.aggregation === aggregation);
    expect(row).toBeDefined();
    expectPublished(row!.value, value, `${name} ${aggregation}`);
  });

  test('only the requested aggregations are computed', () => {
    const only3d = glszmFeatures(phantomRoi(), { ...ALL, dimensions: ['3D'] });
    expect(only3d).toHaveLength(16);
    expect(new Set(only3d.map((r) => r.aggregation))).toEqual(new Set(['3D']));
    expect(only3d.map((r) => r.value)).toEqual(rows.filter((r) => r.aggregation === '3D').map((r) => r.value));
  });
});

describe('zone linkage (IBSI 3.8)', () => {
  test('diagonal neighbours link within a slice (8-connectivity) and across slices only in 3-D (26-connectivity)', () => {
    // 3×3×2 grid: (0,0,0) and (1,1,0) are diagonal in slice 0; (2,2,1) touches (1,1,0) only by a corner across slices.
    const levels = new Int32Array(18);
    levels[0] = 2;
    levels[1 + 3 * 1] = 2;
    levels[2 + 3 * (2 + 3 * 1)] = 2;
    const inSlice = labelZones(levels, [3, 3, 2], true);
    expect(inSlice.count).toBe(2);
    expect(Array.from(inSlice.size)).toEqual([2, 1]);
    expect(Array.from(inSlice.slice)).toEqual([0, 1]);
    const volume = labelZones(levels, [3, 3, 2], false);
    expect(volume.count).toBe(1);
    expect(Array.from(volume.size)).toEqual([3]);
  });

  test('voxels of different grey levels never share a zone, and voxels outside the ROI belong to none', () => {
    const levels = Int32Array.from([1, 2, 1, 0, 1]);
    const zones = labelZones(levels, [5, 1, 1], false);
    expect(zones.count).toBe(4);
    expect(Array.from(zones.zoneOf)).toEqual([0, 1, 2, -1, 3]);
    expect(Array.from(zones.grey)).toEqual([1, 2, 1, 1]);
  });

  test('a linkage distance of 2 joins voxels one gap apart, in the interior and at the box faces', () => {
    // Level 1 at i = 0, 2, 4 and 7 along a row, level 2 at 1, 3, 5, 6: Chebyshev distance 2 links
    // 0–2–4 but not 4–7 (distance 3), and all of level 2; distance 1 links only 5–6.
    const levels = Int32Array.from([1, 2, 1, 2, 1, 2, 2, 1]);
    expect(labelZones(levels, [8, 1, 1], false, 1).count).toBe(7);
    const far = labelZones(levels, [8, 1, 1], false, 2);
    expect(Array.from(far.size).sort((a, b) => a - b)).toEqual([1, 3, 4]);
    // The same in a volume large enough to have an interior: voxels (2,2,2) and (4,4,4) of level 5.
    const dims = [7, 7, 7] as const;
    const cube = new Int32Array(343).fill(1);
    cube[2 + 7 * (2 + 7 * 2)] = 5;
    cube[4 + 7 * (4 + 7 * 4)] = 5;
    const linked = glszmFeatures({ dims, spacing: [1, 1, 1], levels: cube, ng: 5 }, { ...ALL, dimensions: ['3D'], linkageDistance: 2 });
    const separate = glszmFeatures({ dims, spacing: [1, 1, 1], levels: cube, ng: 5 }, { ...ALL, dimensions: ['3D'] });
    const zoneCount = (rows: typeof linked) => rows.find((r) => r.name === 'Zone percentage')!.value * 343;
    expect(zoneCount(linked)).toBeCloseTo(2, 9);
    expect(zoneCount(separate)).toBeCloseTo(3, 9);
  });

  test('a zone of 131 072 voxels is labelled without recursion', () => {
    const dims = [64, 64, 32] as const;
    const levels = new Int32Array(64 * 64 * 32).fill(3);
    const m = glszmVolumeMatrix({ dims, spacing: [1, 1, 1], levels, ng: 3 });
    expect(countMatrixRows(m)).toEqual([[3, 131072, 1]]);
  });
});

describe('edge cases and bad input', () => {
  test('an empty ROI gives every row, each NaN', () => {
    const rows = glszmFeatures({ dims: [3, 3, 2], spacing: [1, 1, 1], levels: new Int32Array(18), ng: 4 }, ALL);
    expect(rows).toHaveLength(48);
    expect(rows.every((r) => Number.isNaN(r.value))).toBe(true);
  });

  test('a single voxel: one zone of size 1', () => {
    const levels = new Int32Array(27);
    levels[13] = 2;
    const rows = glszmFeatures({ dims: [3, 3, 3], spacing: [1, 1, 1], levels, ng: 2 }, ALL);
    const sze = rows.filter((r) => r.name === 'Small zone emphasis').map((r) => r.value);
    expect(sze).toEqual([1, 1, 1]);
    const variance = rows.filter((r) => r.name === 'Zone size variance').map((r) => r.value);
    expect(variance).toEqual([0, 0, 0]);
  });

  test('inconsistent input throws TextureInputError', () => {
    const ok: DiscretisedRoi = { dims: [2, 2, 1], spacing: [1, 1, 1], levels: Int32Array.from([1, 2, 0, 1]), ng: 2 };
    expect(() => glszmFeatures({ ...ok, levels: new Int32Array(5) }, ALL)).toThrow(TextureInputError);
    expect(() => glszmFeatures({ ...ok, ng: 1 }, ALL)).toThrow(/grey level 2, outside 0..1/);
    expect(() => glszmFeatures({ ...ok, levels: Int32Array.from([1, -1, 0, 1]) }, ALL)).toThrow(TextureInputError);
    expect(() => glszmFeatures(ok, { ...ALL, distance: 0 })).toThrow(/distance must be a positive integer/);
    expect(() => glszmFeatures(ok, { ...ALL, dimensions: ['4D' as never] })).toThrow(/unknown texture dimension/);
  });
});
