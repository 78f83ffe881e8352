import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { runDeid, type Progress } from '../../pipeline/run.js';
import { summarize } from '../../pipeline/report.js';
import { addPixelDetectionOptions, addPlanOptions, addPseudonymOptions, defaceFromOptions, pixelsFromOptions, planFromOptions, pseudonymsFromOptions, readSecret } from '../options.js';

/** Draws progress on an interactive terminal only; logs and pipes get the summary alone. */
function progressRenderer(enabled: boolean): { update: (p: Progress) => void; stop: () => void } {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { format: 'deid [{bar}] {value}/{total} files | {failed} failed | {eta_formatted} left', hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      if (!started) {
        bar.start(p.total ?? p.done + 1, p.done, { failed: p.failed });
        started = true;
      }
      if (p.total !== undefined) bar.setTotal(p.total);
      bar.update(p.done, { failed: p.failed });
    },
    stop: () => started && bar.stop(),
  };
}

export function deidCommand(): Command {
  const cmd = new Command('deid')
    .description('de-identify every DICOM file under <input-dir> into <output-dir>')
    .argument('<input-dir>', 'folder tree of DICOM files (read only)')
    .argument('<output-dir>', 'where the de-identified copy goes: <research ID>/<study>/<series>/<instance>.dcm');
  addPseudonymOptions(cmd);
  addPlanOptions(cmd);
  cmd
    .option('--dry-run', 'report what would be done, write nothing')
    .option('--quarantine <dir>', 'copy malformed input files into this folder')
    .option('--dicomdir', 'write a DICOMDIR for the output (files then get 8-character media names)')
    .option('--run-dir <dir>', 'where the journal and the report go (default: <output-dir>.run)')
    .option('--workers <n>', 'worker threads (default: one per core)', (v) => Number.parseInt(v, 10))
    .option('--deface', 'deface MR and CT head series before de-identifying them (a series that cannot be defaced is not written)')
    .option('--deface-ears', 'with --deface: remove the ears too')
    .option('--deface-template <name>', 'with --deface: the template registered to each head, avg152-2mm (default, shipped) or mni152-1mm')
    .option('--deface-template-dir <dir>', 'with --deface: the folder holding a template that is not shipped (mni152-1mm)')
    .option('--clean-pixels', 'find text burned into the pixels (OCR, header hints, device rules) and remove it by inpainting; declares Clean Pixel Data')
    .option('--redaction <method>', 'with --clean-pixels: how text is removed: telea (default), navier-stokes, exemplar, or fill (solid boxes)')
    .option('--marked-redaction <method>', 'with --clean-pixels: how marked regions are filled: exemplar (default, continues texture), telea, navier-stokes or fill')
    .option('--pixel-dilation <pixels>', 'with --clean-pixels: grow each removed box by this many pixels (default 3)');
  addPixelDetectionOptions(cmd);
  cmd
    .option('--json', 'print the full JSON report instead of the summary')
    .action(async (input: string, output: string, opts: Record<string, unknown>) => {
      const secret = await readSecret(opts as { secretFile?: string; ephemeralSecret?: boolean });
      const deface = defaceFromOptions(opts);
      const pixels = pixelsFromOptions(opts);
      const progress = progressRenderer(process.stderr.isTTY === true && !opts.json);
      const report = await runDeid({
        inputDir: input,
        outputDir: output,
        runDir: opts.runDir as string | undefined,
        dryRun: opts.dryRun === true,
        quarantineDir: opts.quarantine as string | undefined,
        dicomdir: opts.dicomdir === true,
        workers: opts.workers as number | undefined,
        plan: await planFromOptions(opts),
        pseudonyms: await pseudonymsFromOptions(opts),
        secret,
        onProgress: progress.update,
        ...(deface ? { deface } : {}),
        ...(pixels ? { pixels } : {}),
      }).finally(progress.stop);
      process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : summarize(report));
      // A duplicate SOP Instance UID with other content was not written: the curator must look.
      process.exitCode = report.counts.failed > 0 || report.counts.conflicts > 0 ? 1 : 0;
    });
  return cmd;
}
