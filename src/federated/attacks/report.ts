/**
 * The figures a membership-inference attack is reported with, for a DPIA: ROC AUC, and the true
 * positive rate at 0.1% and 1% false positives — Carlini et al. ("Membership Inference Attacks
 * From First Principles", IEEE S&P 2022, Section III-B) show that an attack's average accuracy or
 * AUC hides whether it can identify even a few members with confidence, which is what matters
 * for the people in the training data. Yeom et al.'s membership advantage (max TPR − FPR,
 * "Privacy Risk in Machine Learning", CSF 2018, Definition 4) is given too.
 */
import { maxAdvantage, rocAuc, rocCurve, tprAtFprOnCurve, RocInputError, type BinaryLabels } from './roc.js';

export type MembershipAttackName = 'loss-threshold' | 'lira-online' | 'lira-offline';

export interface AttackReport {
  readonly attack: MembershipAttackName;
  /** ROC AUC of the scores (0.5: the attack learns nothing). */
  readonly auc: number;
  /** TPR at FPR 0.001, interpolated on the ROC curve (with fewer than 1000 non-members, below the curve's first step). */
  readonly tprAt0_1pct: number;
  /** TPR at FPR 0.01, interpolated on the ROC curve. */
  readonly tprAt1pct: number;
  /** Yeom et al.'s membership advantage at the best threshold: max TPR − FPR. */
  readonly advantage: number;
  /** Number of members and non-members attacked. */
  readonly members: number;
  readonly nonMembers: number;
}

/** The report of scores where higher means "member". */
export function attackReport(attack: MembershipAttackName, scores: ArrayLike<number>, isMember: BinaryLabels): AttackReport {
  const curve = rocCurve(scores, isMember);
  let members = 0;
  for (let i = 0; i < isMember.length; i++) if (isMember[i] === true || isMember[i] === 1) members++;
  return {
    attack,
    auc: rocAuc(scores, isMember),
    tprAt0_1pct: tprAtFprOnCurve(curve, 0.001),
    tprAt1pct: tprAtFprOnCurve(curve, 0.01),
    advantage: maxAdvantage(curve),
    members,
    nonMembers: isMember.length - members,
  };
}

/** Scores of members followed by non-members, with the matching labels. */
export function joinScores(memberScores: Float64Array, nonMemberScores: Float64Array): { scores: Float64Array; isMember: Uint8Array } {
  if (memberScores.length === 0 || nonMemberScores.length === 0) {
    throw new RocInputError(`an attack needs members and non-members; got ${memberScores.length} and ${nonMemberScores.length}`);
  }
  const scores = new Float64Array(memberScores.length + nonMemberScores.length);
  scores.set(memberScores, 0);
  scores.set(nonMemberScores, memberScores.length);
  const isMember = new Uint8Array(scores.length);
  isMember.fill(1, 0, memberScores.length);
  return { scores, isMember };
}
