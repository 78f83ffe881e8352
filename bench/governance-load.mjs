/**
 * Load on the governance service over loopback: N concurrent clients, each in a loop recording a
 * consent event (grant or withdraw for a project, for one of a pool of research IDs) and reading
 * the resulting decision, for a fixed time and at most a fixed number of requests. Afterwards
 * every event the service acknowledged (201, with its id) must be in the database, none twice,
 * and no request may have failed. Reports requests/s and latency percentiles per backend.
 *
 *   npm run bench:governance                      SQLite in a temporary data directory
 *   DATABASE_URL=postgres://… npm run bench:governance   and PostgreSQL as well
 *   options: --clients 50 --seconds 30 --max-requests 200000 --out notes.md
 *
 * `runLoad` is also what test/unit/server/load.test.ts runs, briefly.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Drives the load against `baseUrl` with a curator's `token` for `site`, then checks the
 * acknowledged events against `db` (the service's store).
 * @returns {Promise<{requests:number, errors:string[], events:number, lost:number, duplicated:number, seconds:number, throughput:number, p50:number, p99:number, max:number}>}
 */
export async function runLoad({ baseUrl, token, site, db, clients = 50, seconds = 30, maxRequests = 200_000, subjects = 200 }) {
  const projectId = randomUUID();
  const pool = Array.from({ length: subjects }, (_, i) => `LOAD${String(i).padStart(6, '0')}${randomUUID().slice(0, 6).toUpperCase()}`);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const latencies = [];
  const errors = [];
  const acknowledged = [];
  let issued = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();

  async function timed(label, url, init) {
    const t0 = performance.now();
    let res;
    try {
      res = await fetch(url, init);
    } catch (e) {
      errors.push(`${label}: ${e.message}`);
      return undefined;
    }
    const body = await res.text();
    latencies.push(performance.now() - t0);
    if (res.status >= 300) {
      errors.push(`${label}: ${res.status} ${body.slice(0, 200)}`);
      return undefined;
    }
    return JSON.parse(body);
  }

  async function client(n) {
    let i = 0;
    while (performance.now() < deadline && issued + 2 <= maxRequests) {
      issued += 2;
      const researchId = pool[(n * 7919 + i++) % pool.length];
      const kind = i % 3 === 0 ? 'withdraw' : 'grant';
      const event = await timed('record', `${baseUrl}/consent/events`, { method: 'POST', headers, body: JSON.stringify({ researchId, site, kind, projectId }) });
      if (event) acknowledged.push(event.id);
      const q = new URLSearchParams({ projectId, purposeCodes: 'HMB' });
      const decision = await timed('status', `${baseUrl}/consent/${researchId}/status?${q}`, { headers: { authorization: headers.authorization } });
      if (decision && typeof decision.permitted !== 'boolean') errors.push(`status: answer without a decision`);
    }
  }
  await Promise.all(Array.from({ length: clients }, (_, n) => client(n)));
  const elapsed = (performance.now() - started) / 1000;

  const stored = new Map();
  for (const row of await db.all('SELECT id FROM consent_events WHERE research_id LIKE ?', ['LOAD%'])) stored.set(row.id, (stored.get(row.id) ?? 0) + 1);
  const lost = acknowledged.filter((id) => !stored.has(id)).length;
  const duplicated = new Set(acknowledged).size !== acknowledged.length ? acknowledged.length - new Set(acknowledged).size : 0;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    events: acknowledged.length,
    stored: stored.size,
    lost,
    duplicated,
    seconds: elapsed,
    throughput: latencies.length / elapsed,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : 0,
  };
}

/** Starts the built service on loopback over `db`, with a curator to drive it. */
async function serveFor(db, dist) {
  const { migrate } = await import(`${dist}/governance/store.js`);
  const { GOVERNANCE_SCHEMA } = await import(`${dist}/governance/schema.js`);
  const { addUser } = await import(`${dist}/governance/users.js`);
  const { CONSOLE } = await import(`${dist}/governance/actor.js`);
  const { buildServer } = await import(`${dist}/server/app.js`);
  await migrate(db, GOVERNANCE_SCHEMA);
  const site = `load-${randomUUID().slice(0, 8)}`;
  const { token } = await addUser(db, CONSOLE, { name: `load-curator-${randomUUID().slice(0, 8)}`, roles: ['curator'], sites: [site] });
  const app = await buildServer({ db });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, token, site, baseUrl: `http://127.0.0.1:${app.server.address().port}` };
}

function option(args, name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}

async function main() {
  const args = process.argv.slice(2);
  const clients = Number(option(args, '--clients', '50'));
  const seconds = Number(option(args, '--seconds', '30'));
  const maxRequests = Number(option(args, '--max-requests', '200000'));
  const out = option(args, '--out', undefined);
  const dist = new URL('../dist', import.meta.url).href;
  const { openStore } = await import(`${dist}/governance/store.js`);
  const backends = [{ name: 'SQLite', open: async () => openStore({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'radanon-load-')) }) }];
  if (process.env.DATABASE_URL) backends.push({ name: 'PostgreSQL', open: async () => openStore({ url: process.env.DATABASE_URL, maxConnections: 20 }) });
  const lines = [
    `Governance service under load: ${clients} concurrent clients on loopback for ${seconds} s (at most ${maxRequests} requests), each recording a consent event and reading a consent decision in turn.`,
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}.`,
    '',
    '| backend | requests | requests/s | p50 ms | p99 ms | max ms | events acknowledged | lost | failed requests |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  let failed = false;
  for (const backend of backends) {
    const db = await backend.open();
    const { app, token, site, baseUrl } = await serveFor(db, dist);
    try {
      const r = await runLoad({ baseUrl, token, site, db, clients, seconds, maxRequests });
      lines.push(`| ${backend.name} | ${r.requests} | ${r.throughput.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | ${r.events} | ${r.lost} | ${r.errors.length} |`);
      if (r.errors.length > 0 || r.lost > 0 || r.duplicated > 0) {
        failed = true;
        process.stderr.write(`${backend.name}: ${r.errors.length} failed requests, ${r.lost} lost, ${r.duplicated} duplicated\n${r.errors.slice(0, 5).join('\n')}\n`);
      }
    } finally {
      await app.close();
      await db.close();
    }
  }
  const text = lines.join('\n') + '\n';
  process.stdout.write(text);
  if (out) fs.writeFileSync(out, text);
  if (failed) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
