/** Access control of the HTTP API on the embedded SQLite store (test/postgres/server.test.ts runs it on PostgreSQL). */
import { sqliteBackend } from '../../support/governance/backends.js';
import { accessSuite } from '../../support/server/access-suite.js';

accessSuite(sqliteBackend('server-access'));
