/**
 * The minimum volume enclosing ellipsoid of a point set (IBSI 3.1 "Volume density (minimum
 * volume enclosing ellipsoid)", SWZ1, BRI8) by Khachiyan's barycentric coordinate ascent
 * (Khachiyan 1996; in the form of Todd & Yıldırım 2007 and Moshtagh 2005), stopped when the
 * weights change by less than IBSI's default tolerance τ = 0.001.
 */
import { RadiomicsInputError } from '../errors.js';
import { symmetricEigen3 } from './symmetric-eigen.js';

/** IBSI's default stopping tolerance for Khachiyan's method. */
export const MVEE_TOLERANCE = 0.001;

export interface EnclosingEllipsoid {
  /** Semi-axis lengths (mm), longest first. */
  readonly semiAxes: readonly [number, number, number];
  /** Centre (mm). */
  readonly centre: readonly [number, number, number];
  /** Iterations used. */
  readonly iterations: number;
}

/**
 * The ellipsoid {x : (x − c)ᵀ A (x − c) ≤ 1} of (nearly) least volume holding `points`
 * (x y z each; the convex hull's vertices suffice and are far fewer than the mesh's).
 *
 * Each point q_i = (p_i, 1) has a weight u_i (initially 1/N). Each step finds the point with the
 * largest Mahalanobis-like measure M_i = q_iᵀ X⁻¹ q_i, X = Σ u_i q_i q_iᵀ, and moves weight
 * towards it by (M_j − d − 1) / ((d + 1)(M_j − 1)), d = 3. At convergence c = Σ u_i p_i and
 * A = (Σ u_i p_i p_iᵀ − c cᵀ)⁻¹ / d, so the semi-axes are √(d·λ) for the eigenvalues λ of that
 * weighted covariance.
 */
export function minimumVolumeEnclosingEllipsoid(points: Float64Array, tolerance = MVEE_TOLERANCE, maxIterations = 100_000): EnclosingEllipsoid {
  const n = points.length / 3;
  if (!Number.isInteger(n) || n < 4) throw new RadiomicsInputError(`an enclosing ellipsoid in 3-D needs at least 4 points, got ${points.length / 3}`);
  const d = 3;
  // Work relative to the centroid: the 4×4 system is then far better conditioned.
  const mean = [0, 0, 0];
  for (let i = 0; i < n; i++) for (let a = 0; a < 3; a++) mean[a]! += points[3 * i + a]! / n;
  const q = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) for (let a = 0; a < 3; a++) q[3 * i + a] = points[3 * i + a]! - mean[a]!;

  const u = new Float64Array(n).fill(1 / n);
  const x = new Float64Array(16);
  const inverse = new Float64Array(16);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    // X = Σ u_i q_i q_iᵀ with q_i = (p_i, 1)
    x.fill(0);
    for (let i = 0; i < n; i++) {
      const w = u[i]!;
      const v0 = q[3 * i]!;
      const v1 = q[3 * i + 1]!;
      const v2 = q[3 * i + 2]!;
      x[0]! += w * v0 * v0;
      x[1]! += w * v0 * v1;
      x[2]! += w * v0 * v2;
      x[3]! += w * v0;
      x[5]! += w * v1 * v1;
      x[6]! += w * v1 * v2;
      x[7]! += w * v1;
      x[10]! += w * v2 * v2;
      x[11]! += w * v2;
      x[15]! += w;
    }
    x[4] = x[1]!;
    x[8] = x[2]!;
    x[9] = x[6]!;
    x[12] = x[3]!;
    x[13] = x[7]!;
    x[14] = x[11]!;
    if (!invert4(x, inverse)) throw new RadiomicsInputError('the points lie in one plane: no ellipsoid of positive volume encloses them');
    // M_i = q_iᵀ X⁻¹ q_i, X⁻¹ symmetric.
    const i00 = inverse[0]!, i01 = inverse[1]!, i02 = inverse[2]!, i03 = inverse[3]!;
    const i11 = inverse[5]!, i12 = inverse[6]!, i13 = inverse[7]!;
    const i22 = inverse[10]!, i23 = inverse[11]!, i33 = inverse[15]!;
    let j = 0;
    let largest = -Infinity;
    for (let i = 0; i < n; i++) {
      const v0 = q[3 * i]!;
      const v1 = q[3 * i + 1]!;
      const v2 = q[3 * i + 2]!;
      const m =
        i00 * v0 * v0 + i11 * v1 * v1 + i22 * v2 * v2 + i33 +
        2 * (i01 * v0 * v1 + i02 * v0 * v2 + i03 * v0 + i12 * v1 * v2 + i13 * v1 + i23 * v2);
      if (m > largest) {
        largest = m;
        j = i;
      }
    }
    const step = (largest - d - 1) / ((d + 1) * (largest - 1));
    // ‖u_new − u‖ = step · ‖u − e_j‖
    let change = 0;
    for (let i = 0; i < n; i++) change += (i === j ? 1 - u[i]! : u[i]!) ** 2;
    change = step * Math.sqrt(change);
    for (let i = 0; i < n; i++) u[i]! *= 1 - step;
    u[j]! += step;
    if (change < tolerance) break;
  }

  const centre = [0, 0, 0];
  for (let i = 0; i < n; i++) for (let a = 0; a < 3; a++) centre[a]! += u[i]! * q[3 * i + a]!;
  const s = new Float64Array(9);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) {
      for (let b = a; b < 3; b++) s[3 * a + b]! += u[i]! * (q[3 * i + a]! - centre[a]!) * (q[3 * i + b]! - centre[b]!);
    }
  }
  const { values } = symmetricEigen3(s);
  const axis = (lambda: number): number => Math.sqrt(d * Math.max(lambda, 0));
  return {
    semiAxes: [axis(values[0]), axis(values[1]), axis(values[2])],
    centre: [centre[0]! + mean[0]!, centre[1]! + mean[1]!, centre[2]! + mean[2]!],
    iterations,
  };
}

/** Inverts a 4×4 matrix (row major) by Gauss–Jordan elimination with partial pivoting. */
function invert4(m: Float64Array, out: Float64Array): boolean {
  const a = Array.from({ length: 4 }, (_, r) => [m[4 * r]!, m[4 * r + 1]!, m[4 * r + 2]!, m[4 * r + 3]!, r === 0 ? 1 : 0, r === 1 ? 1 : 0, r === 2 ? 1 : 0, r === 3 ? 1 : 0]);
  let scale = 0;
  for (let i = 0; i < 16; i++) scale = Math.max(scale, Math.abs(m[i]!));
  for (let col = 0; col < 4; col++) {
    let pivot = col;
    for (let r = col + 1; r < 4; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    if (!(Math.abs(a[pivot]![col]!) > 1e-14 * scale)) return false;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const row = a[col]!;
    const p = row[col]!;
    for (let c = 0; c < 8; c++) row[c]! /= p;
    for (let r = 0; r < 4; r++) {
      if (r === col) continue;
      const f = a[r]![col]!;
      if (f === 0) continue;
      for (let c = 0; c < 8; c++) a[r]![c]! -= f * row[c]!;
    }
  }
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) out[4 * r + c] = a[r]![4 + c]!;
  return true;
}
