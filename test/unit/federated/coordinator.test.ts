/**
 * The coordinator and in-process sites over real HTTP/2 with mutual TLS on loopback, on small
 * synthetic tables: FedAvg trains a useful model, secure aggregation gives FedAvg's model within
 * quantisation error, a site with another schema is refused, a site sending an out-of-range
 * update is refused while the round goes on, DP reports ε and refuses rounds without enough
 * sites, and impossible combinations are refused before anything listens.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentials, loadPartyCredentials, type ConsortiumFiles } from '../../../src/federated/credentials.js';
import { runCoordinator, type CoordinatorOptions, type TrainingResult } from '../../../src/federated/coordinator.js';
import { parseFeatureTable } from '../../../src/federated/data.js';
import { evaluateModel } from '../../../src/federated/evaluate.js';
import { loadModel } from '../../../src/federated/model.js';
import { createRng } from '../../../src/federated/random.js';
import { runSite, SiteRefusedError, type SiteSummary } from '../../../src/federated/site.js';
import { TransportClient } from '../../../src/federated/transport/client.js';
import { localSchemaToJson, momentsToJson, parseSchema, parseSetup, parseTrain, updateToJson } from '../../../src/federated/transport/messages.js';
import type { Json } from '../../../src/federated/transport/validate.js';
import { encode, localMoments, localSchema } from '../../../src/federated/data.js';
import { parameterCount } from '../../../src/federated/model.js';
import { trainLocal } from '../../../src/federated/train.js';
import type { Dataset, ModelSpec } from '../../../src/federated/types.js';

let work: string;
let consortium: ConsortiumFiles;
/** One CSV per site, and a held-out test table. */
const shards: string[] = [];
let testCsv: string;

/**
 * y = 1 with probability σ(2·x1 − 1.5·x2 + (colour = red ? 1 : −0.5)); sites differ in the
 * distribution of x1 (non-IID shards).
 */
function syntheticCsv(rows: number, seed: number, shift: number, extraColumn = false): string {
  const rng = createRng(seed);
  const lines = [`x1,x2,colour${extraColumn ? ',x3' : ''},outcome`];
  for (let i = 0; i < rows; i++) {
    const x1 = rng.gaussian() + shift;
    const x2 = rng.gaussian();
    const colour = ['red', 'green', 'blue'][rng.nextInt(3)]!;
    const z = 2 * x1 - 1.5 * x2 + (colour === 'red' ? 1 : -0.5);
    const y = rng.next() < 1 / (1 + Math.exp(-z)) ? 'yes' : 'no';
    lines.push(`${x1.toFixed(4)},${x2.toFixed(4)},${colour}${extraColumn ? `,${rng.next().toFixed(3)}` : ''},${y}`);
  }
  return lines.join('\n') + '\n';
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'radanon-fl-coord-'));
  consortium = await createCredentials(join(work, 'credentials'), { sites: 5 });
  [-0.8, 0, 0.8].forEach((shift, i) => {
    const file = join(work, `site-${i + 1}.csv`);
    writeFileSync(file, syntheticCsv(300, 100 + i, shift));
    shards.push(file);
  });
  writeFileSync(join(work, 'other-schema.csv'), syntheticCsv(100, 200, 0, true));
  testCsv = join(work, 'test.csv');
  writeFileSync(testCsv, syntheticCsv(600, 999, 0));
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  readonly result: TrainingResult;
  readonly sites: PromiseSettledResult<SiteSummary>[];
  readonly log: string[];
}

/** A coordinator on a free port and one in-process site per shard (site-1 … site-n). */
async function federate(options: Partial<CoordinatorOptions>, data: readonly string[] = shards, siteCredentials?: readonly string[]): Promise<Run> {
  const log: string[] = [];
  let listening!: (url: string) => void;
  const url = new Promise<string>((resolve) => (listening = resolve));
  const coordinator = runCoordinator({
    port: 0,
    host: '127.0.0.1',
    credentials: consortium.dir,
    out: join(work, `model-${Math.random().toString(36).slice(2)}.json`),
    minSites: data.length,
    rounds: 3,
    epochs: 2,
    learningRate: 0.1,
    batchSize: 16,
    seed: 7,
    roundTimeoutMs: 20_000,
    enrolTimeoutMs: 20_000,
    log: (l) => log.push(l),
    onListening: ({ port }) => listening(`https://127.0.0.1:${port}`),
    ...options,
  });
  coordinator.catch(() => undefined);
  const address = await Promise.race([url, coordinator.then(() => 'never')]);
  const sites = Promise.allSettled(
    data.map((file, i) => runSite({ coordinator: address, data: file, label: 'outcome', credentials: siteCredentials?.[i] ?? consortium.sites[i]!.dir, retryForMs: 10_000 })),
  );
  const result = await coordinator;
  return { result, sites: await sites, log };
}

type Reply = { kind: string; body: Json };

/**
 * A site driven by the test: honest schema, moments and set-up from `csv`; each training round
 * handed to `onTrain` with the honest answer, to delay, alter or pass on. Returns the
 * coordinator's verdicts on its training replies.
 */
async function scriptedSite(url: string, site: number, csv: string, onTrain: (round: number, honest: () => Reply) => Promise<Reply>): Promise<string[]> {
  const client = new TransportClient({ url, tls: loadPartyCredentials(consortium.sites[site - 1]!.dir) });
  await client.hello();
  const table = parseFeatureTable(readText(csv), csv, 'outcome');
  let training: { spec: ModelSpec; data: Dataset } | undefined;
  const verdicts: string[] = [];
  try {
    for (;;) {
      const ins = await client.next();
      if (ins.kind === 'done' || ins.kind === 'stopped') return verdicts;
      let reply: Reply;
      if (ins.kind === 'schema') reply = { kind: 'schema', body: localSchemaToJson(localSchema(table)) };
      else if (ins.kind === 'moments') reply = { kind: 'moments', body: momentsToJson(localMoments(table, parseSchema(ins.body, 'moments'))) };
      else if (ins.kind === 'setup') {
        const setup = parseSetup(ins.body);
        training = { spec: setup.spec, data: encode(table, setup.schema, setup.standardisation) };
        reply = { kind: 'ready', body: { examples: training.data.n } };
      } else {
        const t = parseTrain(ins.body, parameterCount(training!.spec));
        reply = await onTrain(t.plan.round, () => ({ kind: 'update', body: updateToJson(trainLocal(training!.spec, t.parameters, training!.data, t.plan, site)) }));
      }
      const verdict = await client.reply(ins.id, reply.kind, reply.body);
      if (ins.kind === 'train') verdicts.push(verdict.accepted ? 'accepted' : verdict.reason!);
    }
  } finally {
    client.close();
  }
}

/** Starts a coordinator on a free port; resolves its URL and result. */
async function waitUntil(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function coordinatorOn(options: Partial<CoordinatorOptions>, log: string[]): Promise<{ url: string; result: Promise<TrainingResult> }> {
  let listening!: (port: number) => void;
  const port = new Promise<number>((resolve) => (listening = resolve));
  const result = runCoordinator({
    port: 0,
    host: '127.0.0.1',
    credentials: consortium.dir,
    out: join(work, `model-${Math.random().toString(36).slice(2)}.json`),
    minSites: 2,
    rounds: 2,
    roundTimeoutMs: 20_000,
    log: (l) => log.push(l),
    onListening: (a) => listening(a.port),
    ...options,
  });
  result.catch(() => undefined);
  return { url: `https://127.0.0.1:${await port}`, result };
}

function accuracyOn(result: TrainingResult, csv: string): number {
  const table = parseFeatureTable(readText(csv), csv, 'outcome');
  return evaluateModel(result.model, table).accuracy;
}

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

describe('a federated run on loopback', () => {
  let plain: Run;

  beforeAll(async () => {
    plain = await federate({});
  }, 60_000);

  it('trains FedAvg with three sites to a useful model and saves it', async () => {
    expect(plain.result.sites.sort()).toEqual(['site-1', 'site-2', 'site-3']);
    expect(plain.result.rounds).toHaveLength(3);
    for (const r of plain.result.rounds) {
      expect([...r.sites].sort()).toEqual(['site-1', 'site-2', 'site-3']);
      expect(r.dropped).toEqual([]);
      expect(r.loss).toBeGreaterThan(0);
      expect(r.bytesIn).toBeGreaterThan(0);
    }
    expect(plain.result.rounds[2]!.loss!).toBeLessThan(plain.result.rounds[0]!.loss!);
    // The Bayes-optimal accuracy of this synthetic problem is about 0.8; chance is about 0.5.
    expect(accuracyOn(plain.result, testCsv)).toBeGreaterThan(0.72);
    const saved = await loadModel(plain.log.find((l) => l.startsWith('model saved to '))!.slice('model saved to '.length));
    expect(Array.from(saved.parameters)).toEqual(Array.from(plain.result.model.parameters));
    expect(saved.strategy).toBe('fedavg');
    expect(saved.schema.positive).toBe('yes');
    expect(plain.sites.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    const summaries = plain.sites.map((s) => (s as PromiseFulfilledResult<SiteSummary>).value);
    expect(summaries.map((s) => s.rounds)).toEqual([3, 3, 3]);
    expect(summaries.every((s) => s.bytesSent > 0 && s.examples === 300)).toBe(true);
    expect(plain.log.filter((l) => /^round \d\/3: 3 sites in, 0 dropped, loss/.test(l))).toHaveLength(3);
  });

  it('is reproducible: the same seeds give the same model', async () => {
    const again = await federate({});
    expect(Array.from(again.result.model.parameters)).toEqual(Array.from(plain.result.model.parameters));
  }, 60_000);

  it("with secure aggregation, gives FedAvg's model within quantisation error, and the coordinator sees no parameters", async () => {
    const received: string[] = [];
    const secure = await federate({ secureAggregation: true, onReceive: (_site, _path, body) => received.push(body) });
    const a = plain.result.model.parameters;
    const b = secure.result.model.parameters;
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    // One quantisation step is 2·16 / (2^30 − 1) ≈ 3e-8 per value; three rounds of three sites.
    expect(worst).toBeLessThan(1e-6);
    expect(worst).toBeGreaterThan(0); // it is the secure path, not the plain one
    for (let r = 0; r < 3; r++) expect(secure.result.rounds[r]!.loss!).toBeCloseTo(plain.result.rounds[r]!.loss!, 5);
    const kinds = received.map((body) => (JSON.parse(body) as { kind?: string }).kind).filter((k) => k !== undefined);
    expect(kinds).not.toContain('update');
    expect(received.some((body) => body.includes('"parameters"'))).toBe(false);
    expect(received.filter((body) => body.includes('secagg/masked-input'))).toHaveLength(9);
  }, 60_000);
});

describe('refusals', () => {
  it('refuses a site whose feature table has other columns, and trains with the others', async () => {
    const run = await federate({ minSites: 3, rounds: 1 }, [...shards, join(work, 'other-schema.csv')]);
    expect(run.result.refused).toEqual([{ site: 'site-4', reason: expect.stringMatching(/x3 \(only at the site\)/) }]);
    expect(run.result.rounds[0]!.sites).toHaveLength(3);
    const refusedSite = run.sites[3]!;
    expect(refusedSite.status).toBe('rejected');
    expect((refusedSite as PromiseRejectedResult).reason).toBeInstanceOf(SiteRefusedError);
    expect(String((refusedSite as PromiseRejectedResult).reason.message)).toMatch(/x3 \(only at the site\)/);
    expect(run.log.some((l) => l.startsWith('refused site-4:'))).toBe(true);
  }, 60_000);

  it('when a site with other columns is among the first to connect, waits for more sites instead of failing', async () => {
    const log: string[] = [];
    const { url, result } = await coordinatorOn({ minSites: 3, rounds: 1 }, log);
    const site = (i: number, data: string) => runSite({ coordinator: url, data, label: 'outcome', credentials: consortium.sites[i]!.dir });
    const odd = site(3, join(work, 'other-schema.csv')).then(() => undefined, (e: unknown) => e);
    const first = [site(0, shards[0]!), site(1, shards[1]!)];
    // Three sites, two schemas: no three agree yet.
    await waitUntil(() => log.some((l) => /share one feature schema yet: waiting for more sites/.test(l)));
    const last = site(2, shards[2]!);
    const run = await result;
    await Promise.all([...first, last]);
    expect(run.refused).toEqual([{ site: 'site-4', reason: expect.stringMatching(/x3 \(only at the site\)/) }]);
    expect([...run.rounds[0]!.sites].sort()).toEqual(['site-1', 'site-2', 'site-3']);
    expect(await odd).toBeInstanceOf(SiteRefusedError);
  }, 60_000);

  it('refuses an out-of-range update, logs it, and the round goes on without that site', async () => {
    const log: string[] = [];
    const { url, result } = await coordinatorOn({ minSites: 2, rounds: 2 }, log);
    const honest = shards.slice(0, 2).map((file, i) => runSite({ coordinator: url, data: file, label: 'outcome', credentials: consortium.sites[i]!.dir }));
    // site-5 answers set-up honestly, then sends huge parameters.
    const hostile = scriptedSite(url, 5, shards[2]!, async () => ({ kind: 'update', body: updateToJson({ parameters: new Float64Array(6).fill(1e300), examples: 300, loss: 0.1 }) }));
    const run = await result;
    await Promise.all(honest);
    const verdicts = await hostile;
    expect(verdicts.filter((v) => /update.parameters\[0\]: magnitude 1e\+300 exceeds/.test(v))).toHaveLength(2);
    for (const r of run.rounds) {
      expect([...r.sites].sort()).toEqual(['site-1', 'site-2']);
      expect(r.dropped).toEqual([{ site: 'site-5', reason: expect.stringMatching(/reply refused: update.parameters\[0\]: magnitude/) }]);
    }
    expect(log.filter((l) => l.startsWith('refused the reply of site-5: update.parameters[0]'))).toHaveLength(2);
    expect(run.model.parameters.every((p) => Math.abs(p) < 100)).toBe(true);
  }, 60_000);

  it('refuses a site that claims more examples than it declared (a weight it does not have)', async () => {
    const log: string[] = [];
    const { url, result } = await coordinatorOn({ minSites: 2, rounds: 1 }, log);
    const honest = runSite({ coordinator: url, data: shards[0]!, label: 'outcome', credentials: consortium.sites[0]!.dir }).then(
      () => new Error('the site finished'),
      (e: unknown) => e as Error,
    );
    const inflating = scriptedSite(url, 2, shards[1]!, async (_round, answer) => {
      const reply = answer() as { kind: string; body: { examples: number } };
      return { kind: reply.kind, body: { ...reply.body, examples: 300_000 } };
    });
    await expect(result).rejects.toThrow(/round 1 failed 3 times; last: only 1 sites contributed; 2 are needed/);
    // The sites are told, and stop.
    expect((await honest).message).toMatch(/the coordinator stopped the run: round 1 failed 3 times/);
    expect((await inflating)[0]).toMatch(/update.examples: 300000 is more than the 300 the site declared at set-up/);
  }, 60_000);

  it('refuses robust strategies with secure aggregation, and DP with robust strategies, before listening', async () => {
    const base = { port: 0, credentials: consortium.dir, out: join(work, 'never.json'), minSites: 3, rounds: 1 };
    await expect(runCoordinator({ ...base, strategy: 'median', secureAggregation: true })).rejects.toThrow(/median strategy needs every site's own update, which secure aggregation hides/);
    await expect(runCoordinator({ ...base, strategy: 'krum', dp: { epsilon: 1, clipNorm: 1 } })).rejects.toThrow(/differential privacy/);
    await expect(runCoordinator({ ...base, startSites: 2 })).rejects.toThrow(/the sites to start with \(2\) cannot be fewer than the minimum per round \(3\)/);
  });
});

describe('slow and late sites', () => {
  it('drops a slow site from a round; it returns in the next', async () => {
    const log: string[] = [];
    const { url, result } = await coordinatorOn({ minSites: 2, rounds: 3, roundTimeoutMs: 2_000 }, log);
    const honest = shards.slice(0, 2).map((file, i) => runSite({ coordinator: url, data: file, label: 'outcome', credentials: consortium.sites[i]!.dir }));
    const slow = scriptedSite(url, 3, shards[2]!, async (round, answer) => {
      if (round === 1) await new Promise((r) => setTimeout(r, 2_600));
      return answer();
    });
    const run = await result;
    await Promise.all(honest);
    const verdicts = await slow;
    expect(run.rounds[0]!.sites.sort()).toEqual(['site-1', 'site-2']);
    expect(run.rounds[0]!.dropped).toEqual([{ site: 'site-3', reason: 'no reply within 2.0 s' }]);
    expect(run.rounds[1]!.sites.sort()).toEqual(['site-1', 'site-2', 'site-3']);
    expect(run.rounds[2]!.sites.sort()).toEqual(['site-1', 'site-2', 'site-3']);
    expect(verdicts[0]).toMatch(/no longer open/);
    expect(verdicts.slice(1)).toEqual(['accepted', 'accepted']);
  }, 60_000);

  it('admits a site that connects after training started, at the next round', async () => {
    const log: string[] = [];
    const { url, result } = await coordinatorOn({ minSites: 2, rounds: 6 }, log);
    let late: Promise<SiteSummary> | undefined;
    const honest = runSite({ coordinator: url, data: shards[0]!, label: 'outcome', credentials: consortium.sites[0]!.dir });
    // site-2 takes its time over every round, so that rounds last long enough to join.
    const steady = scriptedSite(url, 2, shards[1]!, async (round, answer) => {
      if (round === 1) late = runSite({ coordinator: url, data: shards[2]!, label: 'outcome', credentials: consortium.sites[2]!.dir });
      await new Promise((r) => setTimeout(r, 300));
      return answer();
    });
    const run = await result;
    await Promise.all([honest, steady]);
    const lateSummary = await late!;
    expect(run.rounds[0]!.sites.sort()).toEqual(['site-1', 'site-2']);
    expect(run.rounds[5]!.sites.sort()).toEqual(['site-1', 'site-2', 'site-3']);
    const joined = run.rounds.findIndex((r) => r.sites.includes('site-3'));
    expect(joined).toBeGreaterThanOrEqual(1);
    expect(lateSummary.rounds).toBe(6 - joined);
    expect(log).toContain('site-3 joins');
  }, 60_000);

  it('with startSites, waits for that many sites before the first round, though a round may finish with minSites', async () => {
    const { url, result } = await coordinatorOn({ minSites: 2, startSites: 3, rounds: 2 }, []);
    const early = [0, 1].map((i) => runSite({ coordinator: url, data: shards[i]!, label: 'outcome', credentials: consortium.sites[i]!.dir }));
    // The third site connects well after the first two: without startSites, round 1 would run without it.
    await new Promise((r) => setTimeout(r, 1_500));
    const last = runSite({ coordinator: url, data: shards[2]!, label: 'outcome', credentials: consortium.sites[2]!.dir });
    const run = await result;
    await Promise.all([...early, last]);
    expect(run.rounds.map((r) => r.sites.sort())).toEqual([
      ['site-1', 'site-2', 'site-3'],
      ['site-1', 'site-2', 'site-3'],
    ]);
  }, 60_000);
});

describe('differential privacy', () => {
  it('reports ε after every round, growing to the target, and records it in the model', async () => {
    const run = await federate({ dp: { epsilon: 4, delta: 1e-5, clipNorm: 0.5 }, rounds: 3 });
    const eps = run.result.rounds.map((r) => r.epsilon!);
    expect(eps).toHaveLength(3);
    expect(eps[0]!).toBeGreaterThan(0);
    expect(eps[1]!).toBeGreaterThan(eps[0]!);
    expect(eps[2]!).toBeGreaterThan(eps[1]!);
    expect(eps[2]!).toBeLessThanOrEqual(4 + 1e-9);
    expect(eps[2]!).toBeGreaterThan(3); // the noise is the least that meets the target, not more
    expect(run.result.model.dp).toEqual({ epsilon: eps[2], delta: 1e-5 });
    expect(run.result.rounds.every((r) => r.loss === undefined)).toBe(true);
    expect(run.log.filter((l) => /^round \d\/3: 3 sites in, 0 dropped, ε \d/.test(l))).toHaveLength(3);
  }, 60_000);

  it('with secure aggregation: clipped updates are summed masked, the noise added to the sum, ε reported', async () => {
    const received: string[] = [];
    const run = await federate({ secureAggregation: true, dp: { epsilon: 4, clipNorm: 0.5 }, rounds: 2, onReceive: (_s, _p, body) => received.push(body) });
    const eps = run.result.rounds.map((r) => r.epsilon!);
    expect(eps[0]!).toBeGreaterThan(0);
    expect(eps[1]!).toBeGreaterThan(eps[0]!);
    expect(run.result.rounds.every((r) => r.sites.length === 3 && r.loss === undefined)).toBe(true);
    expect(received.filter((b) => b.includes('secagg/masked-input'))).toHaveLength(6);
    expect(received.some((b) => b.includes('"parameters"'))).toBe(false);
    expect(run.result.model.dp?.epsilon).toBe(eps[1]);
  }, 60_000);

  it('refuses to run a round when fewer sites remain than the guarantee needs', async () => {
    await expect(federate({ minSites: 2, dp: { epsilon: 4, clipNorm: 0.5, minSites: 3, totalSites: 3 }, roundTimeoutMs: 1_000 }, shards.slice(0, 2))).rejects.toThrow(
      /differential privacy needs at least 3 participating sites per round, only 2 remain/,
    );
  }, 60_000);
});
