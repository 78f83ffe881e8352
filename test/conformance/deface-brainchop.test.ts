/**
 * The brainchop brain check on real heads (../shared/data/deface/heads): brainchop's model5_gw_ae,
 * run by radanon's MeshNet engine, finds a plausible brain (grey ∪ white matter of 1,000–1,400 mL,
 * mostly inside the template brain carried by the registration and overlapping it with Dice > 0.8),
 * and defacing leaves at least 99% of it (as Dice) unaltered. The check's voxels-altered count is
 * recounted here from the voxel values. Wall time and peak memory per head are printed.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNifti } from '../../src/volume/nifti.js';
import { defaceVolume } from '../../src/volume/deface/deface.js';
import type { FaceCheckReport } from '../../src/volume/deface/face-check.js';
import { dice } from '../../src/volume/deface/metrics.js';
import { judge, MIN_BRAINCHOP_DICE } from '../../src/volume/deface/run.js';
import { sharedDataDir } from './helpers.js';

const heads = path.join(sharedDataDir, 'deface', 'heads');
const cases = [
  { name: 'chris_t1 (0.88 mm, 188×256×190)', file: path.join(heads, 'chris_t1.nii.gz') },
  { name: 't1_crop (1 mm, 256³)', file: path.join(heads, 't1_crop.nii.gz') },
];

const lines: string[] = [];
afterAll(() => {
  console.log(['brainchop brain check (model5_gw_ae), per head: wall time of the defacing and of the check, peak RSS of the test process so far', ...lines].join('\n'));
});

describe('the brainchop brain check on real heads', () => {
  for (const c of cases) {
    it(
      c.name,
      async () => {
        const image = await readNifti(c.file);
        const started = performance.now();
        const result = await defaceVolume(image, { file: c.file, brainCheck: 'brainchop' });
        const seconds = (performance.now() - started) / 1000;
        const check = result.metrics.brainchop;
        const mask = result.brainchopMask;
        expect(check).toBeDefined();
        expect(mask).toBeDefined();
        if (!check || !mask) return;

        const voxelMl = image.grid.spacing.reduce((a, b) => a * b, 1) / 1000;
        const millilitres = check.voxels * voxelMl;
        let inside = 0;
        let altered = 0;
        let maskVoxels = 0;
        for (let n = 0; n < mask.data.length; n++) {
          if (!mask.data[n]) continue;
          maskVoxels++;
          if (result.brainMask.data[n]) inside++;
          if (result.defaced.data[n] !== image.data[n]) altered++;
        }
        const overlap = dice(mask, result.brainMask);
        lines.push(
          `  ${c.name}: defacing with the check ${seconds.toFixed(1)} s, of which the check ${(check.ms / 1000).toFixed(1)} s; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB; ` +
            `brainchop brain ${Math.round(millilitres)} mL, ${(100 * inside / maskVoxels).toFixed(1)}% inside the template brain, Dice vs it ${overlap.toFixed(3)}; ` +
            `after defacing: ${check.voxelsAltered} of its voxels altered, Dice ${check.dice}`,
        );

        // A plausible brain: the model saw the head in the orientation and intensity range it was trained on.
        expect(check.model).toBe('model5_gw_ae');
        expect(check.voxels).toBe(maskVoxels);
        expect(millilitres).toBeGreaterThan(1000);
        expect(millilitres).toBeLessThan(1400);
        expect(overlap).toBeGreaterThan(0.8);
        expect(inside / maskVoxels).toBeGreaterThan(0.9);

        // The defacing leaves the independent brain (almost) whole, as counted from the voxels.
        expect(check.voxelsAltered).toBe(altered);
        expect(check.dice).toBe(maskVoxels === 0 ? 1 : (2 * (maskVoxels - altered)) / (2 * maskVoxels - altered));
        expect(check.dice).toBeGreaterThanOrEqual(MIN_BRAINCHOP_DICE);
        // The template brain's own proof still holds.
        expect(result.metrics.brainVoxelsAltered).toBe(0);

        // About a minute on two idle cores; a loaded machine gets a generous bound.
        expect(check.ms).toBeLessThan(600_000);

        // The run's verdict: a check below the threshold fails the run (which then writes nothing).
        const passedFaceCheck = { passed: true, reason: 'no face after', views: [] } as unknown as FaceCheckReport;
        expect(judge(result.metrics, passedFaceCheck)).toEqual([]);
        const worse = { ...result.metrics, brainchop: { ...check, dice: 0.985, voxelsAltered: 12_345 } };
        expect(judge(worse, passedFaceCheck)).toEqual([
          `the brainchop brain mask's Dice coefficient before vs after is 0.985 (12345 of its ${check.voxels} voxels altered), below ${MIN_BRAINCHOP_DICE}`,
        ]);
      },
      900_000,
    );
  }
});
