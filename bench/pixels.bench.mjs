#!/usr/bin/env node
/**
 * npm run bench:pixels — what pixel de-identification costs per frame, against the issue's
 * targets (at most 30 ms per text-free 512² CT frame, at most 1 s per frame with text), with
 * peers timed in the same run:
 *
 *  1. Text-free 512² CT frames, per transfer syntax: reading the file from memory, decoding the
 *     frame and the text pre-filter, i.e. `PixelCleaner.scan`, the path `radanon pixels scan` and
 *     `deid --clean-pixels` take for every frame (engines already loaded). Decode and detection
 *     are also timed apart. Peers: the C/C++ decoders gdcmconv --raw, dcmdjpeg, dcmdjpls and
 *     dcmdrle, one process per file less the same tool's cost of copying a native file, and
 *     opj_decompress over a folder of copies of the codestream in one process.
 *  2. Frames with text (text rendered on real CT, MR and ultrasound frames with @napi-rs/canvas,
 *     and presidio's images, whose text is their own): `PixelCleaner.clean`, detection, removal,
 *     the second reading of the cleaned frame and writing the frame back. Peer: the tesseract 5
 *     CLI reading the same frame as a PNG (it does less: no decoding, no pre-filter, no removal).
 *  3. Cost against input size: text-free frames of 128² … 2048² (pre-filter; JPEG 2000 and HTJ2K
 *     decoding), and 0 … 16 lines of text on a 512² CT frame.
 *  4. Whole folders through the built CLI (`radanon deid --clean-pixels`, one worker thread per
 *     core and one only): frames/s, CPU and peak RSS from /usr/bin/time.
 *
 * Wall times on a shared machine are noisy: every row gives the median wall time and the median
 * CPU time of this process (process.cpuUsage, all threads), and the load average is printed.
 * The shared corpus is read from ../shared/data/dicom (RADANON_SHARED_DATA: the folder holding
 * dicom/); derived files are written to .bench/pixels/ (git-ignored). The output is Markdown,
 * ready to paste into docs/BENCHMARKS.md; RADANON_BENCH_OUT=<file> writes it there as well.
 *
 * Environment: RADANON_BENCH_QUICK=1 (fewer repeats, smaller folders), RADANON_BENCH_REPEATS
 * (timed runs per row, default 20), RADANON_BENCH_PEER_REPEATS (runs per peer, default 5),
 * RADANON_BENCH_COPIES (copies of each file in the whole-folder runs, default 12),
 * RADANON_BENCH_ONLY=textfree,text,size,folder (sections to run).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = path.resolve(process.env.RADANON_SHARED_DATA ?? path.join(ROOT, '..', 'shared', 'data'));
const DICOM = path.join(SHARED, 'dicom');
const WORK = path.join(ROOT, '.bench', 'pixels');
const QUICK = process.env.RADANON_BENCH_QUICK === '1';
const REPEATS = Number(process.env.RADANON_BENCH_REPEATS ?? (QUICK ? 5 : 20));
const PEER_REPEATS = Number(process.env.RADANON_BENCH_PEER_REPEATS ?? (QUICK ? 2 : 5));
const COPIES = Number(process.env.RADANON_BENCH_COPIES ?? (QUICK ? 3 : 12));
const ONLY = new Set((process.env.RADANON_BENCH_ONLY ?? 'textfree,text,size,folder').split(','));
const WARMUP = 3;
const TARGET_TEXT_FREE_MS = 30;
const TARGET_TEXT_MS = 1000;
const FONT = process.env.RADANON_FONT_DIR ? path.join(process.env.RADANON_FONT_DIR, 'DejaVuSans.ttf') : '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

if (!existsSync(path.join(ROOT, 'dist', 'pixels', 'clean.js'))) {
  console.error('bench:pixels: dist/ is missing; run `npm run bench:pixels` (it builds first) or `npm run build`.');
  process.exit(2);
}
if (!existsSync(path.join(DICOM, 'MANIFEST.tsv'))) {
  console.error(`bench:pixels: no shared DICOM data at ${DICOM}; set RADANON_SHARED_DATA to the folder holding dicom/ (the bench needs the real images).`);
  process.exit(2);
}

const dist = (p) => import(path.join(ROOT, 'dist', p));
const { readDicom } = await dist('dicom/reader.js');
const { encodeDicomToBuffer } = await dist('dicom/writer.js');
const { encodeAscii, transferSyntaxOf } = await dist('dicom/dataset.js');
const { tag, Tags } = await dist('dicom/tag.js');
const { openPixelData } = await dist('pixels/codec/pixel-data.js');
const { frameBytes, buildItems } = await dist('pixels/codec/encapsulated.js');
const { defaultRegistry } = await dist('pixels/codec/registry.js');
const { Syntax, syntaxLabel } = await dist('pixels/codec/syntax.js');
const { PixelCleaner, DEFAULT_PIXEL_SETTINGS } = await dist('pixels/clean.js');
const { createTextDetector } = await dist('pixels/detect/detector.js');
const { encode: encodePng } = await import('fast-png');
const { createCanvas, GlobalFonts } = await import('@napi-rs/canvas');

// ---------------------------------------------------------------------------------------------
// Measuring

const out = [];
const print = (line = '') => {
  out.push(line);
  console.log(line);
};
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' / ');
const ms = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** Median wall and CPU milliseconds of `fn` after warm-up runs; `result` is the last run's value. */
async function timeIt(fn, repeats = REPEATS, warmup = WARMUP) {
  let result;
  for (let i = 0; i < warmup; i++) result = await fn();
  const wall = [];
  const cpu = [];
  for (let i = 0; i < repeats; i++) {
    const c = cpuMs();
    const t = performance.now();
    result = await fn();
    wall.push(performance.now() - t);
    cpu.push(cpuMs() - c);
  }
  return { wall: median(wall), cpu: median(cpu), min: Math.min(...wall), result };
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/**
 * A peer process under /usr/bin/time: median wall, user+sys CPU and the largest peak RSS of
 * `repeats` runs, after one untimed run (binary and libraries into the page cache). `before`
 * runs untimed before each run (clearing the previous run's output).
 */
function timeProcess(cmd, args, { repeats = PEER_REPEATS, env = process.env, before } = {}) {
  const runs = [];
  for (let i = 0; i < repeats + 1; i++) {
    before?.();
    const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S %M', cmd, ...args], { encoding: 'latin1', env, maxBuffer: 1 << 28 });
    const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr ?? '');
    if (r.status !== 0 || !m) return { error: `${cmd} exited ${r.status}: ${(r.stderr ?? '').split('\n').find((l) => l.trim() && !l.startsWith('TIME')) ?? ''}`.slice(0, 160) };
    if (i === 0) continue;
    runs.push({ wall: Number(m[1]) * 1000, cpu: (Number(m[2]) + Number(m[3])) * 1000, rssMb: Number(m[4]) / 1024 });
  }
  return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)), rssMb: Math.max(...runs.map((r) => r.rssMb)) };
}

// ---------------------------------------------------------------------------------------------
// Files

const T = {
  Rows: tag(0x0028, 0x0010),
  Columns: tag(0x0028, 0x0011),
  NumberOfFrames: tag(0x0028, 0x0008),
  UltrasoundRegions: tag(0x0018, 0x6011),
  BurnedIn: tag(0x0028, 0x0301),
};

const readCorpus = (rel) => readFileSync(path.join(DICOM, rel));
const us = (t, v) => ({ kind: 'value', tag: t, vr: 'US', bytes: Uint8Array.of(v & 0xff, v >> 8) });
const ui = (t, v) => ({ kind: 'value', tag: t, vr: 'UI', bytes: encodeAscii(v, 0x00) });

/** Bytes of a frame's samples, little endian. */
const bytesOf = (data) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/**
 * A copy of `file` holding one frame `frame` (native, in the file's own syntax when that is
 * little endian, else Explicit VR Little Endian), or encapsulated as `codestream` in `syntax`.
 * Ultrasound regions are dropped when the size changes: they would describe another image.
 */
function withFrame(file, frame, options = {}) {
  const dataset = new Map(file.dataset);
  dataset.set(T.Rows, us(T.Rows, frame.format.rows));
  dataset.set(T.Columns, us(T.Columns, frame.format.columns));
  dataset.delete(T.NumberOfFrames);
  const oldRows = file.dataset.get(T.Rows);
  if (oldRows && new DataView(oldRows.bytes.buffer, oldRows.bytes.byteOffset).getUint16(0, file.transferSyntax.littleEndian) !== frame.format.rows) dataset.delete(T.UltrasoundRegions);
  let ts = file.transferSyntax.littleEndian && !options.syntax ? file.transferSyntax : transferSyntaxOf(options.syntax ?? Syntax.ExplicitVRLittleEndian);
  if (options.codestream) {
    dataset.set(Tags.PixelData, { kind: 'encapsulated', tag: Tags.PixelData, vr: 'OB', bytes: buildItems([{ kind: 'new', codestream: options.codestream }], true).bytes });
  } else {
    const b = bytesOf(frame.data);
    const padded = b.length % 2 ? Uint8Array.from([...b, 0]) : b.slice();
    dataset.set(Tags.PixelData, { kind: 'value', tag: Tags.PixelData, vr: frame.format.bitsAllocated === 8 ? 'OB' : 'OW', bytes: padded });
  }
  if (options.sopInstanceUid) dataset.set(Tags.SOPInstanceUID, ui(Tags.SOPInstanceUID, options.sopInstanceUid));
  const meta = new Map(file.meta);
  meta.set(Tags.TransferSyntaxUID, ui(Tags.TransferSyntaxUID, ts.uid));
  if (options.sopInstanceUid) meta.set(Tags.MediaStorageSOPInstanceUID, ui(Tags.MediaStorageSOPInstanceUID, options.sopInstanceUid));
  return readDicom(encodeDicomToBuffer({ meta, dataset, transferSyntax: ts }));
}

/** A frame encoded by radanon's own lossless encoder of `syntax` (dcmjs-codecs or built-in). */
async function encodeWith(syntax, file) {
  const px = await openPixelData(file);
  const { codecs } = await defaultRegistry.encoders(syntax);
  if (!codecs.length) throw new Error(`no encoder for ${syntax}`);
  return codecs[0].encode(px.decodeFrame(0, { writable: true }), px.stored, syntax);
}

/** Bilinear resampling of a single-sample frame to `rows`×`columns` (for the size series). */
function resample(frame, rows, columns) {
  const f = frame.format;
  const Ctor = frame.data.constructor;
  const data = new Ctor(rows * columns);
  for (let y = 0; y < rows; y++) {
    const sy = Math.min(f.rows - 1.001, (y * (f.rows - 1)) / Math.max(1, rows - 1));
    const y0 = Math.floor(sy);
    const fy = sy - y0;
    for (let x = 0; x < columns; x++) {
      const sx = Math.min(f.columns - 1.001, (x * (f.columns - 1)) / Math.max(1, columns - 1));
      const x0 = Math.floor(sx);
      const fx = sx - x0;
      const a = frame.data[y0 * f.columns + x0] * (1 - fx) + frame.data[y0 * f.columns + x0 + 1] * fx;
      const b = frame.data[(y0 + 1) * f.columns + x0] * (1 - fx) + frame.data[(y0 + 1) * f.columns + x0 + 1] * fx;
      data[y * columns + x] = Math.round(a * (1 - fy) + b * fy);
    }
  }
  return { format: { ...f, rows, columns }, data };
}

function crop(frame, x0, y0, width, height) {
  const f = frame.format;
  const spp = f.samplesPerPixel;
  const data = new frame.data.constructor(width * height * spp);
  for (let y = 0; y < height; y++) data.set(frame.data.subarray(((y0 + y) * f.columns + x0) * spp, ((y0 + y) * f.columns + x0 + width) * spp), y * width * spp);
  return { format: { ...f, rows: height, columns: width }, data };
}

// ---------------------------------------------------------------------------------------------
// Text, drawn the way devices burn it in: one flat value (the frame's maximum), in corners.

const LINES = ['DOE^JANE', 'MRN 40271983', 'DOB 12/03/1961', '2024-05-17 14:32', 'ACC A7731945', 'ST. MARY HOSPITAL', '57Y F', 'SMITH^JOHN 04/11/1958'];
let fontReady = false;

/** A copy of `frame` with `count` lines of text at its maximum value, stacked in the four corners. */
function drawText(frame, count) {
  if (!fontReady) {
    if (!existsSync(FONT)) throw new Error(`${FONT}: font missing (Debian fonts-dejavu-core, or set RADANON_FONT_DIR)`);
    GlobalFonts.registerFromPath(FONT, 'BenchSans');
    fontReady = true;
  }
  const f = frame.format;
  const size = Math.max(10, Math.min(16, Math.floor(f.rows / 32)));
  const step = Math.round(size * 1.6);
  const canvas = createCanvas(f.columns, f.rows);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, f.columns, f.rows);
  ctx.fillStyle = '#fff';
  ctx.font = `${size}px BenchSans`;
  ctx.textBaseline = 'top';
  for (let i = 0; i < count; i++) {
    const corner = i % 4;
    const row = Math.floor(i / 4);
    const text = LINES[i % LINES.length];
    const width = ctx.measureText(text).width;
    const x = corner % 2 === 0 ? 6 : f.columns - 6 - width;
    const y = corner < 2 ? 6 + row * step : f.rows - 6 - (row + 1) * step;
    ctx.fillText(text, x, y);
  }
  const cover = ctx.getImageData(0, 0, f.columns, f.rows).data;
  const spp = f.samplesPerPixel;
  const hi = spp === 3 ? 255 : f.pixelRepresentation === 1 ? 2 ** (f.bitsStored - 1) - 1 : 2 ** f.bitsStored - 1;
  const data = frame.data.slice();
  for (let p = 0; p < f.rows * f.columns; p++) {
    const a = cover[4 * p] / 255;
    if (a === 0) continue;
    for (let s = 0; s < spp; s++) data[p * spp + s] = Math.round(data[p * spp + s] * (1 - a) + hi * a);
  }
  return { format: f, data };
}

/** The frame as a PNG as a viewer would show it (grey: min–max window to 8 bits; RGB as is). */
function framePng(frame) {
  const f = frame.format;
  if (f.samplesPerPixel === 3) return encodePng({ width: f.columns, height: f.rows, data: Uint8Array.from(frame.data), channels: 3, depth: 8 });
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of frame.data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const grey = new Uint8Array(f.rows * f.columns);
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  for (let i = 0; i < grey.length; i++) grey[i] = Math.round((frame.data[i] - lo) * scale);
  return encodePng({ width: f.columns, height: f.rows, data: grey, channels: 1, depth: 8 });
}

// ---------------------------------------------------------------------------------------------
// Start

mkdirSync(WORK, { recursive: true });
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() || 'unknown';
const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ? ' (with uncommitted changes in src/)' : '';
const version = (cmd, args, pick = (s) => s.split('\n')[0]) => {
  if (!have(cmd)) return undefined;
  const r = spawnSync(cmd, args, { encoding: 'latin1' });
  return pick(`${r.stdout}${r.stderr}`).trim();
};
const peers = {
  gdcmconv: version('gdcmconv', ['--version']),
  dcmdjpeg: version('dcmdjpeg', ['--version'], (s) => s.split('\n').find((l) => /dcmtk/i.test(l)) ?? s.split('\n')[0]),
  dcmdjpls: have('dcmdjpls') ? 'dcmtk' : undefined,
  dcmdrle: have('dcmdrle') ? 'dcmtk' : undefined,
  opj_decompress: version('opj_decompress', ['-h'], (s) => s.split('\n').find((l) => /openjp2|version/i.test(l)) ?? 'OpenJPEG'),
  tesseract: version('tesseract', ['--version']),
  time: existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined,
};
const started = performance.now();
print(`## Results of ${new Date().toISOString().slice(0, 10)} (commit ${commit}${dirty})`);
print();
print(`Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}. 1/5/15-minute load average at the start: ${load()} (anything above 0 is other work sharing the cores); the bench ran at niceness ${os.getPriority()}.`);
print(`Peers: ${Object.entries(peers).filter(([k]) => k !== 'time').map(([k, v]) => `${k} ${v ? `(${v})` : '**missing**'}`).join(', ')}.`);
for (const [k, v] of Object.entries(peers)) if (!v) console.error(`bench:pixels: ${k} is not installed; its rows say so and the bench goes on.`);
print();

// Engines loaded once: the cleaner as a worker thread of `deid --clean-pixels` holds it.
const digestKey = new Uint8Array(32).fill(7);
const cleaner = PixelCleaner.create(DEFAULT_PIXEL_SETTINGS, digestKey);
// A frame with text as one thread with every core reads it (`pixels scan`, `deid --workers 1`).
const { ocrEnginesPerThread } = await dist('pixels/settings.js');
const ENGINES = ocrEnginesPerThread(1);
const cleanerAllCores = PixelCleaner.create({ ...DEFAULT_PIXEL_SETTINGS, ocrWorkers: ENGINES }, digestKey);
const detector = await createTextDetector({ workers: 1, digestKey });

/**
 * `PixelCleaner.clean` of a file: the number of findings, or why the file failed (a cleaner that
 * still reads text after its passes refuses to write the file; that is timed and reported too).
 */
async function cleanCount(file, by = cleaner) {
  try {
    return (await by.clean(file, file, 'bench.dcm')).report.findings.length;
  } catch (e) {
    return `failed (${e?.name ?? 'Error'}: ${String(e?.message ?? e).split(';')[0].slice(0, 90)})`;
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Text-free 512² CT frames per transfer syntax

const ct = readDicom(readCorpus('dicomParser/CT1_UNC.implicit_little_endian.dcm'));
const ctFrame = (await openPixelData(ct)).decodeFrame(0, { writable: true });

/** The 512² CT files: real files of the corpus where it has one, else CT1_UNC re-encoded (said so). */
async function textFreeCases() {
  const cases = [
    { label: 'Implicit VR Little Endian', source: 'CT1_UNC (corpus)', rel: 'dicomParser/CT1_UNC.implicit_little_endian.dcm', peer: 'gdcmconv' },
    { label: 'Explicit VR Little Endian', source: 'eCT_Supplemental frame 1 of 2 (corpus)', rel: 'pydicom-data/eCT_Supplemental.dcm', peer: 'gdcmconv' },
    { label: 'Explicit VR Big Endian', source: 'CT1_UNC (corpus)', rel: 'dicomParser/CT1_UNC.explicit_big_endian.dcm', peer: 'gdcmconv' },
    { label: 'RLE Lossless', source: 'CT0012 frame 1 of 2 (corpus)', rel: 'dicomParser/encapsulated__multi-frame__CT0012.not_fragmented_bot_rle.dcm', peer: 'dcmdrle' },
    { label: 'JPEG Extended 12-bit (.51)', source: 'CT0012 frame 1 of 2 (corpus)', rel: 'dicomParser/encapsulated__multi-frame__CT0012.fragmented_no_bot_jpeg_baseline.51.dcm', peer: 'dcmdjpeg' },
    { label: 'JPEG Lossless (.57)', source: 'CT0012 frame 1 of 2 (corpus)', rel: 'dicomParser/encapsulated__multi-frame__CT0012.fragmented_no_bot_jpeg_lossless.57.dcm', peer: 'dcmdjpeg' },
    { label: 'JPEG Lossless SV1 (.70)', source: 'bad_sequence, 12-bit (corpus)', rel: 'pydicom-data/bad_sequence.dcm', peer: 'dcmdjpeg' },
    { label: 'JPEG-LS Lossless (.80)', source: 'CT1_UNC (corpus)', rel: 'dicomParser/encapsulated__single-frame__CT1_UNC.fragmented_bot_jpeg_ls.80.dcm', peer: 'dcmdjpls' },
    { label: 'JPEG-LS Near-Lossless (.81)', source: 'CT0012 frame 1 of 2 (corpus)', rel: 'dicomParser/encapsulated__multi-frame__CT0012.fragmented_no_bot_jpeg_ls.81.dcm', peer: 'dcmdjpls' },
    { label: 'JPEG 2000 Lossless (.90)', source: 'explicit_VR-UN (corpus)', rel: 'pydicom-data/explicit_VR-UN.dcm', peer: 'opj_decompress' },
    { label: 'JPEG 2000 Lossless (.90)', source: 'CT1_UNC encoded by radanon (OpenJPEG in dcmjs-codecs)', derive: Syntax.Jpeg2000Lossless, peer: 'opj_decompress' },
    { label: 'JPEG 2000 (.91), irreversible', source: '693_J2KI, 14-bit (corpus)', rel: 'pydicom/693_J2KI.dcm', peer: 'opj_decompress' },
    { label: 'HTJ2K Lossless (.201)', source: 'CT1_UNC encoded by radanon (OpenJPH in dcmjs-codecs)', derive: Syntax.HtJpeg2000Lossless, peer: undefined },
    { label: 'Deflated Image Frame (.8.1)', source: 'CT1_UNC encoded by radanon (node:zlib)', derive: Syntax.DeflatedImageFrame, peer: undefined },
    { label: 'Deflated Explicit VR Little Endian (.1.99)', source: 'CT1_UNC written deflated by radanon', deflatedDataset: true, peer: 'gdcmconv' },
  ];
  for (const c of cases) {
    if (c.rel) {
      c.file = path.join(DICOM, c.rel);
      continue;
    }
    const name = c.deflatedDataset ? 'ct1_unc.deflated.dcm' : `ct1_unc.${c.derive}.dcm`;
    c.file = path.join(WORK, name);
    if (!existsSync(c.file)) {
      const made = c.deflatedDataset ? withFrame(ct, ctFrame, { syntax: Syntax.DeflatedExplicitVRLittleEndian }) : withFrame(ct, ctFrame, { syntax: c.derive, codestream: await encodeWith(c.derive, ct) });
      writeFileSync(c.file, encodeDicomToBuffer(made));
    }
  }
  return cases;
}

const OPJ_BATCH = 20;

/**
 * A peer's decode of one file, per frame: the dcmtk and GDCM tools run once per file, so the
 * same tool copying the native CT1_UNC file (process start, reading, writing: its floor) is
 * subtracted; opj_decompress decodes a folder of OPJ_BATCH copies of the frame's codestream
 * in one process (-ImgDir), which spreads its start over the batch.
 */
const floors = new Map();
function peerDecode(peer, file, px) {
  if (peer === 'opj_decompress') {
    const dir = path.join(WORK, 'opj');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const stream = frameBytes(px.items, px.groups[0]);
    for (let i = 0; i < OPJ_BATCH; i++) writeFileSync(path.join(dir, `f${i}.j2k`), stream);
    const clear = () => {
      for (let i = 0; i < OPJ_BATCH; i++) rmSync(path.join(dir, `f${i}.raw`), { force: true });
    };
    const p = timeProcess('opj_decompress', ['-quiet', '-threads', '1', '-ImgDir', dir, '-OutFor', 'RAW'], { before: clear });
    if (p.error) return p;
    return { ...p, perFrameCpu: p.cpu / OPJ_BATCH, how: `${OPJ_BATCH} codestream files in one process, 1 thread` };
  }
  const args = (input) => (peer === 'gdcmconv' ? ['--raw', input, path.join(WORK, 'peer-out.dcm')] : [input, path.join(WORK, 'peer-out.dcm')]);
  if (!floors.has(peer)) floors.set(peer, timeProcess(peer, args(path.join(DICOM, 'dicomParser/CT1_UNC.implicit_little_endian.dcm'))));
  const floor = floors.get(peer);
  const p = timeProcess(peer, args(file));
  if (p.error) return p;
  if (floor.error) return { error: `floor: ${floor.error}` };
  return { ...p, perFrameCpu: Math.max(0, p.cpu - floor.cpu) / px.frameCount, how: `whole file, ${px.frameCount} frame${px.frameCount > 1 ? 's' : ''}, less ${ms(floor.cpu)} ms CPU of copying a native file` };
}

if (ONLY.has('textfree')) {
  const cases = await textFreeCases();
  // Untimed: the first frames through a fresh cleaner run before the JIT has compiled the
  // pre-filter, which would otherwise land in the first row only.
  const ctBytes = readCorpus('dicomParser/CT1_UNC.implicit_little_endian.dcm');
  for (let i = 0; i < 20; i++) await cleaner.scan(readDicom(ctBytes), 'warm-up');
  print(`### Text-free 512² CT frames, per transfer syntax (target: at most ${TARGET_TEXT_FREE_MS} ms per frame)`);
  print();
  print(`One frame per row, the OCR and codec engines already loaded. **read + scan** is \`readDicom\` of the file's bytes in memory and \`PixelCleaner.scan\` (open the pixel data, decode the frame, header hints, device rules, the text pre-filter; OCR only if a candidate line is found), the path \`radanon pixels scan\` and \`deid --clean-pixels\` take for every frame; **decode** is \`openPixelData\` + \`decodeFrame\` alone; **detect** is the detector on the decoded frame (pre-filter; OCR if it finds a candidate line). Median of ${REPEATS} runs after ${WARMUP} warm-up runs, wall and CPU (user + system of this process). Peers: the C/C++ decoders. dcmtk's and GDCM's tools decode a whole file per process: the same tool copying the native CT1_UNC file (its process start and I/O) is subtracted from its CPU time and the rest divided by the file's frames; opj_decompress decodes ${OPJ_BATCH} copies of the frame's codestream in one process (\`-ImgDir\`, \`-threads 1\`), CPU ÷ ${OPJ_BATCH}. Their CPU times come from /usr/bin/time (10 ms resolution), median of ${PEER_REPEATS} runs after one untimed run. Ratio = radanon's decode CPU ÷ the peer's decode CPU per frame (below 1: radanon faster)`);
  print();
  print('| transfer syntax | frame | source | read + scan wall (ms), median (fastest) | read + scan CPU (ms) | decode CPU (ms) | detect CPU (ms) | findings | target | peer | peer decode CPU per frame (ms) | radanon decode ÷ peer (CPU) |');
  print('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |');
  for (const c of cases) {
    const bytes = readFileSync(c.file);
    const file = readDicom(bytes);
    const px = await openPixelData(file);
    const f = px.format;
    const frameLabel = `${f.columns}×${f.rows} ${f.bitsAllocated}-bit (${f.bitsStored} stored)`;
    const scan = await timeIt(async () => (await cleaner.scan(readDicom(bytes), c.label)).findings.filter((x) => x.frame === 0).length);
    const decode = await timeIt(async () => (await openPixelData(readDicom(bytes))).decodeFrame(0));
    const decoded = px.decodeFrame(0);
    const detect = await timeIt(async () => (await detector.detect(decoded, { frameIndex: 0 })).length);
    // Multi-frame files: scan covers all their frames, so per frame is the total over the count.
    const perFrame = (x) => x / px.frameCount;
    let peerCells = '— | — | —';
    if (c.peer) {
      if (!peers[c.peer]) peerCells = `${c.peer} **missing** | — | —`;
      else {
        const p = peerDecode(c.peer, c.file, px);
        peerCells = p.error ? `${c.peer}: ${p.error} | — | —` : `${c.peer} (${p.how}) | ${ms(p.perFrameCpu)} | ${p.perFrameCpu > 0 && px.encapsulated ? `${(decode.cpu / p.perFrameCpu).toFixed(2)}×` : '—'}`;
      }
    }
    const scanCpu = perFrame(scan.cpu);
    print(
      `| ${c.label} | ${frameLabel} | ${c.source} | ${ms(perFrame(scan.wall))} (${ms(perFrame(scan.min))}) | ${ms(scanCpu)} | ${ms(decode.cpu)} | ${ms(detect.cpu)} | ${scan.result} | ${scanCpu <= TARGET_TEXT_FREE_MS ? 'met (CPU)' : '**missed**'}${perFrame(scan.wall) > TARGET_TEXT_FREE_MS && scanCpu <= TARGET_TEXT_FREE_MS ? ', not in wall time' : ''} | ${peerCells} |`,
    );
  }
  print();
  print(`Multi-frame files (CT0012, eCT_Supplemental): read + scan is the file's total ÷ its frames; decode and detect are frame 1. Peak RSS of the bench process so far: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB. Load average now: ${load()}.`);
  print();
}

// ---------------------------------------------------------------------------------------------
// 2. Frames with text

if (ONLY.has('text')) {
  const mr = readDicom(readCorpus('pydicom-data/MR-SIEMENS-DICOM-WithOverlays.dcm'));
  const usRgb = readDicom(readCorpus('deid-data/ultrasounds__RGB_IMAGE.dcm'));
  const usGrey = readDicom(readCorpus('deid-data/ultrasounds__GREYSCALE_IMAGE.dcm'));
  const first = async (file) => (await openPixelData(file)).decodeFrame(0, { writable: true });
  const usRgbFrame = await first(usRgb);
  const cases = [
    { label: 'CT 512² (CT1_UNC), 4 lines drawn', file: withFrame(ct, drawText(ctFrame, 4)) },
    { label: 'MR 484² (MR-SIEMENS), 4 lines drawn', file: withFrame(mr, drawText(await first(mr), 4)) },
    { label: 'US 640×480 RGB (crop of ultrasounds RGB), 4 lines drawn', file: withFrame(usRgb, drawText(crop(usRgbFrame, 192, 100, 640, 480), 4)) },
    { label: 'US 1024×768 RGB (ultrasounds RGB, its own text)', file: usRgb },
    { label: 'US 1024×768 RGB (ultrasounds RGB, its own text + 4 lines drawn)', file: withFrame(usRgb, drawText(usRgbFrame, 4)) },
    { label: 'US 1024×768 grey (ultrasounds greyscale, its own text)', file: usGrey },
    { label: 'Presidio CT 552×394 (2_ORIGINAL, its own text)', file: readDicom(readCorpus('presidio/2_ORIGINAL.dcm')) },
    { label: 'Presidio CR 1760×2140, RLE (0_ORIGINAL_compressed, its own text)', file: readDicom(readCorpus('presidio/0_ORIGINAL_compressed.dcm')) },
  ];
  const n = Math.max(3, Math.round(REPEATS / 4));
  print(`### Frames with text (target: at most ${TARGET_TEXT_MS} ms per frame)`);
  print();
  print(`**clean** is \`PixelCleaner.clean\` on the file with ${ENGINES} tesseract.js engine(s), as one thread with every core runs it (\`pixels scan\`, \`verify --pixels\`, \`deid --workers 1\`; decode, header hints and device rules, pre-filter, OCR of the candidate regions, Telea inpainting of what was found, the second OCR reading of the cleaned frame, writing the frame back); **clean, 1 engine** the same with one engine, as each thread of a batch with a thread per core runs it; **detect** is the detector alone on the decoded frame (one engine). Median of ${n} runs after 1 warm-up run, wall and CPU of this process (tesseract.js runs in a worker thread of it). Drawn text: DejaVu Sans, ${'10–16'} px, at the frame's maximum value, lines stacked in the four corners. Peer: \`tesseract\` 5 CLI (\`tesseract frame.png stdout tsv\`, \`OMP_THREAD_LIMIT=1\`), reading the same frame as an 8-bit PNG (min–max window); it only reads the whole frame once: no decoding, pre-filter, removal or second reading. Ratio = radanon's clean wall ÷ tesseract's wall.`);
  print();
  print(`| frame | findings | detect wall (ms) | detect CPU (ms) | clean wall (ms), ${ENGINES} engine(s) | clean CPU (ms) | clean, 1 engine: wall (ms) | target | tesseract wall (ms) | tesseract CPU (ms) | words tesseract read | clean ÷ tesseract (wall) |`);
  print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |');
  for (const c of cases) {
    const px = await openPixelData(c.file);
    const frame = px.decodeFrame(0);
    const detect = await timeIt(async () => (await detector.detect(frame, { frameIndex: 0 })).length, n, 1);
    const clean = await timeIt(() => cleanCount(c.file, cleanerAllCores), n, 1);
    const single = await timeIt(() => cleanCount(c.file), n, 1);
    let peer = '— | — | — | —';
    if (!peers.tesseract) peer = 'tesseract **missing** | — | — | —';
    else {
      const png = path.join(WORK, 'text-frame.png');
      writeFileSync(png, framePng(frame));
      const env = { ...process.env, OMP_THREAD_LIMIT: '1' };
      const p = timeProcess('tesseract', [png, 'stdout', 'tsv'], { env });
      const tsv = spawnSync('tesseract', [png, 'stdout', 'tsv'], { encoding: 'utf8', env }).stdout ?? '';
      const words = tsv.split('\n').filter((l) => l.split('\t')[0] === '5' && (l.split('\t')[11] ?? '').trim() !== '').length;
      peer = p.error ? `${p.error} | — | — | —` : `${ms(p.wall)} | ${ms(p.cpu)} | ${words} | ${(clean.wall / p.wall).toFixed(2)}×`;
    }
    const verdict = typeof clean.result === 'string' ? '**file failed**' : clean.wall <= TARGET_TEXT_MS ? 'met' : clean.cpu <= TARGET_TEXT_MS ? 'met in CPU, not wall' : '**missed**';
    print(`| ${c.label} | ${clean.result} | ${ms(detect.wall)} | ${ms(detect.cpu)} | ${ms(clean.wall)} | ${ms(clean.cpu)} | ${ms(single.wall)} | ${verdict} | ${peer} |`);
  }
  print();
  print(`Peak RSS of the bench process so far: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB. Load average now: ${load()}.`);
  print();
}

// ---------------------------------------------------------------------------------------------
// 3. Cost against input size

if (ONLY.has('size')) {
  print('### Cost against input size');
  print();
  print(`Text-free frames: CT1_UNC resampled (bilinear) to each size, native 16-bit; **read + scan** as above (decode is a view: the pre-filter is the cost). The same frame encoded by radanon's encoders in JPEG 2000 lossless and HTJ2K lossless (dcmjs-codecs), decoded by \`decodeFrame\`. Median of ${Math.max(3, Math.round(REPEATS / 2))} runs, CPU of this process; µs/pixel = CPU ÷ pixels.`);
  print();
  print('| frame | read + scan wall (ms) | read + scan CPU (ms) | µs/pixel | findings | J2K lossless decode CPU (ms) | µs/pixel | HTJ2K lossless decode CPU (ms) | µs/pixel |');
  print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const n = Math.max(3, Math.round(REPEATS / 2));
  for (const size of [128, 256, 512, 1024, 2048]) {
    const frame = resample(ctFrame, size, size);
    const bytes = encodeDicomToBuffer(withFrame(ct, frame));
    const scan = await timeIt(async () => (await cleaner.scan(readDicom(bytes), 'size.dcm')).findings.length, n);
    const native = readDicom(bytes);
    const cells = [];
    for (const syntax of [Syntax.Jpeg2000Lossless, Syntax.HtJpeg2000Lossless]) {
      const file = withFrame(ct, frame, { syntax, codestream: await encodeWith(syntax, native) });
      const px = await openPixelData(file);
      const d = await timeIt(() => px.decodeFrame(0), size >= 2048 ? Math.max(3, n >> 2) : n, size >= 2048 ? 1 : WARMUP);
      cells.push(`${ms(d.cpu)} | ${((d.cpu * 1000) / (size * size)).toFixed(3)}`);
    }
    print(`| ${size}² | ${ms(scan.wall)} | ${ms(scan.cpu)} | ${((scan.cpu * 1000) / (size * size)).toFixed(3)} | ${scan.result} | ${cells.join(' | ')} |`);
  }
  print();
  print(`Lines of text on the 512² CT frame (drawn as above): \`PixelCleaner.clean\`, median of ${Math.max(3, Math.round(REPEATS / 4))} runs after 1 warm-up.`);
  print();
  print('| lines | findings | clean wall (ms) | clean CPU (ms) | ms per line (wall) | target |');
  print('| ---: | ---: | ---: | ---: | ---: | --- |');
  for (const lines of [0, 1, 2, 4, 8, 16]) {
    const file = withFrame(ct, lines ? drawText(ctFrame, lines) : ctFrame);
    const clean = await timeIt(() => cleanCount(file), Math.max(3, Math.round(REPEATS / 4)), 1);
    print(`| ${lines} | ${clean.result} | ${ms(clean.wall)} | ${ms(clean.cpu)} | ${lines ? ms(clean.wall / lines) : '—'} | ${clean.wall <= TARGET_TEXT_MS ? 'met' : '**missed**'} |`);
  }
  print();
  print(`Load average now: ${load()}.`);
  print();
}

await detector.close();
await cleaner.close();
await cleanerAllCores.close();

// ---------------------------------------------------------------------------------------------
// 4. Whole folders through the CLI

if (ONLY.has('folder')) {
  const uid = (kind, i, j) => `2.25.${BigInt(1e9) * BigInt(kind * 1000 + i) + BigInt(j) + 77000000000000n}`;
  /** Copies of each template with their own SOP Instance UID (the run would skip duplicates). */
  const build = (name, templates, copies = COPIES) => {
    const folder = path.join(WORK, name);
    rmSync(folder, { recursive: true, force: true });
    let frames = 0;
    templates.forEach((t, k) => {
      const file = t.file ?? readDicom(readCorpus(t.rel));
      const dir = path.join(folder, `t${k}`);
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < copies; i++) {
        const dataset = new Map(file.dataset);
        const id = uid(k + 1, i, name.length);
        dataset.set(Tags.SOPInstanceUID, ui(Tags.SOPInstanceUID, id));
        const meta = new Map(file.meta);
        meta.set(Tags.MediaStorageSOPInstanceUID, ui(Tags.MediaStorageSOPInstanceUID, id));
        writeFileSync(path.join(dir, `${i}.dcm`), encodeDicomToBuffer({ meta, dataset, transferSyntax: file.transferSyntax }));
        frames += t.frames;
      }
    });
    return { folder, frames, files: templates.length * copies };
  };
  const ctText = withFrame(ct, drawText(ctFrame, 4));
  const textFree = build('folder-text-free', [
    { rel: 'dicomParser/CT1_UNC.implicit_little_endian.dcm', frames: 1 },
    { rel: 'dicomParser/encapsulated__single-frame__CT1_UNC.fragmented_bot_jpeg_ls.80.dcm', frames: 1 },
    { rel: 'dicomParser/encapsulated__multi-frame__CT0012.not_fragmented_bot_rle.dcm', frames: 2 },
    { rel: 'pydicom-data/explicit_VR-UN.dcm', frames: 1 },
    { rel: 'pydicom/693_J2KI.dcm', frames: 1 },
    { rel: 'pydicom-data/eCT_Supplemental.dcm', frames: 2 },
  ]);
  // The derived JPEG 2000 lossless CT: explicit_VR-UN has candidate lines the OCR reads as words, so it measures cleaning, not a text-free frame.
  const derivedJ2k = (await textFreeCases()).find((c) => c.derive === Syntax.Jpeg2000Lossless).file;
  const j2k = build('folder-j2k-lossless', [{ file: readDicom(readFileSync(derivedJ2k)), frames: 1 }]);
  // Five times as many files: the difference of the two runs is the time per frame once running.
  const j2kMore = build('folder-j2k-lossless-more', [{ file: readDicom(readFileSync(derivedJ2k)), frames: 1 }], COPIES * 5);
  const mixed = build('folder-mixed', [
    { rel: 'dicomParser/CT1_UNC.implicit_little_endian.dcm', frames: 1 },
    { rel: 'pydicom-data/explicit_VR-UN.dcm', frames: 1 },
    { file: ctText, frames: 1 },
    { rel: 'deid-data/ultrasounds__RGB_IMAGE.dcm', frames: 1 },
    { rel: 'presidio/2_ORIGINAL.dcm', frames: 1 },
  ]);
  const startup = build('folder-start-up', [{ rel: 'dicomParser/CT1_UNC.implicit_little_endian.dcm', frames: 1 }], 1);
  const runs = [
    { label: 'start-up: one text-free native CT file', set: startup, workers: os.availableParallelism(), pixels: true, startup: true },
    { label: 'the same, 1 worker thread', set: startup, workers: 1, pixels: true, startup: true },
    { label: 'text-free CT (native, JPEG-LS, RLE, J2K lossless and lossy, enhanced CT)', set: textFree, workers: os.availableParallelism(), pixels: true },
    { label: 'the same, 1 worker thread', set: textFree, workers: 1, pixels: true },
    { label: 'the same, headers only (no --clean-pixels)', set: textFree, workers: os.availableParallelism(), pixels: false },
    { label: 'JPEG 2000 lossless 512² CT only (CT1_UNC encoded by radanon, text-free)', set: j2k, workers: os.availableParallelism(), pixels: true },
    { label: 'the same, 1 worker thread', set: j2k, workers: 1, pixels: true },
    { label: 'the same, five times the files (steady state: the difference to the run above, per extra frame)', set: j2kMore, workers: os.availableParallelism(), pixels: true, against: j2k },
    { label: 'mixed: 2 text-free CT, CT with 4 lines, US 1024×768 and presidio CT with text', set: mixed, workers: os.availableParallelism(), pixels: true },
  ];
  print('### Whole folders: `radanon deid --clean-pixels`');
  print();
  print(`\`node dist/cli/main.js deid <folder> <out> --ephemeral-secret --clean-pixels --workers <n>\` under \`/usr/bin/time\`: the whole command (start, worker threads loading the codecs, OCR engine and OpenCV, header de-identification, pixels, writing, report). ${COPIES} copies of each file, each with its own SOP Instance UID; frames as the run's report counts them. Frames/s = frames ÷ wall; CPU ms per frame = (user + system) ÷ frames, so it includes the start-up of every worker; **marginal wall ms per frame** = (wall − the start-up run's wall with as many workers) ÷ frames: the time per frame in a batch once the engines are loaded.`);
  print();
  print('| folder | workers | files | frames | wall (s) | frames/s | CPU (s) | CPU ms per frame | wall ms per frame | marginal wall ms per frame | peak RSS (MB) | outcome |');
  print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  const startWall = new Map();
  /** Wall time of each folder's run with all cores, for the steady-state row. */
  const setWall = new Map();
  for (const r of runs) {
    const target = path.join(WORK, 'out');
    rmSync(target, { recursive: true, force: true });
    rmSync(`${target}.run`, { recursive: true, force: true });
    const args = [path.join(ROOT, 'dist', 'cli', 'main.js'), 'deid', r.set.folder, target, '--ephemeral-secret', '--workers', String(r.workers), '--json', ...(r.pixels ? ['--clean-pixels'] : [])];
    const p = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S %M', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(p.stderr ?? '');
    let outcome = `exit ${p.status}`;
    let frames = r.set.frames;
    try {
      const report = JSON.parse(readFileSync(path.join(`${target}.run`, 'report.json'), 'utf8'));
      const c = report.counts ?? {};
      outcome = `exit ${p.status}: ${c.done ?? '?'} done, ${c.failed ?? 0} failed, ${c.skipped ?? 0} skipped${report.pixels ? `; ${report.pixels.cleanedFrames} frames cleaned, ${report.pixels.findings} findings` : ''}`;
      if (report.pixels?.frames) frames = report.pixels.frames;
    } catch {
      outcome += ' (no report.json)';
    }
    if (!m) {
      print(`| ${r.label} | ${r.workers} | ${r.set.files} | ${frames} | — | — | — | — | — | — | — | ${outcome}: ${(p.stderr ?? '').split('\n').slice(-3).join(' ').slice(0, 160)} |`);
      continue;
    }
    const wall = Number(m[1]);
    const cpu = Number(m[2]) + Number(m[3]);
    if (r.startup) startWall.set(r.workers, wall);
    if (r.workers === os.availableParallelism()) setWall.set(r.set, { wall, frames });
    const base = startWall.get(r.workers);
    const against = r.against ? setWall.get(r.against) : undefined;
    const marginal = against ? `**${ms(((wall - against.wall) * 1000) / (frames - against.frames))}**` : !r.startup && r.pixels && base !== undefined ? ms(((wall - base) * 1000) / frames) : '—';
    print(`| ${r.label} | ${r.workers} | ${r.set.files} | ${frames} | ${wall.toFixed(1)} | ${(frames / wall).toFixed(1)} | ${cpu.toFixed(1)} | ${ms((cpu * 1000) / frames)} | ${ms((wall * 1000) / frames)} | ${marginal} | ${(Number(m[4]) / 1024).toFixed(0)} | ${outcome} |`);
  }
  rmSync(path.join(WORK, 'out'), { recursive: true, force: true });
  rmSync(path.join(WORK, 'out.run'), { recursive: true, force: true });
  print();
}

print(`Whole bench: ${((performance.now() - started) / 1000).toFixed(0)} s; load average at the end: ${load()}.`);
if (process.env.RADANON_BENCH_OUT) writeFileSync(process.env.RADANON_BENCH_OUT, out.join('\n') + '\n');
// tesseract.js and OpenCV keep handles open after close on some versions: end explicitly.
process.exit(0);
