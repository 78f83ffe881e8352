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
import { valueReader, valueRange } from './samples.js';

/** Values for the masked samples (elsewhere 0): the fill value of each connected region of the mask. */
export function fillValues(frame: Frame, mask: Mask): Float64Array {
  const { columns, samplesPerPixel: spp } = frame.format;
  const out = new Float64Array(frame.data.length);
  const keyOf = tupleKey(frame.format);
  const read = valueReader(frame.format);
  const tuple = new Float64Array(spp);
  // Ring pixels already counted for the region at hand (marked with its number + 1).
  const counted = new Int32Array(mask.rows * columns);
  maskComponents(mask).forEach((component, n) => {
    const counts = new Map<number | string, { count: number; tuple: number[] }>();
    // Only the region's unmasked 8-neighbours are read: a region as large as the frame's margin
    // around an ultrasound sector costs its own size, not a conversion of the whole frame.
    for (const p of component.pixels) {
      const r = (p / columns) | 0;
      const c = p - r * columns;
      for (let rr = Math.max(0, r - 1); rr <= Math.min(mask.rows - 1, r + 1); rr++) {
        for (let cc = Math.max(0, c - 1); cc <= Math.min(columns - 1, c + 1); cc++) {
          const q = rr * columns + cc;
          if (mask.data[q] || counted[q] === n + 1) continue;
          counted[q] = n + 1;
          for (let s = 0; s < spp; s++) tuple[s] = read(frame.data[q * spp + s]!);
          const key = keyOf(tuple, 0);
          const entry = counts.get(key);
          if (entry) entry.count++;
          else counts.set(key, { count: 1, tuple: Array.from(tuple) });
        }
      }
    }
    const value = mostFrequent(counts) ?? black(frame);
    for (const p of component.pixels) for (let s = 0; s < spp; s++) out[p * spp + s] = value[s]!;
  });
  return out;
}

/**
 * One key per distinct sample tuple: the value itself for one sample, the three values packed in
 * one number when they fit in 17 bits each (every 8- and 16-bit colour frame), a string otherwise.
 */
function tupleKey(format: Frame['format']): (values: Float64Array, at: number) => number | string {
  if (format.samplesPerPixel === 1) return (values, at) => values[at]!;
  const { min, max } = valueRange(format);
  if (min >= -65536 && max < 65536) return (values, at) => ((values[at]! + 65536) * 131072 + values[at + 1]! + 65536) * 131072 + values[at + 2]! + 65536;
  return (values, at) => `${values[at]},${values[at + 1]},${values[at + 2]}`;
}

function mostFrequent(counts: Map<number | string, { count: number; tuple: number[] }>): number[] | undefined {
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
