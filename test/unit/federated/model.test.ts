import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, localMoments, localSchema, mergeMoments, mergeSchemas, type FeatureTable, type Schema } from '../../../src/federated/data.js';
import {
  accuracy,
  initialParameters,
  layerLayout,
  loadModel,
  logLoss,
  loss,
  lossGradient,
  ModelError,
  ModelFileError,
  parameterCount,
  perExampleLoss,
  predict,
  saveModel,
  sigmoid,
  type SavedModel,
} from '../../../src/federated/model.js';
import { createRng, mixSeeds, type Rng } from '../../../src/federated/random.js';
import { createStrategy } from '../../../src/federated/strategies.js';
import { clipUpdate, trainCentral, trainLocal, TrainingError } from '../../../src/federated/train.js';
import type { Dataset, ModelSpec, RoundPlan, SiteResult } from '../../../src/federated/types.js';

const logistic = (inputs: number): ModelSpec => ({ kind: 'logistic', inputs, hidden: [] });
const mlp = (inputs: number, hidden: number[]): ModelSpec => ({ kind: 'mlp', inputs, hidden });

function randomData(rng: Rng, n: number, d: number, label: (x: Float64Array, offset: number) => number): Dataset {
  const x = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) x[r * d + j] = rng.gaussian();
    y[r] = label(x, r * d);
  }
  return { x, y, n, d };
}

function randomVector(rng: Rng, length: number, scale: number): Float64Array {
  const v = new Float64Array(length);
  for (let k = 0; k < length; k++) v[k] = scale * rng.gaussian();
  return v;
}

function norm(v: Float64Array): number {
  return Math.sqrt(v.reduce((s, t) => s + t * t, 0));
}

function difference(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((t, k) => t - b[k]!);
}

const plan = (over: Partial<RoundPlan> = {}): RoundPlan => ({ round: 1, epochs: 2, learningRate: 0.1, batchSize: 8, proximalMu: 0, seed: 11, ...over });

describe('the seeded generator', () => {
  it('gives the same stream for the same seed and different streams for nearby seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(sa);
    expect(mixSeeds(1, 2)).not.toBe(mixSeeds(2, 1));
    expect(mixSeeds(1, 2)).toBe(mixSeeds(1, 2));
    expect(() => createRng(0.5)).toThrow('the seed must be a safe integer, got 0.5');
  });

  it('draws uniforms in [0, 1) and standard normals with the right moments', () => {
    const rng = createRng(7);
    const n = 20000;
    let su = 0;
    let sg = 0;
    let qg = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      min = Math.min(min, u);
      max = Math.max(max, u);
      su += u;
      const g = rng.gaussian();
      sg += g;
      qg += g * g;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    // Standard errors: uniform mean 0.002, normal mean 0.007, normal variance 0.01.
    expect(Math.abs(su / n - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(sg / n)).toBeLessThan(0.03);
    expect(Math.abs(qg / n - 1)).toBeLessThan(0.05);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[rng.nextInt(3)]!++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(100);
  });
});

describe('models', () => {
  it('counts parameters layer by layer', () => {
    expect(parameterCount(logistic(10))).toBe(11);
    expect(parameterCount(mlp(10, [4, 3]))).toBe(10 * 4 + 4 + 4 * 3 + 3 + 3 + 1);
    expect(layerLayout(mlp(2, [3]))).toEqual([
      { inputs: 2, outputs: 3, weights: 0, biases: 6 },
      { inputs: 3, outputs: 1, weights: 9, biases: 12 },
    ]);
    expect(() => parameterCount(mlp(3, []))).toThrow(ModelError);
    expect(() => parameterCount({ kind: 'logistic', inputs: 3, hidden: [2] })).toThrow('logistic regression has no hidden layers');
    expect(() => parameterCount(logistic(0))).toThrow('positive whole number of inputs');
  });

  it('initialises reproducibly: zeros for logistic regression, He-scaled weights and zero biases for an MLP', () => {
    expect(Array.from(initialParameters(logistic(3), 5))).toEqual([0, 0, 0, 0]);
    const spec = mlp(200, [100]);
    const a = initialParameters(spec, 5);
    expect(initialParameters(spec, 5)).toEqual(a);
    expect(initialParameters(spec, 6)).not.toEqual(a);
    const [hidden, output] = layerLayout(spec);
    let s = 0;
    for (let k = hidden!.weights; k < hidden!.biases; k++) s += a[k]! ** 2;
    const variance = s / (hidden!.biases - hidden!.weights);
    expect(Math.abs(variance / (2 / 200) - 1)).toBeLessThan(0.05);
    expect(Array.from(a.subarray(hidden!.biases, hidden!.biases + 100)).every((b) => b === 0)).toBe(true);
    expect(a[output!.biases]).toBe(0);
  });

  it('computes the sigmoid and the log-loss without overflow', () => {
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(0)).toBe(0.5);
    expect(logLoss(1000, 0)).toBe(1000);
    expect(logLoss(-1000, 1)).toBe(1000);
    expect(logLoss(1000, 1)).toBe(0);
    expect(logLoss(2, 1)).toBeCloseTo(-Math.log(sigmoid(2)), 15);
    expect(logLoss(2, 0)).toBeCloseTo(-Math.log(1 - sigmoid(2)), 14);
  });

  it('predicts σ(w·x + b) for logistic regression and averages per-example losses', () => {
    const data: Dataset = { x: Float64Array.of(1, 2, -1, 0.5), y: Float64Array.of(1, 0), n: 2, d: 2 };
    const w = Float64Array.of(0.5, -0.25, 0.1);
    const z = [0.5 - 0.5 + 0.1, -0.5 - 0.125 + 0.1];
    const p = predict(logistic(2), w, data);
    z.forEach((zr, r) => expect(p[r]).toBeCloseTo(sigmoid(zr), 15));
    expect(predict(logistic(2), [0.5, -0.25, 0.1], data)).toEqual(p);
    const per = perExampleLoss(logistic(2), w, data);
    expect(per[0]).toBeCloseTo(-Math.log(sigmoid(z[0]!)), 14);
    expect(per[1]).toBeCloseTo(-Math.log(1 - sigmoid(z[1]!)), 14);
    expect(loss(logistic(2), w, data)).toBeCloseTo((per[0]! + per[1]!) / 2, 15);
    expect(() => predict(logistic(3), w, data)).toThrow('the logistic model needs 4 parameters, got 3');
  });

  for (const spec of [logistic(4), mlp(4, [5, 3])]) {
    it(`has the gradient finite differences give (${spec.kind} ${JSON.stringify(spec.hidden)}, with L2)`, () => {
      const rng = createRng(3);
      const data = randomData(rng, 9, 4, (x, o) => (x[o]! + x[o + 1]! > 0 ? 1 : 0));
      const w = randomVector(rng, parameterCount(spec), 0.7);
      const l2 = 0.05;
      const { gradient } = lossGradient(spec, w, data, { l2 });
      const h = 1e-6;
      let worst = 0;
      for (let k = 0; k < w.length; k++) {
        const plus = Float64Array.from(w);
        const minus = Float64Array.from(w);
        plus[k]! += h;
        minus[k]! -= h;
        const numeric = (lossGradient(spec, plus, data, { l2 }).loss - lossGradient(spec, minus, data, { l2 }).loss) / (2 * h);
        worst = Math.max(worst, Math.abs(numeric - gradient[k]!) / Math.max(1e-3, Math.abs(numeric)));
      }
      expect(worst).toBeLessThan(1e-6);
    });
  }
});

describe('training', () => {
  const rng = createRng(21);
  const truth = [1.5, -2, 0.7, 0, 1];
  const separable = randomData(rng, 400, 5, (x, o) => (truth.reduce((s, w, j) => s + w * x[o + j]!, 0.3) > 0 ? 1 : 0));

  it('fits a separable set to at least 95 % with logistic regression and an MLP', () => {
    const options = { epochs: 30, learningRate: 0.1, batchSize: 16, seed: 1 };
    expect(accuracy(logistic(5), trainCentral(logistic(5), separable, options), separable)).toBeGreaterThanOrEqual(0.95);
    expect(accuracy(mlp(5, [8]), trainCentral(mlp(5, [8]), separable, options), separable)).toBeGreaterThanOrEqual(0.95);
  });

  it('lets an MLP fit what a line cannot (inside or outside a circle)', () => {
    const circle = randomData(createRng(4), 600, 2, (x, o) => (x[o]! ** 2 + x[o + 1]! ** 2 < 1.4 ? 1 : 0));
    const options = { epochs: 60, learningRate: 0.1, batchSize: 16, seed: 2 };
    const line = accuracy(logistic(2), trainCentral(logistic(2), circle, options), circle);
    const net = accuracy(mlp(2, [16]), trainCentral(mlp(2, [16]), circle, options), circle);
    expect(line).toBeLessThan(0.7);
    expect(net).toBeGreaterThanOrEqual(0.95);
  });

  it('is bit-for-bit reproducible for the same seeds, and differs for another site seed', () => {
    const spec = mlp(5, [6]);
    const global = initialParameters(spec, 9);
    const a = trainLocal(spec, global, separable, plan(), 17);
    const b = trainLocal(spec, global, separable, plan(), 17);
    expect(Buffer.from(a.parameters.buffer).equals(Buffer.from(b.parameters.buffer))).toBe(true);
    expect(a.loss).toBe(b.loss);
    expect(a.examples).toBe(400);
    expect(trainLocal(spec, global, separable, plan(), 18).parameters).not.toEqual(a.parameters);
    expect(trainCentral(spec, separable, { epochs: 2, learningRate: 0.1, batchSize: 8, seed: 4 })).toEqual(trainCentral(spec, separable, { epochs: 2, learningRate: 0.1, batchSize: 8, seed: 4 }));
    expect(global).toEqual(initialParameters(spec, 9)); // the input is not modified
  });

  it("pulls local parameters toward the global ones with FedProx's μ", () => {
    const spec = logistic(5);
    const global = Float64Array.of(-1, 1, -1, 1, -1, 0.5);
    const drift = (mu: number): number => norm(difference(trainLocal(spec, global, separable, plan({ proximalMu: mu, epochs: 5 }), 3).parameters, global));
    const free = drift(0);
    const held = drift(1);
    expect(held).toBeLessThan(free * 0.5);
    expect(drift(0.1)).toBeLessThan(free);
    expect(drift(0.1)).toBeGreaterThan(held);
  });

  it('clips the update to the plan\'s norm, keeping its direction', () => {
    const spec = logistic(5);
    const global = new Float64Array(6);
    const free = trainLocal(spec, global, separable, plan(), 5).parameters;
    const freeNorm = norm(difference(free, global));
    expect(freeNorm).toBeGreaterThan(0.5);
    const clipped = trainLocal(spec, global, separable, plan({ clipNorm: 0.5 }), 5);
    const update = difference(clipped.parameters, global);
    expect(norm(update)).toBeCloseTo(0.5, 12);
    update.forEach((u, k) => expect(u).toBeCloseTo((free[k]! * 0.5) / freeNorm, 12));
    expect(clipped.loss).toBeCloseTo(loss(spec, clipped.parameters, separable), 15);
    // An update shorter than the norm is left as it is.
    expect(clipUpdate(global, free, freeNorm * 2)).toEqual(free);
    expect(() => clipUpdate(global, free, 0)).toThrow('the clipping norm must be a positive number');
  });

  it('refuses unusable settings and reports divergence', () => {
    const spec = logistic(5);
    const global = new Float64Array(6);
    expect(() => trainLocal(spec, global, separable, plan({ learningRate: 0 }), 1)).toThrow(TrainingError);
    expect(() => trainLocal(spec, global, separable, plan({ batchSize: 2.5 }), 1)).toThrow('the batch size must be a positive whole number, got 2.5');
    expect(() => trainLocal(spec, new Float64Array(5), separable, plan(), 1)).toThrow('needs 6 parameters, got 5');
    expect(() => trainLocal(spec, global, { ...separable, d: 4, x: separable.x.subarray(0, 1600) }, plan(), 1)).toThrow('the data has 4 encoded columns, but the model takes 5 inputs');
    const wild = Float64Array.from(separable.x, (v) => v * 1e200);
    expect(() => trainLocal(mlp(5, [4]), initialParameters(mlp(5, [4]), 1), { ...separable, x: wild }, plan({ learningRate: 1e100 }), 1)).toThrow('training diverged');
  });

  it('reaches centralised accuracy within one point with FedAvg over three non-IID sites', () => {
    // A synthetic cohort: two numeric features, a categorical one, label from a noisy logistic truth.
    const gen = createRng(99);
    const header = ['age', 'volume', 'stage'];
    const make = (n: number): FeatureTable => {
      const rows: string[][] = [];
      const labels: string[] = [];
      for (let i = 0; i < n; i++) {
        const age = 60 + 12 * gen.gaussian();
        const volume = Math.exp(3 + 0.6 * gen.gaussian());
        const stage = ['I', 'II', 'III'][gen.nextInt(3)]!;
        const z = 0.08 * (age - 60) + 0.04 * (volume - 25) + (stage === 'III' ? 1.2 : stage === 'I' ? -0.8 : 0);
        labels.push(gen.next() < sigmoid(z) ? 'event' : 'none');
        rows.push([age.toFixed(1), volume.toFixed(2), stage]);
      }
      return { source: 'synthetic', columns: header, rows, labels, label: 'outcome' };
    };
    const pool = make(2400);
    const heldOut = make(1200);
    // Non-IID: sites hold the youngest, middle and oldest thirds (so the label rate differs too).
    const order = pool.rows.map((_, i) => i).sort((a, b) => Number(pool.rows[a]![0]) - Number(pool.rows[b]![0]));
    const sites: FeatureTable[] = [0, 1, 2].map((s) => {
      const idx = order.slice(s * 800, (s + 1) * 800);
      return { source: `site${s}`, columns: header, rows: idx.map((i) => pool.rows[i]!), labels: idx.map((i) => pool.labels[i]!), label: 'outcome' };
    });
    const schema: Schema = mergeSchemas(sites.map((t) => localSchema(t)));
    const standardisation = mergeMoments(sites.map((t) => localMoments(t, schema)));
    const siteData = sites.map((t) => encode(t, schema, standardisation));
    const test = encode(heldOut, schema, standardisation);
    const spec = logistic(schema.encodedColumns.length);
    const rounds = 25;
    const strategy = createStrategy('fedavg', { rounds, epochs: 1, learningRate: 0.05, batchSize: 32, seed: 5 });
    let global = initialParameters(spec, 5);
    for (let round = 1; round <= rounds; round++) {
      const roundPlan = strategy.configureRound(round);
      const results: SiteResult[] = siteData.map((data, s) => ({ site: `site${s}`, ...trainLocal(spec, global, data, roundPlan, s + 1) }));
      global = strategy.aggregate(global, results, []);
    }
    const pooled = encode(pool, schema, standardisation);
    const central = trainCentral(spec, pooled, { epochs: rounds, learningRate: 0.05, batchSize: 32, seed: 5 });
    const federatedAccuracy = accuracy(spec, global, test);
    const centralAccuracy = accuracy(spec, central, test);
    expect(centralAccuracy).toBeGreaterThan(0.7);
    expect(Math.abs(federatedAccuracy - centralAccuracy)).toBeLessThanOrEqual(0.01);
    // The sites' label rates differ: the shards are not IID.
    const rates = siteData.map((d) => d.y.reduce((a, b) => a + b, 0) / d.n);
    expect(Math.max(...rates) - Math.min(...rates)).toBeGreaterThan(0.2);
  });
});

describe('model files', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'radanon-fl-model-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const schema: Schema = {
    label: 'y',
    columns: [
      { name: 'age', kind: 'numeric' },
      { name: 'sex', kind: 'categorical', categories: ['F', 'M'] },
    ],
    classes: ['no', 'yes'],
    positive: 'yes',
    encodedColumns: ['age', 'sex=F', 'sex=M'],
  };
  const spec = mlp(3, [2]);
  const model = (): SavedModel => ({
    format: 'radanon-fl-model',
    version: 1,
    spec,
    schema,
    standardisation: { mean: Float64Array.of(61.25, 0.5, 0.5), sd: Float64Array.of(9.5, 0.5, 0.5) },
    parameters: initialParameters(spec, 3).map((v) => v + Math.PI / 7),
    rounds: 10,
    strategy: 'fedavg',
    dp: { epsilon: 2.5, delta: 1e-5 },
  });

  it('round-trips every parameter bit for bit', async () => {
    const file = path.join(dir, 'model.json');
    const saved = model();
    await saveModel(file, saved);
    const loaded = await loadModel(file);
    expect(loaded.parameters).toBeInstanceOf(Float64Array);
    expect(loaded.parameters).toEqual(saved.parameters);
    expect(loaded.standardisation.mean).toEqual(saved.standardisation.mean);
    expect(loaded.schema).toEqual(schema);
    expect(loaded.spec).toEqual(spec);
    expect(loaded.dp).toEqual({ epsilon: 2.5, delta: 1e-5 });
    expect(JSON.parse(await readFile(file, 'utf8')).parameters).toHaveLength(parameterCount(spec));
  });

  it('refuses files that are not models, of another version or whose parameters do not fit, naming the file', async () => {
    const write = async (name: string, value: unknown): Promise<string> => {
      const file = path.join(dir, name);
      await writeFile(file, typeof value === 'string' ? value : JSON.stringify(value));
      return file;
    };
    const plain = { ...model(), parameters: Array.from(model().parameters), standardisation: { mean: [61.25, 0.5, 0.5], sd: [9.5, 0.5, 0.5] } };
    const notJson = await write('broken.json', '{"format": ');
    await expect(loadModel(notJson)).rejects.toThrow(new RegExp(`^${notJson.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON`));
    await expect(loadModel(await write('other.json', { ...plain, format: 'something-else' }))).rejects.toThrow(/other\.json: not a radanon federated model \(format "something-else"/);
    await expect(loadModel(await write('v2.json', { ...plain, version: 2 }))).rejects.toThrow(/v2\.json: model file version 2 is not supported/);
    await expect(loadModel(await write('short.json', { ...plain, parameters: plain.parameters.slice(1) }))).rejects.toThrow(/short\.json: 10 parameters, but the mlp model \[2\] needs 11/);
    await expect(loadModel(await write('inputs.json', { ...plain, spec: mlp(4, [2]) }))).rejects.toThrow(/inputs\.json: the schema encodes 3 columns, but the model takes 4 inputs/);
    await expect(loadModel(await write('nan.json', { ...plain, parameters: [...plain.parameters.slice(1), null] }))).rejects.toThrow(ModelFileError);
    await expect(loadModel(path.join(dir, 'missing.json'))).rejects.toThrow(/missing\.json.*ENOENT/);
    await expect(saveModel(path.join(dir, 'bad.json'), { ...model(), rounds: -1 })).rejects.toThrow(/bad\.json: "rounds" must be a non-negative whole number/);
  });
});
