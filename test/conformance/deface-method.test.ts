/**
 * Defacing's method on real heads (../shared/data/deface/heads) and on the MNI152 1 mm template
 * itself: the face region is removed (≥ 95%), no voxel of the carried brain changes (Dice 1, zero
 * altered), checked here from the voxel values and not only from the run's own metrics. Each
 * head's wall time and the process's peak memory are printed (target: under 20 s and 1.5 GB per
 * 1 mm head on a 2-core machine).
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNifti } from '../../src/volume/nifti.js';
import { defaceVolume, DEFAULT_BRAIN_MARGIN_MM, DEFAULT_MIN_SIMILARITY, type DefaceOptions } from '../../src/volume/deface/deface.js';
import { dilateMask } from '../../src/volume/deface/face-mask.js';
import { quantileValue, storedAs } from '../../src/volume/deface/metrics.js';
import { resampleMask } from '../../src/volume/deface/register.js';
import { loadDefaceTemplate } from '../../src/volume/deface/templates.js';
import { sharedDataDir } from './helpers.js';

const defaceDir = path.join(sharedDataDir, 'deface');
const templatesDir = path.join(defaceDir, 'templates');

const cases: { name: string; file: string; options: DefaceOptions }[] = [
  { name: 'chris_t1 (0.88 mm)', file: path.join(defaceDir, 'heads', 'chris_t1.nii.gz'), options: {} },
  { name: 't1_crop (1 mm, 256³)', file: path.join(defaceDir, 'heads', 't1_crop.nii.gz'), options: {} },
  { name: 'MNI152_T1_1mm (the template itself)', file: path.join(templatesDir, 'MNI152_T1_1mm.nii.gz'), options: {} },
  { name: 'chris_t1, registered to the MNI152 1 mm template', file: path.join(defaceDir, 'heads', 'chris_t1.nii.gz'), options: { template: 'mni152-1mm', templateDir: templatesDir } },
];

const lines: string[] = [];
afterAll(() => {
  console.log(['defacing (method), per image: wall time of read + deface, peak RSS of the test process so far', ...lines].join('\n'));
});

describe('defaceVolume on real heads', () => {
  for (const c of cases) {
    it(
      c.name,
      async () => {
        const started = performance.now();
        const image = await readNifti(c.file);
        const result = await defaceVolume(image, { ...c.options, file: c.file });
        const seconds = (performance.now() - started) / 1000;
        const peakMb = process.resourceUsage().maxRSS / 1024;
        const m = result.metrics;
        lines.push(
          `  ${c.name}: ${image.grid.dims.join('×')} voxels, ${seconds.toFixed(1)} s (registration ${(m.registration.ms / 1000).toFixed(1)} s), peak RSS ${Math.round(peakMb)} MB; ` +
            `similarity ${m.registration.similarity.toFixed(3)}, face region ${m.faceRegionVoxels} voxels, ${(100 * m.faceRemovedFraction).toFixed(2)}% removed, brain Dice ${m.brainDice}, ${m.brainVoxelsAltered} brain voxels altered`,
        );

        expect(m.registration.converged).toBe(true);
        expect(m.registration.similarity).toBeGreaterThanOrEqual(DEFAULT_MIN_SIMILARITY);
        expect(m.faceRemovedFraction).toBeGreaterThanOrEqual(0.95);
        expect(m.brainVoxelsAltered).toBe(0);
        expect(m.brainDice).toBe(1);
        expect(result.defaced.data.constructor).toBe(image.data.constructor);
        expect(result.defaced.grid).toBe(image.grid);

        // The same facts from the voxel values, with the masks carried again here.
        const template = await loadDefaceTemplate(c.options.template ?? 'avg152-2mm', c.options.templateDir ? { templateDir: c.options.templateDir } : {});
        const face = resampleMask(template.faceMask, image.grid, result.transform);
        const brain = resampleMask(template.brainMask, image.grid, result.transform);
        const guard = dilateMask(brain, DEFAULT_BRAIN_MARGIN_MM);
        const background = storedAs(result.defaced.data, result.background);
        let brainVoxels = 0;
        let brainChanged = 0;
        let faceVoxels = 0;
        let faceBackground = 0;
        let faceTissue = 0;
        let faceTissueRemoved = 0;
        let changedOutsideFace = 0;
        // Tissue: brighter than a tenth of the way from the background to the 99th percentile.
        const tissue = background + 0.1 * (quantileValue(image.data, 0.99) - background);
        for (let n = 0; n < image.data.length; n++) {
          const before = image.data[n]!;
          const after = result.defaced.data[n]!;
          if (brain.data[n]) {
            brainVoxels++;
            if (after !== before) brainChanged++;
          }
          if (face.data[n]) {
            faceVoxels++;
            if (after === background) faceBackground++;
            if (before > tissue) {
              faceTissue++;
              if (after === background) faceTissueRemoved++;
            }
          } else if (after !== before) changedOutsideFace++;
          if (guard.data[n] && after !== before) brainChanged++;
        }
        expect(brainVoxels).toBeGreaterThan(500_000);
        expect(brainChanged).toBe(0);
        expect(changedOutsideFace).toBe(0);
        expect(faceVoxels).toBe(m.faceRegionVoxels);
        expect(faceBackground / faceVoxels).toBeGreaterThanOrEqual(0.95);
        // Of the face region's voxels that held something other than air, nearly all are gone.
        expect(faceTissue).toBeGreaterThan(10_000);
        expect(faceTissueRemoved / faceTissue).toBeGreaterThanOrEqual(0.95);
        expect(peakMb).toBeLessThan(1536);
      },
      240_000,
    );
  }
});
