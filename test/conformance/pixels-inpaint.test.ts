/**
 * Pixel removal on real frames of the shared corpus: a CT slice (NEMA CT1, 512², 16-bit signed),
 * an MR slice, and the Presidio images with burned-in text and ground-truth boxes. Checks that
 * every method changes nothing outside the mask, that exemplar inpainting continues the texture of
 * soft tissue over a synthetic "tattoo" (where Telea leaves a smooth blur) and carries the body
 * outline through a hole, that Telea over the ground-truth text boxes (dilated) leaves no glyph
 * pixels, and that a region marked in a JSON file with a PNG mask reaches the right image.
 *
 * Frames are decoded here from native little-endian pixel data with radanon's DICOM reader, so the
 * test does not depend on the pixel codec.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encode as encodePng } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import { readDicom } from '../../src/dicom/reader.js';
import { numberOf, textOf, VolumeTags as T } from '../../src/volume/dicom-values.js';
import { boxesToMask, dilateMask, inpaintFrame, maskArea } from '../../src/pixels/inpaint/index.js';
import { loadMarkedRegions, markedMaskFor } from '../../src/pixels/regions.js';
import type { Box, Frame, Mask, Photometric, Redaction } from '../../src/pixels/types.js';
import { dicomDir } from './helpers.js';

/** The first frame of a native little-endian DICOM file, as the codec would return it. */
function readNativeFrame(rel: string): { frame: Frame; intercept: number } {
  const file = readDicom(readFileSync(path.join(dicomDir, rel)));
  expect(file.transferSyntax.littleEndian && !file.transferSyntax.encapsulated).toBe(true);
  const ds = file.dataset;
  const n = (t: Parameters<typeof numberOf>[1]): number => {
    const v = numberOf(ds, t, true);
    if (v === undefined) throw new Error(`${rel}: no value for ${String(t)}`);
    return v;
  };
  const rows = n(T.Rows);
  const columns = n(T.Columns);
  const samplesPerPixel = n(T.SamplesPerPixel) as 1 | 3;
  const bitsAllocated = n(T.BitsAllocated) as 8 | 16;
  const pixelRepresentation = n(T.PixelRepresentation) as 0 | 1;
  const el = ds.get(T.PixelData);
  if (!el || el.kind !== 'value') throw new Error(`${rel}: no native pixel data`);
  const count = rows * columns * samplesPerPixel;
  const bytes = el.bytes.slice(0, count * (bitsAllocated / 8));
  const data =
    bitsAllocated === 8 ? new Uint8Array(bytes) : pixelRepresentation === 1 ? new Int16Array(bytes.buffer, bytes.byteOffset, count) : new Uint16Array(bytes.buffer, bytes.byteOffset, count);
  if (samplesPerPixel === 3) expect(numberOf(ds, tagPlanar, true) ?? 0).toBe(0);
  return {
    frame: {
      format: {
        rows,
        columns,
        samplesPerPixel,
        bitsAllocated,
        bitsStored: n(T.BitsStored),
        highBit: n(T.HighBit),
        pixelRepresentation,
        photometric: (textOf(ds, T.PhotometricInterpretation) ?? 'MONOCHROME2') as Photometric,
      },
      data,
    },
    intercept: numberOf(ds, T.RescaleIntercept, true) ?? 0,
  };
}
const tagPlanar = 0x00280006 as Parameters<typeof numberOf>[1];

function boxMask(frame: Frame, boxes: readonly Box[]): Mask {
  return boxesToMask(boxes, frame.format.rows, frame.format.columns);
}

/** Whether two sample arrays hold the same bytes (fast for whole frames, unlike toEqual). */
function sameBytes(a: ArrayLike<number> & ArrayBufferView, b: ArrayLike<number> & ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Indices of samples that differ between two frames, by pixel. */
function changedPixels(a: Frame, b: Frame): number[] {
  const spp = a.format.samplesPerPixel;
  const out: number[] = [];
  for (let n = 0; n < a.data.length; n++) if (a.data[n] !== b.data[n] && out[out.length - 1] !== Math.floor(n / spp)) out.push(Math.floor(n / spp));
  return out;
}

/**
 * The noise-like texture of a region: the robust spread (1.4826 × median absolute deviation) of the
 * high-pass (value minus its 3×3 mean) over the pixels where `where` is set. The median ignores
 * the few pixels on an edge, so this measures texture, not structure.
 */
function highFrequency(frame: Frame, where: (r: number, c: number) => boolean): number {
  const { rows, columns } = frame.format;
  const v = (r: number, c: number) => frame.data[r * columns + c]!;
  const residuals: number[] = [];
  for (let r = 1; r < rows - 1; r++) {
    for (let c = 1; c < columns - 1; c++) {
      if (!where(r, c)) continue;
      let sum = 0;
      for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) sum += v(r + dr, c + dc);
      residuals.push(v(r, c) - sum / 9);
    }
  }
  const median = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  };
  const centre = median(residuals);
  return 1.4826 * median(residuals.map((x) => Math.abs(x - centre)));
}

const METHODS: readonly Redaction[] = ['telea', 'navier-stokes', 'exemplar', 'fill'];

describe('inpainting real frames', () => {
  const ct = readNativeFrame('dicomParser/CT1_UNC.implicit_little_endian.dcm');
  const HOLE = 40;
  const RING = 16;

  /** The first window (raster order, step 8) whose hole and ring are all soft tissue (−200…200 HU: fat and muscle). */
  function softTissueWindow(): { x: number; y: number } {
    const { rows, columns } = ct.frame.format;
    const side = HOLE + 2 * RING;
    for (let y = 0; y + side <= rows; y += 8) {
      for (let x = 0; x + side <= columns; x += 8) {
        for (const [low, high] of [[-200, 200]] as const) {
          let ok = true;
          for (let r = y; r < y + side && ok; r++) {
            for (let c = x; c < x + side && ok; c++) {
              const hu = ct.frame.data[r * columns + c]! + ct.intercept;
              if (hu < low || hu > high) ok = false;
            }
          }
          if (ok) return { x: x + RING, y: y + RING };
        }
      }
    }
    throw new Error('no soft-tissue window in the CT slice');
  }

  it('finds the CT slice as expected: 512², 16-bit signed', () => {
    expect(ct.frame.format).toMatchObject({ rows: 512, columns: 512, bitsAllocated: 16, pixelRepresentation: 1 });
    expect(ct.frame.data).toBeInstanceOf(Int16Array);
  });

  const tattoo = softTissueWindow();
  const holeBox: Box = { x: tattoo.x, y: tattoo.y, width: HOLE, height: HOLE };
  // A synthetic tattoo: bright ink in rings over the soft tissue, clearly not tissue.
  const inked: Frame = (() => {
    const data = Int16Array.from(ct.frame.data as Int16Array);
    const { columns } = ct.frame.format;
    for (let r = 0; r < HOLE; r++) {
      for (let c = 0; c < HOLE; c++) {
        const d = Math.hypot(r - HOLE / 2, c - HOLE / 2);
        if (Math.floor(d / 4) % 2 === 0) data[(tattoo.y + r) * columns + tattoo.x + c] = 2500;
      }
    }
    return { format: ct.frame.format, data };
  })();
  const holeMask = boxMask(inked, [holeBox]);
  const inHole = (r: number, c: number) => r >= holeBox.y && r < holeBox.y + HOLE && c >= holeBox.x && c < holeBox.x + HOLE;
  const inRing = (r: number, c: number) =>
    !inHole(r, c) && r >= holeBox.y - RING && r < holeBox.y + HOLE + RING && c >= holeBox.x - RING && c < holeBox.x + HOLE + RING;

  for (const method of METHODS) {
    it(`${method}: removes the tattoo, changes nothing outside the mask and leaves the input alone`, async () => {
      const before = Int16Array.from(inked.data as Int16Array);
      const out = await inpaintFrame(inked, holeMask, method);
      expect(sameBytes(inked.data, before)).toBe(true);
      expect(out.data).toBeInstanceOf(Int16Array);
      const changed = changedPixels(inked, out);
      expect(changed.length).toBeGreaterThan(0);
      expect(changed.every((p) => holeMask.data[p] === 1)).toBe(true);
      // No ink left. Diffusion and fill take values from the hole's border, so they stay within the
      // range of the ring around it; exemplar copies real pixels from its search window (40 px
      // around the patch, which is 9 px), so its values are values of that window.
      const margin = method === 'exemplar' ? 40 + 4 : RING;
      const around = new Set<number>();
      let lo = Infinity, hi = -Infinity;
      const { columns } = out.format;
      for (let r = holeBox.y - margin; r < holeBox.y + HOLE + margin; r++) {
        for (let c = holeBox.x - margin; c < holeBox.x + HOLE + margin; c++) {
          if (inHole(r, c)) continue;
          const v = inked.data[r * columns + c]!;
          around.add(v);
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
      let foreign = 0;
      for (let p = 0; p < out.data.length; p++) {
        if (!holeMask.data[p]) continue;
        const v = out.data[p]!;
        if (method === 'exemplar' ? !around.has(v) : v < lo || v > hi) foreign++;
      }
      expect(foreign).toBe(0);
    });
  }

  it('exemplar continues the soft tissue texture; Telea leaves a smooth blur', async () => {
    const ringTexture = highFrequency(inked, inRing);
    const exemplar = await inpaintFrame(inked, holeMask, 'exemplar');
    const telea = await inpaintFrame(inked, holeMask, 'telea');
    const exemplarRatio = highFrequency(exemplar, inHole) / ringTexture;
    const teleaRatio = highFrequency(telea, inHole) / ringTexture;
    expect(ringTexture).toBeGreaterThan(5);
    expect(exemplarRatio).toBeGreaterThan(0.6);
    expect(exemplarRatio).toBeLessThan(1.5);
    expect(teleaRatio).toBeLessThan(0.35);
  });

  it('exemplar continues the body outline (skin against air) across a hole laid over it', async () => {
    const { rows, columns } = ct.frame.format;
    const hu = (f: Frame, r: number, c: number) => f.data[r * columns + c]! + ct.intercept;
    /** The first row, from the top, where column c enters the body (above −500 HU). */
    const outline = (f: Frame, c: number) => {
      let r = 0;
      while (r < rows && hu(f, r, c) < -500) r++;
      return r;
    };
    const centre = columns / 2;
    const top = outline(ct.frame, centre);
    expect(top).toBeGreaterThan(20);
    expect(top).toBeLessThan(rows / 2);
    const box: Box = { x: centre - HOLE / 2, y: top - HOLE / 2, width: HOLE, height: HOLE };
    const out = await inpaintFrame(ct.frame, boxMask(ct.frame, [box]), 'exemplar');
    let error = 0;
    for (let c = box.x; c < box.x + HOLE; c++) error += Math.abs(outline(out, c) - outline(ct.frame, c));
    // The outline inside the hole is where the real one was, within a pixel or two on average.
    expect(error / HOLE).toBeLessThan(2);
  });
});

describe('Telea on burned-in text (Presidio sample, ground-truth boxes)', () => {
  const truth = JSON.parse(readFileSync(path.join(dicomDir, 'presidio/ground_truth.json'), 'utf8')) as Record<string, { left: number; top: number; width: number; height: number }[]>;
  const { frame } = readNativeFrame('presidio/2_ORIGINAL.dcm');
  // Presidio pads an image by 25 pixels on every side before OCR, and its ground truth is in that
  // padded frame: the text's bright pixels span (1, 0)–(228, 25), the boxes (26, 25)–(254, 51).
  const PADDING = 25;
  const boxes = truth['sample_data/2_ORIGINAL.dcm']!.map((b) => ({ x: b.left - PADDING, y: b.top - PADDING, width: b.width, height: b.height }));
  const mask = dilateMask(boxMask(frame, boxes), 2);
  const { rows, columns } = frame.format;
  /** The text is burned in at the largest value, 32767; the image around it is near 0. */
  const glyphs = (f: Frame) => {
    let n = 0;
    for (let p = 0; p < rows * columns; p++) if (mask.data[p] && f.data[p]! > 30000) n++;
    return n;
  };

  for (const method of ['telea', 'navier-stokes', 'fill'] as const) {
    it(`${method}: no glyph pixel is left, and nothing outside the dilated boxes changes`, async () => {
      expect(glyphs(frame)).toBeGreaterThan(900);
      const out = await inpaintFrame(frame, mask, method);
      expect(glyphs(out)).toBe(0);
      expect(changedPixels(frame, out).every((p) => mask.data[p] === 1)).toBe(true);
    });
  }

  it('Telea takes tens of milliseconds on this frame once OpenCV is loaded', async () => {
    await inpaintFrame(frame, mask, 'telea');
    const start = performance.now();
    await inpaintFrame(frame, mask, 'telea');
    expect(performance.now() - start).toBeLessThan(500);
    expect(maskArea(mask)).toBeGreaterThan(1000);
  });
});

describe('other real frames', () => {
  const cases = [
    { rel: 'pydicom/MR_small.dcm', box: { x: 20, y: 20, width: 12, height: 10 } },
    { rel: 'presidio/RGB_ORIGINAL.dcm', box: { x: 30, y: 20, width: 60, height: 16 } },
  ];
  for (const { rel, box } of cases) {
    for (const method of METHODS) {
      it(`${rel}: ${method} changes the box and nothing else`, async () => {
        const { frame } = readNativeFrame(rel);
        const mask = boxMask(frame, [box]);
        const before = frame.data.slice();
        const out = await inpaintFrame(frame, mask, method);
        expect(sameBytes(frame.data, before)).toBe(true);
        const changed = changedPixels(frame, out);
        expect(changed.every((p) => mask.data[p] === 1)).toBe(true);
        expect(out.data.length).toBe(frame.data.length);
      });
    }
  }
});

describe('a marked region on a real CT, from a JSON file with a PNG mask', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'radanon-marked-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const rel = 'dicomParser/CT1_UNC.implicit_little_endian.dcm';
  const file = readDicom(readFileSync(path.join(dicomDir, rel)));
  const sopInstanceUid = textOf(file.dataset, T.SOPInstanceUID)!;
  const seriesInstanceUid = textOf(file.dataset, T.SeriesInstanceUID)!;
  const { frame } = readNativeFrame(rel);
  const { rows, columns } = frame.format;

  it('resolves the mask for that image only and removes it with exemplar inpainting', async () => {
    // A round "tattoo" of radius 15 drawn white on black, as a user would in an image editor.
    const png = new Uint8Array(rows * columns);
    for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) if (Math.hypot(r - 90, c - 320) <= 15) png[r * columns + c] = 255;
    writeFileSync(path.join(dir, 'tattoo.png'), encodePng({ width: columns, height: rows, data: png, channels: 1, depth: 8 }));
    writeFileSync(path.join(dir, 'regions.json'), JSON.stringify({ regions: [{ sopInstanceUid, maskImage: 'tattoo.png', label: 'tattoo' }] }));
    const regions = loadMarkedRegions(path.join(dir, 'regions.json'));
    const image = { sopInstanceUid, seriesInstanceUid, relativePath: rel, frame: 0, rows, columns };
    const mask = markedMaskFor(regions, image)!;
    expect(maskArea(mask)).toBe(png.filter((v) => v).length);
    expect(markedMaskFor(regions, { ...image, sopInstanceUid: `${sopInstanceUid}.1` })).toBeUndefined();
    const out = await inpaintFrame(frame, mask, 'exemplar');
    const changed = changedPixels(frame, out);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((p) => mask.data[p] === 1)).toBe(true);
  });
});
