/**
 * Burned-in text detection on real pixel data: the synthetic suite (text with known glyph
 * pixels drawn on real CT, MR and US frames, support/synthetic-text.ts) and the presidio
 * images with their ground truth. Runs the real OCR engine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDicom } from '../../src/dicom/reader.js';
import { openPixelData } from '../../src/pixels/codec/pixel-data.js';
import { createTextDetector, type TextDetector } from '../../src/pixels/detect/detector.js';
import { prefilter } from '../../src/pixels/detect/prefilter.js';
import { textView } from '../../src/pixels/detect/windowing.js';
import { boxesToMask, dilateMask, touchesMask } from '../../src/pixels/inpaint/mask.js';
import type { Finding, Frame } from '../../src/pixels/types.js';
import { dicomDir } from './helpers.js';
import { baseFrames, findingArea, syntheticSuite, wordCovered, type SyntheticImage } from './support/synthetic-text.js';

/**
 * Share of synthetic words recalled: all of them. Measured on this suite (perFrame 2): 110/110;
 * on the full suite (perFrame 4) 236/236, with no finding on any text-free CT or MR frame (the
 * 8–9 px words on 64² MR are found with a 7 px top-hat and word-like components of aspect 1.3 on
 * frames under 128²; text 10 % over busy anatomy with a rendering at 7 % of the range; text a few
 * per cent over a CT's flat padding with one thresholded by the local clutter). Before these,
 * 106/110 and 227/236. Any missed word fails the test.
 */
const RECALL_FLOOR = 1;

/** presidio's redactor pads every image by 25 pixels before OCR; ground_truth.json is in padded coordinates. */
const PRESIDIO_PADDING = 25;

let detector: TextDetector;
const suite: SyntheticImage[] = syntheticSuite(dicomDir, { perFrame: 2 });

beforeAll(async () => {
  detector = await createTextDetector({ workers: 2, digestKey: new Uint8Array(32).fill(7) });
});

afterAll(async () => {
  await detector?.close();
});

async function recalled(prefilterOn: boolean): Promise<{ ids: Set<string>; findings: Map<string, Finding[]> }> {
  const ids = new Set<string>();
  const findings = new Map<string, Finding[]>();
  for (const img of suite) {
    const f = await detector.detect(img.frame, { frameIndex: 0, prefilter: prefilterOn });
    findings.set(img.id, f);
    img.words.forEach((w, i) => {
      if (wordCovered(w, f)) ids.add(`${img.id}#${i}`);
    });
  }
  return { ids, findings };
}

describe('synthetic burned-in text on real CT, MR and US', () => {
  let withPrefilter: Awaited<ReturnType<typeof recalled>>;

  it('the suite draws names, dates and IDs in several fonts, sizes and intensities, with glyph ground truth', () => {
    const words = suite.flatMap((s) => s.words);
    expect(suite.length).toBeGreaterThanOrEqual(12);
    expect(new Set(suite.map((s) => s.modality))).toEqual(new Set(['CT', 'MR', 'US']));
    expect(new Set(words.map((w) => w.line.font)).size).toBeGreaterThanOrEqual(4);
    expect(new Set(words.map((w) => w.line.intensity))).toContain('low');
    const sizes = words.map((w) => w.line.size);
    expect(Math.min(...sizes)).toBeLessThanOrEqual(9);
    expect(Math.max(...sizes)).toBeGreaterThanOrEqual(20);
    for (const w of words) expect(w.glyph.some((v) => v === 1)).toBe(true);
  });

  it('recalls the words (every glyph pixel inside a finding) above the floor, printing nothing', async () => {
    // The engine's core writes notes to the console from its worker threads ("Estimating
    // resolution as …", "Detected N diacritics"); they reach this process's stdout or stderr.
    const printed: string[] = [];
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    const capture = (chunk: unknown) => {
      printed.push(String(chunk));
      return true;
    };
    process.stdout.write = capture as typeof process.stdout.write;
    process.stderr.write = capture as typeof process.stderr.write;
    try {
      withPrefilter = await recalled(true);
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
    }
    expect(printed.filter((p) => /resolution|diacritic|tesseract|leptonica/i.test(p))).toEqual([]);
    const total = suite.reduce((n, s) => n + s.words.length, 0);
    const missed = suite.flatMap((s) => s.words.map((w, i) => ({ id: `${s.id}#${i}`, w }))).filter((x) => !withPrefilter.ids.has(x.id));
    const share = withPrefilter.ids.size / total;
    expect(share, `missed: ${missed.map((m) => `${m.id} ${m.w.line.size}px ${m.w.line.intensity}`).join('; ')}`).toBeGreaterThanOrEqual(RECALL_FLOOR);
  });

  it('loses no word to the pre-filter: recall without it is the same set', async () => {
    const without = await recalled(false);
    const lostToPrefilter = [...without.ids].filter((id) => !withPrefilter.ids.has(id));
    expect(lostToPrefilter).toEqual([]);
    expect(withPrefilter.ids.size).toBe(without.ids.size);
  });

  it('keeps recognised text out of findings: masked shape and a keyed digest only', () => {
    const all = [...withPrefilter.findings.values()].flat();
    const read = all.filter((f) => f.text !== undefined);
    expect(read.length).toBeGreaterThan(20);
    for (const f of read) {
      expect(f.source).toBe('ocr');
      expect(f.text!.masked).not.toMatch(/[A-WYZa-wyz0-8]/);
      expect(f.text!.digest).toMatch(/^[0-9a-f]{16}$/);
      expect(typeof f.confidence).toBe('number');
    }
  });
});

describe('text-free CT, MR, NM and PT frames', () => {
  const free = baseFrames(dicomDir).filter((b) => !b.hasOwnText);

  /**
   * Text-free CT, MR, NM and PT frames of the corpus beyond the synthetic suite's bases, each
   * checked by eye on a rendering of the frame: lossy JPEG and JPEG 2000 CT (compression noise
   * makes no print), big-endian CT, an abdominal MR with an overlay plane (the overlay is not in
   * the pixels), a noisy contrast-enhanced abdominal CT in JPEG 2000 whose bright bowel specks
   * line up like small glyphs (explicit_VR-UN), the same CT and MR slices in their other
   * transfer syntaxes, nuclear-medicine whole-body scans and a PET slice in colour.
   */
  const moreFree = [
    'pydicom-data/explicit_VR-UN.dcm',
    'pydicom/693_J2KI.dcm',
    'dicomParser/encapsulated__multi-frame__CT0012.fragmented_no_bot_jpeg_baseline.51.dcm',
    'dicomParser/encapsulated__multi-frame__CT0012.not_fragmented_bot_rle.dcm',
    'dicomParser/encapsulated__multi-frame__CT0012.fragmented_no_bot_jpeg_lossless.57.dcm',
    'dicomParser/encapsulated__multi-frame__CT0012.fragmented_no_bot_jpeg_ls.81.dcm',
    'dicomParser/encapsulated__single-frame__CT1_UNC.fragmented_bot_jpeg_ls.80.dcm',
    'dicomParser/CT1_UNC.explicit_big_endian.dcm',
    'pydicom-data/bad_sequence.dcm',
    'pydicom/examples_overlay.dcm',
    'pydicom/MR_small_RLE.dcm',
    'pydicom/MR_small_bigendian.dcm',
    'pydicom/MR_small_jp2klossless.dcm',
    'pydicom/MR_small_jpeg_ls_lossless.dcm',
    'pydicom/JPEG-lossy.dcm',
    'pydicom/JPEG2000.dcm',
    'pydicom/JPGExtended.dcm',
    'presidio/RGB_ORIGINAL.dcm',
  ];

  it('flags nothing on any text-free CT, MR, NM or PT frame of the corpus (anatomy stays bit-identical)', async () => {
    const flagged: string[] = [];
    let frames = 0;
    for (const b of free) {
      const f = await detector.detect(b.frame, { frameIndex: 0 });
      frames++;
      if (f.length > 0) flagged.push(`${b.id}: ${f.length} findings, ${findingArea(f, b.frame.format.rows, b.frame.format.columns)} px`);
    }
    for (const rel of moreFree) {
      const pixels = await openPixelData(readDicom(fs.readFileSync(path.join(dicomDir, rel))));
      if (!pixels) throw new Error(`${rel}: no pixel data`);
      for (let i = 0; i < pixels.frameCount; i++) {
        const frame = pixels.decodeFrame(i);
        const f = await detector.detect(frame, { frameIndex: i });
        frames++;
        if (f.length > 0) flagged.push(`${rel}#${i}: ${f.length} findings, ${findingArea(f, frame.format.rows, frame.format.columns)} px`);
      }
    }
    expect(frames).toBeGreaterThanOrEqual(free.length + moreFree.length);
    expect(flagged).toEqual([]);
  });

  it('the pre-filter skips ordinary 512² CT slices without OCR, in CPU milliseconds', () => {
    const ct512 = free.filter((b) => b.modality === 'CT' && b.frame.format.rows === 512);
    expect(ct512.length).toBeGreaterThanOrEqual(3);
    let skipped = 0;
    for (const b of ct512) {
      // CPU time, not wall time, best of three: the CI machine is shared. 30 ms is the issue's
      // budget; the bound is twice it so that a loaded runner does not fail the test.
      let best = Infinity;
      let lines = prefilter(textView(b.frame));
      for (let k = 0; k < 3; k++) {
        const before = process.cpuUsage();
        lines = prefilter(textView(b.frame));
        const used = process.cpuUsage(before);
        best = Math.min(best, (used.user + used.system) / 1000);
      }
      expect(best, b.id).toBeLessThan(60);
      if (lines.length === 0) skipped++;
    }
    expect(skipped).toBe(ct512.length);
  });
});

describe('presidio images with burned-in text (ground_truth.json)', () => {
  const dir = path.join(dicomDir, 'presidio');
  const truth = JSON.parse(fs.readFileSync(path.join(dir, 'ground_truth.json'), 'utf8')) as Record<string, { label: string; left: number; top: number; width: number; height: number }[]>;

  async function frameOf(file: string): Promise<Frame> {
    const pixels = await openPixelData(readDicom(fs.readFileSync(path.join(dir, file))));
    if (!pixels) throw new Error(`${file}: no pixel data`);
    return pixels.decodeFrame(0);
  }

  function uncovered(key: string, findings: readonly Finding[]): string[] {
    return truth[key]!.filter((b) => {
      const box = { x: b.left - PRESIDIO_PADDING, y: b.top - PRESIDIO_PADDING, width: b.width, height: b.height };
      return !wordCovered({ box, glyph: new Uint8Array(box.width * box.height).fill(1) }, findings);
    }).map((b) => b.label.replace(/[A-Za-z0-9]/g, '·'));
  }

  it('2_ORIGINAL (CT with text at the maximum): every ground-truth box is covered, with and without the pre-filter', async () => {
    const frame = await frameOf('2_ORIGINAL.dcm');
    for (const on of [true, false]) {
      const findings = await detector.detect(frame, { frameIndex: 0, prefilter: on });
      expect(uncovered('sample_data/2_ORIGINAL.dcm', findings)).toEqual([]);
    }
  });

  it('a reading near a mask (the read-again check of a cleaned frame) gives exactly the full reading\'s findings that touch it', async () => {
    const frame = await frameOf('2_ORIGINAL.dcm');
    const { rows, columns } = frame.format;
    const full = await detector.detect(frame, { frameIndex: 0 });
    const words = full.filter((f) => f.text !== undefined);
    expect(words.length).toBeGreaterThan(3);
    const key = (f: Finding) => `${f.box.x},${f.box.y},${f.box.width},${f.box.height},${f.text?.digest ?? ''}`;
    for (const chosen of [words[0]!, words[words.length - 1]!]) {
      const mask = dilateMask(boxesToMask([chosen.box], rows, columns), 2);
      const near = await detector.detect(frame, { frameIndex: 0, near: mask });
      const expected = full.filter((f) => touchesMask(f.box, mask));
      expect(near.map(key).sort()).toEqual(expected.map(key).sort());
      expect(near.length).toBeGreaterThan(0);
      expect(near.length).toBeLessThan(full.length);
    }
    await expect(detector.detect(frame, { frameIndex: 0, near: boxesToMask([], rows + 1, columns) })).rejects.toThrow(/hints\.near: a 394×553 mask for a 394×552 frame/);
  });

  it('0_ORIGINAL (CR 1760×2140, MONOCHROME1, RLE): every ground-truth box is covered, in seconds', async () => {
    const frame = await frameOf('0_ORIGINAL_compressed.dcm');
    expect(frame.format.photometric).toBe('MONOCHROME1');
    // CPU time of this thread (pre-filter and rendering; the engine runs in its workers) and
    // wall time, bounded loosely: measured 2.4–3 s wall on the shared 2-core machine.
    const before = process.cpuUsage();
    const started = Date.now();
    const findings = await detector.detect(frame, { frameIndex: 0 });
    const cpu = process.cpuUsage(before);
    expect(uncovered('sample_data/0_ORIGINAL.dcm', findings)).toEqual([]);
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(5000);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
