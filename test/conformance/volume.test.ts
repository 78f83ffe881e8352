/**
 * The volume readers on real data of the shared corpus: the IBSI phantoms in NIfTI, an RT
 * Structure Set, a DICOM SEG and enhanced multi-frame images (compressed ones in volume-compressed.test.ts).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VolumeFormatError, VolumeGeometryError } from '../../src/volume/errors.js';
import { loadImage, loadMask } from '../../src/volume/load.js';
import { listRtStructRois, readRtStruct } from '../../src/volume/rtstruct.js';
import { listSegments, readSegmentation } from '../../src/volume/segmentation.js';
import { seriesOf } from '../../src/volume/source.js';
import type { Grid } from '../../src/volume/volume.js';
import { sharedDataDir } from './helpers.js';

const ibsi = path.join(sharedDataDir, 'ibsi');
const corpus = path.join(sharedDataDir, 'dicom');

const count = (data: Uint8Array) => data.reduce((a, b) => a + b, 0);

describe('IBSI phantoms through loadImage / loadMask', () => {
  it('CT phantom: image and mask share one grid and the mask is not empty', async () => {
    const image = await loadImage(path.join(ibsi, 'ct_phantom/nifti/phantom.nii.gz'));
    const mask = await loadMask(path.join(ibsi, 'ct_phantom/nifti/mask.nii.gz'), image.grid);
    expect(mask.grid).toBe(image.grid);
    expect(image.data.length).toBe(image.grid.dims[0] * image.grid.dims[1] * image.grid.dims[2]);
    const inside = count(mask.data);
    expect(inside).toBeGreaterThan(0);
    // Recorded for the report: dims, spacing and how much of the image the ROI covers.
    console.info(`CT phantom: dims ${image.grid.dims.join('×')}, spacing ${image.grid.spacing.map((s) => Number(s.toFixed(6))).join(' × ')} mm, ${image.data.constructor.name}, mask ${inside} voxels`);
    // The CT phantom is a CT: intensities are HU.
    let min = Infinity;
    let max = -Infinity;
    for (const v of image.data) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBeGreaterThanOrEqual(-2048);
    expect(max).toBeLessThan(10000);
  });

  it('digital phantom: 5×4×4 voxels of 2 mm, 74 voxels in the mask, grey levels 1..6', async () => {
    const image = await loadImage(path.join(ibsi, 'digital_phantom/phantom.nii.gz'));
    const mask = await loadMask(path.join(ibsi, 'digital_phantom/mask.nii.gz'), image.grid);
    expect(image.grid.dims).toEqual([5, 4, 4]);
    expect(image.grid.spacing).toEqual([2, 2, 2]);
    expect(count(mask.data)).toBe(74);
    const levels = new Set<number>();
    mask.data.forEach((m, n) => m && levels.add(image.data[n]!));
    expect([...levels].sort()).toEqual([1, 3, 4, 6]);
  });
});

describe('pydicom rtstruct.dcm (its image series is not in the corpus)', () => {
  const file = path.join(corpus, 'pydicom/rtstruct.dcm');

  it('lists its ROIs', async () => {
    const rois = await listRtStructRois(file);
    expect(rois.map((r) => [r.number, r.label, r.contours])).toEqual([
      [1, 'patient', { CLOSED_PLANAR: 3 }],
      [2, 'Isocenter 1', { POINT: 1 }],
      [3, 'Isocenter 2', { POINT: 1 }],
    ]);
  });

  it('cannot be rasterised without its series: on another grid its contours miss the slices', async () => {
    // The contours lie at z = −200, −190, −180 mm; the digital phantom's grid spans z 0..6 mm.
    const elsewhere = (await loadImage(path.join(ibsi, 'digital_phantom/phantom.nii.gz'))).grid;
    const error = await readRtStruct(file, elsewhere, { roi: 'patient' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VolumeGeometryError);
    expect((error as Error).message).toMatch(/ROI 1: patient: contour 1 \(first point z = -200 mm.*\) does not lie on a slice: it is outside the 4 slices of .*phantom\.nii\.gz/);
    await expect(readRtStruct(file, elsewhere, { roi: 'Isocenter 1' })).rejects.toThrow(/has no CLOSED_PLANAR contour to fill \(it holds 1 POINT\)/);
  });

  it('fills the "patient" ROI on a grid that covers its contours', async () => {
    // A 1 mm axial grid over x, y ∈ [−250, 250], z ∈ {−200, −190, −180}.
    const grid: Grid = { dims: [501, 501, 3], spacing: [1, 1, 10], origin: [-250, -250, -200], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
    const mask = await readRtStruct(file, grid, { roi: 1 });
    const perSlice = [0, 1, 2].map((k) => count(mask.data.subarray(k * 501 * 501, (k + 1) * 501 * 501)));
    console.info(`rtstruct.dcm "patient" on a 1 mm grid: ${perSlice.join(', ')} voxels on z = -200, -190, -180 mm`);
    // Slice −200 is the rectangle x ∈ [−200, 200), y ∈ [−150, 150): 400 × 300 centres.
    expect(perSlice[0]).toBe(400 * 300);
    expect(perSlice[1]).toBeGreaterThan(0);
    expect(perSlice[2]).toBeGreaterThan(0);
  });
});

describe('DICOM SEG and multi-frame images of the corpus', () => {
  it('liver_1frame.dcm: lists its segment; its pixel data, cut to one frame of three, is refused', async () => {
    // The file keeps the three Per-frame Functional Groups items of the original (and no Number
    // of Frames) but only the first frame's 32768 bytes of pixel data.
    const file = path.join(corpus, 'pydicom/liver_1frame.dcm');
    const segments = await listSegments(file);
    expect(segments.map((s) => [s.number, s.label, s.frames])).toEqual([[1, 'Liver', 3]]);
    // Its frames lie at z = −128.69, −127.69, −126.69 mm on 512 × 512 pixels of 0.810547 mm.
    const grid: Grid = { dims: [512, 512, 3], spacing: [0.810547, 0.810547, 1], origin: [-235.2, -226.8, -128.69], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
    const error = await readSegmentation(file, grid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VolumeFormatError);
    expect((error as Error).message).toBe(`${file}: pixel data holds 32768 bytes, but 3 frames of 512×512 × 1 bit need 98304`);
  });

  it('emri_small.dcm: an enhanced MR stripped of its functional groups has no frame geometry', async () => {
    const file = path.join(corpus, 'pydicom-data/emri_small.dcm');
    const error = await loadImage(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VolumeFormatError);
    expect((error as Error).message).toBe(`${file}: Image Orientation (Patient) is missing or not six numbers`);
  });

  it('rtdose.dcm: an RT Dose grid placed by its Grid Frame Offset Vector', async () => {
    const volume = await loadImage(path.join(corpus, 'pydicom/rtdose.dcm'));
    console.info(`rtdose.dcm: dims ${volume.grid.dims.join('×')}, spacing ${volume.grid.spacing.map((s) => Number(s.toFixed(6))).join(' × ')} mm, origin ${volume.grid.origin.join(', ')}, ${volume.data.constructor.name}`);
    expect(volume.grid.dims[2]).toBe(15);
    expect(volume.data).toBeInstanceOf(Float32Array); // stored values × Dose Grid Scaling
  });

  it('a JPEG-compressed (lossy, JPEG Extended) enhanced CT is read as decoded, and said to be lossy', async () => {
    // volume-compressed.test.ts compares its values with dcmtk's decode.
    const file = path.join(corpus, 'dicomParser/encapsulated__multi-frame__CT0012.fragmented_no_bot_jpeg_baseline.51.dcm');
    const volume = await loadImage(file);
    expect(volume.grid.dims).toEqual([512, 512, 2]);
    expect(seriesOf(volume.grid)!.encoding).toEqual({ transferSyntaxUids: ['1.2.840.10008.1.2.4.51'], compressed: true, lossy: true });
  });
});
