import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { anonymize, assessRisk, type AnonymizationResult } from '../../privacy/anonymize.js';
import { buildHierarchy, parseHierarchySpec, type HierarchySpec } from '../../privacy/builders.js';
import { riskChartSvg } from '../../privacy/chart.js';
import { DEFAULT_DICOM_FIELDS, extractDicomTable, parseDicomFields, type DicomField } from '../../privacy/from-dicom.js';
import { loadHierarchies } from '../../privacy/hierarchy.js';
import { METRIC_NAMES, METRICS, isMetricName, type MetricName } from '../../privacy/metrics.js';
import type { LDiversityVariant, PrivacyModel, TClosenessDistance } from '../../privacy/models.js';
import { recipeForGeneralization } from '../../privacy/recipe-export.js';
import { DEFAULT_RISK_THRESHOLD, type ReleaseRisk } from '../../privacy/risk.js';
import { RiskInputError, loadTable, parseSeparator, writeCsv, type Separator } from '../../privacy/table.js';
import type { Hierarchy, Table } from '../../privacy/types.js';

// Every error of this command is a RiskInputError: the command or its input was wrong and
// nothing was released (the command line reports it as a usage error, status 2).

interface RiskOptions {
  qi?: string;
  hierarchies?: string;
  build: string[];
  k?: string;
  suppression: string;
  metric: string;
  sensitive?: string;
  l?: string;
  lVariant: string;
  c?: string;
  t?: string;
  tDistance: string;
  out?: string;
  format: string;
  separator?: string;
  riskThreshold: string;
  chart?: string;
  recipeOut?: string;
  fromDicom?: string;
  per: string;
  fields?: string;
}

/** The DICOM keyword each built-in field of a DICOM extract comes from, for the recipe. */
const BUILTIN_KEYWORDS: Readonly<Record<string, string>> = {
  age: 'PatientAge',
  sex: 'PatientSex',
  site: 'InstitutionName',
  manufacturer: 'Manufacturer',
  model: 'ManufacturerModelName',
  studyYear: 'StudyDate',
  modality: 'Modality',
  bodyPart: 'BodyPartExamined',
};

function keywordsOf(fields: readonly DicomField[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fields) out.set(f.name, f.kind === 'keyword' ? f.keyword : BUILTIN_KEYWORDS[f.builtin]!);
  return out;
}

function number(text: string, option: string, check: (n: number) => boolean, expected: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || !check(n)) throw new RiskInputError(`${option} must be ${expected}, got "${text}"`);
  return n;
}

/** A share of records: "0.02" or "2%". */
export function parseShare(text: string, option: string): number {
  const percent = text.trim().endsWith('%');
  const value = number(percent ? text.trim().slice(0, -1) : text, option, (n) => n >= 0 && (percent ? n <= 100 : n <= 1), 'a share between 0 and 1 (0.02) or a percentage (2%)');
  return percent ? value / 100 : value;
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function percent(x: number): string {
  return `${(x * 100).toFixed(2)} %`;
}

/** Writes a text file atomically (temporary file, then rename). */
async function writeText(file: string, text: string): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text, 'utf8');
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}

function modelsFromOptions(opts: RiskOptions): PrivacyModel[] {
  const models: PrivacyModel[] = [];
  if (opts.k !== undefined) models.push({ kind: 'k-anonymity', k: number(opts.k, '--k', (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1') });
  if (opts.l !== undefined) {
    const variant = opts.lVariant;
    if (variant !== 'distinct' && variant !== 'entropy' && variant !== 'recursive') throw new RiskInputError(`--l-variant must be distinct, entropy or recursive, got "${variant}"`);
    const l = number(opts.l, '--l', (n) => n >= 1, 'a number ≥ 1');
    if (variant === 'recursive') {
      if (opts.c === undefined) throw new RiskInputError('recursive (c,l)-diversity needs --c');
      models.push({ kind: 'l-diversity', variant: variant as LDiversityVariant, l, c: number(opts.c, '--c', (n) => n > 0, 'a number > 0') });
    } else {
      if (opts.c !== undefined) throw new RiskInputError('--c applies to --l-variant recursive only');
      models.push({ kind: 'l-diversity', variant: variant as LDiversityVariant, l });
    }
  } else if (opts.c !== undefined) {
    throw new RiskInputError('--c needs --l and --l-variant recursive');
  }
  if (opts.t !== undefined) {
    const distance = opts.tDistance;
    if (distance !== 'equal' && distance !== 'hierarchical') throw new RiskInputError(`--t-distance must be equal or hierarchical, got "${distance}"`);
    models.push({ kind: 't-closeness', distance: distance as TClosenessDistance, t: number(opts.t, '--t', (n) => n >= 0 && n <= 1, 'a number between 0 and 1') });
  }
  if ((opts.l !== undefined || opts.t !== undefined) && opts.sensitive === undefined) throw new RiskInputError('--l and --t need --sensitive <attribute>');
  return models;
}

/** --build attr=spec entries as specs by attribute. */
function buildSpecs(entries: readonly string[]): Map<string, HierarchySpec> {
  const specs = new Map<string, HierarchySpec>();
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new RiskInputError(`--build takes attribute=spec (e.g. age=intervals:5,10,20), got "${entry}"`);
    const attribute = entry.slice(0, eq).trim();
    if (specs.has(attribute)) throw new RiskInputError(`--build gives ${attribute} twice`);
    specs.set(attribute, parseHierarchySpec(entry.slice(eq + 1).trim()));
  }
  return specs;
}

/** The hierarchies of `attributes`: built ones from their specs, the others from the folder. */
async function hierarchiesFor(table: Table, attributes: readonly string[], specs: ReadonlyMap<string, HierarchySpec>, dir: string | undefined): Promise<Map<string, Hierarchy>> {
  const out = new Map<string, Hierarchy>();
  const fromFiles: string[] = [];
  for (const attribute of attributes) {
    const spec = specs.get(attribute);
    if (!spec) {
      fromFiles.push(attribute);
      continue;
    }
    const column = table.columns.indexOf(attribute);
    if (column < 0) throw new RiskInputError(`--build ${attribute}: ${table.source} has no column "${attribute}" (columns: ${table.columns.join(', ')})`);
    out.set(attribute, buildHierarchy(attribute, spec, [...new Set(table.rows.map((r) => r[column]!))]));
  }
  if (fromFiles.length > 0) {
    if (dir === undefined) throw new RiskInputError(`no hierarchy for ${fromFiles.join(', ')}: give --hierarchies <dir> or --build ${fromFiles[0]}=...`);
    for (const [attribute, h] of await loadHierarchies(dir, fromFiles)) out.set(attribute, h);
  }
  return out;
}

function riskRows(before: ReleaseRisk, after: ReleaseRisk | null): string[][] {
  const row = (label: string, f: (r: ReleaseRisk) => string) => [label, f(before), after ? f(after) : ''];
  return [
    row('records', (r) => String(r.records)),
    row('suppressed records', (r) => String(r.suppressed)),
    row('equivalence classes', (r) => String(r.classes)),
    row('prosecutor risk, highest', (r) => percent(r.prosecutor.highest)),
    row('prosecutor risk, average', (r) => percent(r.prosecutor.average)),
    row('journalist risk, highest', (r) => percent(r.journalist.highest)),
    row('journalist risk, average', (r) => percent(r.journalist.average)),
    row('marketer risk', (r) => percent(r.marketer)),
    row(`records at risk (> ${percent(before.recordsAtRisk.threshold)})`, (r) => percent(r.recordsAtRisk.share)),
    row('sample uniques', (r) => percent(r.sampleUniques)),
  ];
}

function table3(rows: string[][], header: string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ').trimEnd()).join('\n');
}

function classSizes(r: ReleaseRisk): string {
  const shown = r.classSizes.slice(0, 8).map((b) => `${b.classes}×${b.size}`);
  const rest = r.classSizes.length - shown.length;
  return shown.join(', ') + (rest > 0 ? `, … (${rest} more sizes, largest ${r.classSizes[r.classSizes.length - 1]!.size})` : '');
}

function renderAssessment(source: string, qis: readonly string[], before: ReleaseRisk): string {
  return [
    `${source}: ${before.records} records; quasi-identifiers ${qis.join(', ')}`,
    '',
    table3(riskRows(before, null).map((r) => r.slice(0, 2)), ['', 'as it is']),
    `class sizes (classes×size): ${classSizes(before)}`,
    'journalist risk equals prosecutor risk: no population table was given.',
    '',
  ].join('\n');
}

function renderResult(source: string, qis: readonly string[], hierarchies: ReadonlyMap<string, Hierarchy>, suppressionLimit: number, r: AnonymizationResult): string {
  const levels = qis.map((qi) => `${qi} ${r.transformation[qi]}/${hierarchies.get(qi)!.height - 1}`).join(', ');
  return [
    `${source}: ${r.before.records} records; quasi-identifiers ${qis.join(', ')}`,
    `models: ${r.models.join(', ')}; at most ${percent(suppressionLimit)} of the records suppressed`,
    `transformation (level/highest): ${levels}`,
    `${METRICS[r.metric].title} (lower is better): ${r.utility}`,
    `suppressed: ${r.suppressed} records (${percent(r.suppressed / r.before.records)}); ${r.classes} classes, the smallest of ${r.minClassSize}`,
    `search: ${r.search.nodesChecked} of ${r.search.nodes} transformations checked in ${r.search.ms.toFixed(0)} ms`,
    '',
    table3(riskRows(r.before, r.after), ['', 'before', 'after']),
    `class sizes before (classes×size): ${classSizes(r.before)}`,
    `class sizes after: ${classSizes(r.after)}`,
    'journalist risk equals prosecutor risk: no population table was given; suppressed records are not counted in the risk.',
    '',
  ].join('\n');
}

export function riskCommand(): Command {
  return new Command('risk')
    .description('measure the re-identification risk of a table; with a privacy model (--k, --l, --t), find the optimal generalization and release the anonymized table')
    .argument('[table]', 'a CSV file of records (or use --from-dicom)')
    .option('--qi <attributes>', 'the quasi-identifiers, comma-separated (default with --from-dicom: every field)')
    .option('--hierarchies <dir>', 'folder of ARX hierarchy files named <anything>_hierarchy_<attribute>.csv')
    .option('--build <attribute=spec>', 'build a hierarchy instead: intervals:5,10,20, dates:month,year,decade or mask:1,2,3 (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--k <n>', 'k-anonymity: every class holds at least k records')
    .option('--suppression <share>', 'share of records that may be suppressed: 0.02 or 2%', '0')
    .option('--metric <name>', `utility metric to optimize: ${METRIC_NAMES.join('|')}`, 'loss')
    .option('--sensitive <attribute>', 'the sensitive attribute of l-diversity and t-closeness')
    .option('--l <n>', 'l-diversity of the sensitive attribute')
    .option('--l-variant <variant>', 'distinct|entropy|recursive', 'distinct')
    .option('--c <n>', 'the c of recursive (c,l)-diversity')
    .option('--t <n>', 't-closeness of the sensitive attribute')
    .option('--t-distance <distance>', 'equal|hierarchical (hierarchical needs a hierarchy of the sensitive attribute)', 'equal')
    .option('--out <file>', 'write the anonymized table (CSV)')
    .option('--format <format>', 'text|json', 'text')
    .option('--separator <char>', 'field separator of the CSV: , ; tab | (default: detected)')
    .option('--risk-threshold <p>', 'prosecutor risk above which a record counts as at risk', String(DEFAULT_RISK_THRESHOLD))
    .option('--chart <file.svg>', 'write an SVG chart of class sizes and risk, before and after')
    .option('--recipe-out <file.yaml>', 'write the generalization as a radanon recipe for radanon deid')
    .option('--from-dicom <dir>', 'build the table from the headers of a DICOM folder instead of a CSV')
    .option('--per <unit>', 'with --from-dicom: one record per patient or per study', 'patient')
    .option('--fields <list>', `with --from-dicom: the fields (default ${DEFAULT_DICOM_FIELDS.map((f) => f.name).join(',')}; name=Keyword for any attribute)`)
    .action(async (file: string | undefined, opts: RiskOptions) => {
      if (opts.format !== 'text' && opts.format !== 'json') throw new RiskInputError(`--format must be text or json, got "${opts.format}"`);
      if ((file === undefined) === (opts.fromDicom === undefined)) throw new RiskInputError('give either a table (CSV) or --from-dicom <dir>');
      if (opts.fromDicom === undefined && opts.fields !== undefined) throw new RiskInputError('--fields applies to --from-dicom only');
      if (opts.per !== 'patient' && opts.per !== 'study') throw new RiskInputError(`--per must be patient or study, got "${opts.per}"`);
      if (!isMetricName(opts.metric)) throw new RiskInputError(`--metric must be one of ${METRIC_NAMES.join(', ')}, got "${opts.metric}"`);
      const metric: MetricName = opts.metric;
      const suppressionLimit = parseShare(opts.suppression, '--suppression');
      const riskThreshold = number(opts.riskThreshold, '--risk-threshold', (n) => n > 0 && n <= 1, 'a number in (0, 1]');
      const separator: Separator | undefined = opts.separator !== undefined ? parseSeparator(opts.separator) : undefined;
      const models = modelsFromOptions(opts);
      const specs = buildSpecs(opts.build);
      const fields = opts.fields !== undefined ? parseDicomFields(opts.fields) : DEFAULT_DICOM_FIELDS;

      // The table.
      let table: Table;
      let outputSeparator: Separator = separator ?? ',';
      let failures = 0;
      if (file !== undefined) {
        const loaded = await loadTable(file, separator ? { separator } : {});
        table = loaded;
        outputSeparator = loaded.separator;
      } else {
        const extracted = await extractDicomTable(opts.fromDicom!, { per: opts.per, fields });
        table = extracted.table;
        failures = extracted.failures.length;
        if (failures > 0 && opts.format === 'text') process.stderr.write(`radanon: ${failures} file${failures === 1 ? '' : 's'} under ${opts.fromDicom} could not be read into the table\n`);
      }
      const qis = opts.qi !== undefined ? list(opts.qi) : file === undefined ? [...table.columns] : [];
      if (qis.length === 0) throw new RiskInputError('give the quasi-identifiers: --qi age,sex,...');
      for (const attribute of specs.keys()) {
        if (!qis.includes(attribute) && attribute !== opts.sensitive) throw new RiskInputError(`--build ${attribute}: not a quasi-identifier (nor the sensitive attribute)`);
      }

      // Risk as it is, when no privacy model is asked for.
      if (models.length === 0) {
        if (opts.out !== undefined || opts.recipeOut !== undefined) throw new RiskInputError('--out and --recipe-out need a privacy model (--k, --l or --t)');
        const before = assessRisk(table, qis, riskThreshold);
        if (opts.chart !== undefined) await writeText(opts.chart, riskChartSvg({ before, after: null, k: null, title: `Re-identification risk of ${path.basename(table.source)}` }));
        process.stdout.write(
          opts.format === 'json'
            ? JSON.stringify({ source: table.source, records: table.rows.length, quasiIdentifiers: qis, ...(failures > 0 ? { unreadableFiles: failures } : {}), before }, null, 2) + '\n'
            : renderAssessment(table.source, qis, before),
        );
        return;
      }

      const needsSensitiveHierarchy = models.some((m) => m.kind === 't-closeness' && m.distance === 'hierarchical');
      const attributes = needsSensitiveHierarchy && opts.sensitive !== undefined ? [...qis, opts.sensitive] : qis;
      const hierarchies = await hierarchiesFor(table, attributes, specs, opts.hierarchies);
      const result = anonymize({
        table,
        quasiIdentifiers: qis,
        hierarchies,
        models,
        suppressionLimit,
        metric,
        ...(opts.sensitive !== undefined ? { sensitive: opts.sensitive } : {}),
        riskThreshold,
      });

      if (opts.out !== undefined) await writeCsv(result.table, opts.out, outputSeparator);
      const k = models.find((m) => m.kind === 'k-anonymity');
      if (opts.chart !== undefined) {
        await writeText(opts.chart, riskChartSvg({ before: result.before, after: result.after, k: k?.kind === 'k-anonymity' ? k.k : null, title: `Re-identification risk of ${path.basename(table.source)}` }));
      }
      if (opts.recipeOut !== undefined) {
        const yaml = recipeForGeneralization({
          transformation: result.transformation,
          hierarchies,
          specs,
          attributeKeywords: keywordsOf(fields),
          about: { metric: METRICS[metric].title, model: `${result.models.join(', ')}, ${percent(suppressionLimit)} suppression`, utility: result.utility },
        });
        await writeText(opts.recipeOut, yaml);
      }
      if (opts.format === 'json') {
        const json = {
          source: table.source,
          records: table.rows.length,
          quasiIdentifiers: qis,
          ...(opts.sensitive !== undefined ? { sensitive: opts.sensitive } : {}),
          suppressionLimit,
          ...(failures > 0 ? { unreadableFiles: failures } : {}),
          metric: result.metric,
          models: result.models,
          transformation: result.transformation,
          utility: result.utility,
          suppressed: result.suppressed,
          classes: result.classes,
          minClassSize: result.minClassSize,
          before: result.before,
          after: result.after,
          search: result.search,
          outputs: { ...(opts.out ? { table: opts.out } : {}), ...(opts.chart ? { chart: opts.chart } : {}), ...(opts.recipeOut ? { recipe: opts.recipeOut } : {}) },
        };
        process.stdout.write(JSON.stringify(json, null, 2) + '\n');
      } else {
        process.stdout.write(renderResult(table.source, qis, hierarchies, suppressionLimit, result));
      }
    });
}
