/**
 * `radanon deface` on a DICOM series. Every DICOM file radanon writes is de-identified by the core
 * engine, so a defaced series does not leave as the method wrote it: it is defaced into a working
 * folder beside the output (new UIDs, Image Type DERIVED, Derivation Description), and only when
 * every check passed, de-identified from there into the output like `deid --deface` does, with
 * the same project secret and plan. Nothing is written to the output when a check fails; the
 * working folder is removed either way.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { ProjectSecret } from '../deid/pseudonyms.js';
import { defaceReportPath, runDeface, type DefaceRunOptions, type DefaceRunReport } from '../volume/deface/run.js';
import { writeReplacing } from './atomic.js';
import type { RunReport } from './report.js';
import { defacedPlan, runDeid, type RunOptions } from './run.js';

export interface DefaceDicomOptions {
  /** The method's settings (template, ears, previews, progress). */
  readonly deface: Omit<DefaceRunOptions, 'uidKey'>;
  /** The core engine's settings: secret, plan, pseudonyms (as for `runDeid`). */
  readonly deid: Omit<RunOptions, 'inputDir' | 'outputDir' | 'deface' | 'dicomdir'>;
}

export interface DefaceDicomReport {
  /** The method's measures and checks; `output` is the de-identified folder. */
  readonly deface: DefaceRunReport;
  /** The de-identification of the defaced series, when it was defaced. */
  readonly deid?: RunReport;
}

/**
 * Defaces the DICOM series `input` (a folder holding one series, or one of its files) and writes
 * it de-identified into `output` (<research ID>/<study>/<series>/<instance>.dcm, as `deid`
 * writes). The defacing report goes to `<output>.deface.json`, the de-identification's journal and
 * report to `<output>.run` (or `deid.runDir`).
 */
export async function runDefaceDicom(input: string, output: string, options: DefaceDicomOptions): Promise<DefaceDicomReport> {
  const outputPath = path.resolve(output);
  await mkdir(path.dirname(outputPath), { recursive: true });
  const work = await mkdtemp(path.join(path.dirname(outputPath), '.radanon-deface-'));
  try {
    // The series is named after the output so previews carry the name the user chose.
    const defacedSeries = path.join(work, path.basename(outputPath));
    // Re-runs with the same secret give the derived series the same UIDs (before the engine's own).
    const uidKey = ProjectSecret.fromBytes(options.deid.secret).deriveKey('deface-uid');
    const method = await runDeface(input, defacedSeries, { ...options.deface, uidKey });
    const deid = method.written
      ? await runDeid({ ...options.deid, plan: defacedPlan(options.deid.plan), inputDir: defacedSeries, outputDir: outputPath })
      : undefined;
    const reportPath = defaceReportPath(outputPath);
    const deface: DefaceRunReport = { ...method, output: outputPath, report: reportPath, written: deid !== undefined && deid.counts.failed === 0 };
    // The method's report named the working folder; the user's copy names the output.
    await writeReplacing(reportPath, JSON.stringify(deface, null, 2) + '\n');
    return { deface, ...(deid ? { deid } : {}) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
