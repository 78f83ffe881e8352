/**
 * The membership-inference evaluation of a saved model that `radanon fl attack` prints: the
 * loss-threshold attack and LiRA (online and offline) on the same members and non-members,
 * encoded with the model's schema.
 */
import type { SavedModel } from '../model.js';
import { encodeForModel, type EvaluationData } from '../evaluate.js';
import { lira, type LiraVariance, type ShadowTraining } from './lira.js';
import { lossThresholdAttack } from './membership.js';
import type { AttackReport } from './report.js';

/** Shadow training when the target's own settings are not known: a few dozen epochs of small-batch SGD. */
export const DEFAULT_SHADOW_TRAINING: ShadowTraining = Object.freeze({ epochs: 20, learningRate: 0.05, batchSize: 32 });

export interface MembershipAttackOptions {
  /** How shadow models are trained (default `DEFAULT_SHADOW_TRAINING`); mirror the target's training. */
  readonly training?: ShadowTraining;
  /** Number of LiRA shadow models (default 16); 0 skips LiRA. */
  readonly shadowModels?: number;
  readonly seed?: number;
}

export interface MembershipAttackResults {
  readonly lossThreshold: AttackReport;
  /** Absent when LiRA was skipped. */
  readonly lira?: {
    readonly online: AttackReport;
    readonly offline: AttackReport;
    readonly shadowModels: number;
    readonly variance: LiraVariance;
    readonly training: ShadowTraining;
  };
  /** The model's own DP guarantee, when it was trained with one. */
  readonly dp?: { readonly epsilon: number; readonly delta: number };
}

export function runMembershipAttacks(model: SavedModel, members: EvaluationData, nonMembers: EvaluationData, options: MembershipAttackOptions = {}): MembershipAttackResults {
  const memberData = encodeForModel(model, members);
  const nonMemberData = encodeForModel(model, nonMembers);
  const lossThreshold = lossThresholdAttack(model.spec, model.parameters, memberData, nonMemberData);
  const shadowModels = options.shadowModels ?? 16;
  const dp = model.dp === undefined ? {} : { dp: model.dp };
  if (shadowModels === 0) return { lossThreshold, ...dp };
  const training = options.training ?? DEFAULT_SHADOW_TRAINING;
  const report = lira(model.spec, model.parameters, memberData, nonMemberData, { training, shadowModels, seed: options.seed ?? 0 });
  return { lossThreshold, lira: { ...report, training }, ...dp };
}
