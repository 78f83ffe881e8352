import { describe, expect, it } from 'vitest';
import { attributeInference, attributeInferenceOnTable, AttributeInferenceError } from '../../../src/federated/attacks/attribute.js';
import { trainCentralDp, DpSgdSettingsError } from '../../../src/federated/attacks/dp-sgd.js';
import { lira, LiraSettingsError, scaledConfidence } from '../../../src/federated/attacks/lira.js';
import { lossScores, lossThresholdAttack } from '../../../src/federated/attacks/membership.js';
import { attackReport } from '../../../src/federated/attacks/report.js';
import { maxAdvantage, rocAuc, rocCurve, RocInputError, tprAtFpr } from '../../../src/federated/attacks/roc.js';
import { runMembershipAttacks } from '../../../src/federated/attacks/suite.js';
import { encode, localMoments, localSchema, mergeMoments, mergeSchemas, type FeatureTable } from '../../../src/federated/data.js';
import { logits, perExampleLoss, type SavedModel } from '../../../src/federated/model.js';
import { createRng } from '../../../src/federated/random.js';
import { epsilonFor } from '../../../src/federated/rdp.js';
import { trainCentral } from '../../../src/federated/train.js';
import type { Dataset, ModelSpec } from '../../../src/federated/types.js';

describe('rocAuc', () => {
  it('is 1 for a perfect ranking and 0 for a reversed one', () => {
    expect(rocAuc([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0])).toBe(1);
    expect(rocAuc([0.1, 0.3, 0.8, 0.9], [true, true, false, false])).toBe(0);
  });

  it('is 0.5 when every score ties, and counts tied pairs one half', () => {
    expect(rocAuc([2, 2, 2, 2, 2], [1, 0, 1, 0, 0])).toBe(0.5);
    // Pairs (positive, negative): (0.9, 0.8) 1, (0.9, 0.3) 1, (0.8, 0.8) ½, (0.8, 0.3) 1 → 3.5 / 4.
    expect(rocAuc([0.9, 0.8, 0.8, 0.3], [1, 0, 1, 0])).toBe(0.875);
  });

  it('equals the pair count on random scores with many ties', () => {
    const rng = createRng(5);
    const scores = Float64Array.from({ length: 300 }, () => rng.nextInt(7));
    const labels = Uint8Array.from({ length: 300 }, () => rng.nextInt(2));
    let wins = 0;
    let pairs = 0;
    for (let i = 0; i < 300; i++) {
      if (labels[i] !== 1) continue;
      for (let j = 0; j < 300; j++) {
        if (labels[j] !== 0) continue;
        pairs++;
        wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
      }
    }
    expect(rocAuc(scores, labels)).toBeCloseTo(wins / pairs, 12);
  });

  it('accepts infinite scores and refuses what it cannot rank', () => {
    expect(rocAuc([Infinity, -Infinity, Infinity, 0], [1, 0, 1, 0])).toBe(1);
    expect(() => rocAuc([1, 2], [1, 1])).toThrow(/both classes/);
    expect(() => rocAuc([1, Number.NaN], [1, 0])).toThrow(RocInputError);
    expect(() => rocAuc([1, 2, 3], [1, 0])).toThrow(/3 scores but 2 labels/);
    expect(() => rocAuc([1, 2], [1, 2])).toThrow(/0\/1/);
  });
});

describe('rocCurve and tprAtFpr', () => {
  // Scores from high to low: P P N P N N N N N N (3 positives, 7 negatives).
  const scores = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
  const labels = [1, 1, 0, 1, 0, 0, 0, 0, 0, 0];

  it('walks from (0, 0) to (1, 1), one point per distinct score', () => {
    const curve = rocCurve(scores, labels);
    expect(curve.length).toBe(11);
    expect(curve[0]).toEqual({ fpr: 0, tpr: 0, threshold: Infinity });
    expect(curve[2]).toMatchObject({ fpr: 0, tpr: 2 / 3 });
    expect(curve[4]).toMatchObject({ fpr: 1 / 7, tpr: 1 });
    expect(curve[10]).toMatchObject({ fpr: 1, tpr: 1 });
    expect(maxAdvantage(curve)).toBeCloseTo(1 - 1 / 7, 14);
  });

  it('interpolates the TPR between the curve’s points', () => {
    // FPR 0 is reached with TPR 2/3; the next point is (1/7, 2/3) then (1/7, 1).
    expect(tprAtFpr(scores, labels, 0)).toBeCloseTo(2 / 3, 14);
    expect(tprAtFpr(scores, labels, 0.001)).toBeCloseTo(2 / 3, 14);
    expect(tprAtFpr(scores, labels, 1 / 7)).toBe(1);
    // A tie group of one positive and one negative is a diagonal segment from (0, 0) to (1/2, 1).
    expect(tprAtFpr([1, 1, 0], [1, 0, 0], 0.01)).toBeCloseTo(0.02, 14);
    expect(tprAtFpr([1, 1, 0], [1, 0, 0], 0.25)).toBeCloseTo(0.5, 14);
  });

  it('reports an attack with its AUC, TPR at 0.1% and 1% FPR and advantage', () => {
    const report = attackReport('loss-threshold', scores, labels);
    expect(report.auc).toBeCloseTo(rocAuc(scores, labels), 14);
    expect(report.members).toBe(3);
    expect(report.nonMembers).toBe(7);
    // Interpolated between (0, 2/3) and (1/7, 2/3).
    expect(report.tprAt0_1pct).toBeCloseTo(2 / 3, 14);
    expect(report.tprAt1pct).toBeCloseTo(2 / 3, 14);
    expect(() => tprAtFpr(scores, labels, 1.5)).toThrow(/false-positive rate/);
  });
});

/** Rows of d standard normal features; the label depends weakly on the first (noise sd `noise`). */
function synthetic(n: number, d: number, seed: number, noise: number): Dataset {
  const rng = createRng(seed);
  const x = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) x[r * d + j] = rng.gaussian();
    y[r] = x[r * d]! + noise * rng.gaussian() > 0 ? 1 : 0;
  }
  return { x, y, n, d };
}

describe('membership inference on an overfit model, without and with differential privacy', () => {
  // 80 features, 50 training rows: logistic regression separates them and memorises.
  const d = 80;
  const spec: ModelSpec = { kind: 'logistic', inputs: d, hidden: [] };
  const members = synthetic(50, d, 11, 1);
  const nonMembers = synthetic(50, d, 12, 1);
  const training = { epochs: 200, learningRate: 0.5, batchSize: 10 };
  const overfit = trainCentral(spec, members, { ...training, seed: 1 });
  const dp = trainCentralDp(spec, members, { epochs: 20, learningRate: 0.5, batchSize: 10, clipNorm: 0.5, noiseMultiplier: 8, seed: 1 });

  it('the loss-threshold attack scores −loss and clearly beats guessing on the overfit model', () => {
    const scores = lossScores(spec, overfit, members);
    const losses = perExampleLoss(spec, overfit, members);
    expect(scores[0]).toBe(-losses[0]!);
    const report = lossThresholdAttack(spec, overfit, members, nonMembers);
    expect(report.members).toBe(50);
    expect(report.nonMembers).toBe(50);
    expect(report.auc).toBeGreaterThan(0.75);
    expect(report.advantage).toBeGreaterThan(0.4);
  });

  it('DP-SGD reports its ε and brings the loss-threshold attack down towards guessing', () => {
    expect(dp.steps).toBe(100);
    expect(dp.samplingRate).toBe(0.2);
    expect(dp.epsilon).toBeCloseTo(epsilonFor(8, 1e-5, 100, 0.2).epsilon, 12);
    expect(dp.epsilon).toBeLessThan(1.5);
    const plain = lossThresholdAttack(spec, overfit, members, nonMembers);
    const private_ = lossThresholdAttack(spec, dp.parameters, members, nonMembers);
    expect(private_.auc).toBeLessThan(plain.auc - 0.2);
    expect(private_.auc).toBeLessThan(0.65);
  });

  it('LiRA (16 shadow models) beats guessing on the overfit model, online and offline, and is weaker with DP', () => {
    const plain = lira(spec, overfit, members, nonMembers, { training, shadowModels: 16, seed: 3 });
    expect(plain.shadowModels).toBe(16);
    expect(plain.variance).toBe('global');
    expect(plain.online.auc).toBeGreaterThan(0.8);
    expect(plain.offline.auc).toBeGreaterThan(0.7);
    expect(plain.online.tprAt1pct).toBeGreaterThanOrEqual(0);
    expect(plain.online.tprAt1pct).toBeLessThanOrEqual(1);
    const private_ = lira(spec, dp.parameters, members, nonMembers, { training, shadowModels: 16, seed: 3 });
    expect(private_.online.auc).toBeLessThan(plain.online.auc - 0.2);
    expect(private_.online.auc).toBeLessThan(0.65);
  });

  it('reads the logit-scaled confidence from the logit, signed by the label', () => {
    const phi = scaledConfidence(spec, overfit, members);
    const z = logits(spec, overfit, members);
    for (let i = 0; i < members.n; i++) expect(phi[i]).toBe(members.y[i] === 1 ? z[i] : -z[i]!);
  });

  it('LiRA refuses an odd or too small number of shadow models, and DP-SGD bad settings', () => {
    expect(() => lira(spec, overfit, members, nonMembers, { training, shadowModels: 5 })).toThrow(LiraSettingsError);
    expect(() => lira(spec, overfit, members, nonMembers, { training, shadowModels: 2 })).toThrow(/at least 4/);
    expect(() => trainCentralDp(spec, members, { epochs: 1, learningRate: 0.1, batchSize: 60, clipNorm: 1, noiseMultiplier: 1, seed: 1 })).toThrow(DpSgdSettingsError);
    expect(() => trainCentralDp(spec, members, { epochs: 1, learningRate: 0.1, batchSize: 5, clipNorm: 1, noiseMultiplier: 0, seed: 1 })).toThrow(/noise multiplier/);
  });

  it('LiRA works on a multilayer perceptron too', () => {
    const mlp: ModelSpec = { kind: 'mlp', inputs: d, hidden: [4] };
    const mlpTraining = { epochs: 40, learningRate: 0.2, batchSize: 10 };
    const target = trainCentral(mlp, members, { ...mlpTraining, seed: 2 });
    const report = lira(mlp, target, members, nonMembers, { training: mlpTraining, shadowModels: 4, seed: 1 });
    expect(report.online.auc).toBeGreaterThan(0.5);
    expect(report.online.members).toBe(50);
  });
});

/**
 * Records with a binary sensitive covariate s (share `share1` of ones) and three other features;
 * the label depends on s with weight `effect` (0: not at all).
 */
function sensitiveTable(n: number, seed: number, effect: number, share1: number): FeatureTable {
  const rng = createRng(seed);
  const rows: string[][] = [];
  const labels: string[] = [];
  for (let r = 0; r < n; r++) {
    const s = rng.next() < share1 ? 1 : 0;
    const a = rng.gaussian();
    const b = rng.gaussian();
    const c = rng.gaussian();
    const logit = effect * (2 * s - 1) + a - 0.5 * b + 0.5 * rng.gaussian();
    rows.push([s === 1 ? 'yes' : 'no', a.toFixed(6), b.toFixed(6), c.toFixed(6)]);
    labels.push(logit > 0 ? 'event' : 'none');
  }
  return { source: `synthetic-${seed}`, columns: ['smoker', 'a', 'b', 'c'], rows, labels, label: 'outcome' };
}

function trainedModel(table: FeatureTable): SavedModel {
  const schema = mergeSchemas([localSchema(table)]);
  const standardisation = mergeMoments([localMoments(table, schema)]);
  const data = encode(table, schema, standardisation);
  const spec: ModelSpec = { kind: 'logistic', inputs: data.d, hidden: [] };
  const parameters = trainCentral(spec, data, { epochs: 30, learningRate: 0.1, batchSize: 16, seed: 4 });
  return { format: 'radanon-fl-model', version: 1, spec, schema, standardisation, parameters, rounds: 1, strategy: 'fedavg' };
}

describe('attribute inference', () => {
  it('recovers a covariate the label depends on better than the majority guess', () => {
    const table = sensitiveTable(600, 21, 2, 0.5);
    const report = attributeInferenceOnTable(trainedModel(table), table, 'smoker');
    expect(report.values).toEqual(['no', 'yes']);
    expect(report.n).toBe(600);
    expect(report.baseline).toBeGreaterThanOrEqual(0.5);
    expect(report.advantage).toBeCloseTo(report.accuracy - report.baseline, 14);
    expect(report.advantage).toBeGreaterThan(0.15);
  });

  it('gains nothing on a covariate the label does not depend on', () => {
    const table = sensitiveTable(600, 22, 0, 0.7);
    const model = trainedModel(table);
    const report = attributeInferenceOnTable(model, table, 'smoker');
    expect(report.baseline).toBeGreaterThan(0.6);
    expect(Math.abs(report.advantage)).toBeLessThan(0.03);
    // Without the prior, choosing the lower loss follows the label, not the covariate: no better than the majority guess.
    const noPrior = attributeInferenceOnTable(model, table, 'smoker', { prior: 'none' });
    expect(noPrior.prior).toBe('none');
    expect(noPrior.advantage).toBeLessThan(0.03);
  });

  it('guesses the value with the lower loss on encoded data', () => {
    // One feature, weight 2 and intercept 0: for y = 1 the larger value has the lower loss.
    const spec: ModelSpec = { kind: 'logistic', inputs: 1, hidden: [] };
    const w = Float64Array.of(2, 0);
    const y = Float64Array.of(1, 1, 0, 0);
    const low: Dataset = { x: Float64Array.of(-1, -1, -1, -1), y, n: 4, d: 1 };
    const high: Dataset = { x: Float64Array.of(1, 1, 1, 1), y, n: 4, d: 1 };
    // Guesses: 1, 1, 0, 0; truths 1, 0, 0, 0 → 3 of 4 right; majority (0) guess 3 of 4 too.
    const report = attributeInference(spec, w, low, high, [1, 0, 0, 0], { prior: 'none' });
    expect(report.accuracy).toBe(0.75);
    expect(report.baseline).toBe(0.75);
    expect(report.advantage).toBe(0);
    expect(() => attributeInference(spec, w, low, high, [1, 0, 2, 0])).toThrow(AttributeInferenceError);
    expect(() => attributeInference(spec, w, low, { ...high, y: Float64Array.of(0, 1, 0, 0) }, [1, 0, 0, 0])).toThrow(/different labels/);
  });

  it('refuses a column that is missing or not binary', () => {
    const table = sensitiveTable(50, 23, 1, 0.5);
    const model = trainedModel(table);
    expect(() => attributeInferenceOnTable(model, table, 'weight')).toThrow(/no column "weight"/);
    expect(() => attributeInferenceOnTable(model, table, 'a')).toThrow(/exactly two values/);
  });
});

describe('runMembershipAttacks', () => {
  it('attacks a saved model on feature tables with the loss threshold and LiRA', () => {
    const table = sensitiveTable(80, 31, 1, 0.5);
    const members: FeatureTable = { ...table, rows: table.rows.slice(0, 40), labels: table.labels.slice(0, 40) };
    const nonMembers: FeatureTable = { ...table, rows: table.rows.slice(40), labels: table.labels.slice(40) };
    const model = { ...trainedModel(members), dp: { epsilon: 3, delta: 1e-5 } };
    const results = runMembershipAttacks(model, members, nonMembers, { shadowModels: 4, training: { epochs: 5, learningRate: 0.1, batchSize: 16 } });
    expect(results.lossThreshold.members).toBe(40);
    expect(results.lossThreshold.nonMembers).toBe(40);
    expect(results.lira?.online.attack).toBe('lira-online');
    expect(results.lira?.offline.nonMembers).toBe(40);
    expect(results.dp).toEqual({ epsilon: 3, delta: 1e-5 });
    const skipped = runMembershipAttacks(model, members, nonMembers, { shadowModels: 0 });
    expect(skipped.lira).toBeUndefined();
    expect(skipped.lossThreshold.auc).toBe(results.lossThreshold.auc);
  });
});
