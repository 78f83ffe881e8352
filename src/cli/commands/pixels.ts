import { Command } from 'commander';
import { addPixelDetectionOptions } from '../options.js';
import { UsageError } from '../../pipeline/run.js';

interface ScanCommandOptions {
  preview?: string;
  deviceRules?: string;
  markedRegions?: string[];
  prefilter?: boolean;
  json?: boolean;
}

/** `radanon pixels scan`: what `deid --clean-pixels` would remove, without changing anything. */
export function pixelsCommand(): Command {
  const scan = new Command('scan')
    .description('find text burned into the pixels of every DICOM image under <dir> (OCR, header hints, device rules, marked regions); nothing is changed')
    .argument('<dir>', 'a folder of DICOM files (read only)')
    .option('--preview <out>', 'write a PNG of every frame with findings, the boxes drawn (red OCR, yellow ultrasound regions, cyan device rules, magenta marked)');
  addPixelDetectionOptions(scan);
  scan.option('--json', 'print the full JSON report').action(async (dir: string, opts: ScanCommandOptions) => {
    const { scanFolder, summarizeScan } = await import('../../pixels/scan.js');
    const { stat } = await import('node:fs/promises');
    if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new UsageError(`folder not found: ${dir}`);
    const report = await scanFolder(dir, {
      settings: {
        prefilter: opts.prefilter !== false,
        marked: opts.markedRegions ?? [],
        ...(opts.deviceRules !== undefined ? { deviceRules: opts.deviceRules } : {}),
      },
      ...(opts.preview !== undefined ? { preview: opts.preview } : {}),
      onProgress: (done, file) => {
        if (process.stderr.isTTY) process.stderr.write(`\rradanon pixels scan: ${done + 1} files … ${file.slice(-60).padEnd(60)}`);
      },
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : summarizeScan(report));
    // Like verify: findings or unreadable files mean a person should look.
    process.exitCode = report.findings > 0 || report.failures.length > 0 ? 1 : 0;
  });
  return new Command('pixels').description('burned-in text in pixel data').addCommand(scan.exitOverride());
}
