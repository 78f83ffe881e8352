/** A short run of bench/governance-load.mjs against a store: what the load tests assert on both backends. */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { CONSOLE } from '../../../src/governance/actor.js';
import type { Db } from '../../../src/governance/db.js';
import { GOVERNANCE_SCHEMA } from '../../../src/governance/schema.js';
import { migrate } from '../../../src/governance/store.js';
import { addUser } from '../../../src/governance/users.js';
import { buildServer } from '../../../src/server/app.js';
// @ts-expect-error: the benchmark is plain JavaScript, run by node without a build step.
import { runLoad } from '../../../bench/governance-load.mjs';

/** 20 clients for 5 s on loopback: no failed request, every acknowledged event stored once and audited. */
export async function shortLoad(db: Db): Promise<void> {
  await migrate(db, GOVERNANCE_SCHEMA);
  const site = `site-${randomUUID().slice(0, 8)}`;
  const { token } = await addUser(db, CONSOLE, { name: `load-curator-${randomUUID().slice(0, 8)}`, roles: ['curator'], sites: [site] });
  const app = await buildServer({ db });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  try {
    const r = await runLoad({ baseUrl: `http://127.0.0.1:${port}`, token, site, db, clients: 20, seconds: 5, maxRequests: 20_000, subjects: 50 });
    expect(r.errors).toEqual([]);
    expect(r.events).toBeGreaterThan(20);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBe(0);
    expect(r.stored).toBe(r.events);
    const audited = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'consent.record' AND outcome = 'ok'");
    expect(Number(audited!.n)).toBe(r.events);
  } finally {
    await app.close();
  }
}
