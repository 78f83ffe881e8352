import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Element } from '../../../src/dicom/dataset.js';
import { VolumeFormatError, VolumeGeometryError, VolumeSelectionError } from '../../../src/volume/errors.js';
import { indexToWorld } from '../../../src/volume/geometry.js';
import { fillEvenOdd, listRtStructRois, readRtStruct } from '../../../src/volume/rtstruct.js';
import { withSource } from '../../../src/volume/source.js';
import type { Grid, Mask } from '../../../src/volume/volume.js';
import { decimals, ds, seq, SOP_CLASS, str, t, temporaryFolder, writeDicom } from './builders.js';

const dir = temporaryFolder();
const FRAME_OF_REFERENCE = '1.2.826.0.1.3680043.10.999.88';

/** An oblique grid (rotated 90° in plane, anisotropic voxels), so index ↔ mm is exercised. */
const grid: Grid = { dims: [40, 30, 6], spacing: [0.5, 0.8, 2.5], origin: [25, -12, -40], direction: [0, 1, 0, -1, 0, 0, 0, 0, 1] };

type Contour = { type?: string; points: number[][] };
interface Roi {
  readonly number: number;
  readonly name: string;
  readonly contours: readonly Contour[];
}

function writeStructureSet(name: string, rois: readonly Roi[]): string {
  const dataset = ds(
    str(t.SOPClassUID, 'UI', SOP_CLASS.rtstruct),
    str(t.SOPInstanceUID, 'UI', '1.2.826.0.1.3680043.10.999.950'),
    str(t.Modality, 'CS', 'RTSTRUCT'),
    seq(t.StructureSetROISequence, rois.map((r) => [str(t.ROINumber, 'IS', String(r.number)), str(t.ReferencedFrameOfReferenceUID, 'UI', FRAME_OF_REFERENCE), str(t.ROIName, 'LO', r.name)])),
    seq(
      t.ROIContourSequence,
      rois.map((r): Element[] => [
        str(t.ReferencedROINumber, 'IS', String(r.number)),
        seq(
          t.ContourSequence,
          r.contours.map((c) => [
            str(t.ContourGeometricType, 'CS', c.type ?? 'CLOSED_PLANAR'),
            str(t.NumberOfContourPoints, 'IS', String(c.points.length)),
            decimals(t.ContourData, c.points.flat()),
          ]),
        ),
      ]),
    ),
  );
  return writeDicom(path.join(dir, name), dataset);
}

/** A contour given in continuous index coordinates (i, j) on slice k, converted to patient mm. */
function contourAt(k: number, corners: readonly (readonly [number, number])[]): Contour {
  return { points: corners.map(([i, j]) => [...indexToWorld(grid, i, j, k)]) };
}

function voxelsOf(mask: Mask): string[] {
  const [nx, ny] = mask.grid.dims;
  const out: string[] = [];
  mask.data.forEach((v, n) => {
    if (v) out.push(`${n % nx},${Math.floor(n / nx) % ny},${Math.floor(n / (nx * ny))}`);
  });
  return out;
}

const count = (mask: Mask) => mask.data.reduce((a, b) => a + b, 0);

describe('RTSTRUCT rasterisation', () => {
  it('fills exactly the voxels whose centres lie inside a square whose edges fall between centres', async () => {
    const file = writeStructureSet('square.dcm', [{ number: 7, name: 'GTV', contours: [contourAt(2, [[1.5, 1.5], [5.5, 1.5], [5.5, 4.5], [1.5, 4.5]])] }]);
    const mask = await readRtStruct(file, grid, { roi: 'GTV' });
    expect(mask.grid).toBe(grid);
    const expected: string[] = [];
    for (let j = 2; j <= 4; j++) for (let i = 2; i <= 5; i++) expected.push(`${i},${j},2`);
    expect(voxelsOf(mask)).toEqual(expected);
  });

  it('gives a circle the area πr² within 1 %', async () => {
    const radius = 6; // mm: 12 voxels across i, 7.5 across j
    const centre = indexToWorld(grid, 20.3, 14.6, 4);
    const points = Array.from({ length: 180 }, (_, n) => {
      const a = (2 * Math.PI * n) / 180;
      return [centre[0] + radius * Math.cos(a), centre[1] + radius * Math.sin(a), centre[2]];
    });
    const file = writeStructureSet('circle.dcm', [{ number: 1, name: 'circle', contours: [{ points }] }]);
    const mask = await readRtStruct(file, grid);
    const area = count(mask) * grid.spacing[0] * grid.spacing[1];
    expect(Math.abs(area - Math.PI * radius ** 2) / (Math.PI * radius ** 2)).toBeLessThan(0.01);
    expect(voxelsOf(mask).every((v) => v.endsWith(',4'))).toBe(true);
  });

  it('cuts a hole where a contour lies inside another (even-odd rule)', async () => {
    const outer = contourAt(1, [[2.5, 2.5], [12.5, 2.5], [12.5, 10.5], [2.5, 10.5]]); // 10 × 8 voxels
    const inner = contourAt(1, [[5.5, 4.5], [8.5, 4.5], [8.5, 7.5], [5.5, 7.5]]); // 3 × 3 voxels
    const file = writeStructureSet('ring.dcm', [{ number: 1, name: 'ring', contours: [outer, inner] }]);
    const mask = await readRtStruct(file, grid);
    expect(count(mask)).toBe(10 * 8 - 3 * 3);
    const voxels = new Set(voxelsOf(mask));
    expect(voxels.has('3,3,1')).toBe(true);
    expect(voxels.has('7,6,1')).toBe(false); // in the hole
  });

  it('fills each contour on its own slice', async () => {
    const square = (k: number) => contourAt(k, [[0.5, 0.5], [2.5, 0.5], [2.5, 2.5], [0.5, 2.5]]);
    const file = writeStructureSet('stack.dcm', [{ number: 1, name: 'stack', contours: [square(3), square(0), square(5)] }]);
    const mask = await readRtStruct(file, grid);
    const slices = new Set(voxelsOf(mask).map((v) => v.split(',')[2]));
    expect([...slices].sort()).toEqual(['0', '3', '5']);
    expect(count(mask)).toBe(3 * 4);
  });

  it('rejects a contour that does not lie on a slice, naming the ROI', async () => {
    const between = contourAt(2.5, [[1, 1], [4, 1], [4, 4]]); // halfway between slices 2 and 3
    const beyond = contourAt(6.2, [[1, 1], [4, 1], [4, 4]]); // past the last slice
    const a = writeStructureSet('between.dcm', [{ number: 3, name: 'PTV', contours: [contourAt(1, [[1, 1], [4, 1], [4, 4]]), between] }]);
    const error = await readRtStruct(a, grid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VolumeGeometryError);
    expect((error as Error).message).toMatch(/ROI 3: PTV: contour 2 \(first point z = -33\.75 mm, slice index 2\.50\) does not lie on a slice/);
    const b = writeStructureSet('beyond.dcm', [{ number: 3, name: 'PTV', contours: [beyond] }]);
    await expect(readRtStruct(b, grid)).rejects.toThrow(/ROI 3: PTV: contour 1 .* it is outside the 6 slices of the image/);
  });

  it('rejects a contour that is not in a slice plane', async () => {
    const tilted: Contour = { points: [[...indexToWorld(grid, 1, 1, 1)], [...indexToWorld(grid, 6, 1, 1.2)], [...indexToWorld(grid, 6, 6, 1.7)]] };
    const file = writeStructureSet('tilted.dcm', [{ number: 1, name: 'tilted', contours: [tilted] }]);
    await expect(readRtStruct(file, grid)).rejects.toThrow(/does not lie on a slice: it is 0\.\d+ slice spacings from slice 1/);
  });
});

describe('RTSTRUCT ROIs', () => {
  const rois: Roi[] = [
    { number: 1, name: 'External', contours: [contourAt(0, [[0.5, 0.5], [3.5, 0.5], [3.5, 3.5]])] },
    { number: 4, name: 'Isocenter', contours: [{ type: 'POINT', points: [[0, 0, -40]] }] },
  ];

  it('lists ROIs with their contours', async () => {
    const file = writeStructureSet('list.dcm', rois);
    expect(await listRtStructRois(file)).toEqual([
      { number: 1, label: 'External', frameOfReferenceUid: FRAME_OF_REFERENCE, contours: { CLOSED_PLANAR: 1 } },
      { number: 4, label: 'Isocenter', frameOfReferenceUid: FRAME_OF_REFERENCE, contours: { POINT: 1 } },
    ]);
  });

  it('reports a missing ROI with the list of those present', async () => {
    const file = writeStructureSet('missing.dcm', rois);
    const error = await readRtStruct(file, grid, { roi: 'GTV' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VolumeSelectionError);
    expect((error as Error).message).toBe(`${file}: no ROI named "GTV"; available: 1: External, 4: Isocenter`);
    await expect(readRtStruct(file, grid, { roi: 2 })).rejects.toThrow(/no ROI numbered 2; available: 1: External, 4: Isocenter/);
    await expect(readRtStruct(file, grid)).rejects.toThrow(/holds 2 ROIs; choose one/);
  });

  it('refuses an ROI without closed contours, and one from another frame of reference', async () => {
    const file = writeStructureSet('point.dcm', rois);
    const error = await readRtStruct(file, grid, { roi: 'Isocenter' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VolumeFormatError);
    expect((error as Error).message).toMatch(/ROI 4: Isocenter has no CLOSED_PLANAR contour to fill \(it holds 1 POINT\)/);
    const elsewhere = withSource(grid, '/data/ct', {
      seriesInstanceUid: '1.2.3',
      frameOfReferenceUid: '1.2.3.4',
      sliceOfInstance: new Map(),
      encoding: { transferSyntaxUids: ['1.2.840.10008.1.2.1'], compressed: false, lossy: false },
    });
    await expect(readRtStruct(file, elsewhere, { roi: 1 })).rejects.toThrow(/ROI 1: External is drawn in Frame of Reference 1\.2\.826\.0\.1\.3680043\.10\.999\.88, not that of \/data\/ct \(1\.2\.3\.4\)/);
  });
});

describe('even-odd filling at voxel centres', () => {
  it('counts centres on the left and top edges in, on the right and bottom edges out', () => {
    const slice = new Uint8Array(6 * 6);
    fillEvenOdd([Float64Array.of(1, 1, 4, 1, 4, 3, 1, 3)], 6, 6, slice);
    const filled: string[] = [];
    slice.forEach((v, n) => v && filled.push(`${n % 6},${Math.floor(n / 6)}`));
    expect(filled).toEqual(['1,1', '2,1', '3,1', '1,2', '2,2', '3,2']);
  });

  it('lets two squares sharing an edge claim each centre on it once', () => {
    const slice = new Uint8Array(8 * 4);
    fillEvenOdd([Float64Array.of(0, 0, 3, 0, 3, 3, 0, 3), Float64Array.of(3, 0, 6, 0, 6, 3, 3, 3)], 8, 4, slice);
    expect(slice.reduce((a, b) => a + b, 0)).toBe(18); // 6 × 3 centres, none counted twice (which would empty them)
  });
});
