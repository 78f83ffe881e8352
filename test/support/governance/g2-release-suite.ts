/**
 * Release scenarios on real de-identified DICOM made in the test with the library: the sample
 * study (two invented patients) and a cohort of eight patients built from it, each de-identified
 * with `runDeid`. Run on SQLite (unit) and PostgreSQL (test/postgres).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgreement, signAgreement, type Agreement } from '../../../src/governance/agreements.js';
import { renewApproval } from '../../../src/governance/dac.js';
import { CONSENT_SCHEMA, recordConsentEvent } from '../../../src/governance/consent.js';
import { WAIVERS_SCHEMA, WAIVER_CRITERION_IDS, recordWaiver } from '../../../src/governance/waivers.js';
import type { Db } from '../../../src/governance/db.js';
import { registerDataset } from '../../../src/governance/datasets.js';
import { MANIFEST_FILE, RELEASES_SCHEMA, createRelease, getRelease, listReleases, type Manifest } from '../../../src/governance/release.js';
import { readDicom } from '../../../src/dicom/reader.js';
import { encodeDicomToBuffer } from '../../../src/dicom/writer.js';
import { asciiValue } from '../../../src/dicom/dataset.js';
import { Tags, tag } from '../../../src/dicom/tag.js';
import { resolveOptions } from '../../../src/deid/plan.js';
import { EMPTY_RECIPE } from '../../../src/deid/recipe.js';
import { runDeid } from '../../../src/pipeline/run.js';
import { walkFiles } from '../../../src/pipeline/walk.js';
import { ROOT, textElement } from '../../unit/support/dicom.js';
import { G2_SCHEMA, T0, actors, auditOf, days, projectInState, type StoreFactory } from './g2.js';
import { refusal } from './refusals.js';

const PatientSex = tag(0x0010, 0x0040);

async function deid(input: string, output: string): Promise<void> {
  const report = await runDeid({
    inputDir: input,
    outputDir: output,
    runDir: `${output}.run`,
    dryRun: false,
    workers: 0,
    plan: {
      options: resolveOptions('radiomics', {}),
      allowList: true,
      birthDate: 'remove',
      recipe: EMPTY_RECIPE,
      methodName: 'radanon test',
      implementation: { classUid: '2.25.1', versionName: 'TEST' },
    },
    pseudonyms: { researchIdPrefix: 'RAD-', dateShiftDays: [-30, -1] },
    secret: Buffer.from('unit-test-secret-for-release-gate'),
  });
  if (report.counts.failed > 0) throw new Error(`deid failed on ${report.counts.failed} files`);
}

/** Eight invented patients (four of each sex) made from the sample's CT files, with their own IDs and UIDs. */
function buildCohort(dir: string): void {
  const source = path.join(ROOT, 'sample', 'study', 'Roe_Richard', '20231102_CT_abdomen');
  for (let i = 0; i < 8; i++) {
    for (const name of readdirSync(source).sort()) {
      const file = readDicom(readFileSync(path.join(source, name)));
      const ds = new Map(file.dataset);
      const meta = new Map(file.meta);
      ds.set(Tags.PatientID, textElement(Tags.PatientID, 'LO', `COHORT-${i}`));
      ds.set(Tags.PatientName, textElement(Tags.PatientName, 'PN', `Cohort^Person${i}`));
      ds.set(PatientSex, textElement(PatientSex, 'CS', i % 2 === 0 ? 'F' : 'M'));
      for (const t of [Tags.StudyInstanceUID, Tags.SeriesInstanceUID, Tags.SOPInstanceUID]) {
        const uid = `${asciiValue(ds.get(t))}.${i + 1}`;
        ds.set(t, textElement(t, 'UI', uid));
        if (t === Tags.SOPInstanceUID) meta.set(Tags.MediaStorageSOPInstanceUID, textElement(Tags.MediaStorageSOPInstanceUID, 'UI', uid));
      }
      const out = path.join(dir, `person${i}`, name);
      mkdirSync(path.dirname(out), { recursive: true });
      writeFileSync(out, encodeDicomToBuffer({ meta, dataset: ds }));
    }
  }
}

async function researchIds(folder: string): Promise<string[]> {
  const ids = new Set<string>();
  for await (const rel of walkFiles(folder)) ids.add(asciiValue(readDicom(readFileSync(path.join(folder, rel))).dataset.get(Tags.PatientID))!.trim());
  return [...ids].sort();
}

export function releaseSuite(backend: string, factory: StoreFactory, options: { cleanup?: () => Promise<void> } = {}): void {
  describe(`the release gate (${backend})`, () => {
    let db: Db;
    const a = actors();
    let root: string;
    let sampleDataset: string;
    let cohortDataset: string;
    let sampleIds: string[];
    let cohortIds: string[];
    let n = 0;
    const outDir = () => path.join(root, 'releases', `release-${++n}`);

    beforeAll(async () => {
      root = mkdtempSync(path.join(tmpdir(), 'radanon-g2-release-'));
      mkdirSync(path.join(root, 'releases'));
      await deid(path.join(ROOT, 'sample', 'study'), path.join(root, 'site-de-sample'));
      buildCohort(path.join(root, 'cohort-in'));
      await deid(path.join(root, 'cohort-in'), path.join(root, 'site-de-cohort'));
      sampleIds = await researchIds(path.join(root, 'site-de-sample'));
      cohortIds = await researchIds(path.join(root, 'site-de-cohort'));
      db = await factory([...G2_SCHEMA, CONSENT_SCHEMA, WAIVERS_SCHEMA, RELEASES_SCHEMA]);
      sampleDataset = (await registerDataset(db, a.curatorEu, { site: 'site-de', country: 'DE', path: path.join(root, 'site-de-sample'), label: 'sample' }, { now: T0 })).id;
      cohortDataset = (await registerDataset(db, a.curatorEu, { site: 'site-de', country: 'DE', path: path.join(root, 'site-de-cohort'), label: 'cohort' }, { now: T0 })).id;
      // Broad consent for general research use, given before the study (the sample's two
      // patients are left to the waiver scenario).
      for (const id of cohortIds) {
        await recordConsentEvent(db, a.curatorEu, { researchId: id, site: 'site-de', kind: 'broad', codes: ['GRU'], at: '2026-01-15T00:00:00Z' }, { now: T0 });
      }
    }, 120_000);
    afterAll(async () => {
      if (options.cleanup) await options.cleanup();
      else await db?.close();
      if (root) rmSync(root, { recursive: true, force: true });
    });

    async function activeAgreement(projectId: string, recipient: { country: string; dpfCertified?: boolean }, transfer?: Record<string, unknown>): Promise<Agreement> {
      const ag = await createAgreement(
        db,
        a.dpo,
        {
          kind: 'data-use',
          title: 'DUA',
          parties: [
            { name: 'Site DE', role: 'provider', country: 'DE' },
            { name: 'Recipient institute', role: 'recipient', ...recipient },
          ],
          permittedUses: ['HMB'],
          startsAt: '2026-01-01',
          endsAt: '2028-01-01',
          projects: [projectId],
          ...(transfer ? { transfer } : {}),
        } as never,
        { now: T0 },
      );
      let signed = ag;
      for (const p of ag.parties) signed = await signAgreement(db, a.dpo, { agreementId: ag.id, partyId: p.id, signedBy: `for ${p.name}`, signerRole: 'director' }, { now: T0 });
      return signed;
    }

    function noPartials(): void {
      expect(readdirSync(path.join(root, 'releases')).filter((name) => name.includes('.partial-'))).toEqual([]);
    }

    it('releases an approved project: files, checksums, subjects, checks and transfer basis in a manifest', async () => {
      expect(cohortIds).toHaveLength(8);
      const p = await projectInState(db, a, [cohortDataset], 'approved', { targetK: 4, quasiIdentifiers: ['sex'] });
      const ag = await activeAgreement(p.id, { country: 'DE' });
      const out = outDir();
      const release = await createRelease(db, a.curatorEu, { projectId: p.id, out }, { now: days(1) });
      expect(release.status).toBe('released');
      expect(release.checks.every((c) => c.result === 'passed')).toBe(true);
      expect(release.checks.map((c) => c.check)).toEqual(['datasets', 'project-approved', 'agreement', `transfer:${cohortDataset}`, 'consent', 'verify', 'k-anonymity']);
      const manifest = JSON.parse(readFileSync(path.join(out, MANIFEST_FILE), 'utf8')) as Manifest;
      expect(manifest).toEqual(release.manifest);
      expect(manifest.subjects).toEqual(cohortIds);
      expect(manifest.agreement.id).toBe(ag.id);
      expect(manifest.datasets[0]!.transfer.kind).toBe('domestic');
      expect(manifest.risk).toEqual({ k: 4, target: 4, quasiIdentifiers: ['sex'], records: 8 });
      expect(manifest.files).toHaveLength(16);
      for (const f of manifest.files) {
        const bytes = readFileSync(path.join(out, f.path));
        expect(bytes.length).toBe(f.size);
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
      }
      // The released files are byte for byte the dataset's.
      const rel = manifest.files[0]!.path.slice(cohortDataset.length + 1);
      expect(readFileSync(path.join(out, manifest.files[0]!.path))).toEqual(readFileSync(path.join(root, 'site-de-cohort', rel)));
      const stored = await getRelease(db, a.dpo, { releaseId: release.id }, { now: days(1) });
      expect(stored.manifest).toEqual(manifest);
      expect((await listReleases(db, a.researcher, { projectId: p.id }, { now: days(1) })).map((r) => r.id)).toEqual([release.id]);
      const entry = (await auditOf(db, 'release.create', 'ok')).find((e) => e.details.releaseId === release.id);
      expect(entry?.details).toMatchObject({ subjects: 8, files: 16, k: 4 });
      noPartials();
    });

    it('a subject who withdrew is absent from every release after the withdrawal, and from its manifest', async () => {
      const p = await projectInState(db, a, [cohortDataset], 'approved', { targetK: 3, quasiIdentifiers: ['sex'] });
      await activeAgreement(p.id, { country: 'DE' });
      const leaving = cohortIds[3]!;
      await recordConsentEvent(db, a.curatorEu, { researchId: leaving, site: 'site-de', kind: 'withdraw', at: days(5).toISOString() }, { now: days(5) });
      const before = await createRelease(db, a.curatorEu, { projectId: p.id, out: outDir() }, { now: days(4) });
      expect(before.manifest!.subjects).toContain(leaving);
      const after = await createRelease(db, a.curatorEu, { projectId: p.id, out: outDir() }, { now: days(6) });
      expect(after.manifest!.subjects).toEqual(cohortIds.filter((id) => id !== leaving));
      expect(after.manifest!.files.some((f) => f.subject === leaving)).toBe(false);
      const manifestText = readFileSync(path.join(after.out, MANIFEST_FILE), 'utf8');
      expect(manifestText).not.toContain(leaving);
      for await (const rel of walkFiles(after.out)) {
        if (rel === MANIFEST_FILE) continue;
        expect(asciiValue(readDicom(readFileSync(path.join(after.out, rel))).dataset.get(Tags.PatientID))!.trim()).not.toBe(leaving);
      }
      // The curator sees who was left out and why; the researcher does not.
      expect(after.exclusions).toEqual([expect.objectContaining({ subject: leaving, reason: expect.stringContaining('not permitted') })]);
      expect((await getRelease(db, a.researcher, { releaseId: after.id }, { now: days(6) })).exclusions).toEqual([]);
    });

    it('a waiver covers subjects never asked, but not one who refused broad consent', async () => {
      expect(sampleIds).toHaveLength(2);
      const [refuser, unasked] = sampleIds as [string, string];
      await recordConsentEvent(db, a.curatorEu, { researchId: refuser, site: 'site-de', kind: 'refuse', at: '2026-01-20T00:00:00Z' }, { now: T0 });
      const p = await projectInState(db, a, [sampleDataset], 'approved', { targetK: 1, quasiIdentifiers: ['sex'] });
      await activeAgreement(p.id, { country: 'DE' });
      // Without a waiver nobody in the sample may be released.
      const none = await refusal(createRelease(db, a.curatorEu, { projectId: p.id, out: outDir() }, { now: days(1) }));
      expect(none.details).toEqual([{ check: 'consent', reason: 'none of the 2 subjects has consent that permits the purpose or a waiver that covers them' }]);
      noPartials();
      await recordWaiver(
        db,
        a.admin,
        {
          projectId: p.id,
          committee: 'Ethics Committee of the Example University',
          reference: 'EK-2026-117',
          granted: '2026-02-20',
          expires: '2027-02-20',
          criteria: Object.fromEntries(WAIVER_CRITERION_IDS.map((c) => [c, { met: true, justification: `documented in minutes of 2026-02-20 for ${c}` }])),
        },
        { now: T0 },
      );
      const release = await createRelease(db, a.curatorEu, { projectId: p.id, out: outDir() }, { now: days(1) });
      expect(release.manifest!.subjects).toEqual([unasked]);
      expect(release.manifest!.files.every((f) => f.subject === unasked)).toBe(true);
      expect(readFileSync(path.join(release.out, MANIFEST_FILE), 'utf8')).not.toContain(refuser);
      expect(release.exclusions).toEqual([expect.objectContaining({ subject: refuser, reason: expect.stringContaining('46.116(f)(1)') })]);
    });

    it('refuses an expired approval, naming it, and leaves no files', async () => {
      const p = await projectInState(db, a, [cohortDataset], 'approved', { targetK: 1, quasiIdentifiers: ['sex'] }, { termDays: 30 });
      await activeAgreement(p.id, { country: 'DE' });
      const out = outDir();
      const e = await refusal(createRelease(db, a.curatorEu, { projectId: p.id, out }, { now: days(31) }));
      expect(e.code).toBe('refused');
      expect(e.details).toEqual([{ check: 'project-approved', reason: `the DAC approval of project ${p.id} expired on ${days(30).toISOString()}` }]);
      expect(existsSync(out)).toBe(false);
      noPartials();
      const [refused] = (await listReleases(db, a.dpo, { projectId: p.id }, { now: days(31) })).filter((r) => r.status === 'refused');
      expect(refused!.checks.filter((c) => c.result === 'not-run').map((c) => c.check)).toEqual(['consent', 'verify', 'k-anonymity']);
      const entry = (await auditOf(db, 'release.create', 'refused')).find((x) => x.target === p.id);
      expect(JSON.stringify(entry!.details)).toContain('expired on');
      // Renewed, the same release goes through.
      await renewApproval(db, a.admin, { projectId: p.id, comment: 'renewed' }, { now: days(32) });
      expect((await createRelease(db, a.curatorEu, { projectId: p.id, out }, { now: days(33) })).status).toBe('released');
    });

    it('refuses EU → US to an uncertified recipient without SCCs, naming the transfer; with SCCs and a TIA it goes', async () => {
      const p = await projectInState(db, a, [cohortDataset], 'approved', { targetK: 1, quasiIdentifiers: ['sex'], country: 'US' });
      const ag = await activeAgreement(p.id, { country: 'US', dpfCertified: false });
      const out = outDir();
      const e = await refusal(createRelease(db, a.curatorEu, { projectId: p.id, out }, { now: days(1) }));
      expect(e.details).toEqual([
        { check: `transfer:${cohortDataset}`, reason: `EU → US to a recipient not certified under the EU–US Data Privacy Framework: no Standard Contractual Clauses, Binding Corporate Rules or Article 49 derogation on agreement ${ag.id}` },
      ]);
      expect(e.message).toContain('no Standard Contractual Clauses');
      expect(existsSync(out)).toBe(false);
      noPartials();
      // A second, active agreement with SCCs (module 1) and a transfer impact assessment.
      const withScc = await activeAgreement(p.id, { country: 'US' }, { scc: { module: 1, tiaReference: 'TIA-2026-02', tiaDate: '2026-02-15' } });
      const ok = await createRelease(db, a.curatorEu, { projectId: p.id, out }, { now: days(1) });
      // The agreement under which the transfer is lawful carries the release.
      expect(ok.status).toBe('released');
      expect(ok.agreementId).toBe(withScc.id);
      expect(ok.manifest!.datasets[0]!.transfer).toMatchObject({ kind: 'scc', module: 1, tiaReference: 'TIA-2026-02' });
    });

    it('refuses when k is below the target, with the measured k; nothing is left in out', async () => {
      const p = await projectInState(db, a, [cohortDataset], 'approved', { targetK: 5, quasiIdentifiers: ['sex'] });
      await activeAgreement(p.id, { country: 'DE' });
      const out = outDir();
      const e = await refusal(createRelease(db, a.curatorEu, { projectId: p.id, out }, { now: days(1) }));
      expect(e.details).toEqual([{ check: 'k-anonymity', reason: 'measured k = 4 over 8 patients on sex is below the target 5' }]);
      expect(existsSync(out)).toBe(false);
      noPartials();
    });

    it('refuses without touching data: not approved, no agreement, out of scope, an existing out', async () => {
      const p = await projectInState(db, a, [cohortDataset], 'under-review', { targetK: 1 });
      const e = await refusal(createRelease(db, a.curatorEu, { projectId: p.id, out: outDir() }, { now: days(1) }));
      expect(e.details!.map((d) => d.check)).toEqual(['project-approved', 'agreement']);
      expect(e.details![1]!.reason).toBe(`no agreement is linked to project ${p.id}`);
      expect((await refusal(createRelease(db, a.curatorUs, { projectId: p.id, out: outDir() }, { now: days(1) }))).code).toBe('forbidden');
      expect((await refusal(createRelease(db, a.researcher, { projectId: p.id, out: outDir() }, { now: days(1) }))).code).toBe('forbidden');
      const existing = outDir();
      mkdirSync(existing);
      expect((await refusal(createRelease(db, a.curatorEu, { projectId: p.id, out: existing }, { now: days(1) }))).message).toMatch(/^out: already exists/);
      const inside = path.join(root, 'site-de-cohort', 'release');
      expect((await refusal(createRelease(db, a.curatorEu, { projectId: p.id, out: inside }, { now: days(1) }))).message).toBe(`out: is inside the folder of dataset ${cohortDataset}`);
      expect(existsSync(inside)).toBe(false);
      expect((await auditOf(db, 'release.create', 'refused')).filter((x) => x.target === p.id).length).toBe(5);
      noPartials();
    });
  });
}
