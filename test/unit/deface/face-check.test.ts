/**
 * The face check: its rule, its input checks, and one run of the real models (face-api's weights
 * ship in its npm package) on a synthetic head without a face. Faces on real heads are the
 * conformance suite's part (test/conformance/deface-face-check.test.ts).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decode } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkFaces,
  detectFaces,
  FaceCheckError,
  faceEngineStatus,
  judgeFaceCheck,
  SAME_PERSON_DISTANCE,
  type FaceCheckView,
} from '../../../src/volume/deface/face-check.js';
import type { Grid, Volume } from '../../../src/volume/volume.js';

const dir = mkdtempSync(path.join(tmpdir(), 'radanon-face-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function view(azimuth: number, before: number, after: number, distance: number | null): FaceCheckView {
  return { azimuth, before: { detected: before >= 0.3, score: before }, after: { detected: after >= 0.3, score: after }, distance };
}

describe('judgeFaceCheck', () => {
  it('passes when a face is found before, frontally, and none after', () => {
    const verdict = judgeFaceCheck([view(0, 0.9, 0.1, null), view(-30, 0.7, 0, null), view(30, 0.2, 0.05, null)]);
    expect(verdict.passed).toBe(true);
    expect(verdict.reason).toMatch(/frontal score 0\.90\) and none after, in 3 views/);
  });

  it('fails when no face is found on the frontal render before defacing, whatever the other views say', () => {
    const verdict = judgeFaceCheck([view(0, 0.25, 0, null), view(30, 0.95, 0, null)]);
    expect(verdict.passed).toBe(false);
    expect(verdict.reason).toMatch(/no face was detected on the frontal render before defacing \(best score 0\.25 < 0\.3\)/);
  });

  it('fails when a face found after defacing matches the face before', () => {
    const verdict = judgeFaceCheck([view(0, 0.9, 0.1, null), view(30, 0.8, 0.5, SAME_PERSON_DISTANCE - 0.01)]);
    expect(verdict.passed).toBe(false);
    expect(verdict.reason).toMatch(/azimuth 30 \(score 0\.50\).*distance 0\.59 < 0\.6/);
  });

  it('passes when what is found after defacing is another face', () => {
    const verdict = judgeFaceCheck([view(0, 0.9, 0.4, SAME_PERSON_DISTANCE + 0.05)]);
    expect(verdict.passed).toBe(true);
    expect(verdict.reason).toMatch(/does not match it \(smallest distance 0\.65 ≥ 0\.6\)/);
  });

  it('follows the detection threshold it is given', () => {
    expect(judgeFaceCheck([view(0, 0.25, 0, null)], 0.2).passed).toBe(false); // detected is decided upstream
    expect(() => judgeFaceCheck([view(30, 0.9, 0, null)])).toThrow(FaceCheckError);
  });
});

/** A ball of 60 mm radius with a nose, on a 2 mm grid: a head without a face. */
function faceless(): Volume<Float32Array> {
  const dims = [80, 80, 80] as const;
  const grid: Grid = { dims, spacing: [2, 2, 2], origin: [-79, -79, -79], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0, n = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, n++) {
        const [x, y, z] = [-79 + 2 * i, -79 + 2 * j, -79 + 2 * k];
        const d = Math.min(Math.hypot(x, y, z) - 60, Math.hypot(x, y + 62, z) - 12);
        data[n] = 100 / (1 + Math.exp(Math.max(-50, Math.min(50, d / 1.5))));
      }
    }
  }
  return { grid, data };
}

describe('checkFaces', () => {
  it('refuses views without the frontal one and unsafe preview names, before loading any model', async () => {
    const head = faceless();
    await expect(checkFaces(head, head, { views: [-30, 30] })).rejects.toThrow(FaceCheckError);
    await expect(checkFaces(head, head, { views: [] })).rejects.toThrow(/frontal view/);
    await expect(checkFaces(head, head, { name: '../escape' })).rejects.toThrow(/preview name/);
    await expect(detectFaces({ width: 4, height: 4, pixels: new Uint8Array(3) })).rejects.toThrow(RangeError);
    await expect(detectFaces({ width: 1, height: 1, pixels: new Uint8Array(1) }, { minConfidence: 0 })).rejects.toThrow(/minConfidence/);
  });

  it(
    'finds no face on a head without one, fails the check for that reason, writes previews and frees its tensors',
    async () => {
      const status = await faceEngineStatus();
      expect(['wasm', 'cpu']).toContain(status.backend);
      const head = faceless();
      const report = await checkFaces(head, head, { views: [0], previewDir: dir, name: 'ball' });
      expect(report.views).toHaveLength(1);
      const frontal = report.views[0]!;
      expect(frontal.azimuth).toBe(0);
      expect(frontal.before.detected).toBe(false);
      expect(frontal.before.score).toBeLessThan(0.3);
      expect(frontal.after.detected).toBe(false);
      expect(frontal.distance).toBeNull();
      expect(report.passed).toBe(false);
      expect(report.reason).toMatch(/no face was detected on the frontal render before defacing/);
      expect(report.backend).toBe(status.backend);
      expect(report.minConfidence).toBe(0.3);
      expect(report.skinThreshold).toBeGreaterThan(5);
      expect(report.skinThreshold).toBeLessThan(95);
      expect(report.timings.detectMs).toBeGreaterThan(0);
      for (const file of [frontal.previews!.before, frontal.previews!.after]) {
        expect(path.basename(file)).toMatch(/^ball-0-(before|after)\.png$/);
        expect(existsSync(file)).toBe(true);
        const png = decode(readFileSync(file));
        expect([png.width, png.height, png.channels]).toEqual([256, 256, 1]);
      }
      // The models' weights are the only tensors left once a check is done.
      expect((await faceEngineStatus()).tensors).toBe(status.tensors);
    },
    600_000,
  );
});
