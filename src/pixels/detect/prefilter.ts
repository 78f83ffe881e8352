/**
 * The pre-filter: finds the places on a frame's text rendering where text could be, without
 * OCR, so that ordinary CT and MR slices (no candidate line anywhere) skip the OCR engine and
 * the engine reads only the candidate regions of the others.
 *
 * A candidate glyph is a connected set of rendering pixels of glyph size; a candidate line is a
 * run of such glyphs side by side at the same height, or one component wide enough to be a
 * word whose letters touch. Anatomy that passes the top-hat (vessels, bone edges, the table)
 * rarely forms such runs. The rule is measured, not proven in general: the conformance suite
 * checks on every synthetic and presidio image that recall with the pre-filter equals recall
 * without it.
 */
import type { Box } from '../types.js';
import { binarise, rowTopHat, type BinaryImage, type TextView } from './windowing.js';

export interface Component {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
  readonly pixels: number;
  /** Largest value of `values` over the component's pixels (−Infinity without values). */
  readonly peak: number;
}

/**
 * Connected components (8-connectivity) of a binary image: one labelling pass with union–find
 * in typed arrays, one pass for the boxes. Written here rather than taken from OpenCV because
 * the pre-filter must answer in a few milliseconds without loading a WASM module.
 */
export function components(image: BinaryImage, values?: Float32Array): Component[] {
  const { width, height, data } = image;
  const labels = new Int32Array(width * height);
  let parent = new Int32Array(1024);
  let next = 1;
  const find = (a: number): number => {
    while (parent[a] !== a) {
      parent[a] = parent[parent[a]!]!;
      a = parent[a]!;
    }
    return a;
  };
  const join = (a: number, b: number): number => {
    if (a === 0) return b;
    if (b === 0 || a === b) return a;
    const ra = find(a);
    const rb = find(b);
    if (ra < rb) {
      parent[rb] = ra;
      return ra;
    }
    parent[ra] = rb;
    return rb;
  };
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      if (data[i] === 0) continue;
      let label = x > 0 ? labels[i - 1]! : 0;
      if (y > 0) {
        const up = i - width;
        if (x > 0) label = join(label, labels[up - 1]!);
        label = join(label, labels[up]!);
        if (x + 1 < width) label = join(label, labels[up + 1]!);
      }
      if (label === 0) {
        if (next === parent.length) {
          const grown = new Int32Array(parent.length * 2);
          grown.set(parent);
          parent = grown;
        }
        label = next;
        parent[next] = next;
        next++;
      }
      labels[i] = label;
    }
  }
  const x0 = new Int32Array(next).fill(0x7fffffff);
  const y0 = new Int32Array(next).fill(0x7fffffff);
  const x1 = new Int32Array(next).fill(-1);
  const y1 = new Int32Array(next).fill(-1);
  const count = new Int32Array(next);
  const peak = new Float32Array(next).fill(-Infinity);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const l = labels[row + x]!;
      if (l === 0) continue;
      const r = find(l);
      if (x < x0[r]!) x0[r] = x;
      if (x > x1[r]!) x1[r] = x;
      if (y < y0[r]!) y0[r] = y;
      if (y > y1[r]!) y1[r] = y;
      count[r]!++;
      if (values && values[row + x]! > peak[r]!) peak[r] = values[row + x]!;
    }
  }
  const out: Component[] = [];
  for (let r = 1; r < next; r++) if (count[r]! > 0) out.push({ x0: x0[r]!, y0: y0[r]!, x1: x1[r]!, y1: y1[r]!, pixels: count[r]!, peak: peak[r]! });
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
}

export const PEAK_REL = Number(process.env.PEAK_REL ?? 0.3);
export const PEAK_MAXC = process.env.PEAK_MAXC === '1';
export let PEAK_TOL = Number(process.env.PEAK_TOL ?? 0.03);
export const DEFAULT_PREFILTER: PrefilterSettings = { minGlyphHeight: 4, maxGlyphHeight: 80, maxGap: 1.2, minGlyphs: 3 };

/** A candidate text line: its box, the glyph height that sets the OCR upscaling, the contrast level it was seen at. */
export interface CandidateLine {
  readonly box: Box;
  readonly glyphHeight: number;
  readonly glyphs: number;
  /** Index into TextView.thresholds. */
  readonly level: number;
  /** Peak display value of each glyph (left to right). */
  readonly peaks: readonly number[];
}

function height(c: Component): number {
  return c.y1 - c.y0 + 1;
}

function width(c: Component): number {
  return c.x1 - c.x0 + 1;
}

/** Whether a component spans several letters: wide, and a middle row crosses it several times. */
function isWordLike(c: Component, image: BinaryImage): boolean {
  const h = height(c);
  const w = width(c);
  if (w < 1.8 * h) return false;
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

/** Candidate text lines of a binary rendering; none means the frame holds no text this detector could read. */
export function candidateLines(image: BinaryImage, level = 0, settings: PrefilterSettings = DEFAULT_PREFILTER, values?: Float32Array, peakTolerance = Infinity): CandidateLine[] {
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
      if (Math.abs(a.peak - b.peak) > Math.max(peakTolerance, PEAK_REL * (PEAK_MAXC ? Math.max(a.peak - floor[i]!, b.peak - floor[j]!) : Math.min(a.peak - floor[i]!, b.peak - floor[j]!)))) continue;
      const ra = find(i);
      const rb = find(j);
      if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
    }
  }
  const groups = new Map<number, Component[]>();
  glyphs.forEach((g, i) => {
    const r = find(i);
    const list = groups.get(r);
    if (list) list.push(g);
    else groups.set(r, [g]);
  });
  const lines: CandidateLine[] = [];
  for (const members of groups.values()) {
    if (alignedCount(members) < settings.minGlyphs && !members.some((m) => isWordLike(m, image))) continue;
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
    lines.push({ box: { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 }, glyphHeight: heights[heights.length >> 1]!, glyphs: members.length, level, peaks: members.map((m) => m.peak) });
  }
  return lines;
}

/**
 * The pre-filter proper: candidate lines of a frame at every contrast level, from the row
 * top-hat (cheap, and enough to see the vertical strokes that stand on a baseline). Regions in
 * `covered` are ignored (already removed by header findings).
 */
export function prefilter(view: TextView, covered: readonly Box[] = [], settings: PrefilterSettings = DEFAULT_PREFILTER): CandidateLine[] {
  const tophat = rowTopHat(view.plane, view.topHatSize);
  const lines: CandidateLine[] = [];
  view.thresholds.forEach((t, level) => {
    const image = binarise(tophat, t);
    for (const b of covered) {
      const x0 = Math.max(0, b.x);
      const x1 = Math.min(image.width, b.x + b.width);
      for (let y = Math.max(0, b.y); y < Math.min(image.height, b.y + b.height); y++) if (x1 > x0) image.data.fill(0, y * image.width + x0, y * image.width + x1);
    }
    lines.push(...candidateLines(image, level, settings, view.plane.data, PEAK_TOL * Math.max(view.high - view.low, 1e-6)));
  });
  return lines;
}
