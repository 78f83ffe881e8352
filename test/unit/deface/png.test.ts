/**
 * Grey images as PNG: written with radanon, read back with fast-png's decoder.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decode } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeGreyPng, writePng } from '../../../src/volume/deface/png.js';
import type { GreyImage } from '../../../src/volume/deface/render.js';

const dir = mkdtempSync(path.join(tmpdir(), 'radanon-png-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A non-square image whose every pixel differs from its neighbours, so that a transposition or shift shows. */
function pattern(width: number, height: number): GreyImage {
  const pixels = new Uint8Array(width * height);
  for (let row = 0; row < height; row++) for (let col = 0; col < width; col++) pixels[row * width + col] = (row * 37 + col * 11 + ((row * col) % 7)) & 0xff;
  return { width, height, pixels };
}

describe('writePng', () => {
  it('writes an 8-bit grey PNG that decodes to the same pixels', async () => {
    const image = pattern(37, 23);
    const file = path.join(dir, 'round-trip.png');
    await writePng(file, image);
    const png = decode(readFileSync(file));
    expect(png.width).toBe(37);
    expect(png.height).toBe(23);
    expect(png.channels).toBe(1);
    expect(png.depth).toBe(8);
    expect(Array.from(png.data)).toEqual(Array.from(image.pixels));
  });

  it('makes the folder, replaces an existing file and leaves no temporary file', async () => {
    const file = path.join(dir, 'nested', 'deeper', 'preview.png');
    await writePng(file, pattern(8, 8));
    writeFileSync(path.join(dir, 'nested', 'deeper', 'other.txt'), 'kept');
    const second = pattern(16, 9);
    await writePng(file, second);
    const png = decode(readFileSync(file));
    expect([png.width, png.height]).toEqual([16, 9]);
    expect(Array.from(png.data)).toEqual(Array.from(second.pixels));
    expect(readdirSync(path.join(dir, 'nested', 'deeper')).sort()).toEqual(['other.txt', 'preview.png']);
  });

  it('rejects pixels that do not fill the image', async () => {
    expect(() => encodeGreyPng({ width: 4, height: 4, pixels: new Uint8Array(15) })).toThrow(/needs 16 pixels, not 15/);
    expect(() => encodeGreyPng({ width: 0, height: 4, pixels: new Uint8Array(0) })).toThrow(RangeError);
    await expect(writePng(path.join(dir, 'bad.png'), { width: 2, height: 2, pixels: new Uint8Array(5) })).rejects.toThrow(RangeError);
    expect(readdirSync(dir)).not.toContain('bad.png');
  });
});
