/**
 * A batch run: walk the input, de-identify every file on every core, record each outcome in
 * a journal as it lands (so a killed run resumes where it stopped), and write the report.
 */
import { createHmac } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { ProjectSecret } from '../deid/pseudonyms.js';
import { writeReplacing } from './atomic.js';
import { writeDicomdir } from './dicomdir.js';
import { runPool } from './pool.js';
import type { FileOutcome, IndexEntry } from './process-file.js';
import { pixelSummaryOf, ReportBuilder, summarize, type RunReport } from './report.js';
import type { JobSettings } from './settings.js';
import { walkFiles } from './walk.js';
// Types only: the defacing modules (elastix, tfjs) are loaded when a run asks for defacing.
import type { HeadSeries, SeriesDefaceOutcome } from '../volume/deface/run.js';
import type { TemplateName } from '../volume/deface/templates.js';

export interface Progress {
  readonly done: number;
  /** Undefined until the input has been counted. */
  readonly total: number | undefined;
  readonly failed: number;
}

export interface RunOptions extends Omit<JobSettings, 'inputDir' | 'outputDir' | 'quarantineDir' | 'layout' | 'runStartedAt'> {
  readonly inputDir: string;
  readonly outputDir: string;
  /** Folder for the journal and the report; defaults to "<output-dir>.run" beside the output. */
  readonly runDir?: string;
  /** Copy malformed inputs into this folder. */
  readonly quarantineDir?: string;
  /** Write a DICOMDIR for the output (the output then uses the 8-character media layout). */
  readonly dicomdir?: boolean;
  /** Worker threads; default: every core. 0 runs in this thread. */
  readonly workers?: number;
  readonly onProgress?: (p: Progress) => void;
  /**
   * Deface the MR and CT series of the head before de-identifying them (volume/deface/run.ts
   * findHeadSeries says which): each is defaced as a volume into a working folder and its files
   * de-identified from there; a series whose defacing fails is reported failed, not written.
   */
  readonly deface?: DefaceSettings;
}

export interface DefaceSettings {
  readonly ears?: boolean;
  /** Default: the shipped avg152 2 mm template. */
  readonly template?: TemplateName;
  /** The folder holding a template that is not shipped (mni152-1mm). */
  readonly templateDir?: string;
}

/**
 * The plan of files whose face was removed: De-identification Method says "defaced" and the code
 * sequence declares Clean Recognizable Visual Features (PS3.15 E.3.2).
 */
export function defacedPlan(plan: JobSettings['plan']): JobSettings['plan'] {
  return {
    ...plan,
    methodName: `${plan.methodName}\\defaced`,
    pixelMethods: [...new Set([...(plan.pixelMethods ?? []), 'cleanRecognizableVisualFeatures' as const])],
  };
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface JournalLine {
  readonly outcome: FileOutcome;
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
}

export function defaultRunDir(outputDir: string): string {
  return resolve(outputDir).replace(/[\\/]+$/, '') + '.run';
}

interface Journal {
  readonly outcomes: Map<string, FileOutcome>;
  /** The file ends inside a line (a kill mid-write): the next line must start on a new one. */
  readonly endsMidLine: boolean;
}

/**
 * Outcomes recorded by earlier runs of the same job. A file counts as done only if its output
 * is still there; failures are retried (the cause, a locked file or a full disk, may be gone).
 */
async function readJournal(path: string, outputDir: string): Promise<Journal> {
  const outcomes = new Map<string, FileOutcome>();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { outcomes, endsMidLine: false };
  }
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const { outcome } = JSON.parse(line) as JournalLine;
      if (outcome.status === 'failed') outcomes.delete(outcome.input);
      else outcomes.set(outcome.input, outcome);
    } catch {
      // A line cut short by a kill: that file is simply done again.
    }
  }
  for (const [input, o] of outcomes) {
    const output = o.status === 'done' || o.status === 'duplicate' ? o.output : undefined;
    if (output !== undefined && !(await stat(join(outputDir, output)).then(() => true, () => false))) outcomes.delete(input);
  }
  return { outcomes, endsMidLine: text.length > 0 && !text.endsWith('\n') };
}

/**
 * One journal per job: the same input folder, key and settings. A later batch, another key or
 * other options into the same output folder start a journal of their own instead of being
 * taken for work already done.
 */
function journalName(settings: JobSettings, secret: ProjectSecret, deface: DefaceSettings | undefined): string {
  const job = JSON.stringify({
    input: settings.inputDir,
    layout: settings.layout,
    plan: settings.plan,
    pseudonyms: settings.pseudonyms,
    // A run with defacing is another job: files written without it must not count as done.
    ...(deface ? { deface: { ears: deface.ears === true, template: deface.template ?? 'default', templateDir: deface.templateDir } } : {}),
    ...(settings.pixels ? { pixels: settings.pixels } : {}),
  });
  // Keyed like every other derived name: the settings include a site's lookup table.
  return `journal-${createHmac('sha256', secret.deriveKey('journal')).update(job).digest('hex').slice(0, 16)}.jsonl`;
}

export async function runDeid(options: RunOptions): Promise<RunReport> {
  const started = new Date();
  const inputDir = resolve(options.inputDir);
  const outputDir = resolve(options.outputDir);
  const runDir = resolve(options.runDir ?? defaultRunDir(outputDir));
  const quarantineDir = options.quarantineDir ? resolve(options.quarantineDir) : undefined;
  const inputStat = await stat(inputDir).catch(() => undefined);
  if (!inputStat?.isDirectory()) throw new UsageError(`input folder not found: ${options.inputDir}`);
  if (isInside(outputDir, inputDir) || isInside(inputDir, outputDir)) {
    throw new UsageError('the output folder must not be inside the input folder, nor the input inside the output');
  }
  const secret = ProjectSecret.fromBytes(options.secret);
  const settings: JobSettings = {
    inputDir,
    outputDir,
    dryRun: options.dryRun,
    // Filesystem timestamps are coarser than the clock on some systems: a little margin.
    runStartedAt: started.getTime() - 5,
    layout: options.dicomdir ? 'media' : 'tree',
    // Cleaned pixels are declared in every file's code sequence (Clean Pixel Data, 113101).
    plan: options.pixels ? { ...options.plan, pixelMethods: [...new Set([...(options.plan.pixelMethods ?? []), 'cleanPixelData' as const])] } : options.plan,
    pseudonyms: options.pseudonyms,
    secret: options.secret,
    quarantineDir,
    ...(options.pixels ? { pixels: options.pixels } : {}),
  };

  const keyId = secret.deriveKey('key-id').toString('hex').slice(0, 12);
  const journalPath = join(runDir, journalName(settings, secret, options.deface));
  const earlier = options.dryRun ? undefined : await readJournal(journalPath, outputDir);
  const previous = earlier?.outcomes ?? new Map<string, FileOutcome>();
  if (!options.dryRun) {
    await mkdir(outputDir, { recursive: true });
    await mkdir(runDir, { recursive: true });
  }
  const journal = options.dryRun ? undefined : createWriteStream(journalPath, { flags: 'a' });
  if (journal && earlier?.endsMidLine) journal.write('\n');

  const report = new ReportBuilder();
  const index: IndexEntry[] = [];
  const exclude = (p: string) => [outputDir, runDir, ...(quarantineDir ? [quarantineDir] : [])].some((d) => isInside(p, d));
  const progress = { done: 0, total: undefined as number | undefined, failed: 0 };
  const emit = () => options.onProgress?.({ ...progress });

  // Counting runs alongside the work so progress gets a total without holding every path.
  void (async () => {
    let n = 0;
    for await (const _ of walkFiles(inputDir, exclude)) n++;
    progress.total = n;
    emit();
  })().catch(() => undefined);

  const accept = (o: FileOutcome, fromJournal: boolean) => {
    const outcome = fromJournal && o.status === 'done' ? { ...o, resumed: true } : o;
    report.add(outcome);
    if (options.dicomdir && outcome.status === 'done') index.push(outcome.index);
    progress.done++;
    if (outcome.status === 'failed') progress.failed++;
    emit();
  };

  // With --deface, the head series are found first and left out of the main pass.
  const heads = options.deface ? await (await import('../volume/deface/run.js')).findHeadSeries(inputDir, exclude) : [];
  const headFiles = new Set(heads.flatMap((series) => series.files));

  async function* pending(): AsyncGenerator<string> {
    for await (const rel of walkFiles(inputDir, exclude)) {
      if (headFiles.has(rel)) continue;
      const earlier = previous.get(rel);
      if (earlier) accept(earlier, true);
      else yield rel;
    }
  }

  const record = (o: FileOutcome): void | Promise<void> => {
    if (journal && !journal.write(JSON.stringify({ outcome: o } satisfies JournalLine) + '\n')) {
      return new Promise<void>((r) => journal.once('drain', () => r())).then(() => accept(o, false));
    }
    accept(o, false);
  };
  const poolOptions = { workers: options.workers ?? availableParallelism(), batchSize: 8 };
  await runPool(pending(), settings, poolOptions, record);
  if (options.deface) {
    await defaceHeadSeries(heads, options.deface, { uidKey: secret.deriveKey('deface-uid'), inputDir, runDir, settings, previous, accept, record, poolOptions, notes: report.notes, dryRun: options.dryRun });
  }
  if (journal) await new Promise<void>((r, j) => journal.end((e?: Error | null) => (e ? j(e) : r())));

  let dicomdir: string | undefined;
  if (options.dicomdir && !options.dryRun) {
    const written = await writeDicomdir(outputDir, index);
    dicomdir = written.path;
    for (const e of written.excluded) report.notes.push({ file: e.output, note: `not in the DICOMDIR: ${e.reason}` });
  }

  const finished = new Date();
  const result: RunReport = {
    tool: options.plan.methodName,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    seconds: (finished.getTime() - started.getTime()) / 1000,
    dryRun: options.dryRun,
    settings: {
      profile: 'PS3.15 Basic Application Level Confidentiality Profile',
      options: options.plan.options,
      allowList: options.plan.allowList,
      birthDate: options.plan.birthDate,
      recipeRules: options.plan.recipe.rules.length,
      keyId,
    },
    counts: report.counts,
    bytes: report.bytes,
    byAction: report.byAction,
    byRule: report.byRule,
    failures: report.failures,
    skipped: report.skipped,
    duplicates: report.duplicates,
    notes: report.notes,
    ...(options.pixels ? { pixels: pixelSummaryOf(report.pixelFiles, options.pixels) } : {}),
    ...(dicomdir ? { dicomdir } : {}),
  };
  if (!options.dryRun) {
    await writeReplacing(join(runDir, 'report.json'), JSON.stringify(result, null, 2) + '\n');
    await writeReplacing(join(runDir, 'summary.txt'), summarize(result));
  }
  return result;
}

interface DefacePassContext {
  /** Key of the defaced series' new UIDs (a subkey of the project secret: re-runs agree). */
  readonly uidKey: Uint8Array;
  readonly inputDir: string;
  readonly runDir: string;
  readonly settings: JobSettings;
  readonly previous: ReadonlyMap<string, FileOutcome>;
  readonly accept: (o: FileOutcome, fromJournal: boolean) => void;
  readonly record: (o: FileOutcome) => void | Promise<void>;
  readonly poolOptions: { readonly workers: number; readonly batchSize: number };
  readonly notes: { file: string; note: string }[];
  readonly dryRun: boolean;
}

/**
 * The head series of a --deface run, one at a time: deface the series into a working folder
 * (under the run folder, removed afterwards; under the system's temporary folder for a dry run),
 * then de-identify its defaced files from there with the same settings, their De-identification
 * Method saying "defaced". The outcomes keep the original relative paths. Inputs are never modified.
 * Each series' measures go to <run folder>/deface/series-NNNN.json.
 */
async function defaceHeadSeries(heads: readonly HeadSeries[], deface: DefaceSettings, c: DefacePassContext): Promise<void> {
  if (heads.length === 0) return;
  const { defaceSeriesFiles } = await import('../volume/deface/run.js');
  const { loadDefaceTemplate, TemplateError } = await import('../volume/deface/templates.js');
  // The template is read once for every series; a missing one is a setting to fix, not a failed file.
  const loadedTemplate = await loadDefaceTemplate(deface.template ?? 'avg152-2mm', deface.templateDir === undefined ? {} : { templateDir: deface.templateDir }).catch((e: unknown) => {
    throw e instanceof TemplateError ? new UsageError(`--deface: ${e.message}`) : e;
  });
  const workRoot = await mkdtemp(c.dryRun ? join(tmpdir(), 'radanon-deface-') : join(c.runDir, '.deface-'));
  const defacedSettings: JobSettings = { ...c.settings, plan: defacedPlan(c.settings.plan) };
  try {
    for (const series of heads) {
      const todo = series.files.filter((rel) => !c.previous.has(rel));
      for (const rel of series.files) if (c.previous.has(rel)) c.accept(c.previous.get(rel)!, true);
      if (todo.length === 0) continue;
      const work = await mkdtemp(join(workRoot, 'series-'));
      try {
        // Whatever stops one series' defacing fails that series only: a batch never stops for one.
        const outcome = await defaceSeriesFiles(c.inputDir, series, work, { ears: deface.ears === true, loadedTemplate, uidKey: c.uidKey }).catch(
          (e: unknown): SeriesDefaceOutcome => ({ status: 'failed', reason: `${(e as Error).name}: ${(e as Error).message}` }),
        );
        const first = series.files[0]!;
        if (!c.dryRun) {
          // The evidence, series by series: every measure and the face check's scores (no identifiers: paths are the input's own).
          await mkdir(join(c.runDir, 'deface'), { recursive: true });
          const evidence = { files: series.files, why: series.why, status: outcome.status, ...(outcome.status === 'failed' ? { reason: outcome.reason } : {}), assessment: outcome.assessment };
          await writeReplacing(join(c.runDir, 'deface', `series-${String(heads.indexOf(series) + 1).padStart(4, '0')}.json`), JSON.stringify(evidence, null, 2) + '\n');
        }
        if (outcome.status === 'failed') {
          const reason = `defacing failed (${series.why}; ${series.files.length} files, none written): ${outcome.reason}`;
          for (const rel of todo) await c.record({ status: 'failed', input: rel, reason, quarantined: false });
          continue;
        }
        const m = outcome.assessment.metrics;
        c.notes.push({
          file: first,
          note: `defaced with its series (${series.why}; ${series.files.length} files): ${(m.faceRemovedFraction * 100).toFixed(2)}% of the face region removed, ${m.brainVoxelsAltered} brain voxels altered, brain Dice ${m.brainDice}, face check passed`,
        });
        async function* defacedFiles(): AsyncGenerator<string> {
          yield* todo;
        }
        await runPool(defacedFiles(), { ...defacedSettings, inputDir: work }, c.poolOptions, c.record);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    }
  } finally {
    await rm(workRoot, { recursive: true, force: true });
  }
}
