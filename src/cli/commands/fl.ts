import { createWriteStream, type WriteStream } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { attributeInferenceOnTable } from '../../federated/attacks/attribute.js';
import { DEFAULT_SHADOW_TRAINING, runMembershipAttacks } from '../../federated/attacks/suite.js';
import { runCoordinator, type CoordinatorOptions, type SecureAggregationOptions } from '../../federated/coordinator.js';
import { createCredentials } from '../../federated/credentials.js';
import { readFeatureTable } from '../../federated/data.js';
import { evaluateModel } from '../../federated/evaluate.js';
import { loadModel } from '../../federated/model.js';
import { runSite } from '../../federated/site.js';
import { STRATEGY_NAMES } from '../../federated/strategies.js';
import type { StrategyName } from '../../federated/types.js';

/**
 * A bad option value: raised as commander's own errors are (message on stderr, exit status 2),
 * without importing the de-identification pipeline for its UsageError.
 */
class UsageError extends CommanderError {
  constructor(message: string) {
    super(2, 'radanon.usage', message);
  }
}

/** Runs an action, reporting a `UsageError` the way commander reports its own errors. */
function reported<A extends unknown[]>(command: () => Command, action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (e) {
      if (e instanceof UsageError) command().error(e.message, { exitCode: 2, code: 'radanon.usage' });
      throw e;
    }
  };
}

function integer(text: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = Number(text);
  if (!/^[+-]?\d+$/.test(text.trim()) || !Number.isSafeInteger(v) || v < min || v > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  return v;
}

function positive(text: string, flag: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v <= 0) throw new UsageError(`${flag} must be a number greater than 0, got "${text}"`);
  return v;
}

function fraction(text: string, flag: string, openHigh: boolean): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0 || (openHigh ? v >= 1 : v > 1)) throw new UsageError(`${flag} must be a number in [0, 1${openHigh ? ')' : ']'}, got "${text}"`);
  return v;
}

function stamp(line: string): string {
  return `${new Date().toISOString()} ${line}\n`;
}

function json(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Float64Array ? Array.from(v) : v), 2) + '\n';
}

interface CredentialsOptions {
  sites: string;
  host: string[];
  validDays: string;
}

function credentialsCommand(): Command {
  const command: Command = new Command('credentials')
    .description("create the consortium's TLS material: an authority, the coordinator's certificate and one certificate and key per site, for mutual TLS")
    .argument('<dir>', 'an empty or new folder')
    .requiredOption('--sites <n-or-names>', 'the number of sites (named site-1 … site-n) or their names, comma-separated')
    .option('--host <name-or-address...>', "names or addresses the coordinator is reached at (localhost and 127.0.0.1 are always included)", [])
    .option('--valid-days <days>', 'validity of the certificates', '825')
    .action(reported(() => command, async (dir: string, opts: CredentialsOptions) => {
      const sites = /^\d+$/.test(opts.sites.trim())
        ? integer(opts.sites, '--sites', 1, 10_000)
        : opts.sites.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const made = await createCredentials(dir, { sites, hosts: opts.host, validDays: integer(opts.validDays, '--valid-days', 1, 3650) });
      process.stdout.write(
        [
          `authority:   ${made.authority.cert} (its key ${made.authority.key} signs new certificates: keep it offline)`,
          `coordinator: ${made.coordinator.dir}  → radanon fl serve --credentials ${made.dir}`,
          ...made.sites.map((s) => `${s.name.padEnd(12)} ${s.dir}  → give this folder to the site: radanon fl site --credentials ${s.dir}`),
        ].join('\n') + '\n',
      );
    }));
  return command;
}

interface ServeOptions {
  port: string;
  host?: string;
  minSites: string;
  startSites?: string;
  rounds: string;
  strategy: string;
  secureAggregation?: boolean;
  secaggThreshold?: string;
  secaggNeighbours?: string;
  secaggRange?: string;
  dpEpsilon?: string;
  dpDelta: string;
  clip?: string;
  dpMinSites?: string;
  credentials: string;
  out: string;
  model: string;
  hidden: string;
  epochs: string;
  learningRate: string;
  batchSize: string;
  l2?: string;
  proximalMu?: string;
  serverLearningRate?: string;
  trimFraction?: string;
  byzantine?: string;
  positiveLabel?: string;
  seed: string;
  roundTimeout: string;
  enrolTimeout: string;
  capture?: string;
  verbose?: boolean;
}

function serveOptions(opts: ServeOptions, log: (line: string) => void): CoordinatorOptions {
  if (!(STRATEGY_NAMES as readonly string[]).includes(opts.strategy)) throw new UsageError(`--strategy must be one of ${STRATEGY_NAMES.join(', ')}, got "${opts.strategy}"`);
  if (opts.model !== 'logistic' && opts.model !== 'mlp') throw new UsageError(`--model must be logistic or mlp, got "${opts.model}"`);
  if (opts.dpEpsilon === undefined && opts.clip !== undefined) throw new UsageError('--clip is the clipping norm of differential privacy: give --dp-epsilon too');
  let secure: SecureAggregationOptions | undefined;
  if (opts.secureAggregation) {
    secure = {
      ...(opts.secaggThreshold === undefined ? {} : { threshold: integer(opts.secaggThreshold, '--secagg-threshold', 2) }),
      ...(opts.secaggNeighbours === undefined ? {} : { neighbours: opts.secaggNeighbours === 'all' ? ('all' as const) : integer(opts.secaggNeighbours, '--secagg-neighbours', 1) }),
      ...(opts.secaggRange === undefined ? {} : { range: positive(opts.secaggRange, '--secagg-range') }),
    };
  } else if (opts.secaggThreshold !== undefined || opts.secaggNeighbours !== undefined || opts.secaggRange !== undefined) {
    throw new UsageError('--secagg-* options need --secure-aggregation');
  }
  const strategyOptions = {
    ...(opts.proximalMu === undefined ? {} : { proximalMu: Number(opts.proximalMu) }),
    ...(opts.serverLearningRate === undefined ? {} : { serverLearningRate: positive(opts.serverLearningRate, '--server-learning-rate') }),
    ...(opts.trimFraction === undefined ? {} : { trimFraction: fraction(opts.trimFraction, '--trim-fraction', true) }),
    ...(opts.byzantine === undefined ? {} : { byzantine: integer(opts.byzantine, '--byzantine', 0) }),
  };
  const hidden = opts.hidden.split(',').map((h) => integer(h, '--hidden', 1, 1_000_000));
  return {
    port: integer(opts.port, '--port', 0, 65_535),
    ...(opts.host === undefined ? {} : { host: opts.host }),
    credentials: opts.credentials,
    out: opts.out,
    minSites: integer(opts.minSites, '--min-sites', 1),
    ...(opts.startSites === undefined ? {} : { startSites: integer(opts.startSites, '--start-sites', 1) }),
    rounds: integer(opts.rounds, '--rounds', 1, 1_000_000),
    strategy: opts.strategy as StrategyName,
    model: { kind: opts.model, hidden: opts.model === 'mlp' ? hidden : [] },
    epochs: integer(opts.epochs, '--epochs', 1, 10_000),
    learningRate: positive(opts.learningRate, '--learning-rate'),
    batchSize: integer(opts.batchSize, '--batch-size', 1),
    seed: integer(opts.seed, '--seed', -Number.MAX_SAFE_INTEGER),
    ...(opts.l2 === undefined ? {} : { l2: Number(opts.l2) }),
    strategyOptions,
    ...(opts.positiveLabel === undefined ? {} : { positiveLabel: opts.positiveLabel }),
    ...(secure ? { secureAggregation: secure } : {}),
    ...(opts.dpEpsilon === undefined
      ? {}
      : {
          dp: {
            epsilon: positive(opts.dpEpsilon, '--dp-epsilon'),
            delta: fraction(opts.dpDelta, '--dp-delta', true),
            clipNorm: positive(opts.clip ?? '1', '--clip'),
            ...(opts.dpMinSites === undefined ? {} : { minSites: integer(opts.dpMinSites, '--dp-min-sites', 1) }),
          },
        }),
    roundTimeoutMs: positive(opts.roundTimeout, '--round-timeout') * 1000,
    enrolTimeoutMs: positive(opts.enrolTimeout, '--enrol-timeout') * 1000,
    log,
    ...(opts.verbose ? { debug: log } : {}),
  };
}

function serveCommand(): Command {
  const command: Command = new Command('serve')
    .description('run the coordinator of a federated training: enrol sites, agree the schema and standardisation, train, save the model')
    .requiredOption('--port <port>', 'port to listen on (0: any free port, printed in the log)')
    .option('--host <address>', 'address to listen on (default: all)')
    .requiredOption('--min-sites <n>', 'the fewest sites a round may aggregate (and, without --start-sites, the sites needed to start)')
    .option('--start-sites <n>', 'sites that must connect before the first round (default --min-sites)')
    .requiredOption('--rounds <r>', 'training rounds')
    .option('--strategy <name>', `aggregation: ${STRATEGY_NAMES.join(', ')}`, 'fedavg')
    .option('--secure-aggregation', 'the coordinator learns only the sum of the updates (Bonawitz et al. 2017, SecAgg+)')
    .option('--secagg-threshold <t>', 'Shamir threshold of secure aggregation (default: a majority of each site’s share holders)')
    .option('--secagg-neighbours <k|all>', "sites each site masks with (SecAgg+); default all up to 10 sites, else 2⌈log2 n⌉")
    .option('--secagg-range <r>', 'weighted update values are clipped to ±r before quantisation (default 16)')
    .option('--dp-epsilon <e>', 'differential privacy (DP-FedAvg): the user-level ε after all rounds')
    .option('--dp-delta <d>', 'δ of the guarantee', '1e-5')
    .option('--clip <c>', "L2 norm each site's update is clipped to under differential privacy (default 1)")
    .option('--dp-min-sites <n>', 'rounds with fewer sites are refused under differential privacy (default --min-sites)')
    .requiredOption('--credentials <dir>', 'the consortium folder made by radanon fl credentials (or its coordinator/ folder)')
    .requiredOption('--out <model.json>', 'where to save the model')
    .option('--model <kind>', 'logistic or mlp', 'logistic')
    .option('--hidden <widths>', 'hidden layer widths of the mlp, comma-separated', '16')
    .option('--epochs <n>', 'local epochs per round', '1')
    .option('--learning-rate <lr>', 'local SGD learning rate', '0.05')
    .option('--batch-size <n>', 'local mini-batch size', '32')
    .option('--l2 <lambda>', 'L2 penalty of local training')
    .option('--proximal-mu <mu>', 'FedProx μ')
    .option('--server-learning-rate <eta>', "FedAdam's server learning rate")
    .option('--trim-fraction <beta>', "trimmed mean's share cut at each end")
    .option('--byzantine <f>', "Krum's number of Byzantine sites tolerated")
    .option('--positive-label <class>', 'the label class encoded as 1 (default: the last in sort order)')
    .option('--seed <n>', 'seed of the initial model and of the round plans', '0')
    .option('--round-timeout <seconds>', 'deadline of each exchange of a round: slower sites are out of that round', '300')
    .option('--enrol-timeout <seconds>', 'how long to wait for --min-sites sites to connect', '600')
    .option('--capture <file.jsonl>', 'append every message the coordinator receives to this file (an audit of what it learns)')
    .option('--verbose', 'log each reply as it arrives')
    .action(reported(() => command, async (opts: ServeOptions) => {
      const log = (line: string) => process.stderr.write(stamp(line));
      const options = serveOptions(opts, log);
      let capture: WriteStream | undefined;
      if (opts.capture) {
        const stream = createWriteStream(opts.capture, { flags: 'a', mode: 0o600 });
        capture = stream;
        (options as { onReceive?: CoordinatorOptions['onReceive'] }).onReceive = (site, path, body) => {
          stream.write(JSON.stringify({ time: new Date().toISOString(), site, path, body }) + '\n');
        };
      }
      try {
        const result = await runCoordinator(options);
        process.stdout.write(json({ model: opts.out, sites: result.sites, refused: result.refused, rounds: result.rounds, ...(result.dp ? { dp: result.dp } : {}) }));
      } finally {
        if (capture) await new Promise((resolve) => capture.end(resolve));
      }
    }));
  return command;
}

interface SiteCommandOptions {
  coordinator: string;
  data: string;
  label: string;
  credentials: string;
  seed?: string;
  maxCategories: string;
  retry: string;
}

function siteCommand(): Command {
  const command: Command = new Command('site')
    .description("take part in a federated training as a site: the feature table stays here; only its schema, sums and counts, and model updates leave")
    .requiredOption('--coordinator <url>', 'https://host:port of the coordinator')
    .requiredOption('--data <csv>', "the site's feature table")
    .requiredOption('--label <column>', 'the label column')
    .requiredOption('--credentials <dir>', "this site's folder made by radanon fl credentials")
    .option('--seed <n>', "the site's seed for local shuffling (default: from its name)")
    .option('--max-categories <n>', 'a text column with more distinct values is refused as an identifier', '100')
    .option('--retry <seconds>', 'how long to keep trying to reach the coordinator', '120')
    .action(reported(() => command, async (opts: SiteCommandOptions) => {
      const summary = await runSite({
        coordinator: opts.coordinator,
        data: opts.data,
        label: opts.label,
        credentials: opts.credentials,
        ...(opts.seed === undefined ? {} : { seed: integer(opts.seed, '--seed', -Number.MAX_SAFE_INTEGER) }),
        maxCategories: integer(opts.maxCategories, '--max-categories', 1),
        retryForMs: positive(opts.retry, '--retry') * 1000,
        log: (line) => process.stderr.write(stamp(line)),
      });
      process.stdout.write(json(summary));
    }));
  return command;
}

function evaluateCommand(): Command {
  const command: Command = new Command('evaluate')
    .description('accuracy and ROC AUC of a federated model on a labelled feature table, as JSON')
    .argument('<model.json>', 'a model saved by radanon fl serve')
    .requiredOption('--data <csv>', 'a feature table with the label')
    .requiredOption('--label <column>', 'the label column')
    .action(reported(() => command, async (modelFile: string, opts: { data: string; label: string }) => {
      const model = await loadModel(modelFile);
      const table = await readFeatureTable(opts.data, opts.label);
      process.stdout.write(json(evaluateModel(model, table)));
    }));
  return command;
}

interface AttackOptions {
  members: string;
  nonMembers: string;
  label: string;
  shadowModels: string;
  shadowEpochs: string;
  shadowLearningRate: string;
  shadowBatchSize: string;
  sensitive?: string;
  seed: string;
}

function attackCommand(): Command {
  const command: Command = new Command('attack')
    .description('membership inference (loss threshold, LiRA) and, with --sensitive, attribute inference against a federated model, as JSON: ROC AUC and TPR at 0.1% and 1% FPR')
    .argument('<model.json>', 'a model saved by radanon fl serve')
    .requiredOption('--members <csv>', 'rows the model was trained on')
    .requiredOption('--non-members <csv>', 'rows from the same population it was not trained on')
    .requiredOption('--label <column>', 'the label column')
    .option('--shadow-models <n>', 'LiRA shadow models (0 skips LiRA)', '16')
    .option('--shadow-epochs <n>', 'epochs of shadow training (mirror the target’s training)', String(DEFAULT_SHADOW_TRAINING.epochs))
    .option('--shadow-learning-rate <lr>', 'learning rate of shadow training', String(DEFAULT_SHADOW_TRAINING.learningRate))
    .option('--shadow-batch-size <n>', 'batch size of shadow training', String(DEFAULT_SHADOW_TRAINING.batchSize))
    .option('--sensitive <column>', 'a categorical column with two values to infer from the model’s outputs (attribute inference on the members)')
    .option('--seed <n>', 'seed of the shadow models', '0')
    .action(reported(() => command, async (modelFile: string, opts: AttackOptions) => {
      const model = await loadModel(modelFile);
      const [members, nonMembers] = await Promise.all([readFeatureTable(opts.members, opts.label), readFeatureTable(opts.nonMembers, opts.label)]);
      const membership = runMembershipAttacks(model, members, nonMembers, {
        shadowModels: integer(opts.shadowModels, '--shadow-models', 0, 10_000),
        training: {
          epochs: integer(opts.shadowEpochs, '--shadow-epochs', 1, 100_000),
          learningRate: positive(opts.shadowLearningRate, '--shadow-learning-rate'),
          batchSize: integer(opts.shadowBatchSize, '--shadow-batch-size', 1),
        },
        seed: integer(opts.seed, '--seed', -Number.MAX_SAFE_INTEGER),
      });
      const attribute = opts.sensitive === undefined ? {} : { attributeInference: attributeInferenceOnTable(model, members, opts.sensitive) };
      process.stdout.write(json({ ...membership, ...attribute }));
    }));
  return command;
}

export function flCommand(): Command {
  return new Command('fl')
    .description('federated learning across sites: credentials, the coordinator, a site, evaluation and attack evaluation of the model')
    .addCommand(credentialsCommand().exitOverride())
    .addCommand(serveCommand().exitOverride())
    .addCommand(siteCommand().exitOverride())
    .addCommand(evaluateCommand().exitOverride())
    .addCommand(attackCommand().exitOverride());
}
