/**
 * The loss-threshold membership-inference attack (Yeom, Giacomelli, Fredrikson & Jha, "Privacy
 * Risk in Machine Learning: Analyzing the Connection to Overfitting", CSF 2018, Section 3.2):
 * a model fits its training examples better than unseen ones, so an example with a low loss is
 * called a member. Score = −loss; sweeping the threshold gives the ROC curve. It needs no shadow
 * models and is the baseline every stronger attack (LiRA) is compared with.
 */
import { perExampleLoss, type NumberVector } from '../model.js';
import type { Dataset, ModelSpec } from '../types.js';
import { attackReport, joinScores, type AttackReport } from './report.js';

/** Membership scores of the rows of `data`: the negated cross-entropy of each. */
export function lossScores(spec: ModelSpec, parameters: NumberVector, data: Dataset): Float64Array {
  const scores = perExampleLoss(spec, parameters, data);
  for (let i = 0; i < scores.length; i++) scores[i] = -scores[i]!;
  return scores;
}

/**
 * Attacks the model with the loss threshold: `members` were in its training data,
 * `nonMembers` were not (drawn from the same population).
 */
export function lossThresholdAttack(spec: ModelSpec, parameters: NumberVector, members: Dataset, nonMembers: Dataset): AttackReport {
  const { scores, isMember } = joinScores(lossScores(spec, parameters, members), lossScores(spec, parameters, nonMembers));
  return attackReport('loss-threshold', scores, isMember);
}
