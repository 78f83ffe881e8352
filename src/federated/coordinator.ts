/**
 * The coordinator of a federated run: it enrols sites, agrees the schema and the
 * standardisation with them, runs the training rounds with a strategy, optionally under secure
 * aggregation and differential privacy, and saves the model. It holds no data path and sees no
 * row: only schemas (column kinds, category vocabularies), sums and counts, and parameters — or,
 * with secure aggregation, only their sum.
 *
 * Phases:
 *   1. enrolment: wait for `minSites` sites to connect (sites arriving later join at a round start);
 *   2. schema: each site sends its `LocalSchema`; the largest group of sites with the same columns
 *      sets the schema, the others are refused with their differing columns;
 *   3. standardisation: sums, sums of squares and counts per encoded column, merged;
 *   4. set-up: sites encode their table and declare their number of examples;
 *   5. `rounds` rounds: plan (strategy), local training, aggregation. A site that is slow, gone
 *      or whose reply is refused is out of that round only. A round with fewer than `minSites`
 *      contributions is discarded and tried again; after `maxRoundAttempts` the run stops.
 *
 * Secure aggregation (Bonawitz et al. 2017): each site's weighted update n_i/Σn·Δ_i (with the
 * weighted loss and the weight itself, so FedAvg's mean is the ratio of two sums) is quantised
 * and masked; the coordinator learns the sum of the surviving sites' vectors only.
 *
 * Differential privacy (DP-FedAvg, McMahan et al. 2018): sites clip their update to C; the
 * coordinator adds N(0, (zC)²) to the sum, z chosen so that ε stays within the target after all
 * rounds, and reports ε after each round from the RDP accountant. A round with fewer than the
 * DP minimum of sites is refused.
 */
import { compareSchemas, mergeMoments, mergeSchemas, SchemaMismatchError, type LocalSchema, type Moments, type Schema, type Standardisation } from './data.js';
import { assertEnoughSites, cryptoRng, dpAggregate, l2Norm, planDp, type DpPlan } from './dp.js';
import { initialParameters, MODEL_FORMAT, MODEL_VERSION, parameterCount, saveModel, type SavedModel } from './model.js';
import { RdpAccountant } from './rdp.js';
import { SecAggAbortError, SecAggServer, dequantiseSum, maxQuantisationBits, type Neighbourhood } from './secagg/index.js';
import { createStrategy, type StrategyOptions } from './strategies.js';
import { loadPartyCredentials } from './credentials.js';
import {
  parseErrorReply,
  parseLocalSchema,
  parseMoments,
  parseReady,
  parseSecAggReply,
  parseUpdate,
  secAggToJson,
  setupToJson,
  trainToJson,
  type SecAggStep,
  type TrainUpdate,
} from './transport/messages.js';
import type { Envelope } from './transport/protocol.js';
import { TransportServer, type ExchangeResult } from './transport/server.js';
import { MessageError, type Json } from './transport/validate.js';
import type { ModelKind, ModelSpec, RoundPlan, SiteResult, Strategy, StrategyName } from './types.js';

/** A run that cannot start or go on: bad settings, too few sites, a schema no two sites share. */
export class FederatedRunError extends Error {
  override readonly name: string = 'FederatedRunError';
}

export interface SecureAggregationOptions {
  /** Shamir threshold t; default a majority of each site's share holders (⌊h/2⌋ + 1). */
  readonly threshold?: number;
  /** 'all' (Bonawitz et al.) or k neighbours per site (SecAgg+); default 'all' up to 10 sites, else 2⌈log2 n⌉. */
  readonly neighbours?: Neighbourhood;
  /** Weighted values are clipped to [−range, range] before quantisation (default 16; the DP clip norm under DP). */
  readonly range?: number;
  /** Quantisation bits (default: the most the ring allows for the number of sites). */
  readonly bits?: number;
}

export interface DpOptions {
  /** Target user-level ε after all rounds. */
  readonly epsilon: number;
  /** δ (default 1e-5). */
  readonly delta?: number;
  /** C: sites clip their update to this L2 norm. */
  readonly clipNorm: number;
  /** Fewest sites a round may run with (default the run's `minSites`). */
  readonly minSites?: number;
  /** Sites in the consortium, for the sampling rate (default: the credentials' list, else the sites set up). */
  readonly totalSites?: number;
}

export interface CoordinatorOptions {
  /** 0 picks a free port; `onListening` tells which. */
  readonly port: number;
  readonly host?: string;
  /** The consortium folder or its `coordinator/` folder (see credentials.ts). */
  readonly credentials: string;
  /** Where the model is saved. */
  readonly out: string;
  readonly minSites: number;
  /**
   * Sites that must connect before training starts (default `minSites`): a consortium that
   * expects all its sites waits for them, yet a round may still finish with `minSites` after
   * dropouts (Flower's min_available_clients against min_fit_clients).
   */
  readonly startSites?: number;
  readonly rounds: number;
  readonly strategy?: StrategyName;
  readonly model?: { readonly kind: ModelKind; readonly hidden?: readonly number[] };
  readonly epochs?: number;
  readonly learningRate?: number;
  readonly batchSize?: number;
  readonly seed?: number;
  readonly l2?: number;
  /** Further strategy settings (FedProx μ, FedAdam's η, β1, β2, τ, trimmed mean's β, Krum's f). */
  readonly strategyOptions?: Pick<StrategyOptions, 'proximalMu' | 'serverLearningRate' | 'beta1' | 'beta2' | 'tau' | 'trimFraction' | 'byzantine'>;
  readonly positiveLabel?: string;
  readonly secureAggregation?: boolean | SecureAggregationOptions;
  readonly dp?: DpOptions;
  /** How long to wait for `minSites` sites to connect (default 10 min). */
  readonly enrolTimeoutMs?: number;
  /** Deadline of each exchange of a round (default 5 min). */
  readonly roundTimeoutMs?: number;
  /** Tries of a round before the run stops (default 3). */
  readonly maxRoundAttempts?: number;
  readonly maxMessageBytes?: number;
  /** One line per event worth a log: enrolment, refusals, one line per round. */
  readonly log?: (line: string) => void;
  /** Per-site detail (each reply received). */
  readonly debug?: (line: string) => void;
  readonly onListening?: (address: { readonly port: number; readonly url: string }) => void;
  /** Sees every request body the coordinator receives (audit, tests of what it learns). */
  readonly onReceive?: (site: string, path: string, body: string) => void;
  readonly signal?: AbortSignal;
}

export interface RoundRecord {
  readonly round: number;
  /** Sites whose update is in the aggregate. */
  readonly sites: readonly string[];
  /** Sites asked but not in the aggregate, with the reason. */
  readonly dropped: readonly { readonly site: string; readonly reason: string }[];
  /** Mean training loss weighted by examples (absent under DP: a sum of losses is not private). */
  readonly loss?: number;
  /** ε spent so far, under DP. */
  readonly epsilon?: number;
  readonly durationMs: number;
  /** Bytes the coordinator received in the round, and sent. */
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly attempts: number;
}

export interface TrainingResult {
  readonly model: SavedModel;
  readonly rounds: readonly RoundRecord[];
  /** Sites that were set up for training. */
  readonly sites: readonly string[];
  readonly refused: readonly { readonly site: string; readonly reason: string }[];
  readonly dp?: { readonly epsilon: number; readonly delta: number; readonly noiseMultiplier: number; readonly clipNorm: number };
}

type SiteStatus = 'new' | 'member' | 'ready' | 'refused';

interface SiteRecord {
  status: SiteStatus;
  examples: number;
}

/** What one round came to before the strategy: the new parameters, or why not. */
interface RoundOutcome {
  readonly parameters: Float64Array | undefined;
  readonly contributors: string[];
  readonly dropped: Map<string, string>;
  readonly loss?: number;
  readonly failure?: string;
}

const DEFAULT_RANGE = 16;

function positiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new FederatedRunError(`${what} must be a positive whole number, got ${value}`);
  return value;
}

function expectKind(reply: Envelope, kind: string): Json {
  if (reply.kind === 'error') throw new MessageError('reply', `the site could not do it: ${parseErrorReply(reply.body)}`);
  if (reply.kind !== kind) throw new MessageError('reply.kind', `must be "${kind}", got "${reply.kind}"`);
  return reply.body;
}

/**
 * Why `local` cannot join a run whose schema is `schema` (a late joiner), or undefined when it
 * can. Categories the consortium's vocabulary lacks do not keep a site out: the model has no
 * column for them, so the site encodes them as zeros (`unseenCategories` lists them for the log).
 */
function misfit(schema: Schema, local: LocalSchema): string | undefined {
  const differences = compareSchemas(schema, local).map((d) => `${d.column} (${d.reason})`);
  const extraClasses = local.classes.filter((c) => !schema.classes.includes(c));
  if (extraClasses.length > 0) differences.push(`${schema.label} (classes ${extraClasses.join(', ')} are not the consortium's)`);
  return differences.length === 0 ? undefined : `its feature table differs from the consortium's: ${differences.join('; ')}`;
}

/** The categories of a late joiner that the consortium's vocabulary lacks, per column. */
function unseenCategories(schema: Schema, local: LocalSchema): string[] {
  const out: string[] = [];
  for (const column of local.columns) {
    const ours = schema.columns.find((c) => c.name === column.name);
    if (column.kind !== 'categorical' || ours?.kind !== 'categorical') continue;
    const known = new Set(ours.categories);
    const unknown = column.categories.filter((c) => !known.has(c));
    if (unknown.length > 0) out.push(`${column.name}: ${unknown.length} categor${unknown.length === 1 ? 'y' : 'ies'}`);
  }
  return out;
}

/** Column signature: which columns of which kinds, and the label (vocabularies may differ). */
function signature(s: LocalSchema): string {
  return JSON.stringify([s.label, s.columns.map((c) => [c.name, c.kind]).sort()]);
}

class Coordinator {
  private readonly sites = new Map<string, SiteRecord>();
  private readonly refused: { site: string; reason: string }[] = [];
  private readonly log: (line: string) => void;
  private readonly debug: (line: string) => void;
  private readonly roundTimeoutMs: number;
  private readonly strategy: Strategy;
  private readonly secure: SecureAggregationOptions | undefined;
  private schema: Schema | undefined;
  private standardisation: Standardisation | undefined;
  private spec: ModelSpec | undefined;

  constructor(
    private readonly server: TransportServer,
    private readonly options: CoordinatorOptions,
  ) {
    this.log = options.log ?? (() => undefined);
    this.debug = options.debug ?? (() => undefined);
    this.roundTimeoutMs = options.roundTimeoutMs ?? 300_000;
    this.strategy = createStrategy(options.strategy ?? 'fedavg', strategyOptionsOf(options));
    this.secure = options.secureAggregation === true ? {} : options.secureAggregation === false ? undefined : options.secureAggregation;
    server.onHello((site) => {
      if (!this.sites.has(site)) this.sites.set(site, { status: 'new', examples: 0 });
    });
  }

  private checkAborted(): void {
    if (this.options.signal?.aborted) throw new FederatedRunError('the run was stopped');
  }

  private withStatus(...statuses: SiteStatus[]): string[] {
    return [...this.sites].filter(([, r]) => statuses.includes(r.status)).map(([site]) => site);
  }

  private refuse(site: string, reason: string): void {
    const record = this.sites.get(site);
    if (record) record.status = 'refused';
    this.refused.push({ site, reason });
    this.log(`refused ${site}: ${reason}`);
    this.server.post(site, 'refused', { reason });
  }

  /** Waits until `available()` reaches `count`, re-checking on each hello, for up to `timeoutMs`. */
  private async waitFor(count: number, timeoutMs: number, available: () => number, what: string): Promise<void> {
    if (available() >= count) return;
    this.log(`waiting for sites ${what}: ${available()} of ${count}`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(new FederatedRunError(`only ${available()} of the ${count} sites needed ${what} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      const onAbort = () => {
        stop();
        reject(new FederatedRunError('the run was stopped'));
      };
      const unsubscribe = this.server.onHello(() => {
        if (available() >= count) {
          stop();
          resolve();
        }
      });
      const stop = () => {
        clearTimeout(timer);
        unsubscribe();
        this.options.signal?.removeEventListener('abort', onAbort);
      };
      this.options.signal?.addEventListener('abort', onAbort);
    });
  }

  /**
   * Phase 2: the schema from the largest group of sites with the same columns; the others refused.
   * When no group is large enough yet (the first sites to connect may include one with other
   * columns), it waits for more sites and asks again, until the enrolment deadline.
   */
  private async agreeSchemaWhenEnough(deadline: number): Promise<void> {
    for (;;) {
      const asked = this.withStatus('new').length;
      if (await this.agreeSchema(Date.now() >= deadline)) return;
      this.log(`no ${this.options.minSites} of the ${asked} sites share one feature schema yet: waiting for more sites`);
      await this.waitFor(asked + 1, Math.max(0, deadline - Date.now()), () => this.withStatus('new').length, 'to connect');
      this.checkAborted();
    }
  }

  /** One schema round; false when no group of `minSites` sites agrees and `final` is not set. */
  private async agreeSchema(final: boolean): Promise<boolean> {
    const candidates = this.withStatus('new');
    const { accepted, failed } = await this.server.exchange(
      candidates,
      () => ({ kind: 'schema', body: null }),
      (site, reply) => {
        const local = parseLocalSchema(expectKind(reply, 'schema'), 'schema');
        this.debug(`schema of ${site} received`);
        return { ...local, site };
      },
      this.roundTimeoutMs,
    );
    this.logFailures('schema', failed);
    const groups = new Map<string, LocalSchema[]>();
    for (const s of accepted.values()) {
      const key = signature(s);
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }
    const largest = [...groups.values()].sort((a, b) => b.length - a.length)[0];
    if (!largest || largest.length < this.options.minSites) {
      if (!final) return false;
      throw new FederatedRunError(`no ${this.options.minSites} sites share one feature schema (groups of ${[...groups.values()].map((g) => g.length).join(', ') || 'none'})`);
    }
    const reference = largest[0]!;
    for (const s of accepted.values()) {
      if (largest.includes(s)) continue;
      const differences = compareSchemas(reference, s);
      this.refuse(s.site!, new SchemaMismatchError(s.site!, differences).message.replace(/^site \S+: /, ''));
    }
    try {
      this.schema = mergeSchemas(largest, this.options.positiveLabel === undefined ? {} : { positiveLabel: this.options.positiveLabel });
    } catch (e) {
      throw new FederatedRunError(`the sites' schemas cannot be merged: ${(e as Error).message}`);
    }
    for (const s of largest) this.sites.get(s.site!)!.status = 'member';
    this.log(`schema agreed by ${largest.length} sites: ${this.schema.columns.length} columns, ${this.schema.encodedColumns.length} encoded, label ${this.schema.label} (positive ${this.schema.positive})`);
    return true;
  }

  /** Phase 3: pooled means and standard deviations from the members' sums and counts. */
  private async agreeStandardisation(): Promise<void> {
    const schema = this.schema!;
    const width = schema.encodedColumns.length;
    const { accepted, failed } = await this.server.exchange(
      this.withStatus('member'),
      () => ({ kind: 'moments', body: schema as unknown as Json }),
      (site, reply) => {
        const m = parseMoments(expectKind(reply, 'moments'), 'moments', width);
        this.debug(`moments of ${site} received`);
        return m;
      },
      this.roundTimeoutMs,
    );
    this.logFailures('standardisation', failed);
    if (accepted.size < this.options.minSites) throw new FederatedRunError(`only ${accepted.size} sites sent their moments; ${this.options.minSites} are needed`);
    this.standardisation = mergeMoments([...accepted.values()] as Moments[]);
    this.log(`standardisation from ${accepted.size} sites, ${[...accepted.values()].reduce((n, m) => n + m.count, 0)} rows`);
  }

  /** Late joiners: schema check against the agreed schema, then set-up with everyone not yet set up. */
  private async admit(): Promise<void> {
    const schema = this.schema!;
    const newcomers = this.withStatus('new');
    if (newcomers.length > 0) {
      const { accepted, failed } = await this.server.exchange(
        newcomers,
        () => ({ kind: 'schema', body: null }),
        (_site, reply) => parseLocalSchema(expectKind(reply, 'schema'), 'schema'),
        this.roundTimeoutMs,
      );
      this.logFailures('schema', failed);
      for (const [site, local] of accepted) {
        const why = misfit(schema, local);
        if (why) this.refuse(site, why);
        else {
          this.sites.get(site)!.status = 'member';
          const unseen = unseenCategories(schema, local);
          this.log(`${site} joins${unseen.length ? ` (values the model has no column for, encoded as zeros: ${unseen.join(', ')})` : ''}`);
        }
      }
    }
    const toSetUp = this.withStatus('member');
    if (toSetUp.length === 0) return;
    const body = setupToJson({ schema, standardisation: this.standardisation!, spec: this.spec! });
    const { accepted, failed } = await this.server.exchange(
      toSetUp,
      () => ({ kind: 'setup', body }),
      (_site, reply) => parseReady(expectKind(reply, 'ready')),
      this.roundTimeoutMs,
    );
    this.logFailures('set-up', failed);
    for (const [site, { examples }] of accepted) {
      const record = this.sites.get(site)!;
      record.status = 'ready';
      record.examples = examples;
      this.debug(`${site} is set up with ${examples} examples`);
    }
  }

  private logFailures(phase: string, failed: ReadonlyMap<string, string>): void {
    for (const [site, reason] of failed) this.log(`${phase}: ${site} is out: ${reason}`);
  }

  private participants(): string[] {
    return this.withStatus('ready').filter((site) => this.server.isConnected(site));
  }

  async run(): Promise<TrainingResult> {
    const options = this.options;
    const enrolTimeoutMs = options.enrolTimeoutMs ?? 600_000;
    const deadline = Date.now() + enrolTimeoutMs;
    await this.waitFor(options.startSites ?? options.minSites, enrolTimeoutMs, () => this.withStatus('new').length, 'to connect');
    this.checkAborted();
    await this.agreeSchemaWhenEnough(deadline);
    this.checkAborted();
    await this.agreeStandardisation();
    const schema = this.schema!;
    const modelKind = options.model?.kind ?? 'logistic';
    this.spec = { kind: modelKind, inputs: schema.encodedColumns.length, hidden: modelKind === 'logistic' ? [] : [...(options.model?.hidden ?? [16])] };
    let parameters = initialParameters(this.spec, options.seed ?? 0);
    const count = parameterCount(this.spec);
    this.log(`model: ${modelKind}${this.spec.hidden.length ? ` ${this.spec.hidden.join('×')}` : ''}, ${count} parameters; strategy ${this.strategy.name}${this.secure ? ', secure aggregation' : ''}${options.dp ? `, differential privacy ε ≤ ${options.dp.epsilon}` : ''}`);

    await this.admit();
    const dpPlan = options.dp ? this.planPrivacy(options.dp) : undefined;
    const accountant = dpPlan ? new RdpAccountant() : undefined;
    const records: RoundRecord[] = [];
    const maxAttempts = options.maxRoundAttempts ?? 3;
    let epsilon: number | undefined;

    for (let round = 1; round <= options.rounds; round++) {
      const started = Date.now();
      const trafficBefore = this.traffic();
      let outcome: RoundOutcome | undefined;
      let attempts = 0;
      while (attempts < maxAttempts) {
        this.checkAborted();
        attempts++;
        await this.admit();
        const need = Math.max(options.minSites, dpPlan?.minSites ?? 0);
        await this.waitFor(need, this.roundTimeoutMs, () => this.participants().length + this.withStatus('new', 'member').length, `for round ${round}`).catch((e: unknown) => {
          if (dpPlan) assertEnoughSites(dpPlan, this.participants().length);
          throw new FederatedRunError(`round ${round} cannot run: ${(e as Error).message}`);
        });
        await this.admit();
        const participants = this.participants();
        if (dpPlan) assertEnoughSites(dpPlan, participants.length);
        if (participants.length < options.minSites) {
          outcome = { parameters: undefined, contributors: [], dropped: new Map(), failure: `only ${participants.length} sites are set up and connected; ${options.minSites} are needed` };
          continue;
        }
        const plan: RoundPlan = dpPlan ? { ...this.strategy.configureRound(round), clipNorm: dpPlan.clipNorm } : this.strategy.configureRound(round);
        outcome = this.secure ? await this.secureRound(round, plan, participants, parameters, dpPlan) : await this.plainRound(round, plan, participants, parameters, dpPlan);
        if (outcome.parameters) break;
        this.log(`round ${round} attempt ${attempts} discarded: ${outcome.failure}`);
      }
      if (!outcome?.parameters) throw new FederatedRunError(`round ${round} failed ${maxAttempts} times${outcome?.failure ? `; last: ${outcome.failure}` : ''}`);
      parameters = outcome.parameters;
      if (dpPlan && accountant) {
        // Sampling rate 1: the sites that take part are not drawn at random in secret (they are
        // whoever answered), so no amplification by sampling may be claimed.
        accountant.step(dpPlan.noiseMultiplier, 1);
        epsilon = accountant.epsilon(dpPlan.delta).epsilon;
      }
      const trafficAfter = this.traffic();
      const record: RoundRecord = {
        round,
        sites: outcome.contributors,
        dropped: [...outcome.dropped].map(([site, reason]) => ({ site, reason })),
        ...(outcome.loss === undefined ? {} : { loss: outcome.loss }),
        ...(epsilon === undefined ? {} : { epsilon }),
        durationMs: Date.now() - started,
        bytesIn: trafficAfter.bytesIn - trafficBefore.bytesIn,
        bytesOut: trafficAfter.bytesOut - trafficBefore.bytesOut,
        attempts,
      };
      records.push(record);
      this.log(
        `round ${round}/${options.rounds}: ${record.sites.length} sites in, ${record.dropped.length} dropped${record.dropped.length ? ` (${record.dropped.map((d) => `${d.site}: ${d.reason}`).join('; ')})` : ''}` +
          `${record.loss === undefined ? '' : `, loss ${record.loss.toFixed(4)}`}${epsilon === undefined ? '' : `, ε ${epsilon.toFixed(3)} (δ ${dpPlan!.delta})`}, ${(record.durationMs / 1000).toFixed(1)} s`,
      );
    }

    const model: SavedModel = {
      format: MODEL_FORMAT,
      version: MODEL_VERSION,
      spec: this.spec,
      schema,
      standardisation: this.standardisation!,
      parameters,
      rounds: options.rounds,
      strategy: this.strategy.name,
      ...(dpPlan && epsilon !== undefined ? { dp: { epsilon, delta: dpPlan.delta } } : {}),
    };
    await saveModel(options.out, model);
    this.log(`model saved to ${options.out}`);
    const everyone = this.withStatus('new', 'member', 'ready');
    for (const site of everyone) this.server.post(site, 'done', { rounds: options.rounds });
    await this.server.whenFetched(everyone.filter((s) => this.server.isConnected(s)), 5_000);
    return {
      model,
      rounds: records,
      sites: this.withStatus('ready'),
      refused: this.refused,
      ...(dpPlan && epsilon !== undefined ? { dp: { epsilon, delta: dpPlan.delta, noiseMultiplier: dpPlan.noiseMultiplier, clipNorm: dpPlan.clipNorm } } : {}),
    };
  }

  private planPrivacy(dp: DpOptions): DpPlan {
    const ready = this.withStatus('ready').length;
    const totalSites = Math.max(dp.totalSites ?? this.server.allowedCount ?? ready, ready);
    const minSites = dp.minSites ?? this.options.minSites;
    try {
      // Noise for every round at sampling rate 1 (see the accountant's step below).
      const plan = planDp({ epsilon: dp.epsilon, delta: dp.delta ?? 1e-5, rounds: this.options.rounds, clipNorm: dp.clipNorm, minSites, totalSites });
      this.log(`differential privacy: clip ${plan.clipNorm}, noise multiplier ${plan.noiseMultiplier.toFixed(3)}, at least ${plan.minSites} of ${plan.totalSites} sites per round`);
      return plan;
    } catch (e) {
      throw new FederatedRunError(`differential privacy cannot be planned: ${(e as Error).message}`);
    }
  }

  private traffic(): { bytesIn: number; bytesOut: number } {
    let bytesIn = 0;
    let bytesOut = 0;
    for (const site of this.sites.keys()) {
      const t = this.server.traffic(site);
      bytesIn += t.bytesIn;
      bytesOut += t.bytesOut;
    }
    return { bytesIn, bytesOut };
  }

  /** A round in the clear: every site's parameters, checked, then the strategy (or DP-FedAvg). */
  private async plainRound(round: number, plan: RoundPlan, participants: string[], current: Float64Array, dp: DpPlan | undefined): Promise<RoundOutcome> {
    const count = current.length;
    const body = trainToJson({ plan, parameters: current });
    const result: ExchangeResult<TrainUpdate> = await this.server.exchange(
      participants,
      () => ({ kind: 'train', body }),
      (site, reply) => {
        const update = parseUpdate(expectKind(reply, 'update'), count);
        const declared = this.sites.get(site)!.examples;
        if (update.examples > declared) throw new MessageError('update.examples', `${update.examples} is more than the ${declared} the site declared at set-up`);
        if (dp) {
          const delta = new Float64Array(count);
          for (let i = 0; i < count; i++) delta[i] = update.parameters[i]! - current[i]!;
          const norm = l2Norm(delta);
          if (norm > dp.clipNorm * (1 + 1e-9)) throw new MessageError('update.parameters', `the update's norm ${norm.toPrecision(6)} exceeds the clip norm ${dp.clipNorm}`);
        }
        this.debug(`round ${round}: update of ${site} received`);
        return update;
      },
      this.roundTimeoutMs,
    );
    const dropped = new Map(result.failed);
    const contributors = [...result.accepted.keys()];
    if (contributors.length < Math.max(this.options.minSites, dp?.minSites ?? 0)) {
      return { parameters: undefined, contributors, dropped, failure: `only ${contributors.length} sites contributed; ${Math.max(this.options.minSites, dp?.minSites ?? 0)} are needed` };
    }
    const updates = [...result.accepted].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, u]) => u);
    if (dp) {
      const deltas = updates.map((u) => u.parameters.map((p, i) => p - current[i]!));
      const noisy = dpAggregate(current, deltas, contributors.length, dp.clipNorm, dp.noiseMultiplier, cryptoRng());
      return { parameters: this.strategy.aggregate(current, [{ site: 'dp-aggregate', parameters: noisy, examples: 1 }], [...dropped.keys()]), contributors, dropped };
    }
    // In site order, not arrival order: floating-point sums then repeat bit for bit.
    const results: SiteResult[] = [...result.accepted]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([site, u]) => ({ site, parameters: u.parameters, examples: u.examples, loss: u.loss }));
    const examples = updates.reduce((n, u) => n + u.examples, 0);
    const loss = updates.reduce((s, u) => s + u.loss * u.examples, 0) / examples;
    return { parameters: this.strategy.aggregate(current, results, [...dropped.keys()]), contributors, dropped, loss };
  }

  /** A round under secure aggregation: training, then the four rounds of Bonawitz et al. */
  private async secureRound(round: number, plan: RoundPlan, participants: string[], current: Float64Array, dp: DpPlan | undefined): Promise<RoundOutcome> {
    const options = this.secure!;
    const m = participants.length;
    const count = current.length;
    const dropped = new Map<string, string>();
    const fail = (failure: string): RoundOutcome => ({ parameters: undefined, contributors: [], dropped, failure });
    if (m < 2) return fail(`secure aggregation needs at least 2 sites, ${m} available`);
    const neighbours: Neighbourhood = options.neighbours ?? (m <= 10 ? 'all' : Math.min(m - 1, 2 * Math.ceil(Math.log2(m))));
    const holders = neighbours === 'all' ? m : Math.min(neighbours, m - 1) + 1;
    const threshold = Math.min(holders, options.threshold ?? Math.max(2, Math.floor(holders / 2) + 1));
    const vectorLength = dp ? count : count + 2;
    const bits = options.bits ?? maxQuantisationBits(m);
    const range = dp ? dp.clipNorm : (options.range ?? DEFAULT_RANGE);
    const totalExamples = participants.reduce((n, s) => n + this.sites.get(s)!.examples, 0);
    let server: SecAggServer;
    try {
      server = new SecAggServer({ n: m, threshold, vectorLength, neighbours });
    } catch (e) {
      throw new FederatedRunError(`secure aggregation cannot be set up: ${(e as Error).message}`);
    }
    const idOf = new Map(participants.map((site, i) => [site, i + 1]));
    const siteOf = new Map(participants.map((site, i) => [i + 1, site]));

    const step = async (name: SecAggStep | 'advertise-keys', to: ReadonlyMap<number, unknown>, make: (site: string, message: unknown) => { kind: string; body: Json }): Promise<Map<number, never>> => {
      const sites = [...to.keys()].map((id) => siteOf.get(id)!);
      const { accepted, failed } = await this.server.exchange(
        sites,
        (site) => make(site, to.get(idOf.get(site)!)),
        (site, reply) => {
          const message = parseSecAggReply(expectKind(reply, 'secagg'), name);
          this.debug(`round ${round}: ${name} of ${site} received`);
          return message;
        },
        this.roundTimeoutMs,
      );
      for (const [site, reason] of failed) if (!dropped.has(site)) dropped.set(site, `${name}: ${reason}`);
      return new Map([...accepted].map(([site, message]) => [idOf.get(site)!, message as never]));
    };
    const noteRejections = () => {
      for (const [id, reason] of server.rejected()) {
        const site = siteOf.get(id)!;
        if (!dropped.has(site)) {
          dropped.set(site, `secure aggregation refused its message: ${reason}`);
          this.log(`round ${round}: refused ${site}'s message: ${reason}`);
        }
      }
    };

    try {
      const everyone = new Map(participants.map((site) => [idOf.get(site)!, null]));
      const advertised = await step('advertise-keys', everyone, (site) => ({
        kind: 'train',
        body: trainToJson({
          plan,
          parameters: current,
          secure: { id: idOf.get(site)!, participants: m, vectorLength, range, bits, weight: dp ? null : this.sites.get(site)!.examples / totalExamples },
        }),
      }));
      const rosters = server.receiveAdvertisedKeys(advertised);
      noteRejections();
      const shared = await step('share-keys', rosters, (_site, message) => ({ kind: 'secagg', body: secAggToJson({ round, step: 'share-keys', message: message as Json }) }));
      const forwarded = server.receiveSharedKeys(shared);
      noteRejections();
      const masked = await step('masked-input', forwarded, (_site, message) => ({ kind: 'secagg', body: secAggToJson({ round, step: 'masked-input', message: message as Json }) }));
      const requests = server.receiveMaskedInputs(masked);
      noteRejections();
      const answers = await step('unmask', requests, (_site, message) => ({ kind: 'secagg', body: secAggToJson({ round, step: 'unmask', message: message as Json }) }));
      const { sum, summands } = server.receiveUnmaskResponses(answers);
      noteRejections();
      const contributors = summands.map((id) => siteOf.get(id)!);
      for (const site of contributors) dropped.delete(site);
      const need = Math.max(this.options.minSites, dp?.minSites ?? 0);
      if (contributors.length < need) return { ...fail(`only ${contributors.length} sites' inputs are in the sum; ${need} are needed`), contributors };
      const total = dequantiseSum(sum, range, bits, contributors.length);
      if (dp) {
        const noisy = dpAggregate(current, total, contributors.length, dp.clipNorm, dp.noiseMultiplier, cryptoRng());
        return { parameters: this.strategy.aggregate(current, [{ site: 'secure-sum', parameters: noisy, examples: 1 }], [...dropped.keys()]), contributors, dropped };
      }
      // Σ w_i Δ_i / Σ w_i: FedAvg's weighted mean over the sites whose input is in the sum.
      const weight = total[count + 1]!;
      if (!(weight > 0)) return { ...fail(`the summed weight is ${weight}`), contributors };
      const mean = new Float64Array(count);
      for (let i = 0; i < count; i++) mean[i] = current[i]! + total[i]! / weight;
      const loss = total[count]! / weight;
      return { parameters: this.strategy.aggregate(current, [{ site: 'secure-sum', parameters: mean, examples: 1 }], [...dropped.keys()]), contributors, dropped, loss };
    } catch (e) {
      if (e instanceof SecAggAbortError) {
        noteRejections();
        return fail(e.message);
      }
      throw e;
    }
  }
}

function strategyOptionsOf(options: CoordinatorOptions): StrategyOptions {
  return {
    rounds: positiveInteger(options.rounds, 'the number of rounds'),
    epochs: options.epochs ?? 1,
    learningRate: options.learningRate ?? 0.05,
    batchSize: options.batchSize ?? 32,
    seed: options.seed ?? 0,
    ...(options.l2 === undefined ? {} : { l2: options.l2 }),
    ...options.strategyOptions,
  };
}

/** Checks the settings that do not need a site, so a bad run fails before it listens. */
function checkOptions(options: CoordinatorOptions): void {
  positiveInteger(options.minSites, 'the minimum number of sites');
  positiveInteger(options.rounds, 'the number of rounds');
  if (options.startSites !== undefined) {
    positiveInteger(options.startSites, 'the number of sites to start with');
    if (options.startSites < options.minSites) throw new FederatedRunError(`the sites to start with (${options.startSites}) cannot be fewer than the minimum per round (${options.minSites})`);
  }
  const strategy = createStrategy(options.strategy ?? 'fedavg', strategyOptionsOf(options));
  const secure = options.secureAggregation !== undefined && options.secureAggregation !== false;
  if (secure && strategy.needsIndividualUpdates) {
    throw new FederatedRunError(`the ${strategy.name} strategy needs every site's own update, which secure aggregation hides: use fedavg, fedprox or fedadam with it`);
  }
  if (options.dp && strategy.needsIndividualUpdates) {
    throw new FederatedRunError(`differential privacy bounds the noisy mean of clipped updates (DP-FedAvg); the ${strategy.name} strategy does not aggregate by a mean`);
  }
  if (secure && options.minSites < 2) throw new FederatedRunError('secure aggregation needs at least 2 sites per round (--min-sites 2 or more)');
  if (options.dp) {
    if (!(options.dp.epsilon > 0 && Number.isFinite(options.dp.epsilon))) throw new FederatedRunError(`ε must be a positive number, got ${options.dp.epsilon}`);
    if (!(options.dp.clipNorm > 0 && Number.isFinite(options.dp.clipNorm))) throw new FederatedRunError(`the clip norm must be a positive number, got ${options.dp.clipNorm}`);
  }
  const kind = options.model?.kind ?? 'logistic';
  if (kind !== 'logistic' && kind !== 'mlp') throw new FederatedRunError(`unknown model kind "${String(kind)}" (logistic or mlp)`);
}

/**
 * Runs a federated training as the coordinator: listens on `port` with mutual TLS, trains, saves
 * the model to `out` and returns it with a record of every round.
 */
export async function runCoordinator(options: CoordinatorOptions): Promise<TrainingResult> {
  checkOptions(options);
  const tls = loadPartyCredentials(options.credentials);
  const server = await TransportServer.start({
    port: options.port,
    ...(options.host === undefined ? {} : { host: options.host }),
    tls,
    ...(tls.sites ? { allowedSites: tls.sites } : {}),
    ...(options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes }),
    log: options.log ?? (() => undefined),
    ...(options.onReceive ? { onReceive: options.onReceive } : {}),
  });
  const host = options.host === undefined || options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${server.port}`;
  options.log?.(`listening on ${url}`);
  options.onListening?.({ port: server.port, url });
  try {
    return await new Coordinator(server, options).run();
  } catch (e) {
    // Tell the sites, so they stop now rather than retry a coordinator that is gone.
    const sites = server.greetedSites();
    for (const site of sites) server.post(site, 'stopped', { reason: (e as Error).message });
    await server.whenFetched(sites.filter((s) => server.isConnected(s)), 3_000);
    throw e;
  } finally {
    await server.close();
  }
}
