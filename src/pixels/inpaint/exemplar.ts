/**
 * Exemplar-based inpainting after Criminisi, Pérez and Toyama, "Region filling and object removal
 * by exemplar-based image inpainting", IEEE TIP 13(9), 2004.
 *
 * Hand-written: the installed OpenCV.js build has only Telea and Navier–Stokes (`cv.inpaint`),
 * both diffusion methods that leave a smooth blur; the contrib `xphoto` module with its patch-based
 * methods is not compiled in (see opencv.ts). A marked tattoo on skin must be replaced by skin
 * texture, so patches of real pixels are copied instead.
 *
 * Along the fill front δΩ, every pixel p gets a priority P(p) = C(p)·D(p):
 * - confidence C(p) = Σ_{q ∈ Ψp ∩ known} C(q) / |Ψp|, with C = 1 on the original image, so pixels
 *   surrounded by more reliable pixels go first (the front advances like an onion peel);
 * - data term D(p) = |∇I⊥(p) · n(p)| / α, the strength of the isophote (an edge) hitting the front,
 *   with n the front's normal and α the image's value range, so linear structures are continued
 *   into the hole before flat areas close over them. A small constant is added to D so that, in
 *   flat areas, confidence alone still orders the front.
 * The patch Ψp of highest priority is completed from the source patch Ψq (entirely made of
 * original, unmasked pixels) with the least sum of squared differences over Ψp's known pixels;
 * only Ψp's unknown pixels are written, and they take C(p) as confidence.
 *
 * Speed: all state is in typed arrays; which pixels can centre a source patch is computed once
 * from a summed-area table of the mask; the search is bounded to a window of `searchRadius` around
 * p (doubled until a source is found), with the SSD of a candidate abandoned as soon as it exceeds
 * the best so far.
 * Copied values are real samples of the frame, so the result never holds a value the frame could
 * not hold.
 */
import type { Mask } from '../types.js';
import { InpaintError } from './errors.js';
import { maskComponents } from './mask.js';

export interface ExemplarOptions {
  /** Side of the square patches, odd (default 9). */
  readonly patchSize: number;
  /** Half-side of the first search window around the patch being filled, in pixels (default 40). */
  readonly searchRadius: number;
}

/** Small weight added to the data term, so confidence orders the front where there is no edge. */
const DATA_FLOOR = 1e-3;

/**
 * Values for every sample, `channels` interleaved, filled inside the mask. `values` is not
 * modified.
 */
export function exemplarValues(values: Float64Array, channels: number, rows: number, columns: number, mask: Mask, options: ExemplarOptions): Float64Array {
  const { patchSize, searchRadius } = options;
  const half = (patchSize - 1) >> 1;
  const img = values.slice();
  const unknown = new Uint8Array(rows * columns);
  const confidence = new Float64Array(rows * columns).fill(1);
  for (let p = 0; p < unknown.length; p++) {
    if (mask.data[p]) {
      unknown[p] = 1;
      confidence[p] = 0;
    }
  }
  const maskTable = summedArea(unknown, rows, columns);
  const alpha = valueSpan(values, channels, unknown) || 1;

  // Which pixels can centre a source patch: the patch lies in the frame and holds no masked pixel.
  const validSource = new Uint8Array(rows * columns);
  {
    const w = columns + 1;
    for (let cy = half; cy < rows - half; cy++) {
      for (let cx = half; cx < columns - half; cx++) {
        const x0 = cx - half, y0 = cy - half, x1 = cx + half + 1, y1 = cy + half + 1;
        if (maskTable[y1 * w + x1]! - maskTable[y0 * w + x1]! - maskTable[y1 * w + x0]! + maskTable[y0 * w + x0]! === 0) validSource[cy * columns + cx] = 1;
      }
    }
  }

  /** Luminance-like sum of channels, for gradients. */
  const lum = (p: number): number => {
    let s = 0;
    for (let ch = 0; ch < channels; ch++) s += img[p * channels + ch]!;
    return s;
  };

  const offsets = new Int32Array(patchSize * patchSize);
  const targetValues = new Float64Array(patchSize * patchSize * channels);

  /** The centre of the most similar fully known patch within `radius` of (tr, tc), or −1. */
  const bestSource = (tr: number, tc: number, radius: number, known: number): number => {
    let found = -1;
    let bestSsd = Infinity;
    let bestDistance = Infinity;
    const r0 = Math.max(half, tr - radius), r1 = Math.min(rows - 1 - half, tr + radius);
    const c0 = Math.max(half, tc - radius), c1 = Math.min(columns - 1 - half, tc + radius);
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const centre = r * columns + c;
        if (!validSource[centre]) continue;
        let ssd = 0;
        for (let k = 0; k < known && ssd <= bestSsd; k++) {
          const base = (centre + offsets[k]!) * channels;
          for (let ch = 0; ch < channels; ch++) {
            const d = img[base + ch]! - targetValues[k * channels + ch]!;
            ssd += d * d;
          }
        }
        if (ssd > bestSsd) continue;
        const distance = (r - tr) * (r - tr) + (c - tc) * (c - tc);
        if (ssd < bestSsd || distance < bestDistance) {
          bestSsd = ssd;
          bestDistance = distance;
          found = centre;
        }
      }
    }
    return found;
  };

  const components = maskComponents(mask);
  const label = new Int32Array(rows * columns);
  components.forEach((component, n) => {
    for (const p of component.pixels) label[p] = n + 1;
  });

  components.forEach((component, n) => {
    // A patch may have reached into this region while an earlier, nearby one was filled.
    let remaining = 0;
    for (const p of component.pixels) if (unknown[p]) remaining++;
    const { x: bx, y: by, width: bw, height: bh } = component.bounds;
    while (remaining > 0) {
      // 1. The front pixel of highest priority.
      let best = -1;
      let bestPriority = -1;
      let bestConfidence = 0;
      for (let r = by; r < by + bh; r++) {
        for (let c = bx; c < bx + bw; c++) {
          const p = r * columns + c;
          if (!unknown[p] || !onFront(unknown, rows, columns, r, c)) continue;
          const conf = patchConfidence(confidence, unknown, rows, columns, r, c, half);
          const data = dataTerm(unknown, rows, columns, r, c, half, lum) / alpha;
          const priority = conf * (data + DATA_FLOOR);
          if (priority > bestPriority) {
            bestPriority = priority;
            best = p;
            bestConfidence = conf;
          }
        }
      }
      if (best < 0) throw new InpaintError('exemplar inpainting: the masked region has no known neighbour');
      const pr = (best / columns) | 0;
      const pc = best - pr * columns;

      // 2. The known pixels of the target patch, as offsets from its centre.
      let known = 0;
      for (let dy = -half; dy <= half; dy++) {
        const r = pr + dy;
        if (r < 0 || r >= rows) continue;
        for (let dx = -half; dx <= half; dx++) {
          const c = pc + dx;
          if (c < 0 || c >= columns) continue;
          const q = r * columns + c;
          if (unknown[q]) continue;
          offsets[known] = dy * columns + dx;
          for (let ch = 0; ch < channels; ch++) targetValues[known * channels + ch] = img[q * channels + ch]!;
          known++;
        }
      }

      // 3. The best source patch within a window, widened until one exists.
      let source = -1;
      for (let radius = searchRadius; source < 0; radius *= 2) {
        source = bestSource(pr, pc, radius, known);
        if (source < 0 && radius >= rows + columns) {
          throw new InpaintError(`exemplar inpainting: the frame holds no ${patchSize}×${patchSize} patch free of the mask; use a smaller patchSize or another method`);
        }
      }

      // 4. Copy the source into the target's unknown pixels.
      const sr = (source / columns) | 0;
      const sc = source - sr * columns;
      for (let dy = -half; dy <= half; dy++) {
        const r = pr + dy;
        if (r < 0 || r >= rows) continue;
        for (let dx = -half; dx <= half; dx++) {
          const c = pc + dx;
          if (c < 0 || c >= columns) continue;
          const q = r * columns + c;
          if (!unknown[q]) continue;
          const s = (sr + dy) * columns + (sc + dx);
          for (let ch = 0; ch < channels; ch++) img[q * channels + ch] = img[s * channels + ch]!;
          unknown[q] = 0;
          confidence[q] = bestConfidence;
          if (label[q] === n + 1) remaining--;
        }
      }
    }
  });
  return img;
}

/** An unknown pixel with a known 4-neighbour (pixels off the frame do not count as known). */
function onFront(unknown: Uint8Array, rows: number, columns: number, r: number, c: number): boolean {
  const p = r * columns + c;
  return (c > 0 && !unknown[p - 1]) || (c < columns - 1 && !unknown[p + 1]) || (r > 0 && !unknown[p - columns]) || (r < rows - 1 && !unknown[p + columns]);
}

function patchConfidence(confidence: Float64Array, unknown: Uint8Array, rows: number, columns: number, r: number, c: number, half: number): number {
  let sum = 0;
  let area = 0;
  for (let rr = Math.max(0, r - half); rr <= Math.min(rows - 1, r + half); rr++) {
    for (let cc = Math.max(0, c - half); cc <= Math.min(columns - 1, c + half); cc++) {
      const q = rr * columns + cc;
      area++;
      if (!unknown[q]) sum += confidence[q]!;
    }
  }
  return sum / area;
}

/**
 * |∇I⊥ · n| at a front pixel: n from a Sobel of the unknown indicator, the isophote as the
 * strongest gradient among the patch's known pixels whose four neighbours are known too.
 */
function dataTerm(unknown: Uint8Array, rows: number, columns: number, r: number, c: number, half: number, lum: (p: number) => number): number {
  const u = (rr: number, cc: number): number => (rr < 0 || rr >= rows || cc < 0 || cc >= columns ? 0 : unknown[rr * columns + cc]!);
  const nx = u(r - 1, c + 1) + 2 * u(r, c + 1) + u(r + 1, c + 1) - u(r - 1, c - 1) - 2 * u(r, c - 1) - u(r + 1, c - 1);
  const ny = u(r + 1, c - 1) + 2 * u(r + 1, c) + u(r + 1, c + 1) - u(r - 1, c - 1) - 2 * u(r - 1, c) - u(r - 1, c + 1);
  const norm = Math.hypot(nx, ny);
  if (norm === 0) return 0;
  let gx = 0;
  let gy = 0;
  let strongest = -1;
  for (let rr = Math.max(1, r - half); rr <= Math.min(rows - 2, r + half); rr++) {
    for (let cc = Math.max(1, c - half); cc <= Math.min(columns - 2, c + half); cc++) {
      const q = rr * columns + cc;
      if (unknown[q] || unknown[q - 1] || unknown[q + 1] || unknown[q - columns] || unknown[q + columns]) continue;
      const x = (lum(q + 1) - lum(q - 1)) / 2;
      const y = (lum(q + columns) - lum(q - columns)) / 2;
      const m = x * x + y * y;
      if (m > strongest) {
        strongest = m;
        gx = x;
        gy = y;
      }
    }
  }
  // The isophote is the gradient turned by 90°: (−gy, gx).
  return Math.abs(-gy * nx + gx * ny) / norm;
}

/** Summed-area table of a 0/1 array: entry (y, x) holds the sum over rows < y and columns < x. */
function summedArea(data: Uint8Array, rows: number, columns: number): Int32Array {
  const w = columns + 1;
  const table = new Int32Array((rows + 1) * w);
  for (let r = 0; r < rows; r++) {
    let rowSum = 0;
    for (let c = 0; c < columns; c++) {
      rowSum += data[r * columns + c]!;
      table[(r + 1) * w + c + 1] = table[r * w + c + 1]! + rowSum;
    }
  }
  return table;
}

/** The range of the channel sum over known pixels: the α that normalises the data term. */
function valueSpan(values: Float64Array, channels: number, unknown: Uint8Array): number {
  let min = Infinity;
  let max = -Infinity;
  for (let p = 0; p < unknown.length; p++) {
    if (unknown[p]) continue;
    let s = 0;
    for (let ch = 0; ch < channels; ch++) s += values[p * channels + ch]!;
    if (s < min) min = s;
    if (s > max) max = s;
  }
  return Number.isFinite(max - min) ? max - min : 0;
}
