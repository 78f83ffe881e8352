/**
 * The pre-filter: finds the places on a frame's text rendering where text could be, without
 * OCR, so that ordinary CT and MR slices (no candidate line anywhere) skip the OCR engine and
 * the engine reads only the candidate regions of the others. It decides what the engine reads,
 * and so it is where precision comes from: every word the engine reports becomes a finding.
 *
 * A candidate glyph is a connected set of rendering pixels of glyph size; a candidate line is a
 * run of at least three such glyphs side by side on one baseline (or one component wide enough
 * to be a word whose letters touch), in one row, and printed in one value: devices burn text in
 * a flat value (at or near the maximum, the minimum for MONOCHROME1, or a saturated colour), so
 * the brightest pixels of the glyphs of a line are equal, while the bone edges, vessels and
 * noise that pass the top-hat vary from one "glyph" to the next. A line below the frame's 98th
 * percentile needs one flat glyph more, and every line must stand several noise steps above
 * the rows just above and below it (print is far above the noise; specks of bright anatomy on a
 * noisy slice are not). Its glyphs must look printed (printedLike): flat-topped below the
 * extreme, where ultrasound speckle grains are smooth hills, and on colour frames one printed
 * colour, which the blobs of a colour-flow map (all at the same brightest value) are not.
 * Lines are sought in renderings thresholded at fixed shares of the frame's range and in one
 * thresholded per block by the local clutter (faint print over flat background). The rule is
 * measured, not proven in general: the conformance suite checks on every synthetic and presidio
 * image that recall with the pre-filter equals recall without it, that no text-free CT or MR
 * frame of the corpus has a candidate line, and (pixels-ultrasound.test.ts) how many findings
 * the corpus's ultrasound sectors keep.
 */
import { connectedRuns } from '../connected-runs.js';
import type { Box } from '../types.js';
import { binarise, binariseBlocks, blockThresholds, rowTopHat, SMALL_FRAME, type BinaryImage, type BlockThresholds, type Plane, type TextView } from './windowing.js';

/** Word-like aspect (width / height) on frames under SMALL_FRAME. */
const SMALL_WORD_ASPECT = 1.3;
/**
 * The clutter-following rendering: blocks of 16 px, threshold 4 × the local mean top-hat, at
 * least 0.5 % of the frame's range. It finds faint print over flat background, below every fixed
 * level (synthetic suite: text 0.6–3 % of the range above a CT's padding), and separates some
 * low-contrast print from busy anatomy (12 px "MRN" over MR brain; 16 px on a 128² CT). Chosen on
 * the synthetic suite and the text-free frames: factor 3 or a floor of 1–2 % put a line on a
 * lossy-JPEG CT slice; blocks of 8 put lines on three CT slices; blocks of 32 lose the 128² CT's word.
 */
const ADAPTIVE_BLOCK = 16;
const ADAPTIVE_FACTOR = 4;
const ADAPTIVE_FLOOR = 0.005;

export interface Component {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
  readonly pixels: number;
  /** Largest value of `values` over the component's pixels (−Infinity without values). */
  readonly peak: number;
  /** Index (y · width + x) of a pixel holding `peak`; −1 without values. */
  readonly peakAt: number;
}

/** Connected components (8-connectivity) of a binary image, in raster order of their first pixels. */
export function components(image: BinaryImage, values?: Float32Array): Component[] {
  const { width, height, data } = image;
  const runs = connectedRuns(data, width, height);
  const n = runs.components;
  const x0 = new Int32Array(n).fill(0x7fffffff);
  const y0 = new Int32Array(n).fill(-1);
  const x1 = new Int32Array(n).fill(-1);
  const y1 = new Int32Array(n);
  const count = new Int32Array(n);
  const peak = new Float32Array(n).fill(-Infinity);
  const peakAt = new Int32Array(n).fill(-1);
  for (let r = 0; r < runs.count; r++) {
    const c = runs.component[r]!;
    const y = runs.y[r]!;
    const a = runs.x0[r]!;
    const b = runs.x1[r]!;
    if (a < x0[c]!) x0[c] = a;
    if (b > x1[c]!) x1[c] = b;
    if (y0[c] === -1) y0[c] = y;
    y1[c] = y;
    count[c]! += b - a + 1;
    if (values) {
      let p = peak[c]!;
      let at = peakAt[c]!;
      for (let i = y * width + a, end = y * width + b; i <= end; i++) {
        if (values[i]! > p) {
          p = values[i]!;
          at = i;
        }
      }
      peak[c] = p;
      peakAt[c] = at;
    }
  }
  const out: Component[] = new Array(n);
  for (let c = 0; c < n; c++) out[c] = { x0: x0[c]!, y0: y0[c]!, x1: x1[c]!, y1: y1[c]!, pixels: count[c]!, peak: peak[c]!, peakAt: peakAt[c]! };
  return out;
}

/** Glyph and line geometry accepted as possible text. */
export interface PrefilterSettings {
  /** Glyph height range in pixels (8 px fonts give 5 px capitals; 37 px lines on radiographs). */
  readonly minGlyphHeight: number;
  readonly maxGlyphHeight: number;
  /** Largest horizontal gap between glyphs of one line, in glyph heights. */
  readonly maxGap: number;
  /**
   * Glyphs sharing a baseline or a top line needed for a line; a single component counts when
   * it is a word whose letters touch (wide, and crossed several times by a middle row).
   */
  readonly minGlyphs: number;
  /**
   * Glyphs of one line share their peak value within this share of the frame's display range
   * (at least `minGlyphs` of them exactly so), or within `contrastTolerance` of their contrast
   * over the background (anti-aliased thin strokes).
   */
  readonly valueTolerance: number;
  readonly contrastTolerance: number;
  /** Smallest width / height of one component taken for a word whose letters touch. */
  readonly wordAspect: number;
  /**
   * Smallest contrast of a line over the rows above and below it, in units of their noise
   * (`lineContrastToNoise`). Text is drawn in one value over whatever is under it, so it stands
   * far above the pixel-to-pixel noise of its surroundings; the bright specks of
   * contrast-filled bowel on a noisy abdominal CT line up like small glyphs but rise only a few
   * noise steps above it. Measured on the full synthetic suite (perFrame 4): lines on text
   * ≥ 7.4 (8–9 px words on 64² MR), ≥ 8.1 below the highest contrast level; the speck line of
   * the TCIA abdominal CT (explicit_VR-UN) 5.4. 0 turns the rule off.
   */
  readonly minContrastToNoise: number;
}

export const DEFAULT_PREFILTER: PrefilterSettings = { minGlyphHeight: 4, maxGlyphHeight: 80, maxGap: 1.2, minGlyphs: 3, valueTolerance: 0.03, contrastTolerance: 0.3, wordAspect: 1.8, minContrastToNoise: 6 };

/** A candidate line as the geometry and value rules see it, before it is tied to its rendering's threshold. */
export type LineShape = Omit<CandidateLine, 'threshold'>;

/** A candidate text line: its box, the glyph height that sets the OCR upscaling, the contrast level it was seen at. */
export interface CandidateLine {
  readonly box: Box;
  readonly glyphHeight: number;
  readonly glyphs: number;
  /**
   * The rendering it was seen in: an index into TextView.thresholds, or thresholds.length for
   * the rendering thresholded per block by the local clutter.
   */
  readonly level: number;
  /** Top-hat threshold of that rendering (one value, or one per block): what the OCR rendering of its region uses. */
  readonly threshold: number | BlockThresholds;
  /** Height of its tallest glyph. */
  readonly tallest: number;
}

function height(c: Component): number {
  return c.y1 - c.y0 + 1;
}

function width(c: Component): number {
  return c.x1 - c.x0 + 1;
}

/** Whether a component spans several letters: wide, and a middle row crosses it several times. */
function isWordLike(c: Component, image: BinaryImage, aspect: number): boolean {
  const h = height(c);
  const w = width(c);
  if (w < aspect * h) return false;
  let best = 0;
  for (const fy of [0.2, 0.35, 0.5, 0.65, 0.8]) {
    const y = c.y0 + Math.round(fy * (h - 1));
    let runs = 0;
    let prev = 0;
    for (let x = c.x0; x <= c.x1; x++) {
      const v = image.data[y * image.width + x]!;
      if (v === 1 && prev === 0) runs++;
      prev = v;
    }
    best = Math.max(best, runs);
  }
  return best >= 3;
}

/**
 * The most glyphs of a group that share a baseline (bottoms within a tolerance) or a top line:
 * printed text sits on a line, anatomy that passes the top-hat does not.
 */
function alignedCount(members: readonly Component[]): number {
  let best = 0;
  for (const edge of ['bottom', 'top'] as const) {
    const values = members.map((m) => (edge === 'bottom' ? m.y1 : m.y0)).sort((a, b) => a - b);
    const heights = members.map(height).sort((a, b) => a - b);
    const tolerance = Math.max(1, Math.round(0.12 * heights[heights.length >> 1]!));
    for (let i = 0, j = 0; j < values.length; j++) {
      while (values[j]! - values[i]! > tolerance) i++;
      best = Math.max(best, j - i + 1);
    }
  }
  return best;
}

/** The darkest value of a component's box grown by one pixel: the background its strokes stand on. */
function boxMin(values: Float32Array, w: number, h: number, c: Component): number {
  let m = Infinity;
  for (let y = Math.max(0, c.y0 - 1); y <= Math.min(h - 1, c.y1 + 1); y++) {
    for (let x = Math.max(0, c.x0 - 1); x <= Math.min(w - 1, c.x1 + 1); x++) {
      const v = values[y * w + x]!;
      if (v < m) m = v;
    }
  }
  return m;
}

/**
 * The glyphs of a group that share one printed value: the largest cluster of peaks within the
 * tolerance (relative to the strokes' contrast, for anti-aliased small text whose thin strokes
 * never reach the full value). A line of text that touches anatomy keeps its glyphs only.
 */
function oneValue(group: readonly Component[], floorOf: Map<Component, number>, tol: number, extreme: number, contrastTolerance: number, minGlyphs: number, letters: (c: Component) => number): Component[] {
  const sorted = [...group].sort((a, b) => a.peak - b.peak);
  let best: Component[] = [];
  for (let j = sorted.length - 1; j >= 0; j--) {
    const top = sorted[j]!;
    const floors = sorted.slice(0, j + 1).map((m) => floorOf.get(m)!).sort((a, b) => a - b);
    const fl = floors[floors.length >> 1]!;
    // Devices print at or near the extreme value. A line below it (faint text over anatomy,
    // or anatomy) must be flat throughout, with one glyph more.
    const atExtreme = top.peak >= extreme;
    const reach = atExtreme ? Math.max(tol, contrastTolerance * (top.peak - fl)) : tol;
    const cluster = sorted.filter((m) => m.peak <= top.peak && top.peak - m.peak <= reach);
    let strict = 0;
    for (const m of cluster) if (top.peak - m.peak <= tol) strict += letters(m);
    const minFlat = atExtreme ? minGlyphs : minGlyphs + 1;
    if (strict >= minFlat && cluster.length > best.length) best = cluster;
  }
  return best.sort((a, b) => a.x0 - b.x0);
}

/** The display values behind a binary rendering, for the one-value rule of candidate lines. */
export interface LineValues {
  /** The display plane the rendering was made from. */
  readonly values: Float32Array;
  /** Peaks closer than this are one printed value. */
  readonly tolerance: number;
  /** Values from here up are "at the extreme" (the frame's 98th percentile). */
  readonly extreme: number;
  /** The display range the tolerances are shares of (98th minus 1st percentile). */
  readonly range: number;
  /** Colour frames: red, green, blue of every pixel (TextView.colours). */
  readonly colours?: Float32Array;
}

/**
 * Pixels of a glyph within this share of the display range of its peak (in every colour
 * channel) are its flat top. Devices print a glyph in one value, so its strokes' cores share
 * it; the bright specks of ultrasound speckle and the blobs of a colour-flow map are smooth
 * hills with a pointed top.
 */
const FLAT_TOP_SHARE = 0.01;
/** Pixels of a glyph's flat top for it to count as printed (the core of one stroke). */
const FLAT_TOP_PIXELS = 3;
/** Share of a colour line's glyphs that must be one printed colour (see printedLike: text ≥ 0.73, colour flow ≤ 0.33). */
const ONE_COLOUR_SHARE = 0.5;
/**
 * Hue difference (degrees) within which two saturated peaks are one printed colour: a colour
 * mixed with a grey background by anti-aliasing keeps its hue exactly (8 px green words over
 * B-mode speckle), while the peaks of a colour-flow map spread over 6–14° (US1_J2KR's orange).
 */
const HUE_TOLERANCE = 1;

/** Hue in degrees of a red, green, blue triple, or undefined when its chroma is within `grey` (no hue to speak of). */
function hue(c: readonly number[], grey: number): number | undefined {
  if (c.length !== 3) return undefined;
  const [r, g, b] = c as [number, number, number];
  const max = Math.max(r, g, b);
  const d = max - Math.min(r, g, b);
  if (d <= grey) return undefined;
  const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return (h * 60 + 360) % 360;
}

/** Whether two peak colours are one printed colour: equal within `tolerance`, or saturated with one hue. */
function oneColour(a: readonly number[], b: readonly number[], tolerance: number): boolean {
  if (near(a, b, tolerance)) return true;
  const ha = hue(a, tolerance);
  const hb = hue(b, tolerance);
  if (ha === undefined || hb === undefined) return false;
  const d = Math.abs(ha - hb);
  return Math.min(d, 360 - d) <= HUE_TOLERANCE;
}

/** The channels of pixel `i`: its colour on colour frames, its value otherwise. */
function channelsAt(v: LineValues, i: number): number[] {
  return v.colours ? [v.colours[3 * i]!, v.colours[3 * i + 1]!, v.colours[3 * i + 2]!] : [v.values[i]!];
}

function near(a: readonly number[], b: readonly number[], tolerance: number): boolean {
  for (let k = 0; k < a.length; k++) if (Math.abs(a[k]! - b[k]!) > tolerance) return false;
  return true;
}

/** Pixels of a component's box within `tolerance` of its peak in every channel. */
function flatTop(v: LineValues, width: number, c: Component, tolerance: number): number {
  if (c.peakAt < 0) return 0;
  const top = channelsAt(v, c.peakAt);
  let n = 0;
  for (let y = c.y0; y <= c.y1; y++) for (let x = c.x0; x <= c.x1; x++) if (near(channelsAt(v, y * width + x), top, tolerance)) n++;
  return n;
}

/**
 * A component's peak colour: of the pixels of its box at its peak value, the one with the
 * largest channel sum. Where a colour-flow map saturates red, every pixel from orange to yellow
 * ties at the peak, and the first of them in raster order is the map's first saturated entry,
 * the same in every blob; the brightest of them differs from blob to blob. A printed glyph's
 * pixels at its peak are all one colour.
 */
function peakColour(v: LineValues, width: number, c: Component): number[] {
  const colours = v.colours!;
  let best = -Infinity;
  let at = c.peakAt;
  for (let y = c.y0; y <= c.y1; y++) {
    for (let x = c.x0; x <= c.x1; x++) {
      const i = y * width + x;
      if (v.values[i]! !== c.peak) continue;
      const sum = colours[3 * i]! + colours[3 * i + 1]! + colours[3 * i + 2]!;
      if (sum > best) {
        best = sum;
        at = i;
      }
    }
  }
  return channelsAt(v, at);
}

/** The largest value of each colour channel over a component's box. */
function boxChannelMax(v: LineValues, width: number, c: Component): number[] {
  const out = [-Infinity, -Infinity, -Infinity];
  const colours = v.colours!;
  for (let y = c.y0; y <= c.y1; y++) {
    for (let x = c.x0; x <= c.x1; x++) {
      const i = 3 * (y * width + x);
      for (let k = 0; k < 3; k++) if (colours[i + k]! > out[k]!) out[k] = colours[i + k]!;
    }
  }
  return out;
}

/**
 * Whether a line's glyphs look printed rather than grown: the rule that keeps ultrasound speckle
 * and colour-flow blobs, which pass every other rule inside an image sector, out of the OCR.
 *
 * Below the extreme (where speckle and anatomy live) at least `minGlyphs` glyphs must have a flat
 * top. Measured on the candidate lines below the extreme: every line on synthetic text (perFrame
 * 4 suite, CT, MR and US) had ≥ 3 flat-topped glyphs (the least, 3 of 4: a 12 px serif "MRN" over
 * MR, whose 1 px stems rarely reach the full value; asking for 4 lost that word); of the 22 lines
 * inside the image sectors of the corpus's ultrasound files, 14 had 0–2. The margin is nil on
 * the text side: thin serif print over anatomy is where this rule would fail first.
 *
 * On colour frames at least half of the glyphs (letters of word-like components counted singly)
 * must be one printed colour (`oneColour`, or grey glyphs whose channels all peak at one value).
 * Measured: every synthetic text line 0.73–1 (126 of 133 lines: 1), the colour-flow lines
 * inside the sectors of US1_J2KR and IM00001 0.10–0.33 (their peaks run from orange to yellow,
 * or over the blues).
 */
function printedLike(members: readonly Component[], v: LineValues, width: number, letters: (c: Component) => number, minGlyphs: number): boolean {
  const top = members.reduce((a, b) => (b.peak > a.peak ? b : a));
  if (top.peak < v.extreme) {
    const tolerance = FLAT_TOP_SHARE * v.range;
    let flat = 0;
    for (const m of members) if (flatTop(v, width, m, tolerance) >= FLAT_TOP_PIXELS) flat += letters(m);
    if (flat < minGlyphs) return false;
  }
  if (v.colours) {
    const peaks = members.map((m) => (m.peakAt < 0 ? [] : peakColour(v, width, m)));
    // Sub-pixel rendered grey text (ClearType) gives a glyph's peak pixel a coloured fringe, but
    // every channel reaches the text's value somewhere in the glyph: its channel maxima are
    // grey. Those of a colour-flow blob are not (red at the maximum, blue at zero).
    const maxima = members.map((m) => boxChannelMax(v, width, m));
    const grey = maxima.map((c) => Math.max(...c) - Math.min(...c) <= v.tolerance);
    let total = 0;
    let best = 0;
    members.forEach((m, i) => {
      total += letters(m);
      let agree = 0;
      members.forEach((o, j) => {
        if ((peaks[i]!.length > 0 && peaks[j]!.length > 0 && oneColour(peaks[i]!, peaks[j]!, v.tolerance)) || (grey[i]! && grey[j]! && near(maxima[i]!, maxima[j]!, v.tolerance))) agree += letters(o);
      });
      best = Math.max(best, agree);
    });
    if (best < ONE_COLOUR_SHARE * total) return false;
  }
  return true;
}

/**
 * Candidate text lines of a binary rendering; none means the frame holds no text this detector
 * could read. Without `lineValues` only the geometry is judged (glyphs on a baseline).
 */
export function candidateLines(image: BinaryImage, level = 0, settings: PrefilterSettings = DEFAULT_PREFILTER, lineValues?: LineValues): LineShape[] {
  const values = lineValues?.values;
  const peakTolerance = lineValues?.tolerance ?? Infinity;
  const glyphs = components(image, values).filter((c) => {
    const h = height(c);
    const w = width(c);
    return h >= settings.minGlyphHeight && h <= settings.maxGlyphHeight && c.pixels >= 6 && w <= 40 * h;
  });
  glyphs.sort((a, b) => a.x0 - b.x0);
  const floor = glyphs.map((c) => (values ? boxMin(values, image.width, image.height, c) : -Infinity));
  const parent = glyphs.map((_, i) => i);
  const find = (a: number): number => {
    while (parent[a] !== a) a = parent[a] = parent[parent[a]!]!;
    return a;
  };
  for (let i = 0; i < glyphs.length; i++) {
    const a = glyphs[i]!;
    const ha = height(a);
    for (let j = i + 1; j < glyphs.length; j++) {
      const b = glyphs[j]!;
      const hb = height(b);
      const hMax = Math.max(ha, hb);
      const gap = b.x0 - a.x1 - 1;
      if (gap > settings.maxGap * Math.max(ha, settings.maxGlyphHeight / 4)) break;
      if (gap > settings.maxGap * hMax) continue;
      const overlap = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0) + 1;
      if (overlap < 0.5 * Math.min(ha, hb)) continue;
      if (hMax > 3 * Math.min(ha, hb)) continue;
      // Glyphs of one line are printed in one value; anti-aliasing lowers thin strokes by a
      // share of their contrast, anatomy varies far more.
      if (Math.abs(a.peak - b.peak) > Math.max(peakTolerance, settings.contrastTolerance * Math.max(a.peak - floor[i]!, b.peak - floor[j]!))) continue;
      const ra = find(i);
      const rb = find(j);
      if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
    }
  }
  const groups = new Map<number, Component[]>();
  const floorOf = new Map<Component, number>();
  glyphs.forEach((g, i) => {
    floorOf.set(g, floor[i]!);
    const r = find(i);
    const list = groups.get(r);
    if (list) list.push(g);
    else groups.set(r, [g]);
  });
  const lines: LineShape[] = [];
  // A word whose letters touch counts as several letters, at the high contrast level only.
  const letters = (c: Component) => (level === 0 && isWordLike(c, image, settings.wordAspect) ? settings.minGlyphs : 1);
  for (const group of groups.values()) {
    const valued = lineValues ? oneValue(group, floorOf, peakTolerance, lineValues.extreme, settings.contrastTolerance, settings.minGlyphs, letters) : group;
    if (valued.length === 0) continue;
    // Glyphs taller than two of the line's own are print joined to anatomy: the line is the rest.
    const hs = valued.map(height).sort((a, b) => a - b);
    const members = valued.filter((m) => height(m) <= 2 * hs[hs.length >> 1]!);
    // A lone word-like component counts at the high contrast level only: at the low one, bone
    // edges and vessels crossed by a row make such shapes.
    if (alignedCount(members) < settings.minGlyphs && !(level === 0 && members.some((m) => isWordLike(m, image, settings.wordAspect)))) continue;
    if (lineValues && !printedLike(members, lineValues, image.width, letters, settings.minGlyphs)) continue;
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    const heights: number[] = [];
    for (const m of members) {
      x0 = Math.min(x0, m.x0);
      y0 = Math.min(y0, m.y0);
      x1 = Math.max(x1, m.x1);
      y1 = Math.max(y1, m.y1);
      heights.push(height(m));
    }
    heights.sort((a, b) => a - b);
    lines.push({ box: { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 }, glyphHeight: heights[heights.length >> 1]!, tallest: heights[heights.length - 1]!, glyphs: members.length, level });
  }
  return lines;
}

/** One row of print: no taller than one and a half of its tallest glyph, glyphs of similar height, and wider than tall unless it is one word-like component. */
function printLike(l: LineShape): boolean {
  // Capitals, digits and lowercase letters with ascenders stay within three x-heights.
  if (l.box.height > 1.5 * l.tallest || l.tallest > 3 * l.glyphHeight) return false;
  return l.glyphs === 1 || l.box.width >= 1.5 * l.box.height;
}

/** The median (upper, for an even count) of the first `count` values; reorders them. */
function median(values: Float64Array, count: number): number {
  const part = values.subarray(0, count).sort();
  return part[count >> 1]!;
}

/**
 * A line's brightest value over the median of the bands one glyph high above and below its
 * box, divided by the median absolute step between horizontal neighbours in those bands (a
 * robust noise estimate that the band's own edges barely move). Infinity when there is no band
 * or no noise: nothing to compare with, the other rules decide.
 */
export function lineContrastToNoise(plane: Plane, line: LineShape): number {
  const { width: w, height: h, data } = plane;
  const b = line.box;
  let peak = -Infinity;
  for (let y = b.y; y < b.y + b.height; y++) for (let x = b.x; x < b.x + b.width; x++) peak = Math.max(peak, data[y * w + x]!);
  const x0 = Math.max(0, b.x);
  const x1 = Math.min(w - 1, b.x + b.width);
  const bands = [
    [Math.max(0, b.y - line.glyphHeight), Math.min(h - 1, b.y - 1)],
    [Math.max(0, b.y + b.height), Math.min(h - 1, b.y + b.height + line.glyphHeight - 1)],
  ] as const;
  let size = 0;
  for (const [from, to] of bands) size += Math.max(0, to - from + 1) * Math.max(0, x1 - x0);
  if (size === 0) return Infinity;
  const band = new Float64Array(size);
  const steps = new Float64Array(size);
  let n = 0;
  for (const [from, to] of bands) {
    for (let y = from; y <= to; y++) {
      for (let x = x0; x < x1; x++) {
        band[n] = data[y * w + x]!;
        steps[n++] = Math.abs(data[y * w + x + 1]! - data[y * w + x]!);
      }
    }
  }
  const noise = median(steps, n);
  return noise > 0 ? (peak - median(band, n)) / noise : Infinity;
}

/**
 * The pre-filter proper: candidate lines of a frame at every contrast level, from the row
 * top-hat (cheap, and enough to see the vertical strokes that stand on a baseline), each line
 * one printed value. Regions in `covered` are ignored (already removed by header findings).
 */
export function prefilter(view: TextView, covered: readonly Box[] = [], given: PrefilterSettings = DEFAULT_PREFILTER): CandidateLine[] {
  return [...prefilterByLevel(view, covered, given)].flat();
}

/**
 * The same lines one rendering at a time, highest contrast level first: the detector hands a
 * level's lines to the OCR engines (another thread) while this thread looks at the next level.
 */
export function* prefilterByLevel(view: TextView, covered: readonly Box[] = [], given: PrefilterSettings = DEFAULT_PREFILTER): Generator<CandidateLine[]> {
  // Devices size annotations to the frame: a glyph taller than an eighth of the frame's short
  // side is an organ (saturated kidneys on MR), not a letter.
  const side = Math.min(view.plane.width, view.plane.height);
  // On small frames 8–9 px letters touch through their anti-aliased edges, so two or three of
  // them make one component only a little wider than tall ("OB" of "DOB": 10×7 px).
  const wordAspect = side < SMALL_FRAME ? Math.min(given.wordAspect, SMALL_WORD_ASPECT) : given.wordAspect;
  const settings = { ...given, maxGlyphHeight: Math.min(given.maxGlyphHeight, Math.max(12, Math.round(side / 8))), wordAspect };
  const tophat = rowTopHat(view.plane, view.topHatSize);
  const adaptive = blockThresholds(tophat, ADAPTIVE_BLOCK, ADAPTIVE_FLOOR * Math.max(view.high - view.low, 1e-6), ADAPTIVE_FACTOR);
  const renderings: { render: () => BinaryImage; threshold: number | BlockThresholds }[] = view.thresholds.map((t) => ({ render: () => binarise(tophat, t), threshold: t }));
  renderings.push({ render: () => binariseBlocks(tophat, adaptive), threshold: adaptive });
  const range = Math.max(view.high - view.low, 1e-6);
  const lineValues: LineValues = { values: view.plane.data, tolerance: settings.valueTolerance * range, extreme: view.high, range, ...(view.colours ? { colours: view.colours } : {}) };
  const standsOut = (l: LineShape) => settings.minContrastToNoise <= 0 || lineContrastToNoise(view.plane, l) >= settings.minContrastToNoise;
  for (const [level, { render, threshold }] of renderings.entries()) {
    const image = render();
    for (const b of covered) {
      const x0 = Math.max(0, b.x);
      const x1 = Math.min(image.width, b.x + b.width);
      for (let y = Math.max(0, b.y); y < Math.min(image.height, b.y + b.height); y++) if (x1 > x0) image.data.fill(0, y * image.width + x0, y * image.width + x1);
    }
    const lines: CandidateLine[] = [];
    for (const l of candidateLines(image, level, settings, lineValues)) if (printLike(l) && standsOut(l)) lines.push({ ...l, threshold });
    yield lines;
  }
}
