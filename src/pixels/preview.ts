/**
 * Pictures of what pixel de-identification found: the frame as a person would see it (grey
 * frames stretched between their 0.5th and 99.5th percentiles, colour as is) with each finding's
 * box drawn in the colour of its source. Written as 8-bit RGB PNG.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { encode } from 'fast-png';
import { writeReplacing } from '../pipeline/atomic.js';
import { displayPlane } from './detect/windowing.js';
import type { Finding, FindingSource, Frame } from './types.js';

/** Box colours by source: OCR red, ultrasound regions yellow, device rules cyan, marked magenta. */
const COLOURS: Readonly<Record<FindingSource, readonly [number, number, number]>> = {
  ocr: [255, 40, 40],
  'ultrasound-region': [255, 220, 0],
  'device-rule': [0, 220, 255],
  marked: [255, 0, 255],
};

/** The frame as 8-bit RGB for display, interleaved. */
export function displayRgb(frame: Frame): { width: number; height: number; data: Uint8Array } {
  const { rows, columns, samplesPerPixel, photometric } = frame.format;
  const n = rows * columns;
  const out = new Uint8Array(n * 3);
  if (samplesPerPixel === 3 && photometric === 'RGB' && frame.format.bitsAllocated === 8) {
    out.set(frame.data as Uint8Array);
    return { width: columns, height: rows, data: out };
  }
  // Grey, YBR and palette indices: the display brightness the detector reads, stretched.
  const plane = displayPlane(frame).data;
  const sorted = Float32Array.from(plane.length > 200_000 ? plane.filter((_, i) => i % 7 === 0) : plane).sort();
  const lo = sorted[Math.floor(sorted.length * 0.005)] ?? 0;
  const hi = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.995))] ?? 1;
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  for (let i = 0; i < n; i++) {
    const v = Math.max(0, Math.min(255, Math.round((plane[i]! - lo) * scale)));
    out[3 * i] = v;
    out[3 * i + 1] = v;
    out[3 * i + 2] = v;
  }
  return { width: columns, height: rows, data: out };
}

/** Draws each finding's box outline (2 px) on an RGB image in place. */
export function drawFindings(image: { width: number; height: number; data: Uint8Array }, findings: readonly Finding[]): void {
  const { width, height, data } = image;
  const put = (x: number, y: number, [r, g, b]: readonly [number, number, number]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const i = 3 * (y * width + x);
    data[i] = r;
    data[i + 1] = g;
    data[i + 2] = b;
  };
  for (const f of findings) {
    const c = COLOURS[f.source];
    const { x, y, width: w, height: h } = f.box;
    for (let t = 0; t < 2; t++) {
      for (let i = x - t; i <= x + w - 1 + t; i++) {
        put(i, y - t, c);
        put(i, y + h - 1 + t, c);
      }
      for (let j = y - t; j <= y + h - 1 + t; j++) {
        put(x - t, j, c);
        put(x + w - 1 + t, j, c);
      }
    }
  }
}

/** Writes the frame with its findings drawn as a PNG file (atomically; makes the folder). */
export async function writeFindingsPreview(file: string, frame: Frame, findings: readonly Finding[]): Promise<void> {
  const image = displayRgb(frame);
  drawFindings(image, findings);
  await mkdir(path.dirname(file), { recursive: true });
  await writeReplacing(file, encode({ width: image.width, height: image.height, data: image.data, depth: 8, channels: 3 }));
}
