/**
 * The convex hull of the ROI mesh's vertices (IBSI 3.1 "Maximum 3D diameter", "Volume density
 * (convex hull)"), computed with quickhull3d, and the maximum distance between its vertices.
 */
// The bundle, not the package's main entry: see quickhull3d-bundle.d.ts.
import quickhull from 'quickhull3d/dist/quickhull3d.js';
import { RadiomicsInputError } from '../errors.js';
import { meshVolume, type TriangleMesh } from '../mesh.js';

/**
 * A convex hull as a closed triangle mesh: `vertices` holds only the hull's vertices (x y z
 * each, mm) and `faces` indexes into them, wound counter-clockwise seen from outside, so
 * `meshVolume` and `meshArea` of the hull are its volume and area.
 */
export type ConvexHull = TriangleMesh;

/** The convex hull of `points` (x y z each). Needs four points not in one plane. */
export function convexHull(points: Float64Array): ConvexHull {
  const n = points.length / 3;
  if (!Number.isInteger(n)) throw new RadiomicsInputError(`point coordinates come in threes, got ${points.length} numbers`);
  if (n < 4) throw new RadiomicsInputError(`a convex hull in 3-D needs at least 4 points, got ${n}`);
  const list: Float64Array[] = new Array<Float64Array>(n);
  for (let p = 0; p < n; p++) list[p] = points.subarray(3 * p, 3 * p + 3);
  let triangles: number[][];
  try {
    triangles = quickhull(list);
  } catch (e) {
    // quickhull3d fails with an internal TypeError on collinear points.
    throw new RadiomicsInputError(`the convex hull of ${n} points cannot be built (${e instanceof Error ? e.message : String(e)}): are they all on one line?`);
  }
  // Keep only the points the faces use, renumbered in first-use order.
  const renumber = new Int32Array(n).fill(-1);
  const kept: number[] = [];
  const faces = new Uint32Array(3 * triangles.length);
  let f = 0;
  for (const triangle of triangles) {
    for (const p of triangle) {
      if (renumber[p]! < 0) {
        renumber[p] = kept.length;
        kept.push(p);
      }
      faces[f++] = renumber[p]!;
    }
  }
  const vertices = new Float64Array(3 * kept.length);
  kept.forEach((p, i) => vertices.set(points.subarray(3 * p, 3 * p + 3), 3 * i));
  const hull = { vertices, faces };
  // Points in one plane give a flat "hull" of two-sided triangles (quickhull3d does not throw).
  if (!(meshVolume(hull) > 1e-12 * boxDiagonal(vertices) ** 3)) {
    throw new RadiomicsInputError(`the ${n} points lie in one plane: their convex hull has no volume`);
  }
  return hull;
}

/**
 * The largest distance between two of `points` (x y z each), by comparing every pair: used on
 * the hull's vertices, which contain the two most distant points of the mesh (IBSI L0JK).
 */
export function maximumDistance(points: Float64Array): number {
  const n = points.length / 3;
  let best = 0;
  for (let i = 0; i < n; i++) {
    const x = points[3 * i]!;
    const y = points[3 * i + 1]!;
    const z = points[3 * i + 2]!;
    for (let j = i + 1; j < n; j++) {
      const dx = points[3 * j]! - x;
      const dy = points[3 * j + 1]! - y;
      const dz = points[3 * j + 2]! - z;
      const d2 = dx * dx + dy * dy + dz * dz;
      if (d2 > best) best = d2;
    }
  }
  return Math.sqrt(best);
}

function boxDiagonal(points: Float64Array): number {
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (let p = 0; p < points.length; p += 3) {
    for (let a = 0; a < 3; a++) {
      const v = points[p + a]!;
      if (v < lo[a]!) lo[a] = v;
      if (v > hi[a]!) hi[a] = v;
    }
  }
  return Math.hypot(hi[0]! - lo[0]!, hi[1]! - lo[1]!, hi[2]! - lo[2]!);
}
