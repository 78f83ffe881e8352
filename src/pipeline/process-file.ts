/**
 * One input file through the whole chain: read, parse, de-identify, encode, write. The same
 * function runs in worker threads and in-process; every outcome is a value, never a throw.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { asciiValue, type DicomFile } from '../dicom/dataset.js';
import { DicomParseError, NotDicomError } from '../dicom/errors.js';
import { readDicom } from '../dicom/reader.js';
import { encodeDicom } from '../dicom/writer.js';
import { Tags } from '../dicom/tag.js';
import { deidentify, type DeidAction } from '../deid/engine.js';
import { ProjectSecret } from '../deid/pseudonyms.js';
import type { PixelCleaner, PixelFileReport } from '../pixels/clean.js';
import { PixelCleaningError } from '../pixels/errors.js';
import { PixelDecodeError, PixelEncodeError } from '../pixels/codec/errors.js';
import type { FileIO } from './atomic.js';
import { materialize, type Materialized, type JobSettings } from './settings.js';

export const DICOMDIR_SOP_CLASS = '1.2.840.10008.1.3.10';

export interface Tally {
  readonly byAction: Record<string, number>;
  readonly byRule: Record<string, number>;
}

export type FileOutcome =
  | {
      readonly status: 'done';
      readonly input: string;
      readonly output: string;
      readonly bytesIn: number;
      readonly bytesOut: number;
      readonly tally: Tally;
      readonly resumed: boolean;
      readonly notes: readonly string[];
      readonly index: IndexEntry;
      /** With pixel cleaning: what was found on each frame and what was done. */
      readonly pixels?: PixelFileReport;
    }
  | { readonly status: 'skipped'; readonly input: string; readonly reason: string }
  | { readonly status: 'failed'; readonly input: string; readonly reason: string; readonly quarantined: boolean }
  /** Another input of this run is the same SOP instance: identical output (nothing lost) or a conflict (not written). */
  | { readonly status: 'duplicate'; readonly input: string; readonly output: string; readonly identical: boolean; readonly reason: string };

/** What a DICOMDIR needs to know about an output file (pseudonymous values only). */
export interface IndexEntry {
  readonly researchId: string;
  readonly studyUid: string;
  readonly seriesUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly transferSyntaxUid: string;
  readonly modality: string;
  readonly studyDate: string;
  readonly studyTime: string;
  readonly studyId: string;
  readonly accessionNumber: string;
  readonly seriesNumber: string;
  readonly instanceNumber: string;
  /** Where the file was written, relative to the output folder (as in the outcome). */
  readonly output: string;
}

export function tallyActions(actions: readonly DeidAction[]): Tally {
  const byAction: Record<string, number> = {};
  const byRule: Record<string, number> = {};
  for (const a of actions) {
    byAction[a.action] = (byAction[a.action] ?? 0) + 1;
    byRule[a.rule] = (byRule[a.rule] ?? 0) + 1;
  }
  return { byAction, byRule };
}

type OutputIds = { researchId: string; studyUid: string; seriesUid: string; sopInstanceUid: string };

/** Path components come from pseudonyms only: original file names can carry identifiers. */
export function outputPathFor(ids: OutputIds, fallback: string, layout: JobSettings['layout']): string {
  const safe = (s: string, alt: string) => (s && /^[A-Za-z0-9._-]+$/.test(s) ? s : alt);
  const patient = safe(ids.researchId, 'unknown-patient');
  const study = safe(ids.studyUid, 'no-study');
  const series = safe(ids.seriesUid, 'no-series');
  const instance = safe(ids.sopInstanceUid, fallback);
  if (layout === 'tree') return join(patient, study, series, `${instance}.dcm`);
  return join('DICOM', mediaName('P', patient), mediaName('S', patient + study), mediaName('E', study + series), mediaName('I', series + instance));
}

/** An 8-character name (A-Z, 0-9) from pseudonymous values: a letter for the level, 7 of a hash. */
function mediaName(level: string, key: string): string {
  const h = createHash('sha256').update(key).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let s = level;
  for (let i = 0; i < 7; i++) s += alphabet[h[i]! % 36];
  return s;
}

/** The same for every file of a thread: settings, the engine's objects, and the thread's file I/O. */
export interface ThreadContext {
  readonly settings: JobSettings;
  readonly m: Materialized;
  readonly io: FileIO;
  /** The thread's pixel cleaner, when the run cleans pixel data. */
  readonly pixels?: PixelCleaner;
}

/** A thread's context: the engine's objects and, with pixel cleaning, the cleaner (OCR starts on first use). */
export async function threadContext(settings: JobSettings, io: FileIO): Promise<ThreadContext> {
  const m = materialize(settings);
  // Loaded only when asked for: the OCR engine and codecs cost every worker thread a start-up.
  const pixels = settings.pixels
    ? (await import('../pixels/clean.js')).PixelCleaner.create(settings.pixels, ProjectSecret.fromBytes(settings.secret).deriveKey('pixel-text'))
    : undefined;
  return { settings, m, io, ...(pixels ? { pixels } : {}) };
}

export async function processFile(rel: string, { settings, m, io, pixels }: ThreadContext): Promise<FileOutcome> {
  const inputPath = join(settings.inputDir, rel);
  let bytes: Uint8Array;
  try {
    bytes = io.readWhole(inputPath);
  } catch (e) {
    return { status: 'failed', input: rel, reason: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, quarantined: false };
  }
  try {
    const file = readDicom(bytes);
    const sopClassInMeta = asciiValue(file.meta.get(Tags.MediaStorageSOPClassUID));
    if (sopClassInMeta === DICOMDIR_SOP_CLASS) {
      return { status: 'skipped', input: rel, reason: 'DICOMDIR: not copied, its records hold names and IDs (use --dicomdir to write a fresh one)' };
    }
    const result = deidentify(file, m.plan, m.pseudonymizer);
    let written: DicomFile = { ...file, meta: result.meta, dataset: result.dataset };
    let pixelReport: PixelFileReport | undefined;
    if (pixels) {
      // The original file gives the header hints (device, ultrasound regions) the engine may remove.
      const cleaned = await pixels.clean(file, written, rel);
      written = cleaned.file;
      pixelReport = cleaned.report;
    }
    const chunks = encodeDicom({ meta: written.meta, dataset: written.dataset, transferSyntax: written.transferSyntax });
    const bytesOut = chunks.reduce((n, c) => n + c.length, 0);
    const fallbackName = m.pseudonymizer.token('file', rel);
    const output = outputPathFor(result.ids, fallbackName, settings.layout);
    const notes: string[] = [];
    if (file.layout.inferredTransferSyntax) notes.push(`transfer syntax not stated by the file; read as ${file.transferSyntax.uid}`);
    const ds = result.dataset;
    const index: IndexEntry = {
      ...result.ids,
      sopClassUid: asciiValue(ds.get(Tags.SOPClassUID)) ?? '',
      transferSyntaxUid: written.transferSyntax.uid,
      modality: asciiValue(ds.get(Tags.Modality)) ?? '',
      studyDate: asciiValue(ds.get(Tags.StudyDate)) ?? '',
      studyTime: asciiValue(ds.get(Tags.StudyTime)) ?? '',
      studyId: asciiValue(ds.get(Tags.StudyID)) ?? '',
      accessionNumber: asciiValue(ds.get(Tags.AccessionNumber)) ?? '',
      seriesNumber: asciiValue(ds.get(Tags.SeriesNumber)) ?? '',
      instanceNumber: asciiValue(ds.get(Tags.InstanceNumber)) ?? '',
      output,
    };
    if (pixelReport?.note) notes.push(pixelReport.note);
    const done = { status: 'done' as const, input: rel, output, bytesIn: bytes.length, bytesOut, tally: tallyActions(result.actions), notes, index, ...(pixelReport ? { pixels: pixelReport } : {}) };
    if (settings.dryRun) return { ...done, resumed: false };
    const claim = io.writeExclusive(join(settings.outputDir, output), chunks);
    if (claim.kind === 'conflict') {
      return { status: 'duplicate', input: rel, output, identical: false, reason: 'another input file has the same SOP Instance UID with different content; not written' };
    }
    if (claim.kind === 'identical' && claim.mtimeMs >= settings.runStartedAt) {
      return { status: 'duplicate', input: rel, output, identical: true, reason: 'the same SOP instance as another input file of this run; identical output written once' };
    }
    return { ...done, resumed: claim.kind === 'identical' };
  } catch (e) {
    if (e instanceof NotDicomError) return { status: 'skipped', input: rel, reason: e.message };
    const reason = e instanceof DicomParseError || e instanceof PixelCleaningError || e instanceof PixelDecodeError || e instanceof PixelEncodeError ? e.message : `${(e as Error).name}: ${(e as Error).message}`;
    let quarantined = false;
    if (settings.quarantineDir && !settings.dryRun) {
      const q = join(settings.quarantineDir, rel);
      mkdirSync(dirname(q), { recursive: true });
      copyFileSync(inputPath, q);
      quarantined = true;
    }
    return { status: 'failed', input: rel, reason, quarantined };
  }
}
