import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { indexToWorld, worldToIndex } from '../../../src/volume/geometry.js';
import { readNifti } from '../../../src/volume/nifti.js';
import {
  backgroundValue,
  DefaceError,
  defaceVolume,
  DEFAULT_MIN_SIMILARITY,
  removeFace,
  type DefaceResult,
} from '../../../src/volume/deface/deface.js';
import { buildFaceMasks, DEFAULT_FACE_MASK_PARAMETERS, dilateMask, extendedTemplateGrid } from '../../../src/volume/deface/face-mask.js';
import { brainPreservation, faceRemoval } from '../../../src/volume/deface/metrics.js';
import { applyAffine, axisAlignedGrid, composeAffine, invertAffine, resampleLinear, type AffineTransform } from '../../../src/volume/deface/register.js';
import { DEFACE_ASSETS_DIR, loadDefaceTemplate, TEMPLATE_FILES, type DefaceTemplate } from '../../../src/volume/deface/templates.js';
import type { Grid, Mask, Vec3, Volume } from '../../../src/volume/volume.js';

const IDENTITY_DIRECTION = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** Brute-force dilation: every voxel within `radius` mm of a mask voxel's centre. */
function bruteDilate(mask: Mask, radius: number): Uint8Array {
  const [nx, ny, nz] = mask.grid.dims;
  const [sx, sy, sz] = mask.grid.spacing;
  const inside: [number, number, number][] = [];
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (mask.data[i + nx * (j + ny * k)]) inside.push([i, j, k]);
  const out = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        for (const [a, b, c] of inside) {
          if (((i - a) * sx) ** 2 + ((j - b) * sy) ** 2 + ((k - c) * sz) ** 2 <= radius * radius + 1e-9) {
            out[i + nx * (j + ny * k)] = 1;
            break;
          }
        }
      }
    }
  }
  return out;
}

describe('dilateMask', () => {
  it('grows a voxel into the ellipsoid of lattice points within the radius on an anisotropic grid', () => {
    const grid: Grid = { dims: [21, 15, 11], spacing: [0.5, 1, 2.5], origin: [0, 0, 0], direction: IDENTITY_DIRECTION };
    const data = new Uint8Array(21 * 15 * 11);
    data[10 + 21 * (7 + 15 * 5)] = 1;
    const out = dilateMask({ grid, data }, 4).data;
    let expected = 0;
    for (let c = -5; c <= 5; c++) for (let b = -7; b <= 7; b++) for (let a = -10; a <= 10; a++) if ((a * 0.5) ** 2 + b ** 2 + (c * 2.5) ** 2 <= 16) expected++;
    expect(out.reduce((s, v) => s + v, 0)).toBe(expected);
    // Along k, 4 mm reaches one voxel of 2.5 mm, not two; along i, eight voxels of 0.5 mm.
    expect(out[10 + 21 * (7 + 15 * 6)]).toBe(1);
    expect(out[10 + 21 * (7 + 15 * 7)]).toBe(0);
    expect(out[18 + 21 * (7 + 15 * 5)]).toBe(1);
    expect(out[19 + 21 * (7 + 15 * 5)]).toBe(0);
  });

  it('agrees with brute force on a scattered mask', () => {
    const grid: Grid = { dims: [14, 11, 9], spacing: [0.7, 1.3, 2.1], origin: [0, 0, 0], direction: IDENTITY_DIRECTION };
    const data = new Uint8Array(14 * 11 * 9);
    let seed = 7;
    for (let n = 0; n < data.length; n++) {
      seed = (seed * 16807) % 2147483647;
      if (seed % 97 === 0) data[n] = 1;
    }
    for (const radius of [0.5, 1.4, 3.1, 6]) expect(Array.from(dilateMask({ grid, data }, radius).data)).toEqual(Array.from(bruteDilate({ grid, data }, radius)));
  });

  it('keeps an empty mask empty, leaves a radius of 0 unchanged and refuses a negative radius', () => {
    const grid: Grid = { dims: [3, 3, 3], spacing: [1, 1, 1], origin: [0, 0, 0], direction: IDENTITY_DIRECTION };
    expect(dilateMask({ grid, data: new Uint8Array(27) }, 5).data.every((v) => v === 0)).toBe(true);
    const one = new Uint8Array(27);
    one[13] = 1;
    expect(Array.from(dilateMask({ grid, data: one }, 0).data)).toEqual(Array.from(one));
    expect(() => dilateMask({ grid, data: one }, -1)).toThrow(RangeError);
  });
});

describe('the shipped face and ear masks', () => {
  let template: DefaceTemplate;
  beforeAll(async () => {
    template = await loadDefaceTemplate('avg152-2mm');
  });

  it('are what scripts/make-face-mask.mjs builds from the shipped brain mask', () => {
    const rebuilt = buildFaceMasks(template.image.grid, template.brainMask, DEFAULT_FACE_MASK_PARAMETERS);
    expect(template.faceMask.grid).toEqual(rebuilt.face.grid);
    expect(Buffer.from(template.faceMask.data).equals(Buffer.from(rebuilt.face.data))).toBe(true);
    expect(Buffer.from(template.earMask.data).equals(Buffer.from(rebuilt.ears.data))).toBe(true);
  });

  it('lie on the template grid grown 60 mm to the front, 80 mm down and 20 mm to each side', () => {
    const grid = extendedTemplateGrid(template.image.grid, 60, 80, 20);
    expect(template.faceMask.grid).toEqual(grid);
    expect(grid.dims).toEqual([91 + 20, 109 + 30, 91 + 40]);
    // LPS: anterior is −y. The template reaches x = ±90, y = −90 (90 mm in front of the origin) and z = −72.
    const first = indexToWorld(grid, 0, 0, 0);
    const far = indexToWorld(grid, grid.dims[0] - 1, grid.dims[1] - 1, 0);
    expect(first[0]).toBeCloseTo(-110, 6);
    expect(far[0]).toBeCloseTo(110, 6);
    expect(far[1]).toBeCloseTo(-150, 6);
    expect(far[2]).toBeCloseTo(-152, 6);
  });

  it('cover the nose, eyes, lips and chin, and keep clear of the brain, the forehead and the back of the head', () => {
    const at = (mask: Mask, p: Vec3) => {
      const [i, j, k] = worldToIndex(mask.grid)(...p).map(Math.round) as [number, number, number];
      return mask.data[i + mask.grid.dims[0] * (j + mask.grid.dims[1] * k)];
    };
    // LPS millimetres of MNI space (anterior = −y, left = +x).
    for (const face of [[0, -110, -40], [32, -70, -30], [-32, -70, -30], [0, -95, -75], [0, -80, -115], [50, -60, -50]] as Vec3[]) expect(at(template.faceMask, face)).toBe(1);
    for (const not of [[0, -80, 40], [0, 0, 0], [0, 90, 0], [0, 40, -60], [80, 20, 0]] as Vec3[]) expect(at(template.faceMask, not)).toBe(0);
    expect(at(template.earMask, [86, 40, -20])).toBe(1);
    expect(at(template.earMask, [-86, 40, -20])).toBe(1);
    expect(at(template.earMask, [100, 30, 0])).toBe(1);
    expect(at(template.earMask, [0, 40, -20])).toBe(0);
    expect(at(template.earMask, [86, 40, 40])).toBe(0);
  });

  it('are at least the clearance away from the template brain (the ears the temporal clearance)', () => {
    const rebuilt = buildFaceMasks(template.image.grid, template.brainMask, DEFAULT_FACE_MASK_PARAMETERS);
    // The brain on the masks' grid, dilated by slightly less than the clearance.
    const brainOnGrid = resampleLinear(template.brainMask, rebuilt.face.grid);
    const brain: Mask = { grid: rebuilt.face.grid, data: Uint8Array.from(brainOnGrid.data, (v) => (v > 0.5 ? 1 : 0)) };
    const near = dilateMask(brain, DEFAULT_FACE_MASK_PARAMETERS.brainClearance - 0.01).data;
    const nearEars = dilateMask(brain, DEFAULT_FACE_MASK_PARAMETERS.temporalClearance - 0.01).data;
    let overlap = 0;
    let earOverlap = 0;
    for (let n = 0; n < near.length; n++) {
      if (near[n] && rebuilt.face.data[n]) overlap++;
      if (nearEars[n] && rebuilt.ears.data[n]) earOverlap++;
    }
    expect(overlap).toBe(0);
    expect(earOverlap).toBe(0);
  });
});

/**
 * A phantom head on a 1 × 1.2 × 1.5 mm grid: an ellipsoidal skull (bright shell), a brain
 * ellipsoid inside, and a nose box in front (anterior = −y in LPS).
 */
function phantomHead(): { head: Volume<Int16Array>; brain: Mask; nose: Mask } {
  const grid: Grid = { dims: [80, 90, 70], spacing: [1, 1.2, 1.5], origin: [-40, -54, -52], direction: IDENTITY_DIRECTION };
  const [nx, ny, nz] = grid.dims;
  const head = new Int16Array(nx * ny * nz);
  const brain = new Uint8Array(head.length);
  const nose = new Uint8Array(head.length);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const [x, y, z] = indexToWorld(grid, i, j, k);
        const n = i + nx * (j + ny * k);
        const r = Math.hypot(x / 35, y / 45, z / 40);
        const b = Math.hypot(x / 28, y / 37, z / 32);
        if (b <= 1) {
          head[n] = 600 + ((i + j + k) % 7);
          brain[n] = 1;
        } else if (r <= 1) head[n] = r > 0.9 ? 900 : 300;
        else if (Math.abs(x) <= 6 && y >= -52 && y < -40 && z >= -10 && z <= 10) {
          head[n] = 500;
          nose[n] = 1;
        } else head[n] = 3 + ((i * 7 + j) % 5); // noisy air
      }
    }
  }
  return { head: { grid, data: head }, brain: { grid, data: brain }, nose: { grid, data: nose } };
}

describe('removeFace on a phantom head', () => {
  it('sets the face to the background and never touches the brain or its margin', () => {
    const { head, brain, nose } = phantomHead();
    const original = head.data.slice();
    // A face region that overlaps the front of the brain on purpose: everything in front of y = −25.
    const face = new Uint8Array(head.data.length);
    const [nx, ny] = head.grid.dims;
    for (let n = 0; n < face.length; n++) {
      const p = indexToWorld(head.grid, n % nx, Math.floor(n / nx) % ny, Math.floor(n / (nx * ny)));
      if (p[1] < -25) face[n] = 1;
    }
    const guard = dilateMask(brain, 4);
    const background = backgroundValue(head);
    expect(background).toBe(3); // the 1st percentile: air
    const { defaced, removed } = removeFace(head, { grid: head.grid, data: face }, guard, background);
    expect(defaced.data).toBeInstanceOf(Int16Array);
    expect(defaced.grid).toBe(head.grid);
    expect(Array.from(head.data)).toEqual(Array.from(original)); // the input is not modified
    let brainChanged = 0;
    let marginChanged = 0;
    let noseLeft = 0;
    let outsideChanged = 0;
    let removedWrong = 0;
    for (let n = 0; n < face.length; n++) {
      const changed = defaced.data[n] !== original[n];
      if (brain.data[n] && changed) brainChanged++;
      if (guard.data[n] && changed) marginChanged++;
      if (nose.data[n] && defaced.data[n] !== background) noseLeft++;
      if (!face[n] && changed) outsideChanged++;
      if (removed.data[n] !== (face[n] && !guard.data[n] ? 1 : 0)) removedWrong++;
    }
    expect(removedWrong).toBe(0);
    expect(brainChanged).toBe(0);
    expect(marginChanged).toBe(0);
    expect(noseLeft).toBe(0);
    expect(outsideChanged).toBe(0);
    const preserved = brainPreservation(head, defaced, brain);
    expect(preserved.altered).toBe(0);
    expect(preserved.dice).toBe(1);
    // The guard kept the face voxels within 4 mm of the brain: the fraction removed says so.
    const measure = faceRemoval(defaced, { grid: head.grid, data: face }, background);
    let kept = 0;
    for (let n = 0; n < face.length; n++) if (face[n] && guard.data[n] && original[n] !== background) kept++;
    expect(measure.voxels - measure.removed).toBe(kept);
    expect(measure.fraction).toBeLessThan(1);
  });
});

describe('defaceVolume refuses what it cannot deface', () => {
  const head = phantomHead().head;

  it('a 2-D image', async () => {
    const slice: Volume = { grid: { dims: [256, 256, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: IDENTITY_DIRECTION }, data: new Int16Array(65536) };
    await expect(defaceVolume(slice)).rejects.toThrow(/2-D image \(256×256×1 voxels\)/);
  });

  it('a degenerate orientation', async () => {
    const collinear: Volume = { grid: { ...head.grid, direction: [1, 0, 0, 1, 0, 0, 0, 0, 1] }, data: head.data };
    await expect(defaceVolume(collinear)).rejects.toThrow(DefaceError);
    await expect(defaceVolume(collinear)).rejects.toThrow(/degenerate orientation/);
    const skewed: Volume = { grid: { ...head.grid, direction: [1, 0, 0, 0.5, 0.866, 0, 0, 0, 1] }, data: head.data };
    await expect(defaceVolume(skewed)).rejects.toThrow(/not orthonormal/);
    const missing: Volume = { grid: { ...head.grid, direction: [NaN, 0, 0, 0, 1, 0, 0, 0, 1] }, data: head.data };
    await expect(defaceVolume(missing)).rejects.toThrow(/no usable orientation/);
  });

  it('a field of view too small for a head, naming the file', async () => {
    const small: Volume = { grid: { dims: [40, 40, 40], spacing: [1, 1, 1], origin: [0, 0, 0], direction: IDENTITY_DIRECTION }, data: new Int16Array(64000) };
    await expect(defaceVolume(small, { file: 'knee.nii.gz' })).rejects.toThrow(/^knee\.nii\.gz: the field of view \(40 × 40 × 40 mm\) is too small/);
  });

  it('a template that is not shipped, when no folder is given', async () => {
    const big: Volume = { grid: { dims: [80, 80, 80], spacing: [2, 2, 2], origin: [0, 0, 0], direction: IDENTITY_DIRECTION }, data: new Int16Array(512_000) };
    await expect(defaceVolume(big, { template: 'mni152-1mm' })).rejects.toThrow(/not shipped/);
  });

  it('the brainchop check on a CT, before any work (the template is not even loaded)', async () => {
    // An ellipsoidal head of 3 mm voxels in Hounsfield units: air −1000, skull 1000, brain 30–36.
    const grid: Grid = { dims: [64, 72, 64], spacing: [3, 3, 3], origin: [-96, -108, -96], direction: IDENTITY_DIRECTION };
    const hu = new Int16Array(64 * 72 * 64);
    const mr = new Int16Array(hu.length);
    hu.forEach((_, n) => {
      const [x, y, z] = indexToWorld(grid, n % 64, Math.floor(n / 64) % 72, Math.floor(n / (64 * 72)));
      const r = Math.hypot(x / 70, y / 90, z / 80);
      hu[n] = r <= 0.9 ? 30 + (n % 7) : r <= 1 ? 1000 : -1000;
      mr[n] = r <= 0.9 ? 600 + (n % 7) : r <= 1 ? 900 : 3 + (n % 5);
    });
    // 'mni152-1mm' without a folder fails when loaded: the refusal must come first.
    const error = await defaceVolume({ grid, data: hu }, { brainCheck: 'brainchop', template: 'mni152-1mm', file: 'ct-head.nii.gz' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DefaceError);
    expect((error as Error).message).toBe('ct-head.nii.gz: the brainchop check needs a T1-weighted MR; this image holds CT values (Hounsfield units)');
    // The same head as an MR image passes that point and fails only at the template.
    await expect(defaceVolume({ grid, data: mr }, { brainCheck: 'brainchop', template: 'mni152-1mm' })).rejects.toThrow(/not shipped/);
    // Without the brain check the CT is accepted up to the template too.
    await expect(defaceVolume({ grid, data: hu }, { template: 'mni152-1mm' })).rejects.toThrow(/not shipped/);
  });

  it(
    'an image that is not a head: registration matches nothing',
    async () => {
      const grid: Grid = { dims: [100, 100, 100], spacing: [2, 2, 2], origin: [-100, -100, -100], direction: IDENTITY_DIRECTION };
      const data = new Float32Array(1_000_000);
      let seed = 1;
      for (let n = 0; n < data.length; n++) {
        seed = (seed * 16807) % 2147483647;
        data[n] = (seed / 2147483647) * 100;
      }
      await expect(defaceVolume({ grid, data })).rejects.toThrow(/registration did not converge or this is not a head/);
    },
    180_000,
  );
});

describe('defaceVolume on a head', () => {
  // The subject: the shipped template seen through a known affine (subject → template: scale 0.95,
  // a 6° roll, shifted), on a 1.5 mm grid with an oblique-free but flipped orientation, as int16.
  const truth: AffineTransform = {
    matrix: [0.95, 0, 0, 0, 0.95 * Math.cos(0.1), -0.95 * Math.sin(0.1), 0, 0.95 * Math.sin(0.1), 0.95 * Math.cos(0.1)],
    translation: [4, -3, 6],
  };
  let subject: Volume<Int16Array>;
  let result: DefaceResult;
  let template: DefaceTemplate;

  beforeAll(async () => {
    template = await loadDefaceTemplate('avg152-2mm');
    const aligned = axisAlignedGrid(template.image.grid, 1.5);
    const grid: Grid = { ...aligned, direction: [-1, 0, 0, 0, 1, 0, 0, 0, 1], origin: [aligned.origin[0] + (aligned.dims[0] - 1) * 1.5, aligned.origin[1] - 15, aligned.origin[2] - 10] };
    const values = resampleLinear(template.image, grid, truth);
    subject = { grid, data: Int16Array.from(values.data, (v) => Math.round(v * 1000)) };
    const before = subject.data.slice();
    result = await defaceVolume(subject, { loadedTemplate: template });
    expect(Array.from(subject.data.subarray(0, 1000))).toEqual(Array.from(before.subarray(0, 1000)));
    expect(Buffer.from(subject.data.buffer).equals(Buffer.from(before.buffer))).toBe(true);
  }, 180_000);

  it('returns an image of the same grid and kind, the face at the background, the brain untouched', () => {
    expect(result.defaced.grid).toBe(subject.grid);
    expect(result.defaced.data).toBeInstanceOf(Int16Array);
    expect(result.background).toBe(backgroundValue(subject));
    expect(result.metrics.registration.converged).toBe(true);
    expect(result.metrics.registration.similarity).toBeGreaterThan(DEFAULT_MIN_SIMILARITY);
    expect(result.metrics.faceRemovedFraction).toBeGreaterThanOrEqual(0.95);
    expect(result.metrics.faceRegionVoxels).toBeGreaterThan(10_000);
    expect(result.metrics.brainVoxelsAltered).toBe(0);
    expect(result.metrics.brainDice).toBe(1);
    // Checked here directly, not through the metrics: no carried brain voxel changed.
    let changedInBrain = 0;
    let changed = 0;
    let changedOutsideRemoved = 0;
    for (let n = 0; n < subject.data.length; n++) {
      if (result.defaced.data[n] !== subject.data[n]) {
        changed++;
        if (result.brainMask.data[n]) changedInBrain++;
        if (!result.faceMask.data[n]) changedOutsideRemoved++;
      }
    }
    expect(changed).toBeGreaterThan(1000);
    expect(changedInBrain).toBe(0);
    expect(changedOutsideRemoved).toBe(0);
  });

  it('carries the masks to where the known transform puts them', () => {
    const subjectPoint = (templatePoint: Vec3) => applyAffine(invertAffine(truth), templatePoint);
    const valueAt = (mask: Mask, p: Vec3) => {
      const [i, j, k] = worldToIndex(mask.grid)(...p).map(Math.round) as [number, number, number];
      return mask.data[i + mask.grid.dims[0] * (j + mask.grid.dims[1] * k)];
    };
    // Eyes and the bridge of the nose (template LPS mm) are removed; the brain's centre is brain.
    for (const p of [[32, -70, -30], [-32, -70, -30], [0, -85, -20]] as Vec3[]) expect(valueAt(result.faceMask, subjectPoint(p))).toBe(1);
    expect(valueAt(result.brainMask, subjectPoint([0, 10, 10]))).toBe(1);
    expect(valueAt(result.faceMask, subjectPoint([0, 10, 10]))).toBe(0);
    // The registered transform agrees with the truth within 2 mm at the eyes.
    for (const p of [[32, -70, -30], [-32, -70, -30]] as Vec3[]) {
      const q = applyAffine(result.transform, subjectPoint(p));
      expect(Math.hypot(q[0] - p[0], q[1] - p[1], q[2] - p[2])).toBeLessThan(2);
    }
  });

  it('removes the ears too when asked', async () => {
    const withEars = await defaceVolume(subject, { loadedTemplate: template, ears: true });
    const earPoint = applyAffine(invertAffine(truth), [-86, 40, -20]);
    const [i, j, k] = worldToIndex(subject.grid)(...earPoint).map(Math.round) as [number, number, number];
    const n = i + subject.grid.dims[0] * (j + subject.grid.dims[1] * k);
    expect(result.faceMask.data[n]).toBe(0);
    expect(withEars.faceMask.data[n]).toBe(1);
    expect(withEars.metrics.brainVoxelsAltered).toBe(0);
    expect(withEars.metrics.faceRegionVoxels).toBeGreaterThan(result.metrics.faceRegionVoxels);
  }, 180_000);
});

describe('the shipped template files', () => {
  it('exist where loadDefaceTemplate looks and share one grid', async () => {
    const files = TEMPLATE_FILES['avg152-2mm'];
    const image = await readNifti(path.join(DEFACE_ASSETS_DIR, files.image));
    const brain = await readNifti(path.join(DEFACE_ASSETS_DIR, files.brainMask));
    expect(image.grid.dims).toEqual([91, 109, 91]);
    expect(brain.grid).toEqual(image.grid);
    expect(composeAffine).toBeTypeOf('function');
  });
});
