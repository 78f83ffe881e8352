/**
 * The governance commands as users run them (the compiled `radanon`): `users add` prints a token
 * that opens the API of `radanon serve`, which stops cleanly on SIGTERM; bad invocations exit 2;
 * `audit export` writes every entry with its hashes; a refused `release` exits 1 naming the check.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAuditExport, verifyAuditEntries } from '../../../src/governance/audit.js';
import { openStore } from '../../../src/governance/store.js';
import { seedWorld, type World } from '../../support/server/world.js';
import { CLI } from '../support/dicom.js';

function radanon(args: string[], input?: string) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, ...(input !== undefined ? { input } : {}) });
}

let work: string;
let dataDir: string;
let world: World;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'radanon-gov-cli-'));
  dataDir = path.join(work, 'data');
  const db = await openStore({ dataDir });
  world = await seedWorld(db, work);
  await db.close();
}, 60_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('radanon users, serve, audit export, release', () => {
  it('users add prints a token once; serve answers it, and stops on SIGTERM', async () => {
    const added = radanon(['users', 'add', '--name', 'cli-curator', '--role', 'curator', '--site', 'site-a', '--password-stdin', '--data-dir', dataDir], 'a password of some length\n');
    expect(added.status, added.stderr).toBe(0);
    const token = added.stdout.trim();
    expect(token).toMatch(/^rad_[A-Za-z0-9_-]{40,}$/);
    expect(added.stderr).toContain('cli-curator');
    expect(added.stderr).not.toContain(token);

    const server = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    server.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 30_000);
      server.stdout.on('data', () => {
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+) \(database: SQLite in /.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      server.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
    });
    try {
      const health = await fetch(`${url}/health`);
      expect(await health.json()).toMatchObject({ status: 'ok', database: 'sqlite' });
      const me = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ name: 'cli-curator', roles: ['curator'], sites: ['site-a'] });
      const anonymous = await fetch(`${url}/users`);
      expect(anonymous.status).toBe(401);
      const login = await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'cli-curator', password: 'a password of some length' }) });
      expect(login.status).toBe(200);
    } finally {
      const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    expect(out).toContain('radanon serve: stopped');
  }, 60_000);

  it('refuses bad invocations with status 2 and a message naming the option', () => {
    const role = radanon(['users', 'add', '--name', 'x', '--role', 'wizard', '--data-dir', dataDir]);
    expect(role.status).toBe(2);
    expect(role.stderr).toContain('--role must be one of admin, curator, researcher, dac-member, dpo, got "wizard"');
    const port = radanon(['serve', '--port', 'eighty', '--data-dir', dataDir]);
    expect(port.status).toBe(2);
    expect(port.stderr).toContain('--port must be a whole number');
    const taken = radanon(['users', 'add', '--name', 'admin-user', '--role', 'admin', '--data-dir', dataDir]);
    expect(taken.status).toBe(1);
    expect(taken.stderr).toContain('already exists');
  });

  it('acts as the holder of --token: a researcher may not add users', () => {
    const r = radanon(['users', 'add', '--name', 'sneaky', '--role', 'admin', '--token', world.tokens.researcher, '--data-dir', dataDir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('user.add needs one of the roles admin');
    const list = radanon(['users', 'list', '--data-dir', dataDir]);
    expect(list.status).toBe(0);
    expect((JSON.parse(list.stdout) as { name: string }[]).map((u) => u.name)).not.toContain('sneaky');
  });

  it('audit export writes every entry with its hashes, and the export verifies offline', () => {
    const file = path.join(work, 'audit.jsonl');
    const r = radanon(['audit', 'export', '--out', file, '--data-dir', dataDir]);
    expect(r.status, r.stderr).toBe(0);
    const entries = parseAuditExport(fs.readFileSync(file, 'utf8'));
    expect(entries.length).toBeGreaterThan(10);
    expect(verifyAuditEntries(entries).ok).toBe(true);
    const again = radanon(['audit', 'export', '--out', file, '--data-dir', dataDir]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('already exists');
  });

  it('consent import (CSV) and export (FHIR, CSV) as a curator; a bad row is named and nothing is written', () => {
    const csv = path.join(work, 'consent.csv');
    fs.writeFileSync(csv, 'research_id,site,kind,at,codes,project_id,purpose,source,reference\nRADCLI0000001,site-a,broad,2026-01-05,HMB,,,paper form,F-1\nRADCLI0000002,site-a,broad,2026-01-06,GRU,,,paper form,F-2\n');
    const asConsole = radanon(['consent', 'import', csv, '--data-dir', dataDir]);
    expect(asConsole.status).toBe(1);
    expect(asConsole.stderr).toContain('consent.import needs one of the roles curator');
    const imported = radanon(['consent', 'import', csv, '--token', world.tokens.curator, '--data-dir', dataDir]);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toBe('2 consent events of 2 subjects imported from consent.csv\n');

    const fhir = radanon(['consent', 'export', '--research-id', 'RADCLI0000002', '--token', world.tokens.curator, '--data-dir', dataDir]);
    expect(fhir.status, fhir.stderr).toBe(0);
    const bundle = JSON.parse(fhir.stdout) as { resourceType: string; entry: { resource: { resourceType: string; patient: { identifier: { value: string } } } }[] };
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.entry.map((e) => e.resource.patient.identifier.value)).toEqual(['RADCLI0000002']);
    const asCsv = radanon(['consent', 'export', '--format', 'csv', '--token', world.tokens.curator, '--data-dir', dataDir]);
    expect(asCsv.status, asCsv.stderr).toBe(0);
    expect(asCsv.stdout).toContain('RADCLI0000001');

    const bad = path.join(work, 'bad.csv');
    fs.writeFileSync(bad, 'research_id,site,kind,at,codes,project_id,purpose,source,reference\nRADCLI0000003,site-a,broad,2026-01-05,HMB,,,,\nRADCLI0000004,site-a,maybe,2026-01-05,,,,,\n');
    const refused = radanon(['consent', 'import', bad, '--token', world.tokens.curator, '--data-dir', dataDir]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/line 3/);
    expect(refused.stderr).toContain('kind');
    const after = radanon(['consent', 'export', '--format', 'csv', '--token', world.tokens.curator, '--data-dir', dataDir]);
    expect(after.stdout).not.toContain('RADCLI0000003');
  }, 120_000);

  it('a refused release exits 1, names the failed check and leaves nothing behind', () => {
    const out = path.join(work, 'release-cli');
    const r = radanon(['release', world.projectId, '--out', out, '--data-dir', dataDir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/project-approved: project .* is submitted, not approved by the DAC/);
    expect(fs.existsSync(out)).toBe(false);
  });
});
