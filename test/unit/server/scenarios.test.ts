/**
 * Release scenarios over HTTP on the embedded SQLite store (test/postgres/server.test.ts runs them
 * on PostgreSQL), and tampering with the audit trail in the SQLite file, found by the compiled
 * `radanon audit verify`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { CONSOLE } from '../../../src/governance/actor.js';
import { recordAuditAlone } from '../../../src/governance/audit.js';
import { GOVERNANCE_SCHEMA } from '../../../src/governance/schema.js';
import { SQLITE_FILE, migrate, openStore } from '../../../src/governance/store.js';
import { sqliteBackend } from '../../support/governance/backends.js';
import { scenarioSuite } from '../../support/server/scenario-suite.js';
import { CLI } from '../support/dicom.js';

scenarioSuite(sqliteBackend('server-scenarios'));

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function radanon(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
}

it('radanon audit verify names the one audit row altered in the SQLite file', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'radanon-tamper-'));
  dirs.push(dataDir);
  const db = await openStore({ dataDir });
  await migrate(db, GOVERNANCE_SCHEMA);
  for (let i = 0; i < 6; i++) await recordAuditAlone(db, { actor: CONSOLE, action: 'test.entry', target: `t${i}`, outcome: 'ok', details: { i } });
  await db.close();

  const intact = radanon('audit', 'verify', '--data-dir', dataDir);
  expect(intact.stderr).toBe('');
  expect(intact.status).toBe(0);
  expect(intact.stdout).toMatch(/^audit trail intact: \d+ entries, head [0-9a-f]{64}\n$/);

  const file = new Database(path.join(dataDir, SQLITE_FILE));
  const row = file.prepare("SELECT seq FROM audit_log WHERE action = 'test.entry' AND target = 't3'").get() as { seq: number };
  file.prepare('UPDATE audit_log SET outcome = ? WHERE seq = ?').run('refused', row.seq);
  file.close();

  const broken = radanon('audit', 'verify', '--data-dir', dataDir);
  expect(broken.status).toBe(1);
  expect(broken.stderr).toContain(`audit trail broken at entry ${row.seq} (altered)`);
});
