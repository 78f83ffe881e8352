/**
 * The synthetic burned-in text suite: real CT, MR and US pixel data from the shared corpus with
 * text drawn onto it the way devices burn it in (names, dates, IDs, accession numbers, hospital
 * names, ages), in several DejaVu fonts, 8–28 px, at intensities from the maximum down to low
 * contrast over anatomy, at corners, edges and over the anatomy, with the ground truth of every
 * word. Deterministic: a seeded generator chooses everything, so a failure reproduces.
 *
 * Ground truth. A word's glyph pixels are the pixels where the rendered text covers at least
 * GLYPH_COVERAGE of the pixel (anti-aliased fringes below that change the pixel by less than a
 * quarter of the text contrast); its box is their bounding box. A word is recalled when every
 * one of its glyph pixels lies inside at least one finding box (`wordCovered`).
 *
 * Decoding here covers native (uncompressed) pixel data only, for the tests; the library's
 * codec (src/pixels/codec) is what decodes files in production.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import { asciiValue, uint16Value, type Dataset, type DicomFile } from '../../../src/dicom/dataset.js';
import { readDicom } from '../../../src/dicom/reader.js';
import { tag, Tags } from '../../../src/dicom/tag.js';
import type { Box, Finding, Frame, Photometric, PixelFormat, Samples } from '../../../src/pixels/types.js';
import { seededRandom } from '../../support/random.js';

export const FONT_DIR = process.env.RADANON_FONT_DIR ?? '/usr/share/fonts/truetype/dejavu';
export const GLYPH_COVERAGE = 0.25;

const FONTS = [
  { family: 'SynSans', file: 'DejaVuSans.ttf' },
  { family: 'SynSansBold', file: 'DejaVuSans-Bold.ttf' },
  { family: 'SynSansMono', file: 'DejaVuSansMono.ttf' },
  { family: 'SynSerif', file: 'DejaVuSerif.ttf' },
  { family: 'SynCondensed', file: 'DejaVuSansCondensed.ttf' },
  { family: 'SynCondensedBold', file: 'DejaVuSansCondensed-Bold.ttf' },
] as const;

export type FontFamily = (typeof FONTS)[number]['family'];

let fontsRegistered = false;

/** Registers the DejaVu fonts with the canvas; throws naming the missing file (Debian: fonts-dejavu-core). */
export function registerFonts(): void {
  if (fontsRegistered) return;
  for (const f of FONTS) {
    const file = path.join(FONT_DIR, f.file);
    if (!fs.existsSync(file)) throw new Error(`${file}: font missing (install fonts-dejavu-core or set RADANON_FONT_DIR)`);
    GlobalFonts.registerFromPath(file, f.family);
  }
  fontsRegistered = true;
}

// ---------------------------------------------------------------------------------------------
// Native decoding (tests only)

const T = {
  Rows: tag(0x0028, 0x0010),
  Columns: tag(0x0028, 0x0011),
  SamplesPerPixel: tag(0x0028, 0x0002),
  Photometric: tag(0x0028, 0x0004),
  PlanarConfiguration: tag(0x0028, 0x0006),
  NumberOfFrames: tag(0x0028, 0x0008),
  BitsAllocated: tag(0x0028, 0x0100),
  BitsStored: tag(0x0028, 0x0101),
  HighBit: tag(0x0028, 0x0102),
  PixelRepresentation: tag(0x0028, 0x0103),
};

export function pixelFormatOf(ds: Dataset, littleEndian: boolean): PixelFormat {
  const u16 = (t: (typeof T)[keyof typeof T], name: string) => {
    const v = uint16Value(ds.get(t), littleEndian);
    if (v === undefined) throw new Error(`${name} missing`);
    return v;
  };
  const bitsAllocated = u16(T.BitsAllocated, 'Bits Allocated');
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) throw new Error(`Bits Allocated ${bitsAllocated} not supported`);
  const spp = u16(T.SamplesPerPixel, 'Samples per Pixel');
  if (spp !== 1 && spp !== 3) throw new Error(`Samples per Pixel ${spp} not supported`);
  return {
    rows: u16(T.Rows, 'Rows'),
    columns: u16(T.Columns, 'Columns'),
    samplesPerPixel: spp,
    bitsAllocated,
    bitsStored: u16(T.BitsStored, 'Bits Stored'),
    highBit: u16(T.HighBit, 'High Bit'),
    pixelRepresentation: u16(T.PixelRepresentation, 'Pixel Representation') === 1 ? 1 : 0,
    photometric: (asciiValue(ds.get(T.Photometric)) ?? 'MONOCHROME2') as Photometric,
  };
}

/** The frames of a file with native pixel data, colour interleaved. */
export function decodeNativeFrames(file: DicomFile): Frame[] {
  if (file.transferSyntax.encapsulated) throw new Error(`transfer syntax ${file.transferSyntax.uid} is encapsulated: decode it with the codec`);
  const ds = file.dataset;
  const little = file.transferSyntax.littleEndian;
  const format = pixelFormatOf(ds, little);
  const el = ds.get(Tags.PixelData);
  if (!el || el.kind !== 'value') throw new Error('no native Pixel Data');
  const frames = Number.parseInt(asciiValue(ds.get(T.NumberOfFrames)) ?? '1', 10) || 1;
  const planar = uint16Value(ds.get(T.PlanarConfiguration), little) === 1;
  const perFrame = format.rows * format.columns * format.samplesPerPixel;
  const bytesPer = format.bitsAllocated / 8;
  const view = new DataView(el.bytes.buffer, el.bytes.byteOffset, el.bytes.byteLength);
  const out: Frame[] = [];
  for (let f = 0; f < frames; f++) {
    const data: Samples =
      format.bitsAllocated === 8
        ? format.pixelRepresentation ? new Int8Array(perFrame) : new Uint8Array(perFrame)
        : format.bitsAllocated === 16
          ? format.pixelRepresentation ? new Int16Array(perFrame) : new Uint16Array(perFrame)
          : format.pixelRepresentation ? new Int32Array(perFrame) : new Uint32Array(perFrame);
    const base = f * perFrame * bytesPer;
    if (base + perFrame * bytesPer > el.bytes.length) throw new Error(`Pixel Data holds fewer than ${frames} frames`);
    const pixels = format.rows * format.columns;
    for (let i = 0; i < perFrame; i++) {
      // Planar colour (R plane, G plane, B plane) is interleaved as Frame requires.
      const src = planar && format.samplesPerPixel === 3 ? (i % 3) * pixels + Math.floor(i / 3) : i;
      const off = base + src * bytesPer;
      const signed = format.pixelRepresentation === 1;
      data[i] =
        bytesPer === 1 ? (signed ? view.getInt8(off) : view.getUint8(off))
        : bytesPer === 2 ? (signed ? view.getInt16(off, little) : view.getUint16(off, little))
        : signed ? view.getInt32(off, little) : view.getUint32(off, little);
    }
    out.push({ format, data });
  }
  return out;
}

/** A rectangle of a frame as a new frame. */
export function cropFrame(frame: Frame, box: Box): Frame {
  const f = frame.format;
  const spp = f.samplesPerPixel;
  const Ctor = frame.data.constructor as new (n: number) => Samples;
  const data = new Ctor(box.width * box.height * spp);
  for (let y = 0; y < box.height; y++) {
    const from = ((box.y + y) * f.columns + box.x) * spp;
    data.set(frame.data.subarray(from, from + box.width * spp), y * box.width * spp);
  }
  return { format: { ...f, rows: box.height, columns: box.width }, data };
}

// ---------------------------------------------------------------------------------------------
// The corpus frames

export interface BaseFrame {
  readonly id: string;
  readonly modality: 'CT' | 'MR' | 'US';
  readonly frame: Frame;
  /** Whether the real image already carries burned-in text (then it is no false-positive reference). */
  readonly hasOwnText: boolean;
}

function load(dicomDir: string, rel: string): DicomFile {
  return readDicom(fs.readFileSync(path.join(dicomDir, rel)));
}

/** The real frames text is drawn on, and the text-free ones the false-positive area is measured on. */
export function baseFrames(dicomDir: string): BaseFrame[] {
  const frames = (rel: string) => decodeNativeFrames(load(dicomDir, rel));
  const ct512 = frames('dicomParser/CT1_UNC.implicit_little_endian.dcm');
  const ect = frames('pydicom-data/eCT_Supplemental.dcm');
  const ctSmall = frames('pydicom/CT_small.dcm');
  const mrSiemens = frames('pydicom-data/MR-SIEMENS-DICOM-WithOverlays.dcm');
  const emri = frames('pydicom-data/emri_small.dcm');
  const mrSmall = frames('pydicom/MR_small.dcm');
  const usGrey = frames('deid-data/ultrasounds__GREYSCALE_IMAGE.dcm');
  const usRgb = frames('deid-data/ultrasounds__RGB_IMAGE.dcm');
  const out: BaseFrame[] = [
    { id: 'CT1_UNC', modality: 'CT', frame: ct512[0]!, hasOwnText: false },
    ...ect.map((frame, i) => ({ id: `eCT_Supplemental#${i}`, modality: 'CT' as const, frame, hasOwnText: false })),
    { id: 'CT_small', modality: 'CT', frame: ctSmall[0]!, hasOwnText: false },
    { id: 'MR-SIEMENS', modality: 'MR', frame: mrSiemens[0]!, hasOwnText: false },
    ...emri.map((frame, i) => ({ id: `emri_small#${i}`, modality: 'MR' as const, frame, hasOwnText: false })),
    { id: 'MR_small', modality: 'MR', frame: mrSmall[0]!, hasOwnText: false },
    { id: 'US-grey', modality: 'US', frame: usGrey[0]!, hasOwnText: true },
    { id: 'US-rgb', modality: 'US', frame: usRgb[0]!, hasOwnText: true },
    // A 640×480 ultrasound (the size of many scanners' exports), cut from the sector of the RGB one.
    { id: 'US-rgb-640x480', modality: 'US', frame: cropFrame(usRgb[0]!, { x: 192, y: 100, width: 640, height: 480 }), hasOwnText: true },
  ];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** The suite's deterministic generator, so it is the same on every machine. */
export const rng = seededRandom;

export type Intensity = 'max' | 'bright' | 'low' | 'white' | 'yellow' | 'green' | 'cyan';

export interface LineSpec {
  readonly text: string;
  readonly font: FontFamily;
  readonly size: number;
  readonly x: number;
  readonly y: number;
  readonly intensity: Intensity;
}

export interface SyntheticWord {
  readonly text: string;
  /** Bounding box of the glyph pixels. */
  readonly box: Box;
  /** Glyph pixels within `box`, row by row: 1 = glyph. */
  readonly glyph: Uint8Array;
  readonly line: LineSpec;
}

export interface SyntheticImage {
  readonly id: string;
  readonly modality: 'CT' | 'MR' | 'US';
  readonly frame: Frame;
  readonly words: readonly SyntheticWord[];
}

function measureWord(text: string, font: FontFamily, size: number): number {
  const c = createCanvas(4, 4).getContext('2d');
  c.font = `${size}px ${font}`;
  return c.measureText(text).width;
}

/** Coverage (0…1) of a word drawn at the origin of a canvas `width`×`height`. */
function rasterWord(text: string, font: FontFamily, size: number, width: number, height: number, dx: number, dy: number): Float32Array {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#fff';
  ctx.font = `${size}px ${font}`;
  ctx.textBaseline = 'top';
  ctx.fillText(text, dx, dy);
  const img = ctx.getImageData(0, 0, width, height).data;
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = img[4 * i]! / 255;
  return out;
}

function representable(format: PixelFormat): [number, number] {
  if (format.samplesPerPixel === 3) return [0, 2 ** format.bitsStored - 1];
  return format.pixelRepresentation === 1 ? [-(2 ** (format.bitsStored - 1)), 2 ** (format.bitsStored - 1) - 1] : [0, 2 ** format.bitsStored - 1];
}

function percentile(values: ArrayLike<number>, q: number): number {
  const arr = Float64Array.from(values).sort();
  return arr[Math.min(arr.length - 1, Math.round(q * (arr.length - 1)))]!;
}

const COLOURS: Record<'white' | 'yellow' | 'green' | 'cyan', [number, number, number]> = {
  white: [1, 1, 1],
  yellow: [1, 1, 0],
  green: [0, 1, 0],
  cyan: [0, 1, 1],
};

/** Draws the lines onto a copy of `base` (never modified) and returns it with the ground truth per word. */
export function renderLines(id: string, modality: 'CT' | 'MR' | 'US', base: Frame, lines: readonly LineSpec[]): SyntheticImage {
  registerFonts();
  const f = base.format;
  const spp = f.samplesPerPixel;
  const data = base.data.slice() as Samples;
  const [lo, hi] = representable(f);
  const lum = (i: number) => (spp === 1 ? data[i]! : Math.max(data[3 * i]!, data[3 * i + 1]!, data[3 * i + 2]!));
  const all = new Float64Array(f.rows * f.columns);
  for (let i = 0; i < all.length; i++) all[i] = lum(i);
  const p1 = percentile(all, 0.01);
  const p99 = percentile(all, 0.99);
  const p999 = percentile(all, 0.999);
  let fmin = Infinity;
  let fmax = -Infinity;
  for (const v of all) {
    if (v < fmin) fmin = v;
    if (v > fmax) fmax = v;
  }
  const words: SyntheticWord[] = [];
  for (const line of lines) {
    const space = measureWord(' ', line.font, line.size);
    let cursor = line.x;
    for (const text of line.text.split(' ')) {
      const w = Math.ceil(measureWord(text, line.font, line.size)) + 6;
      const h = Math.ceil(line.size * 1.5) + 4;
      const cov = rasterWord(text, line.font, line.size, w, h, 3, 2);
      const ox = Math.round(cursor) - 3;
      const oy = line.y - 2;
      let bx0 = Infinity;
      let by0 = Infinity;
      let bx1 = -Infinity;
      let by1 = -Infinity;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const fx = ox + x;
          const fy = oy + y;
          if (cov[y * w + x]! < GLYPH_COVERAGE || fx < 0 || fy < 0 || fx >= f.columns || fy >= f.rows) continue;
          bx0 = Math.min(bx0, fx);
          by0 = Math.min(by0, fy);
          bx1 = Math.max(bx1, fx);
          by1 = Math.max(by1, fy);
        }
      }
      cursor += measureWord(text, line.font, line.size) + space;
      if (bx0 === Infinity) continue;
      // The background under the word decides the low-contrast level: text 10 % of the frame's
      // range (at least 5 % of its full span, for near-black ultrasound) above the 90th
      // percentile of what it covers, the faintest a reader would still notice.
      const under: number[] = [];
      for (let y = by0; y <= by1; y++) for (let x = bx0; x <= bx1; x++) under.push(lum(y * f.columns + x));
      const bgMedian = percentile(under, 0.5);
      const bgHigh = percentile(under, 0.9);
      const delta = Math.max(0.1 * (p99 - p1), 0.05 * (fmax - fmin));
      const level = (): number[] => {
        switch (line.intensity) {
          case 'max':
            return spp === 1 ? [hi] : [hi, hi, hi];
          case 'bright':
            return spp === 1 ? [Math.max(p999, bgMedian + 0.3 * (p99 - p1))] : [p999, p999, p999];
          case 'low': {
            const v = Math.min(hi, bgHigh + delta);
            return spp === 1 ? [v] : [v, v, v];
          }
          default:
            return COLOURS[line.intensity].map((c) => c * hi);
        }
      };
      const target = level();
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const a = cov[y * w + x]!;
          const fx = ox + x;
          const fy = oy + y;
          if (a === 0 || fx < 0 || fy < 0 || fx >= f.columns || fy >= f.rows) continue;
          for (let s = 0; s < spp; s++) {
            const i = (fy * f.columns + fx) * spp + s;
            data[i] = Math.max(lo, Math.min(hi, Math.round(data[i]! * (1 - a) + target[s]! * a)));
          }
        }
      }
      const box = { x: bx0, y: by0, width: bx1 - bx0 + 1, height: by1 - by0 + 1 };
      const glyph = new Uint8Array(box.width * box.height);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const fx = ox + x;
          const fy = oy + y;
          if (cov[y * w + x]! < GLYPH_COVERAGE || fx < bx0 || fy < by0 || fx > bx1 || fy > by1) continue;
          glyph[(fy - by0) * box.width + (fx - bx0)] = 1;
        }
      }
      words.push({ text, box, glyph, line });
    }
  }
  return { id, modality, frame: { format: f, data }, words };
}

// ---------------------------------------------------------------------------------------------
// The suite

const NAMES = ['DOE^JANE', 'SMITH^JOHN', 'KOWALSKI^ANNA', 'NGUYEN^MINH', "O'BRIEN^PAT", 'Garcia, Maria', 'MEYER^STEPHANIE'];
const HOSPITALS = ['ST. MARY HOSPITAL', 'General Hospital Radiology', 'CITY MEDICAL CENTRE', 'Univ. Clinic North'];

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

function digits(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(r() * 10);
  return s;
}

/** One burned-in line, as devices print them. */
export function lineText(r: () => number): string {
  const d = () => `${2000 + Math.floor(r() * 24)}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`;
  const dmy = () => `${String(1 + Math.floor(r() * 28)).padStart(2, '0')}/${String(1 + Math.floor(r() * 12)).padStart(2, '0')}/${1940 + Math.floor(r() * 80)}`;
  switch (Math.floor(r() * 8)) {
    case 0:
      return pick(r, NAMES);
    case 1:
      return `MRN ${digits(r, 8)}`;
    case 2:
      return `${d()} ${String(Math.floor(r() * 24)).padStart(2, '0')}:${digits(r, 1)}${digits(r, 1)}`;
    case 3:
      return `DOB ${dmy()}`;
    case 4:
      return `ACC A${digits(r, 7)}`;
    case 5:
      return pick(r, HOSPITALS);
    case 6:
      return `${18 + Math.floor(r() * 70)}Y ${r() < 0.5 ? 'F' : 'M'}`;
    default:
      return `${pick(r, NAMES)} ${dmy()}`;
  }
}

const GREY_INTENSITIES: readonly Intensity[] = ['max', 'max', 'bright', 'low'];
const COLOUR_INTENSITIES: readonly Intensity[] = ['white', 'yellow', 'green', 'cyan', 'low'];

function overlaps(a: Box, b: Box, margin: number): boolean {
  return a.x < b.x + b.width + margin && b.x < a.x + a.width + margin && a.y < b.y + b.height + margin && b.y < a.y + a.height + margin;
}

/**
 * Lines for one image: corners, edges and over the anatomy, sizes fitted to the frame. On a
 * frame with its own burned-in text (`avoid` = its brightest level), no line is drawn over it:
 * the ground truth would not say which text is whose.
 */
export function planLines(r: () => number, base: Frame, count: number, avoid?: number): LineSpec[] {
  registerFonts();
  const format = base.format;
  const colour = format.samplesPerPixel === 3;
  const brightUnder = (b: Box): boolean => {
    if (avoid === undefined) return false;
    for (let y = Math.max(0, b.y - 4); y < Math.min(format.rows, b.y + b.height + 4); y++) {
      for (let x = Math.max(0, b.x - 4); x < Math.min(format.columns, b.x + b.width + 4); x++) {
        const i = y * format.columns + x;
        const v = colour ? Math.max(base.data[3 * i]!, base.data[3 * i + 1]!, base.data[3 * i + 2]!) : base.data[i]!;
        if (v >= avoid) return true;
      }
    }
    return false;
  };
  const maxSize = Math.max(8, Math.min(28, Math.floor(format.rows / 6)));
  const placed: Box[] = [];
  const lines: LineSpec[] = [];
  const spots = ['top-left', 'top-right', 'bottom-left', 'bottom-right', 'top', 'left', 'centre', 'centre'] as const;
  for (let attempt = 0; lines.length < count && attempt < 60; attempt++) {
    const size = 8 + Math.floor(r() * (maxSize - 7));
    const font = pick(r, FONTS).family;
    let text = lineText(r);
    let width = Math.ceil(measureWord(text, font, size));
    while (width > format.columns - 4 && text.includes(' ')) {
      text = text.slice(0, text.lastIndexOf(' '));
      width = Math.ceil(measureWord(text, font, size));
    }
    if (width > format.columns - 4) continue;
    const height = Math.ceil(size * 1.25);
    const spot = pick(r, spots);
    const m = 2 + Math.floor(r() * 8);
    const cx = Math.floor((format.columns - width) / 2 + (r() - 0.5) * format.columns * 0.3);
    const cy = Math.floor((format.rows - height) / 2 + (r() - 0.5) * format.rows * 0.4);
    const x = spot.endsWith('left') || spot === 'left' ? m : spot.endsWith('right') ? format.columns - width - m : cx;
    const y = spot.startsWith('top') || spot === 'top' ? m : spot.startsWith('bottom') ? format.rows - height - m : cy;
    const box = { x: Math.max(0, x), y: Math.max(0, y), width, height };
    if (box.x + width > format.columns || box.y + height > format.rows) continue;
    if (placed.some((p) => overlaps(p, box, 4)) || brightUnder(box)) continue;
    placed.push(box);
    lines.push({ text, font, size, x: box.x, y: box.y, intensity: pick(r, colour ? COLOUR_INTENSITIES : GREY_INTENSITIES) });
  }
  return lines;
}

/** 60 % of the brightest value of a frame: its own annotations are drawn at or near it. */
function ownTextLevel(frame: Frame): number {
  let max = -Infinity;
  for (const v of frame.data) if (v > max) max = v;
  return 0.6 * max;
}

/** The synthetic suite: `perFrame` images for each text-bearing base frame. */
export function syntheticSuite(dicomDir: string, options: { perFrame?: number; seed?: number } = {}): SyntheticImage[] {
  const r = rng(options.seed ?? 20261125);
  const perFrame = options.perFrame ?? 4;
  const out: SyntheticImage[] = [];
  const bases = baseFrames(dicomDir).filter((b) => !/#[1-9]/.test(b.id));
  for (const b of bases) {
    const small = Math.min(b.frame.format.rows, b.frame.format.columns) < 200;
    const avoid = b.hasOwnText ? ownTextLevel(b.frame) : undefined;
    for (let k = 0; k < (small ? Math.max(1, perFrame >> 1) : perFrame); k++) {
      const lines = planLines(r, b.frame, small ? 1 + Math.floor(r() * 2) : 3 + Math.floor(r() * 3), avoid);
      out.push(renderLines(`${b.id}/${k}`, b.modality, b.frame, lines));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scoring

function inside(x: number, y: number, b: Box): boolean {
  return x >= b.x && y >= b.y && x < b.x + b.width && y < b.y + b.height;
}

/** Every glyph pixel of the word lies in some finding box. */
export function wordCovered(word: Pick<SyntheticWord, 'box' | 'glyph'>, findings: readonly Pick<Finding, 'box'>[]): boolean {
  const candidates = findings.filter((f) => overlaps(f.box, word.box, 0));
  for (let y = 0; y < word.box.height; y++) {
    for (let x = 0; x < word.box.width; x++) {
      if (word.glyph[y * word.box.width + x] === 0) continue;
      const fx = word.box.x + x;
      const fy = word.box.y + y;
      if (!candidates.some((f) => inside(fx, fy, f.box))) return false;
    }
  }
  return true;
}

/** Pixels of a rows×columns frame inside the union of the finding boxes. */
export function findingArea(findings: readonly Pick<Finding, 'box'>[], rows: number, columns: number): number {
  const mask = new Uint8Array(rows * columns);
  for (const f of findings) {
    for (let y = Math.max(0, f.box.y); y < Math.min(rows, f.box.y + f.box.height); y++) {
      mask.fill(1, y * columns + Math.max(0, f.box.x), y * columns + Math.min(columns, f.box.x + f.box.width));
    }
  }
  let n = 0;
  for (const v of mask) n += v;
  return n;
}
