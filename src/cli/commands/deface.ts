import { Command } from 'commander';
import { summarize, type RunReport } from '../../pipeline/report.js';
import { UsageError } from '../../pipeline/run.js';
import { addPlanOptions, addPseudonymOptions, planFromOptions, pseudonymsFromOptions, readSecret } from '../options.js';
import type { DefaceRunReport } from '../../volume/deface/run.js';
import { TEMPLATE_NAMES, type TemplateName } from '../../volume/deface/templates.js';
import type { BrainCheck } from '../../volume/deface/deface.js';

// deface.ts's BRAIN_CHECKS, repeated: importing its value would load the method (elastix) with every command.
const BRAIN_CHECKS: readonly BrainCheck[] = ['brainchop'];

const TEMPLATES: readonly TemplateName[] = TEMPLATE_NAMES;

interface DefaceCommandOptions {
  preview?: string;
  ears?: boolean;
  template?: string;
  templateDir?: string;
  brainCheck?: string;
  json?: boolean;
}

function parseBrainCheck(text: string | undefined): BrainCheck | undefined {
  if (text === undefined) return undefined;
  if (!(BRAIN_CHECKS as readonly string[]).includes(text)) throw new UsageError(`--brain-check must be ${BRAIN_CHECKS.join(' or ')}, got "${text}"`);
  return text as BrainCheck;
}

function parseTemplate(text: string | undefined): TemplateName | undefined {
  if (text === undefined) return undefined;
  if (!(TEMPLATES as readonly string[]).includes(text)) throw new UsageError(`--template must be ${TEMPLATES.join(' or ')}, got "${text}"`);
  return text as TemplateName;
}

/** The report in a few lines: the verdict, each measure against its requirement, the face check per view. */
export function summarizeDeface(r: DefaceRunReport): string {
  const m = r.metrics;
  const pct = (x: number) => `${Number((x * 100).toFixed(2))}%`;
  const lines = [
    `deface: ${r.status === 'passed' ? 'passed' : 'FAILED'}`,
    `input:  ${r.input}`,
    `output: ${r.output} (${r.written ? 'written' : 'not written'})`,
    `face region removed: ${pct(m.faceRemovedFraction)} of ${m.faceRegionVoxels} voxels (at least ${pct(r.thresholds.minFaceRemovedFraction)} required)`,
    `brain: ${m.brainVoxelsAltered} voxels altered (none allowed), Dice ${m.brainDice}`,
    ...(m.brainchop
      ? [`brainchop brain (${m.brainchop.model}): ${m.brainchop.voxelsAltered} of ${m.brainchop.voxels} voxels altered, Dice ${m.brainchop.dice} (at least ${r.thresholds.minBrainchopDice} required), ${(m.brainchop.ms / 1000).toFixed(1)} s`]
      : []),
    `registration: similarity ${Number(m.registration.similarity.toFixed(4))}, ${m.registration.converged ? 'converged' : 'did not converge'}, ${(m.registration.ms / 1000).toFixed(1)} s`,
    `face check: ${r.faceCheck.passed ? 'passed' : 'failed'}`,
    ...r.faceCheck.views.map((v) => {
      const side = (s: { detected: boolean; score: number }) => `${s.detected ? 'face' : 'no face'} (${s.score.toFixed(3)})`;
      const distance = v.distance === null ? '' : `, distance ${v.distance.toFixed(3)}`;
      const previews = v.previews ? ` [${v.previews.before}, ${v.previews.after}]` : '';
      return `  ${String(v.azimuth).padStart(4)}°: before ${side(v.before)} → after ${side(v.after)}${distance}${previews}`;
    }),
    ...r.failures.map((f) => `failed: ${f}`),
    `report: ${r.report}`,
    `time: ${r.seconds} s`,
  ];
  return lines.join('\n') + '\n';
}

export function defaceCommand(): Command {
  const cmd = new Command('deface')
    .description('remove the face from a head MRI or CT, prove the face is gone and the brain untouched, and write the result only if so')
    .argument('<input>', 'a NIfTI image (.nii, .nii.gz), or a DICOM series (a folder holding one series, or one of its files)')
    .argument(
      '<output>',
      'a NIfTI file for NIfTI input; for a DICOM series, a folder that receives it de-identified (as deid writes: <research ID>/<study>/<series>/…). The report goes to <output>.deface.json',
    )
    .option('--preview <dir>', 'write the before/after renders of the face check as PNG files into this folder')
    .option('--ears', 'remove the ears too')
    .option('--template <name>', `the template registered to the head: ${TEMPLATES.join(' or ')} (default avg152-2mm, shipped)`)
    .option('--template-dir <dir>', 'the folder holding a template that is not shipped (mni152-1mm: MNI152_T1_1mm.nii.gz and its brain mask)')
    .option('--brain-check <name>', `check the brain against an independent mask too: ${BRAIN_CHECKS.join(' or ')} (brainchop's grey/white matter model; about a minute on two cores)`)
    .option('--json', 'print the full JSON report instead of the summary');
  // A DICOM series leaves de-identified by the core engine, so it takes deid's secret and plan.
  cmd.addHelpText('after', '\nDICOM input is de-identified as it is written: give --secret-file (or --ephemeral-secret) and, if needed, the plan options of deid.');
  addPseudonymOptions(cmd);
  addPlanOptions(cmd);
  cmd.action(async (input: string, output: string, opts: DefaceCommandOptions & Record<string, unknown>) => {
    const template = parseTemplate(opts.template);
    const brainCheck = parseBrainCheck(opts.brainCheck);
    const dicom = !/\.nii(\.gz)?$/i.test(input);
    // Settings are checked before any work: a missing secret must not cost a registration.
    const deid = dicom
      ? { secret: await readSecret(opts as { secretFile?: string; ephemeralSecret?: boolean }), dryRun: false, plan: await planFromOptions(opts), pseudonyms: await pseudonymsFromOptions(opts) }
      : undefined;
    // Loaded here, not at start-up: the method brings elastix and tfjs, which other commands do not need.
    const [{ runDeface }, { DefaceError }, { runDefaceDicom }] = await Promise.all([
      import('../../volume/deface/run.js'),
      import('../../volume/deface/deface.js'),
      import('../../pipeline/deface-dicom.js'),
    ]);
    const method = {
      ...(opts.preview !== undefined ? { preview: opts.preview } : {}),
      ears: opts.ears === true,
      ...(template ? { template } : {}),
      ...(opts.templateDir !== undefined ? { templateDir: opts.templateDir } : {}),
      ...(brainCheck ? { brainCheck } : {}),
      onProgress: (message: string) => process.stderr.write(`radanon deface: ${message}\n`),
    };
    let report: DefaceRunReport;
    let deidReport: RunReport | undefined;
    try {
      if (deid) {
        const both = await runDefaceDicom(input, output, { deface: method, deid });
        report = both.deface;
        deidReport = both.deid;
      } else {
        report = await runDeface(input, output, method);
      }
    } catch (e) {
      // An image that cannot be defaced (not a head, no orientation, 2-D): bad input, nothing written.
      if (e instanceof DefaceError) {
        process.stderr.write(`radanon: ${e.message}\n`);
        process.exitCode = 2;
        return;
      }
      throw e;
    }
    process.stdout.write(opts.json ? JSON.stringify(deidReport ? { ...report, deid: deidReport } : report, null, 2) + '\n' : summarizeDeface(report) + (deidReport ? summarize(deidReport) : ''));
    // A failed check: the image was not written; the report says why.
    process.exitCode = report.status === 'passed' && report.written ? 0 : 1;
  });
  return cmd;
}
