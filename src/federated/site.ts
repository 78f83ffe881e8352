/**
 * A site of a federated run: it reads its own feature table, connects to the coordinator and
 * answers its instructions until the coordinator says the run is done. The site decides what
 * leaves it: its schema (column kinds, category vocabularies, label classes), per-column sums
 * and counts, its number of examples, and parameters — or, with secure aggregation, masked
 * vectors only. Instructions are data checked against the few kinds a site knows; nothing
 * received is ever executed.
 */
import { createHash } from 'node:crypto';
import { encode, localMoments, localSchema, readFeatureTable, type FeatureTable } from './data.js';
import { loadPartyCredentials } from './credentials.js';
import { parameterCount } from './model.js';
import { quantise, SecAggClient } from './secagg/index.js';
import { trainLocal } from './train.js';
import { TransportClient } from './transport/client.js';
import {
  localSchemaToJson,
  momentsToJson,
  parseSchema,
  parseSecAggInstruction,
  parseSetup,
  parseTrain,
  updateToJson,
  type SecAggInstruction,
  type TrainInstruction,
} from './transport/messages.js';
import type { Envelope } from './transport/protocol.js';
import type { Json } from './transport/validate.js';
import type { Dataset, ModelSpec } from './types.js';

/** The coordinator refused this site (a different schema, say), or stopped the run: the reason says why. */
export class SiteRefusedError extends Error {
  override readonly name = 'SiteRefusedError';
}

export interface SiteOptions {
  /** https://host:port of the coordinator. */
  readonly coordinator: string;
  /** The site's feature table (CSV). */
  readonly data: string;
  /** The label column. */
  readonly label: string;
  /** The site's credentials folder (ca.pem, cert.pem, key.pem). */
  readonly credentials: string;
  /** The site's own seed for local shuffling; by default derived from its name, so reruns repeat. */
  readonly seed?: number;
  /** Most categories a text column may have before it is refused as an identifier (default 100). */
  readonly maxCategories?: number;
  /** How long to keep trying to reach the coordinator (default 120 s). */
  readonly retryForMs?: number;
  readonly log?: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface SiteSummary {
  readonly site: string;
  /** Training rounds the site took part in. */
  readonly rounds: number;
  readonly examples: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
}

interface Training {
  readonly spec: ModelSpec;
  readonly dataset: Dataset;
}

interface SecureRound {
  readonly round: number;
  readonly client: SecAggClient;
  readonly input: Uint32Array;
}

function seedOfName(name: string): number {
  return createHash('sha256').update(`radanon/fl/site/${name}`).digest().readUInt32LE(0);
}

class Site {
  private training: Training | undefined;
  private secure: SecureRound | undefined;
  rounds = 0;

  constructor(
    private readonly table: FeatureTable,
    private readonly options: SiteOptions,
    private readonly name: string,
    private readonly seed: number,
    private readonly log: (line: string) => void,
  ) {}

  get examples(): number {
    return this.table.rows.length;
  }

  /** The reply to one instruction (kind and body). */
  answer(instruction: Envelope): { kind: string; body: Json } {
    switch (instruction.kind) {
      case 'schema': {
        this.log('sending the schema (column kinds, category vocabularies, label classes)');
        return { kind: 'schema', body: localSchemaToJson(localSchema(this.table, this.options.maxCategories === undefined ? {} : { maxCategories: this.options.maxCategories })) };
      }
      case 'moments': {
        const schema = parseSchema(instruction.body, 'moments');
        this.log(`sending sums and counts of ${schema.encodedColumns.length} encoded columns`);
        return { kind: 'moments', body: momentsToJson(localMoments(this.table, schema)) };
      }
      case 'setup': {
        const setup = parseSetup(instruction.body);
        this.training = { spec: setup.spec, dataset: encode(this.table, setup.schema, setup.standardisation, { unknownCategories: 'ignore' }) };
        this.log(`set up: ${setup.spec.kind} model, ${parameterCount(setup.spec)} parameters, ${this.training.dataset.n} examples`);
        return { kind: 'ready', body: { examples: this.training.dataset.n } };
      }
      case 'train':
        return this.train(instruction.body);
      case 'secagg':
        return this.secureStep(parseSecAggInstruction(instruction.body));
      default:
        throw new Error(`unknown instruction "${instruction.kind}": nothing done`);
    }
  }

  private train(body: Json): { kind: string; body: Json } {
    if (!this.training) throw new Error('a training round came before the set-up');
    const { spec, dataset } = this.training;
    const count = parameterCount(spec);
    const t: TrainInstruction = parseTrain(body, count);
    const result = trainLocal(spec, t.parameters, dataset, t.plan, this.seed);
    this.rounds++;
    this.secure = undefined;
    this.log(`round ${t.plan.round}: trained on ${result.examples} examples, loss ${result.loss.toFixed(4)}${t.plan.clipNorm === undefined ? '' : `, update clipped to ${t.plan.clipNorm}`}`);
    if (!t.secure) return { kind: 'update', body: updateToJson(result) };

    // The vector that is summed: Δ (DP) or w·Δ, w·loss, w (weighted FedAvg from sums).
    const { id, vectorLength, range, bits, weight } = t.secure;
    const x = new Float64Array(vectorLength);
    const w = weight ?? 1;
    for (let i = 0; i < count; i++) x[i] = w * (result.parameters[i]! - t.parameters[i]!);
    if (weight !== null) {
      x[count] = weight * result.loss;
      x[count + 1] = weight;
    }
    let clipped = 0;
    for (let i = 0; i < vectorLength; i++) if (Math.abs(x[i]!) > range) clipped++;
    if (clipped > 0) this.log(`round ${t.plan.round}: ${clipped} values exceed the secure aggregation range ±${range} and are clipped`);
    const client = new SecAggClient({ id, vectorLength });
    this.secure = { round: t.plan.round, client, input: quantise(x, range, bits) };
    return { kind: 'secagg', body: client.advertiseKeys() as unknown as Json };
  }

  private secureStep(s: SecAggInstruction): { kind: string; body: Json } {
    const state = this.secure;
    if (!state || state.round !== s.round) throw new Error(`secure aggregation step ${s.step} of round ${s.round} without that round's training`);
    const message = s.message as never;
    switch (s.step) {
      case 'share-keys':
        return { kind: 'secagg', body: state.client.shareKeys(message) as unknown as Json };
      case 'masked-input':
        return { kind: 'secagg', body: state.client.maskedInput(state.input, message) as unknown as Json };
      case 'unmask': {
        const reply = state.client.unmask(message);
        this.secure = undefined;
        return { kind: 'secagg', body: reply as unknown as Json };
      }
    }
  }

  forgetRound(): void {
    this.secure = undefined;
  }

  get siteName(): string {
    return this.name;
  }
}

/**
 * Runs a site until the coordinator says the run is done (resolves) or refuses the site (rejects
 * with `SiteRefusedError`). The feature table is read and checked before connecting, so bad data
 * is reported here, at the site, with the file and line.
 */
export async function runSite(options: SiteOptions): Promise<SiteSummary> {
  const log = options.log ?? (() => undefined);
  const table = await readFeatureTable(options.data, options.label);
  const tls = loadPartyCredentials(options.credentials);
  const client = new TransportClient({ url: options.coordinator, tls, retryForMs: options.retryForMs ?? 120_000, log });
  const onAbort = () => client.close();
  options.signal?.addEventListener('abort', onAbort);
  try {
    const hello = await client.hello();
    log(`connected to ${options.coordinator} as ${hello.site}`);
    const site = new Site(table, options, hello.site, options.seed ?? seedOfName(hello.site), log);
    for (;;) {
      const instruction = await client.next();
      if (instruction.kind === 'done') {
        log(`the run is done after ${site.rounds} rounds`);
        return { site: site.siteName, rounds: site.rounds, examples: site.examples, bytesSent: client.bytesSent, bytesReceived: client.bytesReceived };
      }
      if (instruction.kind === 'refused' || instruction.kind === 'stopped') {
        const reason = typeof instruction.body === 'object' && instruction.body !== null && !Array.isArray(instruction.body) ? String(instruction.body.reason ?? '') : '';
        const what = instruction.kind === 'refused' ? 'the coordinator refused this site' : 'the coordinator stopped the run';
        throw new SiteRefusedError(`${what}: ${reason.slice(0, 2_000) || 'no reason given'}`);
      }
      let reply: { kind: string; body: Json };
      try {
        reply = site.answer(instruction);
      } catch (e) {
        site.forgetRound();
        const reason = (e as Error).message;
        log(`cannot do "${instruction.kind}": ${reason}`);
        reply = { kind: 'error', body: { reason } };
      }
      const verdict = await client.reply(instruction.id, reply.kind, reply.body);
      if (!verdict.accepted) {
        log(`the coordinator did not accept the ${reply.kind} reply: ${verdict.reason ?? 'no reason given'}`);
        if (reply.kind === 'secagg') site.forgetRound();
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    client.close();
  }
}
