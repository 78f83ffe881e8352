/**
 * A short run of the load benchmark (bench/governance-load.mjs): 20 concurrent clients for 5 s on
 * loopback against SQLite. No request may fail and every acknowledged consent event must be in
 * the database, once. (test/postgres/server.test.ts runs it on PostgreSQL.)
 */
import { afterAll, it } from 'vitest';
import { sqliteBackend } from '../../support/governance/backends.js';
import { shortLoad } from '../../support/server/load.js';

const backend = sqliteBackend('server-load');
afterAll(() => backend.cleanup());

it('20 clients for 5 s: no failed request, no lost or doubled consent event', async () => {
  await shortLoad(await backend.open());
}, 60_000);
