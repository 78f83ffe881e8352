/** Consent import and export: CSV and FHIR R4, on either backend. */
import { afterAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../../src/governance/actor.js';
import { AUDIT_SCHEMA, readAudit } from '../../../src/governance/audit.js';
import { CONSENT_SCHEMA, consentEventsOf, consentStatus, type ConsentEvent } from '../../../src/governance/consent.js';
import { exportConsentCsv, importConsentCsv } from '../../../src/governance/consent-csv.js';
import type { Db } from '../../../src/governance/db.js';
import { GovernanceError } from '../../../src/governance/errors.js';
import { consentToFhir, exportConsentFhir, importConsentFhir, RESEARCH_ID_SYSTEM } from '../../../src/governance/fhir.js';
import { migrate } from '../../../src/governance/store.js';
import type { Backend } from './backends.js';

const CURATOR: Actor = { id: 'u-cur', name: 'curator-a', roles: ['curator'], sites: ['site-a', 'site-b'], projects: [] };
const NOW = new Date('2026-06-01T12:00:00Z');

const CSV = [
  'research_id,site,kind,at,codes,project_id,purpose,source,reference',
  'RAD-0000000101,site-a,broad,2026-01-05,"GRU;NCU;GS(DE,FR)",,,paper form,F-101',
  'RAD-0000000101,site-a,withdraw,2026-03-01T09:30:00Z,,p-1,,,',
  'RAD-0000000102,site-a,refuse,2026-01-06,,,,,',
  'RAD-0000000103,site-b,grant,2026-02-01,,,DS(MONDO:0005015),,',
  'RAD-0000000103,site-b,withdraw,2026-04-01,,,,,',
  '',
].join('\n');

const comparable = (events: readonly ConsentEvent[]) => events.map((e) => ({ researchId: e.researchId, site: e.site, kind: e.kind, codes: e.codes, projectId: e.projectId, purpose: e.purpose, at: e.at }));

async function invalidMessage(p: Promise<unknown>): Promise<{ message: string; details: readonly { check: string; reason: string }[] }> {
  const e = await p.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(GovernanceError);
  expect((e as GovernanceError).code).toBe('invalid');
  return { message: (e as GovernanceError).message, details: (e as GovernanceError).details ?? [] };
}

export function interchangeSuite(backend: Backend): void {
  afterAll(() => backend.cleanup());

  async function fresh(): Promise<Db> {
    const db = await backend.open();
    await migrate(db, [AUDIT_SCHEMA, CONSENT_SCHEMA]);
    return db;
  }

  async function allEvents(db: Db): Promise<ConsentEvent[]> {
    const out: ConsentEvent[] = [];
    for (const id of ['RAD-0000000101', 'RAD-0000000102', 'RAD-0000000103']) out.push(...(await consentEventsOf(db, id)));
    return out;
  }

  describe(`consent CSV on ${backend.name}`, () => {
    it('imports a file in one transaction, and its export imports to the same events', async () => {
      const db = await fresh();
      expect(await importConsentCsv(db, CURATOR, { csv: CSV }, { now: NOW })).toEqual({ events: 5, subjects: 3 });
      const events = await allEvents(db);
      expect(events[0]).toMatchObject({ kind: 'broad', codes: ['DUO:0000042', 'DUO:0000046', 'DUO:0000022(DE,FR)'], at: '2026-01-05T00:00:00.000Z', source: 'paper form', reference: 'F-101' });
      expect(await consentStatus(db, 'RAD-0000000101', { projectId: 'p-2', purposeCodes: ['HMB', 'NCU'], country: 'FR', at: NOW })).toMatchObject({ permitted: true });
      expect(await consentStatus(db, 'RAD-0000000101', { projectId: 'p-1', purposeCodes: ['HMB', 'NCU'], country: 'FR', at: NOW })).toMatchObject({ permitted: false, basis: 'withdrawn' });
      const exported = await exportConsentCsv(db, CURATOR, {}, { now: NOW });
      const db2 = await fresh();
      await importConsentCsv(db2, CURATOR, { csv: exported }, { now: NOW });
      expect(comparable(await allEvents(db2))).toEqual(comparable(events));
      expect(await exportConsentCsv(db2, CURATOR, {}, { now: NOW })).toBe(exported);
      const audit = await readAudit(db);
      expect(audit.map((e) => [e.action, e.details.events])).toEqual([['consent.import', 5]]);
    });

    it('refuses a file with bad rows, naming each line and field, and records nothing', async () => {
      const db = await fresh();
      const csv = [
        'research_id,site,kind,at,codes,project_id,purpose',
        'RAD-0000000201,site-a,broad,2026-01-05,GRU,,',
        'Jane Doe,site-a,broad,2026-01-05,GRU,,',
        'RAD-0000000202,site-a,broad,2026-01-05,GRU;HMBX,,',
        'RAD-0000000203,site-a,grant,2026-01-05,,p-1,HMB',
        'RAD-0000000204,site-a,broad,,GRU,,',
        'RAD-0000000205,site-a,broad',
      ].join('\n');
      const { message, details } = await invalidMessage(importConsentCsv(db, CURATOR, { csv }, { now: NOW }));
      expect(message).toMatch(/^consent CSV: 5 bad row\(s\); first: line 3, research_id: /);
      expect(message).not.toContain('Jane Doe');
      expect(details.map((d) => d.check)).toEqual(['line 3, research_id', 'line 4, codes[1]', 'line 5, purpose', 'line 6, at', 'line 7']);
      expect(await db.all('SELECT id FROM consent_events')).toEqual([]);
    });

    it('refuses unknown columns, a missing required column and an empty file', async () => {
      const db = await fresh();
      expect((await invalidMessage(importConsentCsv(db, CURATOR, { csv: 'research_id,site,kind,at,patient_name\n' }, { now: NOW }))).message).toMatch(/column 5: "patient_name" is not a consent column/);
      expect((await invalidMessage(importConsentCsv(db, CURATOR, { csv: 'research_id,site,kind\nRAD-0000000201,site-a,refuse\n' }, { now: NOW }))).message).toMatch(/lacks the column at/);
      expect((await invalidMessage(importConsentCsv(db, CURATOR, { csv: '' }, { now: NOW }))).message).toMatch(/empty/);
      expect((await invalidMessage(importConsentCsv(db, CURATOR, { csv: 'research_id,site,kind,at\n' }, { now: NOW }))).message).toMatch(/no rows/);
      expect((await invalidMessage(importConsentCsv(db, CURATOR, { csv: 'research_id,site,kind,at\n"RAD-1,site-a,refuse,2026-01-01\n' }, { now: NOW }))).message).toMatch(/^file: /);
    });

    it('refuses rows of sites outside the curator’s scope', async () => {
      const db = await fresh();
      const other: Actor = { ...CURATOR, sites: ['site-a'] };
      const e = await importConsentCsv(db, other, { csv: CSV }, { now: NOW }).catch((x: unknown) => x);
      expect((e as GovernanceError).code).toBe('forbidden');
      expect(await db.all('SELECT id FROM consent_events')).toEqual([]);
    });
  });

  describe(`consent FHIR R4 on ${backend.name}`, () => {
    it('exports Consent resources that import to the same events', async () => {
      const db = await fresh();
      await importConsentCsv(db, CURATOR, { csv: CSV }, { now: NOW });
      const bundle = await exportConsentFhir(db, CURATOR, {}, { now: NOW });
      expect(bundle.entry).toHaveLength(5);
      const broad = bundle.entry[0]!.resource;
      expect(broad).toMatchObject({
        resourceType: 'Consent',
        status: 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }] },
        patient: { identifier: { system: RESEARCH_ID_SYSTEM, value: 'RAD-0000000101' } },
        dateTime: '2026-01-05T00:00:00.000Z',
        provision: { type: 'permit', period: { start: '2026-01-05T00:00:00.000Z' } },
      });
      expect((broad.provision.code as { coding: { system: string; code: string }[] }[]).map((c) => c.coding[0]!.code)).toEqual(['DUO:0000042', 'DUO:0000046', 'DUO:0000022']);
      expect(bundle.entry[2]!.resource).toMatchObject({ status: 'rejected', provision: { type: 'deny' } });
      expect(bundle.entry[3]!.resource.provision).toMatchObject({ type: 'permit', purpose: [{ system: 'http://purl.obolibrary.org/obo/duo.owl', code: 'DUO:0000007', extension: [{ valueString: 'MONDO:0005015' }] }] });
      const db2 = await fresh();
      expect(await importConsentFhir(db2, CURATOR, { resource: JSON.parse(JSON.stringify(bundle)) }, { now: NOW })).toEqual({ events: 5, subjects: 3 });
      expect(comparable(await allEvents(db2))).toEqual(comparable(await allEvents(db)));
      const again = await exportConsentFhir(db2, CURATOR, {}, { now: NOW });
      const strip = (b: typeof bundle) => b.entry.map((e) => ({ ...e.resource, id: undefined, identifier: undefined }));
      expect(strip(again)).toEqual(strip(bundle));
    });

    it('accepts DUO IRIs as codes and a Consent without a site when the import names one', async () => {
      const db = await fresh();
      const resource = {
        resourceType: 'Consent',
        status: 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }] },
        category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
        patient: { identifier: { system: RESEARCH_ID_SYSTEM, value: 'RAD-0000000301' } },
        dateTime: '2026-02-01T08:00:00Z',
        policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
        provision: { type: 'permit', code: [{ coding: [{ system: 'http://purl.obolibrary.org/obo/', code: 'http://purl.obolibrary.org/obo/DUO_0000006' }] }] },
      };
      await importConsentFhir(db, CURATOR, { resource, site: 'site-a' }, { now: NOW });
      const [event] = await consentEventsOf(db, 'RAD-0000000301');
      expect(event).toMatchObject({ kind: 'broad', codes: ['DUO:0000006'], site: 'site-a', source: 'fhir' });
      expect(consentToFhir(event!).provision).toMatchObject({ code: [{ coding: [{ code: 'DUO:0000006', display: 'health or medical or biomedical research' }] }] });
    });

    it('refuses invalid Consents, naming the path, and records nothing of the bundle', async () => {
      const db = await fresh();
      await importConsentCsv(db, CURATOR, { csv: CSV }, { now: NOW });
      const good = (await exportConsentFhir(db, CURATOR, {}, { now: NOW })).entry[0]!.resource;
      const db2 = await fresh();
      const variants: [(c: Record<string, any>) => void, RegExp][] = [
        [(c) => (c.status = 'draft'), /^Bundle.entry\[1\].resource.status: "draft" is not imported/],
        [(c) => (c.patient = { reference: 'Patient/123' }), /^Bundle.entry\[1\].resource.patient.reference: consent is keyed by research ID/],
        [(c) => (c.patient.identifier.system = 'http://hospital.example/mrn'), /patient.identifier.system: must be the research-ID system/],
        [(c) => (c.patient.identifier.value = 'Doe, Jane'), /^Bundle.entry\[1\].resource.patient.identifier.value: a research ID/],
        [(c) => (c.scope.coding[0].code = 'treatment'), /resource.scope: must carry/],
        [(c) => (c.category = []), /resource.category: needs at least one/],
        [(c) => (c.provision.type = 'maybe'), /resource.provision.type: must be "permit" or "deny"/],
        [(c) => (c.provision.code[0].coding[0].system = 'http://snomed.info/sct'), /resource.provision.code\[0\]: needs a coding with system/],
        [(c) => (c.provision.code[0].coding[0].code = 'DUO:0000999'), /resource.provision.code\[0\].coding\[0\].code: is not a DUO term/],
        [(c) => (c.dateTime = 'yesterday'), /resource.dateTime: an ISO 8601/],
        [(c) => (c.provision.provision = [{ type: 'deny' }]), /resource.provision.provision: nested provisions/],
        [(c) => (c.provision.period.start = '2026-01-04'), /resource.provision.period.start: must be the same instant as dateTime/],
      ];
      for (const [mutate, message] of variants) {
        const bad = JSON.parse(JSON.stringify(good)) as Record<string, any>;
        mutate(bad);
        const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: good }, { resource: bad }] };
        const { message: m } = await invalidMessage(importConsentFhir(db2, CURATOR, { resource: bundle }, { now: NOW }));
        expect(m).toMatch(message);
        expect(m).not.toContain('Jane');
      }
      expect((await invalidMessage(importConsentFhir(db2, CURATOR, { resource: { resourceType: 'Patient' } }, { now: NOW }))).message).toMatch(/^resourceType: must be "Consent" or "Bundle"/);
      expect(await db2.all('SELECT id FROM consent_events')).toEqual([]);
    });
  });
}
