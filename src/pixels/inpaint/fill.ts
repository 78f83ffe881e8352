/**
 * `--redaction fill`: each connected region of the mask becomes one solid value, the value seen
 * most often on the ring of unmasked pixels just around that region (for colour, the most frequent
 * colour). That is the background the region sits on: black around text on the black margin of a
 * CT, white on a MONOCHROME1 radiograph, the tissue's own grey over a marked tattoo. The minimum of
 * the frame would be black only for MONOCHROME2 and would draw a dark box on tissue. Ties go to the
 * smaller value, so the result never depends on scan order. A region with no unmasked neighbour
 * (a mask covering the frame) gets black in the frame's photometric interpretation.
 */
import type { Frame, Mask } from '../types.js';
import { maskComponents } from './mask.js';
import { valueRange } from './samples.js';

/** Values for every sample: the fill value inside the mask, the input's own value elsewhere. */
export function fillValues(frame: Frame, values: Float64Array, mask: Mask): Float64Array {
  const { rows, columns, samplesPerPixel: spp } = frame.format;
  const out = values.slice();
  for (const component of maskComponents(mask)) {
    const counts = new Map<string, { count: number; tuple: number[] }>();
    const { x, y, width, height } = component.bounds;
    for (let r = Math.max(0, y - 1); r <= Math.min(rows - 1, y + height); r++) {
      for (let c = Math.max(0, x - 1); c <= Math.min(columns - 1, x + width); c++) {
        const p = r * columns + c;
        if (mask.data[p] || !touches(mask, r, c)) continue;
        const tuple = Array.from(values.subarray(p * spp, p * spp + spp));
        const key = tuple.join(',');
        const entry = counts.get(key);
        if (entry) entry.count++;
        else counts.set(key, { count: 1, tuple });
      }
    }
    const value = mostFrequent(counts) ?? black(frame);
    for (const p of component.pixels) for (let s = 0; s < spp; s++) out[p * spp + s] = value[s]!;
  }
  return out;
}

/** Whether pixel (r, c) has a masked pixel among its 8 neighbours. */
function touches(mask: Mask, r: number, c: number): boolean {
  for (let dr = -1; dr <= 1; dr++) {
    const rr = r + dr;
    if (rr < 0 || rr >= mask.rows) continue;
    for (let dc = -1; dc <= 1; dc++) {
      const cc = c + dc;
      if (cc >= 0 && cc < mask.columns && mask.data[rr * mask.columns + cc]) return true;
    }
  }
  return false;
}

function mostFrequent(counts: Map<string, { count: number; tuple: number[] }>): number[] | undefined {
  let best: { count: number; tuple: number[] } | undefined;
  for (const entry of counts.values()) {
    if (!best || entry.count > best.count || (entry.count === best.count && lexicallySmaller(entry.tuple, best.tuple))) best = entry;
  }
  return best?.tuple;
}

function lexicallySmaller(a: readonly number[], b: readonly number[]): boolean {
  for (let n = 0; n < a.length; n++) if (a[n] !== b[n]) return a[n]! < b[n]!;
  return false;
}

function black(frame: Frame): number[] {
  const { min, max } = valueRange(frame.format);
  switch (frame.format.photometric) {
    case 'MONOCHROME1':
      return [max];
    case 'YBR_FULL':
    case 'YBR_FULL_422': {
      const mid = Math.round((min + max + 1) / 2);
      return [min, mid, mid];
    }
    default:
      return Array.from({ length: frame.format.samplesPerPixel }, () => min);
  }
}
