/**
 * Run settings in a form that crosses into worker threads (structured clone): plain data
 * only, rebuilt into the engine's objects on each side by `materialize`.
 */
import type { DeidPlan, PixelMethod } from '../deid/engine.js';
import type { OptionName } from '../deid/profile.js';
import { Pseudonymizer, ProjectSecret, type PseudonymSettings } from '../deid/pseudonyms.js';
import type { Recipe } from '../deid/recipe.js';
import type { PixelSettings } from '../pixels/settings.js';

export interface JobSettings {
  readonly inputDir: string;
  readonly outputDir: string;
  readonly dryRun: boolean;
  /** When the run started (ms since the epoch): an identical output written since then is a duplicate, not a resumed file. */
  readonly runStartedAt: number;
  /**
   * 'tree': <research ID>/<study UID>/<series UID>/<instance UID>.dcm.
   * 'media': DICOM/<8>/<8>/<8>/<8>, names of at most 8 characters as PS3.10 and PS3.11 require
   * for files referenced by a DICOMDIR, derived from the same pseudonyms.
   */
  readonly layout: 'tree' | 'media';
  readonly plan: {
    readonly options: readonly OptionName[];
    readonly allowList: boolean;
    readonly birthDate: 'remove' | 'shift';
    readonly recipe: Recipe;
    readonly methodName: string;
    readonly implementation: { readonly classUid: string; readonly versionName: string };
    /** Pixel options these files had applied (see DeidPlan.pixelMethods). */
    readonly pixelMethods?: readonly PixelMethod[];
  };
  readonly pseudonyms: {
    readonly researchIdPrefix: string;
    readonly dateShiftDays: readonly [number, number];
    readonly lookup?: readonly (readonly [string, string])[];
  };
  /** Secret material; lives only in memory and in the worker's data, never in reports. */
  readonly secret: Uint8Array;
  /** Copy each malformed input here (relative layout kept), or undefined. */
  readonly quarantineDir?: string;
  /** Clean the pixel data (burned-in text, marked regions), or undefined to copy it untouched. */
  readonly pixels?: PixelSettings;
}

export interface Materialized {
  readonly plan: DeidPlan;
  readonly pseudonymizer: Pseudonymizer;
}

export function materialize(s: JobSettings): Materialized {
  const pseudo: PseudonymSettings = {
    researchIdPrefix: s.pseudonyms.researchIdPrefix,
    dateShiftDays: s.pseudonyms.dateShiftDays,
    lookup: s.pseudonyms.lookup ? new Map(s.pseudonyms.lookup) : undefined,
  };
  return {
    plan: { ...s.plan, options: new Set(s.plan.options), pixelMethods: new Set(s.plan.pixelMethods ?? []) },
    pseudonymizer: new Pseudonymizer(ProjectSecret.fromBytes(s.secret), pseudo),
  };
}
