/**
 * The Image Pixel module attributes (PS3.3 C.7.6.3) that say how stored pixel data is laid out,
 * read once per file, and the format its decoded frames have.
 */
import { asciiValue, type Dataset } from '../../dicom/dataset.js';
import { tag, type Tag } from '../../dicom/tag.js';
import type { Photometric, PixelFormat } from '../types.js';

export const PixelTags = {
  SamplesPerPixel: tag(0x0028, 0x0002),
  PhotometricInterpretation: tag(0x0028, 0x0004),
  PlanarConfiguration: tag(0x0028, 0x0006),
  NumberOfFrames: tag(0x0028, 0x0008),
  Rows: tag(0x0028, 0x0010),
  Columns: tag(0x0028, 0x0011),
  BitsAllocated: tag(0x0028, 0x0100),
  BitsStored: tag(0x0028, 0x0101),
  HighBit: tag(0x0028, 0x0102),
  PixelRepresentation: tag(0x0028, 0x0103),
  WindowCenter: tag(0x0028, 0x1050),
  WindowWidth: tag(0x0028, 0x1051),
  RedPaletteDescriptor: tag(0x0028, 0x1101),
  GreenPaletteDescriptor: tag(0x0028, 0x1102),
  BluePaletteDescriptor: tag(0x0028, 0x1103),
  RedPaletteData: tag(0x0028, 0x1201),
  GreenPaletteData: tag(0x0028, 0x1202),
  BluePaletteData: tag(0x0028, 0x1203),
  SegmentedRedPaletteData: tag(0x0028, 0x1221),
  LossyImageCompression: tag(0x0028, 0x2110),
  LossyImageCompressionRatio: tag(0x0028, 0x2112),
  LossyImageCompressionMethod: tag(0x0028, 0x2114),
  ExtendedOffsetTable: tag(0x7fe0, 0x0001),
  ExtendedOffsetTableLengths: tag(0x7fe0, 0x0002),
  PixelData: tag(0x7fe0, 0x0010),
} as const;

/** How pixel data is stored in the file, as its attributes say. */
export interface StoredLayout extends Omit<PixelFormat, 'photometric'> {
  /** As stated by the file (YBR_RCT, YBR_ICT and YBR_PARTIAL_420 occur in encapsulated data). */
  readonly photometric: string;
  /** 0: R1 G1 B1 R2 …, 1: all R, then all G, then all B (PS3.3 C.7.6.3.1.3). */
  readonly planarConfiguration: 0 | 1;
  readonly frames: number;
}

/** Why the attributes do not describe decodable pixel data (no value of the file in it beyond numbers). */
export class LayoutProblem extends Error {}

const PHOTOMETRICS = new Set<string>(['MONOCHROME1', 'MONOCHROME2', 'RGB', 'YBR_FULL', 'YBR_FULL_422', 'PALETTE COLOR']);

function us(ds: Dataset, t: Tag, little: boolean): number | undefined {
  const el = ds.get(t);
  if (!el || el.kind !== 'value' || el.bytes.length < 2) return undefined;
  const b = el.bytes;
  return little ? b[0]! | (b[1]! << 8) : (b[0]! << 8) | b[1]!;
}

function required(ds: Dataset, t: Tag, name: string, little: boolean): number {
  const v = us(ds, t, little);
  if (v === undefined) throw new LayoutProblem(`${name} is missing`);
  return v;
}

/** A text attribute without padding (CS, IS, DS). */
export function textAttribute(ds: Dataset, t: Tag): string | undefined {
  const v = asciiValue(ds.get(t))?.trim();
  return v === '' ? undefined : v;
}

/** Reads and checks the layout. Throws LayoutProblem naming the attribute. */
export function readStoredLayout(ds: Dataset, little: boolean): StoredLayout {
  const rows = required(ds, PixelTags.Rows, 'Rows', little);
  const columns = required(ds, PixelTags.Columns, 'Columns', little);
  if (rows < 1 || columns < 1) throw new LayoutProblem(`an empty image (${rows} rows, ${columns} columns)`);
  const samples = us(ds, PixelTags.SamplesPerPixel, little) ?? 1;
  if (samples !== 1 && samples !== 3) throw new LayoutProblem(`Samples per Pixel ${samples} is not supported (1 or 3)`);
  const bitsAllocated = required(ds, PixelTags.BitsAllocated, 'Bits Allocated', little);
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    throw new LayoutProblem(`Bits Allocated ${bitsAllocated} is not supported (8, 16 or 32; 1-bit segmentations are not images)`);
  }
  const bitsStored = us(ds, PixelTags.BitsStored, little) ?? bitsAllocated;
  const highBit = us(ds, PixelTags.HighBit, little) ?? bitsStored - 1;
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated) {
    throw new LayoutProblem(`inconsistent Bits Stored ${bitsStored} / High Bit ${highBit} for Bits Allocated ${bitsAllocated}`);
  }
  const pr = us(ds, PixelTags.PixelRepresentation, little) ?? 0;
  if (pr !== 0 && pr !== 1) throw new LayoutProblem(`Pixel Representation ${pr} is not 0 or 1`);
  const photometric = textAttribute(ds, PixelTags.PhotometricInterpretation) ?? (samples === 1 ? 'MONOCHROME2' : 'RGB');
  const planar = samples === 3 ? (us(ds, PixelTags.PlanarConfiguration, little) ?? 0) : 0;
  if (planar !== 0 && planar !== 1) throw new LayoutProblem(`Planar Configuration ${planar} is not 0 or 1`);
  const framesText = textAttribute(ds, PixelTags.NumberOfFrames);
  const frames = framesText === undefined ? 1 : Number(framesText);
  if (!Number.isInteger(frames) || frames < 1) throw new LayoutProblem(`Number of Frames is not a positive integer`);
  return {
    rows,
    columns,
    samplesPerPixel: samples,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation: pr,
    photometric,
    planarConfiguration: planar,
    frames,
  };
}

/**
 * The photometric interpretation of decoded samples: JPEG 2000's colour transforms are undone by
 * the decoder (YBR_RCT/YBR_ICT come out RGB), YBR_FULL_422 is upsampled to YBR_FULL, and a
 * lossy JPEG's YCbCr is converted to RGB by the decoder (`lossyJpegToRgb`).
 */
export function decodedPhotometric(layout: StoredLayout, options: { readonly lossyJpegToRgb: boolean }): Photometric {
  const p = layout.photometric;
  if (layout.samplesPerPixel === 1) {
    if (p === 'MONOCHROME1' || p === 'MONOCHROME2' || p === 'PALETTE COLOR') return p;
    throw new LayoutProblem(`Photometric Interpretation ${p} with one sample per pixel is not supported`);
  }
  if (p === 'YBR_RCT' || p === 'YBR_ICT') return 'RGB';
  if (options.lossyJpegToRgb && p.startsWith('YBR_')) return 'RGB';
  // Every decoder here returns full-resolution samples: native 4:2:2 is upsampled by native.ts.
  if (p === 'YBR_FULL_422') return 'YBR_FULL';
  if (PHOTOMETRICS.has(p) && p !== 'MONOCHROME1' && p !== 'MONOCHROME2' && p !== 'PALETTE COLOR') return p as Photometric;
  throw new LayoutProblem(`Photometric Interpretation ${p} with three samples per pixel is not supported`);
}

export function formatOf(layout: StoredLayout, photometric: Photometric): PixelFormat {
  return {
    rows: layout.rows,
    columns: layout.columns,
    samplesPerPixel: layout.samplesPerPixel,
    bitsAllocated: layout.bitsAllocated,
    bitsStored: layout.bitsStored,
    highBit: layout.highBit,
    pixelRepresentation: layout.pixelRepresentation,
    photometric,
  };
}

/** Samples in one decoded frame. */
export function samplesPerFrame(format: Pick<PixelFormat, 'rows' | 'columns' | 'samplesPerPixel'>): number {
  return format.rows * format.columns * format.samplesPerPixel;
}
