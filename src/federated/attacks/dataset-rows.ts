/** Row selection and concatenation of encoded datasets, for building shadow and target training sets. */
import type { Dataset } from '../types.js';

/** The rows of `a` followed by those of `b`. */
export function concatRows(a: Dataset, b: Dataset): Dataset {
  if (a.d !== b.d) throw new Error(`cannot join datasets of ${a.d} and ${b.d} columns`);
  const x = new Float64Array((a.n + b.n) * a.d);
  x.set(a.x.subarray(0, a.n * a.d), 0);
  x.set(b.x.subarray(0, b.n * b.d), a.n * a.d);
  const y = new Float64Array(a.n + b.n);
  y.set(a.y.subarray(0, a.n), 0);
  y.set(b.y.subarray(0, b.n), a.n);
  return { x, y, n: a.n + b.n, d: a.d };
}

/** The rows of `data` at `rows` (in that order). */
export function selectRows(data: Dataset, rows: ArrayLike<number>): Dataset {
  const { d } = data;
  const x = new Float64Array(rows.length * d);
  const y = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    if (!(Number.isInteger(r) && r >= 0 && r < data.n)) throw new Error(`row ${r} is not in a dataset of ${data.n} rows`);
    x.set(data.x.subarray(r * d, (r + 1) * d), k * d);
    y[k] = data.y[r]!;
  }
  return { x, y, n: rows.length, d };
}
