/**
 * Types shared by the re-identification risk stages: tables in, hierarchies, the chosen
 * transformation and the figures a data protection officer reads.
 */

/** A table of records as text: CSV files and DICOM folder extracts both arrive as this. */
export interface Table {
  readonly columns: readonly string[];
  /** One array per record, one string per column, in column order. */
  readonly rows: readonly (readonly string[])[];
  /** Where the table came from (a file name or a folder), for messages. */
  readonly source: string;
}

/**
 * A generalization hierarchy in ARX's sense: level 0 is the original value; each further level
 * is coarser; the last level is usually "*" (suppressed). Every original value has one entry
 * of `height` strings, entry[0] being the value itself.
 */
export interface Hierarchy {
  readonly attribute: string;
  /** Number of levels, level 0 included. */
  readonly height: number;
  readonly values: ReadonlyMap<string, readonly string[]>;
  /** Where the hierarchy came from (a file name, or the builder that made it). */
  readonly source: string;
}

/** A generalization level per quasi-identifier, in the order of the quasi-identifiers. */
export type Transformation = Readonly<Record<string, number>>;

/** Equivalence classes grouped by size: `classes` classes of `size` records each. */
export interface ClassSizeBin {
  readonly size: number;
  readonly classes: number;
}

/**
 * Re-identification risk figures (as ARX reports them). Prosecutor risk of a record is 1 / the
 * size of its class; journalist risk uses the class size in the population when a population
 * model is given and equals prosecutor risk otherwise; marketer risk is the expected share of
 * records re-identified (number of classes / number of records).
 */
export interface RiskFigures {
  readonly records: number;
  readonly classes: number;
  readonly prosecutor: { readonly highest: number; readonly average: number };
  readonly journalist: { readonly highest: number; readonly average: number };
  readonly marketer: number;
  /** Share of records whose prosecutor risk exceeds `threshold`. */
  readonly recordsAtRisk: { readonly threshold: number; readonly share: number };
  /** Share of records that are alone in their class. */
  readonly sampleUniques: number;
  readonly classSizes: readonly ClassSizeBin[];
}
