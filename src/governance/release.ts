/**
 * The release gate: `createRelease` assembles a release of an approved project's datasets, and no
 * data leaves unless every condition holds. The checks, in order:
 *
 * 1. governance (read from the store, nothing read from the data yet):
 *    - `datasets`: every dataset asked for is one the project requested;
 *    - `project-approved`: the project is approved and its approval has not expired;
 *    - `agreement`: an agreement linked to the project is active (signed by every party, inside
 *      its term, not terminated) and its permitted uses cover the project's purpose;
 *    - `transfer:<dataset>`: the transfer from the dataset's site country to the project's
 *      country has a lawful basis (transfers.ts);
 * 2. data (only when every governance check passed, so the data of an unlawful release is never
 *    read):
 *    - `consent`: each subject (research ID = the files' Patient ID) is included only when their
 *      consent permits the project's purpose at `now`, or a valid waiver of the project covers
 *      them; a release with no subject left is refused;
 *    - `verify`: the release folder passes `radanon verify` (per dataset, with the dataset's
 *      de-identification settings);
 *    - `k-anonymity`: the smallest group of patients sharing the project's quasi-identifiers in
 *      the release holds at least the project's target k.
 *
 * The release is assembled in a hidden folder beside `out` and renamed to `out` only when every
 * check passed and the release is recorded, in the same transaction: `out` holds a whole release
 * or nothing. A refused release is recorded too, with every check and its result, and audited.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Actor } from './actor.js';
import { inScope } from './actor.js';
import { agreementStatus, agreementsOfProject, type Agreement } from './agreements.js';
import { recordAudit, type JsonValue } from './audit.js';
import { consentStatus } from './consent.js';
import { waiverCovers } from './waivers.js';
import { loadDataset, type Dataset } from './datasets.js';
import type { Db, SchemaModule } from './db.js';
import { purposePermitted } from './duo.js';
import { GovernanceError } from './errors.js';
import { auditRefusal, hasRole, invalid, loadProject, parseJson, requireRole, requireVisible, text, timeOf, uuid, canSeeProject, type Project } from './projects.js';
import { transferBasis, type TransferBasis } from './transfers.js';
import { asciiValue } from '../dicom/dataset.js';
import { readDicom } from '../dicom/reader.js';
import { Tags } from '../dicom/tag.js';
import { DICOMDIR_SOP_CLASS } from '../pipeline/process-file.js';
import { walkFiles } from '../pipeline/walk.js';
import { extractDicomTable, parseDicomFields } from '../privacy/from-dicom.js';
import { assessRisk } from '../privacy/risk.js';
import { verifyFolder } from '../qa/verify.js';

export type CheckResult = 'passed' | 'failed' | 'not-run';

export interface ReleaseCheck {
  readonly check: string;
  readonly result: CheckResult;
  readonly reason: string;
}

export interface ManifestFile {
  /** Relative to the release folder: <dataset id>/<path in the dataset>. */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  readonly subject: string;
}

export interface Manifest {
  readonly format: 'radanon-release/1';
  readonly releaseId: string;
  readonly createdAt: string;
  readonly actor: { readonly id: string; readonly name: string };
  readonly project: { readonly id: string; readonly title: string; readonly purpose: readonly string[]; readonly institution: string; readonly country: string; readonly targetK: number; readonly quasiIdentifiers: readonly string[] };
  readonly agreement: { readonly id: string; readonly kind: string; readonly title: string; readonly reference: string | null };
  readonly datasets: readonly { readonly id: string; readonly site: string; readonly country: string; readonly transfer: TransferBasis }[];
  /** Research IDs in the release, sorted. */
  readonly subjects: readonly string[];
  readonly files: readonly ManifestFile[];
  readonly checks: readonly ReleaseCheck[];
  readonly risk: { readonly k: number; readonly target: number; readonly quasiIdentifiers: readonly string[]; readonly records: number };
}

/** Why a subject or a file was left out; kept in the store for the curator and the DPO, never in the manifest. */
export interface Exclusion {
  readonly dataset: string;
  readonly subject: string | null;
  readonly file: string | null;
  readonly reason: string;
}

export interface Release {
  readonly id: string;
  readonly projectId: string;
  readonly agreementId: string | null;
  readonly status: 'released' | 'refused';
  /** The release folder (absolute); for a refused release, where it would have been. */
  readonly out: string;
  readonly checks: readonly ReleaseCheck[];
  readonly manifest: Manifest | null;
  readonly exclusions: readonly Exclusion[];
  readonly actorId: string;
  readonly createdAt: string;
}

export const MANIFEST_FILE = 'manifest.json';

export const RELEASES_SCHEMA: SchemaModule = {
  name: 'releases',
  steps: [
    [
      `CREATE TABLE releases (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects (id),
        agreement_id TEXT,
        status TEXT NOT NULL,
        out_path TEXT NOT NULL,
        checks TEXT NOT NULL,
        manifest TEXT,
        exclusions TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        created_at TEXT NOT NULL
      )`,
      'CREATE INDEX releases_project_idx ON releases (project_id)',
      `CREATE TABLE release_subjects (
        release_id TEXT NOT NULL REFERENCES releases (id),
        research_id TEXT NOT NULL,
        CONSTRAINT release_subjects_pkey PRIMARY KEY (release_id, research_id)
      )`,
      'CREATE INDEX release_subjects_research_idx ON release_subjects (research_id)',
    ],
  ],
};

export interface CreateReleaseInput {
  readonly projectId: string;
  /** Default: every dataset the project requested. */
  readonly datasetIds?: readonly string[];
  /** The release folder to create; it must not exist, its parent must. */
  readonly out: string;
}

interface Governance {
  readonly checks: ReleaseCheck[];
  readonly agreement: Agreement | null;
  readonly transfers: Map<string, TransferBasis>;
}

async function governanceChecks(db: Db, project: Project, datasets: readonly Dataset[], asked: readonly string[], now: Date): Promise<Governance> {
  const checks: ReleaseCheck[] = [];
  const notRequested = asked.filter((id) => !project.datasets.includes(id));
  checks.push(
    notRequested.length === 0
      ? { check: 'datasets', result: 'passed', reason: `${asked.length} dataset${asked.length === 1 ? '' : 's'}, all requested by the project` }
      : { check: 'datasets', result: 'failed', reason: `not requested by project ${project.id}: ${notRequested.join(', ')}` },
  );

  if (project.state === 'approved') {
    checks.push({ check: 'project-approved', result: 'passed', reason: `approved on ${project.decidedAt}, until ${project.expiresAt}` });
  } else if (project.state === 'expired') {
    checks.push({ check: 'project-approved', result: 'failed', reason: `the DAC approval of project ${project.id} expired on ${project.expiresAt}` });
  } else {
    checks.push({ check: 'project-approved', result: 'failed', reason: `project ${project.id} is ${project.state}, not approved by the DAC` });
  }

  const linked = await agreementsOfProject(db, project.id);
  const usable: Agreement[] = [];
  const problems: string[] = [];
  for (const a of linked) {
    const status = agreementStatus(a, now);
    const covers = purposePermitted(a.permittedUses, { codes: project.purpose, projectId: project.id, country: project.country, institution: project.institution }, { at: now });
    if (status.active && covers.permitted) usable.push(a);
    problems.push(...status.reasons);
    if (!covers.permitted) problems.push(`agreement ${a.id}'s permitted uses do not cover the project: ${covers.reason.replace(/^the consent/, 'the agreement')}`);
  }

  // Of the usable agreements, the first under which every transfer is lawful carries the release;
  // with none, the first usable (or, lacking one, the first linked) is the one whose missing
  // safeguards the transfer checks name.
  const transfersUnder = async (carrier: Agreement | undefined) => {
    const results = new Map<string, Awaited<ReturnType<typeof transferBasis>>>();
    for (const d of datasets) results.set(d.id, await transferBasis(db, { from: d.country, to: project.country, at: now, ...(carrier ? { agreementId: carrier.id } : {}) }));
    return results;
  };
  let agreement: Agreement | null = null;
  let results: Map<string, Awaited<ReturnType<typeof transferBasis>>> | undefined;
  for (const a of usable) {
    const r = await transfersUnder(a);
    if ([...r.values()].every((x) => x.lawful)) {
      agreement = a;
      results = r;
      break;
    }
  }
  agreement ??= usable[0] ?? null;
  results ??= await transfersUnder(agreement ?? linked[0]);

  if (agreement) checks.push({ check: 'agreement', result: 'passed', reason: `agreement ${agreement.id} (${agreement.kind}) is active until ${agreement.endsAt} and covers the purpose` });
  else if (linked.length === 0) checks.push({ check: 'agreement', result: 'failed', reason: `no agreement is linked to project ${project.id}` });
  else checks.push({ check: 'agreement', result: 'failed', reason: `no active agreement covers project ${project.id}: ${problems.join('; ')}` });

  const transfers = new Map<string, TransferBasis>();
  for (const d of datasets) {
    const result = results.get(d.id)!;
    if (result.lawful) {
      transfers.set(d.id, result.basis);
      checks.push({ check: `transfer:${d.id}`, result: 'passed', reason: result.basis.summary });
    } else {
      checks.push({ check: `transfer:${d.id}`, result: 'failed', reason: result.reason });
    }
  }
  return { checks, agreement, transfers };
}

/**
 * Whether a subject goes into the release: their consent permits the project's purpose at `at`,
 * or else a valid waiver of the project covers them (never a subject who refused).
 */
async function subjectPermission(db: Db, q: { researchId: string; project: Project; at: Date }): Promise<{ included: boolean; reason: string }> {
  const consent = await consentStatus(db, q.researchId, { projectId: q.project.id, purposeCodes: q.project.purpose, at: q.at, country: q.project.country, institution: q.project.institution });
  if (consent.permitted) return { included: true, reason: consent.reason };
  const waiver = await waiverCovers(db, q.project.id, q.researchId, q.at, { purposeCodes: q.project.purpose });
  if (waiver.covered) return { included: true, reason: waiver.reason };
  return { included: false, reason: `${consent.reason}; no waiver: ${waiver.reason}` };
}

interface Assembled {
  readonly files: ManifestFile[];
  readonly subjects: string[];
  readonly exclusions: Exclusion[];
  readonly considered: number;
}

/** Copies the files of permitted subjects into `temp`/<dataset id>/…, hashing as it goes. */
async function assemble(db: Db, project: Project, datasets: readonly (Dataset & { path: string })[], temp: string, now: Date): Promise<Assembled> {
  const files: ManifestFile[] = [];
  const exclusions: Exclusion[] = [];
  const decided = new Map<string, { included: boolean; reason: string }>();
  for (const d of datasets) {
    for await (const rel of walkFiles(d.path)) {
      const bytes = await readFile(path.join(d.path, rel));
      let researchId: string | undefined;
      try {
        const file = readDicom(bytes, { untilTag: Tags.PixelData });
        if (asciiValue(file.meta.get(Tags.MediaStorageSOPClassUID)) === DICOMDIR_SOP_CLASS) {
          // A DICOMDIR indexes the whole dataset, including subjects left out: never copied.
          exclusions.push({ dataset: d.id, subject: null, file: rel, reason: 'a DICOMDIR of the dataset is not part of a release' });
          continue;
        }
        researchId = asciiValue(file.dataset.get(Tags.PatientID))?.trim();
      } catch {
        exclusions.push({ dataset: d.id, subject: null, file: rel, reason: 'not a readable DICOM file' });
        continue;
      }
      if (!researchId) {
        exclusions.push({ dataset: d.id, subject: null, file: rel, reason: 'no Patient ID (research ID): the subject cannot be checked' });
        continue;
      }
      let decision = decided.get(researchId);
      if (decision === undefined) {
        decision = await subjectPermission(db, { researchId, project, at: now });
        decided.set(researchId, decision);
        if (!decision.included) exclusions.push({ dataset: d.id, subject: researchId, file: null, reason: decision.reason });
      }
      if (!decision.included) continue;
      const target = path.join(temp, d.id, rel);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, bytes, { flag: 'wx' });
      files.push({ path: `${d.id}/${rel.split(path.sep).join('/')}`, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), subject: researchId });
    }
  }
  const subjects = [...decided].filter(([, v]) => v.included).map(([k]) => k).sort();
  return { files, subjects, exclusions, considered: decided.size };
}

function kindsOf(byKind: Partial<Record<string, number>>): string {
  return Object.entries(byKind)
    .map(([k, n]) => `${k} ×${n}`)
    .join(', ');
}

async function dataChecks(project: Project, datasets: readonly (Dataset & { path: string })[], temp: string, assembled: Assembled): Promise<{ checks: ReleaseCheck[]; risk: Manifest['risk'] }> {
  const checks: ReleaseCheck[] = [];
  const excludedSubjects = assembled.considered - assembled.subjects.length;
  checks.push(
    assembled.subjects.length > 0
      ? { check: 'consent', result: 'passed', reason: `${assembled.subjects.length} of ${assembled.considered} subjects included; ${excludedSubjects} left out (consent does not permit the purpose and no waiver covers them)` }
      : { check: 'consent', result: 'failed', reason: `none of the ${assembled.considered} subjects has consent that permits the purpose or a waiver that covers them` },
  );

  if (assembled.subjects.length === 0) {
    checks.push({ check: 'verify', result: 'not-run', reason: 'not run: no subject to release' }, { check: 'k-anonymity', result: 'not-run', reason: 'not run: no subject to release' });
    return { checks, risk: { k: 0, target: project.targetK, quasiIdentifiers: [...project.quasiIdentifiers], records: 0 } };
  }
  const findings: string[] = [];
  let verified = 0;
  for (const d of datasets) {
    const folder = path.join(temp, d.id);
    if (!(await stat(folder).catch(() => undefined))) continue;
    const report = await verifyFolder({ outputDir: folder, allowList: d.allowList, birthDate: d.birthDate });
    verified += report.files;
    if (!report.ok) findings.push(`dataset ${d.id}: ${report.findings.length} finding${report.findings.length === 1 ? '' : 's'} (${kindsOf(report.byKind)})`);
  }
  checks.push(
    findings.length === 0
      ? { check: 'verify', result: 'passed', reason: `radanon verify: ${verified} files, no findings` }
      : { check: 'verify', result: 'failed', reason: `radanon verify: ${findings.join('; ')}` },
  );

  const fields = parseDicomFields(project.quasiIdentifiers.join(','));
  const names = fields.map((f) => f.name);
  const { table } = await extractDicomTable(temp, { per: 'patient', fields });
  const records = table.rows.length;
  const risk = assessRisk(table, names);
  // k is the size of the smallest class of patients sharing every quasi-identifier.
  const k = risk.classSizes.length === 0 ? 0 : risk.classSizes[0]!.size;
  checks.push(
    k >= project.targetK
      ? { check: 'k-anonymity', result: 'passed', reason: `measured k = ${k} over ${records} patients on ${names.join(', ')}; target ${project.targetK}` }
      : { check: 'k-anonymity', result: 'failed', reason: `measured k = ${k} over ${records} patients on ${names.join(', ')} is below the target ${project.targetK}` },
  );
  return { checks, risk: { k, target: project.targetK, quasiIdentifiers: names, records } };
}

function failed(checks: readonly ReleaseCheck[]): ReleaseCheck[] {
  return checks.filter((c) => c.result === 'failed');
}

async function recordRefusal(db: Db, actor: Actor, r: { id: string; project: Project; agreement: Agreement | null; out: string; checks: ReleaseCheck[]; exclusions: Exclusion[] }, now: Date): Promise<GovernanceError> {
  const bad = failed(r.checks);
  const error = new GovernanceError(
    'refused',
    `release of project ${r.project.id} refused: ${bad.map((c) => `${c.check}: ${c.reason}`).join('; ')}`,
    bad.map((c) => ({ check: c.check, reason: c.reason })),
  );
  await db.transaction(async (tx) => {
    await tx.run(
      "INSERT INTO releases (id, project_id, agreement_id, status, out_path, checks, manifest, exclusions, actor_id, created_at) VALUES (?, ?, ?, 'refused', ?, ?, NULL, ?, ?, ?)",
      [r.id, r.project.id, r.agreement?.id ?? null, r.out, JSON.stringify(r.checks), JSON.stringify(r.exclusions), actor.id, now.toISOString()],
    );
    await recordAudit(tx, {
      actor,
      action: 'release.create',
      target: r.project.id,
      outcome: 'refused',
      at: now,
      details: { releaseId: r.id, checks: r.checks.map((c) => ({ check: c.check, result: c.result, reason: c.reason })) as unknown as JsonValue },
    });
  });
  return error;
}

/**
 * Assembles a release for an approved project into `out`, or refuses it naming every failed
 * check (GovernanceError 'refused', with `details`); either way the attempt is recorded and
 * audited. Curators release datasets of their sites for projects in their scope; admins any.
 */
export async function createRelease(db: Db, actor: Actor, input: CreateReleaseInput, options: { now?: Date } = {}): Promise<Release> {
  const now = timeOf(options.now);
  const projectId = uuid(input?.projectId, 'projectId');
  const what = { action: 'release.create', target: projectId };
  const id = randomUUID();
  let project: Project;
  let datasets: (Dataset & { path: string })[];
  let out: string;
  try {
    requireRole(actor, 'release.create');
    out = path.resolve(text(input.out, 'out', { max: 4096 }));
    project = await loadProject(db, projectId, now);
    if (!hasRole(actor, 'admin') && !inScope(actor.projects, projectId)) throw new GovernanceError('forbidden', `release.create: project ${projectId} is not in your scope`);
    if (input.datasetIds !== undefined && !Array.isArray(input.datasetIds)) throw invalid('datasetIds', 'must be a list of dataset ids');
    const asked = input.datasetIds === undefined ? [...project.datasets] : input.datasetIds.map((d, i) => uuid(d, `datasetIds[${i}]`));
    if (asked.length === 0) throw invalid('datasetIds', 'name at least one dataset');
    datasets = [];
    for (const [i, dsId] of asked.entries()) {
      const d = await loadDataset(db, dsId).catch(() => {
        throw invalid(`datasetIds[${i}]`, `dataset ${dsId} does not exist`);
      });
      if (!hasRole(actor, 'admin') && !inScope(actor.sites, d.site)) throw new GovernanceError('forbidden', `release.create: dataset ${d.id} belongs to site ${d.site}, outside your scope`);
      datasets.push(d);
    }
    for (const d of datasets) {
      // The release folder must not be walked as part of the data it is assembled from.
      const rel = path.relative(d.path, out);
      if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) throw invalid('out', `is inside the folder of dataset ${d.id}`);
    }
    if (await stat(out).catch(() => undefined)) throw invalid('out', 'already exists: a release goes into a new folder');
    const parent = await stat(path.dirname(out)).catch(() => undefined);
    if (!parent?.isDirectory()) throw invalid('out', 'its parent folder does not exist');
  } catch (e) {
    if (e instanceof GovernanceError) await auditRefusal(db, actor, what, e, now);
    throw e;
  }

  const governance = await governanceChecks(db, project, datasets, datasets.map((d) => d.id), now);
  const notRun = (reason: string): ReleaseCheck[] => ['consent', 'verify', 'k-anonymity'].map((check) => ({ check, result: 'not-run' as const, reason }));
  if (failed(governance.checks).length > 0) {
    const checks = [...governance.checks, ...notRun('not run: a governance check failed, so the data were not read')];
    throw await recordRefusal(db, actor, { id, project, agreement: governance.agreement, out, checks, exclusions: [] }, now);
  }
  const agreement = governance.agreement!;

  // Assembled beside `out` (same file system, so the final rename is atomic), hidden by its dot.
  const temp = path.join(path.dirname(out), `.${path.basename(out)}.partial-${id}`);
  let renamed = false;
  try {
    await mkdir(temp);
    const assembled = await assemble(db, project, datasets, temp, now);
    const data = await dataChecks(project, datasets, temp, assembled);
    const checks = [...governance.checks, ...data.checks];
    if (failed(checks).length > 0) {
      throw await recordRefusal(db, actor, { id, project, agreement, out, checks, exclusions: assembled.exclusions }, now);
    }
    const manifest: Manifest = {
      format: 'radanon-release/1',
      releaseId: id,
      createdAt: now.toISOString(),
      actor: { id: actor.id, name: actor.name },
      project: { id: project.id, title: project.title, purpose: project.purpose, institution: project.institution, country: project.country, targetK: project.targetK, quasiIdentifiers: project.quasiIdentifiers },
      agreement: { id: agreement.id, kind: agreement.kind, title: agreement.title, reference: agreement.reference },
      datasets: datasets.map((d) => ({ id: d.id, site: d.site, country: d.country, transfer: governance.transfers.get(d.id)! })),
      subjects: assembled.subjects,
      files: assembled.files,
      checks,
      risk: data.risk,
    };
    await writeFile(path.join(temp, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n', { flag: 'wx' });

    const outcome = await db.transaction(async (tx): Promise<{ stale: ReleaseCheck[] } | { release: Release }> => {
      // The state may have moved while the files were copied (an approval expired, an agreement
      // was terminated): the release is recorded only if the governance still holds.
      const again = await governanceChecks(tx, await loadProject(tx, projectId, now), datasets, datasets.map((d) => d.id), now);
      if (failed(again.checks).length > 0) return { stale: again.checks };
      await tx.run(
        "INSERT INTO releases (id, project_id, agreement_id, status, out_path, checks, manifest, exclusions, actor_id, created_at) VALUES (?, ?, ?, 'released', ?, ?, ?, ?, ?, ?)",
        [id, projectId, agreement.id, out, JSON.stringify(checks), JSON.stringify(manifest), JSON.stringify(assembled.exclusions), actor.id, now.toISOString()],
      );
      for (const s of assembled.subjects) await tx.run('INSERT INTO release_subjects (release_id, research_id) VALUES (?, ?)', [id, s]);
      await recordAudit(tx, {
        actor,
        action: 'release.create',
        target: projectId,
        outcome: 'ok',
        at: now,
        details: { releaseId: id, agreementId: agreement.id, subjects: assembled.subjects.length, files: assembled.files.length, excludedSubjects: assembled.considered - assembled.subjects.length, k: data.risk.k },
      });
      // Last, so a failure before it rolls the record back and leaves `out` absent; a retried
      // transaction does not rename twice.
      if (!renamed) {
        await rename(temp, out);
        renamed = true;
      }
      return { release: { id, projectId, agreementId: agreement.id, status: 'released', out, checks, manifest, exclusions: assembled.exclusions, actorId: actor.id, createdAt: now.toISOString() } };
    });
    if ('stale' in outcome) {
      throw await recordRefusal(db, actor, { id, project, agreement, out, checks: [...outcome.stale, ...data.checks], exclusions: assembled.exclusions }, now);
    }
    return outcome.release;
  } catch (e) {
    // The record did not commit: `out` must not hold a release nobody recorded.
    if (renamed) await rm(out, { recursive: true, force: true });
    throw e;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

interface ReleaseRow {
  id: string;
  project_id: string;
  agreement_id: string | null;
  status: string;
  out_path: string;
  checks: string;
  manifest: string | null;
  exclusions: string;
  actor_id: string;
  created_at: string;
  [key: string]: unknown;
}

function fromRow(r: ReleaseRow, withExclusions: boolean): Release {
  return {
    id: r.id,
    projectId: r.project_id,
    agreementId: r.agreement_id,
    status: r.status === 'released' ? 'released' : 'refused',
    out: r.out_path,
    checks: parseJson<ReleaseCheck[]>(r.checks),
    manifest: r.manifest === null ? null : parseJson<Manifest>(r.manifest),
    exclusions: withExclusions ? parseJson<Exclusion[]>(r.exclusions) : [],
    actorId: r.actor_id,
    createdAt: r.created_at,
  };
}

/** Researchers see a release's manifest, not who was left out and why. */
function seesExclusions(actor: Actor): boolean {
  return hasRole(actor, 'curator') || hasRole(actor, 'admin') || hasRole(actor, 'dpo');
}

async function requireReleaseReader(db: Db, actor: Actor, projectId: string, now: Date): Promise<void> {
  requireRole(actor, 'release.read');
  const project = await loadProject(db, projectId, now);
  requireVisible(actor, project);
}

/** One release (released or refused) with its checks and manifest. */
export async function getRelease(db: Db, actor: Actor, input: { releaseId: string }, options: { now?: Date } = {}): Promise<Release> {
  const now = timeOf(options.now);
  const releaseId = uuid(input?.releaseId, 'releaseId');
  try {
    const row = await db.get<ReleaseRow>('SELECT * FROM releases WHERE id = ?', [releaseId]);
    if (!row) throw new GovernanceError('not-found', `release ${releaseId} does not exist`);
    await requireReleaseReader(db, actor, row.project_id, now).catch((e: unknown) => {
      if (e instanceof GovernanceError && e.code === 'not-found') throw new GovernanceError('not-found', `release ${releaseId} does not exist`);
      throw e;
    });
    return fromRow(row, seesExclusions(actor));
  } catch (e) {
    if (e instanceof GovernanceError && e.code === 'forbidden') await auditRefusal(db, actor, { action: 'release.read', target: releaseId }, e, now);
    throw e;
  }
}

/** The releases of a project, oldest first. */
export async function listReleases(db: Db, actor: Actor, input: { projectId: string }, options: { now?: Date } = {}): Promise<Release[]> {
  const now = timeOf(options.now);
  const projectId = uuid(input?.projectId, 'projectId');
  try {
    await requireReleaseReader(db, actor, projectId, now);
  } catch (e) {
    if (e instanceof GovernanceError && e.code === 'forbidden') await auditRefusal(db, actor, { action: 'release.read', target: projectId }, e, now);
    throw e;
  }
  const rows = await db.all<ReleaseRow>('SELECT * FROM releases WHERE project_id = ? ORDER BY created_at, id', [projectId]);
  return rows.map((r) => fromRow(r, seesExclusions(actor)));
}

/** The released (not refused) releases that hold a research ID: who must be told of a withdrawal. */
export async function releasesOfSubject(db: Db, actor: Actor, input: { researchId: string }): Promise<{ releaseId: string; projectId: string; createdAt: string }[]> {
  const researchId = text(input?.researchId, 'researchId', { max: 200 });
  if (!(hasRole(actor, 'admin') || hasRole(actor, 'dpo') || hasRole(actor, 'curator'))) {
    const e = new GovernanceError('forbidden', 'release.read: which releases hold a subject is for curators, admins and the DPO');
    await auditRefusal(db, actor, { action: 'release.read', target: '' }, e);
    throw e;
  }
  const rows = await db.all<{ release_id: string; project_id: string; created_at: string }>(
    "SELECT s.release_id, r.project_id, r.created_at FROM release_subjects s JOIN releases r ON r.id = s.release_id WHERE s.research_id = ? AND r.status = 'released' ORDER BY r.created_at",
    [researchId],
  );
  const out: { releaseId: string; projectId: string; createdAt: string }[] = [];
  for (const r of rows) {
    const project = await loadProject(db, r.project_id, new Date());
    if (canSeeProject(actor, project)) out.push({ releaseId: r.release_id, projectId: r.project_id, createdAt: r.created_at });
  }
  return out;
}
