/**
 * The PostgreSQL side of the governance tests: each test file works in schemas of its own (set as
 * the connections' search_path), so suites that share the one test database never see each
 * other's rows. Needs RADANON_TEST_DATABASE_URL (.ci/run starts a server and sets it).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../../src/governance/db.js';
import { openStore } from '../../src/governance/store.js';
import { allRowsText, type Backend } from '../support/governance/backends.js';

export function testDatabaseUrl(): string {
  const url = process.env.RADANON_TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      'RADANON_TEST_DATABASE_URL is not set: the postgres tests need a PostgreSQL database they may write to, e.g. postgres://radanon:radanon@127.0.0.1:5432/radanon (.ci/run starts one)',
    );
  }
  return url;
}

/**
 * Schemas for one test file: `open()` creates a new empty schema named after the file and returns
 * a store working in it; `dropAll()` (in afterAll) closes those stores and drops the schemas.
 */
export function pgSchemas(fileLabel: string): { open(options?: { maxConnections?: number }): Promise<Db>; dropAll(): Promise<void> } {
  const label = fileLabel.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 30);
  const created: { schema: string; db: Db }[] = [];
  return {
    async open(options = {}) {
      const url = testDatabaseUrl();
      const schema = `t_${label}_${randomBytes(4).toString('hex')}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`CREATE SCHEMA ${schema}`);
      } finally {
        await admin.end();
      }
      const db = await openStore({ url, schema, maxConnections: options.maxConnections ?? 10 });
      created.push({ schema, db });
      return db;
    },
    async dropAll() {
      const admin = new pg.Client({ connectionString: testDatabaseUrl() });
      await admin.connect();
      try {
        for (const { schema, db } of created.splice(0)) {
          await db.close();
          await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        }
      } finally {
        await admin.end();
      }
    },
  };
}

/** The PostgreSQL backend of the governance behaviour suites. */
export function postgresBackend(fileLabel: string): Backend {
  const schemas = pgSchemas(fileLabel);
  return { name: 'postgres', open: (options) => schemas.open(options), cleanup: () => schemas.dropAll(), storedText: (db) => allRowsText(db) };
}
