/**
 * What a round carries, both ways, and the checks each receiver applies before using a value.
 *
 * Coordinator → site (instructions): `schema`, `moments` (with the merged schema), `setup` (schema,
 * standardisation, model specification), `train` (a `RoundPlan` and the global parameters),
 * `secagg` (one step of secure aggregation), `refused` (this site is out), `stopped` (the run
 * failed) and `done`. Nothing else: a site that gets
 * another kind answers `error` and does nothing.
 *
 * Site → coordinator (replies): `schema` (its `LocalSchema`: column kinds, category vocabularies,
 * label classes), `moments` (count, sums and sums of squares per encoded column), `ready` (its
 * number of examples), `update` (parameters, examples, loss), `secagg` (a protocol message), or
 * `error` with a reason.
 */
import { checkSchema, FederatedDataError, type ColumnSchema, type LocalSchema, type Moments, type Schema, type Standardisation } from '../data.js';
import { checkSpec, parameterCount } from '../model.js';
import type { ModelSpec, RoundPlan } from '../types.js';
import { decodeFloat64, encodeVector } from './vectors.js';
import { MessageError, array, finite, integer, literal, object, onlyKeys, string, type Json } from './validate.js';

export const INSTRUCTIONS = ['schema', 'moments', 'setup', 'train', 'secagg', 'refused', 'stopped', 'done'] as const;
export type InstructionKind = (typeof INSTRUCTIONS)[number];

export const REPLIES = ['schema', 'moments', 'ready', 'update', 'secagg', 'error'] as const;
export type ReplyKind = (typeof REPLIES)[number];

/** Bounds on what a message may hold; anything beyond is refused as out of range. */
export interface MessageLimits {
  readonly maxColumns: number;
  readonly maxCategoriesPerColumn: number;
  readonly maxNameLength: number;
  readonly maxParameters: number;
  /** Largest magnitude a parameter may have (a diverged or hostile update is refused). */
  readonly maxParameterMagnitude: number;
  readonly maxExamples: number;
}

export const DEFAULT_LIMITS: MessageLimits = {
  maxColumns: 10_000,
  maxCategoriesPerColumn: 1_000,
  maxNameLength: 256,
  maxParameters: 1 << 24,
  maxParameterMagnitude: 1e6,
  maxExamples: 1e9,
};

function json(value: unknown): Json {
  return value as Json;
}

// ---------------------------------------------------------------------------------------------
// Schemas and moments

export function parseLocalSchema(value: unknown, path: string, limits: MessageLimits = DEFAULT_LIMITS): LocalSchema {
  const o = object(value, path);
  onlyKeys(o, path, ['label', 'columns', 'classes', 'site']);
  const label = string(o.label, `${path}.label`, limits.maxNameLength);
  const columns: ColumnSchema[] = array(o.columns, `${path}.columns`, limits.maxColumns).map((c, i) => {
    const p = `${path}.columns[${i}]`;
    const col = object(c, p);
    onlyKeys(col, p, ['name', 'kind', 'categories']);
    const name = string(col.name, `${p}.name`, limits.maxNameLength);
    const kind = literal(col.kind, `${p}.kind`, ['numeric', 'categorical'] as const);
    if (kind === 'numeric') {
      if (col.categories !== undefined) throw new MessageError(`${p}.categories`, 'a numeric column has no categories');
      return { name, kind };
    }
    const categories = array(col.categories, `${p}.categories`, limits.maxCategoriesPerColumn).map((v, k) => string(v, `${p}.categories[${k}]`, limits.maxNameLength));
    return { name, kind, categories };
  });
  const classes = array(o.classes, `${path}.classes`, 16).map((v, k) => string(v, `${path}.classes[${k}]`, limits.maxNameLength));
  return { label, columns, classes };
}

export function localSchemaToJson(schema: LocalSchema): Json {
  // The site's name is the coordinator's business (its certificate says it): not sent.
  return json({ label: schema.label, columns: schema.columns, classes: schema.classes });
}

export function parseSchema(value: unknown, path: string): Schema {
  try {
    return checkSchema(value, path);
  } catch (e) {
    if (e instanceof FederatedDataError) throw new MessageError(path, e.message);
    throw e;
  }
}

export function momentsToJson(m: Moments): Json {
  return json({ count: m.count, sum: encodeVector(m.sum), sumSquares: encodeVector(m.sumSquares) });
}

export function parseMoments(value: unknown, path: string, width: number, limits: MessageLimits = DEFAULT_LIMITS): Moments {
  const o = object(value, path);
  onlyKeys(o, path, ['count', 'sum', 'sumSquares']);
  const count = integer(o.count, `${path}.count`, 1, limits.maxExamples);
  const sum = decodeFloat64(o.sum, `${path}.sum`, { length: width });
  const sumSquares = decodeFloat64(o.sumSquares, `${path}.sumSquares`, { length: width });
  for (let j = 0; j < width; j++) {
    if (sumSquares[j]! < 0) throw new MessageError(`${path}.sumSquares[${j}]`, 'a sum of squares cannot be negative');
    // Cauchy–Schwarz: (Σx)² ≤ n·Σx². A violation means the figures were not computed from data.
    if (sum[j]! * sum[j]! > count * sumSquares[j]! * (1 + 1e-9) + 1e-9) throw new MessageError(`${path}.sum[${j}]`, 'is inconsistent with the count and the sum of squares');
  }
  return { count, sum, sumSquares };
}

// ---------------------------------------------------------------------------------------------
// Set-up and training

export interface SetupInstruction {
  readonly schema: Schema;
  readonly standardisation: Standardisation;
  readonly spec: ModelSpec;
}

export function setupToJson(s: SetupInstruction): Json {
  return json({ schema: s.schema, standardisation: { mean: encodeVector(s.standardisation.mean), sd: encodeVector(s.standardisation.sd) }, spec: s.spec });
}

export function parseSpec(value: unknown, path: string, limits: MessageLimits = DEFAULT_LIMITS): ModelSpec {
  const o = object(value, path);
  onlyKeys(o, path, ['kind', 'inputs', 'hidden']);
  const kind = literal(o.kind, `${path}.kind`, ['logistic', 'mlp'] as const);
  const inputs = integer(o.inputs, `${path}.inputs`, 1, limits.maxColumns * limits.maxCategoriesPerColumn);
  const hidden = array(o.hidden, `${path}.hidden`, 16).map((h, i) => integer(h, `${path}.hidden[${i}]`, 1, limits.maxParameters));
  const spec: ModelSpec = { kind, inputs, hidden };
  try {
    checkSpec(spec);
  } catch (e) {
    throw new MessageError(path, (e as Error).message);
  }
  if (parameterCount(spec) > limits.maxParameters) throw new MessageError(path, `the model has ${parameterCount(spec)} parameters, more than the ${limits.maxParameters} allowed`);
  return spec;
}

export function parseSetup(value: unknown, limits: MessageLimits = DEFAULT_LIMITS): SetupInstruction {
  const o = object(value, 'setup');
  onlyKeys(o, 'setup', ['schema', 'standardisation', 'spec']);
  const schema = parseSchema(o.schema, 'setup.schema');
  const width = schema.encodedColumns.length;
  const st = object(o.standardisation, 'setup.standardisation');
  onlyKeys(st, 'setup.standardisation', ['mean', 'sd']);
  const mean = decodeFloat64(st.mean, 'setup.standardisation.mean', { length: width });
  const sd = decodeFloat64(st.sd, 'setup.standardisation.sd', { length: width });
  sd.forEach((s, j) => {
    if (!(s > 0)) throw new MessageError(`setup.standardisation.sd[${j}]`, 'must be positive');
  });
  const spec = parseSpec(o.spec, 'setup.spec', limits);
  if (spec.inputs !== width) throw new MessageError('setup.spec.inputs', `must be ${width}, the schema's encoded columns`);
  return { schema, standardisation: { mean, sd }, spec };
}

export function parseReady(value: unknown, limits: MessageLimits = DEFAULT_LIMITS): { examples: number } {
  const o = object(value, 'ready');
  onlyKeys(o, 'ready', ['examples']);
  return { examples: integer(o.examples, 'ready.examples', 1, limits.maxExamples) };
}

export function planToJson(plan: RoundPlan): Json {
  return json({ ...plan });
}

/** A round plan: numbers in sane ranges only (it configures the site's own training code). */
export function parsePlan(value: unknown, path = 'plan'): RoundPlan {
  const o = object(value, path);
  onlyKeys(o, path, ['round', 'epochs', 'learningRate', 'batchSize', 'proximalMu', 'seed', 'clipNorm', 'l2']);
  const plan: RoundPlan = {
    round: integer(o.round, `${path}.round`, 0, 1_000_000),
    epochs: integer(o.epochs, `${path}.epochs`, 1, 10_000),
    learningRate: finite(o.learningRate, `${path}.learningRate`, Number.MIN_VALUE, 1_000),
    batchSize: integer(o.batchSize, `${path}.batchSize`, 1, 1_000_000_000),
    proximalMu: finite(o.proximalMu, `${path}.proximalMu`, 0, 1_000_000),
    seed: integer(o.seed, `${path}.seed`, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  };
  const clip = o.clipNorm === undefined || o.clipNorm === null ? {} : { clipNorm: finite(o.clipNorm, `${path}.clipNorm`, Number.MIN_VALUE, 1e12) };
  const l2 = o.l2 === undefined || o.l2 === null ? {} : { l2: finite(o.l2, `${path}.l2`, 0, 1e6) };
  return { ...plan, ...clip, ...l2 };
}

/** Vector of parameters within the allowed magnitude. */
export function parseParameters(value: unknown, path: string, count: number, limits: MessageLimits = DEFAULT_LIMITS): Float64Array {
  const v = decodeFloat64(value, path, { length: count });
  for (let i = 0; i < v.length; i++) {
    if (Math.abs(v[i]!) > limits.maxParameterMagnitude) throw new MessageError(`${path}[${i}]`, `magnitude ${Math.abs(v[i]!)} exceeds ${limits.maxParameterMagnitude}`);
  }
  return v;
}

export interface TrainUpdate {
  readonly parameters: Float64Array;
  readonly examples: number;
  readonly loss: number;
}

export function updateToJson(u: TrainUpdate): Json {
  return json({ parameters: encodeVector(u.parameters), examples: u.examples, loss: u.loss });
}

export function parseUpdate(value: unknown, count: number, limits: MessageLimits = DEFAULT_LIMITS): TrainUpdate {
  const o = object(value, 'update');
  onlyKeys(o, 'update', ['parameters', 'examples', 'loss']);
  return {
    parameters: parseParameters(o.parameters, 'update.parameters', count, limits),
    examples: integer(o.examples, 'update.examples', 1, limits.maxExamples),
    loss: finite(o.loss, 'update.loss', 0, 1e6),
  };
}

/** A site's reason for not doing what was asked. */
export function parseErrorReply(value: unknown): string {
  const o = object(value, 'error');
  return string(o.reason, 'error.reason', 2_000);
}

// ---------------------------------------------------------------------------------------------
// Training instructions and secure aggregation

/**
 * How a site takes part in a round's secure aggregation: its protocol id, the vector it
 * quantises (`vectorLength` = parameters + 2 for weighted FedAvg: n·Δ, n·loss, n, each scaled
 * by `weight`; parameters only under differential privacy, where the clipped update is summed
 * unweighted) and the fixed-point setting.
 */
export interface SecureTrainConfig {
  readonly id: number;
  readonly participants: number;
  readonly vectorLength: number;
  /** Values are clipped to [−range, range] before quantisation. */
  readonly range: number;
  readonly bits: number;
  /** The site's FedAvg weight n_i / Σn (public: the counts were declared at set-up); null under DP. */
  readonly weight: number | null;
}

export interface TrainInstruction {
  readonly plan: RoundPlan;
  readonly parameters: Float64Array;
  readonly secure?: SecureTrainConfig;
}

export function trainToJson(t: TrainInstruction): Json {
  return json({ plan: t.plan, parameters: encodeVector(t.parameters), ...(t.secure ? { secure: t.secure } : {}) });
}

export function parseTrain(value: unknown, count: number, limits: MessageLimits = DEFAULT_LIMITS): TrainInstruction {
  const o = object(value, 'train');
  onlyKeys(o, 'train', ['plan', 'parameters', 'secure']);
  const plan = parsePlan(o.plan, 'train.plan');
  const parameters = parseParameters(o.parameters, 'train.parameters', count, limits);
  if (o.secure === undefined) return { plan, parameters };
  const s = object(o.secure, 'train.secure');
  onlyKeys(s, 'train.secure', ['id', 'participants', 'vectorLength', 'range', 'bits', 'weight']);
  const participants = integer(s.participants, 'train.secure.participants', 2, 100_000);
  const secure: SecureTrainConfig = {
    id: integer(s.id, 'train.secure.id', 1, participants),
    participants,
    vectorLength: integer(s.vectorLength, 'train.secure.vectorLength', count, count + 2),
    range: finite(s.range, 'train.secure.range', Number.MIN_VALUE, 1e9),
    bits: integer(s.bits, 'train.secure.bits', 1, 32),
    weight: s.weight === null ? null : finite(s.weight, 'train.secure.weight', Number.MIN_VALUE, 1),
  };
  if ((secure.weight === null) !== (secure.vectorLength === count)) {
    throw new MessageError('train.secure', 'a weighted sum carries two more values than the parameters; an unweighted one none');
  }
  return { plan, parameters, secure };
}

export const SECAGG_STEPS = ['share-keys', 'masked-input', 'unmask'] as const;
export type SecAggStep = (typeof SECAGG_STEPS)[number];

/** The protocol message type a site answers each step with, and the one it is given. */
export const SECAGG_REPLY_TYPE: Readonly<Record<SecAggStep | 'advertise-keys', string>> = {
  'advertise-keys': 'secagg/advertise-keys',
  'share-keys': 'secagg/share-keys',
  'masked-input': 'secagg/masked-input',
  unmask: 'secagg/unmask-response',
};
const SECAGG_INSTRUCTION_TYPE: Readonly<Record<SecAggStep, string>> = {
  'share-keys': 'secagg/roster',
  'masked-input': 'secagg/forwarded-shares',
  unmask: 'secagg/unmask-request',
};

export interface SecAggInstruction {
  readonly round: number;
  readonly step: SecAggStep;
  /** The protocol object's message for this site (checked in full by the protocol object). */
  readonly message: Json;
}

export function secAggToJson(s: SecAggInstruction): Json {
  return json(s);
}

export function parseSecAggInstruction(value: unknown): SecAggInstruction {
  const o = object(value, 'secagg');
  onlyKeys(o, 'secagg', ['round', 'step', 'message']);
  const step = literal(o.step, 'secagg.step', SECAGG_STEPS);
  const message = object(o.message, 'secagg.message');
  if (message.type !== SECAGG_INSTRUCTION_TYPE[step]) throw new MessageError('secagg.message.type', `must be "${SECAGG_INSTRUCTION_TYPE[step]}" at step ${step}`);
  return { round: integer(o.round, 'secagg.round', 0, 1_000_000), step, message: message as Json };
}

/** A site's protocol message for `step`: an object of the right type (the protocol object checks the rest). */
export function parseSecAggReply(value: unknown, step: SecAggStep | 'advertise-keys'): Record<string, unknown> {
  const o = object(value, 'secagg reply');
  if (o.type !== SECAGG_REPLY_TYPE[step]) throw new MessageError('secagg reply.type', `must be "${SECAGG_REPLY_TYPE[step]}" at step ${step}, got ${JSON.stringify(o.type)}`);
  return o;
}
