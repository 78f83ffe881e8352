/**
 * The one entry point for images and masks given by path: it finds out what a path holds (NIfTI,
 * a DICOM series, a DICOM SEG, an RTSTRUCT) and reads it with the right reader. Masks are made to
 * sit on the image's grid: NIfTI masks must already share it, SEG and RTSTRUCT are placed on it.
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { itemsOf, numberOf, readDicomFile, textOf, VolumeTags as T } from './dicom-values.js';
import { readDicomSeries, type SeriesReadOptions } from './dicom-series.js';
import { VolumeError, VolumeFormatError, VolumeGeometryError, VolumeSelectionError } from './errors.js';
import { gridDifference, type GridTolerance, DEFAULT_GRID_TOLERANCE } from './geometry.js';
import { isNiftiPath, readNifti } from './nifti.js';
import { readRtStruct } from './rtstruct.js';
import { readSegmentation } from './segmentation.js';
import type { RegionSelection } from './selection.js';
import { sourceOf, withSource, type SourcedGrid } from './source.js';
import type { Grid, Mask, Volume } from './volume.js';

/** An image read by loadImage: its grid remembers the path (and, for DICOM, the series). */
export interface LoadedImage extends Volume {
  readonly grid: SourcedGrid;
}

type PathKind = 'folder' | 'nifti' | 'dicom' | 'unknown';

async function kindOf(p: string): Promise<PathKind> {
  let info;
  try {
    info = await stat(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VolumeError(code === 'ENOENT' ? 'no such file or folder' : `cannot be read (${code ?? (e as Error).message})`, p);
  }
  if (info.isDirectory()) return 'folder';
  if (isNiftiPath(p)) return 'nifti';
  // By content: DICM at byte 128, gzip (a compressed NIfTI), NIfTI-1/2 magic at byte 344 / 4.
  const head = Buffer.alloc(348);
  const handle = await open(p, 'r');
  let length: number;
  try {
    ({ bytesRead: length } = await handle.read(head, 0, head.length, 0));
  } finally {
    await handle.close();
  }
  if (length >= 132 && head.toString('latin1', 128, 132) === 'DICM') return 'dicom';
  if (length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'nifti';
  if (length >= 348 && (head.toString('latin1', 344, 347) === 'n+1' || head.toString('latin1', 4, 7) === 'n+2')) return 'nifti';
  // DICOM without preamble (old files): let the DICOM reader decide.
  return length >= 8 ? 'dicom' : 'unknown';
}

/**
 * Reads an image: a .nii / .nii.gz file, a folder holding one DICOM series (or several, with
 * `seriesInstanceUid`), or one DICOM file — an enhanced multi-frame image alone, or a slice of a
 * classic series, which then reads the whole series from the file's folder.
 */
export async function loadImage(p: string, options: SeriesReadOptions = {}): Promise<LoadedImage> {
  const kind = await kindOf(p);
  switch (kind) {
    case 'folder':
      return readDicomSeries(p, options);
    case 'nifti': {
      const volume = await readNifti(p);
      return { grid: withSource(volume.grid, p), data: volume.data };
    }
    case 'dicom': {
      const dicom = await readDicomFile(p);
      const ds = dicom.dataset;
      const multiFrame = (numberOf(ds, T.NumberOfFrames, dicom.transferSyntax.littleEndian) ?? 1) > 1 || itemsOf(ds, T.PerFrameFunctionalGroupsSequence).length > 0;
      const uid = textOf(ds, T.SeriesInstanceUID);
      if (multiFrame || uid === undefined) return readDicomSeries([p]);
      return readDicomSeries(path.dirname(p), { seriesInstanceUid: options.seriesInstanceUid ?? uid, recursive: false });
    }
    default:
      throw new VolumeFormatError('neither a NIfTI image (.nii, .nii.gz) nor a DICOM file or folder', p);
  }
}

export interface MaskLoadOptions {
  /** How far a NIfTI mask's grid may differ from the image's. */
  readonly tolerance?: GridTolerance;
  /** Accept a mask with no voxel inside (default: an error). */
  readonly allowEmpty?: boolean;
}

/**
 * Reads a mask on the image's grid: a NIfTI file (voxels > 0.5 are inside, or with a numeric
 * `selection` the voxels of that label; its grid must be the image's), a DICOM SEG (`selection`
 * picks the segment) or an RTSTRUCT (`selection` picks the ROI). The mask returned carries
 * `imageGrid` itself. An empty mask is an error unless `allowEmpty`.
 */
export async function loadMask(p: string, imageGrid: Grid, selection?: RegionSelection, options: MaskLoadOptions = {}): Promise<Mask> {
  const kind = await kindOf(p);
  let mask: Mask;
  switch (kind) {
    case 'nifti':
      mask = await loadNiftiMask(p, imageGrid, selection, options.tolerance ?? DEFAULT_GRID_TOLERANCE);
      break;
    case 'dicom': {
      const dicom = await readDicomFile(p);
      const modality = textOf(dicom.dataset, T.Modality);
      if (modality === 'SEG') mask = await readSegmentation(p, imageGrid, selection === undefined ? {} : { segment: selection });
      else if (modality === 'RTSTRUCT') mask = await readRtStruct(p, imageGrid, selection === undefined ? {} : { roi: selection });
      else throw new VolumeFormatError(`a DICOM ${modality ?? 'object without Modality'}, not a mask: a mask is a NIfTI file, a DICOM SEG or an RTSTRUCT`, p);
      break;
    }
    default:
      throw new VolumeFormatError('not a mask: a mask is a NIfTI file (.nii, .nii.gz), a DICOM SEG or an RTSTRUCT file', p);
  }
  if (!options.allowEmpty && !mask.data.includes(1)) {
    throw new VolumeError(`the mask is empty${selection === undefined ? '' : ` for ${JSON.stringify(selection)}`}: no voxel of ${sourceOf(imageGrid) ?? 'the image'} is inside it`, p);
  }
  return mask;
}

async function loadNiftiMask(p: string, imageGrid: Grid, selection: RegionSelection | undefined, tolerance: GridTolerance): Promise<Mask> {
  const volume = await readNifti(p);
  const difference = gridDifference(imageGrid, volume.grid, tolerance);
  if (difference) {
    throw new VolumeGeometryError(`the mask's grid is not the grid of ${sourceOf(imageGrid) ?? 'the image'} (image vs mask: ${difference})`, p);
  }
  let label: number | undefined;
  if (selection !== undefined) {
    label = typeof selection === 'number' ? selection : /^\s*-?\d+\s*$/.test(selection) ? Number(selection) : NaN;
    if (!Number.isFinite(label)) throw new VolumeSelectionError(`a NIfTI mask is selected by label value, not by name ("${selection}")`, p, []);
  }
  const values = volume.data;
  const data = new Uint8Array(values.length);
  if (label === undefined) {
    for (let n = 0; n < values.length; n++) data[n] = values[n]! > 0.5 ? 1 : 0;
  } else {
    for (let n = 0; n < values.length; n++) data[n] = Math.round(values[n]!) === label ? 1 : 0;
  }
  return { grid: imageGrid, data };
}
