/**
 * `radanon fl` as users run it: the compiled program in separate processes — credentials, a
 * coordinator and three sites on loopback, evaluation and attack evaluation of the model — and
 * the refusals of bad options and bad data.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../../src/federated/random.js';

const repo = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
let work: string;
/** The command line: the real `radanon` once it registers `fl`, else the compiled `fl` command alone. */
let cli: string[];

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function radanon(...args: string[]): Result {
  const r = spawnSync(process.execPath, [...cli, 'fl', ...args], { encoding: 'utf8', timeout: 120_000, cwd: work });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function radanonAsync(args: readonly string[], onStderr?: (text: string) => void): Promise<Result> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...cli, 'fl', ...args], { cwd: work });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr);
    });
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

function syntheticCsv(file: string, rows: number, seed: number, shift: number): string {
  const rng = createRng(seed);
  const lines = ['x1,x2,sex,outcome'];
  for (let i = 0; i < rows; i++) {
    const x1 = rng.gaussian() + shift;
    const x2 = rng.gaussian();
    const sex = rng.next() < 0.5 ? 'F' : 'M';
    const z = 2 * x1 - 1.5 * x2 + (sex === 'F' ? 0.8 : -0.8);
    lines.push(`${x1.toFixed(4)},${x2.toFixed(4)},${sex},${rng.next() < 1 / (1 + Math.exp(-z)) ? 'yes' : 'no'}`);
  }
  const path = join(work, file);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'radanon-cli-fl-'));
  cli = [join(repo, 'dist/cli/main.js')];
  for (const k of [1, 2, 3]) syntheticCsv(`site-${k}.csv`, 250, k, (k - 2) * 0.7);
  syntheticCsv('held-out.csv', 400, 99, 0);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('radanon fl', () => {
  it('credentials: writes the consortium folder and refuses to overwrite it', () => {
    const r = radanon('credentials', 'creds', '--sites', '3');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/site-3 +creds\/site-3/);
    expect(statSync(join(work, 'creds/site-2/key.pem')).mode & 0o777).toBe(0o600);
    const again = radanon('credentials', 'creds', '--sites', '3');
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already holds a consortium authority/);
  });

  it('serve and three sites train a model; evaluate and attack report on it as JSON', async () => {
    let url: (value: string) => void;
    const address = new Promise<string>((r) => (url = r));
    const serve = radanonAsync(
      ['serve', '--port', '0', '--host', '127.0.0.1', '--min-sites', '3', '--rounds', '3', '--credentials', 'creds', '--out', 'model.json', '--epochs', '2', '--learning-rate', '0.1', '--round-timeout', '60', '--enrol-timeout', '60'],
      (text) => {
        const m = /listening on (https:\/\/\S+)/.exec(text);
        if (m) url(m[1]!);
      },
    );
    const coordinator = await Promise.race([address, serve.then((r) => Promise.reject(new Error(`serve ended: ${r.stderr}`)))]);
    const sites = await Promise.all(
      [1, 2, 3].map((k) => radanonAsync(['site', '--coordinator', coordinator, '--data', `site-${k}.csv`, '--label', 'outcome', '--credentials', `creds/site-${k}`])),
    );
    const served = await serve;
    expect(served.code, served.stderr).toBe(0);
    const summary = JSON.parse(served.stdout) as { sites: string[]; rounds: { round: number; sites: string[]; loss: number }[] };
    expect(summary.sites.sort()).toEqual(['site-1', 'site-2', 'site-3']);
    expect(summary.rounds.map((r) => r.sites.length)).toEqual([3, 3, 3]);
    expect(served.stderr).toMatch(/round 3\/3: 3 sites in, 0 dropped, loss 0\.\d+/);
    for (const s of sites) {
      expect(s.code, s.stderr).toBe(0);
      expect(JSON.parse(s.stdout)).toMatchObject({ rounds: 3, examples: 250 });
      // The site's log never holds a data row.
      expect(s.stderr).not.toMatch(/\d\.\d{4},/);
    }

    const evaluation = radanon('evaluate', 'model.json', '--data', 'held-out.csv', '--label', 'outcome');
    expect(evaluation.code, evaluation.stderr).toBe(0);
    const figures = JSON.parse(evaluation.stdout) as { accuracy: number; rocAuc: number; n: number };
    expect(figures.n).toBe(400);
    expect(figures.accuracy).toBeGreaterThan(0.7);
    expect(figures.rocAuc).toBeGreaterThan(0.8);

    const attack = radanon('attack', 'model.json', '--members', 'site-1.csv', '--non-members', 'held-out.csv', '--label', 'outcome', '--shadow-models', '4', '--shadow-epochs', '2', '--sensitive', 'sex');
    expect(attack.code, attack.stderr).toBe(0);
    const report = JSON.parse(attack.stdout) as {
      lossThreshold: { auc: number; tprAt0_1pctFpr?: number };
      lira: { online: { auc: number }; shadowModels: number };
      attributeInference: { column: string; advantage: number };
    };
    expect(report.lossThreshold.auc).toBeGreaterThan(0.3);
    expect(report.lossThreshold.auc).toBeLessThan(0.7); // five parameters cannot memorise 750 rows
    expect(report.lira.shadowModels).toBe(4);
    expect(report.attributeInference.column).toBe('sex');
  }, 180_000);

  it('refuses bad options with status 2 and a reason', () => {
    const bad = radanon('serve', '--port', '0', '--min-sites', '3', '--rounds', '2', '--credentials', 'creds', '--out', 'm.json', '--strategy', 'fedsgd');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--strategy must be one of fedavg, fedprox, fedadam, median, trimmed-mean, krum, got "fedsgd"/);
    const clipAlone = radanon('serve', '--port', '0', '--min-sites', '3', '--rounds', '2', '--credentials', 'creds', '--out', 'm.json', '--clip', '2');
    expect(clipAlone.code).toBe(2);
    expect(clipAlone.stderr).toMatch(/give --dp-epsilon too/);
    const missing = radanon('serve', '--port', '0');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option/);
    const robustSecure = radanon('serve', '--port', '0', '--min-sites', '3', '--rounds', '2', '--credentials', 'creds', '--out', 'm.json', '--strategy', 'krum', '--secure-aggregation');
    expect(robustSecure.code).not.toBe(0);
    expect(robustSecure.stderr).toMatch(/krum strategy needs every site's own update, which secure aggregation hides/);
  });

  it('a site refuses bad data before connecting, naming the file and line', () => {
    writeFileSync(join(work, 'nan.csv'), 'x1,x2,sex,outcome\n1.0,2.0,F,yes\nNaN,1.0,M,no\n');
    const nan = radanon('site', '--coordinator', 'https://127.0.0.1:9', '--data', 'nan.csv', '--label', 'outcome', '--credentials', 'creds/site-1');
    expect(nan.code).not.toBe(0);
    expect(nan.stderr).toMatch(/nan\.csv:3: column "x1" is numeric but holds "NaN"/);
    writeFileSync(join(work, 'one-class.csv'), 'x1,x2,sex,outcome\n1.0,2.0,F,yes\n0.5,1.0,M,yes\n');
    const oneClass = radanon('site', '--coordinator', 'https://127.0.0.1:9', '--data', 'one-class.csv', '--label', 'outcome', '--credentials', 'creds/site-1');
    expect(oneClass.code).not.toBe(0);
    expect(oneClass.stderr).toMatch(/one-class\.csv: the label "outcome" has only one class/);
  });
});
