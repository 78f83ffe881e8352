/**
 * The models federated learning trains: logistic regression and a multilayer perceptron (ReLU
 * hidden layers, sigmoid output), both as one flat Float64Array of parameters, with binary
 * cross-entropy, its gradient by back-propagation, and the model file.
 *
 * Parameter layout, layer by layer from the input: the layer's weight matrix row-major (one row
 * of `inputs` weights per output unit), then its biases. Logistic regression is the one-layer
 * case: d weights, then the intercept (d + 1 parameters). An MLP with hidden widths h1…hk has
 * layers d→h1→…→hk→1.
 *
 * Numerics: the loss is computed from the logit z, never from a rounded probability —
 * BCE(z, y) = max(z, 0) − z·y + log(1 + e^−|z|) — and σ(z) is evaluated on the side where the
 * exponential cannot overflow, so neither is ever infinite or NaN for finite z.
 */
import { readFile } from 'node:fs/promises';
import { writeReplacing } from '../pipeline/atomic.js';
import { checkSchema, type Schema, type StandardisationValues } from './data.js';
import { createRng, mixSeeds } from './random.js';
import { STRATEGY_NAMES } from './strategies.js';
import type { Dataset, ModelSpec, StrategyName } from './types.js';

/** A model specification, parameter vector or dataset that does not fit together. */
export class ModelError extends Error {
  override readonly name: string = 'ModelError';
}

/** A model file that cannot be read or is not a radanon federated model; names the file. */
export class ModelFileError extends ModelError {
  override readonly name: string = 'ModelFileError';
}

/** Parameters as they arrive: computed (typed) or read from JSON (plain numbers). */
export type NumberVector = Float64Array | readonly number[];

// ---------------------------------------------------------------------------------------------
// Specification and layout

/** One fully connected layer's place in the flat parameter vector. */
export interface LayerLayout {
  readonly inputs: number;
  readonly outputs: number;
  /** Index of W[0][0]; W[j][i] is at weights + j·inputs + i. */
  readonly weights: number;
  /** Index of the first bias. */
  readonly biases: number;
}

/** Throws `ModelError` unless `spec` is a logistic regression or an MLP with positive integer sizes. */
export function checkSpec(spec: ModelSpec): void {
  if (typeof spec !== 'object' || spec === null) throw new ModelError('the model specification must be an object');
  if (spec.kind !== 'logistic' && spec.kind !== 'mlp') throw new ModelError(`unknown model kind ${JSON.stringify(spec.kind)} (logistic or mlp)`);
  if (!Number.isSafeInteger(spec.inputs) || spec.inputs < 1) throw new ModelError(`the model needs a positive whole number of inputs, got ${spec.inputs}`);
  if (!Array.isArray(spec.hidden) || !spec.hidden.every((h) => Number.isSafeInteger(h) && h >= 1)) {
    throw new ModelError(`hidden layer widths must be positive whole numbers, got ${JSON.stringify(spec.hidden)}`);
  }
  if (spec.kind === 'logistic' && spec.hidden.length > 0) throw new ModelError('logistic regression has no hidden layers (use kind "mlp")');
  if (spec.kind === 'mlp' && spec.hidden.length === 0) throw new ModelError('a multilayer perceptron needs at least one hidden layer (or use kind "logistic")');
}

/** The layers of `spec`, input first, with their offsets in the parameter vector. */
export function layerLayout(spec: ModelSpec): LayerLayout[] {
  checkSpec(spec);
  const widths = [spec.inputs, ...spec.hidden, 1];
  const layers: LayerLayout[] = [];
  let offset = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const inputs = widths[l]!;
    const outputs = widths[l + 1]!;
    layers.push({ inputs, outputs, weights: offset, biases: offset + inputs * outputs });
    offset += inputs * outputs + outputs;
  }
  return layers;
}

/** Number of parameters: Σ over layers of inputs·outputs + outputs (d + 1 for logistic regression). */
export function parameterCount(spec: ModelSpec): number {
  const layers = layerLayout(spec);
  const last = layers[layers.length - 1]!;
  return last.biases + last.outputs;
}

/** 1 where the parameter is a weight (L2 applies), 0 where it is a bias. */
export function weightMask(spec: ModelSpec): Uint8Array {
  const mask = new Uint8Array(parameterCount(spec));
  for (const l of layerLayout(spec)) mask.fill(1, l.weights, l.biases);
  return mask;
}

/** Purpose tag of the initialisation stream, so that it differs from training streams of the same seed. */
const INIT_STREAM = 0x696e6974;

/**
 * Seeded starting parameters. Weights of every layer are drawn from N(0, 2 / fan-in) — He et
 * al. 2015's initialisation for ReLU networks — and biases start at 0. Logistic regression
 * starts at all zeros: its loss is convex, so the start does not matter and zero is the
 * conventional, seed-independent one.
 */
export function initialParameters(spec: ModelSpec, seed: number): Float64Array {
  const layers = layerLayout(spec);
  const w = new Float64Array(parameterCount(spec));
  if (spec.kind === 'logistic') return w;
  const rng = createRng(mixSeeds(seed, INIT_STREAM));
  for (const l of layers) {
    const std = Math.sqrt(2 / l.inputs);
    for (let k = l.weights; k < l.biases; k++) w[k] = std * rng.gaussian();
  }
  return w;
}

function toFloat64(v: NumberVector): Float64Array {
  return v instanceof Float64Array ? v : Float64Array.from(v);
}

/** Throws `ModelError` unless `parameters` has the spec's length. */
export function checkParameters(spec: ModelSpec, parameters: NumberVector): void {
  const expected = parameterCount(spec);
  if (parameters.length !== expected) throw new ModelError(`the ${spec.kind} model needs ${expected} parameters, got ${parameters.length}`);
}

/** Throws `ModelError` unless `data` is consistent and has the spec's number of inputs. */
export function checkDataset(spec: ModelSpec, data: Dataset): void {
  if (data.d !== spec.inputs) throw new ModelError(`the data has ${data.d} encoded columns, but the model takes ${spec.inputs} inputs`);
  if (!Number.isSafeInteger(data.n) || data.n < 0 || data.x.length !== data.n * data.d || data.y.length !== data.n) {
    throw new ModelError(`malformed dataset: n = ${data.n}, d = ${data.d}, ${data.x.length} values of x, ${data.y.length} labels`);
  }
}

// ---------------------------------------------------------------------------------------------
// Forward and backward passes

/** σ(z) without overflow: e^−z is only formed for z ≥ 0, e^z only for z < 0. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** Binary cross-entropy of logit z against label y ∈ {0, 1}: −y log σ(z) − (1 − y) log(1 − σ(z)). */
export function logLoss(z: number, y: number): number {
  return Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
}

/**
 * Scratch buffers for one example's forward and backward pass through a network, allocated
 * once per call site so the per-example loops allocate nothing.
 */
export class Network {
  readonly layers: readonly LayerLayout[];
  readonly parameterCount: number;
  /** Pre-activations of every layer. */
  private readonly z: Float64Array[];
  /** ReLU outputs of the hidden layers. */
  private readonly a: Float64Array[];
  /** ∂loss/∂pre-activation of every layer. */
  private readonly delta: Float64Array[];

  constructor(spec: ModelSpec) {
    this.layers = layerLayout(spec);
    this.parameterCount = parameterCount(spec);
    this.z = this.layers.map((l) => new Float64Array(l.outputs));
    this.a = this.layers.slice(0, -1).map((l) => new Float64Array(l.outputs));
    this.delta = this.layers.map((l) => new Float64Array(l.outputs));
  }

  /** The logit of the example at x[offset .. offset + d); keeps the activations for `backward`. */
  logit(w: Float64Array, x: Float64Array, offset: number): number {
    const layers = this.layers;
    for (let l = 0; l < layers.length; l++) {
      const { inputs, outputs, weights, biases } = layers[l]!;
      const z = this.z[l]!;
      const input = l === 0 ? x : this.a[l - 1]!;
      const base = l === 0 ? offset : 0;
      for (let j = 0; j < outputs; j++) {
        let s = w[biases + j]!;
        const row = weights + j * inputs;
        for (let i = 0; i < inputs; i++) s += w[row + i]! * input[base + i]!;
        z[j] = s;
      }
      if (l + 1 < layers.length) {
        const a = this.a[l]!;
        for (let j = 0; j < outputs; j++) a[j] = z[j]! > 0 ? z[j]! : 0;
      }
    }
    return this.z[layers.length - 1]![0]!;
  }

  /**
   * Adds ∂loss/∂w to `grad` for the example last passed to `logit`, given g = ∂loss/∂logit
   * (σ(z) − y for cross-entropy). ReLU's derivative at 0 is taken as 0.
   */
  backward(w: Float64Array, x: Float64Array, offset: number, g: number, grad: Float64Array): void {
    const layers = this.layers;
    const last = layers.length - 1;
    this.delta[last]![0] = g;
    for (let l = last; l >= 0; l--) {
      const { inputs, outputs, weights, biases } = layers[l]!;
      const delta = this.delta[l]!;
      const input = l === 0 ? x : this.a[l - 1]!;
      const base = l === 0 ? offset : 0;
      for (let j = 0; j < outputs; j++) {
        const dj = delta[j]!;
        grad[biases + j]! += dj;
        if (dj === 0) continue;
        const row = weights + j * inputs;
        for (let i = 0; i < inputs; i++) grad[row + i]! += dj * input[base + i]!;
      }
      if (l === 0) break;
      // δ of the layer below: Wᵀδ, masked by ReLU'(z).
      const below = this.delta[l - 1]!;
      const zBelow = this.z[l - 1]!;
      below.fill(0);
      for (let j = 0; j < outputs; j++) {
        const dj = delta[j]!;
        if (dj === 0) continue;
        const row = weights + j * inputs;
        for (let i = 0; i < inputs; i++) below[i]! += w[row + i]! * dj;
      }
      for (let i = 0; i < inputs; i++) if (!(zBelow[i]! > 0)) below[i] = 0;
    }
  }

  /**
   * Adds the summed gradient of the examples order[from..to) to `grad` and returns their summed
   * loss (cross-entropy only; penalties are the caller's).
   */
  accumulate(w: Float64Array, data: Dataset, order: Uint32Array | null, from: number, to: number, grad: Float64Array): number {
    const { x, y, d } = data;
    let total = 0;
    for (let k = from; k < to; k++) {
      const r = order === null ? k : order[k]!;
      const offset = r * d;
      const z = this.logit(w, x, offset);
      const label = y[r]!;
      total += logLoss(z, label);
      this.backward(w, x, offset, sigmoid(z) - label, grad);
    }
    return total;
  }
}

function prepared(spec: ModelSpec, parameters: NumberVector, data: Dataset): Float64Array {
  checkSpec(spec);
  checkParameters(spec, parameters);
  checkDataset(spec, data);
  return toFloat64(parameters);
}

/** The logit (log-odds of the positive class) of every row. */
export function logits(spec: ModelSpec, parameters: NumberVector, data: Dataset): Float64Array {
  const w = prepared(spec, parameters, data);
  const net = new Network(spec);
  const out = new Float64Array(data.n);
  for (let r = 0; r < data.n; r++) out[r] = net.logit(w, data.x, r * data.d);
  return out;
}

/** The probability of the positive class for every row. */
export function predict(spec: ModelSpec, parameters: NumberVector, data: Dataset): Float64Array {
  const z = logits(spec, parameters, data);
  for (let r = 0; r < z.length; r++) z[r] = sigmoid(z[r]!);
  return z;
}

/** Binary cross-entropy of every row (what membership-inference attacks threshold). */
export function perExampleLoss(spec: ModelSpec, parameters: NumberVector, data: Dataset): Float64Array {
  const z = logits(spec, parameters, data);
  for (let r = 0; r < z.length; r++) z[r] = logLoss(z[r]!, data.y[r]!);
  return z;
}

/** Mean binary cross-entropy over the rows (NaN for an empty dataset). */
export function loss(spec: ModelSpec, parameters: NumberVector, data: Dataset): number {
  const per = perExampleLoss(spec, parameters, data);
  let s = 0;
  for (let r = 0; r < per.length; r++) s += per[r]!;
  return s / per.length;
}

/** Share of rows whose predicted class (probability ≥ 0.5) is the label. */
export function accuracy(spec: ModelSpec, parameters: NumberVector, data: Dataset): number {
  const z = logits(spec, parameters, data);
  let right = 0;
  for (let r = 0; r < z.length; r++) if ((z[r]! >= 0 ? 1 : 0) === data.y[r]) right++;
  return right / z.length;
}

/**
 * The full-batch objective and its gradient: mean cross-entropy + (l2 / 2)·‖weights‖² (biases
 * are not penalised). Training uses the same code on mini-batches; tests check it against finite
 * differences.
 */
export function lossGradient(spec: ModelSpec, parameters: NumberVector, data: Dataset, options: { readonly l2?: number } = {}): { loss: number; gradient: Float64Array } {
  const w = prepared(spec, parameters, data);
  if (data.n === 0) throw new ModelError('the gradient of an empty dataset is undefined');
  const net = new Network(spec);
  const gradient = new Float64Array(w.length);
  let total = net.accumulate(w, data, null, 0, data.n, gradient) / data.n;
  for (let k = 0; k < gradient.length; k++) gradient[k]! /= data.n;
  const l2 = options.l2 ?? 0;
  if (l2 > 0) {
    const mask = weightMask(spec);
    for (let k = 0; k < w.length; k++) {
      if (mask[k] === 0) continue;
      total += 0.5 * l2 * w[k]! * w[k]!;
      gradient[k]! += l2 * w[k]!;
    }
  }
  return { loss: total, gradient };
}

// ---------------------------------------------------------------------------------------------
// The model file

export const MODEL_FORMAT = 'radanon-fl-model';
export const MODEL_VERSION = 1;

/**
 * A trained federated model with everything needed to use it on new data: the schema to encode
 * a table, the standardisation, the parameters, and how it was trained. Stored as JSON; arrays
 * are plain numbers in the file and Float64Arrays once loaded.
 */
export interface SavedModel {
  readonly format: typeof MODEL_FORMAT;
  readonly version: typeof MODEL_VERSION;
  readonly spec: ModelSpec;
  readonly schema: Schema;
  readonly standardisation: StandardisationValues;
  readonly parameters: NumberVector;
  /** Rounds of federated training completed. */
  readonly rounds: number;
  readonly strategy: StrategyName;
  /** The user-level privacy guarantee of training, when differential privacy was on. */
  readonly dp?: { readonly epsilon: number; readonly delta: number };
}

function allFinite(v: ArrayLike<unknown>): boolean {
  for (let k = 0; k < v.length; k++) if (typeof v[k] !== 'number' || !Number.isFinite(v[k] as number)) return false;
  return true;
}

function isNumberArray(v: unknown): v is NumberVector {
  return (Array.isArray(v) || v instanceof Float64Array) && allFinite(v as ArrayLike<unknown>);
}

/**
 * Checks a model read from `where` (a file name): format and version, a valid spec, schema and
 * standardisation, a parameter count that matches the spec, finite numbers. Returns it with
 * Float64Arrays.
 */
export function checkSavedModel(value: unknown, where: string): SavedModel {
  const fail = (why: string): never => {
    throw new ModelFileError(`${where}: ${why}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('not a model (a JSON object is expected)');
  const m = value as Record<string, unknown>;
  if (m['format'] !== MODEL_FORMAT) fail(`not a radanon federated model (format ${JSON.stringify(m['format'])}, expected "${MODEL_FORMAT}")`);
  if (m['version'] !== MODEL_VERSION) fail(`model file version ${JSON.stringify(m['version'])} is not supported (this radanon reads version ${MODEL_VERSION})`);
  const spec = m['spec'] as ModelSpec;
  try {
    checkSpec(spec);
  } catch (e) {
    fail(`invalid model specification: ${(e as Error).message}`);
  }
  let schema: Schema;
  try {
    schema = checkSchema(m['schema'], where);
  } catch (e) {
    return fail(`invalid schema: ${(e as Error).message}`);
  }
  if (schema.encodedColumns.length !== spec.inputs) fail(`the schema encodes ${schema.encodedColumns.length} columns, but the model takes ${spec.inputs} inputs`);
  const standardisation = m['standardisation'] as { mean?: unknown; sd?: unknown } | undefined;
  if (typeof standardisation !== 'object' || standardisation === null || !isNumberArray(standardisation.mean) || !isNumberArray(standardisation.sd)) {
    fail('the standardisation must hold finite "mean" and "sd" arrays');
  }
  const mean = toFloat64(standardisation!.mean as NumberVector);
  const sd = toFloat64(standardisation!.sd as NumberVector);
  if (mean.length !== spec.inputs || sd.length !== spec.inputs) fail(`the standardisation has ${mean.length} means and ${sd.length} standard deviations, expected ${spec.inputs}`);
  if (!sd.every((s) => s > 0)) fail('every standard deviation must be positive');
  const parameters = m['parameters'];
  if (!isNumberArray(parameters)) fail('"parameters" must be an array of finite numbers');
  const expected = parameterCount(spec);
  if ((parameters as NumberVector).length !== expected) fail(`${(parameters as NumberVector).length} parameters, but the ${spec.kind} model ${JSON.stringify(spec.hidden)} needs ${expected}`);
  const rounds = m['rounds'];
  if (!Number.isSafeInteger(rounds) || (rounds as number) < 0) fail(`"rounds" must be a non-negative whole number, got ${JSON.stringify(rounds)}`);
  const strategy = m['strategy'];
  if (!STRATEGY_NAMES.includes(strategy as StrategyName)) fail(`unknown strategy ${JSON.stringify(strategy)}`);
  const dp = m['dp'] as { epsilon?: unknown; delta?: unknown } | undefined;
  if (dp !== undefined) {
    const ok = typeof dp === 'object' && dp !== null && typeof dp.epsilon === 'number' && dp.epsilon > 0 && Number.isFinite(dp.epsilon) && typeof dp.delta === 'number' && dp.delta > 0 && dp.delta < 1;
    if (!ok) fail('"dp" must hold a positive finite epsilon and a delta in (0, 1)');
  }
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    spec: { kind: spec.kind, inputs: spec.inputs, hidden: [...spec.hidden] },
    schema,
    standardisation: { mean, sd },
    parameters: toFloat64(parameters as NumberVector),
    rounds: rounds as number,
    strategy: strategy as StrategyName,
    ...(dp === undefined ? {} : { dp: { epsilon: dp.epsilon as number, delta: dp.delta as number } }),
  };
}

/** Reads and checks a model file; errors name the file. */
export async function loadModel(file: string): Promise<SavedModel> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new ModelFileError(`cannot read the model ${file} (${e.code ?? e.message})`);
  });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return checkSavedModel(value, file);
}

/**
 * Writes the model as JSON, replacing `file` atomically. The model is checked first, so a file
 * that `loadModel` would refuse is never written. Numbers are written in full (JSON's shortest
 * round-trip form), so the loaded parameters are bit-identical.
 */
export async function saveModel(file: string, model: SavedModel): Promise<void> {
  const m = checkSavedModel(model, file);
  const plain = (v: ArrayLike<number>): number[] => Array.from(v);
  // One field per line for reading; the long arrays each on one line.
  const fields: [string, unknown][] = [
    ['format', m.format],
    ['version', m.version],
    ['strategy', m.strategy],
    ['rounds', m.rounds],
    ...(m.dp === undefined ? [] : [['dp', m.dp] as [string, unknown]]),
    ['spec', m.spec],
    ['schema', m.schema],
    ['standardisation', { mean: plain(m.standardisation.mean), sd: plain(m.standardisation.sd) }],
    ['parameters', plain(m.parameters)],
  ];
  const text = `{\n${fields.map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(',\n')}\n}\n`;
  await writeReplacing(file, text);
}
