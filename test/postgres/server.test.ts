/** The HTTP API's access matrix, release scenarios and a short load run on PostgreSQL (the same suites as the SQLite unit tests). */
import { afterAll, it } from 'vitest';
import { postgresBackend } from './support.js';
import { accessSuite } from '../support/server/access-suite.js';
import { scenarioSuite } from '../support/server/scenario-suite.js';
import { shortLoad } from '../support/server/load.js';

accessSuite(postgresBackend('server-access'));
scenarioSuite(postgresBackend('server-scenarios'));

const loadBackend = postgresBackend('server-load');
afterAll(() => loadBackend.cleanup());
it('20 clients for 5 s on PostgreSQL: no failed request, no lost or doubled consent event', async () => {
  await shortLoad(await loadBackend.open({ maxConnections: 20 }));
}, 60_000);
