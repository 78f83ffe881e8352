/**
 * Text-oriented renderings of a frame. Burned-in text is drawn by the device in one flat value
 * at or near the top of the display range (the bottom for MONOCHROME1, bright or saturated
 * colour on ultrasound and screen captures), and sometimes in a grey only a little brighter
 * than the anatomy under it. What all of these share is that strokes are thin and brighter
 * than their immediate surroundings, which a white top-hat (the frame minus its morphological
 * opening) isolates whatever the absolute level; thresholding the top-hat gives a binary
 * rendering with text black on white, the form the OCR engine reads best.
 */
import type { Box, Frame, PixelFormat } from '../types.js';

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
  // Bits Stored below 32: the low bits as an unsigned number, or shifted up and back to extend the sign.
  if (format.pixelRepresentation === 0) {
    const mask = 2 ** bits - 1;
    return (v) => v & mask;
  }
  const shift = 32 - bits;
  return (v) => (v << shift) >> shift;
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
  const colours = displayColours(frame);
  if (colours) return brightestChannel(colours, columns, rows);
  const n = rows * columns;
  const out = new Float32Array(n);
  const src = frame.data;
  const read = storedValueReader(frame.format);
  const sign = photometric === 'MONOCHROME1' ? -1 : 1;
  for (let i = 0; i < n; i++) out[i] = sign * read(src[i]!);
  return { width: columns, height: rows, data: out };
}

/**
 * Display red, green and blue of every pixel of a colour frame (three values a pixel, in the
 * frame's sample units), or undefined for a grey or palette frame. The display plane keeps only
 * their largest, under which a saturated colour-flow gradient (orange to yellow: red at the
 * maximum throughout) looks like one printed value; the pre-filter compares the colours too.
 */
export function displayColours(frame: Frame): Float32Array | undefined {
  checkFormat(frame);
  if (frame.format.samplesPerPixel !== 3) return undefined;
  const n = frame.format.rows * frame.format.columns;
  const src = frame.data;
  const out = new Float32Array(3 * n);
  if (frame.format.photometric === 'RGB') {
    for (let j = 0; j < 3 * n; j++) out[j] = src[j]!;
    return out;
  }
  // YBR_FULL(_422) decoded to interleaved Y,Cb,Cr: PS3.3 C.7.6.3.1.2 equations back to RGB.
  const full = frame.format.bitsStored >= 16 ? 65535 : 255;
  const mid = (full + 1) / 2;
  for (let j = 0; j < 3 * n; j += 3) {
    const y = src[j]!;
    const cb = src[j + 1]! - mid;
    const cr = src[j + 2]! - mid;
    out[j] = y + 1.402 * cr;
    out[j + 1] = y - 0.344136 * cb - 0.714136 * cr;
    out[j + 2] = y + 1.772 * cb;
  }
  return out;
}

/** The largest of red, green and blue of every pixel (HSV value). */
function brightestChannel(colours: Float32Array, width: number, height: number): Plane {
  const out = new Float32Array(width * height);
  for (let i = 0, j = 0; i < out.length; i++, j += 3) out[i] = Math.max(colours[j]!, colours[j + 1]!, colours[j + 2]!);
  return { width, height, data: out };
}

/**
 * 1-D running minimum (or maximum) over a centred window of `size` samples, by van Herk /
 * Gil–Werman: three comparisons per sample whatever the window, which keeps the top-hat within
 * the pre-filter's time budget. `line` holds the samples padded by size/2 neutral values on
 * each side and rounded up to whole blocks; `g` and `h` are scratch of the same length.
 */
function runningMin(line: Float32Array, padded: number, size: number, g: Float32Array, h: Float32Array, out: Float32Array, count: number): void {
  for (let b = 0; b < padded; b += size) {
    let acc = Infinity;
    for (let k = b; k < b + size; k++) {
      const v = line[k]!;
      if (v < acc) acc = v;
      g[k] = acc;
    }
    acc = Infinity;
    for (let k = b + size - 1; k >= b; k--) {
      const v = line[k]!;
      if (v < acc) acc = v;
      h[k] = acc;
    }
  }
  for (let i = 0; i < count; i++) {
    const a = h[i]!;
    const c = g[i + size - 1]!;
    out[i] = a < c ? a : c;
  }
}

/** Separable min filter (max through negation: max(x) = −min(−x)) of a plane, edges neutral. */
function filterSeparable(plane: Plane, size: number, max: boolean): Plane {
  const { width, height } = plane;
  const r = size >> 1;
  const longest = Math.max(width, height);
  const padded = Math.ceil((longest + 2 * r) / size) * size;
  const line = new Float32Array(padded + size);
  const g = new Float32Array(padded + size);
  const h = new Float32Array(padded + size);
  const res = new Float32Array(longest);
  const sign = max ? -1 : 1;
  const tmp = new Float32Array(width * height);
  const out = new Float32Array(width * height);
  const pass = (src: Float32Array, dst: Float32Array, count: number, lines: number, stride: number, step: number) => {
    const blocks = Math.ceil((count + 2 * r) / size) * size;
    for (let l = 0; l < lines; l++) {
      line.fill(Infinity);
      const start = l * step;
      for (let i = 0; i < count; i++) line[i + r] = sign * src[start + i * stride]!;
      runningMin(line, blocks, size, g, h, res, count);
      for (let i = 0; i < count; i++) dst[start + i * stride] = sign * res[i]!;
    }
  };
  pass(plane.data, tmp, width, height, 1, width);
  pass(tmp, out, height, width, width, 1);
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

/** q-quantiles (0…1) of a sample of the values: estimates, exact enough for thresholds. */
export function quantiles(values: Float32Array, qs: readonly number[], sampleStep = 7): number[] {
  const n = Math.ceil(values.length / sampleStep);
  const sample = new Float32Array(n);
  let lo = Infinity;
  let hi = -Infinity;
  let integral = true;
  for (let i = 0, j = 0; j < n; i += sampleStep, j++) {
    const v = values[i]!;
    sample[j] = v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (integral && v !== Math.floor(v)) integral = false;
  }
  const ranks = qs.map((q) => Math.min(n - 1, Math.max(0, Math.round(q * (n - 1)))));
  // Whole-number samples over a modest range (every 8–16-bit grey frame, colour as its maximum)
  // are ranked by counting, the same answer as sorting at a fraction of its cost on large frames.
  if (integral && hi - lo < 1 << 20) {
    const counts = new Int32Array(hi - lo + 1);
    for (let j = 0; j < n; j++) counts[sample[j]! - lo]!++;
    return ranks.map((rank) => {
      let seen = 0;
      for (let v = 0; v < counts.length; v++) {
        seen += counts[v]!;
        if (seen > rank) return v + lo;
      }
      return hi;
    });
  }
  sample.sort();
  return ranks.map((rank) => sample[rank]!);
}

/**
 * Top-hat along rows only: the plane minus its opening by a 1×size segment. It keeps every
 * stroke narrower than `size` across (the vertical strokes of letters, which sit on the
 * baseline) at a fraction of the 2-D cost, since rows are contiguous in memory; the pre-filter
 * runs it on every frame.
 */
export function rowTopHat(plane: Plane, size: number): Plane {
  if (!Number.isInteger(size) || size < 3 || size % 2 === 0) throw new Error(`top-hat size must be an odd integer ≥ 3 (got ${size})`);
  const { width, height, data } = plane;
  const r = size >> 1;
  const blocks = Math.ceil((width + 2 * r) / size) * size;
  const line = new Float32Array(blocks + size);
  const g = new Float32Array(blocks + size);
  const h = new Float32Array(blocks + size);
  const eroded = new Float32Array(width);
  const opened = new Float32Array(width);
  const out = new Float32Array(width * height);
  // Only the padding is neutral; the samples overwrite the rest on every row.
  line.fill(Infinity);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    line.set(data.subarray(row, row + width), r);
    runningMin(line, blocks, size, g, h, eroded, width);
    for (let x = 0; x < width; x++) line[x + r] = -eroded[x]!;
    runningMin(line, blocks, size, g, h, opened, width);
    for (let x = 0; x < width; x++) out[row + x] = data[row + x]! + opened[x]!;
  }
  return { width, height, data: out };
}

/** The rectangle `box` of a plane (clipped to it) as a new plane. */
export function cropPlane(plane: Plane, box: Box): Plane {
  const data = new Float32Array(box.width * box.height);
  for (let y = 0; y < box.height; y++) data.set(plane.data.subarray((box.y + y) * plane.width + box.x, (box.y + y) * plane.width + box.x + box.width), y * box.width);
  return { width: box.width, height: box.height, data };
}

/** 1 where the plane reaches `threshold`. */
export function binarise(plane: Plane, threshold: number): BinaryImage {
  const out = new Uint8Array(plane.data.length);
  const t = Math.max(threshold, Number.MIN_VALUE);
  for (let i = 0; i < out.length; i++) out[i] = plane.data[i]! >= t ? 1 : 0;
  return { width: plane.width, height: plane.height, data: out };
}

/** Text-oriented rendering settings, chosen by measuring recall on the synthetic suite. */
export interface RenderingSettings {
  /** Side of the top-hat's structuring element (odd), for frames up to 768 pixels a side. */
  readonly topHatSize: number;
  /**
   * Top-hat contrast levels, as fractions of the anatomy's display range (1st to 98th
   * percentile, below any text drawn at the maximum). The high level isolates text drawn near
   * the maximum even over bright anatomy; the low one finds the synthetic suite's
   * low-contrast text (10 % of the range above what lies under it) at half its contrast; the
   * middle one separates that text from busy anatomy the low one joins it to (MR: 11 px letters
   * over brain found at 7 %, fused with tissue at 4 %).
   */
  readonly levels: readonly number[];
}

export const DEFAULT_RENDERING: RenderingSettings = { topHatSize: 11, levels: [0.3, 0.07, 0.04] };

/** Frames whose short side is below this are "small" (64² and 96² MR, thumbnails): their text is a few pixels tall. */
export const SMALL_FRAME = 128;
const SMALL_TOP_HAT = 7;

/** The top-hat size for a frame: larger frames carry larger text (1760×2140 radiographs: 37 px lines). */
export function topHatSizeFor(format: Pick<PixelFormat, 'rows' | 'columns'>, settings: RenderingSettings = DEFAULT_RENDERING): number {
  // Frames under 128² carry text of at most ~10 px with 1–2 px strokes; an 11 px element would
  // keep anatomy a sixth of the frame wide, which joins the letters (64² MR of the synthetic
  // suite: 8–9 px words over bright anatomy found with 7, none with 11).
  if (Math.min(format.rows, format.columns) < SMALL_FRAME) return Math.min(settings.topHatSize, SMALL_TOP_HAT);
  const scale = Math.max(1, Math.min(format.rows, format.columns) / 768);
  const size = Math.round(settings.topHatSize * scale);
  return size % 2 === 0 ? size + 1 : size;
}

/** A frame prepared for text detection: its brightness, and the top-hat thresholds in its units. */
export interface TextView {
  readonly plane: Plane;
  readonly topHatSize: number;
  readonly thresholds: readonly number[];
  /** 1st and 98th percentile of the display plane (its anatomy's range; the pre-filter's "extreme" starts at `high`). */
  readonly low: number;
  readonly high: number;
  /** Colour frames: red, green, blue of every pixel (displayColours), for the pre-filter's one-colour rule. */
  readonly colours?: Float32Array;
}

export function textView(frame: Frame, settings: RenderingSettings = DEFAULT_RENDERING): TextView {
  const colours = displayColours(frame);
  const plane = colours ? brightestChannel(colours, frame.format.columns, frame.format.rows) : displayPlane(frame);
  const [lo, hi] = quantiles(plane.data, [0.01, 0.98]) as [number, number];
  // A flat frame (a black screen capture) has no anatomy range: any stroke above it is text.
  const range = hi > lo ? hi - lo : 1;
  return { plane, topHatSize: topHatSizeFor(frame.format, settings), thresholds: settings.levels.map((l) => l * range), low: lo, high: hi, ...(colours ? { colours } : {}) };
}

/** The 2-D top-hat of one rectangle of the frame (computed with a margin, so edges are right). */
export function regionTopHat(view: TextView, box: Box): Plane {
  const m = view.topHatSize;
  const { width, height } = view.plane;
  const x0 = Math.max(0, box.x - m);
  const y0 = Math.max(0, box.y - m);
  const x1 = Math.min(width, box.x + box.width + m);
  const y1 = Math.min(height, box.y + box.height + m);
  const th = whiteTopHat(cropPlane(view.plane, { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }), m);
  return cropPlane(th, { x: box.x - x0, y: box.y - y0, width: box.width, height: box.height });
}

/**
 * The engine's view of a region: its top-hat thresholded, upscaled by `scale` (nearest
 * neighbour: on the synthetic suite this read more words than a bilinear grey rendering left
 * to the engine's own binarisation), text black on white, with a white border. A per-block
 * threshold is looked up at the frame position `origin` + (x, y) of each pixel of the region.
 */
export function ocrRendering(tophat: Plane, threshold: number | BlockThresholds, scale: number, border: number, origin: { readonly x: number; readonly y: number } = { x: 0, y: 0 }): { width: number; height: number; data: Uint8Array } {
  const width = tophat.width * scale + 2 * border;
  const height = tophat.height * scale + 2 * border;
  const data = new Uint8Array(width * height).fill(255);
  // Thresholded once at the source resolution, then replicated: one comparison per source pixel.
  const ink = new Uint8Array(tophat.width * tophat.height);
  for (let y = 0; y < tophat.height; y++) {
    for (let x = 0; x < tophat.width; x++) {
      const t = typeof threshold === 'number' ? threshold : threshold.data[(((origin.y + y) / threshold.block) | 0) * threshold.columns + (((origin.x + x) / threshold.block) | 0)]!;
      ink[y * tophat.width + x] = tophat.data[y * tophat.width + x]! >= Math.max(t, Number.MIN_VALUE) ? 1 : 0;
    }
  }
  for (let y = 0; y < tophat.height * scale; y++) {
    const src = Math.floor(y / scale) * tophat.width;
    const row = (y + border) * width + border;
    for (let x = 0; x < tophat.width * scale; x++) if (ink[src + Math.floor(x / scale)]) data[row + x] = 0;
  }
  return { width, height, data };
}

/** One threshold per `block`×`block` tile of a frame, tiles row by row (`columns` × `rows`). */
export interface BlockThresholds {
  readonly block: number;
  readonly columns: number;
  readonly rows: number;
  readonly data: Float32Array;
}

/**
 * A threshold per block that follows the local clutter of a top-hat: `factor` times the mean
 * top-hat of the block and its eight neighbours, never below `floor`. Over flat background (a
 * CT's padding outside the field of view, a black screen) the mean is the text's own share, so
 * text a few per cent of the range above it passes; over anatomy the threshold rises with the
 * texture.
 */
export function blockThresholds(tophat: Plane, block: number, floor: number, factor: number): BlockThresholds {
  if (!Number.isInteger(block) || block < 1) throw new Error(`block: must be a positive integer (got ${block})`);
  if (!(factor > 0) || !Number.isFinite(floor)) throw new Error(`factor must be positive and floor finite (got ${factor}, ${floor})`);
  const columns = Math.ceil(tophat.width / block);
  const rows = Math.ceil(tophat.height / block);
  const sums = new Float64Array(columns * rows);
  const counts = new Float64Array(columns * rows);
  for (let y = 0; y < tophat.height; y++) {
    const by = ((y / block) | 0) * columns;
    const row = y * tophat.width;
    for (let bx = 0, x = 0; bx < columns; bx++) {
      const end = Math.min(tophat.width, x + block);
      let sum = 0;
      for (let i = row + x; i < row + end; i++) sum += tophat.data[i]!;
      sums[by + bx]! += sum;
      counts[by + bx]! += end - x;
      x = end;
    }
  }
  const data = new Float32Array(columns * rows);
  for (let by = 0; by < rows; by++) {
    for (let bx = 0; bx < columns; bx++) {
      let s = 0;
      let n = 0;
      for (let y = Math.max(0, by - 1); y <= Math.min(rows - 1, by + 1); y++) {
        for (let x = Math.max(0, bx - 1); x <= Math.min(columns - 1, bx + 1); x++) {
          s += sums[y * columns + x]!;
          n += counts[y * columns + x]!;
        }
      }
      data[by * columns + bx] = Math.max(floor, (factor * s) / Math.max(1, n));
    }
  }
  return { block, columns, rows, data };
}

/** 1 where the plane reaches its block's threshold. */
export function binariseBlocks(plane: Plane, map: BlockThresholds): BinaryImage {
  const out = new Uint8Array(plane.data.length);
  const src = plane.data;
  for (let y = 0; y < plane.height; y++) {
    const by = ((y / map.block) | 0) * map.columns;
    const row = y * plane.width;
    for (let bx = 0, x = 0; bx < map.columns; bx++) {
      const t = Math.max(map.data[by + bx]!, Number.MIN_VALUE);
      const end = row + Math.min(plane.width, x + map.block);
      for (let i = row + x; i < end; i++) out[i] = src[i]! >= t ? 1 : 0;
      x += map.block;
    }
  }
  return { width: plane.width, height: plane.height, data: out };
}
