/**
 * Privacy models, each a test of one equivalence class (as ARX's `criteria/` package: a model
 * says whether it is monotonic and whether a class is "anonymous").
 *
 * Suppression follows ARX: the classes that violate any model are suppressed (their records are
 * released with every quasi-identifier "*") when the records in them total at most the
 * suppression limit; the models then hold on the classes that remain. A transformation is
 * anonymous when that is possible.
 *
 * Monotonicity (a property the search relies on): if a transformation satisfies a model, so
 * does every generalization of it. Without suppression all models here are monotonic: a coarser
 * class is a union of classes that each satisfy the model, and each model is preserved by such
 * unions (k-anonymity: sizes add up; l-diversity: Machanavajjhala et al. 2007, §4.1 and §4.3,
 * the "monotonicity property"; t-closeness: the EMD is convex, Li et al. 2007, §4.3). With
 * suppression, only k-anonymity stays monotonic: a suppressed class merged into a class that
 * satisfied l-diversity or t-closeness can make the union fail, so the search checks every node
 * for those.
 */
import type { SensitiveColumn } from './classes.js';
import { RiskInputError } from './table.js';
import type { Hierarchy } from './types.js';

/** k-anonymity (Sweeney 2002): every class holds at least k records. */
export interface KAnonymity {
  readonly kind: 'k-anonymity';
  readonly k: number;
}

export type LDiversityVariant = 'distinct' | 'entropy' | 'recursive';

/**
 * l-diversity of the sensitive attribute (Machanavajjhala, Kifer, Gehrke 2007):
 * - distinct: every class holds at least l distinct sensitive values;
 * - entropy: every class's entropy of sensitive values is at least log l;
 * - recursive (c,l): with the class's value counts sorted r1 ≥ r2 ≥ … ≥ rm, r1 < c·(rl + … + rm).
 */
export interface LDiversity {
  readonly kind: 'l-diversity';
  readonly variant: LDiversityVariant;
  readonly l: number;
  /** The c of recursive (c,l)-diversity; required for that variant only. */
  readonly c?: number;
}

export type TClosenessDistance = 'equal' | 'hierarchical';

/**
 * t-closeness of the sensitive attribute (Li, Li, Venkatasubramanian 2007): in every class, the
 * Earth Mover's Distance between the class's distribution of sensitive values and the whole
 * table's is at most t. With the equal ground distance (every two values 1 apart) the EMD is
 * ½ Σ|p − q|; with the hierarchical distance it is computed over the sensitive attribute's
 * hierarchy (Li et al. §5.1; ARX's HierarchicalDistanceTCloseness).
 */
export interface TCloseness {
  readonly kind: 't-closeness';
  readonly distance: TClosenessDistance;
  readonly t: number;
}

export type PrivacyModel = KAnonymity | LDiversity | TCloseness;

/** Whether a model concerns the sensitive attribute. */
export function needsSensitive(model: PrivacyModel): boolean {
  return model.kind !== 'k-anonymity';
}

/** Whether a model stays monotonic when records may be suppressed (see the module comment). */
export function isMonotonicWithSuppression(model: PrivacyModel): boolean {
  return model.kind === 'k-anonymity';
}

/** A short name: "5-anonymity", "entropy-2-diversity", "recursive-(3,2)-diversity", "0.2-closeness (equal distance)". */
export function describeModel(model: PrivacyModel): string {
  switch (model.kind) {
    case 'k-anonymity':
      return `${model.k}-anonymity`;
    case 'l-diversity':
      return model.variant === 'recursive' ? `recursive-(${model.c},${model.l})-diversity` : `${model.variant}-${model.l}-diversity`;
    case 't-closeness':
      return `${model.t}-closeness (${model.distance} distance)`;
  }
}

/** A model ready to test classes. */
export interface ClassTest {
  readonly model: PrivacyModel;
  readonly monotonicWithSuppression: boolean;
  /**
   * The fewest records a class satisfying the model can hold: k for k-anonymity, ⌈l⌉ for every
   * l-diversity variant (each needs ⌈l⌉ distinct sensitive values, see `compileModel`), 1 for
   * t-closeness. The utility metrics' lower bounds use it (metrics.ts).
   */
  readonly minClassSize: number;
  /**
   * Whether a class satisfies the model: `count` records, its sensitive value counts in
   * `histograms[offset … offset + values)` (absent for k-anonymity alone).
   */
  holds(count: number, histograms: Int32Array | undefined, offset: number): boolean;
}

/** What the tests of the sensitive attribute need. */
export interface SensitiveContext {
  readonly sensitive?: SensitiveColumn;
  /** The sensitive attribute's hierarchy (hierarchical t-closeness only). */
  readonly sensitiveHierarchy?: Hierarchy;
}

const LOG2 = Math.log(2);
const log2 = (x: number) => Math.log(x) / LOG2;

/** Compiles a model into a class test. Checks the settings (RiskInputError) first. */
export function compileModel(model: PrivacyModel, context: SensitiveContext): ClassTest {
  const base = { model, monotonicWithSuppression: isMonotonicWithSuppression(model), minClassSize: 1 };
  if (model.kind === 'k-anonymity') {
    const k = model.k;
    if (!Number.isInteger(k) || k < 1) throw new RiskInputError(`k must be a whole number ≥ 1, got ${k}`);
    return { ...base, minClassSize: k, holds: (count) => count >= k };
  }
  const sensitive = context.sensitive;
  if (!sensitive) throw new RiskInputError(`${describeModel(model)} needs a sensitive attribute`);
  const s = sensitive.labels.length;
  if (model.kind === 'l-diversity') {
    const l = model.l;
    if (!(l >= 1) || (model.variant !== 'entropy' && !Number.isInteger(l))) {
      throw new RiskInputError(`l must be ${model.variant === 'entropy' ? 'a number' : 'a whole number'} ≥ 1, got ${l}`);
    }
    // ARX (LDiversity.minSize): fewer than ⌈l⌉ distinct values fail every variant outright.
    const minSize = Math.ceil(l);
    base.minClassSize = minSize;
    if (model.variant === 'distinct') {
      return {
        ...base,
        holds: (_count, h, offset) => {
          let distinct = 0;
          for (let v = 0; v < s; v++) if (h![offset + v]! > 0) distinct++;
          return distinct >= minSize;
        },
      };
    }
    if (model.variant === 'entropy') {
      // ARX's EntropyLDiversity: H = −(Σ f·log2 f / n − log2 n) ≥ log2 l, with f the value counts.
      const logL = log2(l);
      return {
        ...base,
        holds: (count, h, offset) => {
          let distinct = 0;
          let sum = 0;
          for (let v = 0; v < s; v++) {
            const f = h![offset + v]!;
            if (f > 0) {
              distinct++;
              sum += f * log2(f);
            }
          }
          if (distinct < minSize) return false;
          return -(sum / count - log2(count)) >= logL;
        },
      };
    }
    const c = model.c;
    if (c === undefined || !(c > 0)) throw new RiskInputError(`recursive (c,l)-diversity needs c > 0, got ${c}`);
    const sorted = new Int32Array(s);
    return {
      ...base,
      holds: (_count, h, offset) => {
        let m = 0;
        for (let v = 0; v < s; v++) {
          const f = h![offset + v]!;
          if (f > 0) sorted[m++] = f;
        }
        if (m < minSize) return false;
        const present = sorted.subarray(0, m).sort().reverse();
        let tail = 0;
        for (let i = l - 1; i < m; i++) tail += present[i]!;
        return present[0]! < c * tail;
      },
    };
  }
  const t = model.t;
  if (!(t >= 0 && t <= 1)) throw new RiskInputError(`t must be between 0 and 1, got ${t}`);
  const totals = sensitive.totals;
  let n = 0;
  for (let v = 0; v < s; v++) n += totals[v]!;
  if (model.distance === 'equal') {
    return {
      ...base,
      // ½ Σ |p_v − q_v| with p_v = h_v / count, q_v = T_v / n: the numerators h_v·n − T_v·count are
      // whole numbers (exact in doubles below 2^53), so the only rounding is the last division.
      holds: (count, h, offset) => {
        let sum = 0;
        for (let v = 0; v < s; v++) sum += Math.abs(h![offset + v]! * n - totals[v]! * count);
        return sum / (2 * n * count) <= t;
      },
    };
  }
  const tree = sensitiveTree(sensitive, context.sensitiveHierarchy);
  return { ...base, holds: (count, h, offset) => hierarchicalEmd(tree, h!, offset, count, totals, n) <= t };
}

/** The sensitive attribute's hierarchy as a tree over the values present in the data. */
export interface SensitiveTree {
  /** Highest level (the root's). */
  readonly height: number;
  /** parents[l - 1][code at level l-1] = code at level l, for l = 1 … height; level-0 codes are sensitive codes. */
  readonly parents: readonly Int32Array[];
  /** Number of nodes per level. */
  readonly widths: readonly number[];
}

/** Builds the tree for hierarchical t-closeness; the hierarchy must cover the values and end in one root. */
export function sensitiveTree(sensitive: SensitiveColumn, hierarchy: Hierarchy | undefined): SensitiveTree {
  if (!hierarchy) throw new RiskInputError(`t-closeness with the hierarchical distance needs a hierarchy for ${sensitive.attribute}`);
  const height = hierarchy.height - 1;
  if (height < 1) throw new RiskInputError(`${hierarchy.source}: the hierarchy of ${sensitive.attribute} has one level; the hierarchical distance needs at least two`);
  const entries = sensitive.labels.map((label) => {
    const e = hierarchy.values.get(label);
    if (!e) throw new RiskInputError(`${hierarchy.source}: the value "${label}" of ${sensitive.attribute} is not in its hierarchy`);
    return e;
  });
  const parents: Int32Array[] = [];
  const widths: number[] = [sensitive.labels.length];
  // codes[l] maps a label at level l to its code; level 0 uses the sensitive codes.
  let below = entries.map((_, i) => i);
  for (let l = 1; l <= height; l++) {
    const codes = new Map<string, number>();
    const here = entries.map((e) => {
      const label = e[l]!;
      let code = codes.get(label);
      if (code === undefined) {
        code = codes.size;
        codes.set(label, code);
      }
      return code;
    });
    const parent = new Int32Array(widths[l - 1]!);
    entries.forEach((_, i) => {
      parent[below[i]!] = here[i]!;
    });
    parents.push(parent);
    widths.push(codes.size);
    below = here;
  }
  if (widths[height] !== 1) {
    throw new RiskInputError(`${hierarchy.source}: the hierarchical distance needs the hierarchy of ${sensitive.attribute} to end in a single value (its last level has ${widths[height]})`);
  }
  return { height, parents, widths };
}

/**
 * The hierarchical EMD of Li et al. 2007 (§5.1), as ARX computes it: every internal node N at
 * level λ costs (λ / H) · min(pos(N), neg(N)), where pos and neg sum the positive and negative
 * "extra" mass (p − q) of N's children, and a node's extra is the sum of its children's. The
 * masses are kept as whole numbers h_v·n − T_v·count and divided by n·count once at the end.
 */
export function hierarchicalEmd(tree: SensitiveTree, histograms: Int32Array, offset: number, count: number, totals: Int32Array, n: number): number {
  let extra = new Float64Array(tree.widths[0]!);
  for (let v = 0; v < extra.length; v++) extra[v] = histograms[offset + v]! * n - totals[v]! * count;
  let cost = 0;
  for (let l = 1; l <= tree.height; l++) {
    const parent = tree.parents[l - 1]!;
    const width = tree.widths[l]!;
    const pos = new Float64Array(width);
    const neg = new Float64Array(width);
    for (let i = 0; i < extra.length; i++) {
      const e = extra[i]!;
      if (e > 0) pos[parent[i]!]! += e;
      else neg[parent[i]!]! -= e;
    }
    const next = new Float64Array(width);
    for (let p = 0; p < width; p++) {
      cost += (l / tree.height) * Math.min(pos[p]!, neg[p]!);
      next[p] = pos[p]! - neg[p]!;
    }
    extra = next;
  }
  return cost / (n * count);
}
