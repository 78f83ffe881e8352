/**
 * A batch run: walk the input, de-identify every file on every core, record each outcome in
 * a journal as it lands (so a killed run resumes where it stopped), and write the report.
 */
import { createHmac } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { ProjectSecret } from '../deid/pseudonyms.js';
import { writeReplacing } from './atomic.js';
import { writeDicomdir } from './dicomdir.js';
import { runPool } from './pool.js';
import type { FileOutcome, IndexEntry } from './process-file.js';
import { ReportBuilder, summarize, type RunReport } from './report.js';
import type { JobSettings } from './settings.js';
import { walkFiles } from './walk.js';

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
function journalName(settings: JobSettings, secret: ProjectSecret): string {
  const job = JSON.stringify({
    input: settings.inputDir,
    layout: settings.layout,
    plan: settings.plan,
    pseudonyms: settings.pseudonyms,
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
    plan: options.plan,
    pseudonyms: options.pseudonyms,
    secret: options.secret,
    quarantineDir,
  };

  const keyId = secret.deriveKey('key-id').toString('hex').slice(0, 12);
  const journalPath = join(runDir, journalName(settings, secret));
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

  async function* pending(): AsyncGenerator<string> {
    for await (const rel of walkFiles(inputDir, exclude)) {
      const earlier = previous.get(rel);
      if (earlier) accept(earlier, true);
      else yield rel;
    }
  }

  await runPool(pending(), settings, { workers: options.workers ?? availableParallelism(), batchSize: 8 }, (o) => {
    if (journal && !journal.write(JSON.stringify({ outcome: o } satisfies JournalLine) + '\n')) {
      return new Promise<void>((r) => journal.once('drain', () => r())).then(() => accept(o, false));
    }
    accept(o, false);
  });
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
    ...(dicomdir ? { dicomdir } : {}),
  };
  if (!options.dryRun) {
    await writeReplacing(join(runDir, 'report.json'), JSON.stringify(result, null, 2) + '\n');
    await writeReplacing(join(runDir, 'summary.txt'), summarize(result));
  }
  return result;
}
