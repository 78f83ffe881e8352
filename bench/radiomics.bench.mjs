#!/usr/bin/env node
/**
 * npm run bench:radiomics — time and peak memory of the full IBSI feature set on the IBSI CT
 * phantom (read in place from the shared data folder: its licence forbids copying it) for
 * configurations A–E, per family, and how time grows with the size of the ROI.
 *
 * Each measurement runs in a child process so its peak resident memory is its own.
 * RADANON_SHARED_DATA overrides the data folder (default ../shared/data beside the repository).
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const shared = process.env.RADANON_SHARED_DATA ?? path.resolve(root, '../shared/data');
const ct = path.join(shared, 'ibsi', 'ct_phantom', 'nifti');
const { computeFeatures, loadImage, loadMask, RADIOMICS_PRESETS: PRESETS } = await import(path.join(root, 'dist', 'index.js'));

const REPEATS = 3;

async function measure(preset, maskMode) {
  const image = await loadImage(path.join(ct, 'phantom.nii.gz'));
  let mask = await loadMask(path.join(ct, 'mask.nii.gz'), image.grid);
  if (maskMode?.startsWith('sphere:')) mask = sphereMask(image.grid, mask, Number(maskMode.slice(7)));
  const times = [];
  let result;
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    result = computeFeatures(image, mask, PRESETS[preset]);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return {
    preset,
    maskMode: maskMode ?? 'GTV',
    ms: times[Math.floor(REPEATS / 2)],
    features: result.features.length,
    voxels: result.voxels,
    greyLevels: result.greyLevels,
    timings: result.timings,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

/** A ball of `radius` mm around the ROI's centre of mass: ROIs of growing size on the same image. */
function sphereMask(grid, roi, radius) {
  const [nx, ny, nz] = grid.dims;
  const [sx, sy, sz] = grid.spacing;
  let ci = 0, cj = 0, ck = 0, n = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    if (roi.data[i + nx * (j + ny * k)]) { ci += i; cj += j; ck += k; n++; }
  }
  ci /= n; cj /= n; ck /= n;
  const data = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    const d2 = ((i - ci) * sx) ** 2 + ((j - cj) * sy) ** 2 + ((k - ck) * sz) ** 2;
    if (d2 <= radius * radius) data[i + nx * (j + ny * k)] = 1;
  }
  return { grid: roi.grid, data };
}

if (process.argv[2] === '--child') {
  const result = await measure(process.argv[3], process.argv[4]);
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}

function child(preset, maskMode) {
  const args = [fileURLToPath(import.meta.url), '--child', preset, ...(maskMode ? [maskMode] : [])];
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 }));
}

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
console.log(`radanon features benchmark — commit ${commit}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}`);
console.log(`median of ${REPEATS} runs per row; peak RSS of the measuring process\n`);
console.log('| configuration | ROI voxels (morph / intensity) | grey levels | features | time (ms) | peak RSS (MB) | slowest stages (ms) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
for (const preset of ['ibsi-A', 'ibsi-B', 'ibsi-C', 'ibsi-D', 'ibsi-E']) {
  const r = child(preset);
  const slow = Object.entries(r.timings).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ');
  console.log(`| ${preset} | ${r.voxels.morphological} / ${r.voxels.intensity} | ${r.greyLevels} | ${r.features} | ${Math.round(r.ms)} | ${Math.round(r.maxRssMb)} | ${slow} |`);
}
console.log('\nGrowth with ROI size (configuration C settings, balls of growing radius on the same CT image):\n');
console.log('| ball radius (mm) | ROI voxels after resampling | time (ms) | ms per 1000 voxels | peak RSS (MB) | slowest stages (ms) |');
console.log('| ---: | ---: | ---: | ---: | ---: | --- |');
for (const radius of [10, 20, 30, 40, 50]) {
  const r = child('ibsi-C', `sphere:${radius}`);
  const slow = Object.entries(r.timings).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ');
  console.log(`| ${radius} | ${r.voxels.morphological} | ${Math.round(r.ms)} | ${(r.ms / (r.voxels.morphological / 1000)).toFixed(2)} | ${Math.round(r.maxRssMb)} | ${slow} |`);
}
