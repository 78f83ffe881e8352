import fs from 'node:fs/promises';
import { Command } from 'commander';
import { computeFeatures } from '../../radiomics/engine.js';
import { FAMILIES } from '../../radiomics/families.js';
import { compareFeatures, formatComparison, formatFeatures, parseFeatureTable, type FeatureFormat } from '../../radiomics/feature-table.js';
import { loadSettings } from '../../radiomics/settings.js';
import type { FamilyShort } from '../../radiomics/types.js';
import { UsageError } from '../../pipeline/run.js';
import { loadImage, loadMask } from '../../volume/load.js';
import { writeReplacing } from '../../pipeline/atomic.js';

interface FeaturesOptions {
  settings: string;
  format: string;
  out?: string;
  roi?: string;
  families?: string;
  compare?: boolean;
  absolute: string;
  relative: string;
  json?: boolean;
}

function parseFamilies(text: string | undefined): FamilyShort[] | undefined {
  if (text === undefined) return undefined;
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(FAMILIES as readonly string[]).includes(n));
  if (unknown.length) throw new UsageError(`--families: unknown ${unknown.join(', ')}; known: ${FAMILIES.join(', ')}`);
  return names as FamilyShort[];
}

function parseTolerance(text: string, flag: string): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0) throw new UsageError(`${flag} must be a number ≥ 0, got "${text}"`);
  return v;
}

export function featuresCommand(): Command {
  return new Command('features')
    .description('compute IBSI radiomic features of an image within a mask; with --compare, compare two feature tables')
    .argument('<image>', 'a NIfTI image (.nii, .nii.gz) or a DICOM series (folder); with --compare, the first feature table')
    .argument('<mask>', 'a NIfTI mask, a DICOM SEG or an RTSTRUCT; with --compare, the second feature table')
    .option('--settings <preset-or-file>', 'IBSI image processing settings: a preset (ibsi-phantom, ibsi-A … ibsi-E, default) or a YAML/JSON file', 'default')
    .option('--roi <name-or-number>', 'the RTSTRUCT ROI or SEG segment to use, when the file holds several')
    .option('--families <list>', `compute only these families (${FAMILIES.join(',')})`)
    .option('--format <format>', 'csv or json', 'csv')
    .option('--out <file>', 'write the table to this file instead of the standard output')
    .option('--compare', 'the two arguments are feature tables written by radanon features: report the features that changed')
    .option('--absolute <tolerance>', 'with --compare: a change up to this absolute amount is no change', '0')
    .option('--relative <tolerance>', 'with --compare: a change up to this share of the first value is no change', '0')
    .option('--json', 'with --compare: print the comparison as JSON')
    .action(async (first: string, second: string, opts: FeaturesOptions) => {
      if (opts.compare) {
        const [before, after] = await Promise.all([first, second].map(async (f) => parseFeatureTable(await readText(f), f)));
        const comparison = compareFeatures(before!, after!, {
          absolute: parseTolerance(opts.absolute, '--absolute'),
          relative: parseTolerance(opts.relative, '--relative'),
        });
        process.stdout.write(opts.json ? JSON.stringify(comparison, null, 2) + '\n' : formatComparison(comparison));
        const same = comparison.changed.length === 0 && comparison.onlyBefore.length === 0 && comparison.onlyAfter.length === 0;
        process.exitCode = same ? 0 : 1;
        return;
      }
      if (opts.format !== 'csv' && opts.format !== 'json') throw new UsageError(`--format must be csv or json, got "${opts.format}"`);
      const families = parseFamilies(opts.families);
      const settings = await loadSettings(opts.settings);
      const image = await loadImage(first);
      const mask = await loadMask(second, image.grid, opts.roi);
      const result = computeFeatures(image, mask, settings, families ? { families } : {});
      for (const note of result.notes) process.stderr.write(`radanon features: note: ${note}\n`);
      const text = formatFeatures(result.features, opts.format as FeatureFormat);
      if (opts.out) await writeReplacing(opts.out, text);
      else process.stdout.write(text);
    });
}

async function readText(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
