/**
 * Frames as 8-bit images for OCR and previews: greyscale stretched over the frame's range (or a
 * given window) with MONOCHROME1 inverted, palette colour looked up, YBR_FULL converted to RGB
 * (PS3.3 C.7.6.3.1.2), and 16-bit colour scaled down. Modality and VOI LUTs are not applied: a
 * linear stretch keeps text (drawn at extreme values) legible, which is all OCR needs.
 */
import type { Dataset } from '../../dicom/dataset.js';
import type { Tag } from '../../dicom/tag.js';
import type { Frame } from '../types.js';
import { PixelTags } from './layout.js';

export interface DisplayImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  /** Row by row, `channels` bytes per pixel. */
  readonly data: Uint8Array;
}

/** A window on stored values: centre and width as in PS3.3 C.11.2.1.2 (linear). */
export interface DisplayWindow {
  readonly center: number;
  readonly width: number;
}

/** Why a frame cannot be shown (palette attributes missing or of a form not supported). */
export class DisplayError extends Error {}

const clamp8 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/**
 * A frame for display. `dataset` supplies the palette of PALETTE COLOR images, in the byte order
 * `littleEndian` (the file's). Without `window`, greyscale is stretched from the frame's minimum
 * to its maximum.
 */
export function displayImage(frame: Frame, dataset: Dataset, options: { readonly window?: DisplayWindow; readonly littleEndian?: boolean } = {}): DisplayImage {
  const { rows: height, columns: width, photometric } = frame.format;
  const n = width * height;
  const src = frame.data;
  if (photometric === 'MONOCHROME1' || photometric === 'MONOCHROME2') {
    let lo: number;
    let hi: number;
    if (options.window) {
      lo = options.window.center - 0.5 - (options.window.width - 1) / 2;
      hi = options.window.center - 0.5 + (options.window.width - 1) / 2;
    } else {
      lo = Infinity;
      hi = -Infinity;
      for (let i = 0; i < n; i++) {
        const v = src[i]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    const out = new Uint8Array(n);
    const invert = photometric === 'MONOCHROME1';
    for (let i = 0; i < n; i++) {
      const g = clamp8((src[i]! - lo) * scale);
      out[i] = invert ? 255 - g : g;
    }
    return { width, height, channels: 1, data: out };
  }
  if (photometric === 'PALETTE COLOR') return applyPalette(frame, dataset, options.littleEndian ?? true);
  const out = new Uint8Array(n * 3);
  const shift = Math.max(0, frame.format.bitsStored - 8);
  const div = 2 ** shift;
  if (photometric === 'RGB') {
    for (let i = 0; i < n * 3; i++) out[i] = clamp8(Math.floor(src[i]! / div));
    return { width, height, channels: 3, data: out };
  }
  // YBR_FULL (and 4:2:2 already upsampled by the codec): full-range ITU-R BT.601.
  const half = 2 ** (frame.format.bitsStored - 1);
  for (let i = 0; i < n; i++) {
    const y = src[3 * i]! / div;
    const cb = (src[3 * i + 1]! - half) / div;
    const cr = (src[3 * i + 2]! - half) / div;
    out[3 * i] = clamp8(y + 1.402 * cr);
    out[3 * i + 1] = clamp8(y - 0.344136 * cb - 0.714136 * cr);
    out[3 * i + 2] = clamp8(y + 1.772 * cb);
  }
  return { width, height, channels: 3, data: out };
}

interface Lut {
  readonly first: number;
  readonly entries: Uint16Array;
  readonly bits: number;
}

function readLut(ds: Dataset, descriptorTag: Tag, dataTag: Tag, little: boolean, name: string): Lut {
  const d = ds.get(descriptorTag);
  const data = ds.get(dataTag);
  if (!d || d.kind !== 'value' || d.bytes.length < 6) throw new DisplayError(`${name} Palette Color Lookup Table Descriptor is missing`);
  if (!data || data.kind !== 'value') {
    throw new DisplayError(ds.has(PixelTags.SegmentedRedPaletteData) ? 'segmented palettes are not supported' : `${name} Palette Color Lookup Table Data is missing`);
  }
  const dv = new DataView(d.bytes.buffer, d.bytes.byteOffset, d.bytes.byteLength);
  const count = dv.getUint16(0, little) || 65536;
  // The first mapped value is US or SS by Pixel Representation; as bits it is the same for the lookup below.
  const first = dv.getUint16(2, little);
  const bits = dv.getUint16(4, little);
  const entries = new Uint16Array(count);
  const bv = new DataView(data.bytes.buffer, data.bytes.byteOffset, data.bytes.byteLength);
  if (bits === 8 && data.bytes.length < count * 2) {
    // Some writers pack 8-bit entries one per byte.
    for (let i = 0; i < count && i < data.bytes.length; i++) entries[i] = data.bytes[i]!;
  } else {
    for (let i = 0; i < count && 2 * i + 1 < data.bytes.length; i++) entries[i] = bv.getUint16(2 * i, little);
  }
  return { first, entries, bits };
}

function applyPalette(frame: Frame, ds: Dataset, little: boolean): DisplayImage {
  const luts = [
    readLut(ds, PixelTags.RedPaletteDescriptor, PixelTags.RedPaletteData, little, 'Red'),
    readLut(ds, PixelTags.GreenPaletteDescriptor, PixelTags.GreenPaletteData, little, 'Green'),
    readLut(ds, PixelTags.BluePaletteDescriptor, PixelTags.BluePaletteData, little, 'Blue'),
  ];
  const { rows, columns } = frame.format;
  const n = rows * columns;
  const out = new Uint8Array(n * 3);
  for (let c = 0; c < 3; c++) {
    const lut = luts[c]!;
    // 16-bit entries are scaled to 8 bits by their top byte; 8-bit entries may still be stored in 16 bits.
    let max = 0;
    for (const e of lut.entries) if (e > max) max = e;
    const shift = lut.bits === 16 && max > 255 ? 8 : 0;
    const last = lut.entries.length - 1;
    for (let i = 0; i < n; i++) {
      let k = frame.data[i]! - lut.first;
      if (k < 0) k = 0;
      else if (k > last) k = last;
      out[3 * i + c] = lut.entries[k]! >> shift;
    }
  }
  return { width: columns, height: rows, channels: 3, data: out };
}
