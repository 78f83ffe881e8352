/**
 * Defacing CT heads, on pseudo-CT heads: synthetic CT-like volumes made from the real T1 heads
 * (support/pseudo-ct.ts: air −1000 HU, soft tissue, fat, brain, CSF, a bone band between scalp
 * and brain, −3024 padding outside a circular reconstruction field, Int16 Hounsfield units). They
 * prove the CT path — intensities, the background written into the face, registration and the
 * similarity check across modalities, the renders' skin threshold, face detection on the skin
 * surface, the DICOM CT series round trip — not CT anatomy.
 *
 * Also here: the MNI152 1 mm template (read from ../shared) registered to both T1 heads through
 * the whole run, face check included, and the single CT slice of the corpus (a colour secondary capture) refused.
 *
 * The command runs from dist/ (built by the global setup), as users run it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asciiValue } from '../../src/dicom/dataset.js';
import { readDicom } from '../../src/dicom/reader.js';
import { tag } from '../../src/dicom/tag.js';
import { DefaceError, defaceVolume, DEFAULT_MIN_SIMILARITY } from '../../src/volume/deface/deface.js';
import { applyAffine } from '../../src/volume/deface/register.js';
import type { DefaceRunReport } from '../../src/volume/deface/run.js';
import { readDicomSeries, type DicomSeriesVolume } from '../../src/volume/dicom-series.js';
import { gridDifference, indexToWorld } from '../../src/volume/geometry.js';
import { readNifti, writeNifti } from '../../src/volume/nifti.js';
import type { Mask, Vec3, Volume } from '../../src/volume/volume.js';
import { repoRoot, sharedDataDir } from './helpers.js';
import { AIR_HU, CT_IMAGE_STORAGE, PADDING_HU, pseudoCtFromT1, writeCtSeries } from './support/pseudo-ct.js';

const CLI = path.join(repoRoot, 'dist', 'cli', 'main.js');
const RUN_TIMEOUT = 900_000;
const HEADS = path.join(sharedDataDir, 'deface', 'heads');
const TEMPLATES = path.join(sharedDataDir, 'deface', 'templates');
const CT_SLICE = path.join(sharedDataDir, 'dicom', 'deid-data', 'humans__ctbrain1.dcm');

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'radanon-deface-ct-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function radanon(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: RUN_TIMEOUT - 60_000, maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The largest distance, over the corners of the mask's bounding box, between two transforms' images of them (mm). */
function transformGap(mask: Mask, a: Parameters<typeof applyAffine>[0], b: Parameters<typeof applyAffine>[0]): number {
  const [nx, ny] = mask.grid.dims;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (let n = 0; n < mask.data.length; n++) {
    if (!mask.data[n]) continue;
    const index = [n % nx, Math.floor(n / nx) % ny, Math.floor(n / (nx * ny))];
    for (let c = 0; c < 3; c++) {
      lo[c] = Math.min(lo[c]!, index[c]!);
      hi[c] = Math.max(hi[c]!, index[c]!);
    }
  }
  let gap = 0;
  for (const i of [lo[0]!, hi[0]!]) {
    for (const j of [lo[1]!, hi[1]!]) {
      for (const k of [lo[2]!, hi[2]!]) {
        const p: Vec3 = indexToWorld(mask.grid, i, j, k);
        const x = applyAffine(a, p);
        const y = applyAffine(b, p);
        gap = Math.max(gap, Math.hypot(x[0] - y[0], x[1] - y[1], x[2] - y[2]));
      }
    }
  }
  return gap;
}

/** Voxel counts of a defaced pseudo-CT against its original, over the method's face and brain masks. */
function voxelFacts(original: Volume, defaced: Volume, face: Mask, brain: Mask) {
  let faceVoxels = 0;
  let faceAir = 0;
  let facePadding = 0;
  let brainVoxels = 0;
  let brainAltered = 0;
  let changedOutsideFace = 0;
  let paddingBefore = 0;
  let paddingAfter = 0;
  for (let n = 0; n < original.data.length; n++) {
    const before = original.data[n]!;
    const after = defaced.data[n]!;
    if (before === PADDING_HU) paddingBefore++;
    if (after === PADDING_HU) paddingAfter++;
    if (face.data[n]) {
      faceVoxels++;
      if (after === AIR_HU) faceAir++;
      if (after === PADDING_HU) facePadding++;
    } else if (after !== before) {
      changedOutsideFace++;
    }
    if (brain.data[n]) {
      brainVoxels++;
      if (after !== before) brainAltered++;
    }
  }
  return { faceVoxels, faceAir, facePadding, brainVoxels, brainAltered, changedOutsideFace, paddingBefore, paddingAfter };
}

const lines: string[] = [];
afterAll(() => console.log(['defacing CT (pseudo-CT heads, synthetic) and the MNI152 1 mm template:', ...lines].join('\n')));

describe('pseudo-CT heads (synthetic, made from the real T1 heads) as NIfTI', () => {
  for (const head of ['chris_t1', 't1_crop']) {
    it(
      `${head}: defaced to −1000 HU air, brain untouched, face detected before and not after`,
      async () => {
        const t1 = await readNifti(path.join(HEADS, `${head}.nii.gz`));
        const onT1 = await defaceVolume(t1, {});
        const ct = pseudoCtFromT1(t1, onT1.brainMask);
        const input = path.join(work, `${head}_pseudo_ct.nii.gz`);
        await writeNifti(input, ct, { description: 'pseudo-CT (synthetic) from a T1 head' });
        const inputBytes = readFileSync(input);

        // The registration of the pseudo-CT lands where the T1's did: it is the same head.
        const direct = await defaceVolume(ct, {});
        expect(direct.intensity).toBe('ct');
        expect(direct.background).toBe(AIR_HU);
        expect(transformGap(direct.faceMask, direct.transform, onT1.transform)).toBeLessThan(4);
        const { faceMask, brainMask } = direct;

        // The whole run, face check included, as users run it.
        const output = path.join(work, 'nifti', `${head}_pseudo_ct_defaced.nii.gz`);
        const r = radanon('deface', input, output, '--preview', path.join(work, 'previews', head), '--json');
        expect(r.code, r.stderr).toBe(0);
        const report = JSON.parse(r.stdout) as DefaceRunReport;
        const m = report.metrics;
        lines.push(
          `  ${head} pseudo-CT (NIfTI): similarity ${m.registration.similarity.toFixed(3)} (T1: ${onT1.metrics.registration.similarity.toFixed(3)}), ` +
            `${(100 * m.faceRemovedFraction).toFixed(2)}% of ${m.faceRegionVoxels} face voxels removed, ${m.brainVoxelsAltered} brain voxels altered, ` +
            `skin threshold ${report.faceCheck.skinThreshold.toFixed(0)} HU, frontal score ${report.faceCheck.views[0]!.before.score.toFixed(2)} → ${report.faceCheck.views[0]!.after.score.toFixed(2)}, ${report.seconds} s`,
        );
        expect(report.failures).toEqual([]);
        expect(report.status).toBe('passed');
        expect(report.written).toBe(true);
        expect(m.registration.similarity).toBeGreaterThanOrEqual(DEFAULT_MIN_SIMILARITY);
        expect(m.faceRemovedFraction).toBeGreaterThanOrEqual(0.95);
        expect(m.brainVoxelsAltered).toBe(0);
        expect(m.brainDice).toBe(1);
        // Air, not the padding: the report and the voxels say so.
        expect(report.background).toBe(AIR_HU);
        // The skin is found between air and soft tissue, not between padding and air or at bone.
        expect(report.faceCheck.skinThreshold).toBeGreaterThan(-900);
        expect(report.faceCheck.skinThreshold).toBeLessThan(-50);
        for (const v of report.faceCheck.views) expect(v.after.detected).toBe(false);
        expect(report.faceCheck.views.find((v) => v.azimuth === 0)!.before.detected).toBe(true);

        const defaced = await readNifti(output);
        expect(gridDifference(ct.grid, defaced.grid)).toBeUndefined();
        expect(defaced.data).toBeInstanceOf(Int16Array);
        const facts = voxelFacts(ct, defaced, faceMask, brainMask);
        expect(facts.faceVoxels).toBeGreaterThan(10_000);
        expect(facts.faceAir).toBe(facts.faceVoxels);
        expect(facts.facePadding).toBe(0);
        expect(facts.brainVoxels).toBeGreaterThan(500_000);
        expect(facts.brainAltered).toBe(0);
        expect(facts.changedOutsideFace).toBe(0);
        // The padding outside the reconstruction circle is where it was, except where the face
        // region reached into it (nothing but voxels of the face region changed, see above).
        expect(facts.paddingBefore).toBeGreaterThan(10_000);
        expect(facts.paddingAfter).toBeGreaterThan(0);
        // The brain carried from the T1's own registration is untouched too.
        expect(voxelFacts(ct, defaced, faceMask, onT1.brainMask).brainAltered).toBe(0);
        // The input file is untouched.
        expect(readFileSync(input).equals(inputBytes)).toBe(true);
      },
      RUN_TIMEOUT,
    );
  }

  it(
    'refuses a pseudo-CT head turned back to front: the template explains too little of it',
    async () => {
      const t1 = await readNifti(path.join(HEADS, 't1_crop.nii.gz'));
      const ct = pseudoCtFromT1(t1, (await defaceVolume(t1, {})).brainMask);
      // t1_crop's k axis runs anterior → posterior: reversing it puts the face at the back.
      const [nx, ny, nz] = ct.grid.dims;
      const slice = nx * ny;
      const turned = new Int16Array(ct.data.length);
      for (let k = 0; k < nz; k++) turned.set(ct.data.subarray((nz - 1 - k) * slice, (nz - k) * slice), k * slice);
      // Caught here rather than with rejects.toThrow: a result, if one came back, is too large to print.
      let message = 'defaced: not refused';
      try {
        await defaceVolume({ grid: ct.grid, data: turned }, { file: 'turned.nii.gz' });
      } catch (e) {
        message = e instanceof DefaceError ? e.message : `not a DefaceError: ${String(e)}`;
      }
      lines.push(`  t1_crop pseudo-CT turned back to front: ${message}`);
      expect(message).toMatch(/^turned\.nii\.gz: registration did not converge or this is not a head/);
    },
    RUN_TIMEOUT,
  );
});

describe('a pseudo-CT head as a DICOM CT series (CT Image Storage, signed, Rescale Intercept −1024)', () => {
  it(
    'radanon deface writes a CT series with identical geometry, the face at −1000 HU and the brain untouched',
    async () => {
      const t1 = await readNifti(path.join(HEADS, 'chris_t1.nii.gz'));
      const onT1 = await defaceVolume(t1, {});
      const ct = pseudoCtFromT1(t1, onT1.brainMask);
      const inputDir = path.join(work, 'ct-series');
      const input: DicomSeriesVolume = await writeCtSeries(ct, inputDir);
      expect(gridDifference(ct.grid, input.grid)).toBeUndefined();
      expect(input.data).toBeInstanceOf(Int16Array);
      let same = 0;
      for (let n = 0; n < ct.data.length; n++) if (input.data[n] === ct.data[n]) same++;
      expect(same).toBe(ct.data.length);
      const first = readDicom(readFileSync(path.join(inputDir, readdirSync(inputDir).sort()[0]!))).dataset;
      expect(asciiValue(first.get(tag(0x0028, 0x1052)))).toBe('-1024');
      const signed = first.get(tag(0x0028, 0x0103));
      expect(signed?.kind === 'value' ? signed.bytes[0] : undefined).toBe(1);

      const secret = path.join(work, 'secret.key');
      writeFileSync(secret, 'conformance-deface-ct-secret-0123456789\n');
      const output = path.join(work, 'ct-defaced');
      const r = radanon('deface', inputDir, output, '--secret-file', secret, '--json');
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as DefaceRunReport;
      lines.push(
        `  chris_t1 pseudo-CT (DICOM CT series, ${readdirSync(inputDir).length} files): similarity ${report.metrics.registration.similarity.toFixed(3)}, ` +
          `${(100 * report.metrics.faceRemovedFraction).toFixed(2)}% removed, ${report.metrics.brainVoxelsAltered} brain voxels altered, ${report.dicom?.clampedVoxels} values clamped, ${report.seconds} s`,
      );
      expect(report.status).toBe('passed');
      expect(report.format).toBe('dicom');
      expect(report.background).toBe(AIR_HU);
      expect(report.metrics.faceRemovedFraction).toBeGreaterThanOrEqual(0.95);
      expect(report.metrics.brainVoxelsAltered).toBe(0);
      expect(report.metrics.brainDice).toBe(1);
      expect(report.dicom?.clampedVoxels).toBe(0);
      expect(report.faceCheck.views.find((v) => v.azimuth === 0)!.before.detected).toBe(true);
      for (const v of report.faceCheck.views) expect(v.after.detected).toBe(false);

      const written = readdirSync(output, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.join(e.parentPath, e.name));
      expect(written).toHaveLength(readdirSync(inputDir).length);
      const back = await readDicomSeries(written);
      expect(back.grid).toEqual(input.grid);
      expect(back.data).toBeInstanceOf(Int16Array);
      for (const f of written.slice(0, 3)) {
        const d = readDicom(readFileSync(f)).dataset;
        expect(asciiValue(d.get(tag(0x0008, 0x0016)))).toBe(CT_IMAGE_STORAGE);
        expect(asciiValue(d.get(tag(0x0008, 0x0060)))).toBe('CT');
        expect(asciiValue(d.get(tag(0x0028, 0x1052)))).toBe('-1024');
        const pixelRepresentation = d.get(tag(0x0028, 0x0103));
        expect(pixelRepresentation?.kind === 'value' ? pixelRepresentation.bytes[0] : undefined).toBe(1);
        expect(asciiValue(d.get(tag(0x0010, 0x0010))) ?? '').not.toContain('Quux');
      }
      const again = await defaceVolume(input, {});
      const facts = voxelFacts(input, back, again.faceMask, again.brainMask);
      expect(facts.faceVoxels).toBeGreaterThan(10_000);
      expect(facts.faceAir).toBe(facts.faceVoxels);
      expect(facts.facePadding).toBe(0);
      expect(facts.brainAltered).toBe(0);
      expect(facts.changedOutsideFace).toBe(0);
      expect(facts.paddingAfter).toBeGreaterThan(0);
    },
    RUN_TIMEOUT,
  );

  it('refuses the single CT slice of the corpus (a colour secondary capture) with a clear reason, and writes nothing', () => {
    expect(existsSync(CT_SLICE)).toBe(true);
    const secret = path.join(work, 'secret-slice.key');
    writeFileSync(secret, 'conformance-deface-ct-secret-0123456789\n');
    const output = path.join(work, 'slice-out');
    const r = radanon('deface', CT_SLICE, output, '--secret-file', secret);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('humans__ctbrain1.dcm');
    // Its JPEG pixel data is decoded now; what stops it is what it holds: a colour secondary
    // capture (YBR_FULL_422, three samples per pixel), which no volume is made of.
    expect(r.stderr).toContain('humans__ctbrain1.dcm: a colour image (Photometric Interpretation YBR_FULL_422, 3 samples per pixel): only greyscale images make a volume');
    expect(existsSync(output)).toBe(false);
  });
});

describe('the MNI152 1 mm template registered to the real T1 heads, through the whole run', () => {
  for (const head of ['chris_t1', 't1_crop']) {
    it(
      `${head}: face detected before and not after, ≥ 95% of the face region removed, no brain voxel altered`,
      async () => {
        const output = path.join(work, 'mni1mm', `${head}_defaced.nii.gz`);
        const r = radanon('deface', path.join(HEADS, `${head}.nii.gz`), output, '--template', 'mni152-1mm', '--template-dir', TEMPLATES, '--json');
        expect(r.code, r.stderr).toBe(0);
        const report = JSON.parse(r.stdout) as DefaceRunReport;
        lines.push(
          `  ${head} with mni152-1mm: similarity ${report.metrics.registration.similarity.toFixed(3)}, ${(100 * report.metrics.faceRemovedFraction).toFixed(2)}% removed, ` +
            `${report.metrics.brainVoxelsAltered} altered, scores ${report.faceCheck.views.map((v) => `${v.azimuth}°: ${v.before.score.toFixed(2)} → ${v.after.score.toFixed(2)}`).join(', ')}`,
        );
        expect(report.failures).toEqual([]);
        expect(report.status).toBe('passed');
        expect(report.settings.template).toBe('mni152-1mm');
        expect(report.metrics.faceRemovedFraction).toBeGreaterThanOrEqual(0.95);
        expect(report.metrics.brainVoxelsAltered).toBe(0);
        expect(report.metrics.brainDice).toBe(1);
        expect(report.faceCheck.views.find((v) => v.azimuth === 0)!.before.detected).toBe(true);
        for (const v of report.faceCheck.views) expect(v.after.detected).toBe(false);
        expect(existsSync(output)).toBe(true);
      },
      RUN_TIMEOUT,
    );
  }
});
