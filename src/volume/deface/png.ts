/**
 * Grey renders as PNG files (8-bit greyscale, colour type 0), so a person can look at what the
 * face check saw.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { encode } from 'fast-png';
import { writeReplacing } from '../../pipeline/atomic.js';
import type { GreyImage } from './render.js';

/** The PNG bytes of a grey image. Throws a RangeError when the pixels do not fill the image. */
export function encodeGreyPng(image: GreyImage): Uint8Array {
  const { width, height, pixels } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`a PNG image needs a positive whole width and height, not ${width}×${height}`);
  }
  if (pixels.length !== width * height) {
    throw new RangeError(`a ${width}×${height} grey image needs ${width * height} pixels, not ${pixels.length}`);
  }
  return encode({ width, height, data: pixels, depth: 8, channels: 1 });
}

/** Writes a grey image as a PNG file, atomically (readers never see half a file); makes the folder. */
export async function writePng(file: string, image: GreyImage): Promise<void> {
  const bytes = encodeGreyPng(image);
  await mkdir(path.dirname(file), { recursive: true });
  await writeReplacing(file, bytes);
}
