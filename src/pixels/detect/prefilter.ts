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
import type { BinaryImage } from './windowing.js';

export interface Component {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
  readonly pixels: number;
}

/** Connected components (8-connectivity) of a binary image, by union–find over runs of rows. */
export function components(image: BinaryImage): Component[] {
  const { width, height, data } = image;
  const labels = new Int32Array(width * height);
  const parent: number[] = [0];
  const find = (a: number): number => {
    while (parent[a] !== a) {
      parent[a] = parent[parent[a]!]!;
      a = parent[a]!;
    }
    return a;
  };
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (data[row + x] === 0) continue;
      let label = 0;
      const consider = (l: number) => {
        if (l === 0) return;
        if (label === 0) label = l;
        else if (l !== label) union(label, l);
      };
      if (x > 0) consider(labels[row + x - 1]!);
      if (y > 0) {
        const up = row - width + x;
        if (x > 0) consider(labels[up - 1]!);
        consider(labels[up]!);
        if (x + 1 < width) consider(labels[up + 1]!);
      }
      if (label === 0) {
        label = parent.length;
        parent.push(label);
      }
      labels[row + x] = label;
    }
  }
  const boxes = new Map<number, { x0: number; y0: number; x1: number; y1: number; pixels: number }>();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const l = labels[y * width + x]!;
      if (l === 0) continue;
      const r = find(l);
      const b = boxes.get(r);
      if (!b) boxes.set(r, { x0: x, y0: y, x1: x, y1: y, pixels: 1 });
      else {
        if (x < b.x0) b.x0 = x;
        if (x > b.x1) b.x1 = x;
        if (y > b.y1) b.y1 = y;
        b.pixels++;
      }
    }
  }
  return [...boxes.values()];
}

/** Glyph and line geometry accepted as possible text. */
export interface PrefilterSettings {
  /** Glyph height range in pixels (8 px fonts give 5 px capitals; 37 px lines on radiographs). */
  readonly minGlyphHeight: number;
  readonly maxGlyphHeight: number;
  /** Largest horizontal gap between glyphs of one line, in glyph heights. */
  readonly maxGap: number;
  /** Glyphs needed for a line (a single component counts when it is a word: wide and broken). */
  readonly minGlyphs: number;
}

export const DEFAULT_PREFILTER: PrefilterSettings = { minGlyphHeight: 4, maxGlyphHeight: 80, maxGap: 1.6, minGlyphs: 2 };

/** A candidate text line: its box and the glyph height that sets the OCR upscaling. */
export interface CandidateLine {
  readonly box: Box;
  readonly glyphHeight: number;
  readonly glyphs: number;
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
  if (w < 2 * h) return false;
  let best = 0;
  for (const fy of [0.35, 0.5, 0.65]) {
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

/** Candidate text lines of a binary rendering; none means the frame holds no text this detector could read. */
export function candidateLines(image: BinaryImage, settings: PrefilterSettings = DEFAULT_PREFILTER): CandidateLine[] {
  const glyphs = components(image).filter((c) => {
    const h = height(c);
    const w = width(c);
    return h >= settings.minGlyphHeight && h <= settings.maxGlyphHeight && c.pixels >= 6 && w <= 40 * h;
  });
  glyphs.sort((a, b) => a.x0 - b.x0);
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
    if (members.length < settings.minGlyphs && !members.some((m) => isWordLike(m, image))) continue;
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
    lines.push({ box: { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 }, glyphHeight: heights[heights.length >> 1]!, glyphs: members.length });
  }
  return lines;
}
