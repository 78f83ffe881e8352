#!/usr/bin/env node
/**
 * `npm run bench:risk`: time and peak memory of the optimal generalization search.
 *
 * - adult (ARX's example data: 30,162 records, eight quasi-identifiers, 6,480 transformations):
 *   5-anonymity at 0 % and 2 % suppression under each of the six utility metrics;
 * - 1,000,000 records drawn from adult with replacement by a seeded generator (loss; k = 5 and
 *   k = 166, the same share of the records), in memory and end to end from a CSV file (read,
 *   search, write the released table).
 *
 * Each setting runs in a child process of its own, so its peak resident memory
 * (process.resourceUsage().maxRSS) is its own. "Search, first" is the first search in a fresh
 * process, as a command-line run sees it (JIT warm-up included); "search, warm" the median of
 * three more in the same process. Encoding (hierarchies, distinct tuples) is timed apart.
 *
 * Runs against dist/ (`npm run build` first; RADANON_DIST names another build folder). Reads ../shared/data/adult (RADANON_SHARED_DATA
 * overrides ../shared/data). Prints Markdown tables.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = resolve(process.env.RADANON_SHARED_DATA ?? join(ROOT, '..', 'shared', 'data'));
const ADULT = join(SHARED, 'adult');
// RADANON_DIST: another build of the library (a folder laid out like dist/), e.g. to compare two builds.
const DIST = join(resolve(process.env.RADANON_DIST ?? join(ROOT, 'dist')), 'privacy');
const QIS = ['sex', 'age', 'race', 'marital-status', 'education', 'native-country', 'workclass', 'occupation'];
const METRICS = ['loss', 'discernibility', 'entropy', 'precision', 'aecs', 'height'];
const MILLION = 1_000_000;
const SEED = 20240611;

const lib = async (name) => import(pathToFileURL(join(DIST, `${name}.js`)).href);

/** mulberry32: a small seeded generator, enough to resample rows reproducibly. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function loadAdult() {
  const { loadTable } = await lib('table');
  const { loadHierarchies } = await lib('hierarchy');
  const table = await loadTable(join(ADULT, 'adult.csv'));
  const hierarchies = await loadHierarchies(ADULT, QIS);
  return { table, hierarchies };
}

function resample(table, n) {
  const random = mulberry32(SEED);
  const rows = new Array(n);
  for (let i = 0; i < n; i++) rows[i] = table.rows[Math.floor(random() * table.rows.length)];
  return { columns: table.columns, rows, source: `adult resampled to ${n} records` };
}

const peakMiB = () => process.resourceUsage().maxRSS / 1024;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ---------------------------------------------------------------------------------------------
// Children: one setting each, a JSON line on stdout.

async function child(kind, metric, suppression, k, csvFile) {
  const { searchProblem, validateInput, anonymize } = await lib('anonymize');
  const { optimalSearch } = await lib('search');
  const models = [{ kind: 'k-anonymity', k }];
  if (kind === 'adult') {
    const { table, hierarchies } = await loadAdult();
    const input = { table, quasiIdentifiers: QIS, hierarchies, models, suppressionLimit: suppression, metric };
    validateInput(input);
    const t = performance.now();
    const problem = searchProblem(input);
    const encodeMs = performance.now() - t;
    const cpu = process.cpuUsage();
    const first = optimalSearch(problem);
    const firstCpu = process.cpuUsage(cpu);
    const warm = [1, 2, 3].map(() => optimalSearch(problem).ms);
    return {
      nodesChecked: first.nodesChecked,
      classesRolledUp: first.classesRolledUp,
      levels: first.solution.levels.join(''),
      utility: first.solution.utility,
      firstMs: first.ms,
      firstCpuMs: (firstCpu.user + firstCpu.system) / 1000,
      warmMs: median(warm),
      encodeMs,
      peakMiB: peakMiB(),
    };
  }
  if (kind === 'million') {
    const { table, hierarchies } = await loadAdult();
    const big = resample(table, MILLION);
    const t = performance.now();
    const result = anonymize({ table: big, quasiIdentifiers: QIS, hierarchies, models, suppressionLimit: suppression, metric });
    return { nodesChecked: result.search.nodesChecked, levels: QIS.map((q) => result.transformation[q]).join(''), utility: result.utility, searchMs: result.search.ms, totalMs: performance.now() - t, peakMiB: peakMiB() };
  }
  // million-csv: read the file, search, write the released table.
  const { loadTable, writeCsv } = await lib('table');
  const { loadHierarchies } = await lib('hierarchy');
  const t = performance.now();
  const table = await loadTable(csvFile);
  const hierarchies = await loadHierarchies(ADULT, QIS);
  const result = anonymize({ table, quasiIdentifiers: QIS, hierarchies, models, suppressionLimit: suppression, metric });
  await writeCsv(result.table, `${csvFile}.released.csv`, table.separator);
  return { nodesChecked: result.search.nodesChecked, levels: QIS.map((q) => result.transformation[q]).join(''), utility: result.utility, searchMs: result.search.ms, totalMs: performance.now() - t, peakMiB: peakMiB() };
}

if (process.argv[2] === '--child') {
  const [kind, metric, suppression, k, csvFile] = process.argv.slice(3);
  process.stdout.write(JSON.stringify(await child(kind, metric, Number(suppression), Number(k), csvFile)) + '\n');
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// Parent

if (!existsSync(join(DIST, 'search.js'))) {
  console.error('bench: dist/ is missing; run `npm run build` first.');
  process.exit(2);
}
if (!existsSync(join(ADULT, 'adult.csv'))) {
  console.error(`bench: ${ADULT}/adult.csv not found (set RADANON_SHARED_DATA to the shared data folder).`);
  process.exit(2);
}

function runChild(args) {
  const r = spawnSync(process.execPath, ['--max-old-space-size=4096', fileURLToPath(import.meta.url), '--child', ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`bench child ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const f0 = (x) => x.toFixed(0);
console.log(`machine: ${availableParallelism()} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('');
console.log('### adult: 30,162 records, 5-anonymity, 6,480 transformations');
console.log('');
// Nodes checked and classes rolled up measure the search's work whatever the machine's load.
console.log('| metric | suppression | transformation | nodes checked | classes rolled up | search, first (ms) | first, CPU (ms) | search, warm (ms) | encoding (ms) | peak RSS (MiB) |');
console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const suppression of [0, 0.02]) {
  for (const metric of METRICS) {
    const r = runChild(['adult', metric, String(suppression), '5']);
    console.log(`| ${metric} | ${suppression * 100} % | ${r.levels} | ${r.nodesChecked} | ${r.classesRolledUp ?? 'n/a'} | ${f0(r.firstMs)} | ${f0(r.firstCpuMs)} | ${f0(r.warmMs)} | ${f0(r.encodeMs)} | ${f0(r.peakMiB)} |`);
  }
}

console.log('');
// Resampling multiplies every class by about 33, so 5-anonymity holds almost untouched; k = 166
// (5 × 1,000,000 / 30,162) asks the same of the larger table and makes the search work.
const K_SCALED = Math.round((5 * MILLION) / 30162);
console.log(`### 1,000,000 records resampled from adult (seed ${SEED}), loss`);
console.log('');
console.log('| run | k | suppression | transformation | nodes checked | search (ms) | total (s) | peak RSS (MiB) |');
console.log('| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |');
for (const [k, suppression] of [[5, 0], [5, 0.02], [K_SCALED, 0], [K_SCALED, 0.02]]) {
  const r = runChild(['million', 'loss', String(suppression), String(k)]);
  console.log(`| in memory (anonymize: encode, search, release) | ${k} | ${suppression * 100} % | ${r.levels} | ${r.nodesChecked} | ${f0(r.searchMs)} | ${(r.totalMs / 1000).toFixed(1)} | ${f0(r.peakMiB)} |`);
}
const dir = mkdtempSync(join(tmpdir(), 'radanon-risk-bench-'));
try {
  const { loadTable, formatCsv } = await lib('table');
  const adult = await loadTable(join(ADULT, 'adult.csv'));
  const csvFile = join(dir, 'million.csv');
  writeFileSync(csvFile, formatCsv(resample(adult, MILLION), ';'));
  const r = runChild(['million-csv', 'loss', '0.02', String(K_SCALED), csvFile]);
  console.log(`| from CSV (read, anonymize, write the released CSV) | ${K_SCALED} | 2 % | ${r.levels} | ${r.nodesChecked} | ${f0(r.searchMs)} | ${(r.totalMs / 1000).toFixed(1)} | ${f0(r.peakMiB)} |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
