import { describe, expect, test } from 'vitest';
import {
  aboveThreshold,
  alignedGrid,
  cubicSplineCoefficients,
  interpolateMask,
  interpolateVolume,
  resample,
  roundToMultiple,
  samplePositions,
} from '../../../src/radiomics/interpolate.js';
import type { Grid, Vec3, Volume } from '../../../src/volume/volume.js';

const IDENTITY = [1, 0, 0, 0, 1, 0, 0, 0, 1];

function grid(dims: Vec3, spacing: Vec3, origin: Vec3 = [0, 0, 0], direction: readonly number[] = IDENTITY): Grid {
  return { dims, spacing, origin, direction };
}

/** A volume whose voxels hold f(i, j, k). */
function volumeOf(g: Grid, f: (i: number, j: number, k: number) => number): Volume<Float64Array> {
  const [nx, ny, nz] = g.dims;
  const data = new Float64Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) data[i + nx * (j + ny * k)] = f(i, j, k);
  return { grid: g, data };
}

/** World coordinates of the centre of voxel (i, j, k). */
function world(g: Grid, i: number, j: number, k: number): Vec3 {
  const d = g.direction;
  const p = [i * g.spacing[0], j * g.spacing[1], k * g.spacing[2]];
  return [0, 1, 2].map((r) => g.origin[r]! + d[r]! * p[0]! + d[3 + r]! * p[1]! + d[6 + r]! * p[2]!) as unknown as Vec3;
}

function centre(g: Grid): Vec3 {
  return world(g, (g.dims[0] - 1) / 2, (g.dims[1] - 1) / 2, (g.dims[2] - 1) / 2);
}

describe('IBSI grid alignment (align grid centres)', () => {
  test('n′ = ceil(n·s/s′) voxels per axis, without gaining a voxel to rounding', () => {
    const g = grid([204, 201, 60], [0.977, 0.977, 3]);
    const a = alignedGrid(g, [2, 2, 2], '3D');
    expect(a.grid.dims).toEqual([100, 99, 90]); // 99.65 → 100, 98.19 → 99, 90 exactly → 90
    expect(a.grid.spacing).toEqual([2, 2, 2]);
    expect(alignedGrid(grid([3, 3, 3], [1, 1, 1]), [0.1 * 3, 1, 1], '3D').grid.dims[0]).toBe(10); // 3/0.30000000000000004
    expect(alignedGrid(grid([1, 1, 1], [1, 1, 1]), [5, 5, 5], '3D').grid.dims).toEqual([1, 1, 1]);
  });

  test('the new grid is centred on the original grid, whatever the origin and direction', () => {
    const direction = [0, 1, 0, -1, 0, 0, 0, 0, 1]; // i along +y, j along −x
    const g = grid([7, 5, 4], [1.5, 0.8, 3], [10, -20, 5], direction);
    const a = alignedGrid(g, [2, 2, 2], '3D');
    expect(a.grid.dims).toEqual([6, 2, 6]);
    const [cx, cy, cz] = centre(a.grid);
    const [ox, oy, oz] = centre(g);
    expect(cx).toBeCloseTo(ox, 12);
    expect(cy).toBeCloseTo(oy, 12);
    expect(cz).toBeCloseTo(oz, 12);
    expect(a.grid.direction).toEqual(direction);
  });

  test('positions on the original grid: 3 mm → 2 mm gives exact halves', () => {
    const a = alignedGrid(grid([4, 4, 60], [1, 1, 3]), [1, 1, 2], '3D');
    const z = samplePositions(a.axes[2]);
    // p(m) = ((n − 1)s − (n′ − 1)s′)/(2s) + m·s′/s = −1/6 + 2m/3
    expect(z[0]).toBeCloseTo(-1 / 6, 14);
    expect(z[1]).toBe(0.5);
    expect(z[4]).toBe(2.5);
    expect(samplePositions(a.axes[2], 3, 6)).toEqual(z.slice(3, 6));
  });

  test('the 2D approach resamples in-plane only', () => {
    const g = grid([10, 10, 7], [0.5, 0.5, 3]);
    const a = alignedGrid(g, [2, 2, 2], '2D');
    expect(a.grid.dims).toEqual([3, 3, 7]);
    expect(a.grid.spacing).toEqual([2, 2, 3]);
    expect(samplePositions(a.axes[2])).toEqual(Float64Array.from([0, 1, 2, 3, 4, 5, 6]));
    expect(a.grid.origin[2]).toBe(0);
  });
});

describe('intensity interpolation', () => {
  const g = grid([9, 8, 7], [1, 1.5, 2]);
  const ramp = (x: number, y: number, z: number) => 3 * x - 2 * y + 0.5 * z + 7;
  const image = volumeOf(g, ramp);

  test('linear interpolation of a linear ramp is exact inside the grid', () => {
    const out = interpolateVolume(image, [0.7, 1.1, 1.3], 'linear', '3D');
    const a = alignedGrid(g, [0.7, 1.1, 1.3], '3D');
    const [px, py, pz] = a.axes.map((ax) => samplePositions(ax));
    const [nx, ny] = out.grid.dims;
    let checked = 0;
    for (let k = 0; k < out.grid.dims[2]; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const [x, y, z] = [px![i]!, py![j]!, pz![k]!];
          const inside = x >= 0 && x <= 8 && y >= 0 && y <= 7 && z >= 0 && z <= 6;
          // Outside, the edge voxels repeat outwards: the position is clamped to the grid.
          const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
          const expected = inside ? ramp(x, y, z) : ramp(clamp(x, 9), clamp(y, 8), clamp(z, 7));
          expect(out.data[i + nx * (j + ny * k)]).toBeCloseTo(expected, 10);
          checked++;
        }
      }
    }
    expect(checked).toBe(out.data.length);
  });

  test('nearest neighbour takes the voxel whose centre is nearest', () => {
    const data = Float64Array.from([10, 20, 30, 40]);
    const out = resample(data, [4, 1, 1], [Float64Array.from([-0.7, 0.2, 0.6, 1.49, 2.51, 3.9]), Float64Array.of(0), Float64Array.of(0)], 'nearest');
    expect([...out]).toEqual([10, 10, 20, 20, 40, 40]);
  });

  test('cubic spline interpolation passes through the samples and reproduces a cubic away from the edges', () => {
    const n = 40;
    const cubic = (x: number) => 0.01 * x ** 3 - 0.3 * x * x + 2 * x - 5;
    const data = Float64Array.from({ length: n }, (_, i) => cubic(i));
    const at = (ps: number[]) => resample(data, [n, 1, 1], [Float64Array.from(ps), Float64Array.of(0), Float64Array.of(0)], 'cubic');
    // Through the samples (positions a hair off the grid, so the spline is evaluated, not copied).
    const nodes = at([3 + 1e-12, 17 + 1e-12, 38 + 1e-12]);
    expect(nodes[0]).toBeCloseTo(cubic(3), 9);
    expect(nodes[1]).toBeCloseTo(cubic(17), 9);
    expect(nodes[2]).toBeCloseTo(cubic(38), 9);
    // Polynomials up to degree 3 are reproduced where the edge padding is out of reach.
    const between = [15.25, 19.5, 22.8];
    at(between).forEach((v, i) => expect(v).toBeCloseTo(cubic(between[i]!), 6));
    // Linear interpolation would be off by the curvature there.
    const lin = resample(data, [n, 1, 1], [Float64Array.of(19.5), Float64Array.of(0), Float64Array.of(0)], 'linear');
    expect(Math.abs(lin[0]! - cubic(19.5))).toBeGreaterThan(0.01);
  });

  test('the spline prefilter turns samples into coefficients that reproduce the samples', () => {
    const samples = [4, -2, 7, 7, 0, 3, 11, -5];
    const c = Float64Array.from(samples);
    cubicSplineCoefficients(c);
    // s[i] = (c[i−1] + 4c[i] + c[i+1]) / 6, with mirror boundaries c[−1] = c[1], c[n] = c[n−2].
    samples.forEach((s, i) => {
      const left = c[i === 0 ? 1 : i - 1]!;
      const right = c[i === samples.length - 1 ? samples.length - 2 : i + 1]!;
      expect((left + 4 * c[i]! + right) / 6).toBeCloseTo(s, 10);
    });
  });

  test('a constant image stays constant for every method, outside the grid too', () => {
    const flat = volumeOf(grid([5, 4, 3], [1, 1, 1]), () => 42);
    for (const method of ['nearest', 'linear', 'cubic'] as const) {
      const out = interpolateVolume(flat, [0.3, 0.45, 0.7], method, '3D');
      for (const v of out.data) expect(v).toBeCloseTo(42, 9);
    }
  });

  test('whole-voxel positions copy the voxels (2D approach: slices untouched)', () => {
    const g2 = grid([6, 6, 3], [1, 1, 2.5]);
    const img = volumeOf(g2, (i, j, k) => i + 10 * j + 100 * k);
    const out = interpolateVolume(img, [2, 2, 2], 'cubic', '2D');
    expect(out.grid.dims).toEqual([3, 3, 3]);
    expect(out.grid.spacing).toEqual([2, 2, 2.5]);
    // Slice k of the result is slice k of the image, resampled in-plane: a plane stays a plane.
    for (let k = 0; k < 3; k++) expect(out.data[9 * k]! - out.data[0]!).toBeCloseTo(100 * k, 9);
  });

  test('resample does not modify its input', () => {
    const data = Float64Array.from({ length: 24 }, (_, i) => i * i);
    const before = Float64Array.from(data);
    resample(data, [4, 3, 2], [Float64Array.of(0.5, 2.5), Float64Array.of(1.2), Float64Array.of(0.3)], 'cubic');
    expect(data).toEqual(before);
  });
});

describe('mask interpolation and the partial-volume threshold', () => {
  test('a value of exactly the threshold is inside, even when floating point makes it 0.4999…', () => {
    expect(aboveThreshold(0.5, 0.5)).toBe(true);
    expect(aboveThreshold(0.49999999999, 0.5)).toBe(true);
    expect(aboveThreshold(0.4999, 0.5)).toBe(false);
    expect(aboveThreshold(0.3, 0.25)).toBe(true);
  });

  test('a slab of slices interpolated from 3 mm to 2 mm keeps the new slices at least half inside', () => {
    // Original slices k = 1..4 of 10 inside; new slices at positions (2m − 0.5)/3 (−0.17, 0.5, 1.17, …).
    const g = grid([3, 3, 10], [1, 1, 3]);
    const data = new Uint8Array(90);
    for (let k = 1; k <= 4; k++) for (let p = 0; p < 9; p++) data[p + 9 * k] = 1;
    const out = interpolateMask({ grid: g, data }, [1, 1, 2], 'linear', 0.5, '3D');
    expect(out.grid.dims).toEqual([3, 3, 15]);
    const positions = samplePositions(alignedGrid(g, [1, 1, 2], '3D').axes[2]);
    const inside = [...positions].map((_, m) => out.data[9 * m + 4]);
    // The linearly interpolated slab is 1 on [1, 4] and falls to 0 one slice away: ≥ 0.5 on [0.5, 4.5].
    const expected = [...positions].map((p) => (p >= 0.5 - 1e-9 && p <= 4.5 + 1e-9 ? 1 : 0));
    expect(inside).toEqual(expected);
    // 0.5, 1.17, 1.83, 2.5, 3.17, 3.83, 4.5: the first and the last are exactly half inside.
    expect(expected.filter(Boolean).length).toBe(7);
    // A stricter threshold drops the two slices at exactly half.
    const strict = interpolateMask({ grid: g, data }, [1, 1, 2], 'linear', 0.6, '3D');
    expect(strict.data.reduce((a, b) => a + b, 0)).toBe(9 * 5);
  });

  test('nearest-neighbour mask interpolation', () => {
    const g = grid([4, 1, 1], [2, 1, 1]);
    const out = interpolateMask({ grid: g, data: Uint8Array.from([0, 1, 1, 0]) }, [1, 1, 1], 'nearest', 0.5, '3D');
    // Positions −0.25, 0.25, 0.75, …, 3.25.
    expect([...out.data]).toEqual([0, 0, 1, 1, 1, 1, 0, 0]);
  });

  test('mask labels other than 1 count as inside', () => {
    const g = grid([2, 1, 1], [1, 1, 1]);
    const out = interpolateMask({ grid: g, data: Uint8Array.from([0, 7]) }, [0.5, 1, 1], 'linear', 0.5, '3D');
    expect([...out.data]).toEqual([0, 0, 1, 1]);
  });
});

describe('intensity rounding', () => {
  test('to the nearest multiple, halves to the even multiple (numpy)', () => {
    expect(roundToMultiple(12.4, 1)).toBe(12);
    expect(roundToMultiple(12.6, 1)).toBe(13);
    expect(roundToMultiple(12.5, 1)).toBe(12);
    expect(roundToMultiple(13.5, 1)).toBe(14);
    expect(roundToMultiple(-2.5, 1)).toBe(-2);
    expect(roundToMultiple(-3.5, 1)).toBe(-4);
    expect(roundToMultiple(-3.2, 1)).toBe(-3);
    expect(roundToMultiple(7.3, 0.5)).toBe(7.5);
    expect(roundToMultiple(-999.7, 1)).toBe(-1000);
  });
});
