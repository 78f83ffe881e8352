import { Command } from 'commander';
import { loadRecipe } from '../../deid/plan.js';
import { UsageError } from '../../pipeline/run.js';
import { summarizeVerify, verifyFolder } from '../../qa/verify.js';

export function verifyCommand(): Command {
  return new Command('verify')
    .description('check a de-identified folder against the rules its files declare; with --original, search it for every identifying value of the originals')
    .argument('<output-dir>', 'a folder written by radanon deid')
    .option('--original <input-dir>', 'the original folder: no removed or replaced value of it may appear in the output bytes or paths')
    .option('--no-allow-list', 'the run kept attributes the profile does not list')
    .option('--recipe <file>', 'the recipe the run used')
    .option('--birth-date <mode>', 'how the run treated the birth date: remove or shift', 'remove')
    .option('--json', 'print the full JSON report')
    .action(async (output: string, opts: { original?: string; allowList: boolean; recipe?: string; birthDate: string; json?: boolean }) => {
      if (opts.birthDate !== 'remove' && opts.birthDate !== 'shift') throw new UsageError(`--birth-date must be remove or shift, got "${opts.birthDate}"`);
      const report = await verifyFolder({
        birthDate: opts.birthDate,
        outputDir: output,
        originalDir: opts.original,
        allowList: opts.allowList !== false,
        recipe: await loadRecipe(opts.recipe),
      });
      process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : summarizeVerify(report));
      process.exitCode = report.ok ? 0 : 1;
    });
}
