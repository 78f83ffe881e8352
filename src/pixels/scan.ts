/**
 * `radanon pixels scan` and `radanon verify --pixels`: what pixel de-identification would find in
 * a folder (or still finds in an output folder), per file and frame, with optional pictures.
 * Nothing is changed; a file that cannot be read or decoded is listed with the reason and the
 * scan goes on.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DicomParseError, NotDicomError } from '../dicom/errors.js';
import { readDicom } from '../dicom/reader.js';
import { walkFiles } from '../pipeline/walk.js';
import { PixelCleaner, DEFAULT_PIXEL_SETTINGS, type PixelSettings } from './clean.js';
import { writeFindingsPreview } from './preview.js';
import { withOcrEngines } from './settings.js';
import type { Finding, FindingSource } from './types.js';

export interface ScanOptions {
  /** Detection settings (device rules, marked regions, pre-filter); defaults as `deid --clean-pixels`. */
  readonly settings?: Partial<PixelSettings>;
  /** OCR only: no header regions, device rules or marked regions (for checking an output folder). */
  readonly ocrOnly?: boolean;
  /** Write a PNG per frame with findings, boxes drawn, into this folder. */
  readonly preview?: string;
  /** Key of the masked text's digests (default: random per scan, so digests link to nothing). */
  readonly digestKey?: Uint8Array;
  readonly onProgress?: (done: number, file: string) => void;
}

export interface ScannedFile {
  /** Relative to the scanned folder. */
  readonly file: string;
  readonly frames: number;
  readonly findings: readonly Finding[];
  /** Preview files written for this file (relative to the preview folder). */
  readonly previews: readonly string[];
}

export interface ScanReport {
  readonly folder: string;
  readonly files: number;
  readonly framesRead: number;
  /** Files with at least one finding. */
  readonly filesWithFindings: number;
  readonly findings: number;
  readonly bySource: Partial<Record<FindingSource, number>>;
  readonly results: readonly ScannedFile[];
  readonly skipped: readonly { readonly file: string; readonly reason: string }[];
  readonly failures: readonly { readonly file: string; readonly reason: string }[];
}

/** A preview file name from a relative path: folders flattened, only safe characters. */
function previewName(rel: string, frame: number): string {
  return `${rel.split(path.sep).join('__').replace(/[^\w.-]/g, '_')}.frame${String(frame).padStart(4, '0')}.png`;
}

export async function scanFolder(folder: string, options: ScanOptions = {}): Promise<ScanReport> {
  const root = path.resolve(folder);
  // One thread reads the files: its OCR engines take every core.
  const settings: PixelSettings = withOcrEngines(
    {
      ...DEFAULT_PIXEL_SETTINGS,
      ...options.settings,
      ...(options.ocrOnly ? { marked: [], deviceRules: undefined } : {}),
    },
    1,
  );
  const cleaner = PixelCleaner.create(settings, options.digestKey ?? crypto.getRandomValues(new Uint8Array(32)), { headerHints: !options.ocrOnly });
  const results: ScannedFile[] = [];
  const skipped: { file: string; reason: string }[] = [];
  const failures: { file: string; reason: string }[] = [];
  const preview = options.preview ? path.resolve(options.preview) : undefined;
  let done = 0;
  try {
    for await (const rel of walkFiles(root, (p) => preview !== undefined && (p === preview || p.startsWith(preview + path.sep)))) {
      options.onProgress?.(done++, rel);
      let file;
      try {
        file = readDicom(await readFile(path.join(root, rel)));
      } catch (e) {
        if (e instanceof NotDicomError) skipped.push({ file: rel, reason: e.message });
        else failures.push({ file: rel, reason: e instanceof DicomParseError ? e.message : `cannot read: ${(e as Error).message}` });
        continue;
      }
      try {
        const previews: string[] = [];
        const scanned = await cleaner.scan(file, rel, async (index, frame, findings) => {
          if (!preview || findings.length === 0) return;
          const name = previewName(rel, index);
          await writeFindingsPreview(path.join(preview, name), frame, findings);
          previews.push(name);
        });
        if (scanned.frames === 0) {
          skipped.push({ file: rel, reason: 'no pixel data' });
          continue;
        }
        results.push({ file: rel, frames: scanned.frames, findings: scanned.findings, previews });
      } catch (e) {
        failures.push({ file: rel, reason: (e as Error).message });
      }
    }
  } finally {
    await cleaner.close();
  }
  const bySource: Partial<Record<FindingSource, number>> = {};
  for (const r of results) for (const f of r.findings) bySource[f.source] = (bySource[f.source] ?? 0) + 1;
  return {
    folder: root,
    files: results.length,
    framesRead: results.reduce((n, r) => n + r.frames, 0),
    filesWithFindings: results.filter((r) => r.findings.length > 0).length,
    findings: results.reduce((n, r) => n + r.findings.length, 0),
    bySource,
    results,
    skipped,
    failures,
  };
}

/** The scan in a few lines: totals, then each file with findings. */
export function summarizeScan(r: ScanReport, title = 'radanon pixels scan'): string {
  const lines = [`${title}: ${r.files} images, ${r.framesRead} frames read, ${r.findings} findings in ${r.filesWithFindings} files`];
  const sources = Object.entries(r.bySource).map(([k, v]) => `${k} ${v}`);
  if (sources.length) lines.push(`  by source: ${sources.join(', ')}`);
  for (const f of r.results.filter((x) => x.findings.length > 0)) {
    lines.push(`  ${f.file}:`);
    for (const x of f.findings.slice(0, 20)) {
      const text = x.text ? ` "${x.text.masked}" (${x.text.digest})` : '';
      const conf = x.confidence !== undefined ? ` confidence ${Math.round(x.confidence)}` : '';
      lines.push(`    frame ${x.frame}: ${x.source} at ${x.box.x},${x.box.y} ${x.box.width}×${x.box.height}${text}${conf}${x.rule ? ` [${x.rule}]` : ''}`);
    }
    if (f.findings.length > 20) lines.push(`    ... and ${f.findings.length - 20} more (see --json)`);
  }
  for (const f of r.failures) lines.push(`  failed: ${f.file}: ${f.reason}`);
  return lines.join('\n') + '\n';
}
