/**
 * Re-identification risk figures of a released table, from its equivalence classes (records
 * that agree on every quasi-identifier), in the prosecutor, journalist and marketer models of
 * El Emam (Guide to the De-Identification of Personal Health Information, 2013, ch. 13–15) as
 * ARX reports them:
 *
 * - prosecutor risk of a record = 1 / the size of its class (the attacker knows the person is in
 *   the data); highest = 1 / the smallest class; average over records = classes / records;
 * - journalist risk uses the size of the record's class in the population. No population table
 *   is given here, so the sample stands for the population and journalist risk EQUALS
 *   prosecutor risk (an upper bound of the true journalist risk);
 * - marketer risk = the expected share of records re-identified by linking every record =
 *   classes / records;
 * - records at risk = the share of records whose prosecutor risk exceeds the threshold
 *   (default 0.2, i.e. classes smaller than 5);
 * - sample uniques = the share of records alone in their class.
 *
 * Suppressed records are released with every quasi-identifier "*" and are EXCLUDED from all
 * figures: `records` counts the records released with their (generalized) values, and
 * `suppressed` says how many were left out. (Counting them as one class of "*" would lower the
 * average risk with records that carry no quasi-identifier at all.)
 */
import { RiskInputError } from './table.js';
import type { ClassSizeBin, RiskFigures, Table } from './types.js';

export const DEFAULT_RISK_THRESHOLD = 0.2;

/** Risk figures with the number of suppressed records that were left out of them. */
export interface ReleaseRisk extends RiskFigures {
  /** Records released fully suppressed, not counted in the figures. */
  readonly suppressed: number;
}

function checkThreshold(threshold: number): void {
  if (!(threshold > 0 && threshold <= 1)) throw new RiskInputError(`the risk threshold must be in (0, 1], got ${threshold}`);
}

/**
 * The figures for classes of the given sizes (each size ≥ 1), plus `suppressed` records that are
 * left out of them.
 */
export function riskFromClassSizes(sizes: ArrayLike<number>, threshold: number = DEFAULT_RISK_THRESHOLD, suppressed = 0): ReleaseRisk {
  checkThreshold(threshold);
  let records = 0;
  let smallest = Infinity;
  let atRisk = 0;
  let uniques = 0;
  const bins = new Map<number, number>();
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i]!;
    if (!(size >= 1)) throw new Error(`a class size must be ≥ 1, got ${size}`);
    records += size;
    if (size < smallest) smallest = size;
    if (1 / size > threshold) atRisk += size;
    if (size === 1) uniques++;
    bins.set(size, (bins.get(size) ?? 0) + 1);
  }
  const classes = sizes.length;
  const classSizes: ClassSizeBin[] = [...bins].sort((a, b) => a[0] - b[0]).map(([size, count]) => ({ size, classes: count }));
  const highest = classes === 0 ? 0 : 1 / smallest;
  const average = records === 0 ? 0 : classes / records;
  return {
    records,
    classes,
    prosecutor: { highest, average },
    journalist: { highest, average },
    marketer: average,
    recordsAtRisk: { threshold, share: records === 0 ? 0 : atRisk / records },
    sampleUniques: records === 0 ? 0 : uniques / records,
    classSizes,
    suppressed,
  };
}

/** The risk of a table as it is: classes are records with equal values in every quasi-identifier. */
export function assessRisk(table: Table, quasiIdentifiers: readonly string[], threshold: number = DEFAULT_RISK_THRESHOLD): ReleaseRisk {
  checkThreshold(threshold);
  if (quasiIdentifiers.length === 0) throw new RiskInputError('give at least one quasi-identifier');
  const indexes = quasiIdentifiers.map((qi) => {
    const i = table.columns.indexOf(qi);
    if (i < 0) throw new RiskInputError(`${table.source}: no column "${qi}" (columns: ${table.columns.join(', ')})`);
    return i;
  });
  const counts = new Map<string, number>();
  for (const row of table.rows) {
    // A separator that cannot occur in text values read from CSV or DICOM.
    const key = indexes.map((i) => row[i]!).join('\u0000');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return riskFromClassSizes([...counts.values()], threshold);
}
