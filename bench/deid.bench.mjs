#!/usr/bin/env node
/**
 * `npm run bench`: radanon against `cp -r`, GDCM's gdcmanon and dcmtk's dcmodify on one corpus
 * of real-sized DICOM files, in one run; prints a table and records it in docs/BENCHMARKS.md.
 *
 * The corpus is built once into .bench/ (git-ignored) by replicating real files from
 * ../shared/data/dicom (RADANON_SHARED_DATA overrides ../shared/data) with fresh Study/Series/
 * SOP Instance UIDs and varied patients, using radanon's own reader and writer; it is
 * deterministic (seeded) and reused while its parameters do not change.
 *
 * Environment:
 *   RADANON_BENCH_FILES   corpus size in files (default 4200, at least 4000 for the record)
 *   RADANON_BENCH_QUICK=1 every tool once, no single-process variant (shorter, for trying things out)
 *   RADANON_BENCH_NO_DOCS=1  print only, leave docs/BENCHMARKS.md alone
 *   RADANON_BENCH_REPEATS n  runs of cp -r and radanon on the whole corpus (default 3; median reported)
 *   RADANON_BENCH_PEER_REPEATS n  runs of each peer (default 2; single-process variants run once)
 *   RADANON_BENCH_BUILD_ONLY=1  build the corpus and stop
 *
 * Needs: /usr/bin/time, gdcmanon (Debian libgdcm-tools), dcmodify (Debian dcmtk), openssl, cp.
 */
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync, existsSync, mkdirSync, readFileSync, writeFileSync, rmSync, linkSync, readdirSync, statSync, openSync, writevSync, closeSync,
} from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BENCH_DIR = join(ROOT, '.bench');
const DOCS = join(ROOT, 'docs', 'BENCHMARKS.md');
const SHARED = resolve(process.env.RADANON_SHARED_DATA ?? join(ROOT, '..', 'shared', 'data'));
const DICOM_DATA = join(SHARED, 'dicom');
const N_FILES = Number.parseInt(process.env.RADANON_BENCH_FILES ?? '4200', 10);
const QUICK = process.env.RADANON_BENCH_QUICK === '1';
const SEED = 20240611;
const CORPUS_VERSION = 1;
const CORES = availableParallelism();
/** Files per dcmodify invocation under xargs: amortises process start-up, keeps both cores busy. */
const DCMODIFY_BATCH = 64;

// ---------------------------------------------------------------------------------------------
// Preconditions

function need(cmd, hint) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`bench: "${cmd}" not found. ${hint}`);
    process.exit(2);
  }
}
need('/usr/bin/time', 'Install it: apt-get install -y time');
need('gdcmanon', 'Install it: apt-get install -y libgdcm-tools');
need('dcmodify', 'Install it: apt-get install -y dcmtk');
need('openssl', 'Install it: apt-get install -y openssl');
if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
  console.error('bench: dist/ is missing; run `npm run bench` (it builds first) or `npm run build`.');
  process.exit(2);
}
if (!existsSync(DICOM_DATA)) {
  console.error(`bench: no shared DICOM data at ${DICOM_DATA} (set RADANON_SHARED_DATA to the folder holding dicom/).`);
  process.exit(2);
}


// ---------------------------------------------------------------------------------------------
// Deterministic corpus

/**
 * The mix, by share of files. Mostly 512x512 CT, as in a radiomics cohort, with MR, enhanced
 * (multi-frame) CT/MR and encapsulated (JPEG-LS, RLE) files; `series` is the range of instances
 * per series for that kind of file.
 */
const TEMPLATES = [
  { path: 'dicomParser/CT1_UNC.implicit_little_endian.dcm', share: 0.56, series: [80, 160], what: 'CT 512x512, implicit VR LE, GE private tags' },
  { path: 'presidio/2_ORIGINAL.dcm', share: 0.06, series: [40, 100], what: 'CT 552x394, implicit VR LE' },
  { path: 'dicomParser/encapsulated__single-frame__CT1_UNC.fragmented_bot_jpeg_ls.80.dcm', share: 0.06, series: [40, 100], what: 'CT 512x512, JPEG-LS lossless, fragmented' },
  { path: 'pydicom/CT_small.dcm', share: 0.06, series: [30, 80], what: 'CT 128x128, explicit VR LE' },
  { path: 'pydicom-data/MR-SIEMENS-DICOM-WithOverlays.dcm', share: 0.06, series: [20, 40], what: 'MR 484x484 with overlays, Siemens private tags' },
  { path: 'pydicom/examples_overlay.dcm', share: 0.05, series: [20, 40], what: 'MR with 60xx overlay' },
  { path: 'pydicom/MR_small.dcm', share: 0.05, series: [20, 40], what: 'MR 64x64, explicit VR LE' },
  { path: 'pydicom-data/emri_small.dcm', share: 0.03, series: [2, 6], what: 'enhanced MR, 10 frames' },
  { path: 'dicomParser/encapsulated__multi-frame__CT0012.not_fragmented_bot_rle.dcm', share: 0.03, series: [2, 6], what: 'enhanced CT 512x512, 2 frames, RLE' },
  { path: 'pydicom-data/eCT_Supplemental.dcm', share: 0.02, series: [2, 6], what: 'enhanced CT 512x512, 2 frames' },
  { path: 'dicomParser/CT1_UNC.explicit_big_endian.dcm', share: 0.02, series: [40, 80], what: 'CT 512x512, explicit VR big endian' },
];

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

function uidFor(label) {
  const h = createHash('sha256').update(`${SEED}|${label}`).digest('hex').slice(0, 32);
  return `2.25.${BigInt('0x' + h).toString()}`;
}

const SURNAMES = ['SMITH', 'MULLER', 'ROSSI', 'GARCIA', 'NOWAK', 'DUBOIS', 'JANSEN', 'SILVA', 'KOWALSKI', 'NIELSEN', 'TANAKA', 'OKAFOR', 'BERG', 'HORVAT', 'MURPHY', 'LEROY'];
const GIVEN = ['ANNA', 'JOHN', 'MARIA', 'PETER', 'SOFIA', 'LUCAS', 'EMMA', 'NOAH', 'ELENA', 'DAVID', 'SARA', 'MATEO', 'LINA', 'OMAR', 'IDA', 'JONAS'];

/** The corpus plan: every file's relative path, its template and the values that make it unique. */
function planCorpus(n) {
  const rnd = mulberry32(SEED);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  // Files per template by share, the remainder to the first (the 512x512 CT).
  const counts = TEMPLATES.map((t) => Math.floor(t.share * n));
  counts[0] += n - counts.reduce((a, b) => a + b, 0);
  const series = [];
  TEMPLATES.forEach((t, ti) => {
    let left = counts[ti];
    while (left > 0) {
      const k = Math.min(left, int(t.series[0], t.series[1]));
      series.push({ template: ti, instances: k });
      left -= k;
    }
  });
  for (let i = series.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [series[i], series[j]] = [series[j], series[i]];
  }
  // Series into studies (1-4 series), studies into patients (1-3 studies).
  const files = [];
  let s = 0;
  let p = 0;
  while (s < series.length) {
    p++;
    const pid = `PID${String(1000000 + int(0, 8999999))}`;
    const name = `${SURNAMES[int(0, SURNAMES.length - 1)]}^${GIVEN[int(0, GIVEN.length - 1)]}`;
    const birth = `${int(1930, 2005)}${String(int(1, 12)).padStart(2, '0')}${String(int(1, 28)).padStart(2, '0')}`;
    const nStudies = int(1, 3);
    for (let st = 1; st <= nStudies && s < series.length; st++) {
      const studyUid = uidFor(`study:${p}:${st}`);
      const studyDate = `${int(2010, 2023)}${String(int(1, 12)).padStart(2, '0')}${String(int(1, 28)).padStart(2, '0')}`;
      const accession = `ACC${String(int(0, 99999999)).padStart(8, '0')}`;
      const forUid = uidFor(`for:${p}:${st}`);
      const nSeries = int(1, 4);
      for (let se = 1; se <= nSeries && s < series.length; se++, s++) {
        const { template, instances } = series[s];
        const seriesUid = uidFor(`series:${p}:${st}:${se}`);
        for (let i = 1; i <= instances; i++) {
          files.push({
            rel: join(`P${String(p).padStart(4, '0')}`, `ST${st}`, `SE${se}`, `IM${String(i).padStart(4, '0')}.dcm`),
            template,
            values: {
              pid, name, birth, studyUid, studyDate, accession, forUid, seriesUid,
              studyId: String(st), seriesNumber: String(se), instanceNumber: String(i),
              sopUid: uidFor(`sop:${p}:${st}:${se}:${i}`),
            },
          });
        }
      }
    }
  }
  return { files, patients: p, series: series.length, studies: new Set(files.map((f) => f.values.studyUid)).size };
}


function textElement(ds, t, text, onlyIfPresent = false) {
  const old = ds.get(t);
  if (onlyIfPresent && !old) return;
  const vr = old?.kind === 'value' ? old.vr : vrOf(t) ?? 'LO';
  const pad = vr === 'UI' ? 0 : 0x20;
  const len = text.length + (text.length & 1);
  const bytes = new Uint8Array(len);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  if (len > text.length) bytes[len - 1] = pad;
  ds.set(t, { kind: 'value', tag: t, vr, bytes });
}

function writeChunks(path, chunks) {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  try {
    writevSync(fd, chunks);
  } finally {
    closeSync(fd);
  }
}

function corpusKey() {
  const h = createHash('sha256').update(JSON.stringify({ CORPUS_VERSION, SEED, N_FILES, TEMPLATES }));
  for (const t of TEMPLATES) h.update(readFileSync(join(DICOM_DATA, t.path)));
  return h.digest('hex').slice(0, 16);
}

/** Builds (or reuses) the corpus; returns its description. */
function buildCorpus() {
  const key = corpusKey();
  const dir = join(BENCH_DIR, `corpus-${N_FILES}`);
  const stampPath = join(BENCH_DIR, `corpus-${N_FILES}.json`);
  if (existsSync(stampPath) && existsSync(dir)) {
    const stamp = JSON.parse(readFileSync(stampPath, 'utf8'));
    if (stamp.key === key) {
      console.log(`corpus: reusing ${relative(ROOT, dir)} (${stamp.files} files, ${(stamp.bytes / 1e6).toFixed(0)} MB)`);
      return { ...stamp, dir };
    }
  }
  console.log(`corpus: building ${N_FILES} files into ${relative(ROOT, dir)} ...`);
  rmSync(dir, { recursive: true, force: true });
  rmSync(stampPath, { force: true });
  const started = performance.now();
  const plan = planCorpus(N_FILES);
  const parsed = TEMPLATES.map((t) => readDicom(readFileSync(join(DICOM_DATA, t.path))));
  let bytes = 0;
  const perTemplate = TEMPLATES.map(() => ({ files: 0, bytes: 0 }));
  for (const f of plan.files) {
    const src = parsed[f.template];
    const v = f.values;
    const meta = new Map(src.meta);
    const ds = new Map(src.dataset);
    textElement(meta, T.MediaStorageSOPInstanceUID, v.sopUid);
    textElement(ds, T.SOPInstanceUID, v.sopUid);
    textElement(ds, T.StudyInstanceUID, v.studyUid);
    textElement(ds, T.SeriesInstanceUID, v.seriesUid);
    textElement(ds, T.FrameOfReferenceUID, v.forUid, true);
    textElement(ds, T.PatientName, v.name);
    textElement(ds, T.PatientID, v.pid);
    textElement(ds, T.PatientBirthDate, v.birth);
    textElement(ds, T.StudyDate, v.studyDate);
    textElement(ds, T.AccessionNumber, v.accession);
    textElement(ds, T.StudyID, v.studyId);
    textElement(ds, T.SeriesNumber, v.seriesNumber);
    textElement(ds, T.InstanceNumber, v.instanceNumber);
    const chunks = encodeDicom({ meta, dataset: ds, transferSyntax: src.transferSyntax });
    const size = chunks.reduce((n, c) => n + c.length, 0);
    writeChunks(join(dir, f.rel), chunks);
    bytes += size;
    perTemplate[f.template].files++;
    perTemplate[f.template].bytes += size;
  }
  const stamp = {
    key,
    seed: SEED,
    files: plan.files.length,
    bytes,
    patients: plan.patients,
    studies: plan.studies,
    series: plan.series,
    templates: TEMPLATES.map((t, i) => ({ path: t.path, what: t.what, ...perTemplate[i] })),
    rels: plan.files.map((f) => f.rel),
    seriesDirs: [...new Set(plan.files.map((f) => dirname(f.rel)))],
  };
  writeFileSync(stampPath, JSON.stringify(stamp));
  console.log(`corpus: ${stamp.files} files, ${(bytes / 1e6).toFixed(0)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { ...stamp, dir };
}

/** A subset of the first `n` files (sorted paths), as hard links: costs no space, same bytes. */
function subset(corpus, n, name) {
  const dir = join(BENCH_DIR, `${name}-of-${corpus.files}`);
  const stamp = join(dir, '.subset');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === `${corpus.key}:${n}`) return dir;
  rmSync(dir, { recursive: true, force: true });
  const rels = [...corpus.rels].sort().slice(0, n);
  for (const rel of rels) {
    mkdirSync(dirname(join(dir, 'data', rel)), { recursive: true });
    linkSync(join(corpus.dir, rel), join(dir, 'data', rel));
  }
  writeFileSync(stamp, `${corpus.key}:${n}`);
  return dir;
}

// ---------------------------------------------------------------------------------------------
// What radanon changes, so that the peers can be asked to do the same amount of work

/** Runs radanon's engine in-process over the templates and collects every tag it acts on. */
async function radanonActions() {
  const { deidentify } = await dist('deid/engine.js');
  const { materialize } = await dist('pipeline/settings.js');
  const { planFromOptions, pseudonymsFromOptions } = await dist('cli/options.js');
  const settings = {
    inputDir: '', outputDir: '', dryRun: true, layout: 'tree',
    plan: await planFromOptions({}), pseudonyms: await pseudonymsFromOptions({}),
    secret: Buffer.from('bench-secret-bench-secret-bench-secret'),
  };
  const m = materialize(settings);
  const byTag = new Map();
  let actions = 0;
  let files = 0;
  for (const t of TEMPLATES) {
    const r = deidentify(readDicom(readFileSync(join(DICOM_DATA, t.path))), m.plan, m.pseudonymizer);
    const w = t.share;
    files += w;
    actions += w * r.actions.filter((a) => a.action !== 'kept').length;
    for (const a of r.actions) {
      if (a.action === 'kept') continue;
      const mm = /\(([0-9A-F]{4}),([0-9A-F]{4})\)$/i.exec(a.path);
      if (!mm) continue;
      const key = `${mm[1]},${mm[2]}`.toLowerCase();
      if (!byTag.has(key)) byTag.set(key, a.action);
    }
  }
  return { byTag, actionsPerFile: actions / files };
}

function vrOfKey(tagKey) {
  const [g, e] = tagKey.split(',').map((x) => Number.parseInt(x, 16));
  return vrOf(makeTag(g, e));
}

function dummyFor(tagKey) {
  switch (vrOfKey(tagKey)) {
    case 'DA': return '20000101';
    case 'TM': return '000000';
    case 'DT': return '20000101000000';
    case 'UI': return '1.2.826.0.1.3680043.10.1.1';
    case 'PN': return 'ANON';
    case 'AS': return '050Y';
    case 'IS': case 'DS': return '0';
    default: return 'X';
  }
}

/** dcmodify arguments: radanon's tags, each removed / emptied / replaced as radanon does. */
function dcmodifyFullArgs(byTag) {
  const args = ['-nb', '-q', '-imt', '-ie', '-nrc'];
  for (const [k, action] of byTag) {
    const t = `(${k})`;
    if (k === '0008,0018' || k === '0020,000d' || k === '0020,000e') continue; // -gin / -gst / -gse
    // An emptied sequence (no items) is, for these tools, a removed one: neither empties an SQ.
    if (action === 'removed' || vrOfKey(k) === 'SQ') args.push('-ea', t);
    else if (action === 'emptied') args.push('-ma', `${t}=`);
    else args.push('-ma', `${t}=${dummyFor(k)}`);
  }
  args.push('-i', '(0012,0062)=YES', '-i', '(0012,0063)=bench', '-gst', '-gse', '-gin');
  return args;
}

/** gdcmanon --dumb arguments for the same tags (it cannot generate UIDs: a fixed one stands in). */
function gdcmanonFullArgs(byTag) {
  const args = ['--dumb', '--continue'];
  for (const [k, action] of byTag) {
    if (action === 'removed' || vrOfKey(k) === 'SQ') args.push('--remove', k);
    else if (action === 'emptied') args.push('--empty', k);
    else args.push('--replace', `${k}=${dummyFor(k)}`);
  }
  return args;
}

// The "minimal" task: what a quick anonymisation script does (names, IDs, dates, a few
// identifying attributes; new UIDs where the tool can make them).
const MINIMAL_TAGS = {
  replace: [['0010,0010', 'ANON'], ['0010,0020', 'ANON-ID']],
  empty: ['0010,0030', '0008,0020', '0008,0021', '0008,0022', '0008,0023', '0008,0050', '0008,0090', '0020,0010'],
  remove: ['0008,0080', '0008,0081', '0008,1010', '0008,1070', '0010,1000', '0010,1040'],
};
const GDCM_MINIMAL_ARGS = [
  '--dumb', '--continue',
  ...MINIMAL_TAGS.replace.flatMap(([t, v]) => ['--replace', `${t}=${v}`]),
  ...MINIMAL_TAGS.empty.flatMap((t) => ['--empty', t]),
  ...MINIMAL_TAGS.remove.flatMap((t) => ['--remove', t]),
];
const DCMODIFY_MINIMAL_ARGS = [
  '-nb', '-q', '-imt', '-ie',
  ...MINIMAL_TAGS.replace.flatMap(([t, v]) => ['-ma', `(${t})=${v}`]),
  ...MINIMAL_TAGS.empty.flatMap((t) => ['-ma', `(${t})=`]),
  ...MINIMAL_TAGS.remove.flatMap((t) => ['-ea', `(${t})`]),
  '-gst', '-gse', '-gin',
];

// ---------------------------------------------------------------------------------------------
// Running and measuring

const OUT = join(BENCH_DIR, 'out');
const TIME_FILE = join(BENCH_DIR, 'time.txt');

function dirStats(dir) {
  let files = 0;
  let bytes = 0;
  const stack = existsSync(dir) ? [dir] : [];
  while (stack.length) {
    const d = stack.pop();
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) {
        files++;
        bytes += statSync(p).size;
      }
    }
  }
  return { files, bytes };
}

/** Runs a command under /usr/bin/time; wall time from here, peak RSS and CPU from time(1). */
function timed(cmd, args, { stdinFile, cwd = ROOT } = {}) {
  spawnSync('sync');
  return new Promise((resolveRun, reject) => {
    const stdin = stdinFile ? openSync(stdinFile, 'r') : 'ignore';
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%e %M %U %S', '-o', TIME_FILE, cmd, ...args], { cwd, stdio: [stdin, 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out = (out + d).slice(-20000); });
    child.stderr.on('data', (d) => { err = (err + d).slice(-20000); });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (typeof stdin === 'number') closeSync(stdin);
      const [, rssKb, user, sys] = readFileSync(TIME_FILE, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      resolveRun({ code, seconds, rssKb, cpu: user + sys, out, err });
    });
  });
}

function clean(...dirs) {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

function nulList(path, items) {
  writeFileSync(path, items.map((s) => s + '\0').join(''));
  return path;
}

/** Checks that an output file no longer holds the original patient name. */
function spotCheck(outDir, originalNames) {
  const stack = [outDir];
  while (stack.length) {
    const d = stack.pop();
    const entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile() && !e.name.startsWith('.')) {
        const f = readDicom(readFileSync(p));
        const pn = f.dataset.get(T.PatientName);
        const name = pn?.kind === 'value' ? Buffer.from(pn.bytes).toString('latin1').trim() : '';
        return !originalNames.has(name);
      }
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The run

const machine = {
  date: new Date().toISOString().slice(0, 10),
  commit: (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })(),
  cores: CORES,
  cpu: cpus()[0]?.model?.trim() ?? 'unknown',
  memGiB: Math.round(Number(readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s+(\d+)/)[1]) / 1048576),
  node: process.version,
  gdcm: (spawnSync('gdcmanon', ['--version'], { encoding: 'utf8' }).stdout.match(/gdcm ([\d.]+)/) ?? [])[1] ?? '?',
  dcmtk: (spawnSync('dcmodify', ['--version'], { encoding: 'utf8' }).stdout.match(/v([\d.]+)/) ?? [])[1] ?? '?',
  radanon: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
};

mkdirSync(BENCH_DIR, { recursive: true });
// One bench at a time: two would delete each other's outputs and spoil each other's timings.
const LOCK = join(BENCH_DIR, 'bench.lock');
function takeLock() {
  try {
    writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
  } catch (e) {
    if (e.code !== 'EEXIST') throw e;
    const holder = Number.parseInt(readFileSync(LOCK, 'utf8'), 10);
    let alive = false;
    try {
      process.kill(holder, 0);
      alive = true;
    } catch {
      alive = false;
    }
    if (alive && holder !== process.pid) {
      console.error(`bench: another bench run (pid ${holder}) is in progress; ${relative(ROOT, LOCK)} holds its pid.`);
      process.exit(2);
    }
    rmSync(LOCK, { force: true });
    writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
  }
  process.on('exit', () => {
    try {
      if (readFileSync(LOCK, 'utf8') === String(process.pid)) rmSync(LOCK, { force: true });
    } catch {
      // already gone
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
}
takeLock();

// Other work in this tree may rebuild dist/ while the bench runs: radanon runs from a snapshot
// taken now, with package.json beside it (its imports still resolve to the repository's node_modules).
const SNAPSHOT = join(BENCH_DIR, 'snapshot');
const DIST = join(SNAPSHOT, 'dist');
rmSync(SNAPSHOT, { recursive: true, force: true });
cpSync(join(ROOT, 'dist'), DIST, { recursive: true });
cpSync(join(ROOT, 'package.json'), join(SNAPSHOT, 'package.json'));
const dist = (path) => import(pathToFileURL(join(DIST, path)).href);

const { readDicom } = await dist('dicom/reader.js');
const { encodeDicom } = await dist('dicom/writer.js');
const { tag: makeTag } = await dist('dicom/tag.js');
const { vrOf } = await dist('dicom/dictionary.js');

const T = {
  MediaStorageSOPInstanceUID: makeTag(0x0002, 0x0003),
  SOPInstanceUID: makeTag(0x0008, 0x0018),
  StudyDate: makeTag(0x0008, 0x0020),
  AccessionNumber: makeTag(0x0008, 0x0050),
  PatientName: makeTag(0x0010, 0x0010),
  PatientID: makeTag(0x0010, 0x0020),
  PatientBirthDate: makeTag(0x0010, 0x0030),
  StudyInstanceUID: makeTag(0x0020, 0x000d),
  SeriesInstanceUID: makeTag(0x0020, 0x000e),
  StudyID: makeTag(0x0020, 0x0010),
  SeriesNumber: makeTag(0x0020, 0x0011),
  InstanceNumber: makeTag(0x0020, 0x0013),
  FrameOfReferenceUID: makeTag(0x0020, 0x0052),
};
const benchStarted = performance.now();
const loadAtStart = loadavg()[0];
const corpus = buildCorpus();
if (process.env.RADANON_BENCH_BUILD_ONLY === '1') process.exit(0);
const originalNames = new Set(planCorpus(N_FILES).files.map((f) => f.values.name));
const scaleSizes = [1000, 2000].filter((n) => n < corpus.files);
const subsets = new Map(scaleSizes.map((n) => [n, join(subset(corpus, n, `subset-${n}`), 'data')]));
const warmDir = join(subset(corpus, 100, 'subset-100'), 'data');

const secretFile = join(BENCH_DIR, 'bench.key');
writeFileSync(secretFile, 'radanon-benchmark-project-secret-0123456789\n');
const certFile = join(BENCH_DIR, 'gdcm-cert.pem');
if (!existsSync(certFile)) {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(BENCH_DIR, 'gdcm-key.pem'), '-out', certFile, '-days', '3650', '-subj', '/CN=radanon-bench'], { stdio: 'ignore' });
}

const { byTag, actionsPerFile } = await radanonActions();
const DCMODIFY_FULL_ARGS = dcmodifyFullArgs(byTag);
const GDCM_FULL_ARGS = gdcmanonFullArgs(byTag);
if (process.env.RADANON_BENCH_DEBUG) console.log(JSON.stringify({ DCMODIFY_FULL_ARGS, GDCM_FULL_ARGS }));

const seriesList = nulList(join(BENCH_DIR, 'series.lst'), corpus.seriesDirs);
const warmSeries = [...new Set(readdirSync(warmDir, { recursive: true }).filter((p) => p.endsWith('.dcm')).map((p) => dirname(p)))];
const warmSeriesList = nulList(join(BENCH_DIR, 'series-warm.lst'), warmSeries);

/** Each tool: how to run it on an input folder into an output folder. */
const RADANON = (input, out) => ({ cmd: process.execPath, args: [join(DIST, 'cli/main.js'), 'deid', input, out, '--secret-file', secretFile] });
const CP = (input, out) => ({ cmd: 'cp', args: ['-r', input, out] });
const gdcmTree = (extra) => (input, out) => ({ cmd: 'gdcmanon', args: [...extra, '-r', '-i', input, '-o', out] });
/**
 * gdcmanon, one process per series folder. The output folders are made beforehand (untimed):
 * gdcmanon's own directory creation is not safe against a parallel gdcmanon making the same
 * parent folder ("Could not create directory").
 */
const gdcmPerSeries = (extra, procs, list) => (input, out) => ({
  cmd: 'xargs', args: ['-0', '-P', String(procs), '-I{}', 'gdcmanon', ...extra, '-i', `${input}/{}`, '-o', `${out}/{}`], stdinFile: list,
  prepare: () => {
    for (const dir of readFileSync(list, 'utf8').split('\0').filter(Boolean)) mkdirSync(join(out, dir), { recursive: true });
  },
});
const GDCM_E = ['-e', '-c', certFile, '--continue'];
/** dcmodify works in place: the (untimed) copy is made by prepare(). */
const dcmodifyXargs = (extra, procs) => (input, out) => ({
  cmd: 'xargs', args: ['-0', '-P', String(procs), '-n', String(DCMODIFY_BATCH), 'dcmodify', ...extra], stdinFile: join(BENCH_DIR, `files-${out.split('/').pop()}.lst`),
  prepare: () => {
    execFileSync('cp', ['-r', input, out]);
    const rels = readdirSync(out, { recursive: true }).filter((p) => p.endsWith('.dcm')).sort();
    nulList(join(BENCH_DIR, `files-${out.split('/').pop()}.lst`), rels.map((r) => join(out, r)));
  },
});


const TOOLS = [
  { id: 'cp', name: '`cp -r`', tool: CP, desc: '`cp -r corpus out`: no de-identification, the floor (GNU cp copies each file in the kernel with copy_file_range)' },
  { id: 'radanon', name: `radanon ${machine.radanon}`, tool: RADANON, desc: `\`node dist/cli/main.js deid corpus out --secret-file key\`: default settings (radiomics preset, allow-list on, ${CORES} worker threads): PS3.15 basic profile with its options, new UIDs, keyed research IDs, per-patient date shift, private-tag knowledge base, text cleaning, atomic writes, journal and report` },
  { id: 'gdcm-e', name: `gdcmanon -e (basic profile), -P ${CORES}`, tool: gdcmPerSeries(GDCM_E, CORES, seriesList), warm: gdcmPerSeries(GDCM_E, CORES, warmSeriesList), desc: `\`gdcmanon -e -c cert.pem --continue -i <series dir> -o <out dir>\`: GDCM's PS3.15 E.1 basic profile (new UIDs, emptied/removed attributes, the originals encrypted into the Encrypted Attributes Sequence with a self-signed RSA certificate made by openssl), one process per series folder (output folders made beforehand, untimed), ${CORES} at a time (\`xargs -0 -P ${CORES}\`)` },
  { id: 'gdcm-dumb-full', name: `gdcmanon --dumb, radanon's tags, -P ${CORES}`, tool: gdcmPerSeries(GDCM_FULL_ARGS, CORES, seriesList), warm: gdcmPerSeries(GDCM_FULL_ARGS, CORES, warmSeriesList), desc: `\`gdcmanon --dumb\` with one --remove / --empty / --replace per tag that radanon acts on in this corpus (${byTag.size} tags; fixed replacement values; no new UIDs, which dumb mode cannot make), one process per series folder as above, \`xargs -0 -P ${CORES}\`` },
  { id: 'gdcm-dumb', name: 'gdcmanon --dumb, minimal, 1 process', tool: gdcmTree(GDCM_MINIMAL_ARGS), desc: `\`gdcmanon --dumb --continue -r -i corpus -o out\` replacing Patient Name/ID, emptying ${MINIMAL_TAGS.empty.length} dates/IDs, removing ${MINIMAL_TAGS.remove.length} identifying attributes; one process over the whole tree (GDCM's own recursive mode)` },
  { id: 'dcmodify-full', name: `dcmodify, radanon's tags, -P ${CORES}`, tool: dcmodifyXargs(DCMODIFY_FULL_ARGS, CORES), desc: `\`dcmodify -nb -q -imt -ie -nrc\` with one -ea / -ma per tag that radanon acts on in this corpus (${byTag.size} tags; fixed values), -i for Patient Identity Removed and De-identification Method, \`-gst -gse -gin\` (new UIDs); in place, on a \`cp -r\` copy made beforehand and not timed; \`xargs -0 -P ${CORES} -n ${DCMODIFY_BATCH}\`` },
  { id: 'dcmodify', name: `dcmodify, minimal, -P ${CORES}`, tool: dcmodifyXargs(DCMODIFY_MINIMAL_ARGS, CORES), desc: `\`dcmodify -nb -q -imt -ie\` replacing Patient Name/ID, emptying ${MINIMAL_TAGS.empty.length} and erasing ${MINIMAL_TAGS.remove.length} attributes, \`-gst -gse -gin\`; in place on an untimed \`cp -r\` copy; \`xargs -0 -P ${CORES} -n ${DCMODIFY_BATCH}\`` },
  { id: 'dcmodify-1', single: true, name: 'dcmodify, minimal, 1 process at a time', tool: dcmodifyXargs(DCMODIFY_MINIMAL_ARGS, 1), warm: null, desc: `as above with \`xargs -0 -P 1 -n ${DCMODIFY_BATCH}\`` },
].filter((t) => !(QUICK && t.single));
const byId = new Map(TOOLS.map((t) => [t.id, t]));
const REPEATS = QUICK ? 1 : Math.max(1, Number.parseInt(process.env.RADANON_BENCH_REPEATS ?? '3', 10));
const PEER_REPEATS = QUICK ? 1 : Math.max(1, Number.parseInt(process.env.RADANON_BENCH_PEER_REPEATS ?? '2', 10));
const repeatsOf = (t) => (t.id === 'cp' || t.id === 'radanon' ? REPEATS : t.single ? 1 : PEER_REPEATS);

async function runOne(tool, input, outName, { check = true } = {}) {
  const out = join(OUT, outName);
  clean(out, out + '.run');
  mkdirSync(OUT, { recursive: true });
  const spec = tool.tool(input, out);
  if (spec.prepare) spec.prepare();
  else if (spec.cmd === 'xargs') mkdirSync(out, { recursive: true });
  const r = await timed(spec.cmd, spec.args, { stdinFile: spec.stdinFile });
  const stats = dirStats(out);
  if (tool.id === 'radanon') {
    // Files de-identified, from radanon's own report (its run folder is beside the output).
    if (!existsSync(out + '.run/report.json')) {
      console.error(`bench: radanon wrote no report (exit ${r.code}):\n${r.out.slice(-3000)}\n${r.err.slice(-3000)}`);
      process.exit(1);
    }
    const report = JSON.parse(readFileSync(out + '.run/report.json', 'utf8'));
    r.done = report.counts.done;
    r.failed = report.counts.failed;
    stats.files = report.counts.done;
  }
  r.outFiles = stats.files;
  r.outBytes = stats.bytes;
  r.anonymised = check && tool.id !== 'cp' && stats.files > 0 ? spotCheck(out, originalNames) : undefined;
  clean(out, out + '.run');
  return r;
}

console.log(`machine: ${machine.cores} cores, ${machine.cpu}, ${machine.memGiB} GiB, Node ${machine.node}; gdcm ${machine.gdcm}, dcmtk ${machine.dcmtk}; commit ${machine.commit}`);
console.log(`radanon acts on ${byTag.size} distinct tags in this corpus, ${actionsPerFile.toFixed(1)} actions per file on average`);

// Warm-up: every tool once on 100 files (binaries, shared libraries, caches), and the whole
// corpus copied once so that every timed run reads it from the page cache.
console.log('warm-up: each tool once on 100 files, then one untimed cp -r of the whole corpus');
for (const t of TOOLS) {
  if (t.warm === null) continue;
  const r = await runOne(t.warm ? { ...t, tool: t.warm } : t, warmDir, `warm-${t.id}`, { check: false });
  if (r.code !== 0 && (t.id === 'radanon' || t.id === 'cp')) {
    console.error(`bench: warm-up of ${t.name} failed (exit ${r.code}):\n${r.out.slice(-2000)}\n${r.err.slice(-2000)}`);
    process.exit(1);
  }
}
await runOne(byId.get('cp'), corpus.dir, 'warm-cp', { check: false });

function line(label, r, files, bytes) {
  return (
    `  ${label.padEnd(46)} ${r.seconds.toFixed(2).padStart(7)} s ${(files / r.seconds).toFixed(0).padStart(6)} files/s ${(bytes / 1e6 / r.seconds).toFixed(0).padStart(5)} MB/s` +
    `  CPU ${r.cpu.toFixed(1).padStart(5)} s  peak RSS ${(r.rssKb / 1024).toFixed(0).padStart(4)} MB  exit ${r.code}  out ${r.outFiles}`
  );
}

// The schedule, in rounds: cp and radanon REPEATS times (alternating which goes first), each
// peer PEER_REPEATS times (single-process variants once), the peers' order rotated from round
// to round, so that drift in the machine's state (other work on it) touches every tool alike.
const peerIds = TOOLS.map((t) => t.id).filter((id) => id !== 'cp' && id !== 'radanon');
const schedule = [];
const rounds = Math.max(...TOOLS.map(repeatsOf));
for (let round = 0; round < rounds; round++) {
  const ids = [...(round % 2 === 0 ? ['cp', 'radanon'] : ['radanon', 'cp'])];
  const rotated = [...peerIds.slice(round % peerIds.length), ...peerIds.slice(0, round % peerIds.length)];
  ids.splice(1, 0, ...rotated.slice(0, Math.ceil(rotated.length / 2)));
  ids.push(...rotated.slice(Math.ceil(rotated.length / 2)));
  for (const id of ids) if (round < repeatsOf(byId.get(id))) schedule.push(id);
}
const samples = new Map(TOOLS.map((t) => [t.id, []]));
console.log(`\ntimed runs on ${corpus.files} files, ${(corpus.bytes / 1e6).toFixed(0)} MB; cp and radanon ${REPEATS}x, peers ${PEER_REPEATS}x (single-process ones once) (sync before each run; outputs deleted between runs, untimed):`);
for (const id of schedule) {
  const t = byId.get(id);
  const r = await runOne(t, corpus.dir, id, { check: samples.get(id).length === 0 });
  samples.get(id).push(r);
  console.log(line(t.name, r, corpus.files, corpus.bytes));
  if (r.code !== 0) {
    r.errTail = (r.err || r.out).trim().split('\n').filter((l) => l.trim()).slice(-2).join(' / ').slice(0, 300);
    console.log(`    (exit ${r.code}; last messages: ${r.errTail || 'none'})`);
  }
  if (id === 'radanon' && (r.code !== 0 || r.done !== corpus.files)) {
    console.error(`bench: radanon did not de-identify every file (exit ${r.code}, done ${r.done}, failed ${r.failed}):\n${r.out.slice(-3000)}\n${r.err.slice(-3000)}`);
    process.exit(1);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = new Map(
  TOOLS.map((t) => {
    const rs = samples.get(t.id);
    return [t.id, {
      seconds: median(rs.map((r) => r.seconds)),
      all: rs.map((r) => r.seconds),
      cpu: median(rs.map((r) => r.cpu)),
      rssKb: Math.max(...rs.map((r) => r.rssKb)),
      outFiles: Math.min(...rs.map((r) => r.outFiles)),
      code: rs.map((r) => r.code).find((c) => c !== 0) ?? 0,
      errTail: rs.map((r) => r.errTail).find(Boolean),
      anonymised: rs[0].anonymised,
    }];
  }),
);

console.log('\nradanon, memory and cost against the number of files:');
const scale = [];
for (const n of scaleSizes) {
  const r = await runOne(byId.get('radanon'), subsets.get(n), `radanon-${n}`, { check: false });
  scale.push({ files: n, seconds: r.seconds, rssKb: r.rssKb });
}
const full = summary.get('radanon');
scale.push({ files: corpus.files, seconds: full.seconds, rssKb: full.rssKb });
for (const s of scale) {
  console.log(`  ${String(s.files).padStart(5)} files: ${s.seconds.toFixed(2)} s, ${((s.seconds / s.files) * 1000).toFixed(2)} ms/file, peak RSS ${(s.rssKb / 1024).toFixed(0)} MB`);
}

// ---------------------------------------------------------------------------------------------
// Table and docs

const radanonSeconds = full.seconds;
const cpSeconds = summary.get('cp').seconds;
const fmt = (x, d = 0) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const mb = corpus.bytes / 1e6;
const rows = TOOLS.map((t) => {
  const s = summary.get(t.id);
  return { id: t.id, name: t.name, runs: s.all.length, ...s, filesPerSec: corpus.files / s.seconds, mbPerSec: mb / s.seconds, ratio: s.seconds / radanonSeconds };
});
const tableLines = [
  `| tool | files | MB | seconds | files/s | MB/s | time ÷ radanon's | CPU s | peak RSS MB | files written | exit |`,
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((x) =>
    `| ${x.name} | ${fmt(corpus.files)} | ${fmt(mb)} | ${fmt(x.seconds, 2)}${x.runs > 1 ? ` (median of ${x.runs}: ${x.all.map((v) => fmt(v, 2)).join(', ')})` : ''} | ${fmt(x.filesPerSec)} | ${fmt(x.mbPerSec)} | ${fmt(x.ratio, 2)}× | ${fmt(x.cpu, 1)} | ${fmt(x.rssKb / 1024)} | ${fmt(x.outFiles)} | ${x.code} |`),
];
const scaleLines = [
  '| files | seconds | ms per file | files/s | peak RSS MB |',
  '|---:|---:|---:|---:|---:|',
  ...scale.map((s) => `| ${fmt(s.files)} | ${fmt(s.seconds, 2)} | ${fmt((s.seconds / s.files) * 1000, 2)} | ${fmt(s.files / s.seconds)} | ${fmt(s.rssKb / 1024)} |`),
];
const peers = rows.filter((x) => x.id !== 'cp' && x.id !== 'radanon').sort((a, b) => a.ratio - b.ratio);
const fasterPeers = peers.filter((x) => x.ratio < 1);
const cpRatio = radanonSeconds / cpSeconds;
const verdict = [
  `- radanon: ${fmt(corpus.files / radanonSeconds)} files/s, ${fmt(mb / radanonSeconds)} MB/s, **${fmt(cpRatio, 2)}× the time of \`cp -r\`** (target: within 3×; ${cpRatio <= 3 ? 'met' : '**not met**'}).`,
  fasterPeers.length === 0
    ? `- Faster than every peer; the closest, ${peers[0]?.name}, takes ${fmt(peers[0]?.ratio ?? 0, 2)}× radanon's time (target met).`
    : `- **Not faster than every peer** (target not met): ${fasterPeers.map((x) => `${x.name} takes ${fmt(x.ratio, 2)}× radanon's time`).join('; ')}.`,
  `- Peak RSS: ${scale.map((s) => `${fmt(s.rssKb / 1024)} MB at ${fmt(s.files)} files`).join(', ')}; cost per file ${scale.map((s) => `${fmt((s.seconds / s.files) * 1000, 2)} ms`).join(', ')}.`,
];

console.log('\n' + tableLines.join('\n'));
console.log('\n' + verdict.join('\n'));
for (const x of rows) if (x.outFiles < corpus.files && x.id !== 'radanon') console.log(`  note: ${x.name} wrote ${x.outFiles} of ${corpus.files} files (exit ${x.code})`);

const corpusLines = [
  `${fmt(corpus.files)} files, ${fmt(mb)} MB, ${corpus.patients} patients, ${corpus.studies} studies, ${corpus.series} series (seed ${corpus.seed}), built once into \`.bench/corpus-${corpus.files}\` (git-ignored) by \`bench/deid.bench.mjs\` from these files of \`shared/data/dicom\`; each copy has its own Study, Series, SOP Instance and Frame of Reference UIDs, patient name, ID and birth date, study date, accession number, study ID and series/instance numbers, written with radanon's own reader and writer (\`readDicom\` → replaced elements → \`encodeDicom\`):`,
  '',
  '| template | what | files | MB |',
  '|---|---|---:|---:|',
  ...corpus.templates.map((t) => `| \`${t.path}\` | ${t.what} | ${fmt(t.files)} | ${fmt(t.bytes / 1e6)} |`),
];
const toolLines = rows.map((x) => {
  const t = byId.get(x.id);
  let note = '';
  if (x.anonymised === false) note += ' Spot check: the first output file still holds an original patient name.';
  if (x.outFiles < corpus.files && x.id !== 'radanon') {
    note += ` Wrote ${fmt(x.outFiles)} of ${fmt(corpus.files)} files${x.id === 'gdcm-e' ? ': gdcmanon -e refuses the enhanced MR files ("EncryptedContentTransferSyntax Attribute Patient is set") and stops there, so those series folders are not written' : x.errTail ? ` (in at least one run; its last messages: \`${x.errTail.replaceAll('`', "'")}\`)` : ''}.`;
  }
  return `- **${x.name}**: ${t.desc}.${note}`;
});

const section = [
  `## Results of ${machine.date} (commit ${machine.commit})`,
  '',
  `Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memGiB} GiB, Node ${machine.node}; GDCM ${machine.gdcm} (Debian libgdcm-tools), dcmtk ${machine.dcmtk} (Debian dcmtk). Whole bench run: ${fmt((performance.now() - benchStarted) / 1000)} s; 1-minute load average ${fmt(loadAtStart, 1)} at its start and ${fmt(loadavg()[0], 1)} at its end (anything above 0 is other work sharing the ${machine.cores} cores).`,
  '',
  '### Corpus',
  '',
  ...corpusLines,
  '',
  '### What each tool did',
  '',
  ...toolLines,
  '',
  `radanon acts on ${byTag.size} distinct tags in this corpus (${fmt(actionsPerFile, 1)} changes per file on average over the mix: removals, emptied values, pseudonyms, shifted dates); the "radanon's tags" peers are given those same tags.`,
  '',
  `Procedure: each tool ran once, untimed, on 100 files of the corpus (warm-up), and the whole corpus was copied once untimed, so every timed run reads its input from the page cache. Then \`cp -r\` and radanon ran ${REPEATS} times each and the peers ${PEER_REPEATS} times each (the single-process variants once), in rounds with the peers' order rotated from round to round, in this order: ${schedule.map((id) => `\`${id}\``).join(', ')}. Before each run: its output folder deleted and \`sync\` (both untimed). Seconds are wall time around the process; CPU (user + system) and peak RSS come from \`/usr/bin/time\` (under xargs, peak RSS is that of the largest single process; radanon's worker threads share its one process, so its figure covers them). The machine is shared with other work, so repeated runs differ; the medians and every sample are shown.`,
  '',
  '### Throughput',
  '',
  ...tableLines,
  '',
  ...verdict,
  '',
  '### radanon: memory and cost against the number of files',
  '',
  `The first 1,000 and 2,000 files of the corpus (hard links to the same files) and the whole corpus (median time of the ${REPEATS} runs above, highest peak RSS of them):`,
  '',
  ...scaleLines,
  '',
].join('\n');

if (process.env.RADANON_BENCH_NO_DOCS !== '1') {
  const START = '<!-- bench:results:start -->';
  const END = '<!-- bench:results:end -->';
  let doc = existsSync(DOCS) ? readFileSync(DOCS, 'utf8') : `# Benchmarks\n\nRun \`npm run bench\`.\n\n${START}\n${END}\n`;
  if (!doc.includes(START) || !doc.includes(END)) doc = `${doc.trimEnd()}\n\n${START}\n${END}\n`;
  const before = doc.slice(0, doc.indexOf(START) + START.length);
  const after = doc.slice(doc.indexOf(END));
  mkdirSync(dirname(DOCS), { recursive: true });
  writeFileSync(DOCS, `${before}\n${section}\n${after}`);
  console.log(`\nrecorded in ${relative(ROOT, DOCS)}`);
}
clean(OUT);
