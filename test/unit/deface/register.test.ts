import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { indexToWorld } from '../../../src/volume/geometry.js';
import { readNifti } from '../../../src/volume/nifti.js';
import {
  applyAffine,
  axisAlignedGrid,
  composeAffine,
  downsampleByBlocks,
  elastixAffineTransform,
  IDENTITY_TRANSFORM,
  invertAffine,
  RegistrationError,
  registerAffine,
  resampleLinear,
  resampleMask,
  singularValues,
  toFloat32,
  type AffineTransform,
} from '../../../src/volume/deface/register.js';
import { DEFACE_ASSETS_DIR, TEMPLATE_FILES } from '../../../src/volume/deface/templates.js';
import type { Grid, Mask, Vec3 } from '../../../src/volume/volume.js';

const IDENTITY_DIRECTION = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** Rotation by `degrees` about a unit axis (Rodrigues), row-major. */
function rotation(axis: Vec3, degrees: number): number[] {
  const [x, y, z] = axis;
  const t = (degrees * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  const C = 1 - c;
  return [c + x * x * C, x * y * C - z * s, x * z * C + y * s, y * x * C + z * s, c + y * y * C, y * z * C - x * s, z * x * C - y * s, z * y * C + x * s, c + z * z * C];
}

function scaled(m: number[], s: number): number[] {
  return m.map((v) => v * s);
}

function distance(a: Vec3, b: Vec3): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

describe('affine algebra', () => {
  const t: AffineTransform = { matrix: scaled(rotation([0.6, 0, 0.8], 25), 1.2), translation: [3, -4, 5] };

  it('inverts and composes: T⁻¹ ∘ T is the identity, composition applies the inner map first', () => {
    const p: Vec3 = [10, -20, 30];
    const back = applyAffine(composeAffine(invertAffine(t), t), p);
    expect(distance(back, p)).toBeLessThan(1e-9);
    const shift: AffineTransform = { matrix: IDENTITY_TRANSFORM.matrix, translation: [1, 0, 0] };
    // shift after t, vs t after shift
    expect(distance(applyAffine(composeAffine(shift, t), p), applyAffine(shift, applyAffine(t, p)))).toBeLessThan(1e-9);
    expect(distance(applyAffine(composeAffine(t, shift), p), applyAffine(t, applyAffine(shift, p)))).toBeLessThan(1e-9);
  });

  it('refuses to invert a singular transform', () => {
    expect(() => invertAffine({ matrix: [1, 0, 0, 0, 1, 0, 0, 0, 0], translation: [0, 0, 0] })).toThrow(RangeError);
  });

  it('gives the singular values of R1 · diag(3, 2, 0.5) · R2', () => {
    const r1 = { matrix: rotation([0, 0, 1], 40), translation: [0, 0, 0] as Vec3 };
    const d = { matrix: [3, 0, 0, 0, 2, 0, 0, 0, 0.5], translation: [0, 0, 0] as Vec3 };
    const r2 = { matrix: rotation([0.6, 0.8, 0], -70), translation: [0, 0, 0] as Vec3 };
    const m = composeAffine(r1, composeAffine(d, r2)).matrix;
    const values = singularValues(m);
    expect(values[0]).toBeCloseTo(3, 9);
    expect(values[1]).toBeCloseTo(2, 9);
    expect(values[2]).toBeCloseTo(0.5, 9);
    expect(singularValues([2, 0, 0, 0, 2, 0, 0, 0, 2])).toEqual([2, 2, 2]);
  });
});

describe('axisAlignedGrid', () => {
  it('covers every voxel centre of an oblique grid with an identity-direction grid', () => {
    const r = rotation([0, 0, 1], 30);
    const grid: Grid = { dims: [20, 30, 10], spacing: [1, 0.5, 3], origin: [5, -7, 2], direction: [r[0]!, r[3]!, r[6]!, r[1]!, r[4]!, r[7]!, r[2]!, r[5]!, r[8]!] };
    const aligned = axisAlignedGrid(grid, 2);
    expect(aligned.direction).toEqual(IDENTITY_DIRECTION);
    expect(aligned.spacing).toEqual([2, 2, 2]);
    for (const i of [0, 19]) {
      for (const j of [0, 29]) {
        for (const k of [0, 9]) {
          const p = indexToWorld(grid, i, j, k);
          for (let a = 0; a < 3; a++) {
            expect(p[a]).toBeGreaterThanOrEqual(aligned.origin[a]! - 1);
            expect(p[a]).toBeLessThanOrEqual(aligned.origin[a]! + (aligned.dims[a]! - 1) * 2 + 1);
          }
        }
      }
    }
  });
});

describe('resampleMask', () => {
  // Source: a 40³ grid of 1 mm with the identity direction; a box of 10 × 10 × 5 voxels.
  const source: Grid = { dims: [40, 40, 40], spacing: [1, 1, 1], origin: [0, 0, 0], direction: IDENTITY_DIRECTION };
  const box = (x: number, y: number, z: number) => x >= 10 && x <= 19 && y >= 5 && y <= 14 && z >= 20 && z <= 24;
  const data = new Uint8Array(40 * 40 * 40);
  for (let k = 0; k < 40; k++) for (let j = 0; j < 40; j++) for (let i = 0; i < 40; i++) if (box(i, j, k)) data[i + 40 * (j + 40 * k)] = 1;
  const mask: Mask = { grid: source, data };

  it('carries a box through a rotation and translation to where the transform says', () => {
    // Target grid: axes i = +y, j = −x (a different orientation), origin elsewhere.
    const target: Grid = { dims: [50, 50, 40], spacing: [1, 1, 1], origin: [30, -20, 0], direction: [0, 1, 0, -1, 0, 0, 0, 0, 1] };
    // target → source: rotate 90° about z, then shift by (5, 2, −3).
    const toSource: AffineTransform = { matrix: [0, -1, 0, 1, 0, 0, 0, 0, 1], translation: [5, 2, -3] };
    const carried = resampleMask(mask, target, toSource);
    let count = 0;
    let wrong = 0;
    const centroid = [0, 0, 0];
    for (let k = 0; k < 40; k++) {
      for (let j = 0; j < 50; j++) {
        for (let i = 0; i < 50; i++) {
          const inside = carried.data[i + 50 * (j + 50 * k)] === 1;
          // Every target centre maps onto a source centre exactly: the expected mask is the box test.
          const q = applyAffine(toSource, indexToWorld(target, i, j, k));
          if (inside !== box(q[0], q[1], q[2])) wrong++;
          if (inside) {
            count++;
            const p = indexToWorld(target, i, j, k);
            for (let a = 0; a < 3; a++) centroid[a]! += p[a]!;
          }
        }
      }
    }
    expect(wrong).toBe(0);
    expect(count).toBe(10 * 10 * 5);
    // The box's centre (14.5, 9.5, 22) mapped back by the inverse transform.
    const expected = applyAffine(invertAffine(toSource), [14.5, 9.5, 22]);
    expect(distance(centroid.map((c) => c / count) as unknown as Vec3, expected)).toBeLessThan(1e-9);
  });

  it('rounds to the nearest source voxel and leaves points outside the source out', () => {
    const coarse: Grid = { dims: [20, 20, 20], spacing: [2, 2, 2], origin: [0.4, 0.4, 0.4], direction: IDENTITY_DIRECTION };
    const carried = resampleMask(mask, coarse);
    for (let k = 0; k < 20; k++) {
      for (let j = 0; j < 20; j++) {
        for (let i = 0; i < 20; i++) {
          const p = indexToWorld(coarse, i, j, k);
          expect(carried.data[i + 20 * (j + 20 * k)]).toBe(box(Math.round(p[0]), Math.round(p[1]), Math.round(p[2])) ? 1 : 0);
        }
      }
    }
    const away = resampleMask(mask, coarse, { matrix: IDENTITY_TRANSFORM.matrix, translation: [500, 0, 0] });
    expect(away.data.every((v) => v === 0)).toBe(true);
  });
});

describe('resampleLinear', () => {
  it('reproduces a linear function exactly through an oblique affine', () => {
    const grid: Grid = { dims: [30, 30, 30], spacing: [1, 1.5, 2], origin: [-10, -20, -30], direction: IDENTITY_DIRECTION };
    const f = (p: Vec3) => 3 * p[0] - 2 * p[1] + 0.5 * p[2] + 7;
    const data = new Float32Array(27_000);
    for (let k = 0; k < 30; k++) for (let j = 0; j < 30; j++) for (let i = 0; i < 30; i++) data[i + 30 * (j + 30 * k)] = f(indexToWorld(grid, i, j, k));
    const target: Grid = { dims: [12, 12, 12], spacing: [1.3, 1.3, 1.3], origin: [-2, -5, -6], direction: IDENTITY_DIRECTION };
    const t: AffineTransform = { matrix: scaled(rotation([0, 0.6, 0.8], 20), 0.9), translation: [1, 2, -3] };
    const out = resampleLinear({ grid, data }, target, t, { outside: NaN });
    let checked = 0;
    for (let k = 0; k < 12; k++) {
      for (let j = 0; j < 12; j++) {
        for (let i = 0; i < 12; i++) {
          const v = out.data[i + 12 * (j + 12 * k)]!;
          if (Number.isNaN(v)) continue;
          checked++;
          expect(v).toBeCloseTo(f(applyAffine(t, indexToWorld(target, i, j, k))), 3);
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('gives `outside` past half a voxel beyond the source', () => {
    const grid: Grid = { dims: [4, 4, 4], spacing: [1, 1, 1], origin: [0, 0, 0], direction: IDENTITY_DIRECTION };
    const src = { grid, data: new Float32Array(64).fill(5) };
    const target: Grid = { dims: [3, 1, 1], spacing: [1, 1, 1], origin: [3.4, 1, 1], direction: IDENTITY_DIRECTION };
    expect(Array.from(resampleLinear(src, target, IDENTITY_TRANSFORM, { outside: -1 }).data)).toEqual([5, -1, -1]);
  });
});

describe('downsampleByBlocks', () => {
  it('averages blocks and places the result at the block centres', () => {
    const grid: Grid = { dims: [8, 6, 4], spacing: [0.5, 1, 1], origin: [1, 2, 3], direction: [0, 1, 0, -1, 0, 0, 0, 0, 1] };
    const f = (p: Vec3) => 2 * p[0] + p[1] - 3 * p[2];
    const data = new Float64Array(8 * 6 * 4);
    for (let k = 0; k < 4; k++) for (let j = 0; j < 6; j++) for (let i = 0; i < 8; i++) data[i + 8 * (j + 6 * k)] = f(indexToWorld(grid, i, j, k));
    const down = downsampleByBlocks({ grid, data }, [4, 2, 2]);
    expect(down.grid.dims).toEqual([2, 3, 2]);
    expect(down.grid.spacing).toEqual([2, 2, 2]);
    for (let k = 0; k < 2; k++) {
      for (let j = 0; j < 3; j++) {
        for (let i = 0; i < 2; i++) {
          // The mean of a linear function over a block is its value at the block's centre.
          expect(down.data[i + 2 * (j + 3 * k)]).toBeCloseTo(f(indexToWorld(down.grid, i, j, k)), 4);
        }
      }
    }
  });
});

describe('elastixAffineTransform', () => {
  it('reads x ↦ A(x − c) + t + c from TransformParameters and CenterOfRotationPoint', () => {
    const a = [1.1, 0.1, 0, -0.05, 0.95, 0.02, 0, 0.03, 1.02];
    const object = [
      {
        Transform: ['AffineTransform'],
        NumberOfParameters: ['12'],
        TransformParameters: [...a, 4, -5, 6].map(String),
        CenterOfRotationPoint: ['10', '20', '-30'],
        HowToCombineTransforms: ['Compose'],
      },
    ];
    const t = elastixAffineTransform(object);
    const x: Vec3 = [3, -8, 15];
    const c: Vec3 = [10, 20, -30];
    const ax = applyAffine({ matrix: a, translation: [0, 0, 0] }, [x[0] - c[0], x[1] - c[1], x[2] - c[2]]);
    expect(distance(applyAffine(t, x), [ax[0] + 4 + c[0], ax[1] - 5 + c[1], ax[2] + 6 + c[2]])).toBeLessThan(1e-9);
  });

  it('composes a chain of maps, each applied to the output of the ones before', () => {
    const shift = (x: number) => ({ Transform: ['AffineTransform'], TransformParameters: ['1', '0', '0', '0', '1', '0', '0', '0', '1', String(x), '0', '0'], CenterOfRotationPoint: ['0', '0', '0'] });
    const double = { Transform: ['AffineTransform'], TransformParameters: ['2', '0', '0', '0', '2', '0', '0', '0', '2', '0', '0', '0'], CenterOfRotationPoint: ['0', '0', '0'] };
    // shift by 1, then double: x = 1 → (1 + 1) · 2 = 4
    expect(applyAffine(elastixAffineTransform([shift(1), double]), [1, 0, 0])[0]).toBeCloseTo(4, 12);
    expect(applyAffine(elastixAffineTransform([double, shift(1)]), [1, 0, 0])[0]).toBeCloseTo(3, 12);
  });

  it('refuses transforms it does not read', () => {
    expect(() => elastixAffineTransform([{ Transform: ['EulerTransform'], TransformParameters: ['0', '0', '0', '0', '0', '0'] }])).toThrow(RegistrationError);
    expect(() => elastixAffineTransform([{ Transform: ['AffineTransform'], TransformParameters: ['1', '2'], CenterOfRotationPoint: ['0', '0', '0'] }])).toThrow(/12 numbers/);
    expect(() => elastixAffineTransform([])).toThrow(RegistrationError);
  });
});

describe('registerAffine', () => {
  it(
    'recovers a known affine between the template and a transformed copy within 2 mm at the face and the brain',
    async () => {
      const files = TEMPLATE_FILES['avg152-2mm'];
      const template = await readNifti(path.join(DEFACE_ASSETS_DIR, files.image));
      const moving = resampleLinear(template, axisAlignedGrid(template.grid, 2));
      // The subject: the template seen through subject → template = scale 1.05, a 7° pitch and a
      // 4° turn, shifted by (3, −6, 5) mm.
      const truth: AffineTransform = {
        matrix: scaled(composeAffine({ matrix: rotation([1, 0, 0], 7), translation: [0, 0, 0] }, { matrix: rotation([0, 0, 1], 4), translation: [0, 0, 0] }).matrix, 1.05),
        translation: [3, -6, 5],
      };
      const fixed = toFloat32(resampleLinear(template, moving.grid, truth));
      const { transform, ms } = await registerAffine(fixed, moving, { resolutions: 3, iterations: 200, samples: 2000 });
      expect(ms).toBeGreaterThan(0);
      // Template points (LPS, mm): nose bridge, both eyes, upper lip, frontal pole, vertex, occiput.
      const landmarks: Vec3[] = [
        [0, -85, -20],
        [32, -60, -30],
        [-32, -60, -30],
        [0, -85, -60],
        [0, -70, 0],
        [0, 0, 75],
        [0, 100, 0],
      ];
      const back = invertAffine(truth);
      for (const target of landmarks) {
        const subjectPoint = applyAffine(back, target);
        expect(distance(applyAffine(transform, subjectPoint), target)).toBeLessThan(2);
      }
    },
    180_000,
  );
});
