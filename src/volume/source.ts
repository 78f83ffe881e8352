/**
 * Where a grid came from. The readers return grids that remember their file (so a mismatch can
 * name both files) and, for a DICOM series, which image lies on which slice (so a DICOM SEG
 * whose frames name their source images rather than their positions can be placed).
 *
 * These are non-enumerable properties of the grid object: a grid stays equal (toEqual, JSON) to
 * a plain grid with the same geometry, and a grid derived by spreading (`{...grid, dims}`) drops
 * them, as it should, since it no longer is the source's grid.
 */
import type { Grid } from './volume.js';

/** The images of a DICOM series, as placed on its grid. */
export interface SeriesReference {
  readonly seriesInstanceUid: string;
  /** Frame of Reference UID (0020,0052), when the images state one. */
  readonly frameOfReferenceUid: string | undefined;
  /**
   * The slice index k of every image: keyed by SOP Instance UID for single-frame images, and by
   * "SOP Instance UID#frame number" (from 1) for the frames of multi-frame images.
   */
  readonly sliceOfInstance: ReadonlyMap<string, number>;
  /** How the series' pixels were stored. */
  readonly encoding: SeriesEncoding;
}

/** How a series' pixels were stored, which a user of its values should know (radiomics above all). */
export interface SeriesEncoding {
  /** The Transfer Syntax UIDs of the series' files, each once (usually one). */
  readonly transferSyntaxUids: readonly string[];
  /** Whether any file's pixel data was compressed (encapsulated), and so decoded to be read. */
  readonly compressed: boolean;
  /**
   * Whether the pixels were lossy compressed: a lossy transfer syntax (JPEG baseline/extended,
   * JPEG-LS near-lossless, irreversible JPEG 2000 or HTJ2K), or Lossy Image Compression
   * (0028,2110) 01 in any file. The values read are the decoded ones, not those acquired:
   * radiomic features (texture above all) computed on them may differ from the original's.
   */
  readonly lossy: boolean;
}

export interface SourcedGrid extends Grid {
  /** The file or folder the grid was read from. */
  readonly source?: string;
  /** For a grid read from a DICOM series. */
  readonly series?: SeriesReference;
}

/** A copy of `grid` carrying its source (and series) as non-enumerable properties. */
export function withSource(grid: Grid, source: string, series?: SeriesReference): SourcedGrid {
  const copy: Grid = { dims: grid.dims, spacing: grid.spacing, origin: grid.origin, direction: grid.direction };
  Object.defineProperty(copy, 'source', { value: source, enumerable: false });
  if (series) Object.defineProperty(copy, 'series', { value: series, enumerable: false });
  return copy as SourcedGrid;
}

export function sourceOf(grid: Grid): string | undefined {
  return (grid as SourcedGrid).source;
}

export function seriesOf(grid: Grid): SeriesReference | undefined {
  return (grid as SourcedGrid).series;
}

/** The key of an image in SeriesReference.sliceOfInstance. */
export function instanceKey(sopInstanceUid: string, frameNumber?: number): string {
  return frameNumber === undefined ? sopInstanceUid : `${sopInstanceUid}#${frameNumber}`;
}
