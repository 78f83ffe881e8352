/** The audit trail's behaviour on either backend: append, verify, tamper, export, concurrency. */
import { afterAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../../src/governance/actor.js';
import {
  AUDIT_SCHEMA,
  auditEntryHash,
  exportAudit,
  GENESIS_HASH,
  insertAuditRow,
  parseAuditExport,
  readAudit,
  recordAudit,
  recordAuditAlone,
  verifyAudit,
  verifyAuditEntries,
} from '../../../src/governance/audit.js';
import type { Db } from '../../../src/governance/db.js';
import { migrate } from '../../../src/governance/store.js';
import type { Backend } from './backends.js';

const ALICE: Actor = { id: 'u-alice', name: 'alice', roles: ['curator'], sites: ['site-a'], projects: [] };

export function auditSuite(backend: Backend): void {
  afterAll(() => backend.cleanup());

  async function withEntries(n: number): Promise<Db> {
    const db = await backend.open();
    await migrate(db, [AUDIT_SCHEMA]);
    for (let i = 1; i <= n; i++) {
      await recordAuditAlone(db, { actor: ALICE, action: 'consent.record', target: `RAD-${i}`, outcome: 'ok', details: { n: i, kind: 'grant' }, at: new Date(Date.UTC(2026, 0, i)) });
    }
    return db;
  }

  describe(`audit trail on ${backend.name}`, () => {
    it('chains entries from the genesis hash and verifies an untouched log', async () => {
      const db = await withEntries(5);
      const entries = await readAudit(db);
      expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
      for (let i = 1; i < entries.length; i++) expect(entries[i]!.prevHash).toBe(entries[i - 1]!.hash);
      for (const e of entries) {
        const { hash, ...body } = e;
        expect(auditEntryHash(body)).toBe(hash);
      }
      expect(entries[2]).toMatchObject({ actorId: 'u-alice', actorName: 'alice', action: 'consent.record', target: 'RAD-3', outcome: 'ok', details: { kind: 'grant', n: 3 }, at: '2026-01-03T00:00:00.000Z' });
      expect(await verifyAudit(db)).toEqual({ ok: true, entries: 5, head: entries[4]!.hash });
    });

    it('verifies an empty log', async () => {
      const db = await withEntries(0);
      expect(await verifyAudit(db)).toEqual({ ok: true, entries: 0, head: GENESIS_HASH });
    });

    it('writes the entry with the operation or not at all', async () => {
      const db = await withEntries(2);
      await expect(
        db.transaction(async (tx) => {
          await recordAudit(tx, { actor: ALICE, action: 'consent.record', target: 'RAD-X', outcome: 'ok' });
          throw new Error('the operation failed after auditing');
        }),
      ).rejects.toThrow('the operation failed');
      expect((await readAudit(db)).map((e) => e.target)).toEqual(['RAD-1', 'RAD-2']);
      expect((await verifyAudit(db)).ok).toBe(true);
    });

    it('refuses details that name a secret and malformed actions', async () => {
      const db = await withEntries(0);
      await expect(recordAudit(db, { actor: ALICE, action: 'user.add', target: '', outcome: 'ok' })).rejects.toThrow(/needs the tx of a transaction/);
      await expect(recordAuditAlone(db, { actor: ALICE, action: 'user.add', target: '', outcome: 'ok', details: { apiToken: 'x' } })).rejects.toThrow(/details.apiToken/);
      await expect(recordAuditAlone(db, { actor: ALICE, action: 'user.add', target: '', outcome: 'ok', details: { nested: { password: 'x' } } })).rejects.toThrow(/details.nested.password/);
      await expect(recordAuditAlone(db, { actor: ALICE, action: 'Add User', target: '', outcome: 'ok' })).rejects.toThrow(/area.verb/);
      expect(await readAudit(db)).toEqual([]);
    });

    it('names an entry whose content was altered', async () => {
      const db = await withEntries(5);
      await db.run("UPDATE audit_log SET target = 'RAD-999' WHERE seq = 3");
      const result = await verifyAudit(db);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.problems).toEqual([{ seq: 3, kind: 'altered', message: expect.stringMatching(/entry 3 \(consent.record\) was altered/) }]);
    });

    it('names an entry altered in its details JSON or outcome', async () => {
      const db = await withEntries(4);
      await db.run('UPDATE audit_log SET details = ? WHERE seq = 2', ['{"kind":"withdraw","n":2}']);
      const r1 = await verifyAudit(db);
      expect(!r1.ok && r1.problems[0]).toMatchObject({ seq: 2, kind: 'altered' });
      await db.run('UPDATE audit_log SET details = ? WHERE seq = 2', ['{"kind":"grant","n":2}']);
      expect((await verifyAudit(db)).ok).toBe(true);
      await db.run("UPDATE audit_log SET outcome = 'refused' WHERE seq = 4");
      const r2 = await verifyAudit(db);
      expect(!r2.ok && r2.problems[0]).toMatchObject({ seq: 4, kind: 'altered' });
    });

    it('names an entry rewritten with a recomputed hash (the next entry no longer links to it)', async () => {
      const db = await withEntries(5);
      const [e3] = await readAudit(db, { fromSeq: 3, limit: 1 });
      const forged = { ...e3!, target: 'RAD-999' };
      const { hash: _old, ...body } = forged;
      await db.run('UPDATE audit_log SET target = ?, hash = ? WHERE seq = 3', ['RAD-999', auditEntryHash(body)]);
      const result = await verifyAudit(db);
      expect(!result.ok && result.problems[0]).toMatchObject({ seq: 3, kind: 'altered', message: expect.stringMatching(/rewritten with a new hash/) });
    });

    it('names a deleted entry in the middle and at the end', async () => {
      const db = await withEntries(5);
      await db.run('DELETE FROM audit_log WHERE seq = 3');
      const middle = await verifyAudit(db);
      expect(middle).toEqual({ ok: false, entries: 4, problems: [{ seq: 3, kind: 'deleted', message: expect.stringMatching(/entry 3 is missing/) }] });

      const db2 = await withEntries(5);
      await db2.run('DELETE FROM audit_log WHERE seq >= 4');
      const tail = await verifyAudit(db2);
      expect(tail).toEqual({ ok: false, entries: 3, problems: [{ seq: 4, kind: 'deleted', message: expect.stringMatching(/entries 4–5 are missing from the end/) }] });
    });

    it('notices a deleted head record', async () => {
      const db = await withEntries(3);
      await db.run('DELETE FROM audit_head');
      const result = await verifyAudit(db);
      expect(!result.ok && result.problems[0]).toMatchObject({ seq: 3, kind: 'deleted', message: expect.stringMatching(/head was deleted/) });
    });

    it('names swapped entries as reordered', async () => {
      const db = await withEntries(5);
      await db.transaction(async (tx) => {
        await tx.run('UPDATE audit_log SET seq = -1 WHERE seq = 3');
        await tx.run('UPDATE audit_log SET seq = 3 WHERE seq = 4');
        await tx.run('UPDATE audit_log SET seq = 4 WHERE seq = -1');
      });
      const result = await verifyAudit(db);
      expect(!result.ok && result.problems).toEqual([{ seq: 3, kind: 'reordered', message: 'entry 3 was recorded as entry 4 (moved)' }]);
    });

    it('names an entry inserted into the middle, with the later entries renumbered', async () => {
      const db = await withEntries(4);
      const entries = await readAudit(db);
      await db.transaction(async (tx) => {
        for (const seq of [4, 3]) await tx.run('UPDATE audit_log SET seq = ? WHERE seq = ?', [seq + 1, seq]);
        const body = { seq: 3, at: '2026-01-02T12:00:00.000Z', actorId: 'u-mallory', actorName: 'mallory', action: 'consent.record', target: 'RAD-X', outcome: 'ok', details: {}, prevHash: entries[1]!.hash };
        await insertAuditRow(tx, { ...body, prevHash: 'f'.repeat(64) });
      });
      // The forged entry cannot take over its neighbour's prev_hash (unique), so it links nowhere.
      const result = await verifyAudit(db);
      expect(!result.ok && result.problems[0]).toMatchObject({ seq: 3, kind: 'inserted' });
    });

    it('names an entry appended behind the service’s back', async () => {
      const db = await withEntries(3);
      const entries = await readAudit(db);
      const body = { seq: 4, at: '2026-02-01T00:00:00.000Z', actorId: 'u-mallory', actorName: 'mallory', action: 'release.create', target: 'p1', outcome: 'ok', details: {}, prevHash: entries[2]!.hash };
      await insertAuditRow(db, body);
      const result = await verifyAudit(db);
      expect(!result.ok && result.problems[0]).toMatchObject({ seq: 4, kind: 'inserted' });
    });

    it('exports JSON lines that an auditor re-verifies offline, and catches tampering in the export', async () => {
      const db = await withEntries(4);
      const text = await exportAudit(db);
      const lines = text.trimEnd().split('\n');
      expect(lines).toHaveLength(4);
      const entries = parseAuditExport(text);
      expect(verifyAuditEntries(entries)).toEqual({ ok: true, entries: 4, head: entries[3]!.hash });
      const tampered = lines.map((l, i) => (i === 1 ? l.replace('RAD-2', 'RAD-7') : l)).join('\n');
      const result = verifyAuditEntries(parseAuditExport(tampered));
      expect(!result.ok && result.problems[0]).toMatchObject({ seq: 2, kind: 'altered' });
      const dropped = verifyAuditEntries(parseAuditExport(lines.filter((_, i) => i !== 2).join('\n')));
      expect(!dropped.ok && dropped.problems[0]).toMatchObject({ seq: 3, kind: 'deleted' });
      expect(() => parseAuditExport('{"seq":1}\nnot json')).toThrow(/line 1: field at/);
      expect(() => parseAuditExport('not json')).toThrow(/line 1: not JSON/);
    });

    it('keeps one chain under 50 concurrent appenders', async () => {
      const db = await withEntries(0);
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => recordAuditAlone(db, { actor: ALICE, action: 'consent.record', target: `RAD-C${i}`, outcome: 'ok', details: { i } })),
      );
      const result = await verifyAudit(db);
      expect(result).toMatchObject({ ok: true, entries: 50 });
      const targets = (await readAudit(db)).map((e) => e.target).sort();
      expect(new Set(targets).size).toBe(50);
    });
  });
}
