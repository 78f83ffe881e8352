/** The run report: the sum of every file's outcome. Holds no original identifier and no secret. */
import type { PixelFileReport } from '../pixels/clean.js';
import type { PixelSettings } from '../pixels/settings.js';
import type { FileOutcome, Tally } from './process-file.js';

export type FileStatus = FileOutcome['status'];

export interface RunReport {
  readonly tool: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly seconds: number;
  readonly dryRun: boolean;
  readonly settings: {
    readonly profile: string;
    readonly options: readonly string[];
    readonly allowList: boolean;
    readonly birthDate: string;
    readonly recipeRules: number;
    /** A keyed fingerprint of the project secret, to tell runs made with different keys apart. */
    readonly keyId: string;
  };
  readonly counts: Record<FileStatus, number> & {
    readonly total: number;
    readonly resumed: number;
    readonly quarantined: number;
    /** Duplicates whose content differed from the file already written: not written, to be looked at. */
    readonly conflicts: number;
  };
  readonly bytes: { readonly in: number; readonly out: number };
  readonly byAction: Record<string, number>;
  readonly byRule: Record<string, number>;
  /** Inputs are named relative to the input folder, which is the curator's own. */
  readonly failures: readonly { readonly file: string; readonly reason: string; readonly quarantined: boolean }[];
  readonly skipped: readonly { readonly file: string; readonly reason: string }[];
  readonly duplicates: readonly { readonly file: string; readonly output: string; readonly identical: boolean; readonly reason: string }[];
  readonly notes: readonly { readonly file: string; readonly note: string }[];
  /** With pixel cleaning: the settings, the totals, and every finding per file and frame. */
  readonly pixels?: PixelRunSummary;
  readonly dicomdir?: string;
}

export interface PixelRunSummary {
  readonly settings: { readonly redaction: string; readonly markedRedaction: string; readonly dilation: number; readonly prefilter: boolean; readonly deviceRules: string; readonly markedFiles: number };
  readonly frames: number;
  readonly cleanedFrames: number;
  readonly findings: number;
  readonly bySource: Record<string, number>;
  /** Files whose lossy pixel data was written losslessly (see each file's note). */
  readonly reencodedLosslessly: number;
  readonly files: readonly { readonly file: string; readonly output: string; readonly report: PixelFileReport }[];
}

export class ReportBuilder {
  readonly counts = { done: 0, skipped: 0, failed: 0, duplicate: 0, total: 0, resumed: 0, quarantined: 0, conflicts: 0 };
  readonly bytes = { in: 0, out: 0 };
  readonly byAction: Record<string, number> = {};
  readonly byRule: Record<string, number> = {};
  readonly failures: { file: string; reason: string; quarantined: boolean }[] = [];
  readonly skipped: { file: string; reason: string }[] = [];
  readonly duplicates: { file: string; output: string; identical: boolean; reason: string }[] = [];
  readonly notes: { file: string; note: string }[] = [];
  readonly pixelFiles: { file: string; output: string; report: PixelFileReport }[] = [];

  add(o: FileOutcome): void {
    this.counts.total++;
    this.counts[o.status]++;
    switch (o.status) {
      case 'done':
        if (o.resumed) this.counts.resumed++;
        this.bytes.in += o.bytesIn;
        this.bytes.out += o.bytesOut;
        merge(this.byAction, o.tally.byAction);
        merge(this.byRule, o.tally.byRule);
        for (const note of o.notes) this.notes.push({ file: o.input, note });
        if (o.pixels) this.pixelFiles.push({ file: o.input, output: o.output, report: o.pixels });
        break;
      case 'failed':
        if (o.quarantined) this.counts.quarantined++;
        this.failures.push({ file: o.input, reason: o.reason, quarantined: o.quarantined });
        break;
      case 'skipped':
        this.skipped.push({ file: o.input, reason: o.reason });
        break;
      case 'duplicate':
        if (!o.identical) this.counts.conflicts++;
        this.duplicates.push({ file: o.input, output: o.output, identical: o.identical, reason: o.reason });
        break;
    }
  }
}

export function pixelSummaryOf(files: ReportBuilder['pixelFiles'], settings: PixelSettings): PixelRunSummary {
  const bySource: Record<string, number> = {};
  let frames = 0;
  let cleanedFrames = 0;
  let findings = 0;
  let reencodedLosslessly = 0;
  for (const f of files) {
    frames += f.report.frames;
    cleanedFrames += f.report.cleanedFrames;
    findings += f.report.findings.length;
    if (f.report.encoding === 'explicit-little-endian') reencodedLosslessly++;
    for (const x of f.report.findings) bySource[x.source] = (bySource[x.source] ?? 0) + 1;
  }
  return {
    settings: {
      redaction: settings.redaction,
      markedRedaction: settings.markedRedaction,
      dilation: settings.dilation,
      prefilter: settings.prefilter,
      deviceRules: settings.deviceRules === undefined ? 'shipped' : 'custom',
      markedFiles: settings.marked.length,
    },
    frames,
    cleanedFrames,
    findings,
    bySource,
    reencodedLosslessly,
    // Files with findings first; a clean file is listed too, so the curator sees it was read.
    files: [...files].sort((a, b) => b.report.findings.length - a.report.findings.length || (a.file < b.file ? -1 : 1)),
  };
}

function merge(into: Record<string, number>, from: Tally['byAction']): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** One screen: what a curator reads first. */
export function summarize(r: RunReport): string {
  const lines: string[] = [];
  const c = r.counts;
  lines.push(`radanon deid${r.dryRun ? ' (dry run: nothing written)' : ''}: ${c.total} files in ${r.seconds.toFixed(1)} s`);
  lines.push(`  de-identified ${c.done}${c.resumed ? ` (${c.resumed} already done by an earlier run)` : ''}, failed ${c.failed}${c.quarantined ? ` (${c.quarantined} quarantined)` : ''}, skipped ${c.skipped}, duplicates ${c.duplicate}${c.conflicts ? ` (${c.conflicts} with conflicting content)` : ''}`);
  lines.push(`  profile: ${r.settings.profile}${r.settings.options.length ? ' + ' + r.settings.options.join(', ') : ''}; allow-list ${r.settings.allowList ? 'on' : 'off'}; key ${r.settings.keyId}`);
  const actions = Object.entries(r.byAction).sort((a, b) => b[1] - a[1]);
  if (actions.length) lines.push(`  actions: ${actions.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const rules = Object.entries(r.byRule).sort((a, b) => b[1] - a[1]).slice(0, 8);
  if (rules.length) lines.push(`  top rules: ${rules.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const list = <T,>(title: string, items: readonly T[], fmt: (t: T) => string) => {
    if (!items.length) return;
    lines.push(`  ${title}:`);
    for (const it of items.slice(0, 10)) lines.push(`    ${fmt(it)}`);
    if (items.length > 10) lines.push(`    ... and ${items.length - 10} more (see the JSON report)`);
  };
  list('failed', r.failures, (f) => `${f.file}: ${f.reason}`);
  list('skipped', r.skipped, (f) => `${f.file}: ${f.reason}`);
  list('duplicates', r.duplicates, (f) => `${f.file}: ${f.reason}`);
  if (r.pixels) {
    const p = r.pixels;
    const sources = Object.entries(p.bySource).map(([k, v]) => `${k} ${v}`).join(', ');
    lines.push(`  pixels: ${p.frames} frames read, ${p.cleanedFrames} cleaned (${p.settings.redaction}), ${p.findings} findings${sources ? ` (${sources})` : ''}${p.reencodedLosslessly ? `; ${p.reencodedLosslessly} lossy files written losslessly` : ''}`);
    list('pixel findings', p.files.filter((f) => f.report.findings.length > 0), (f) => `${f.file}: ${f.report.findings.length} region(s) on ${f.report.cleanedFrames} frame(s)`);
  }
  if (r.dicomdir) lines.push(`  DICOMDIR: ${r.dicomdir}`);
  return lines.join('\n') + '\n';
}
