/**
 * Agreements: data-sharing agreements (between the consortium's sites) and data-use agreements
 * (with a recipient institution). Each names its parties (with country and, for a US recipient,
 * whether it is certified under the EU–US Data Privacy Framework), the permitted uses (DUO terms),
 * its term, the signatures, the projects it covers, the safeguards for transfers out of the EU/EEA
 * (Standard Contractual Clauses with their module and transfer impact assessment, Binding
 * Corporate Rules, or an Article 49 derogation) and, for a HIPAA limited data set, the elements
 * 45 CFR 164.514(e)(4)(ii) requires of a data use agreement.
 *
 * An agreement is active at a time when every party has signed, the time is inside its term and
 * it has not been terminated. An agreement's content is fixed once anyone has signed it: an
 * amendment is a new agreement, so a signature always covers the text that was signed.
 */
import { randomUUID } from 'node:crypto';
import type { Actor } from './actor.js';
import type { Db, SchemaModule } from './db.js';
import { GovernanceError } from './errors.js';
import {
  audited,
  auditRefusal,
  bool,
  canSeeProject,
  country,
  duoCodes,
  integer,
  invalid,
  isoTime,
  loadProject,
  optionalText,
  parseJson,
  requireObject,
  requireRole,
  text,
  timeOf,
  uuid,
} from './projects.js';

export const AGREEMENT_KINDS = ['data-sharing', 'data-use'] as const;
export type AgreementKind = (typeof AGREEMENT_KINDS)[number];

/** provider: discloses the data (a site, a covered entity); recipient: receives it; member: a consortium site under a data-sharing agreement. */
export const PARTY_ROLES = ['provider', 'recipient', 'member'] as const;
export type PartyRole = (typeof PARTY_ROLES)[number];

export interface Party {
  readonly id: string;
  readonly name: string;
  readonly role: PartyRole;
  /** ISO 3166-1 alpha-2. */
  readonly country: string;
  /** For a US party: certified under the EU–US Data Privacy Framework (the adequacy decision covers only those). */
  readonly dpfCertified: boolean;
  /** For a Canadian party: an organisation subject to PIPEDA (the adequacy decision covers only those). */
  readonly pipedaCovered: boolean;
}

export interface Signature {
  readonly partyId: string;
  /** The signatory's name, as on the document. */
  readonly signedBy: string;
  /** Their capacity (e.g. "Director of Research"). */
  readonly signerRole: string;
  readonly signedAt: string;
  /** The account that recorded the signature. */
  readonly recordedBy: string;
}

/** The 2021 Standard Contractual Clauses (Commission Implementing Decision (EU) 2021/914) modules. */
export const SCC_MODULES = {
  1: 'controller to controller',
  2: 'controller to processor',
  3: 'processor to processor',
  4: 'processor to controller',
} as const;
export type SccModule = keyof typeof SCC_MODULES;

/** The derogations of GDPR Article 49(1), for specific situations only. */
export const ARTICLE_49_GROUNDS = {
  'explicit-consent': 'Art. 49(1)(a): the data subject explicitly consented to the proposed transfer, informed of its risks',
  contract: 'Art. 49(1)(b): necessary for a contract between the data subject and the controller',
  'contract-in-interest': 'Art. 49(1)(c): necessary for a contract concluded in the interest of the data subject',
  'public-interest': 'Art. 49(1)(d): necessary for important reasons of public interest',
  'legal-claims': 'Art. 49(1)(e): necessary for legal claims',
  'vital-interests': 'Art. 49(1)(f): necessary to protect vital interests when the data subject cannot consent',
  'public-register': 'Art. 49(1)(g): made from a public register',
  'compelling-legitimate-interests': 'Art. 49(1), second subparagraph: compelling legitimate interests, not repetitive, limited number of data subjects',
} as const;
export type Article49Ground = keyof typeof ARTICLE_49_GROUNDS;

export interface TransferSafeguards {
  readonly scc?: { readonly module: SccModule; readonly tiaReference: string; readonly tiaDate: string };
  readonly bcr?: { readonly approvalReference: string; readonly authority: string };
  readonly derogation?: { readonly ground: Article49Ground; readonly justification: string };
}

/**
 * A data use agreement for a HIPAA limited data set must (45 CFR 164.514(e)(4)(ii)):
 * (A) establish the permitted uses and disclosures by the recipient;
 * (B) establish who is permitted to use or receive the limited data set;
 * (C) provide that the recipient will (1) not use or further disclose the information other than
 * as permitted by the agreement or required by law, (2) use appropriate safeguards, (3) report
 * any use or disclosure not provided for by the agreement of which it becomes aware, (4) ensure
 * its agents agree to the same restrictions and conditions, and (5) not identify the information
 * or contact the individuals.
 */
export interface LimitedDataSetElements {
  /** (A) */
  readonly permittedUsesAndDisclosures: string;
  /** (B) */
  readonly whoMayUseOrReceive: string;
  /** (C)(1) */
  readonly noUseBeyondAgreement: true;
  /** (C)(2): the safeguards, described. */
  readonly safeguards: string;
  /** (C)(3) */
  readonly reportViolations: true;
  /** (C)(4) */
  readonly agentsBound: true;
  /** (C)(5) */
  readonly noReidentificationOrContact: true;
}

const LDS_TEXT = ['permittedUsesAndDisclosures', 'whoMayUseOrReceive', 'safeguards'] as const;
const LDS_PROMISES = ['noUseBeyondAgreement', 'reportViolations', 'agentsBound', 'noReidentificationOrContact'] as const;
const LDS_CITATION: Record<(typeof LDS_TEXT)[number] | (typeof LDS_PROMISES)[number], string> = {
  permittedUsesAndDisclosures: '164.514(e)(4)(ii)(A)',
  whoMayUseOrReceive: '164.514(e)(4)(ii)(B)',
  noUseBeyondAgreement: '164.514(e)(4)(ii)(C)(1)',
  safeguards: '164.514(e)(4)(ii)(C)(2)',
  reportViolations: '164.514(e)(4)(ii)(C)(3)',
  agentsBound: '164.514(e)(4)(ii)(C)(4)',
  noReidentificationOrContact: '164.514(e)(4)(ii)(C)(5)',
};

export interface Agreement {
  readonly id: string;
  readonly kind: AgreementKind;
  readonly title: string;
  readonly reference: string | null;
  readonly parties: readonly Party[];
  /** DUO term ids. */
  readonly permittedUses: readonly string[];
  readonly startsAt: string;
  readonly endsAt: string;
  readonly signatures: readonly Signature[];
  readonly projects: readonly string[];
  readonly transfer: TransferSafeguards;
  readonly limitedDataSet: LimitedDataSetElements | null;
  readonly terminatedAt: string | null;
  readonly terminationReason: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
}

export const AGREEMENTS_SCHEMA: SchemaModule = {
  name: 'agreements',
  steps: [
    [
      `CREATE TABLE agreements (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        reference TEXT,
        parties TEXT NOT NULL,
        permitted_uses TEXT NOT NULL,
        starts_at TEXT NOT NULL,
        ends_at TEXT NOT NULL,
        transfer TEXT NOT NULL,
        limited_data_set TEXT,
        terminated_at TEXT,
        termination_reason TEXT,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
      )`,
      `CREATE TABLE agreement_signatures (
        agreement_id TEXT NOT NULL REFERENCES agreements (id),
        party_id TEXT NOT NULL,
        signed_by TEXT NOT NULL,
        signer_role TEXT NOT NULL,
        signed_at TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        CONSTRAINT agreement_signatures_pkey PRIMARY KEY (agreement_id, party_id)
      )`,
      `CREATE TABLE agreement_projects (
        agreement_id TEXT NOT NULL REFERENCES agreements (id),
        project_id TEXT NOT NULL REFERENCES projects (id),
        linked_at TEXT NOT NULL,
        CONSTRAINT agreement_projects_pkey PRIMARY KEY (agreement_id, project_id)
      )`,
      'CREATE INDEX agreement_projects_project_idx ON agreement_projects (project_id)',
    ],
  ],
};

// ---------------------------------------------------------------------------------------------
// Validation

function parties(value: unknown, kind: AgreementKind): Party[] {
  if (!Array.isArray(value)) throw invalid('parties', 'must be a list');
  if (value.length < 2) throw invalid('parties', 'an agreement needs at least two parties');
  if (value.length > 100) throw invalid('parties', 'must hold at most 100 parties');
  const out = value.map((v, i) => {
    const f = `parties[${i}]`;
    const o = requireObject(v, f);
    const role = o.role;
    if (typeof role !== 'string' || !(PARTY_ROLES as readonly string[]).includes(role)) throw invalid(`${f}.role`, `must be one of ${PARTY_ROLES.join(', ')}`);
    const c = country(o.country, `${f}.country`);
    const dpfCertified = o.dpfCertified === undefined ? false : bool(o.dpfCertified, `${f}.dpfCertified`);
    if (dpfCertified && c !== 'US') throw invalid(`${f}.dpfCertified`, 'only a US organisation can be certified under the EU–US Data Privacy Framework');
    const pipedaCovered = o.pipedaCovered === undefined ? false : bool(o.pipedaCovered, `${f}.pipedaCovered`);
    if (pipedaCovered && c !== 'CA') throw invalid(`${f}.pipedaCovered`, 'PIPEDA coverage applies to Canadian organisations only');
    return { id: randomUUID(), name: text(o.name, `${f}.name`, { max: 300 }), role: role as PartyRole, country: c, dpfCertified, pipedaCovered };
  });
  const names = new Set<string>();
  out.forEach((p, i) => {
    if (names.has(p.name)) throw invalid(`parties[${i}].name`, `"${p.name}" is listed twice`);
    names.add(p.name);
  });
  if (kind === 'data-use') {
    if (!out.some((p) => p.role === 'provider')) throw invalid('parties', 'a data-use agreement needs a provider');
    if (!out.some((p) => p.role === 'recipient')) throw invalid('parties', 'a data-use agreement needs a recipient');
    if (out.some((p) => p.role === 'member')) throw invalid('parties', "a data-use agreement's parties are providers and recipients");
  }
  return out;
}

function safeguards(value: unknown): TransferSafeguards {
  if (value === undefined || value === null) return {};
  const o = requireObject(value, 'transfer');
  for (const k of Object.keys(o)) if (k !== 'scc' && k !== 'bcr' && k !== 'derogation') throw invalid(`transfer.${k}`, 'is not a transfer safeguard (scc, bcr, derogation)');
  const out: { scc?: TransferSafeguards['scc']; bcr?: TransferSafeguards['bcr']; derogation?: TransferSafeguards['derogation'] } = {};
  if (o.scc !== undefined) {
    const s = requireObject(o.scc, 'transfer.scc');
    const module = integer(s.module, 'transfer.scc.module', 1, 4) as SccModule;
    // The 2021 SCCs require the parties to assess the laws of the destination (Clause 14): no
    // clauses without a transfer impact assessment.
    const tiaReference = text(s.tiaReference, 'transfer.scc.tiaReference', { max: 300 });
    const tiaDate = isoTime(s.tiaDate, 'transfer.scc.tiaDate');
    out.scc = { module, tiaReference, tiaDate };
  }
  if (o.bcr !== undefined) {
    const b = requireObject(o.bcr, 'transfer.bcr');
    out.bcr = { approvalReference: text(b.approvalReference, 'transfer.bcr.approvalReference', { max: 300 }), authority: text(b.authority, 'transfer.bcr.authority', { max: 300 }) };
  }
  if (o.derogation !== undefined) {
    const d = requireObject(o.derogation, 'transfer.derogation');
    if (typeof d.ground !== 'string' || !(d.ground in ARTICLE_49_GROUNDS)) throw invalid('transfer.derogation.ground', `must be one of ${Object.keys(ARTICLE_49_GROUNDS).join(', ')}`);
    out.derogation = { ground: d.ground as Article49Ground, justification: text(d.justification, 'transfer.derogation.justification', { max: 5000 }) };
  }
  return out;
}

function limitedDataSet(value: unknown): LimitedDataSetElements | null {
  if (value === undefined || value === null) return null;
  const o = requireObject(value, 'limitedDataSet');
  for (const k of LDS_TEXT) {
    if (o[k] === undefined) throw invalid(`limitedDataSet.${k}`, `is required by 45 CFR ${LDS_CITATION[k]}`);
    text(o[k], `limitedDataSet.${k}`, { max: 10_000 });
  }
  for (const k of LDS_PROMISES) {
    if (o[k] !== true) throw invalid(`limitedDataSet.${k}`, `must be true: 45 CFR ${LDS_CITATION[k]} requires the recipient to promise it`);
  }
  return {
    permittedUsesAndDisclosures: (o.permittedUsesAndDisclosures as string).trim(),
    whoMayUseOrReceive: (o.whoMayUseOrReceive as string).trim(),
    noUseBeyondAgreement: true,
    safeguards: (o.safeguards as string).trim(),
    reportViolations: true,
    agentsBound: true,
    noReidentificationOrContact: true,
  };
}

// ---------------------------------------------------------------------------------------------
// Rows

interface AgreementRow {
  id: string;
  kind: string;
  title: string;
  reference: string | null;
  parties: string;
  permitted_uses: string;
  starts_at: string;
  ends_at: string;
  transfer: string;
  limited_data_set: string | null;
  terminated_at: string | null;
  termination_reason: string | null;
  created_by: string;
  created_at: string;
  [key: string]: unknown;
}

/** An agreement with its signatures and linked projects (for the G2 modules); not-found when absent. */
export async function loadAgreement(tx: Db, id: string): Promise<Agreement> {
  const r = await tx.get<AgreementRow>('SELECT * FROM agreements WHERE id = ?', [id]);
  if (!r) throw new GovernanceError('not-found', `agreement ${id} does not exist`);
  const signatures = await tx.all<{ party_id: string; signed_by: string; signer_role: string; signed_at: string; recorded_by: string }>(
    'SELECT party_id, signed_by, signer_role, signed_at, recorded_by FROM agreement_signatures WHERE agreement_id = ? ORDER BY signed_at, party_id',
    [id],
  );
  const projects = await tx.all<{ project_id: string }>('SELECT project_id FROM agreement_projects WHERE agreement_id = ? ORDER BY linked_at, project_id', [id]);
  return {
    id: r.id,
    kind: r.kind as AgreementKind,
    title: r.title,
    reference: r.reference,
    parties: parseJson<Party[]>(r.parties),
    permittedUses: parseJson<string[]>(r.permitted_uses),
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    signatures: signatures.map((s) => ({ partyId: s.party_id, signedBy: s.signed_by, signerRole: s.signer_role, signedAt: s.signed_at, recordedBy: s.recorded_by })),
    projects: projects.map((p) => p.project_id),
    transfer: parseJson<TransferSafeguards>(r.transfer),
    limitedDataSet: r.limited_data_set === null ? null : parseJson<LimitedDataSetElements>(r.limited_data_set),
    terminatedAt: r.terminated_at,
    terminationReason: r.termination_reason,
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}

/** The agreements linked to a project. */
export async function agreementsOfProject(tx: Db, projectId: string): Promise<Agreement[]> {
  const rows = await tx.all<{ agreement_id: string }>('SELECT agreement_id FROM agreement_projects WHERE project_id = ? ORDER BY linked_at, agreement_id', [projectId]);
  const out: Agreement[] = [];
  for (const r of rows) out.push(await loadAgreement(tx, r.agreement_id));
  return out;
}

export interface AgreementStatus {
  readonly active: boolean;
  /** Why it is not active: each missing signature, the term, the termination. */
  readonly reasons: readonly string[];
}

/** Whether the agreement is in force at `at`, and if not, every reason why. */
export function agreementStatus(a: Agreement, at: Date): AgreementStatus {
  const reasons: string[] = [];
  const t = at.getTime();
  if (a.terminatedAt !== null && Date.parse(a.terminatedAt) <= t) reasons.push(`agreement ${a.id} was terminated on ${a.terminatedAt}`);
  if (t < Date.parse(a.startsAt)) reasons.push(`agreement ${a.id} starts on ${a.startsAt}`);
  if (t >= Date.parse(a.endsAt)) reasons.push(`agreement ${a.id} ended on ${a.endsAt}`);
  for (const p of a.parties) {
    const s = a.signatures.find((x) => x.partyId === p.id);
    if (!s) reasons.push(`agreement ${a.id} is not signed by ${p.name} (${p.role})`);
    else if (Date.parse(s.signedAt) > t) reasons.push(`agreement ${a.id} is signed by ${p.name} only from ${s.signedAt}`);
  }
  return { active: reasons.length === 0, reasons };
}

// ---------------------------------------------------------------------------------------------
// Operations

export interface CreateAgreementInput {
  readonly kind: AgreementKind;
  readonly title: string;
  readonly reference?: string;
  readonly parties: readonly { name: string; role: PartyRole; country: string; dpfCertified?: boolean; pipedaCovered?: boolean }[];
  readonly permittedUses: readonly string[];
  readonly startsAt: string;
  readonly endsAt: string;
  readonly transfer?: {
    scc?: { module: number; tiaReference: string; tiaDate: string };
    bcr?: { approvalReference: string; authority: string };
    derogation?: { ground: Article49Ground; justification: string };
  };
  readonly limitedDataSet?: LimitedDataSetElements;
  /** Projects to link at once. */
  readonly projects?: readonly string[];
}

/** An admin or the DPO records an agreement (unsigned: it becomes active when every party has signed). */
export async function createAgreement(db: Db, actor: Actor, input: CreateAgreementInput, options: { now?: Date } = {}): Promise<Agreement> {
  const now = timeOf(options.now);
  const id = randomUUID();
  return audited(db, actor, { action: 'agreement.create', target: id }, async (tx, audit) => {
    requireRole(actor, 'agreement.create');
    const o = requireObject(input, 'agreement');
    if (typeof o.kind !== 'string' || !(AGREEMENT_KINDS as readonly string[]).includes(o.kind)) throw invalid('kind', `must be one of ${AGREEMENT_KINDS.join(', ')}`);
    const kind = o.kind as AgreementKind;
    const title = text(o.title, 'title', { max: 300 });
    const reference = optionalText(o.reference, 'reference', 300) ?? null;
    const ps = parties(o.parties, kind);
    const permittedUses = duoCodes(o.permittedUses, 'permittedUses');
    const startsAt = isoTime(o.startsAt, 'startsAt');
    const endsAt = isoTime(o.endsAt, 'endsAt');
    if (Date.parse(endsAt) <= Date.parse(startsAt)) throw invalid('endsAt', 'must be after startsAt');
    const transfer = safeguards(o.transfer);
    const lds = limitedDataSet(o.limitedDataSet);
    if (lds && kind !== 'data-use') throw invalid('limitedDataSet', 'a limited data set is disclosed under a data-use agreement');
    const projects = o.projects === undefined ? [] : (Array.isArray(o.projects) ? o.projects : [o.projects]).map((p, i) => uuid(p, `projects[${i}]`));
    await tx.run(
      'INSERT INTO agreements (id, kind, title, reference, parties, permitted_uses, starts_at, ends_at, transfer, limited_data_set, terminated_at, termination_reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)',
      [id, kind, title, reference, JSON.stringify(ps), JSON.stringify(permittedUses), startsAt, endsAt, JSON.stringify(transfer), lds ? JSON.stringify(lds) : null, actor.id, now.toISOString()],
    );
    for (const [i, p] of projects.entries()) {
      await loadProject(tx, p, now).catch(() => {
        throw invalid(`projects[${i}]`, `project ${p} does not exist`);
      });
      await tx.run('INSERT INTO agreement_projects (agreement_id, project_id, linked_at) VALUES (?, ?, ?)', [id, p, now.toISOString()]);
    }
    await audit({ kind, parties: ps.map((p) => ({ name: p.name, role: p.role, country: p.country })), permittedUses, startsAt, endsAt, safeguards: Object.keys(transfer), limitedDataSet: lds !== null, projects });
    return loadAgreement(tx, id);
  }, now);
}

/** Records one party's signature (once per party; the signature time may not be in the future). */
export async function signAgreement(
  db: Db,
  actor: Actor,
  input: { agreementId: string; partyId: string; signedBy: string; signerRole: string; signedAt?: string },
  options: { now?: Date } = {},
): Promise<Agreement> {
  const now = timeOf(options.now);
  const agreementId = uuid(input?.agreementId, 'agreementId');
  return audited(db, actor, { action: 'agreement.sign', target: agreementId }, async (tx, audit) => {
    requireRole(actor, 'agreement.sign');
    const partyId = uuid(input.partyId, 'partyId');
    const signedBy = text(input.signedBy, 'signedBy', { max: 300 });
    const signerRole = text(input.signerRole, 'signerRole', { max: 300 });
    const signedAt = input.signedAt === undefined ? now.toISOString() : isoTime(input.signedAt, 'signedAt');
    if (Date.parse(signedAt) > now.getTime()) throw invalid('signedAt', 'is in the future');
    const a = await loadAgreement(tx, agreementId);
    if (a.terminatedAt !== null) throw new GovernanceError('conflict', `agreement ${agreementId} was terminated`);
    const party = a.parties.find((p) => p.id === partyId);
    if (!party) throw invalid('partyId', `is not a party of agreement ${agreementId}`);
    if (a.signatures.some((s) => s.partyId === partyId)) throw new GovernanceError('conflict', `${party.name} has already signed agreement ${agreementId}`);
    await tx.run('INSERT INTO agreement_signatures (agreement_id, party_id, signed_by, signer_role, signed_at, recorded_by) VALUES (?, ?, ?, ?, ?, ?)', [
      agreementId,
      partyId,
      signedBy,
      signerRole,
      signedAt,
      actor.id,
    ]);
    await audit({ party: party.name, role: party.role, signerRole, signedAt });
    return loadAgreement(tx, agreementId);
  }, now);
}

/** Links a project to an agreement (the release gate looks for an active one covering the project). */
export async function linkProject(db: Db, actor: Actor, input: { agreementId: string; projectId: string }, options: { now?: Date } = {}): Promise<Agreement> {
  const now = timeOf(options.now);
  const agreementId = uuid(input?.agreementId, 'agreementId');
  return audited(db, actor, { action: 'agreement.link', target: agreementId }, async (tx, audit) => {
    requireRole(actor, 'agreement.link');
    const projectId = uuid(input.projectId, 'projectId');
    const a = await loadAgreement(tx, agreementId);
    await loadProject(tx, projectId, now);
    if (a.projects.includes(projectId)) throw new GovernanceError('conflict', `project ${projectId} is already linked to agreement ${agreementId}`);
    await tx.run('INSERT INTO agreement_projects (agreement_id, project_id, linked_at) VALUES (?, ?, ?)', [agreementId, projectId, now.toISOString()]);
    await audit({ projectId });
    return loadAgreement(tx, agreementId);
  }, now);
}

/** Terminates an agreement from now on (releases under it stop). */
export async function terminateAgreement(db: Db, actor: Actor, input: { agreementId: string; reason: string }, options: { now?: Date } = {}): Promise<Agreement> {
  const now = timeOf(options.now);
  const agreementId = uuid(input?.agreementId, 'agreementId');
  return audited(db, actor, { action: 'agreement.terminate', target: agreementId }, async (tx, audit) => {
    requireRole(actor, 'agreement.terminate');
    const reason = text(input.reason, 'reason', { max: 2000 });
    const a = await loadAgreement(tx, agreementId);
    if (a.terminatedAt !== null) throw new GovernanceError('conflict', `agreement ${agreementId} was already terminated on ${a.terminatedAt}`);
    await tx.run('UPDATE agreements SET terminated_at = ?, termination_reason = ? WHERE id = ?', [now.toISOString(), reason, agreementId]);
    await audit({ reason });
    return loadAgreement(tx, agreementId);
  }, now);
}

async function visibleTo(db: Db, actor: Actor, a: Agreement, now: Date): Promise<boolean> {
  if (!actor.roles.every((r) => r === 'researcher')) return true;
  for (const p of a.projects) {
    const project = await loadProject(db, p, now);
    if (canSeeProject(actor, project)) return true;
  }
  return false;
}

/** One agreement with its status at `now`; researchers see those linked to projects they may see. */
export async function getAgreement(db: Db, actor: Actor, input: { agreementId: string }, options: { now?: Date } = {}): Promise<Agreement & { status: AgreementStatus }> {
  const now = timeOf(options.now);
  const agreementId = uuid(input?.agreementId, 'agreementId');
  try {
    requireRole(actor, 'agreement.read');
  } catch (e) {
    await auditRefusal(db, actor, { action: 'agreement.read', target: agreementId }, e as GovernanceError, now);
    throw e;
  }
  const a = await loadAgreement(db, agreementId);
  if (!(await visibleTo(db, actor, a, now))) throw new GovernanceError('not-found', `agreement ${agreementId} does not exist`);
  return { ...a, status: agreementStatus(a, now) };
}

/** The agreements the actor may see, each with its status at `now`. */
export async function listAgreements(db: Db, actor: Actor, input: { projectId?: string } = {}, options: { now?: Date } = {}): Promise<(Agreement & { status: AgreementStatus })[]> {
  const now = timeOf(options.now);
  try {
    requireRole(actor, 'agreement.read');
  } catch (e) {
    await auditRefusal(db, actor, { action: 'agreement.read', target: '' }, e as GovernanceError, now);
    throw e;
  }
  const ids =
    input.projectId === undefined
      ? await db.all<{ id: string }>('SELECT id FROM agreements ORDER BY created_at, id')
      : await db.all<{ id: string }>('SELECT agreement_id AS id FROM agreement_projects WHERE project_id = ? ORDER BY linked_at, agreement_id', [uuid(input.projectId, 'projectId')]);
  const out: (Agreement & { status: AgreementStatus })[] = [];
  for (const { id } of ids) {
    const a = await loadAgreement(db, id);
    if (await visibleTo(db, actor, a, now)) out.push({ ...a, status: agreementStatus(a, now) });
  }
  return out;
}
