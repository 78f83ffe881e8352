/**
 * Eigen decomposition of a real symmetric 3×3 matrix by cyclic Jacobi rotations: exact to
 * rounding for the small, well-conditioned matrices of principal component analysis (IBSI 3.1
 * "Major axis length") and of ellipsoid fitting, with no iteration count to tune.
 */

export interface SymmetricEigen {
  /** Eigenvalues, largest first. */
  readonly values: readonly [number, number, number];
  /** Unit eigenvectors as rows, in the order of `values`. */
  readonly vectors: readonly [readonly [number, number, number], readonly [number, number, number], readonly [number, number, number]];
}

/** A symmetric 3×3 matrix, row by row (9 numbers); only the upper triangle is read. */
export type Symmetric3 = ArrayLike<number>;

export function symmetricEigen3(matrix: Symmetric3): SymmetricEigen {
  if (matrix.length !== 9) throw new RangeError(`a 3×3 matrix has 9 entries, got ${matrix.length}`);
  const a = [
    [matrix[0]!, matrix[1]!, matrix[2]!],
    [matrix[1]!, matrix[4]!, matrix[5]!],
    [matrix[2]!, matrix[5]!, matrix[8]!],
  ];
  const v = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  for (let sweep = 0; sweep < 64; sweep++) {
    const off = a[0]![1]! ** 2 + a[0]![2]! ** 2 + a[1]![2]! ** 2;
    const diag = a[0]![0]! ** 2 + a[1]![1]! ** 2 + a[2]![2]! ** 2;
    if (off <= 1e-30 * diag || off === 0) break;
    for (const [p, q] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ] as const) {
      const apq = a[p]![q]!;
      if (apq === 0) continue;
      // The rotation angle that zeroes a[p][q] (Golub & Van Loan, algorithm 8.4.1).
      const theta = (a[q]![q]! - a[p]![p]!) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1);
      const s = t * c;
      for (let k = 0; k < 3; k++) {
        const akp = a[k]![p]!;
        const akq = a[k]![q]!;
        a[k]![p] = c * akp - s * akq;
        a[k]![q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[p]![k]!;
        const aqk = a[q]![k]!;
        a[p]![k] = c * apk - s * aqk;
        a[q]![k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[k]![p]!;
        const vkq = v[k]![q]!;
        v[k]![p] = c * vkp - s * vkq;
        v[k]![q] = s * vkp + c * vkq;
      }
    }
  }
  const order = [0, 1, 2].sort((i, j) => a[j]![j]! - a[i]![i]!);
  const column = (i: number): [number, number, number] => [v[0]![i]!, v[1]![i]!, v[2]![i]!];
  return {
    values: [a[order[0]!]![order[0]!]!, a[order[1]!]![order[1]!]!, a[order[2]!]![order[2]!]!],
    vectors: [column(order[0]!), column(order[1]!), column(order[2]!)],
  };
}
