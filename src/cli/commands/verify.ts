import { Command } from 'commander';
import { loadRecipe } from '../../deid/plan.js';
import { UsageError } from '../../pipeline/run.js';
import { ProjectSecret } from '../../deid/pseudonyms.js';
import { summarizeVerify, verifyFolder } from '../../qa/verify.js';
import { readSecret } from '../options.js';

export function verifyCommand(): Command {
  return new Command('verify')
    .description('check a de-identified folder against the rules its files declare; with --original, search it for every identifying value of the originals')
    .argument('<output-dir>', 'a folder written by radanon deid')
    .option('--original <input-dir>', 'the original folder: no removed or replaced value of it may appear in the output bytes or paths')
    .option('--secret-file <file>', "with --original: the run's project secret, to pair every output with its original by instance UID (cleaned and defaced images too)")
    .option('--no-allow-list', 'the run kept attributes the profile does not list')
    .option('--recipe <file>', 'the recipe the run used')
    .option('--birth-date <mode>', 'how the run treated the birth date: remove or shift', 'remove')
    .option('--pixels', 'read the pixels of every file with OCR too: each word still found is a finding')
    .option('--preview <dir>', 'with --pixels: a PNG of every frame where text was found, boxes drawn')
    .option('--json', 'print the full JSON report')
    .action(async (output: string, opts: { original?: string; secretFile?: string; allowList: boolean; recipe?: string; birthDate: string; pixels?: boolean; preview?: string; json?: boolean }) => {
      if (opts.preview !== undefined && !opts.pixels) throw new UsageError('--preview needs --pixels');
      if (opts.birthDate !== 'remove' && opts.birthDate !== 'shift') throw new UsageError(`--birth-date must be remove or shift, got "${opts.birthDate}"`);
      if (opts.secretFile !== undefined && opts.original === undefined) throw new UsageError('--secret-file needs --original');
      const secret = opts.secretFile === undefined ? undefined : ProjectSecret.fromBytes(await readSecret({ secretFile: opts.secretFile }));
      const report = await verifyFolder({
        birthDate: opts.birthDate,
        outputDir: output,
        originalDir: opts.original,
        ...(secret ? { secret } : {}),
        allowList: opts.allowList !== false,
        recipe: await loadRecipe(opts.recipe),
        ...(opts.pixels ? { pixels: opts.preview !== undefined ? { preview: opts.preview } : {} } : {}),
      });
      process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : summarizeVerify(report));
      process.exitCode = report.ok ? 0 : 1;
    });
}
