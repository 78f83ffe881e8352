import { describe, expect, it } from 'vitest';
import { RocInputError, rocAuc } from '../../../src/federated/attacks/roc.js';
import { encode, localMoments, localSchema, mergeMoments, mergeSchemas, type FeatureTable } from '../../../src/federated/data.js';
import { evaluateModel } from '../../../src/federated/evaluate.js';
import { perExampleLoss, predict, type SavedModel } from '../../../src/federated/model.js';
import { createRng } from '../../../src/federated/random.js';
import { trainCentral } from '../../../src/federated/train.js';
import type { Dataset, ModelSpec } from '../../../src/federated/types.js';

function table(n: number, seed: number, colours: readonly string[]): FeatureTable {
  const rng = createRng(seed);
  const rows: string[][] = [];
  const labels: string[] = [];
  for (let r = 0; r < n; r++) {
    const a = rng.gaussian();
    const colour = colours[rng.nextInt(colours.length)]!;
    const logit = 1.5 * a + (colour === 'red' ? 1 : -0.5) + rng.gaussian();
    rows.push([a.toFixed(5), colour]);
    labels.push(logit > 0 ? 'yes' : 'no');
  }
  return { source: `table-${seed}`, columns: ['a', 'colour'], rows, labels, label: 'outcome' };
}

function modelFor(t: FeatureTable): SavedModel {
  const schema = mergeSchemas([localSchema(t)]);
  const standardisation = mergeMoments([localMoments(t, schema)]);
  const data = encode(t, schema, standardisation);
  const spec: ModelSpec = { kind: 'logistic', inputs: data.d, hidden: [] };
  const parameters = trainCentral(spec, data, { epochs: 20, learningRate: 0.1, batchSize: 16, seed: 1 });
  return { format: 'radanon-fl-model', version: 1, spec, schema, standardisation, parameters, rounds: 3, strategy: 'fedavg' };
}

describe('evaluateModel', () => {
  it('gives accuracy, ROC AUC and log loss as computed by hand', () => {
    const spec: ModelSpec = { kind: 'logistic', inputs: 1, hidden: [] };
    const data: Dataset = { x: Float64Array.of(-2, -1, 1, 2, 1.5), y: Float64Array.of(0, 0, 1, 1, 0), n: 5, d: 1 };
    const model = { spec, parameters: Float64Array.of(5, 0) } as unknown as SavedModel;
    const result = evaluateModel(model, data);
    expect(result.n).toBe(5);
    // Row 5 (x = 1.5, y = 0) is the one mistake; it outranks the positive at x = 1: one of 6 pairs lost.
    expect(result.accuracy).toBeCloseTo(4 / 5, 14);
    expect(result.rocAuc).toBeCloseTo(5 / 6, 14);
    const expected = [10, 5, 5, 10].map((m) => Math.log1p(Math.exp(-m))).reduce((s, v) => s + v, 0) + (7.5 + Math.log1p(Math.exp(-7.5)));
    expect(result.logLoss).toBeCloseTo(expected / 5, 14);
  });

  it('encodes a feature table with the model’s schema and agrees with predict and perExampleLoss', () => {
    const train = table(300, 1, ['blue', 'green', 'red']);
    const model = modelFor(train);
    const heldOut = table(200, 2, ['blue', 'green', 'red']);
    const result = evaluateModel(model, heldOut);
    const data = encode(heldOut, model.schema, model.standardisation);
    const p = predict(model.spec, model.parameters, data);
    let right = 0;
    for (let r = 0; r < data.n; r++) if ((p[r]! >= 0.5 ? 1 : 0) === data.y[r]) right++;
    expect(result.n).toBe(200);
    expect(result.accuracy).toBe(right / 200);
    expect(result.rocAuc).toBeCloseTo(rocAuc(p, data.y), 12);
    const losses = perExampleLoss(model.spec, model.parameters, data);
    expect(result.logLoss).toBeCloseTo(losses.reduce((s, v) => s + v, 0) / 200, 12);
    expect(result.accuracy).toBeGreaterThan(0.7);
    expect(result.rocAuc).toBeGreaterThan(0.8);
    // The encoded dataset gives the same figures.
    expect(evaluateModel(model, data)).toEqual(result);
  });

  it('evaluates data with a category the model never saw, and refuses data with one class', () => {
    const model = modelFor(table(200, 3, ['blue', 'red']));
    const withPurple = table(100, 4, ['blue', 'purple', 'red']);
    expect(evaluateModel(model, withPurple).n).toBe(100);
    const oneClass: FeatureTable = { ...withPurple, labels: withPurple.labels.map(() => 'yes') };
    expect(() => evaluateModel(model, oneClass)).toThrow(RocInputError);
  });
});
