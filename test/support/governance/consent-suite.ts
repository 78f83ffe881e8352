/** The consent registry and consent waivers on either backend. */
import { afterAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../../src/governance/actor.js';
import { AUDIT_SCHEMA, readAudit, verifyAudit } from '../../../src/governance/audit.js';
import {
  CONSENT_SCHEMA,
  consentEventsOf,
  consentStatus,
  consentStatuses,
  listConsent,
  readConsentStatus,
  recordConsentEvent,
  type ConsentEventInput,
} from '../../../src/governance/consent.js';
import type { Db } from '../../../src/governance/db.js';
import { GovernanceError } from '../../../src/governance/errors.js';
import { migrate } from '../../../src/governance/store.js';
import { listWaivers, recordWaiver, revokeWaiver, WAIVER_CRITERION_IDS, WAIVERS_SCHEMA, waiverCovers, type WaiverInput } from '../../../src/governance/waivers.js';
import type { Backend } from './backends.js';
import { codeOf } from './refusals.js';

const CURATOR: Actor = { id: 'u-cur', name: 'curator-a', roles: ['curator'], sites: ['site-a'], projects: ['p-1'] };
const OTHER_CURATOR: Actor = { id: 'u-cur-b', name: 'curator-b', roles: ['curator'], sites: ['site-b'], projects: [] };
const DPO: Actor = { id: 'u-dpo', name: 'dpo', roles: ['dpo'], sites: ['*'], projects: ['*'] };
const RESEARCHER: Actor = { id: 'u-res', name: 'res', roles: ['researcher'], sites: [], projects: ['p-1'] };
const NOW = new Date('2026-06-01T12:00:00Z');
const HMB_PROJECT = { projectId: 'p-1', purposeCodes: ['HMB'] };

export function waiverInput(overrides: Partial<WaiverInput> = {}): WaiverInput {
  const criteria = Object.fromEntries(WAIVER_CRITERION_IDS.map((id) => [id, { met: true, justification: `the committee's finding for ${id}` }]));
  return { projectId: 'p-1', committee: 'Ethics Committee of Site A', reference: 'EC-2026-017', granted: '2026-01-10', expires: '2027-01-10', criteria, ...overrides };
}

export function consentSuite(backend: Backend): void {
  afterAll(() => backend.cleanup());

  async function fresh(): Promise<Db> {
    const db = await backend.open();
    await migrate(db, [AUDIT_SCHEMA, CONSENT_SCHEMA, WAIVERS_SCHEMA]);
    return db;
  }
  const record = (db: Db, input: Omit<ConsentEventInput, 'site'> & { site?: string }) => recordConsentEvent(db, CURATOR, { site: 'site-a', ...input } as ConsentEventInput, { now: NOW });
  const at = (iso: string) => new Date(iso);

  describe(`consent on ${backend.name}`, () => {
    it('decides by broad consent, and a later withdrawal from the project applies to every release after it', async () => {
      const db = await fresh();
      await record(db, { researchId: 'RAD-0000000001', kind: 'broad', codes: ['GRU'], at: '2026-01-01' });
      await record(db, { researchId: 'RAD-0000000001', kind: 'withdraw', projectId: 'p-1', at: '2026-03-01T09:00:00Z' });
      const before = await consentStatus(db, 'RAD-0000000001', { ...HMB_PROJECT, at: at('2026-02-28T00:00:00Z') });
      expect(before).toMatchObject({ permitted: true, basis: 'broad' });
      expect(before.reason).toMatch(/broad consent of 2026-01-01/);
      const after = await consentStatus(db, 'RAD-0000000001', { ...HMB_PROJECT, at: at('2026-03-01T09:00:00Z') });
      expect(after).toMatchObject({ permitted: false, basis: 'withdrawn', reason: 'not permitted: withdrawal from this project of 2026-03-01' });
      // Another project is not affected.
      expect(await consentStatus(db, 'RAD-0000000001', { projectId: 'p-2', purposeCodes: ['HMB'], at: NOW })).toMatchObject({ permitted: true, basis: 'broad' });
    });

    it('lets the withdrawal win over a grant at the same instant, and a later grant win over the withdrawal', async () => {
      const db = await fresh();
      const id = 'RAD-0000000002';
      await record(db, { researchId: id, kind: 'withdraw', projectId: 'p-1', at: '2026-02-01T10:00:00Z' });
      await record(db, { researchId: id, kind: 'grant', projectId: 'p-1', at: '2026-02-01T10:00:00Z' });
      expect(await consentStatus(db, id, { ...HMB_PROJECT, at: at('2026-02-02') })).toMatchObject({ permitted: false, basis: 'withdrawn' });
      await record(db, { researchId: id, kind: 'grant', projectId: 'p-1', at: '2026-02-03T00:00:00Z' });
      expect(await consentStatus(db, id, { ...HMB_PROJECT, at: at('2026-02-04') })).toMatchObject({ permitted: true, basis: 'dynamic' });
      expect(await consentStatus(db, id, { ...HMB_PROJECT, at: at('2026-02-02') })).toMatchObject({ permitted: false, basis: 'withdrawn' });
    });

    it('applies purpose grants and withdrawals to the projects whose uses they cover', async () => {
      const db = await fresh();
      const id = 'RAD-0000000003';
      await record(db, { researchId: id, kind: 'grant', purpose: 'HMB', at: '2026-01-01' });
      expect(await consentStatus(db, id, { projectId: 'p-9', purposeCodes: ['DS(MONDO:0005015)'], at: NOW })).toMatchObject({ permitted: true, basis: 'dynamic' });
      expect(await consentStatus(db, id, { projectId: 'p-9', purposeCodes: ['POA'], at: NOW })).toMatchObject({ permitted: false, basis: 'none' });
      await record(db, { researchId: id, kind: 'withdraw', purpose: 'GRU', at: '2026-02-01' });
      expect(await consentStatus(db, id, { projectId: 'p-9', purposeCodes: ['HMB'], at: NOW })).toMatchObject({ permitted: false, basis: 'withdrawn' });
    });

    it('reads a refusal, a later broad consent, and a withdrawal from all use', async () => {
      const db = await fresh();
      const id = 'RAD-0000000004';
      await record(db, { researchId: id, kind: 'refuse', at: '2026-01-01' });
      expect(await consentStatus(db, id, { ...HMB_PROJECT, at: NOW })).toMatchObject({ permitted: false, basis: 'refused' });
      await record(db, { researchId: id, kind: 'broad', codes: ['HMB', 'NCU'], at: '2026-02-01' });
      expect(await consentStatus(db, id, { ...HMB_PROJECT, at: NOW })).toMatchObject({ permitted: false, basis: 'broad', reason: expect.stringMatching(/NCU/) });
      expect(await consentStatus(db, id, { projectId: 'p-1', purposeCodes: ['HMB', 'NCU'], at: NOW })).toMatchObject({ permitted: true, basis: 'broad' });
      await record(db, { researchId: id, kind: 'withdraw', at: '2026-03-01' });
      expect(await consentStatus(db, id, { projectId: 'p-1', purposeCodes: ['HMB', 'NCU'], at: NOW })).toMatchObject({
        permitted: false,
        basis: 'withdrawn',
        reason: 'not permitted: withdrawal from all use of 2026-03-01',
      });
      // A project grant from before the broad consent is not cancelled by a broad consent that does not cover it.
      const id2 = 'RAD-0000000005';
      await record(db, { researchId: id2, kind: 'grant', projectId: 'p-7', at: '2026-01-01' });
      await record(db, { researchId: id2, kind: 'broad', codes: ['DS(MONDO:0005015)'], at: '2026-02-01' });
      expect(await consentStatus(db, id2, { projectId: 'p-7', purposeCodes: ['POA'], at: NOW })).toMatchObject({ permitted: true, basis: 'dynamic' });
    });

    it('says none for an unknown subject and decides many subjects at once', async () => {
      const db = await fresh();
      expect(await consentStatus(db, 'RAD-UNKNOWN0001', { ...HMB_PROJECT, at: NOW })).toEqual({ permitted: false, basis: 'none', reason: 'no consent is recorded for this purpose' });
      await record(db, { researchId: 'RAD-A01', kind: 'broad', codes: ['HMB'], at: '2026-01-01' });
      await record(db, { researchId: 'RAD-A02', kind: 'refuse', at: '2026-01-01' });
      const map = await consentStatuses(db, ['RAD-A01', 'RAD-A02', 'RAD-A03'], { ...HMB_PROJECT, at: NOW });
      expect([...map.entries()].map(([k, v]) => [k, v.permitted, v.basis])).toEqual([
        ['RAD-A01', true, 'broad'],
        ['RAD-A02', false, 'refused'],
        ['RAD-A03', false, 'none'],
      ]);
    });

    it('validates events, naming the field, and writes nothing for a bad one', async () => {
      const db = await fresh();
      const cases: [Partial<ConsentEventInput>, RegExp][] = [
        [{ researchId: 'John Smith', kind: 'broad', codes: ['GRU'] }, /^researchId:/],
        [{ researchId: 'jane@example.org', kind: 'broad', codes: ['GRU'] }, /^researchId:/],
        [{ researchId: 'SMITH^JOHN', kind: 'broad', codes: ['GRU'] }, /^researchId:/],
        [{ researchId: 'RAD-0000000009', kind: 'maybe' as never }, /^kind:/],
        [{ researchId: 'RAD-0000000009', kind: 'broad' }, /^codes:/],
        [{ researchId: 'RAD-0000000009', kind: 'broad', codes: ['GRU', 'XYZ'] }, /^codes\[1\]:/],
        [{ researchId: 'RAD-0000000009', kind: 'broad', codes: ['NCU'] }, /^codes: name at least one permitted use/],
        [{ researchId: 'RAD-0000000009', kind: 'grant' }, /^projectId: a grant names/],
        [{ researchId: 'RAD-0000000009', kind: 'grant', purpose: 'NCU' }, /^purpose: .* is a condition/],
        [{ researchId: 'RAD-0000000009', kind: 'grant', purpose: 'HMB', projectId: 'p-1' }, /^purpose: give a project or a purpose/],
        [{ researchId: 'RAD-0000000009', kind: 'refuse', projectId: 'p-1' }, /^projectId: a refusal/],
        [{ researchId: 'RAD-0000000009', kind: 'broad', codes: ['GRU'], at: '2026-13-01' }, /^at:/],
        [{ researchId: 'RAD-0000000009', kind: 'broad', codes: ['GRU'], at: '2026-06-02' }, /^at: lies in the future/],
      ];
      for (const [input, message] of cases) {
        const error = await record(db, input as ConsentEventInput).catch((e: unknown) => e);
        expect(error, JSON.stringify(input)).toBeInstanceOf(GovernanceError);
        expect((error as GovernanceError).code).toBe('invalid');
        expect((error as Error).message).toMatch(message);
        expect((error as Error).message).not.toContain('John Smith');
      }
      expect(await db.all('SELECT id FROM consent_events')).toEqual([]);
      const refusals = (await readAudit(db)).filter((e) => e.outcome === 'refused');
      expect(refusals).toHaveLength(cases.length);
      expect(JSON.stringify(refusals)).not.toContain('John Smith');
    });

    it('keeps curators to their sites and lets the DPO read everything', async () => {
      const db = await fresh();
      await record(db, { researchId: 'RAD-0000000010', kind: 'broad', codes: ['GRU'], at: '2026-01-01' });
      expect(await codeOf(recordConsentEvent(db, OTHER_CURATOR, { researchId: 'RAD-0000000011', site: 'site-a', kind: 'refuse' }, { now: NOW }))).toBe('forbidden');
      expect(await codeOf(recordConsentEvent(db, OTHER_CURATOR, { researchId: 'RAD-0000000010', site: 'site-b', kind: 'refuse' }, { now: NOW }))).toBe('conflict');
      expect(await codeOf(recordConsentEvent(db, RESEARCHER, { researchId: 'RAD-0000000011', site: 'site-a', kind: 'refuse' }, { now: NOW }))).toBe('forbidden');
      expect(await codeOf(recordConsentEvent(db, DPO, { researchId: 'RAD-0000000011', site: 'site-a', kind: 'refuse' }, { now: NOW }))).toBe('forbidden');
      expect(await codeOf(listConsent(db, OTHER_CURATOR, { researchId: 'RAD-0000000010' }))).toBe('not-found');
      expect(await codeOf(listConsent(db, RESEARCHER, { researchId: 'RAD-0000000010' }))).toBe('forbidden');
      const list = await listConsent(db, DPO, { researchId: 'RAD-0000000010' });
      expect(list.events.map((e) => [e.kind, e.codes, e.recordedBy])).toEqual([['broad', ['DUO:0000042'], 'u-cur']]);
      expect(await readConsentStatus(db, CURATOR, { researchId: 'RAD-0000000010', ...HMB_PROJECT, at: NOW })).toMatchObject({ permitted: true });
      expect(await db.all('SELECT research_id FROM consent_events')).toHaveLength(1);
    });

    it('loses no event under 50 concurrent writers and keeps the audit chain whole', async () => {
      const db = await fresh();
      const ids = Array.from({ length: 10 }, (_, i) => `RAD-CONC${String(i).padStart(6, '0')}`);
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          record(db, { researchId: ids[i % 10]!, kind: i % 2 === 0 ? 'grant' : 'withdraw', projectId: 'p-1', at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() }),
        ),
      );
      const rows = await db.all<{ research_id: string; n: number; maxseq: number }>('SELECT research_id, COUNT(*) AS n, MAX(seq) AS maxseq FROM consent_events GROUP BY research_id ORDER BY research_id');
      expect(rows).toEqual(ids.map((research_id) => ({ research_id, n: 5, maxseq: 5 })));
      expect(await verifyAudit(db)).toMatchObject({ ok: true, entries: 50 });
      // Subject i%10 received events at seconds i, i+10, …, i+40: grant when i is even.
      const first = await consentEventsOf(db, ids[0]!);
      expect(first.map((e) => e.kind)).toEqual(['grant', 'grant', 'grant', 'grant', 'grant']);
    });
  });

  describe(`consent waivers on ${backend.name}`, () => {
    it('records a complete waiver and refuses one with a criterion missing or unmet, naming it', async () => {
      const db = await fresh();
      const w = await recordWaiver(db, CURATOR, waiverInput(), { now: NOW });
      expect(w).toMatchObject({ projectId: 'p-1', reference: 'EC-2026-017', granted: '2026-01-10T00:00:00.000Z', expires: '2027-01-10T00:00:00.000Z' });
      expect(Object.keys(w.criteria)).toEqual(WAIVER_CRITERION_IDS);
      const missing = waiverInput();
      const partial = { ...missing.criteria } as Record<string, unknown>;
      delete partial['hipaa-164.512(i)(2)(ii)(C)'];
      await expect(recordWaiver(db, CURATOR, { ...missing, criteria: partial }, { now: NOW })).rejects.toThrow(/^criteria.hipaa-164.512\(i\)\(2\)\(ii\)\(C\): missing/);
      const unmet = { ...missing.criteria, 'common-rule-46.116(f)(3)(iii)': { met: false, justification: 'identifiable data are not needed' } };
      await expect(recordWaiver(db, CURATOR, { ...missing, criteria: unmet }, { now: NOW })).rejects.toThrow(/^criteria.common-rule-46.116\(f\)\(3\)\(iii\): not met/);
      const unjustified = { ...missing.criteria, 'common-rule-46.116(f)(3)(i)': { met: true, justification: ' ' } };
      await expect(recordWaiver(db, CURATOR, { ...missing, criteria: unjustified }, { now: NOW })).rejects.toThrow(/^criteria.common-rule-46.116\(f\)\(3\)\(i\).justification/);
      await expect(recordWaiver(db, CURATOR, waiverInput({ expires: '2025-01-01' }), { now: NOW })).rejects.toThrow(/^expires: must be after/);
      expect(await codeOf(recordWaiver(db, OTHER_CURATOR, waiverInput(), { now: NOW }))).toBe('forbidden');
      expect(await codeOf(recordWaiver(db, RESEARCHER, waiverInput(), { now: NOW }))).toBe('forbidden');
      expect((await listWaivers(db, DPO, { projectId: 'p-1' })).map((x) => x.id)).toEqual([w.id]);
    });

    it('covers subjects without consent, never one who refused, nor after expiry or revocation', async () => {
      const db = await fresh();
      expect(await waiverCovers(db, 'p-1', 'RAD-0000000020', NOW)).toEqual({ covered: false, reason: 'the project has no consent waiver' });
      const w = await recordWaiver(db, CURATOR, waiverInput(), { now: NOW });
      expect(await waiverCovers(db, 'p-1', 'RAD-0000000020', NOW)).toMatchObject({ covered: true, waiverId: w.id });
      await record(db, { researchId: 'RAD-0000000021', kind: 'refuse', at: '2025-06-01' });
      await record(db, { researchId: 'RAD-0000000021', kind: 'broad', codes: ['DS(MONDO:0004992)'], at: '2025-07-01' });
      expect(await waiverCovers(db, 'p-1', 'RAD-0000000021', NOW)).toMatchObject({ covered: false, reason: expect.stringMatching(/46.116\(f\)\(1\)/) });
      await record(db, { researchId: 'RAD-0000000022', kind: 'withdraw', projectId: 'p-1', at: '2026-02-01' });
      expect(await waiverCovers(db, 'p-1', 'RAD-0000000022', NOW)).toMatchObject({ covered: false, reason: expect.stringMatching(/withdrawal from this project/) });
      await record(db, { researchId: 'RAD-0000000023', kind: 'withdraw', purpose: 'HMB', at: '2026-02-01' });
      expect((await waiverCovers(db, 'p-1', 'RAD-0000000023', NOW)).covered).toBe(true);
      expect((await waiverCovers(db, 'p-1', 'RAD-0000000023', NOW, { purposeCodes: ['HMB'] })).covered).toBe(false);
      expect(await waiverCovers(db, 'p-1', 'RAD-0000000020', at('2027-01-10T00:00:00Z'))).toEqual({ covered: false, reason: 'the waiver EC-2026-017 expired on 2027-01-10' });
      expect((await waiverCovers(db, 'p-1', 'RAD-0000000020', at('2026-01-09T23:59:59Z'))).covered).toBe(false);
      await revokeWaiver(db, CURATOR, { waiverId: w.id }, { now: NOW });
      expect(await waiverCovers(db, 'p-1', 'RAD-0000000020', NOW)).toEqual({ covered: false, reason: 'the waiver EC-2026-017 was revoked' });
    });
  });
}
