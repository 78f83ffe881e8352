/**
 * The face check on real heads and on the templates: a face is detected on the frontal render of
 * each original, and none is detected (or matched) on any render of a crudely defaced copy. The
 * crude defacing is this suite's own, to test the check independently of the defacing method:
 * every voxel in front of a coronal plane 40 mm anterior to the centre of the head's bounding
 * box (about the centre of the brain) is set to the volume's minimum, which removes the face,
 * the eyes and the front of the brain.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFaces, faceEngineStatus, SAME_PERSON_DISTANCE } from '../../src/volume/deface/face-check.js';
import { headFrame, skinThreshold } from '../../src/volume/deface/render.js';
import { indexToWorld } from '../../src/volume/geometry.js';
import { readNifti } from '../../src/volume/nifti.js';
import type { Volume } from '../../src/volume/volume.js';
import { sharedDataDir } from './helpers.js';

const defaceDir = path.join(sharedDataDir, 'deface');
const HEADS = [
  { name: 'chris_t1', file: 'heads/chris_t1.nii.gz' },
  { name: 't1_crop', file: 'heads/t1_crop.nii.gz' },
  { name: 'MNI152_T1_1mm', file: 'templates/MNI152_T1_1mm.nii.gz' },
  { name: 'avg152T1_2mm', file: 'templates/avg152T1.nii.gz' },
] as const;
/** How far in front of the head's centre the crude cut lies, in mm. */
const CUT_MM = 40;

const previewDir = mkdtempSync(path.join(tmpdir(), 'radanon-face-check-'));
afterAll(() => rmSync(previewDir, { recursive: true, force: true }));

/** A copy with every voxel anterior to the coronal plane y = y_centre − CUT_MM (LPS: anterior is −y) set to the minimum. */
function crudelyDefaced(volume: Volume): Volume {
  const frame = headFrame(volume, skinThreshold(volume));
  const plane = frame.centre[1] - CUT_MM;
  const data = volume.data.slice();
  let min = Infinity;
  for (const v of data) min = Math.min(min, v);
  const [nx, ny, nz] = volume.grid.dims;
  const o = indexToWorld(volume.grid, 0, 0, 0);
  const di = indexToWorld(volume.grid, 1, 0, 0)[1] - o[1];
  const dj = indexToWorld(volume.grid, 0, 1, 0)[1] - o[1];
  const dk = indexToWorld(volume.grid, 0, 0, 1)[1] - o[1];
  let removed = 0;
  for (let k = 0, n = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        if (o[1] + i * di + j * dj + k * dk < plane) {
          data[n] = min;
          removed++;
        }
      }
    }
  }
  expect(removed).toBeGreaterThan(0);
  return { grid: volume.grid, data };
}

describe('the face check on real heads and templates', () => {
  beforeAll(async () => {
    const status = await faceEngineStatus();
    console.log(`face engine: tfjs backend ${status.backend}, tfjs and the three models loaded in ${status.loadMs.toFixed(0)} ms, ${status.tensors} weight tensors`);
  });

  for (const head of HEADS) {
    it(
      `${head.name}: a face before, none after crude defacing`,
      async () => {
        const file = path.join(defaceDir, head.file);
        expect(existsSync(file), `${file} is missing: this suite needs the shared data folder (RADANON_SHARED_DATA)`).toBe(true);
        const before = await readNifti(file);
        const after = crudelyDefaced(before);
        const report = await checkFaces(before, after, { previewDir, name: head.name });

        const perView = report.views.length;
        console.log(
          [
            `${head.name} (${before.grid.dims.join('×')}, ${before.grid.spacing.map((s) => s.toFixed(2)).join('×')} mm, skin threshold ${report.skinThreshold.toFixed(1)}): ${report.passed ? 'passed' : 'FAILED'} — ${report.reason}`,
            ...report.views.map(
              (v) =>
                `  azimuth ${String(v.azimuth).padStart(3)}: before ${v.before.detected ? 'face' : 'none'} ${v.before.score.toFixed(3)}, after ${v.after.detected ? 'face' : 'none'} ${v.after.score.toFixed(3)}, distance ${v.distance === null ? '-' : v.distance.toFixed(3)}`,
            ),
            `  ${report.backend}: render ${(report.timings.renderMs / (2 * perView)).toFixed(0)} ms per image, detection ${(report.timings.detectMs / (2 * perView)).toFixed(0)} ms per image (with its mirror image and descriptors)`,
          ].join('\n'),
        );

        const frontal = report.views.find((v) => v.azimuth === 0)!;
        expect(report.views.map((v) => v.azimuth)).toEqual([0, -30, 30]);
        expect(frontal.before.detected, `no face on the frontal render of ${head.name}`).toBe(true);
        expect(frontal.before.score).toBeGreaterThanOrEqual(0.3);
        for (const v of report.views) {
          const matched = v.after.detected && (v.distance === null || v.distance < SAME_PERSON_DISTANCE);
          expect(matched, `a face matching the original after crude defacing at azimuth ${v.azimuth}`).toBe(false);
        }
        expect(report.passed).toBe(true);
        // A 1 mm head renders in well under a second on an idle core; allow for a shared machine.
        expect(report.timings.renderMs / (2 * perView)).toBeLessThan(2500);

        for (const v of report.views) {
          for (const png of [v.previews!.before, v.previews!.after]) {
            expect(path.basename(png)).toBe(`${head.name}-${v.azimuth}-${png.endsWith('before.png') ? 'before' : 'after'}.png`);
            const image = decode(readFileSync(png));
            expect([image.width, image.height, image.channels]).toEqual([256, 256, 1]);
          }
        }
      },
      900_000,
    );
  }
});
