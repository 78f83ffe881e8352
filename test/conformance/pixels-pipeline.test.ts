/**
 * Pixel de-identification end to end, as a curator runs it: `radanon pixels scan` first, then
 * `radanon deid --clean-pixels` on real images with burned-in text (presidio's CT with its ground
 * truth, an RGB ultrasound image), text-free CT and MR slices, and a lossy JPEG with a marked
 * region (filled: its colour bars are horizontal, so exemplar inpainting would restore them exactly);
 * then `radanon verify --pixels` on the output.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asciiValue, encodeAscii, type DicomFile } from '../../src/dicom/dataset.js';
import { readDicom } from '../../src/dicom/reader.js';
import { tag, Tags } from '../../src/dicom/tag.js';
import { encodeDicomToBuffer } from '../../src/dicom/writer.js';
import { openPixelData } from '../../src/pixels/codec/pixel-data.js';
import { DEFAULT_PIXEL_SETTINGS, PixelCleaner } from '../../src/pixels/clean.js';
import { createTextDetector } from '../../src/pixels/detect/detector.js';
import { scanFolder } from '../../src/pixels/scan.js';
import type { RunReport } from '../../src/pipeline/report.js';
import type { Box, Frame } from '../../src/pixels/types.js';
import { repoRoot, sharedDataDir } from './helpers.js';

const CLI = path.join(repoRoot, 'dist/cli/main.js');
const DICOM = path.join(sharedDataDir, 'dicom');
/** presidio's ground truth is in coordinates of an image padded by 25 px on every side. */
const PRESIDIO_PADDING = 25;

const INPUTS = {
  presidioCt: 'presidio/2_ORIGINAL.dcm',
  ultrasound: 'deid-data/ultrasounds__RGB_IMAGE.dcm',
  textFreeCt: 'dicomParser/CT1_UNC.implicit_little_endian.dcm',
  textFreeMr: 'pydicom/MR_small.dcm',
  lossyJpeg: 'pydicom/SC_rgb_jpeg_dcmtk.dcm',
} as const;
type InputName = keyof typeof INPUTS;

const CONTENT_DATE = tag(0x0008, 0x0023);

/** The rectangle the lossy secondary capture is given as a marked region. */
const MARKED: Box = { x: 30, y: 5, width: 20, height: 60 };

let work: string;
let input: string;
let output: string;
let report: RunReport;
/** Output file (relative to `output`) of each input. */
const outputOf = new Map<InputName, string>();

function radanon(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 900_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function read(file: string): DicomFile {
  return readDicom(readFileSync(file));
}

async function frames(file: DicomFile): Promise<Frame[]> {
  const pixels = await openPixelData(file);
  if (!pixels) throw new Error('no pixel data');
  return Array.from({ length: pixels.frameCount }, (_, i) => pixels.decodeFrame(i));
}

function pixelBytes(file: DicomFile): Uint8Array {
  const el = file.dataset.get(Tags.PixelData);
  if (!el || el.kind === 'sequence') throw new Error('no pixel data element');
  return el.bytes;
}

/** A mask of the union of boxes grown by `grow` pixels. */
function maskOf(boxes: readonly Box[], rows: number, columns: number, grow: number): Uint8Array {
  const mask = new Uint8Array(rows * columns);
  for (const b of boxes) {
    for (let y = Math.max(0, b.y - grow); y < Math.min(rows, b.y + b.height + grow); y++) {
      for (let x = Math.max(0, b.x - grow); x < Math.min(columns, b.x + b.width + grow); x++) mask[y * columns + x] = 1;
    }
  }
  return mask;
}

function methodCodes(file: DicomFile): string[] {
  const seq = file.dataset.get(Tags.DeidentificationMethodCodeSequence);
  return seq?.kind === 'sequence' ? seq.items.map((i) => asciiValue(i.get(tag(0x0008, 0x0100))) ?? '') : [];
}

function pixelReportOf(name: InputName) {
  const entry = report.pixels!.files.find((f) => f.file === path.basename(INPUTS[name]));
  expect(entry, name).toBeDefined();
  return entry!;
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'radanon-pixels-'));
  input = path.join(work, 'in');
  output = path.join(work, 'out');
  mkdirSync(input);
  for (const rel of Object.values(INPUTS)) copyFileSync(path.join(DICOM, rel), path.join(input, path.basename(rel)));
  writeFileSync(path.join(work, 'key'), 'pixels-pipeline-secret-0123456789\n');
  writeFileSync(
    path.join(work, 'marked.json'),
    JSON.stringify({ version: 1, regions: [{ file: path.basename(INPUTS.lossyJpeg), rectangles: [MARKED] }] }, null, 2),
  );
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('radanon pixels scan', () => {
  it('finds the burned-in text, draws it, and changes nothing', () => {
    const before = readdirSync(input).map((f) => readFileSync(path.join(input, f)));
    const preview = path.join(work, 'scan-preview');
    const r = radanon('pixels', 'scan', input, '--preview', preview, '--json');
    expect(r.code, r.stderr).toBe(1); // findings: a person should look
    const scan = JSON.parse(r.stdout) as { results: { file: string; findings: { frame: number; source: string; text?: { masked: string } }[]; previews: string[] }[]; failures: unknown[] };
    expect(scan.failures).toEqual([]);
    const byFile = new Map(scan.results.map((x) => [x.file, x]));
    for (const name of ['presidioCt', 'ultrasound'] as const) {
      const found = byFile.get(path.basename(INPUTS[name]))!;
      expect(found.findings.length, name).toBeGreaterThan(0);
      expect(found.previews.length, name).toBeGreaterThan(0);
      for (const p of found.previews) expect(readFileSync(path.join(preview, p)).subarray(1, 4).toString()).toBe('PNG');
    }
    for (const name of ['textFreeCt', 'textFreeMr'] as const) expect(byFile.get(path.basename(INPUTS[name]))!.findings, name).toEqual([]);
    // The recognised text is never printed in clear: letters and digits are masked.
    expect(r.stdout).not.toMatch(/KAUFMAN|SCOTT/i);
    readdirSync(input).forEach((f, i) => expect(readFileSync(path.join(input, f)).equals(before[i]!)).toBe(true));
  });
});

describe('radanon deid --clean-pixels', () => {
  beforeAll(() => {
    const r = radanon('deid', input, output, '--secret-file', path.join(work, 'key'), '--clean-pixels', '--marked-regions', path.join(work, 'marked.json'), '--marked-redaction', 'fill', '--json', '--workers', '2');
    expect(r.code, r.stderr).toBe(0);
    report = JSON.parse(r.stdout) as RunReport;
    for (const [name, rel] of Object.entries(INPUTS) as [InputName, string][]) {
      const entry = report.pixels?.files.find((f) => f.file === path.basename(rel));
      if (entry) outputOf.set(name, entry.output);
    }
  }, 900_000);

  it('writes every file, lists each finding with the masked text and the action, and prints no text in clear', () => {
    expect(report.counts.failed).toBe(0);
    expect(report.pixels?.settings).toMatchObject({ redaction: 'telea', markedRedaction: 'fill', dilation: 3, prefilter: true });
    expect([...outputOf.keys()].sort()).toEqual(Object.keys(INPUTS).sort());
    for (const f of report.pixels!.files.flatMap((x) => x.report.findings)) {
      // Declared regions (ultrasound, device rules) and marked regions here are filled; OCR's text inpainted.
      expect(f.action).toBe(f.source === 'ocr' ? 'telea' : 'fill');
      if (f.text) expect(f.text.masked).not.toMatch(/[A-WYZa-wyz0-8]/); // only X, x, 9 and punctuation
    }
    expect(JSON.stringify(report)).not.toMatch(/KAUFMAN|SCOTT/i);
  });

  it('declares Clean Pixel Data and Burned In Annotation NO in every output', () => {
    for (const name of Object.keys(INPUTS) as InputName[]) {
      const out = read(path.join(output, outputOf.get(name)!));
      expect(methodCodes(out), name).toContain('113101');
      expect(asciiValue(out.dataset.get(tag(0x0028, 0x0301))), name).toBe('NO');
    }
  });

  it('leaves the pixel data of text-free CT and MR slices bit-identical', () => {
    for (const name of ['textFreeCt', 'textFreeMr'] as const) {
      expect(pixelReportOf(name).report.findings, name).toEqual([]);
      const before = pixelBytes(read(path.join(input, path.basename(INPUTS[name]))));
      const after = pixelBytes(read(path.join(output, outputOf.get(name)!)));
      expect(Buffer.from(after).equals(Buffer.from(before)), name).toBe(true);
    }
  });

  it("covers every ground-truth box of presidio's CT and changes nothing outside what it cleaned", async () => {
    const truth = (JSON.parse(readFileSync(path.join(DICOM, 'presidio/ground_truth.json'), 'utf8')) as Record<string, { label: string; left: number; top: number; width: number; height: number }[]>)['sample_data/2_ORIGINAL.dcm']!;
    const [before] = await frames(read(path.join(input, '2_ORIGINAL.dcm')));
    const [after] = await frames(read(path.join(output, outputOf.get('presidioCt')!)));
    const { rows, columns } = before!.format;
    const findings = pixelReportOf('presidioCt').report.findings;
    const cleaned = maskOf(findings.map((f) => f.box), rows, columns, report.pixels!.settings.dilation);
    for (const t of truth) {
      const box = { x: t.left - PRESIDIO_PADDING, y: t.top - PRESIDIO_PADDING, width: t.width, height: t.height };
      let outside = 0;
      for (let y = Math.max(0, box.y); y < Math.min(rows, box.y + box.height); y++) for (let x = Math.max(0, box.x); x < Math.min(columns, box.x + box.width); x++) if (!cleaned[y * columns + x]) outside++;
      expect(outside, `ground-truth box ${t.left},${t.top} (${t.label.length} characters)`).toBe(0);
    }
    let changedOutside = 0;
    let changedInside = 0;
    for (let i = 0; i < rows * columns; i++) {
      if (before!.data[i] === after!.data[i]) continue;
      if (cleaned[i]) changedInside++;
      else changedOutside++;
    }
    expect(changedOutside).toBe(0);
    expect(changedInside).toBeGreaterThan(500);
  });

  it('writes the lossy JPEG losslessly, with its marked region filled and everything else as decoded', async () => {
    const inFile = read(path.join(input, path.basename(INPUTS.lossyJpeg)));
    const outFile = read(path.join(output, outputOf.get('lossyJpeg')!));
    expect(outFile.transferSyntax.uid).toBe('1.2.840.10008.1.2.1');
    expect(asciiValue(outFile.dataset.get(tag(0x0028, 0x2110)))).toBe('01');
    const entry = pixelReportOf('lossyJpeg');
    expect(entry.report.encoding).toBe('explicit-little-endian');
    expect(entry.report.findings.filter((f) => f.source === 'marked')).toHaveLength(1);
    const [before] = await frames(inFile);
    const [after] = await frames(outFile);
    const { rows, columns, samplesPerPixel } = before!.format;
    const marked = maskOf([MARKED], rows, columns, 0);
    let changedOutside = 0;
    let changedInside = 0;
    for (let i = 0; i < rows * columns; i++) {
      for (let s = 0; s < samplesPerPixel; s++) {
        if (before!.data[i * samplesPerPixel + s] === after!.data[i * samplesPerPixel + s]) continue;
        if (marked[i]) changedInside++;
        else changedOutside++;
      }
    }
    expect(changedOutside).toBe(0);
    expect(changedInside).toBeGreaterThan(0);
  });

  it('OCR of the cleaned outputs finds no text in any cleaned area, and none at all outside the ultrasound', async () => {
    // What verify --pixels runs: OCR alone on every output frame.
    const scan = await scanFolder(output, { ocrOnly: true });
    expect(scan.failures).toEqual([]);
    for (const name of Object.keys(INPUTS) as InputName[]) {
      const found = scan.results.find((r) => r.file === outputOf.get(name))?.findings ?? [];
      if (name !== 'ultrasound') {
        expect(found.map((f) => f.box), name).toEqual([]);
        continue;
      }
      // The ultrasound's data region keeps its anatomy, where OCR may read a "word" (the probe's
      // arc under the cleaned bar) once the bright annotations are gone; none may lie in what was
      // cleaned: most of each such box is outside it (it may border the cleaned bar).
      const [frame] = await frames(read(path.join(output, outputOf.get(name)!)));
      const cleaned = maskOf(pixelReportOf(name).report.findings.map((f) => f.box), frame!.format.rows, frame!.format.columns, report.pixels!.settings.dilation);
      for (const f of found) {
        let inCleaned = 0;
        for (let y = f.box.y; y < f.box.y + f.box.height; y++) for (let x = f.box.x; x < f.box.x + f.box.width; x++) if (cleaned[y * frame!.format.columns + x]) inCleaned++;
        expect(inCleaned / (f.box.width * f.box.height), `word box ${f.box.x},${f.box.y} ${f.box.width}×${f.box.height}`).toBeLessThan(0.5);
      }
    }
  }, 300_000);

  it('radanon verify --pixels passes an output folder without text, and writes no preview', () => {
    const clean = path.join(work, 'out-without-ultrasound');
    for (const [name, rel] of outputOf) {
      if (name === 'ultrasound') continue;
      mkdirSync(path.dirname(path.join(clean, rel)), { recursive: true });
      copyFileSync(path.join(output, rel), path.join(clean, rel));
    }
    const preview = path.join(work, 'verify-preview');
    const r = radanon('verify', clean, '--pixels', '--preview', preview, '--json');
    const verified = JSON.parse(r.stdout) as { findings: { kind: string; file: string; detail: string }[] };
    expect(verified.findings.map((f) => `${f.kind} ${f.file}: ${f.detail}`)).toEqual([]);
    expect(r.code).toBe(0);
    expect(existsSync(preview) ? readdirSync(preview) : []).toEqual([]);
  });

  it('radanon verify --original pairs cleaned images with their originals by instance UID given the secret, and finds an original date planted in one', () => {
    type Verified = { findings: { kind: string; file: string; detail: string }[]; pairing: { by: string; pairedOutputs: number }; files: number };
    const verify = (dir: string, ...extra: string[]) => {
      const r = radanon('verify', dir, '--original', input, '--json', ...extra);
      return { code: r.code, report: JSON.parse(r.stdout) as Verified, stderr: r.stderr };
    };
    const cleanedNames = (['presidioCt', 'ultrasound', 'lossyJpeg'] as const).filter((n) => pixelReportOf(n).report.cleanedFrames > 0);
    expect(cleanedNames.length).toBeGreaterThanOrEqual(2);

    const byPixels = verify(output);
    expect(byPixels.code, byPixels.stderr).toBe(0);
    expect(byPixels.report.pairing).toEqual({ by: 'pixel-data', pairedOutputs: byPixels.report.files - cleanedNames.length });
    const byUid = verify(output, '--secret-file', path.join(work, 'key'));
    expect(byUid.code, byUid.stderr).toBe(0);
    expect(byUid.report.pairing).toEqual({ by: 'instance-uid', pairedOutputs: byUid.report.files });

    // The original study date of the cleaned CT, put back into its output's Content Date: only pairing by UID can tell.
    const planted = path.join(work, 'out-planted');
    for (const rel of outputOf.values()) {
      mkdirSync(path.dirname(path.join(planted, rel)), { recursive: true });
      copyFileSync(path.join(output, rel), path.join(planted, rel));
    }
    const originalDate = asciiValue(read(path.join(input, path.basename(INPUTS.presidioCt))).dataset.get(Tags.StudyDate));
    expect(originalDate).toMatch(/^\d{8}$/);
    const target = path.join(planted, outputOf.get('presidioCt')!);
    const cleaned = read(target);
    expect(asciiValue(cleaned.dataset.get(CONTENT_DATE))).not.toBe(originalDate);
    const dataset = new Map(cleaned.dataset);
    dataset.set(CONTENT_DATE, { kind: 'value', tag: CONTENT_DATE, vr: 'DA', bytes: encodeAscii(originalDate!, 0x20) });
    writeFileSync(target, encodeDicomToBuffer({ meta: cleaned.meta, dataset }));

    const found = verify(planted, '--secret-file', path.join(work, 'key'));
    expect(found.code).toBe(1);
    expect(found.report.findings.filter((f) => f.kind === 'original-value-in-file').map((f) => f.file)).toEqual([outputOf.get('presidioCt')]);
    expect(JSON.stringify(found.report)).not.toContain(originalDate);
    // Without the secret the cleaned CT has no original to be compared with: the date goes unnoticed.
    expect(verify(planted).report.findings.filter((f) => f.kind === 'original-value-in-file')).toEqual([]);
  });
});

describe('a frame full of findings over texture (SMPTE test pattern)', () => {
  it('is cleaned: the mask grows over a few readings until the cleaned frame reads clean, its caption removed', async () => {
    const file = read(path.join(DICOM, 'pydicom-data/mlut_18.dcm'));
    const [original] = await frames(file);
    const cleaner = PixelCleaner.create(DEFAULT_PIXEL_SETTINGS, new Uint8Array(32).fill(3));
    const detector = await createTextDetector({ workers: 1 });
    try {
      // The caption "SMPTE TEST PATTERN" / "Ref 3/1/91 Copyright 1985" at the bottom centre.
      const caption: Box = { x: 180, y: 474, width: 160, height: 32 };
      const overlaps = (b: Box) => b.x < caption.x + caption.width && caption.x < b.x + b.width && b.y < caption.y + caption.height && caption.y < b.y + b.height;
      const before = await detector.detect(original!, { frameIndex: 0 });
      expect(before.filter((f) => f.text && overlaps(f.box)).length).toBeGreaterThanOrEqual(2);

      const { file: out, report: pixels } = await cleaner.clean(file, file, 'mlut_18.dcm');
      expect(pixels.cleanedFrames).toBe(1);
      expect(pixels.extraPasses).toBeGreaterThan(0);
      const [cleaned] = await frames(out);
      const mask = maskOf(pixels.findings.map((f) => f.box), original!.format.rows, original!.format.columns, DEFAULT_PIXEL_SETTINGS.dilation);
      // What a full reading of the written frame finds, none of it touches a cleaned pixel.
      const after = await detector.detect(cleaned!, { frameIndex: 0 });
      const touching = after.filter((f) => {
        for (let y = f.box.y; y < f.box.y + f.box.height; y++) for (let x = f.box.x; x < f.box.x + f.box.width; x++) if (mask[y * original!.format.columns + x]) return true;
        return false;
      });
      expect(touching).toEqual([]);
      expect(after.filter((f) => f.text && overlaps(f.box))).toEqual([]);
    } finally {
      await cleaner.close();
      await detector.close();
    }
  }, 120_000);
});

describe('a PALETTE COLOR ultrasound with the default (Telea) redaction', () => {
  it('is cleaned: text filled with an index of its surroundings, a marked region by exemplar, both said in the report', async () => {
    const name = 'OBXXXX1A.dcm';
    const file = read(path.join(DICOM, 'pydicom-data', name));
    const [original] = await frames(file);
    expect(original!.format.photometric).toBe('PALETTE COLOR');
    const dir = mkdtempSync(path.join(tmpdir(), 'radanon-palette-'));
    const marked: Box = { x: 300, y: 200, width: 24, height: 16 };
    writeFileSync(path.join(dir, 'marked.json'), JSON.stringify({ version: 1, regions: [{ file: name, rectangles: [marked] }] }));
    const cleaner = PixelCleaner.create({ ...DEFAULT_PIXEL_SETTINGS, markedRedaction: 'telea', marked: [path.join(dir, 'marked.json')] }, new Uint8Array(32).fill(5));
    try {
      expect(DEFAULT_PIXEL_SETTINGS.redaction).toBe('telea');
      const { file: out, report: pixels } = await cleaner.clean(file, file, name);
      const text = pixels.findings.filter((f) => f.source === 'ocr');
      expect(text.length).toBeGreaterThan(0);
      expect(new Set(text.map((f) => f.action))).toEqual(new Set(['fill']));
      expect(pixels.findings.filter((f) => f.source === 'marked').map((f) => f.action)).toEqual(['exemplar']);
      expect(pixels.note).toMatch(/PALETTE COLOR: text filled/);
      expect(pixels.note).toMatch(/PALETTE COLOR: marked regions inpainted by exemplar/);

      const [cleaned] = await frames(out);
      const { rows, columns } = original!.format;
      const mask = maskOf(pixels.findings.map((f) => f.box), rows, columns, DEFAULT_PIXEL_SETTINGS.dilation);
      const present = new Set(original!.data);
      let changed = 0;
      for (let p = 0; p < rows * columns; p++) {
        if (cleaned!.data[p] === original!.data[p]) continue;
        changed++;
        expect(mask[p], `pixel ${p} changed outside the mask`).toBe(1);
        // Only indices the frame already uses: no invented colour.
        expect(present.has(cleaned!.data[p]!)).toBe(true);
      }
      expect(changed).toBeGreaterThan(0);
    } finally {
      await cleaner.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
