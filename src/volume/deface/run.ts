/**
 * Defacing runs: an image in, the defaced image out in the same format, with the evidence.
 *
 * `runDeface` takes a NIfTI file or a DICOM series, removes the face (`defaceVolume`), checks the
 * result (`checkFaces` and the method's own measures) and writes the defaced image only when
 * every check passes. A JSON report with every measure is written beside the output either way
 * (`<output>.deface.json`), so a failed run says why; the output itself is never written for a
 * failed run: nothing that is not proven defaced may look defaced.
 *
 * The checks (the issue's "validation built in"):
 * - at least 95% of the face region's voxels removed (MIN_FACE_REMOVED);
 * - no voxel of the brain mask altered, i.e. brain Dice 1 (brain voxels altered must be 0);
 * - the re-identification check: a face detected on the frontal render of the original and none
 *   detected or matched on any render of the defaced image (FaceCheckReport.passed).
 *
 * `findHeadSeries` and `defaceSeriesFiles` serve `radanon deid --deface`: the first finds the MR
 * and CT series of the head among the files of a batch, the second defaces one such series into
 * a working folder, as a DICOM series under the same relative file names, for the batch to
 * de-identify in place of the originals.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Dataset } from '../../dicom/dataset.js';
import { NotDicomError, DicomParseError } from '../../dicom/errors.js';
import { readDicom } from '../../dicom/reader.js';
import { tag } from '../../dicom/tag.js';
import { writeReplacing } from '../../pipeline/atomic.js';
import { VERSION } from '../../version.js';
import { readDicomSeries, type DicomSeriesVolume } from '../dicom-series.js';
import { writeDicomSeries, type WrittenSeries } from '../dicom-series-writer.js';
import { textOf, VolumeTags as T } from '../dicom-values.js';
import { VolumeError, VolumeFormatError } from '../errors.js';
import { loadImage } from '../load.js';
import { isNiftiPath, writeNifti } from '../nifti.js';
import { seriesOf, sourceOf } from '../source.js';
import type { Volume } from '../volume.js';
import { DefaceError, defaceVolume, type BrainCheck, type DefaceResult } from './deface.js';
import { checkFaces, type FaceCheckReport } from './face-check.js';
import type { IntensityKind } from './intensity.js';
import type { DefaceTemplate, TemplateName } from './templates.js';

/** Share of the face region's voxels that must be removed. */
export const MIN_FACE_REMOVED = 0.95;
/** Least Dice of the brain check's mask before and after (the share of it left unaltered, as Dice). */
export const MIN_BRAINCHOP_DICE = 0.99;

export interface DefaceRunOptions {
  /** Write the before/after renders of the face check as PNG files into this folder. */
  readonly preview?: string;
  /** Remove the ears too. */
  readonly ears?: boolean;
  /** The template registered to the head (default: the method's, the shipped avg152 2 mm). */
  readonly template?: TemplateName;
  /** The folder holding a template that is not shipped (mni152-1mm: FSL's data/standard). */
  readonly templateDir?: string;
  /** A template already loaded (loadDefaceTemplate), for runs over many images. */
  readonly loadedTemplate?: DefaceTemplate;
  /** Told what the run is doing at each long step (the command prints it on stderr). */
  readonly onProgress?: (message: string) => void;
  /**
   * Key of a derived DICOM series' new UIDs. Default: random bytes, so a standalone run's UIDs
   * link to nothing; `deid --deface` passes a subkey of the project secret so re-runs agree.
   */
  readonly uidKey?: Uint8Array;
  /** Check the brain against a second, independent mask too (DefaceOptions.brainCheck); the run fails below MIN_BRAINCHOP_DICE. */
  readonly brainCheck?: BrainCheck;
}

/** What a defacing measured and decided, for one image. */
export interface DefaceAssessment {
  /** 'passed': every check passed; 'failed': at least one did (see `failures`). */
  readonly status: 'passed' | 'failed';
  /** Why the run failed, one sentence per failed check; empty when it passed. */
  readonly failures: readonly string[];
  readonly settings: { readonly ears: boolean; readonly template: TemplateName | 'default' };
  readonly image: { readonly dims: readonly number[]; readonly spacing: readonly number[] };
  readonly thresholds: { readonly minFaceRemovedFraction: number; readonly maxBrainVoxelsAltered: 0; readonly minBrainchopDice?: number };
  readonly metrics: DefaceResult['metrics'];
  /** The value the face voxels were set to: air (−1000 for a CT, whatever its padding). */
  readonly background: number;
  /** Whether the values were taken for Hounsfield units ('ct') or an MR scale ('mr'). */
  readonly intensity: IntensityKind;
  readonly faceCheck: FaceCheckReport;
  readonly timings: { readonly readMs: number; readonly defaceMs: number; readonly checkMs: number; readonly writeMs: number };
}

export interface DefaceRunReport extends DefaceAssessment {
  readonly tool: string;
  readonly input: string;
  readonly output: string;
  readonly format: 'nifti' | 'dicom';
  /** Whether the defaced image was written (only when every check passed). */
  readonly written: boolean;
  /** Where this report was written. */
  readonly report: string;
  /** For a DICOM output: how many files were written, and values clamped to the stored range. */
  readonly dicom?: {
    readonly files: number;
    readonly clampedVoxels: number;
    /** The outputs' transfer syntaxes: the source's, except a lossy one whose frames changed (written decoded). */
    readonly transferSyntaxes: readonly string[];
    /** What the codec did with compressed sources (frames re-encoded, or written decoded and why), once each. */
    readonly notes?: readonly string[];
  };
  readonly seconds: number;
}

/** The report's path for an output: `<output>.deface.json`, beside it. */
export function defaceReportPath(output: string): string {
  return path.resolve(output).replace(/[\\/]+$/, '') + '.deface.json';
}

/** Derivation Description of a defaced DICOM image (PS3.3 C.7.6.1). */
export function derivationDescription(ears: boolean): string {
  return `defaced by radanon ${VERSION}: ${ears ? 'face and ear' : 'face'} voxels set to background`;
}

/** What makes the new UIDs of a defaced series: the method, its settings and the version. */
function uidSeed(ears: boolean, template: TemplateName | undefined): string {
  return `deface|radanon ${VERSION}|template=${template ?? 'default'}|ears=${ears}`;
}

/**
 * Defaces an image: `input` is a NIfTI file (.nii, .nii.gz) or a DICOM series (a folder holding
 * one series, or one file of it); `output` is a NIfTI file for NIfTI input and a folder for DICOM
 * input (it must not exist yet, or be empty). Throws DefaceError (from the method) for an image
 * that cannot be defaced (not a head, no usable orientation, a 2-D image) and VolumeError for
 * unreadable input or an unusable output path; in both cases nothing is written.
 */
export async function runDeface(input: string, output: string, options: DefaceRunOptions = {}): Promise<DefaceRunReport> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  const inputPath = path.resolve(input);
  const outputPath = path.resolve(output);
  const reportPath = defaceReportPath(outputPath);
  if (outputPath === inputPath || isInside(outputPath, inputPath) || isInside(inputPath, outputPath)) {
    throw new VolumeError('the output must be neither the input, nor inside it, nor hold it', output);
  }

  let t = performance.now();
  progress(`reading ${input}`);
  const volume = await loadImage(inputPath);
  const format: 'nifti' | 'dicom' = seriesOf(volume.grid) ? 'dicom' : 'nifti';
  await checkOutputPath(outputPath, format);
  const readMs = performance.now() - t;

  // The previews are named after the output (letters, digits, '.', '-' and '_' only).
  const name = path.basename(outputPath).replace(/\.nii(\.gz)?$/i, '').replace(/[^\w.-]/g, '_') || 'face';
  const { result, assessment } = await defaceAndAssess(volume, { ...options, file: input }, readMs, progress, name);

  t = performance.now();
  let dicom: WrittenSeries | undefined;
  await mkdir(path.dirname(outputPath), { recursive: true });
  if (assessment.status === 'passed') {
    progress(`writing ${output}`);
    if (format === 'nifti') {
      await writeNifti(outputPath, result.defaced, { description: `defaced by radanon ${VERSION}` });
    } else {
      dicom = await writeSeriesFolder(result.defaced, volume as DicomSeriesVolume, inputPath, outputPath, options);
    }
  }
  const writeMs = performance.now() - t;
  const report: DefaceRunReport = {
    tool: `radanon ${VERSION}`,
    input: inputPath,
    output: outputPath,
    format,
    written: assessment.status === 'passed',
    report: reportPath,
    ...assessment,
    timings: { ...assessment.timings, writeMs: round(writeMs) },
    ...(dicom ? { dicom: dicomSummary(dicom) } : {}),
    seconds: round((performance.now() - started) / 1000, 3),
  };
  await writeReplacing(reportPath, JSON.stringify(report, null, 2) + '\n');
  return report;
}

/** Runs the method and the checks on a volume and judges the result. */
async function defaceAndAssess(
  volume: Volume,
  options: Omit<DefaceRunOptions, 'onProgress'> & { readonly file?: string },
  readMs: number,
  progress: (message: string) => void,
  name: string,
): Promise<{ result: DefaceResult; assessment: DefaceAssessment }> {
  const ears = options.ears === true;
  let t = performance.now();
  progress(`registering the ${options.template ?? 'default'} template and removing the ${ears ? 'face and ears' : 'face'}`);
  const result = await defaceVolume(volume, {
    ears,
    ...(options.template !== undefined ? { template: options.template } : {}),
    ...(options.templateDir !== undefined ? { templateDir: options.templateDir } : {}),
    ...(options.loadedTemplate !== undefined ? { loadedTemplate: options.loadedTemplate } : {}),
    ...(options.file !== undefined ? { file: options.file } : {}),
    ...(options.brainCheck !== undefined ? { brainCheck: options.brainCheck } : {}),
  });
  const defaceMs = performance.now() - t;

  t = performance.now();
  progress(`checking that no face is detected or recognised on renders of the defaced head${options.preview ? ` (previews in ${options.preview})` : ''}`);
  const faceCheck = await checkFaces(volume, result.defaced, { ...(options.preview ? { previewDir: options.preview } : {}), name });
  const checkMs = performance.now() - t;

  const failures = judge(result.metrics, faceCheck);
  return {
    result,
    assessment: {
      status: failures.length === 0 ? 'passed' : 'failed',
      failures,
      settings: { ears, template: options.loadedTemplate?.name ?? options.template ?? 'default' },
      image: { dims: [...volume.grid.dims], spacing: [...volume.grid.spacing] },
      thresholds: { minFaceRemovedFraction: MIN_FACE_REMOVED, maxBrainVoxelsAltered: 0, ...(result.metrics.brainchop ? { minBrainchopDice: MIN_BRAINCHOP_DICE } : {}) },
      metrics: result.metrics,
      background: result.background,
      intensity: result.intensity,
      faceCheck,
      timings: { readMs: round(readMs), defaceMs: round(defaceMs), checkMs: round(checkMs), writeMs: 0 },
    },
  };
}

/** The failed checks, each as a sentence; none when the defacing may be released. */
export function judge(metrics: DefaceResult['metrics'], faceCheck: FaceCheckReport): string[] {
  const failures: string[] = [];
  if (!(metrics.faceRemovedFraction >= MIN_FACE_REMOVED)) {
    failures.push(`only ${percent(metrics.faceRemovedFraction)} of the face region's ${metrics.faceRegionVoxels} voxels were removed (at least ${percent(MIN_FACE_REMOVED)} required)`);
  }
  if (metrics.brainVoxelsAltered !== 0) failures.push(`${metrics.brainVoxelsAltered} voxels of the brain were altered (none may be)`);
  if (!(metrics.brainDice >= 1)) failures.push(`the brain mask's Dice coefficient before vs after is ${metrics.brainDice}, not 1`);
  if (metrics.brainchop && !(metrics.brainchop.dice >= MIN_BRAINCHOP_DICE)) {
    failures.push(`the brainchop brain mask's Dice coefficient before vs after is ${metrics.brainchop.dice} (${metrics.brainchop.voxelsAltered} of its ${metrics.brainchop.voxels} voxels altered), below ${MIN_BRAINCHOP_DICE}`);
  }
  if (!faceCheck.passed) failures.push(`face check failed: ${faceCheck.reason}`);
  return failures;
}

/** Refuses an output path that cannot or must not be written, before any work is done. */
async function checkOutputPath(output: string, format: 'nifti' | 'dicom'): Promise<void> {
  const info = await stat(output).catch(() => undefined);
  if (format === 'nifti') {
    if (!isNiftiPath(output)) throw new VolumeFormatError('a NIfTI image is defaced into a NIfTI file: the output must end in .nii or .nii.gz', output);
    if (info) throw new VolumeError('already exists: not overwritten (remove it first)', output);
    return;
  }
  if (isNiftiPath(output)) throw new VolumeFormatError('a DICOM series is defaced into a DICOM series: the output is a folder, not a NIfTI file', output);
  if (info && (!info.isDirectory() || (await readdir(output)).length > 0)) {
    throw new VolumeError('already exists and is not an empty folder: not overwritten (a DICOM series is written into a new folder)', output);
  }
}

/**
 * Writes the defaced series into a fresh folder beside the output and renames it into place, so
 * the output folder appears whole or not at all.
 */
async function writeSeriesFolder(defaced: Volume, source: DicomSeriesVolume, input: string, output: string, options: DefaceRunOptions): Promise<WrittenSeries> {
  const ears = options.ears === true;
  const inputIsFolder = (await stat(input)).isDirectory();
  const sourceFile = sourceOf(source.grid);
  // The series' files: every file under the input folder, or for one file given, that file (an
  // enhanced image) or the files beside it (a slice of a classic series, read with its folder).
  const files = inputIsFolder ? await listFiles(input, true) : sourceFile === input ? [input] : await listFiles(path.dirname(input), false);
  const root = inputIsFolder ? input : path.dirname(input);
  const partial = path.join(path.dirname(output), `.${path.basename(output)}.partial-${randomBytes(4).toString('hex')}`);
  try {
    const written = await writeDicomSeries(defaced, source, partial, {
      derivationDescription: derivationDescription(ears),
      uidSeed: uidSeed(ears, options.template),
      uidKey: options.uidKey ?? randomBytes(32),
      files,
      outputName: (file) => path.relative(root, file),
    });
    await rmdir(output).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await rename(partial, output);
    return written;
  } catch (e) {
    await rm(partial, { recursive: true, force: true });
    throw e;
  }
}

// -------------------------------------------------------------------------------------------
// radanon deid --deface

/** A series of head images found among the files of a batch. */
export interface HeadSeries {
  readonly seriesInstanceUid: string;
  /** Its files, relative to the input folder, sorted. */
  readonly files: readonly string[];
  /** Why it counts as a head series, e.g. "Body Part Examined HEAD". */
  readonly why: string;
}

/** Body Part Examined values (PS3.16 CID 4031 defined terms) that hold the face. */
const HEAD_BODY_PARTS = new Set(['HEAD', 'BRAIN', 'SKULL', 'HEADNECK', 'FACE']);
const HEAD_WORDS = /\b(head|brain)\b/i;

function dicomSummary(series: WrittenSeries): NonNullable<DefaceRunReport['dicom']> {
  const notes = [...new Set(series.files.flatMap((f) => (f.note === undefined ? [] : [f.note])))];
  return {
    files: series.files.length,
    clampedVoxels: series.clampedVoxels,
    transferSyntaxes: [...new Set(series.files.map((f) => f.transferSyntaxUid))],
    ...(notes.length ? { notes } : {}),
  };
}

/**
 * Whether an image belongs to a head examination, and why: Modality MR or CT, and Body Part
 * Examined HEAD, BRAIN, SKULL, HEADNECK or FACE; or, when Body Part Examined is absent or empty,
 * a Series or Study Description containing the word "head" or "brain". A stated body part wins
 * over the descriptions ("femoral head" on a HIP series is not a head). Undefined when it does not.
 * A series taken for a head that is not one fails its defacing and is reported, not released.
 */
export function headImageReason(ds: Dataset): string | undefined {
  const modality = textOf(ds, T.Modality);
  if (modality !== 'MR' && modality !== 'CT') return undefined;
  const bodyPart = textOf(ds, BodyPartExamined)?.toUpperCase();
  if (bodyPart !== undefined) return HEAD_BODY_PARTS.has(bodyPart) ? `${modality}, Body Part Examined ${bodyPart}` : undefined;
  for (const [t, name] of [
    [T.SeriesDescription, 'Series Description'],
    [StudyDescription, 'Study Description'],
  ] as const) {
    const word = HEAD_WORDS.exec(textOf(ds, t) ?? '')?.[1];
    if (word) return `${modality}, ${name} says "${word.toLowerCase()}"`;
  }
  return undefined;
}

const BodyPartExamined = tag(0x0018, 0x0015);
const StudyDescription = tag(0x0008, 0x1030);

/**
 * The MR and CT head series among the files under `inputDir` (see headImageReason): every image
 * of a series goes with it when any of its images says head. Files that are not DICOM, or not
 * images, are passed over; `exclude` skips folders and files (the run's own output).
 */
export async function findHeadSeries(inputDir: string, exclude: (absolutePath: string) => boolean = () => false): Promise<HeadSeries[]> {
  const bySeries = new Map<string, { files: string[]; why: string | undefined }>();
  for (const file of await listFiles(inputDir, true, exclude)) {
    let ds: Dataset;
    try {
      ds = readDicom(await readFile(file), { untilTag: T.PixelData }).dataset;
    } catch (e) {
      if (e instanceof NotDicomError || e instanceof DicomParseError) continue; // the batch reports it
      throw e;
    }
    const modality = textOf(ds, T.Modality);
    const series = textOf(ds, T.SeriesInstanceUID);
    if ((modality !== 'MR' && modality !== 'CT') || series === undefined || !ds.has(T.Rows)) continue;
    const entry = bySeries.get(series) ?? { files: [], why: undefined };
    entry.files.push(path.relative(inputDir, file));
    entry.why ??= headImageReason(ds);
    bySeries.set(series, entry);
  }
  const out: HeadSeries[] = [];
  for (const [seriesInstanceUid, { files, why }] of bySeries) {
    if (why !== undefined) out.push({ seriesInstanceUid, files: files.sort(), why });
  }
  return out.sort((a, b) => (a.files[0]! < b.files[0]! ? -1 : 1));
}

export type SeriesDefaceOutcome =
  | { readonly status: 'defaced'; readonly assessment: DefaceAssessment; readonly written: WrittenSeries }
  | { readonly status: 'failed'; readonly reason: string; readonly assessment?: DefaceAssessment };

/**
 * Defaces one head series of a batch into `workDir`: each file of the series is written there
 * under its path relative to `inputDir`, defaced and marked as derived (new UIDs, Image Type
 * DERIVED, Derivation Description). A series that cannot be read as a volume, cannot be defaced
 * or fails a check is 'failed' with the reason, and nothing of it is written.
 */
export async function defaceSeriesFiles(
  inputDir: string,
  series: HeadSeries,
  workDir: string,
  options: Omit<DefaceRunOptions, 'preview'> = {},
): Promise<SeriesDefaceOutcome> {
  const ears = options.ears === true;
  const files = series.files.map((rel) => path.join(inputDir, rel));
  let assessment: DefaceAssessment;
  let result: DefaceResult;
  let volume: DicomSeriesVolume;
  try {
    const t = performance.now();
    volume = await readDicomSeries(files, { seriesInstanceUid: series.seriesInstanceUid });
    ({ result, assessment } = await defaceAndAssess(volume, options, performance.now() - t, options.onProgress ?? (() => undefined), 'series'));
  } catch (e) {
    if (e instanceof VolumeError || e instanceof DefaceError) return { status: 'failed', reason: e.message };
    throw e;
  }
  if (assessment.status === 'failed') return { status: 'failed', reason: assessment.failures.join('; '), assessment };
  const t = performance.now();
  const written = await writeDicomSeries(result.defaced, volume, workDir, {
    derivationDescription: derivationDescription(ears),
    uidSeed: uidSeed(ears, options.template),
    uidKey: options.uidKey ?? randomBytes(32),
    files,
    outputName: (file) => path.relative(inputDir, file),
  });
  return { status: 'defaced', assessment: { ...assessment, timings: { ...assessment.timings, writeMs: round(performance.now() - t) } }, written };
}

// -------------------------------------------------------------------------------------------

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

async function listFiles(folder: string, recursive: boolean, exclude: (p: string) => boolean = () => false): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    if (exclude(dir)) return;
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (recursive) await walk(full);
      } else if (e.isFile() && !exclude(full)) {
        out.push(full);
      }
    }
  };
  await walk(folder);
  return out;
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function percent(fraction: number): string {
  return `${round(fraction * 100, 2)}%`;
}
