/**
 * `radanon features` as users run it: the compiled program on the IBSI digital phantom.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readNifti, writeNifti } from '../../../src/volume/nifti.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const main = path.join(root, 'dist', 'cli', 'main.js');
const phantom = path.join(root, 'test', 'fixtures', 'ibsi', 'phantom.nii.gz');
const mask = path.join(root, 'test', 'fixtures', 'ibsi', 'mask.nii.gz');

async function radanon(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [main, ...args], { maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

let tmp = '';
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'radanon-features-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Splits CSV lines; aggregations such as "3D, merged" are quoted. */
function rows(csv: string): string[][] {
  return csv.trim().split('\n').map((line) => {
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    for (const c of line) {
      if (c === '"') quoted = !quoted;
      else if (c === ',' && !quoted) {
        fields.push(field);
        field = '';
      } else field += c;
    }
    fields.push(field);
    return fields;
  });
}

describe('radanon features', () => {
  test('prints one CSV row per feature, named as IBSI names them', async () => {
    const r = await radanon('features', phantom, mask, '--settings', 'ibsi-phantom');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [header, ...body] = rows(r.stdout);
    expect(header).toEqual(['family', 'feature', 'ibsi_code', 'aggregation', 'value']);
    // The phantom's reference values: volume (mesh) 556 mm³, 3-D merged GLCM joint maximum 0.509.
    const volume = body.find((x) => x[2] === 'RNU0');
    expect(volume?.slice(0, 4)).toEqual(['Morphological features', 'Volume (mesh)', 'RNU0', '']);
    expect(Number(volume?.[4])).toBeCloseTo(556.3, 0);
    const jointMax = body.find((x) => x[2] === 'GYBY' && x[3] === '3D, merged');
    expect(Number(jointMax?.[4]).toPrecision(3)).toBe('0.509');
    // All 169 IBSI features of the reference table (three codes are shared by two features each),
    // the texture ones in each of their aggregations.
    expect(new Set(body.map((x) => `${x[1]}|${x[2]}`)).size).toBe(169);
    expect(body.length).toBe(482);
  });

  test('--format json, --families and --out', async () => {
    const out = path.join(tmp, 'stat.json');
    const r = await radanon('features', phantom, mask, '--settings', 'ibsi-phantom', '--families', 'stat,ih', '--format', 'json', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const features = JSON.parse(fs.readFileSync(out, 'utf8')) as { familyShort: string; feature: string; value: number | null }[];
    expect(new Set(features.map((f) => f.familyShort))).toEqual(new Set(['stat', 'ih']));
    expect(features.find((f) => f.feature === 'Mean intensity')?.value).toBeCloseTo(2.15, 2);
  });

  test('--compare reports what changed and by how much, and exits 1', async () => {
    const before = path.join(tmp, 'before.csv');
    const after = path.join(tmp, 'after.csv');
    await radanon('features', phantom, mask, '--settings', 'ibsi-phantom', '--families', 'stat', '--out', before);
    // The same image with one voxel of the ROI changed: the statistics move.
    const image = await readNifti(phantom);
    const data = Float64Array.from(image.data);
    const m = await readNifti(mask);
    const inside = Array.from(m.data).findIndex((v) => v > 0);
    data[inside] = data[inside]! + 1;
    const changed = path.join(tmp, 'changed.nii.gz');
    await writeNifti(changed, { grid: image.grid, data });
    await radanon('features', changed, mask, '--settings', 'ibsi-phantom', '--families', 'stat', '--out', after);

    const same = await radanon('features', '--compare', before, before);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/^18 features compared, 0 changed/);

    const diff = await radanon('features', '--compare', before, after, '--json');
    expect(diff.code).toBe(1);
    const report = JSON.parse(diff.stdout) as { changed: { code: string; before: number; after: number; difference: number }[] };
    const mean = report.changed.find((c) => c.code === 'Q4LE');
    // One voxel of 74 up by 1: the mean moves by 1/74.
    expect(mean?.difference).toBeCloseTo(1 / 74, 10);
    const tolerant = await radanon('features', '--compare', before, after, '--absolute', '1');
    // The mean moved by 1/74: within an absolute tolerance of 1, unlike the energy.
    expect(tolerant.stdout).not.toMatch(/Q4LE/);
    expect(tolerant.stdout).toMatch(/N8CA/);
  });

  test('bad input: a clear error naming the problem, exit 2', async () => {
    const image = await readNifti(phantom);
    const emptyMask = path.join(tmp, 'empty.nii.gz');
    await writeNifti(emptyMask, { grid: image.grid, data: new Uint8Array(image.data.length) });
    const empty = await radanon('features', phantom, emptyMask, '--settings', 'ibsi-phantom');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/empty/);
    expect(empty.stderr).toContain('empty.nii.gz');

    const shifted = path.join(tmp, 'shifted.nii.gz');
    await writeNifti(shifted, { grid: { ...image.grid, origin: [5, 0, 0] }, data: (await readNifti(mask)).data });
    const geometry = await radanon('features', phantom, shifted, '--settings', 'ibsi-phantom');
    expect(geometry.code).toBe(2);
    expect(geometry.stderr).toContain('shifted.nii.gz');
    expect(geometry.stderr).toContain('phantom.nii.gz');

    const nan = path.join(tmp, 'nan.nii.gz');
    const withNan = Float32Array.from(image.data);
    const inside = Array.from((await readNifti(mask)).data).findIndex((v) => v > 0);
    withNan[inside] = Number.NaN;
    await writeNifti(nan, { grid: image.grid, data: withNan });
    const bad = await radanon('features', nan, mask, '--settings', 'ibsi-phantom');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/NaN|not finite|non-finite/i);

    const settings = path.join(tmp, 'settings.yaml');
    fs.writeFileSync(settings, 'extends: ibsi-C\ndiscretisation: {method: FBN, bins: 0}\n');
    const wrong = await radanon('features', phantom, mask, '--settings', settings);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('settings.yaml:2');
  });
});
