/**
 * Count matrices of grey level × a second, positive integer quantity — zone size (GLSZM, IBSI
 * 3.8), zone distance (GLDZM, 3.9) or dependence count (NGLDM, 3.11) — and the features these
 * three families define alike on them (emphases, non-uniformities, percentage, variances,
 * entropy, energy).
 *
 * Matrices are kept sparse: a zone size can reach the ROI's voxel count, so a dense
 * Ng × Nz array would be mostly zeros.
 */

/** Element s_ij of a count matrix: the count of grey level i (1..ng) with column value j ≥ 1. */
export interface CountMatrix {
  readonly ng: number;
  /** The non-zero elements, ordered by grey level, then column. */
  readonly grey: Int32Array;
  readonly column: Int32Array;
  readonly count: Float64Array;
  /** N_v: the number of ROI voxels the matrix was built from. */
  readonly voxels: number;
}

/** Accumulates counts for a CountMatrix. */
export class CountMatrixBuilder {
  private readonly counts = new Map<number, number>();
  private voxelCount = 0;

  constructor(readonly ng: number) {}

  add(grey: number, column: number, n = 1): void {
    // Keys order by grey level, then column; exact for columns below 2^32 and grey levels below 2^21.
    const key = grey * 4294967296 + column;
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  addVoxels(n: number): void {
    this.voxelCount += n;
  }

  build(): CountMatrix {
    const keys = [...this.counts.keys()].sort((a, b) => a - b);
    const grey = new Int32Array(keys.length);
    const column = new Int32Array(keys.length);
    const count = new Float64Array(keys.length);
    keys.forEach((key, e) => {
      grey[e] = Math.floor(key / 4294967296);
      column[e] = key % 4294967296;
      count[e] = this.counts.get(key)!;
    });
    return { ng: this.ng, grey, column, count, voxels: this.voxelCount };
  }
}

/**
 * A count matrix from a dense array: element (i, j) at dense[(i − 1)·columns + (j − 1)].
 */
export function countMatrixFromDense(ng: number, columns: number, dense: Float64Array, voxels: number): CountMatrix {
  let nonZero = 0;
  for (let e = 0; e < ng * columns; e++) if (dense[e]! !== 0) nonZero++;
  const grey = new Int32Array(nonZero);
  const column = new Int32Array(nonZero);
  const count = new Float64Array(nonZero);
  let e = 0;
  for (let i = 1; i <= ng; i++) {
    for (let j = 1; j <= columns; j++) {
      const c = dense[(i - 1) * columns + (j - 1)]!;
      if (c === 0) continue;
      grey[e] = i;
      column[e] = j;
      count[e] = c;
      e++;
    }
  }
  return { ng, grey, column, count, voxels };
}

/**
 * The '2.5D' merge of IBSI 3.8–3.11 (62GR): element-wise sums of the slices' matrices, and the
 * sum of their voxel counts.
 */
export function mergeCountMatrices(ng: number, matrices: readonly CountMatrix[]): CountMatrix {
  const builder = new CountMatrixBuilder(ng);
  for (const m of matrices) {
    for (let e = 0; e < m.count.length; e++) builder.add(m.grey[e]!, m.column[e]!, m.count[e]!);
    builder.addVoxels(m.voxels);
  }
  return builder.build();
}

/** The elements as [i, j, s_ij] rows, ordered by i then j (the layout of the IBSI manual's tables). */
export function countMatrixRows(m: CountMatrix): [number, number, number][] {
  return Array.from(m.count, (c, e) => [m.grey[e]!, m.column[e]!, c]);
}

/**
 * The features GLSZM, GLDZM and NGLDM share, named after the GLSZM ones with "column" for the
 * zone size, zone distance or dependence count j. N_s = Σ s_ij, p_ij = s_ij / N_s.
 */
export interface CountMatrixFeatures {
  /** (1/N_s) Σ s_.j / j² */
  readonly smallColumnEmphasis: number;
  /** (1/N_s) Σ j² s_.j */
  readonly largeColumnEmphasis: number;
  /** (1/N_s) Σ s_i. / i² */
  readonly lowGreyEmphasis: number;
  /** (1/N_s) Σ i² s_i. */
  readonly highGreyEmphasis: number;
  /** (1/N_s) Σ s_ij / (i² j²) */
  readonly smallColumnLowGreyEmphasis: number;
  /** (1/N_s) Σ i² s_ij / j² */
  readonly smallColumnHighGreyEmphasis: number;
  /** (1/N_s) Σ j² s_ij / i² */
  readonly largeColumnLowGreyEmphasis: number;
  /** (1/N_s) Σ i² j² s_ij */
  readonly largeColumnHighGreyEmphasis: number;
  /** (1/N_s) Σ_i s_i.² */
  readonly greyNonUniformity: number;
  /** (1/N_s²) Σ_i s_i.² */
  readonly greyNonUniformityNormalised: number;
  /** (1/N_s) Σ_j s_.j² */
  readonly columnNonUniformity: number;
  /** (1/N_s²) Σ_j s_.j² */
  readonly columnNonUniformityNormalised: number;
  /** N_s / N_v */
  readonly percentage: number;
  /** Σ (i − μ_i)² p_ij */
  readonly greyVariance: number;
  /** Σ (j − μ_j)² p_ij */
  readonly columnVariance: number;
  /** −Σ p_ij log₂ p_ij */
  readonly entropy: number;
  /** Σ p_ij² (NGLDM dependence count energy) */
  readonly energy: number;
}

export type CountMatrixFeature = keyof CountMatrixFeatures;

export const COUNT_MATRIX_FEATURES: readonly CountMatrixFeature[] = [
  'smallColumnEmphasis', 'largeColumnEmphasis', 'lowGreyEmphasis', 'highGreyEmphasis',
  'smallColumnLowGreyEmphasis', 'smallColumnHighGreyEmphasis', 'largeColumnLowGreyEmphasis', 'largeColumnHighGreyEmphasis',
  'greyNonUniformity', 'greyNonUniformityNormalised', 'columnNonUniformity', 'columnNonUniformityNormalised',
  'percentage', 'greyVariance', 'columnVariance', 'entropy', 'energy',
];

/** The features of one matrix; every one is NaN for an empty matrix. */
export function countMatrixFeatures(m: CountMatrix): CountMatrixFeatures {
  const { grey, column, count } = m;
  const entries = count.length;
  let ns = 0;
  let maxColumn = 0;
  for (let e = 0; e < entries; e++) {
    ns += count[e]!;
    if (column[e]! > maxColumn) maxColumn = column[e]!;
  }
  if (ns === 0) {
    const nan = Number.NaN;
    return {
      smallColumnEmphasis: nan, largeColumnEmphasis: nan, lowGreyEmphasis: nan, highGreyEmphasis: nan,
      smallColumnLowGreyEmphasis: nan, smallColumnHighGreyEmphasis: nan, largeColumnLowGreyEmphasis: nan, largeColumnHighGreyEmphasis: nan,
      greyNonUniformity: nan, greyNonUniformityNormalised: nan, columnNonUniformity: nan, columnNonUniformityNormalised: nan,
      percentage: nan, greyVariance: nan, columnVariance: nan, entropy: nan, energy: nan,
    };
  }
  const rowSums = new Float64Array(m.ng + 1);
  const columnSums = new Float64Array(maxColumn + 1);
  let sce = 0, lce = 0, lge = 0, hge = 0, sclge = 0, schge = 0, lclge = 0, lchge = 0;
  let meanGrey = 0, meanColumn = 0, entropy = 0, energy = 0;
  for (let e = 0; e < entries; e++) {
    const i = grey[e]!, j = column[e]!, s = count[e]!;
    const i2 = i * i, j2 = j * j;
    rowSums[i] = rowSums[i]! + s;
    columnSums[j] = columnSums[j]! + s;
    sce += s / j2;
    lce += s * j2;
    lge += s / i2;
    hge += s * i2;
    sclge += s / (i2 * j2);
    schge += (s * i2) / j2;
    lclge += (s * j2) / i2;
    lchge += s * i2 * j2;
    const p = s / ns;
    meanGrey += i * p;
    meanColumn += j * p;
    entropy -= p * Math.log2(p);
    energy += p * p;
  }
  let greyVariance = 0, columnVariance = 0;
  for (let e = 0; e < entries; e++) {
    const p = count[e]! / ns;
    greyVariance += (grey[e]! - meanGrey) ** 2 * p;
    columnVariance += (column[e]! - meanColumn) ** 2 * p;
  }
  let rowSquares = 0;
  for (const r of rowSums) rowSquares += r * r;
  let columnSquares = 0;
  for (const c of columnSums) columnSquares += c * c;
  return {
    smallColumnEmphasis: sce / ns,
    largeColumnEmphasis: lce / ns,
    lowGreyEmphasis: lge / ns,
    highGreyEmphasis: hge / ns,
    smallColumnLowGreyEmphasis: sclge / ns,
    smallColumnHighGreyEmphasis: schge / ns,
    largeColumnLowGreyEmphasis: lclge / ns,
    largeColumnHighGreyEmphasis: lchge / ns,
    greyNonUniformity: rowSquares / ns,
    greyNonUniformityNormalised: rowSquares / (ns * ns),
    columnNonUniformity: columnSquares / ns,
    columnNonUniformityNormalised: columnSquares / (ns * ns),
    percentage: m.voxels > 0 ? ns / m.voxels : Number.NaN,
    greyVariance,
    columnVariance,
    entropy,
    energy,
  };
}
