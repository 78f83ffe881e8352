/**
 * Text-oriented renderings of a frame. Burned-in text is drawn by the device in one flat value
 * at or near the top of the display range (the bottom for MONOCHROME1, bright or saturated
 * colour on ultrasound and screen captures), and sometimes in a grey only a little brighter
 * than the anatomy under it. What all of these share is that strokes are thin and brighter
 * than their immediate surroundings, which a white top-hat (the frame minus its morphological
 * opening) isolates whatever the absolute level; thresholding the top-hat gives a binary
 * rendering with text black on white, the form the OCR engine reads best.
 */
import type { Frame, PixelFormat } from '../types.js';

/** A single-channel image of display brightness: higher is brighter on screen. */
export interface Plane {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** A binary image: 1 = candidate text pixel. */
export interface BinaryImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

function checkFormat(frame: Frame): void {
  const f = frame.format;
  const expected = f.rows * f.columns * f.samplesPerPixel;
  if (!Number.isInteger(f.rows) || !Number.isInteger(f.columns) || f.rows <= 0 || f.columns <= 0) {
    throw new Error(`frame: rows and columns must be positive integers (got ${f.rows}×${f.columns})`);
  }
  if (frame.data.length < expected) {
    throw new Error(`frame: ${frame.data.length} samples for ${f.rows}×${f.columns}×${f.samplesPerPixel} (${expected} needed)`);
  }
  if ((f.photometric === 'RGB' || f.photometric.startsWith('YBR')) !== (f.samplesPerPixel === 3)) {
    throw new Error(`frame: photometric ${f.photometric} with ${f.samplesPerPixel} samples per pixel`);
  }
}

/** Stored value → the value the bits stored encode (overlay bits above High Bit dropped, sign extended). */
function storedValueReader(format: PixelFormat): (v: number) => number {
  const bits = format.bitsStored;
  if (bits >= format.bitsAllocated || bits >= 32) return (v) => v;
  const mask = 2 ** bits - 1;
  if (format.pixelRepresentation === 0) return (v) => (v >>> 0) % (mask + 1);
  const half = 2 ** (bits - 1);
  return (v) => {
    const u = ((v % (mask + 1)) + (mask + 1)) % (mask + 1);
    return u >= half ? u - (mask + 1) : u;
  };
}

/**
 * Display brightness of every pixel. MONOCHROME1 is inverted so that text drawn at the minimum
 * is bright; colour becomes the largest of R, G, B (HSV value), so white and saturated colours
 * (yellow, green, cyan annotations) are all bright. PALETTE COLOR frames are read as their
 * indices: without the lookup table the detector cannot know colours (expand to RGB first for
 * best results).
 */
export function displayPlane(frame: Frame): Plane {
  checkFormat(frame);
  const { rows, columns, photometric } = frame.format;
  const n = rows * columns;
  const out = new Float32Array(n);
  const src = frame.data;
  if (frame.format.samplesPerPixel === 3) {
    if (photometric === 'RGB') {
      for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = Math.max(src[j]!, src[j + 1]!, src[j + 2]!);
    } else {
      // YBR_FULL(_422) decoded to interleaved Y,Cb,Cr: PS3.3 C.7.6.3.1.2 equations back to RGB.
      const full = frame.format.bitsStored >= 16 ? 65535 : 255;
      const mid = (full + 1) / 2;
      for (let i = 0, j = 0; i < n; i++, j += 3) {
        const y = src[j]!;
        const cb = src[j + 1]! - mid;
        const cr = src[j + 2]! - mid;
        out[i] = Math.max(y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb);
      }
    }
    return { width: columns, height: rows, data: out };
  }
  const read = storedValueReader(frame.format);
  const sign = photometric === 'MONOCHROME1' ? -1 : 1;
  for (let i = 0; i < n; i++) out[i] = sign * read(src[i]!);
  return { width: columns, height: rows, data: out };
}

/**
 * 1-D running minimum or maximum over a window of `size` samples centred on each sample, along
 * `count` samples spaced `stride` apart from `start`, by van Herk / Gil–Werman: three
 * comparisons per sample whatever the window, which keeps the top-hat within the pre-filter's
 * time budget. Edges are padded with the neutral value (no effect on min/max).
 */
function runningExtreme(src: Float32Array, dst: Float32Array, start: number, stride: number, count: number, size: number, max: boolean, g: Float32Array, h: Float32Array): void {
  const r = size >> 1;
  const neutral = max ? -Infinity : Infinity;
  const padded = count + 2 * r;
  const blocks = Math.ceil(padded / size) * size;
  const at = (k: number) => {
    const i = k - r;
    return i >= 0 && i < count ? src[start + i * stride]! : neutral;
  };
  for (let b = 0; b < blocks; b += size) {
    let acc = neutral;
    for (let k = b; k < b + size; k++) {
      const v = at(k);
      acc = max ? (v > acc ? v : acc) : v < acc ? v : acc;
      g[k] = acc;
    }
    acc = neutral;
    for (let k = b + size - 1; k >= b; k--) {
      const v = at(k);
      acc = max ? (v > acc ? v : acc) : v < acc ? v : acc;
      h[k] = acc;
    }
  }
  for (let i = 0; i < count; i++) {
    const a = h[i]!;
    const c = g[i + size - 1]!;
    dst[start + i * stride] = max ? (a > c ? a : c) : a < c ? a : c;
  }
}

function filterSeparable(plane: Plane, size: number, max: boolean): Plane {
  const { width, height } = plane;
  const tmp = new Float32Array(width * height);
  const out = new Float32Array(width * height);
  const len = Math.max(width, height) + 2 * size;
  const g = new Float32Array(len + size);
  const h = new Float32Array(len + size);
  for (let y = 0; y < height; y++) runningExtreme(plane.data, tmp, y * width, 1, width, size, max, g, h);
  for (let x = 0; x < width; x++) runningExtreme(tmp, out, x, width, height, size, max, g, h);
  return { width, height, data: out };
}

/** White top-hat: the plane minus its opening by a size×size square; strokes narrower than `size` keep their contrast. */
export function whiteTopHat(plane: Plane, size: number): Plane {
  if (!Number.isInteger(size) || size < 3 || size % 2 === 0) throw new Error(`top-hat size must be an odd integer ≥ 3 (got ${size})`);
  const opened = filterSeparable(filterSeparable(plane, size, false), size, true);
  const out = new Float32Array(plane.data.length);
  for (let i = 0; i < out.length; i++) out[i] = plane.data[i]! - opened.data[i]!;
  return { width: plane.width, height: plane.height, data: out };
}

/** The q-quantile (0…1) of a sample of the values: an estimate, exact enough for thresholds. */
export function quantile(values: Float32Array, q: number, sampleStep = 7): number {
  const n = Math.ceil(values.length / sampleStep);
  const sample = new Float32Array(n);
  for (let i = 0, j = 0; j < n; i += sampleStep, j++) sample[j] = values[i]!;
  sample.sort();
  return sample[Math.min(n - 1, Math.max(0, Math.round(q * (n - 1))))]!;
}

/** Text-oriented rendering settings, chosen by measuring recall on the synthetic suite. */
export interface RenderingSettings {
  /** Side of the square structuring element of the top-hat, odd. */
  readonly topHatSize: number;
  /**
   * Smallest contrast kept, as a fraction of the frame's display range (1st to 99.9th
   * percentile): low-contrast text over anatomy is drawn at 10 % above what lies under it.
   */
  readonly minContrast: number;
}

export const DEFAULT_RENDERING: RenderingSettings = { topHatSize: 11, minContrast: 0.05 };

/** The top-hat size for a frame: larger frames carry larger text (1760×2140 radiographs: 37 px lines). */
export function topHatSizeFor(format: Pick<PixelFormat, 'rows' | 'columns'>, settings: RenderingSettings = DEFAULT_RENDERING): number {
  const scale = Math.max(1, Math.min(format.rows, format.columns) / 768);
  const size = Math.round(settings.topHatSize * scale);
  return size % 2 === 0 ? size + 1 : size;
}

/** The binary text rendering: pixels whose top-hat contrast reaches the threshold. */
export function textCandidates(frame: Frame, settings: RenderingSettings = DEFAULT_RENDERING): BinaryImage {
  const plane = displayPlane(frame);
  const lo = quantile(plane.data, 0.01);
  const hi = quantile(plane.data, 0.999);
  let frameMax = -Infinity;
  for (const v of plane.data) if (v > frameMax) frameMax = v;
  const range = Math.max(hi - lo, (frameMax - lo) * 0.5, 1e-6);
  const tophat = whiteTopHat(plane, topHatSizeFor(frame.format, settings));
  const threshold = settings.minContrast * range;
  const out = new Uint8Array(plane.data.length);
  for (let i = 0; i < out.length; i++) out[i] = tophat.data[i]! >= threshold && tophat.data[i]! > 0 ? 1 : 0;
  return { width: plane.width, height: plane.height, data: out };
}
