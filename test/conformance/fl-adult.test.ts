/**
 * Federated learning between real processes on loopback, on ARX's adult data set (label
 * salary-class): the coordinator and five sites are separate `radanon fl` processes, each site
 * holding a non-IID share (training rows sorted by age, cut in five).
 *
 * - FedAvg reaches centralised training's held-out accuracy within one percentage point;
 * - with secure aggregation the model equals plain FedAvg's within quantisation error, and what
 *   the coordinator receives (captured in full) holds masked vectors that pass a uniformity test;
 * - with two sites killed in the middle of a secure round (one after sending its masked input,
 *   one before), the round completes with the others;
 * - a DP run reports ε, and LiRA's attack AUC is lower against it than against the same
 *   training without DP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, localMoments, localSchema, mergeMoments, mergeSchemas, parseFeatureTable, type FeatureTable } from '../../src/federated/data.js';
import { evaluateModel } from '../../src/federated/evaluate.js';
import { loadModel, type SavedModel } from '../../src/federated/model.js';
import { createRng } from '../../src/federated/random.js';
import { trainCentral } from '../../src/federated/train.js';
import { sharedDataDir } from './helpers.js';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const adultCsv = join(sharedDataDir, 'adult', 'adult.csv');
const LABEL = 'salary-class';
const SITES = 5;
/** Local training of every federated run on adult, and of the centralised baseline. */
const TRAINING = { rounds: 5, epochs: 1, learningRate: 0.05, batchSize: 32 };

let work: string;
let cli: string[];
let all: FeatureTable;
let heldOut: FeatureTable;
let training: FeatureTable;

interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Running {
  readonly child: ChildProcess;
  readonly done: Promise<Finished>;
}

function start(args: readonly string[], onStderr?: (text: string) => void): Running {
  const child = spawn(process.execPath, [...cli, 'fl', ...args], { cwd: work });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    onStderr?.(stderr);
  });
  const done = new Promise<Finished>((resolveDone) => child.on('close', (code, signal) => resolveDone({ code, signal, stdout, stderr })));
  return { child, done };
}

function subset(rows: readonly number[], source: string): FeatureTable {
  return { source, columns: all.columns, rows: rows.map((r) => all.rows[r]!), labels: rows.map((r) => all.labels[r]!), label: LABEL };
}

/** A table as adult's own CSV writes it (semicolons, same header order: the label last). */
function writeCsv(file: string, t: FeatureTable): string {
  const lines = [[...t.columns, LABEL].join(';'), ...t.rows.map((row, i) => [...row, t.labels[i]!].join(';'))];
  const path = join(work, file);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

interface ServeSummary {
  readonly sites: string[];
  readonly rounds: { round: number; sites: string[]; dropped: { site: string; reason: string }[]; loss?: number; epsilon?: number }[];
  readonly dp?: { epsilon: number; delta: number; noiseMultiplier: number };
}

interface FederatedRun {
  readonly serve: Finished;
  readonly sites: Finished[];
  readonly summary: ServeSummary;
  readonly model: SavedModel;
}

/**
 * `radanon fl serve` and one `radanon fl site` per shard. `watch` sees the coordinator's log as
 * it grows, with the site processes (site-1 … site-n), so a test can act mid-round.
 */
async function federate(name: string, shards: readonly string[], extra: readonly string[], watch?: (log: string, sites: ChildProcess[]) => void): Promise<FederatedRun> {
  let announce!: (url: string) => void;
  const url = new Promise<string>((r) => (announce = r));
  const siteProcesses: ChildProcess[] = [];
  const serve = start(
    ['serve', '--port', '0', '--host', '127.0.0.1', '--credentials', 'credentials', '--out', `${name}.json`, '--round-timeout', '120', '--enrol-timeout', '120', '--verbose', ...extra],
    (log) => {
      const m = /listening on (https:\/\/\S+)/.exec(log);
      if (m) announce(m[1]!);
      if (siteProcesses.length > 0) watch?.(log, siteProcesses);
    },
  );
  const coordinator = await Promise.race([url, serve.done.then((r) => Promise.reject(new Error(`the coordinator ended early: ${r.stderr}`)))]);
  const sites = shards.map((file, i) => start(['site', '--coordinator', coordinator, '--data', file, '--label', LABEL, '--credentials', `credentials/site-${i + 1}`]));
  siteProcesses.push(...sites.map((s) => s.child));
  const served = await serve.done;
  const finishedSites = await Promise.all(sites.map((s) => s.done));
  expect(served.code, served.stderr).toBe(0);
  return { serve: served, sites: finishedSites, summary: JSON.parse(served.stdout) as ServeSummary, model: await loadModel(join(work, `${name}.json`)) };
}

function accuracy(model: SavedModel): number {
  return evaluateModel(model, heldOut).accuracy;
}

/** The compiled `radanon` (the test set-up builds it). */
function commandLine(): string[] {
  return [join(repo, 'dist/cli/main.js')];
}

let shardFiles: string[];

beforeAll(async () => {
  expect(existsSync(adultCsv), `${adultCsv} is missing`).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'radanon-fl-adult-'));
  cli = commandLine();
  all = parseFeatureTable(readFileSync(adultCsv, 'utf8'), adultCsv, LABEL);
  // 20 % held out at random (seeded), the rest sorted by age and cut into five shards: each site
  // sees one age band, so the label's base rate differs from site to site.
  const order = Array.from({ length: all.rows.length }, (_, i) => i);
  const rng = createRng(2024);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const testCount = Math.round(order.length * 0.2);
  heldOut = subset(order.slice(0, testCount), 'held-out');
  const trainRows = order.slice(testCount);
  const age = all.columns.indexOf('age');
  trainRows.sort((a, b) => Number(all.rows[a]![age]) - Number(all.rows[b]![age]) || a - b);
  training = subset(trainRows, 'training');
  shardFiles = Array.from({ length: SITES }, (_, k) =>
    writeCsv(`adult-site-${k + 1}.csv`, subset(trainRows.slice(Math.floor((k * trainRows.length) / SITES), Math.floor(((k + 1) * trainRows.length) / SITES)), `site ${k + 1}`)),
  );
  const credentials = start(['credentials', 'credentials', '--sites', String(SITES)]);
  expect((await credentials.done).code).toBe(0);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

const trainingArgs = ['--min-sites', String(SITES), '--rounds', String(TRAINING.rounds), '--epochs', String(TRAINING.epochs), '--learning-rate', String(TRAINING.learningRate), '--batch-size', String(TRAINING.batchSize), '--seed', '1'];

describe('five sites on adult', () => {
  let plain: FederatedRun;
  let secure: FederatedRun;

  beforeAll(async () => {
    plain = await federate('plain', shardFiles, trainingArgs);
    secure = await federate('secure', shardFiles, [...trainingArgs, '--secure-aggregation', '--capture', 'secure-capture.jsonl']);
  });

  it('the shards are non-IID: the share of >50K differs by site', () => {
    const rates = shardFiles.map((f) => {
      const t = parseFeatureTable(readFileSync(f, 'utf8'), f, LABEL);
      return t.labels.filter((l) => l === '>50K').length / t.labels.length;
    });
    expect(Math.max(...rates) - Math.min(...rates)).toBeGreaterThan(0.2);
  });

  it("FedAvg's held-out accuracy is within one percentage point of centralised training's", () => {
    expect(plain.summary.rounds.map((r) => r.sites.length)).toEqual([5, 5, 5, 5, 5]);
    // The centralised baseline: the same rows pooled, the same model, the same total epochs.
    const schema = mergeSchemas([localSchema(training)]);
    const standardisation = mergeMoments([localMoments(training, schema)]);
    const spec = { kind: 'logistic' as const, inputs: schema.encodedColumns.length, hidden: [] };
    const central = trainCentral(spec, encode(training, schema, standardisation), { epochs: TRAINING.rounds * TRAINING.epochs, learningRate: TRAINING.learningRate, batchSize: TRAINING.batchSize, seed: 1 });
    const centralModel: SavedModel = { format: 'radanon-fl-model', version: 1, spec, schema, standardisation, parameters: central, rounds: 0, strategy: 'fedavg' };
    const centralAccuracy = accuracy(centralModel);
    const federatedAccuracy = accuracy(plain.model);
    console.log(`adult held-out accuracy: centralised ${centralAccuracy.toFixed(4)}, FedAvg over 5 non-IID sites ${federatedAccuracy.toFixed(4)}`);
    expect(centralAccuracy).toBeGreaterThan(0.8);
    expect(Math.abs(federatedAccuracy - centralAccuracy)).toBeLessThanOrEqual(0.01);
    // The federated schema and standardisation are the pooled ones, computed from sums and counts.
    expect(plain.model.schema.encodedColumns).toEqual(schema.encodedColumns);
    plain.model.standardisation.mean.forEach((m, j) => expect(m).toBeCloseTo(standardisation.mean[j]!, 9));
  });

  it("with secure aggregation, the model is plain FedAvg's within quantisation error", () => {
    const a = plain.model.parameters;
    const b = secure.model.parameters;
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    // A step of the fixed-point grid is 2·16/(2^29 − 1) ≈ 6e-8 per value and site; five rounds.
    console.log(`secure aggregation vs plain FedAvg: largest parameter difference ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);
    expect(secure.summary.rounds.map((r) => r.sites.length)).toEqual([5, 5, 5, 5, 5]);
    expect(Math.abs(accuracy(secure.model) - accuracy(plain.model))).toBeLessThan(0.001);
  });

  it('what the coordinator receives under secure aggregation: no parameters, masked vectors indistinguishable from uniform', () => {
    const lines = readFileSync(join(work, 'secure-capture.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { site: string; path: string; body: string });
    expect(new Set(lines.map((l) => l.site))).toEqual(new Set(['site-1', 'site-2', 'site-3', 'site-4', 'site-5']));
    const replies = lines.filter((l) => l.path.endsWith('/reply')).map((l) => JSON.parse(l.body) as { kind: string; body: Record<string, unknown> });
    // Every reply after set-up is a protocol message: no update, no parameters, no loss of a site.
    expect(replies.filter((r) => r.kind === 'update')).toEqual([]);
    expect(lines.some((l) => l.body.includes('"parameters"'))).toBe(false);
    const masked = replies.filter((r) => r.body.type === 'secagg/masked-input').map((r) => Buffer.from(r.body.masked as string, 'base64'));
    expect(masked).toHaveLength(SITES * TRAINING.rounds);
    const vectorLength = plain.model.parameters.length + 2;
    expect(masked.every((m) => m.length === 4 * vectorLength)).toBe(true);
    // Pearson's χ² on the top byte of every masked word (256 cells, 255 degrees of freedom):
    // the 0.1 % critical value is 330.5. (Quantised inputs without masks would all sit in the
    // few cells around the middle of the range.)
    const counts = new Float64Array(256);
    let words = 0;
    for (const m of masked) {
      for (let i = 0; i < m.length; i += 4) {
        counts[m.readUInt32LE(i) >>> 24]!++;
        words++;
      }
    }
    const expected = words / 256;
    const chi2 = counts.reduce((s, c) => s + ((c - expected) * (c - expected)) / expected, 0);
    console.log(`masked vectors: ${words} words, χ² of the top byte ${chi2.toFixed(1)} (255 degrees of freedom)`);
    expect(chi2).toBeLessThan(330.5);
    // And bit by bit: every one of the 32 bit positions is set in about half the words (±4σ).
    for (let bit = 0; bit < 32; bit++) {
      let ones = 0;
      for (const m of masked) for (let i = 0; i < m.length; i += 4) ones += (m.readUInt32LE(i) >>> bit) & 1;
      expect(Math.abs(ones - words / 2)).toBeLessThan(4 * Math.sqrt(words / 4));
    }
  });

  it('with two sites killed in the middle of a secure round, the round completes with the others', async () => {
    const names = ['site-1', 'site-2', 'site-3', 'site-4', 'site-5'];
    const victims = ['site-2', 'site-4'];
    let killedAt = '';
    // Once every site has advertised its keys for round 2, two of them are killed: they drop out
    // somewhere after AdvertiseKeys (where exactly depends on the machine's speed; the unit tests
    // of the protocol take each step in turn). Three of five remain, the Shamir threshold.
    const watch = (log: string, sites: ChildProcess[]) => {
      if (killedAt || !names.every((site) => new RegExp(`round 2: advertise-keys of ${site} received`).test(log))) return;
      killedAt = 'after round 2 AdvertiseKeys';
      for (const v of victims) sites[names.indexOf(v)]!.kill('SIGKILL');
    };
    const run = await federate(
      'killed',
      shardFiles,
      // All five start (a slow machine may connect the last site after three are in); three may finish.
      ['--min-sites', '3', '--start-sites', '5', '--rounds', '3', '--model', 'mlp', '--hidden', '16', '--epochs', '2', '--learning-rate', '0.05', '--seed', '1', '--secure-aggregation'],
      watch,
    );
    expect(killedAt).not.toBe('');
    const [r1, r2, r3] = run.summary.rounds;
    const survivors = names.filter((s) => !victims.includes(s));
    console.log(`killed ${victims.join(', ')} ${killedAt}; round 2 summed ${r2!.sites.join(', ')}; dropped ${r2!.dropped.map((d) => `${d.site} (${d.reason})`).join(', ')}`);
    expect(r1!.sites).toHaveLength(5);
    // Round 2 completes with every survivor; a victim is in its sum only if its masked input
    // arrived before it died (its self-mask is then rebuilt from the others' shares), otherwise
    // it is dropped and its pairwise masks are taken out of the sum.
    for (const site of survivors) expect(r2!.sites).toContain(site);
    for (const v of victims) expect(r2!.sites.includes(v) || r2!.dropped.some((d) => d.site === v)).toBe(true);
    expect([...r3!.sites].sort()).toEqual(survivors);
    expect(victims.map((v) => run.sites[names.indexOf(v)]!.signal)).toEqual(['SIGKILL', 'SIGKILL']);
    expect(run.sites.filter((s) => s.code === 0)).toHaveLength(3);
    expect(accuracy(run.model)).toBeGreaterThan(0.78);
  });
});

describe('differential privacy and attacks', () => {
  /** Small member sets so that the model without DP overfits measurably. */
  let members: string;
  let nonMembers: string;
  let shards: string[];
  const mlp = ['--min-sites', String(SITES), '--rounds', '5', '--model', 'mlp', '--hidden', '64', '--epochs', '20', '--learning-rate', '0.1', '--batch-size', '16', '--seed', '3'];

  beforeAll(() => {
    const perSite = 60;
    const rows = Array.from({ length: training.rows.length }, (_, i) => i);
    const rng = createRng(77);
    for (let i = rows.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    const pick = (from: FeatureTable, r: readonly number[]): FeatureTable => ({ ...from, rows: r.map((i) => from.rows[i]!), labels: r.map((i) => from.labels[i]!) });
    shards = Array.from({ length: SITES }, (_, k) => writeCsv(`small-${k + 1}.csv`, pick(training, rows.slice(k * perSite, (k + 1) * perSite))));
    members = writeCsv('members.csv', pick(training, rows.slice(0, SITES * perSite)));
    nonMembers = writeCsv('non-members.csv', pick(heldOut, Array.from({ length: SITES * perSite }, (_, i) => i)));
  });

  it('a DP run reports ε after every round; the attacks do worse against it than against the same training without DP', async () => {
    const withoutDp = await federate('mlp', shards, mlp);
    const withDp = await federate('mlp-dp', shards, [...mlp, '--dp-epsilon', '2', '--clip', '2']);
    const eps = withDp.summary.rounds.map((r) => r.epsilon!);
    expect(eps).toHaveLength(5);
    for (let i = 1; i < eps.length; i++) expect(eps[i]!).toBeGreaterThan(eps[i - 1]!);
    expect(eps[4]!).toBeLessThanOrEqual(2);
    expect(eps[4]!).toBeGreaterThan(1.5);
    expect(withDp.serve.stderr).toMatch(/round 5\/5: 5 sites in, 0 dropped, ε [12]\.\d+ \(δ 0\.00001\)/);
    expect(withDp.model.dp).toEqual({ epsilon: eps[4], delta: 1e-5 });
    expect(withoutDp.model.dp).toBeUndefined();

    const attack = (model: string) =>
      start(['attack', model, '--members', members, '--non-members', nonMembers, '--label', LABEL, '--shadow-models', '8', '--shadow-epochs', '100', '--shadow-learning-rate', '0.1', '--shadow-batch-size', '16']).done;
    const [plainAttack, dpAttack] = await Promise.all([attack('mlp.json'), attack('mlp-dp.json')]);
    expect(plainAttack.code, plainAttack.stderr).toBe(0);
    expect(dpAttack.code, dpAttack.stderr).toBe(0);
    type Report = { lossThreshold: { auc: number }; lira: { online: { auc: number; tprAt1pct: number } }; dp?: { epsilon: number } };
    const without = JSON.parse(plainAttack.stdout) as Report;
    const withPrivacy = JSON.parse(dpAttack.stdout) as Report;
    expect(withPrivacy.dp?.epsilon).toBe(eps[4]);
    // Without DP, LiRA tells members from non-members better than chance; with DP (ε ≤ 2, user
    // level), it does worse, and near chance. (Standard error of an AUC on 300 + 300 rows ≈ 0.025.)
    console.log(`ε after each round: ${eps.map((e) => e.toFixed(3)).join(', ')}; attack AUC without DP: loss ${without.lossThreshold.auc.toFixed(3)}, LiRA ${without.lira.online.auc.toFixed(3)}; with DP: loss ${withPrivacy.lossThreshold.auc.toFixed(3)}, LiRA ${withPrivacy.lira.online.auc.toFixed(3)}`);
    expect(without.lira.online.auc).toBeGreaterThan(0.56);
    expect(withPrivacy.lira.online.auc).toBeLessThan(without.lira.online.auc);
    expect(Math.abs(withPrivacy.lira.online.auc - 0.5)).toBeLessThan(0.08);
  });
});
