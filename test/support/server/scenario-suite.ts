/**
 * The release gate over HTTP, as the consortium's people would drive it: a curator registers a
 * de-identified dataset (the repository's sample study, de-identified by the compiled `radanon
 * deid`) and records consent; a researcher proposes; the DAC approves; the DPO records and signs
 * the agreement; the curator asks for the release. Each scenario checks what the issue promises:
 * a withdrawn subject is absent, and an expired approval, an EU→US transfer without SCCs and a k
 * below target each refuse the release with the reason.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { asciiValue } from '../../../src/dicom/dataset.js';
import { readDicom } from '../../../src/dicom/reader.js';
import { Tags } from '../../../src/dicom/tag.js';
import type { Role } from '../../../src/governance/actor.js';
import { buildServer } from '../../../src/server/app.js';
import type { Backend } from '../governance/backends.js';
import { CLI } from '../../unit/support/dicom.js';
import { SITE, fullWaiver, seedWorld, type World } from './world.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

/** The sample study de-identified by the compiled command line, and its research IDs. */
export function deidentifiedSample(work: string): { dir: string; researchIds: string[] } {
  const dir = path.join(work, 'deid-sample');
  const r = spawnSync(process.execPath, [CLI, 'deid', path.join(ROOT, 'sample', 'study'), dir, '--secret-file', path.join(ROOT, 'sample', 'project.key')], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`radanon deid of the sample failed (${r.status}): ${r.stderr}`);
  const ids = new Set<string>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name !== 'DICOMDIR') {
        const id = asciiValue(readDicom(fs.readFileSync(p)).dataset.get(Tags.PatientID))?.trim();
        if (id) ids.add(id);
      }
    }
  };
  walk(dir);
  return { dir, researchIds: [...ids].sort() };
}

interface Answer {
  readonly status: number;
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function scenarioSuite(backend: Backend): void {
  describe(`release scenarios over HTTP (${backend.name})`, () => {
    let app: FastifyInstance;
    let world: World;
    let work: string;
    let sample: { dir: string; researchIds: string[] };
    let datasetId: string;

    async function call(as: Role, method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown, server: FastifyInstance = app): Promise<Answer> {
      const res = await server.inject({ method, url, headers: { authorization: `Bearer ${world.tokens[as]}` }, ...(body !== undefined ? { payload: body as object } : {}) });
      return { status: res.statusCode, body: res.body === '' ? undefined : res.json() };
    }
    async function ok(as: Role, method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown): Promise<any> {
      const r = await call(as, method, url, body);
      expect(r.status, `${method} ${url} as ${as}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
      return r.body;
    }

    /** A project proposed, submitted and approved by a one-member quorum; its agreement signed by both parties. */
    async function approvedProject(options: { country?: string; targetK?: number; termDays?: number; recipientCountry?: string } = {}): Promise<string> {
      const project = await ok('researcher', 'POST', '/projects', {
        title: 'Nodule texture and outcome',
        purpose: ['HMB'],
        datasets: [datasetId],
        fields: ['PatientAge', 'PatientSex', 'PixelData'],
        institution: 'Example University',
        country: options.country ?? 'DE',
        securityPlan: 'Encrypted enclave; named researchers only.',
        targetK: options.targetK ?? 1,
        quasiIdentifiers: ['age', 'sex'],
      });
      await ok('admin', 'PUT', `/projects/${project.id}/decision-rule`, { quorum: 1, ...(options.termDays ? { termDays: options.termDays } : {}) });
      await ok('researcher', 'POST', `/projects/${project.id}/submit`);
      await ok('dac-member', 'POST', `/projects/${project.id}/review`);
      const vote = await ok('dac-member', 'POST', `/projects/${project.id}/votes`, { vote: 'approve', comment: 'Sound plan.' });
      expect(vote.project.state).toBe('approved');
      const agreement = await ok('dpo', 'POST', '/agreements', {
        kind: 'data-use',
        title: 'DUA for the nodule study',
        parties: [
          { name: 'Hospital A', role: 'provider', country: 'DE' },
          { name: 'Example University', role: 'recipient', country: options.recipientCountry ?? options.country ?? 'DE' },
        ],
        permittedUses: ['HMB'],
        startsAt: new Date(Date.now() - 86_400_000).toISOString(),
        endsAt: new Date(Date.now() + 365 * 86_400_000).toISOString(),
        projects: [project.id],
      });
      for (const party of agreement.parties) await ok('dpo', 'POST', `/agreements/${agreement.id}/signatures`, { partyId: party.id, signedBy: `Signatory of ${party.name}`, signerRole: 'director' });
      return project.id;
    }

    function out(): string {
      return path.join(work, `release-${Math.random().toString(36).slice(2, 10)}`);
    }

    beforeAll(async () => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'radanon-scenarios-'));
      world = await seedWorld(await backend.open(), work);
      app = await buildServer({ db: world.db });
      sample = deidentifiedSample(work);
      expect(sample.researchIds).toHaveLength(2);
      datasetId = (await ok('curator', 'POST', '/datasets', { site: SITE, country: 'DE', path: sample.dir, label: 'sample study' })).id;
      for (const researchId of sample.researchIds) await ok('curator', 'POST', '/consent/events', { researchId, site: SITE, kind: 'broad', codes: ['HMB'] });
    }, 180_000);
    afterAll(async () => {
      await app?.close();
      await backend.cleanup();
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it('releases both consenting subjects; after one withdraws, a new release leaves that subject out', async () => {
      const projectId = await approvedProject();
      const first = await call('curator', 'POST', `/projects/${projectId}/releases`, { out: out() });
      expect(first.status, JSON.stringify(first.body)).toBe(201);
      expect(first.body.manifest.subjects).toEqual(sample.researchIds);
      const [withdrawing, staying] = sample.researchIds as [string, string];
      await ok('curator', 'POST', '/consent/events', { researchId: withdrawing, site: SITE, kind: 'withdraw', projectId });
      const status = await ok('curator', 'GET', `/consent/${withdrawing}/status?projectId=${projectId}&purposeCodes=HMB`);
      expect(status).toMatchObject({ permitted: false, basis: 'withdrawn' });
      const second = await call('curator', 'POST', `/projects/${projectId}/releases`, { out: out() });
      expect(second.status, JSON.stringify(second.body)).toBe(201);
      expect(second.body.manifest.subjects).toEqual([staying]);
      expect(second.body.manifest.files.every((f: { subject: string }) => f.subject === staying)).toBe(true);
      const folder = second.body.out as string;
      const manifestOnDisk = JSON.parse(fs.readFileSync(path.join(folder, 'manifest.json'), 'utf8'));
      expect(manifestOnDisk.subjects).toEqual([staying]);
      expect(JSON.stringify(manifestOnDisk)).not.toContain(withdrawing);
    });

    it('refuses a release after the DAC approval has expired, naming it', async () => {
      const projectId = await approvedProject({ termDays: 1 });
      const later = await buildServer({ db: world.db, clock: () => new Date(Date.now() + 3 * 86_400_000) });
      try {
        const target = out();
        const r = await call('curator', 'POST', `/projects/${projectId}/releases`, { out: target }, later);
        expect(r.status).toBe(422);
        expect(r.body.error.code).toBe('refused');
        const approval = r.body.error.details.find((d: { check: string }) => d.check === 'project-approved');
        expect(approval.reason).toMatch(/approval .* expired/);
        expect(fs.existsSync(target)).toBe(false);
      } finally {
        await later.close();
      }
    });

    it('refuses an EU → US release without Standard Contractual Clauses, naming the transfer', async () => {
      const projectId = await approvedProject({ country: 'US' });
      const target = out();
      const r = await call('curator', 'POST', `/projects/${projectId}/releases`, { out: target });
      expect(r.status).toBe(422);
      const transfer = r.body.error.details.find((d: { check: string }) => d.check.startsWith('transfer'));
      expect(transfer.reason).toContain('US');
      expect(transfer.reason).toMatch(/Data Privacy Framework/);
      expect(transfer.reason).toMatch(/Standard Contractual Clauses/);
      expect(fs.existsSync(target)).toBe(false);
    });

    it('refuses a release whose measured k is below the project target, with the measured k', async () => {
      const projectId = await approvedProject({ targetK: 5 });
      const target = out();
      const r = await call('curator', 'POST', `/projects/${projectId}/releases`, { out: target });
      expect(r.status).toBe(422);
      const k = r.body.error.details.find((d: { check: string }) => d.check === 'k-anonymity');
      expect(k.reason).toMatch(/measured k = 1 .* below the target 5/);
      expect(fs.existsSync(target)).toBe(false);
      // The refusal is recorded and readable over the API, with every check.
      const releases = await ok('dpo', 'GET', `/projects/${projectId}/releases`);
      expect(releases).toHaveLength(1);
      expect(releases[0].status).toBe('refused');
    });

    // Last: a refusal of broad consent holds for every later project.
    it('a subject who refused is left out even under a consent waiver', async () => {
      const projectId = await approvedProject();
      const { projectId: _p, ...waiver } = fullWaiver(projectId, new Date(Date.now() - 60_000));
      const recorded = await call('curator', 'POST', `/projects/${projectId}/waivers`, waiver);
      expect(recorded.status, JSON.stringify(recorded.body)).toBe(201);
      const [refusing, other] = sample.researchIds as [string, string];
      await ok('curator', 'POST', '/consent/events', { researchId: refusing, site: SITE, kind: 'refuse' });
      const r = await call('curator', 'POST', `/projects/${projectId}/releases`, { out: out() });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body.manifest.subjects).toEqual([other]);
      const excluded = r.body.exclusions.filter((e: { subject: string | null }) => e.subject === refusing);
      expect(excluded.length).toBeGreaterThan(0);
      expect(excluded[0].reason).toMatch(/refus/);
    });
  });
}
