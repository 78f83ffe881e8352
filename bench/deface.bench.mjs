#!/usr/bin/env node
/**
 * npm run bench:deface — wall time and peak memory of `radanon deface` (registration, face
 * removal, the face check with its renders and face detector, writing) per head, at about 1 mm
 * (the real heads and the MNI152 1 mm template) and 2 mm (avg152 and a real head resampled to
 * 2 mm). Target: under 20 s and 1.5 GB per 1 mm head.
 *
 * Each head runs in a child process, so its peak resident memory is its own; the child runs the
 * library's runDeface exactly as the command does. The heads are read in place from the shared
 * data folder (RADANON_SHARED_DATA overrides it; default ../shared/data beside the repository).
 * Options: --template <avg152-2mm|mni152-1mm> for every head (mni152-1mm is read from the shared
 * templates folder); --only <name substring>.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const shared = process.env.RADANON_SHARED_DATA ?? path.resolve(root, '../shared/data');
const deface = path.join(shared, 'deface');
const dist = (p) => path.join(root, 'dist', p);

const TARGET_SECONDS = 20;
const TARGET_MB = 1536;

/** Runs one head in this process (the child) and prints what it measured as JSON. */
async function child(input, template) {
  const { runDeface } = await import(dist('volume/deface/run.js'));
  const work = mkdtempSync(path.join(os.tmpdir(), 'radanon-deface-bench-'));
  try {
    const started = performance.now();
    let source = input;
    if (input.startsWith('resample2mm:')) source = await resampledCopy(input.slice('resample2mm:'.length), 2, work);
    const prepareMs = performance.now() - started;
    const t = performance.now();
    // The 1 mm template is not shipped: it is read from the shared data folder.
    const options = template ? { template, ...(template === 'mni152-1mm' ? { templateDir: path.join(deface, 'templates') } : {}) } : {};
    const report = await runDeface(source, path.join(work, 'defaced.nii.gz'), options);
    const ms = performance.now() - t;
    process.stdout.write(
      JSON.stringify({
        ms,
        prepareMs,
        maxRssMb: process.resourceUsage().maxRSS / 1024,
        status: report.status,
        failures: report.failures,
        dims: report.image.dims,
        spacing: report.image.spacing,
        template: report.settings.template,
        timings: report.timings,
        metrics: report.metrics,
        faceCheck: report.faceCheck.passed,
      }),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A copy of a head resampled to `spacing` mm along its own axes (trilinear), as a NIfTI file. */
async function resampledCopy(file, spacing, folder) {
  const { readNifti, writeNifti } = await import(dist('volume/nifti.js'));
  const v = await readNifti(file);
  const [nx, ny, nz] = v.grid.dims;
  const [sx, sy, sz] = v.grid.spacing;
  const dims = [Math.floor(((nx - 1) * sx) / spacing) + 1, Math.floor(((ny - 1) * sy) / spacing) + 1, Math.floor(((nz - 1) * sz) / spacing) + 1];
  const out = new Float32Array(dims[0] * dims[1] * dims[2]);
  const at = (i, j, k) => v.data[i + nx * (j + ny * k)];
  for (let k = 0; k < dims[2]; k++) {
    const z = Math.min((k * spacing) / sz, nz - 1), k0 = Math.min(Math.floor(z), nz - 2), fz = z - k0;
    for (let j = 0; j < dims[1]; j++) {
      const y = Math.min((j * spacing) / sy, ny - 1), j0 = Math.min(Math.floor(y), ny - 2), fy = y - j0;
      for (let i = 0; i < dims[0]; i++) {
        const x = Math.min((i * spacing) / sx, nx - 1), i0 = Math.min(Math.floor(x), nx - 2), fx = x - i0;
        const c00 = at(i0, j0, k0) * (1 - fx) + at(i0 + 1, j0, k0) * fx;
        const c10 = at(i0, j0 + 1, k0) * (1 - fx) + at(i0 + 1, j0 + 1, k0) * fx;
        const c01 = at(i0, j0, k0 + 1) * (1 - fx) + at(i0 + 1, j0, k0 + 1) * fx;
        const c11 = at(i0, j0 + 1, k0 + 1) * (1 - fx) + at(i0 + 1, j0 + 1, k0 + 1) * fx;
        out[i + dims[0] * (j + dims[1] * k)] = (c00 * (1 - fy) + c10 * fy) * (1 - fz) + (c01 * (1 - fy) + c11 * fy) * fz;
      }
    }
  }
  const target = path.join(folder, `resampled-${spacing}mm.nii.gz`);
  await writeNifti(target, { grid: { ...v.grid, dims, spacing: [spacing, spacing, spacing] }, data: out });
  return target;
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4] || undefined);
  process.exit(0);
}

const args = process.argv.slice(2);
const option = (name) => {
  const n = args.indexOf(name);
  return n >= 0 ? args[n + 1] : undefined;
};
const template = option('--template');
const only = option('--only');

const HEADS = [
  { name: 'chris_t1 (real, 0.88 mm)', input: path.join(deface, 'heads', 'chris_t1.nii.gz'), resolution: '1 mm' },
  { name: 't1_crop (real, 1 mm)', input: path.join(deface, 'heads', 't1_crop.nii.gz'), resolution: '1 mm' },
  { name: 'MNI152_T1_1mm (template)', input: path.join(deface, 'templates', 'MNI152_T1_1mm.nii.gz'), resolution: '1 mm' },
  { name: 'avg152T1 (template, 2 mm)', input: path.join(deface, 'templates', 'avg152T1.nii.gz'), resolution: '2 mm' },
  { name: 'chris_t1 resampled to 2 mm', input: `resample2mm:${path.join(deface, 'heads', 'chris_t1.nii.gz')}`, resolution: '2 mm' },
].filter((h) => only === undefined || h.name.includes(only));

function measure(head) {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', head.input, template ?? ''], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out);
}

let commit = '?';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {
  // not a checkout: the commit stays unknown
}
console.log(`radanon deface benchmark — commit ${commit}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}`);
console.log(`one child process per head; wall time of runDeface (read, register and remove, face check, write .nii.gz); peak RSS of the child`);
console.log(`target at 1 mm: under ${TARGET_SECONDS} s and ${(TARGET_MB / 1024).toFixed(1)} GB\n`);
console.log('| head | grid | template | result | face removed | brain voxels altered | read (s) | deface (s) | face check (s) | write (s) | total (s) | peak RSS (MB) | target |');
console.log('| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
const s = (ms) => (ms / 1000).toFixed(1);
let missed = 0;
for (const head of HEADS) {
  let r;
  try {
    r = measure(head);
  } catch (e) {
    console.log(`| ${head.name} | | | error: ${String(e.message).split('\n')[0]} | | | | | | | | | |`);
    missed++;
    continue;
  }
  const met = head.resolution !== '1 mm' || (r.ms / 1000 < TARGET_SECONDS && r.maxRssMb < TARGET_MB);
  if (!met) missed++;
  const grid = `${r.dims.join('×')} @ ${r.spacing.map((x) => Number(x.toFixed(2))).join('×')} mm`;
  console.log(
    `| ${head.name} | ${grid} | ${r.template} | ${r.status}${r.status === 'failed' ? ` (${r.failures.join('; ')})` : ''} | ${(r.metrics.faceRemovedFraction * 100).toFixed(1)}% | ${r.metrics.brainVoxelsAltered} | ${s(r.timings.readMs)} | ${s(r.timings.defaceMs)} | ${s(r.timings.checkMs)} | ${s(r.timings.writeMs)} | ${s(r.ms)} | ${r.maxRssMb.toFixed(0)} | ${head.resolution === '1 mm' ? (met ? 'met' : 'missed') : '—'} |`,
  );
}
process.exitCode = missed > 0 ? 1 : 0;
