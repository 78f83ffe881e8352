/**
 * Masks: rectangles to a mask, dilation, union, and the facts about a mask the removers need
 * (its pixel count, its bounding box, its 8-connected components).
 *
 * Written here rather than with OpenCV's dilate: a square dilation is two running-window passes,
 * and keeping masks free of the WebAssembly module lets them be built synchronously anywhere
 * (detection, marked regions) without loading it.
 */
import { connectedRuns } from '../connected-runs.js';
import type { Box, Mask } from '../types.js';
import { InpaintError } from './errors.js';

/** An empty mask of the given size. */
export function emptyMask(rows: number, columns: number): Mask {
  checkSize(rows, columns, 'mask');
  return { rows, columns, data: new Uint8Array(rows * columns) };
}

function checkSize(rows: number, columns: number, what: string): void {
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(columns) || columns < 1) {
    throw new InpaintError(`${what}: rows and columns must be positive integers (got ${rows}×${columns})`);
  }
}

/** Checks a mask's size against its data and, when given, a frame's size. */
export function checkMask(mask: Mask, rows?: number, columns?: number): void {
  checkSize(mask.rows, mask.columns, 'mask');
  if (mask.data.length !== mask.rows * mask.columns) {
    throw new InpaintError(`mask: ${mask.data.length} bytes, but ${mask.columns}×${mask.rows} needs ${mask.rows * mask.columns}`);
  }
  if (rows !== undefined && columns !== undefined && (mask.rows !== rows || mask.columns !== columns)) {
    throw new InpaintError(`mask: ${mask.columns}×${mask.rows} does not match the frame's ${columns}×${rows}`);
  }
}

/**
 * The mask of a set of boxes. Boxes are clipped to the frame (an OCR box may overhang the edge);
 * fractional edges are rounded outwards, so a box never covers less than it says.
 */
export function boxesToMask(boxes: readonly Box[], rows: number, columns: number): Mask {
  const mask = emptyMask(rows, columns);
  boxes.forEach((box, n) => {
    const { x, y, width, height } = box;
    if (![x, y, width, height].every(Number.isFinite) || width < 0 || height < 0) {
      throw new InpaintError(`box ${n + 1}: x, y, width and height must be finite with width and height ≥ 0 (got ${x}, ${y}, ${width}, ${height})`);
    }
    const x0 = Math.max(0, Math.floor(x));
    const y0 = Math.max(0, Math.floor(y));
    const x1 = Math.min(columns, Math.ceil(x + width));
    const y1 = Math.min(rows, Math.ceil(y + height));
    for (let r = y0; r < y1; r++) mask.data.fill(1, r * columns + x0, Math.max(r * columns + x0, r * columns + x1));
  });
  return mask;
}

/**
 * The mask grown by `pixels` in every direction (a square structuring element of side
 * 2·pixels+1): anti-aliased glyph edges lie within a pixel or two of an OCR box, and a square
 * also covers the corners a disk would leave.
 */
export function dilateMask(mask: Mask, pixels: number): Mask {
  checkMask(mask);
  if (!Number.isInteger(pixels) || pixels < 0) throw new InpaintError(`dilation: pixels must be an integer ≥ 0 (got ${pixels})`);
  const { rows, columns } = mask;
  const src = mask.data;
  if (pixels === 0) return { rows, columns, data: binary(src) };
  const out = new Uint8Array(rows * columns);
  const bounds = maskBounds(mask);
  if (!bounds) return { rows, columns, data: out };
  // Only the set pixels' bounding box grown by `pixels` can change: a few words on a large
  // radiograph cost their own surroundings, not two passes over the frame.
  const x0 = Math.max(0, bounds.x - pixels);
  const x1 = Math.min(columns, bounds.x + bounds.width + pixels);
  const y0 = Math.max(0, bounds.y - pixels);
  const y1 = Math.min(rows, bounds.y + bounds.height + pixels);
  const w = x1 - x0;
  // Two passes of a running count: a pixel is set when any set pixel lies within the window.
  const horizontal = new Uint8Array((y1 - y0) * w);
  for (let r = y0; r < y1; r++) {
    const base = r * columns;
    const row = (r - y0) * w;
    let count = 0;
    for (let c = x0; c < Math.min(x0 + pixels, x1); c++) if (src[base + c]) count++;
    for (let c = x0; c < x1; c++) {
      const enter = c + pixels;
      const leave = c - pixels - 1;
      if (enter < x1 && src[base + enter]) count++;
      if (leave >= x0 && src[base + leave]) count--;
      horizontal[row + c - x0] = count > 0 ? 1 : 0;
    }
  }
  // The vertical pass row by row, a running count per column (rows are contiguous in memory).
  const counts = new Int32Array(w);
  for (let r = y0; r < Math.min(y0 + pixels, y1); r++) for (let c = 0; c < w; c++) counts[c]! += horizontal[(r - y0) * w + c]!;
  for (let r = y0; r < y1; r++) {
    const enter = r + pixels;
    const leave = r - pixels - 1;
    if (enter < y1) for (let c = 0, i = (enter - y0) * w; c < w; c++, i++) counts[c]! += horizontal[i]!;
    if (leave >= y0) for (let c = 0, i = (leave - y0) * w; c < w; c++, i++) counts[c]! -= horizontal[i]!;
    const base = r * columns + x0;
    for (let c = 0; c < w; c++) if (counts[c]! > 0) out[base + c] = 1;
  }
  return { rows, columns, data: out };
}

function binary(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let n = 0; n < data.length; n++) out[n] = data[n] ? 1 : 0;
  return out;
}

/** The union of masks of one size; at least one mask is needed to know the size. */
export function unionMasks(first: Mask, ...rest: readonly Mask[]): Mask {
  checkMask(first);
  const out = binary(first.data);
  for (const m of rest) {
    checkMask(m, first.rows, first.columns);
    for (let n = 0; n < out.length; n++) if (m.data[n]) out[n] = 1;
  }
  return { rows: first.rows, columns: first.columns, data: out };
}

/** Whether any pixel of `box` (clipped to the mask) is set in `mask`. */
export function touchesMask(box: Box, mask: Mask): boolean {
  for (let y = Math.max(0, box.y); y < Math.min(mask.rows, box.y + box.height); y++) {
    const row = y * mask.columns;
    for (let x = Math.max(0, box.x); x < Math.min(mask.columns, box.x + box.width); x++) if (mask.data[row + x]) return true;
  }
  return false;
}

/** How many pixels a mask sets. */
export function maskArea(mask: Mask): number {
  const data = mask.data;
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i]) n++;
  return n;
}

/** The smallest box holding every set pixel, or undefined for an empty mask. */
export function maskBounds(mask: Mask): Box | undefined {
  let x0 = mask.columns;
  let y0 = mask.rows;
  let x1 = -1;
  let y1 = -1;
  for (let r = 0; r < mask.rows; r++) {
    const base = r * mask.columns;
    for (let c = 0; c < mask.columns; c++) {
      if (!mask.data[base + c]) continue;
      if (c < x0) x0 = c;
      if (c > x1) x1 = c;
      if (r < y0) y0 = r;
      y1 = r;
    }
  }
  return x1 < 0 ? undefined : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** One 8-connected component of a mask: its pixel indices and bounding box. */
export interface MaskComponent {
  readonly pixels: Int32Array;
  readonly bounds: Box;
}

/** The 8-connected components of a mask, in raster order of their first pixel. */
export function maskComponents(mask: Mask): MaskComponent[] {
  const { rows, columns, data } = mask;
  const runs = connectedRuns(data, columns, rows);
  const n = runs.components;
  const sizes = new Int32Array(n);
  const x0 = new Int32Array(n).fill(columns);
  const y0 = new Int32Array(n).fill(-1);
  const x1 = new Int32Array(n).fill(-1);
  const y1 = new Int32Array(n);
  for (let r = 0; r < runs.count; r++) {
    const c = runs.component[r]!;
    sizes[c]! += runs.x1[r]! - runs.x0[r]! + 1;
    if (runs.x0[r]! < x0[c]!) x0[c] = runs.x0[r]!;
    if (runs.x1[r]! > x1[c]!) x1[c] = runs.x1[r]!;
    if (y0[c] === -1) y0[c] = runs.y[r]!;
    y1[c] = runs.y[r]!;
  }
  const pixels = Array.from(sizes, (size) => new Int32Array(size));
  const filled = new Int32Array(n);
  // Runs come in raster order, so each component's pixels do too.
  for (let r = 0; r < runs.count; r++) {
    const c = runs.component[r]!;
    const list = pixels[c]!;
    let k = filled[c]!;
    for (let p = runs.y[r]! * columns + runs.x0[r]!, end = runs.y[r]! * columns + runs.x1[r]!; p <= end; p++) list[k++] = p;
    filled[c] = k;
  }
  return pixels.map((list, c) => ({ pixels: list, bounds: { x: x0[c]!, y: y0[c]!, width: x1[c]! - x0[c]! + 1, height: y1[c]! - y0[c]! + 1 } }));
}
