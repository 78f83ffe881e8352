import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VolumeError, VolumeFormatError, VolumeGeometryError } from '../../../src/volume/errors.js';
import { indexToWorld } from '../../../src/volume/geometry.js';
import { loadImage, loadMask } from '../../../src/volume/load.js';
import { writeNifti } from '../../../src/volume/nifti.js';
import { sourceOf } from '../../../src/volume/source.js';
import type { Grid } from '../../../src/volume/volume.js';
import { binaryElement } from '../support/dicom.js';
import { ctSlice, decimals, ds, packBits, seq, SOP_CLASS, str, t, temporaryFolder, us, writeDicom } from './builders.js';

const dir = temporaryFolder();
const grid: Grid = { dims: [4, 3, 2], spacing: [1.5, 1.5, 3], origin: [-10, 5, 100], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
const imageFile = path.join(dir, 'image.nii.gz');

async function writeImage(): Promise<void> {
  await writeNifti(imageFile, { grid, data: Int16Array.from({ length: 24 }, (_, n) => n * 10) });
}

describe('loadImage and loadMask with NIfTI', () => {
  it('reads an image and a mask on the same grid; the mask is binarised above 0.5 and carries the image grid', async () => {
    await writeImage();
    const maskFile = path.join(dir, 'mask.nii');
    const values = Float32Array.from({ length: 24 }, (_, n) => [0, 0.5, 0.51, 1, 2][n % 5]!);
    await writeNifti(maskFile, { grid, data: values });
    const image = await loadImage(imageFile);
    expect(sourceOf(image.grid)).toBe(imageFile);
    expect(image.data[23]).toBe(230);
    const mask = await loadMask(maskFile, image.grid);
    expect(mask.grid).toBe(image.grid);
    expect(Array.from(mask.data)).toEqual(Array.from(values, (v) => (v > 0.5 ? 1 : 0)));
  });

  it('selects one label of a label map by its value', async () => {
    await writeImage();
    const labels = path.join(dir, 'labels.nii.gz');
    await writeNifti(labels, { grid, data: Uint8Array.from({ length: 24 }, (_, n) => n % 3) });
    const image = await loadImage(imageFile);
    const two = await loadMask(labels, image.grid, '2');
    expect(Array.from(two.data)).toEqual(Array.from({ length: 24 }, (_, n) => (n % 3 === 2 ? 1 : 0)));
    await expect(loadMask(labels, image.grid, 'liver')).rejects.toThrow(/selected by label value, not by name/);
  });

  it('rejects a mask on another grid, naming both files and the difference', async () => {
    await writeImage();
    const shifted = path.join(dir, 'shifted.nii.gz');
    await writeNifti(shifted, { grid: { ...grid, origin: [-10, 5, 103], spacing: [1.5, 1.5, 2] }, data: new Uint8Array(24).fill(1) });
    const image = await loadImage(imageFile);
    const error = await loadMask(shifted, image.grid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VolumeGeometryError);
    expect((error as Error).message).toBe(
      `${shifted}: the mask's grid is not the grid of ${imageFile} (image vs mask: spacing [1.5, 1.5, 3] vs [1.5, 1.5, 2] mm; origin [-10, 5, 100] vs [-10, 5, 103] mm (3 mm apart))`,
    );
    const smaller = path.join(dir, 'smaller.nii');
    await writeNifti(smaller, { grid: { ...grid, dims: [4, 3, 1] }, data: new Uint8Array(12).fill(1) });
    await expect(loadMask(smaller, image.grid)).rejects.toThrow(/dimensions \[4, 3, 2\] vs \[4, 3, 1\]/);
  });

  it('accepts differences within float32 precision', async () => {
    const exact: Grid = { ...grid, origin: [-10.123456789, 5.987654321, 100.000001] };
    const file = path.join(dir, 'precise.nii');
    await writeNifti(file, { grid: exact, data: new Uint8Array(24).fill(1) });
    const mask = await loadMask(file, exact);
    expect(mask.data.every((v) => v === 1)).toBe(true);
  });

  it('rejects an empty mask unless allowed', async () => {
    await writeImage();
    const empty = path.join(dir, 'empty.nii');
    await writeNifti(empty, { grid, data: new Uint8Array(24) });
    const image = await loadImage(imageFile);
    await expect(loadMask(empty, image.grid)).rejects.toThrow(new RegExp(`empty.nii: the mask is empty: no voxel of .*image.nii.gz is inside it`));
    expect((await loadMask(empty, image.grid, undefined, { allowEmpty: true })).data.length).toBe(24);
  });
});

describe('loadImage and loadMask with DICOM', () => {
  const folder = path.join(dir, 'series');
  const FRAME_OF_REFERENCE = '1.2.826.0.1.3680043.10.999.66';

  function writeSeries(): void {
    mkdirSync(folder, { recursive: true });
    for (const k of [1, 0]) {
      writeDicom(
        path.join(folder, `${k}.dcm`),
        ctSlice({
          sopInstanceUid: `1.2.826.0.1.3680043.10.999.60.${k}`,
          seriesInstanceUid: '1.2.826.0.1.3680043.10.999.60',
          frameOfReferenceUid: FRAME_OF_REFERENCE,
          position: [...indexToWorld(grid, 0, 0, k)],
          pixelSpacing: [1.5, 1.5],
          rows: 3,
          columns: 4,
          stored: Array.from({ length: 12 }, (_, p) => p + 12 * k),
        }),
      );
    }
  }

  it('reads a folder as a series, then a SEG and an RTSTRUCT chosen by their Modality', async () => {
    writeSeries();
    const image = await loadImage(folder);
    expect(image.grid).toEqual(grid);
    expect(Array.from(image.data)).toEqual(Array.from({ length: 24 }, (_, n) => n));

    const segFile = writeDicom(
      path.join(dir, 'seg.dcm'),
      ds(
        str(t.SOPClassUID, 'UI', SOP_CLASS.seg),
        str(t.SOPInstanceUID, 'UI', '1.2.826.0.1.3680043.10.999.61'),
        str(t.Modality, 'CS', 'SEG'),
        str(t.FrameOfReferenceUID, 'UI', FRAME_OF_REFERENCE),
        str(t.NumberOfFrames, 'IS', '1'),
        us(t.Rows, 3),
        us(t.Columns, 4),
        us(t.BitsAllocated, 1),
        str(t.SegmentationType, 'CS', 'BINARY'),
        seq(t.SegmentSequence, [[us(t.SegmentNumber, 1), str(t.SegmentLabel, 'LO', 'Lesion')]]),
        seq(t.PerFrameFunctionalGroupsSequence, [[
          seq(t.SegmentIdentificationSequence, [[us(t.ReferencedSegmentNumber, 1)]]),
          seq(t.DerivationImageSequence, [[seq(t.SourceImageSequence, [[str(t.ReferencedSOPInstanceUID, 'UI', '1.2.826.0.1.3680043.10.999.60.1')]])]]),
        ]]),
        binaryElement(t.PixelData, 'OB', packBits([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])),
      ),
    );
    const seg = await loadMask(segFile, image.grid, 'Lesion');
    expect(Array.from(seg.data)).toEqual([...new Array<number>(12).fill(0), 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

    const corner = (i: number, j: number) => [...indexToWorld(grid, i, j, 0)];
    const rtFile = writeDicom(
      path.join(dir, 'rtstruct.dcm'),
      ds(
        str(t.SOPClassUID, 'UI', SOP_CLASS.rtstruct),
        str(t.SOPInstanceUID, 'UI', '1.2.826.0.1.3680043.10.999.62'),
        str(t.Modality, 'CS', 'RTSTRUCT'),
        seq(t.StructureSetROISequence, [[str(t.ROINumber, 'IS', '5'), str(t.ROIName, 'LO', 'GTV')]]),
        seq(t.ROIContourSequence, [[
          str(t.ReferencedROINumber, 'IS', '5'),
          seq(t.ContourSequence, [[str(t.ContourGeometricType, 'CS', 'CLOSED_PLANAR'), decimals(t.ContourData, [...corner(0.5, -0.5), ...corner(2.5, -0.5), ...corner(2.5, 1.5), ...corner(0.5, 1.5)])]]),
        ]]),
      ),
    );
    const rt = await loadMask(rtFile, image.grid);
    expect(Array.from(rt.data.subarray(0, 12))).toEqual([0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
  });

  it('refuses a DICOM object that is not a mask, and a path that is neither format', async () => {
    writeSeries();
    const image = await loadImage(folder);
    await expect(loadMask(path.join(folder, '0.dcm'), image.grid)).rejects.toThrow(/a DICOM CT, not a mask/);
    const text = path.join(dir, 'notes.txt');
    writeFileSync(text, 'hi');
    await expect(loadImage(text)).rejects.toThrow(VolumeFormatError);
    await expect(loadImage(path.join(dir, 'absent.nii'))).rejects.toThrow(new VolumeError('no such file or folder', path.join(dir, 'absent.nii')).message);
  });
});
