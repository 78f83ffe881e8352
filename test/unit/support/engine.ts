/**
 * The engine's inputs built the way the command line builds them (same option parsing, same
 * defaults), without the pipeline around them.
 */
import { planFromOptions, pseudonymsFromOptions } from '../../../src/cli/options.js';
import type { DeidPlan } from '../../../src/deid/engine.js';
import { ProjectSecret, Pseudonymizer } from '../../../src/deid/pseudonyms.js';
import type { Recipe } from '../../../src/deid/recipe.js';

export interface EngineInputs {
  readonly plan: DeidPlan;
  readonly pseudonymizer: Pseudonymizer;
}

/** `options` are the command line's option values, e.g. { preset: 'basic', cleanStructuredContent: true }. */
export async function engineFor(options: Record<string, unknown>, secret: Uint8Array, recipe?: Recipe): Promise<EngineInputs> {
  const plan = await planFromOptions(options);
  const p = await pseudonymsFromOptions(options);
  return {
    plan: { ...plan, options: new Set(plan.options), ...(recipe ? { recipe } : {}) },
    pseudonymizer: new Pseudonymizer(ProjectSecret.fromBytes(secret), {
      researchIdPrefix: p.researchIdPrefix,
      dateShiftDays: p.dateShiftDays,
      ...(p.lookup ? { lookup: new Map(p.lookup) } : {}),
    }),
  };
}
