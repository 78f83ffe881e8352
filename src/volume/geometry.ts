/**
 * Grid arithmetic shared by the readers: voxel index ↔ patient coordinates (the convention of
 * volume.ts: centre of voxel (i, j, k) = origin + direction · (spacing ⊙ [i, j, k])), small
 * vector helpers, and the comparison of two grids.
 */
import type { Grid, Vec3 } from './volume.js';

export function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function norm(a: Vec3): number {
  return Math.hypot(a[0], a[1], a[2]);
}

export function subtract(a: Vec3, b: Vec3): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

/** Column `axis` (0 = i, 1 = j, 2 = k) of a grid's direction matrix. */
export function axisOf(grid: Grid, axis: 0 | 1 | 2): Vec3 {
  const d = grid.direction;
  return [d[3 * axis]!, d[3 * axis + 1]!, d[3 * axis + 2]!];
}

/** Patient coordinates (LPS, mm) of a point given in continuous voxel index space. */
export function indexToWorld(grid: Grid, i: number, j: number, k: number): Vec3 {
  const d = grid.direction;
  const [si, sj, sk] = grid.spacing;
  const [ox, oy, oz] = grid.origin;
  const a = i * si;
  const b = j * sj;
  const c = k * sk;
  return [
    ox + d[0]! * a + d[3]! * b + d[6]! * c,
    oy + d[1]! * a + d[4]! * b + d[7]! * c,
    oz + d[2]! * a + d[5]! * b + d[8]! * c,
  ];
}

/**
 * The inverse of the grid's affine map: patient coordinates → continuous voxel index. Built once
 * and applied to many points (contour vertices, frame positions).
 */
export interface WorldToIndex {
  (x: number, y: number, z: number): Vec3;
}

export function worldToIndex(grid: Grid): WorldToIndex {
  const d = grid.direction;
  const [si, sj, sk] = grid.spacing;
  // M = direction · diag(spacing), column-major: column c holds axis c scaled.
  const m00 = d[0]! * si, m10 = d[1]! * si, m20 = d[2]! * si;
  const m01 = d[3]! * sj, m11 = d[4]! * sj, m21 = d[5]! * sj;
  const m02 = d[6]! * sk, m12 = d[7]! * sk, m22 = d[8]! * sk;
  const det = m00 * (m11 * m22 - m12 * m21) - m01 * (m10 * m22 - m12 * m20) + m02 * (m10 * m21 - m11 * m20);
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) {
    throw new RangeError('the grid is degenerate: its axes are not linearly independent or a spacing is zero');
  }
  const inv = 1 / det;
  const a00 = (m11 * m22 - m12 * m21) * inv, a01 = (m02 * m21 - m01 * m22) * inv, a02 = (m01 * m12 - m02 * m11) * inv;
  const a10 = (m12 * m20 - m10 * m22) * inv, a11 = (m00 * m22 - m02 * m20) * inv, a12 = (m02 * m10 - m00 * m12) * inv;
  const a20 = (m10 * m21 - m11 * m20) * inv, a21 = (m01 * m20 - m00 * m21) * inv, a22 = (m00 * m11 - m01 * m10) * inv;
  const [ox, oy, oz] = grid.origin;
  return (x, y, z) => {
    const px = x - ox, py = y - oy, pz = z - oz;
    return [a00 * px + a01 * py + a02 * pz, a10 * px + a11 * py + a12 * pz, a20 * px + a21 * py + a22 * pz];
  };
}

/** How far two grids may differ and still be the same grid. */
export interface GridTolerance {
  /** Relative difference of spacings (default 1e-4: NIfTI stores them as float32). */
  readonly spacing: number;
  /** Distance between origins, as a fraction of the smallest spacing (default 0.01). */
  readonly origin: number;
  /** Largest difference of a direction cosine (default 1e-4). */
  readonly direction: number;
}

export const DEFAULT_GRID_TOLERANCE: GridTolerance = { spacing: 1e-4, origin: 0.01, direction: 1e-4 };

const fmt = (v: readonly number[]): string => `[${v.map((x) => Number(x.toPrecision(7))).join(', ')}]`;

/**
 * Where grid `b` differs from grid `a` beyond the tolerance, in words ("spacing [1, 1, 2] vs
 * [1, 1, 3]"), or undefined when they are the same grid.
 */
export function gridDifference(a: Grid, b: Grid, tolerance: GridTolerance = DEFAULT_GRID_TOLERANCE): string | undefined {
  const problems: string[] = [];
  if (a.dims[0] !== b.dims[0] || a.dims[1] !== b.dims[1] || a.dims[2] !== b.dims[2]) {
    problems.push(`dimensions ${fmt(a.dims)} vs ${fmt(b.dims)}`);
  }
  const spacingOff = a.spacing.some((s, n) => Math.abs(s - b.spacing[n]!) > tolerance.spacing * Math.max(Math.abs(s), Math.abs(b.spacing[n]!)));
  if (spacingOff) problems.push(`spacing ${fmt(a.spacing)} vs ${fmt(b.spacing)} mm`);
  const originDistance = norm(subtract(a.origin, b.origin));
  if (originDistance > tolerance.origin * Math.min(...a.spacing, ...b.spacing)) {
    problems.push(`origin ${fmt(a.origin)} vs ${fmt(b.origin)} mm (${Number(originDistance.toPrecision(4))} mm apart)`);
  }
  if (a.direction.some((c, n) => Math.abs(c - (b.direction[n] ?? NaN)) > tolerance.direction || Number.isNaN(b.direction[n] ?? NaN))) {
    problems.push(`direction ${fmt(a.direction)} vs ${fmt(b.direction)}`);
  }
  return problems.length === 0 ? undefined : problems.join('; ');
}
