/**
 * The library's top function for re-identification risk: check every input, search the
 * generalization lattice for the optimal transformation, apply it (generalize, suppress) and
 * report the risk before and after. Also `assessRisk`, the risk of a table as it is.
 */
import { columnCodes, encodeData } from './classes.js';
import { checkConsistency, checkValuesCovered } from './hierarchy.js';
import { METRIC_NAMES, isMetricName, type MetricName } from './metrics.js';
import { compileModel, describeModel, needsSensitive, type PrivacyModel } from './models.js';
import { DEFAULT_RISK_THRESHOLD, riskFromClassSizes, type ReleaseRisk } from './risk.js';
import { applyTransformation, optimalSearch, type SearchProblem } from './search.js';
import { RiskInputError } from './table.js';
import type { Hierarchy, Table, Transformation } from './types.js';

export { RiskInputError } from './table.js';
export { assessRisk } from './risk.js';

/** No transformation satisfies the privacy models within the suppression limit. */
export class NoSolutionError extends RiskInputError {
  override readonly name: string = 'NoSolutionError';
}

export interface AnonymizationInput {
  readonly table: Table;
  /** The quasi-identifiers, in the order transformations list them. */
  readonly quasiIdentifiers: readonly string[];
  /** A hierarchy per quasi-identifier (and for the sensitive attribute, for hierarchical t-closeness). */
  readonly hierarchies: ReadonlyMap<string, Hierarchy>;
  /** At least one model. */
  readonly models: readonly PrivacyModel[];
  /** Share of records that may be suppressed, in [0, 1] (0.02 = 2 %). */
  readonly suppressionLimit: number;
  readonly metric: MetricName;
  /** The sensitive attribute of l-diversity and t-closeness. */
  readonly sensitive?: string;
  /** Prosecutor risk above which a record counts as at risk (default 0.2). */
  readonly riskThreshold?: number;
}

export interface AnonymizationResult {
  /** The released table: quasi-identifiers generalized, suppressed records "*" in every quasi-identifier, other columns unchanged. */
  readonly table: Table;
  readonly transformation: Transformation;
  /** The metric's value for the transformation (lower is better). */
  readonly utility: number;
  readonly metric: MetricName;
  /** The models, described ("5-anonymity", …). */
  readonly models: readonly string[];
  /** Records suppressed. */
  readonly suppressed: number;
  /** Equivalence classes among the records not suppressed. */
  readonly classes: number;
  /** Smallest class among the records not suppressed (0 if all are suppressed). */
  readonly minClassSize: number;
  readonly before: ReleaseRisk;
  readonly after: ReleaseRisk;
  readonly search: { readonly nodesChecked: number; readonly nodes: number; readonly ms: number };
}

function columnCheck(table: Table, name: string, role: string): void {
  if (!table.columns.includes(name)) throw new RiskInputError(`${table.source}: the ${role} "${name}" is not a column (columns: ${table.columns.join(', ')})`);
}

/**
 * Checks the settings and the hierarchies; throws RiskInputError naming the problem. Values
 * missing from a quasi-identifier's hierarchy are found by `searchProblem` (the encoding), so
 * call both before trusting an input; `anonymize` does.
 */
export function validateInput(input: AnonymizationInput): void {
  const { table, quasiIdentifiers, hierarchies, models, sensitive } = input;
  if (quasiIdentifiers.length === 0) throw new RiskInputError('give at least one quasi-identifier');
  const seen = new Set<string>();
  for (const qi of quasiIdentifiers) {
    if (seen.has(qi)) throw new RiskInputError(`the quasi-identifier ${qi} is listed twice`);
    seen.add(qi);
    columnCheck(table, qi, 'quasi-identifier');
  }
  if (table.rows.length === 0) throw new RiskInputError(`${table.source}: the table has no records`);
  if (!isMetricName(input.metric)) throw new RiskInputError(`unknown metric "${String(input.metric)}" (choose ${METRIC_NAMES.join(', ')})`);
  if (!(input.suppressionLimit >= 0 && input.suppressionLimit <= 1)) throw new RiskInputError(`the suppression limit must be a share between 0 and 1 (0.02 = 2 %), got ${input.suppressionLimit}`);
  const threshold = input.riskThreshold ?? DEFAULT_RISK_THRESHOLD;
  if (!(threshold > 0 && threshold <= 1)) throw new RiskInputError(`the risk threshold must be in (0, 1], got ${threshold}`);
  if (models.length === 0) throw new RiskInputError('give at least one privacy model (k-anonymity, l-diversity or t-closeness)');
  if (sensitive !== undefined) {
    columnCheck(table, sensitive, 'sensitive attribute');
    if (seen.has(sensitive)) throw new RiskInputError(`${sensitive} cannot be both a quasi-identifier and the sensitive attribute`);
  }
  for (const qi of quasiIdentifiers) {
    const h = hierarchies.get(qi);
    if (!h) throw new RiskInputError(`no hierarchy for the quasi-identifier ${qi}`);
    if (h.height < 1) throw new RiskInputError(`${h.source}: the hierarchy of ${qi} has no levels`);
    checkConsistency(h);
    // Values missing from the hierarchy are reported by the encoding (searchProblem), which
    // looks every value up anyway; it runs before any search.
  }
  const records = table.rows.length;
  let distinctSensitive = 0;
  if (sensitive !== undefined) {
    const index = table.columns.indexOf(sensitive);
    distinctSensitive = new Set(table.rows.map((r) => r[index]!)).size;
  }
  for (const model of models) {
    if (needsSensitive(model) && sensitive === undefined) throw new RiskInputError(`${describeModel(model)} needs a sensitive attribute`);
    switch (model.kind) {
      case 'k-anonymity':
        if (!Number.isInteger(model.k) || model.k < 1) throw new RiskInputError(`k must be a whole number ≥ 1, got ${model.k}`);
        if (model.k > records) throw new RiskInputError(`k = ${model.k} is larger than the number of records (${records}): no release can be ${model.k}-anonymous`);
        break;
      case 'l-diversity':
        if (!(model.l >= 1)) throw new RiskInputError(`l must be ≥ 1, got ${model.l}`);
        if (model.l > distinctSensitive) {
          throw new RiskInputError(`l = ${model.l} is larger than the number of distinct values of ${sensitive} (${distinctSensitive}): no class can be ${model.l}-diverse`);
        }
        if (model.variant === 'recursive' && !(model.c !== undefined && model.c > 0)) throw new RiskInputError(`recursive (c,l)-diversity needs c > 0, got ${model.c}`);
        break;
      case 't-closeness':
        if (!(model.t >= 0 && model.t <= 1)) throw new RiskInputError(`t must be between 0 and 1, got ${model.t}`);
        if (model.distance === 'hierarchical') {
          const h = hierarchies.get(sensitive!);
          if (!h) throw new RiskInputError(`t-closeness with the hierarchical distance needs a hierarchy for ${sensitive}`);
          checkConsistency(h);
          checkValuesCovered(table, sensitive!, h);
        }
        break;
    }
  }
}

/** The problem the search solves for this input (encodes the data). Call validateInput first. */
export function searchProblem(input: AnonymizationInput): SearchProblem {
  const data = encodeData(input.table, input.quasiIdentifiers, input.hierarchies, input.sensitive);
  const sensitiveHierarchy = input.sensitive !== undefined ? input.hierarchies.get(input.sensitive) : undefined;
  const problem: SearchProblem = {
    data,
    models: input.models,
    suppressionLimit: input.suppressionLimit,
    metric: input.metric,
    ...(sensitiveHierarchy ? { sensitiveHierarchy } : {}),
  };
  // Compiling checks the model settings against the encoded data (e.g. the sensitive hierarchy's root).
  for (const m of input.models) compileModel(m, { ...(data.sensitive ? { sensitive: data.sensitive } : {}), ...(sensitiveHierarchy ? { sensitiveHierarchy } : {}) });
  return problem;
}

/**
 * Finds the optimal transformation for the models and metric, applies it and reports the risk
 * before and after. Every input is checked first (RiskInputError); NoSolutionError when no
 * transformation satisfies the models within the suppression limit.
 */
export function anonymize(input: AnonymizationInput): AnonymizationResult {
  validateInput(input);
  const threshold = input.riskThreshold ?? DEFAULT_RISK_THRESHOLD;
  const problem = searchProblem(input);
  const data = problem.data;
  const result = optimalSearch(problem);
  const solution = result.solution;
  if (!solution) {
    const percent = `${+(input.suppressionLimit * 100).toFixed(4)} %`;
    throw new NoSolutionError(
      `no generalization satisfies ${input.models.map(describeModel).join(' and ')} with at most ${percent} of the records suppressed (even the fully generalized table does not); relax the models or allow more suppression`,
    );
  }
  const applied = applyTransformation(problem, solution.levels);
  const q = data.columns.length;
  const qiIndex = input.quasiIdentifiers.map((qi) => input.table.columns.indexOf(qi));
  const { classes, tupleClass, suppressedClasses } = applied;
  const codes = data.columns.map((_, c) => columnCodes(data, classes, c));
  const rows = input.table.rows.map((row, r) => {
    const out = row.slice();
    const cls = tupleClass[data.recordTuple[r]!]!;
    const suppressed = suppressedClasses[cls] === 1;
    for (let c = 0; c < q; c++) {
      out[qiIndex[c]!] = suppressed ? '*' : data.columns[c]!.labels[solution.levels[c]!]![codes[c]![cls]!]!;
    }
    return out;
  });
  const keptSizes: number[] = [];
  for (let i = 0; i < classes.size; i++) if (!suppressedClasses[i]) keptSizes.push(classes.counts[i]!);
  const transformation: Record<string, number> = {};
  input.quasiIdentifiers.forEach((qi, c) => {
    transformation[qi] = solution.levels[c]!;
  });
  return {
    table: { columns: input.table.columns, rows, source: input.table.source },
    transformation,
    utility: solution.utility,
    metric: input.metric,
    models: input.models.map(describeModel),
    suppressed: solution.suppressed,
    classes: solution.classes,
    minClassSize: solution.minClassSize,
    before: riskFromClassSizes(data.counts, threshold),
    after: riskFromClassSizes(keptSizes, threshold, solution.suppressed),
    search: { nodesChecked: result.nodesChecked, nodes: result.nodes, ms: result.ms },
  };
}
