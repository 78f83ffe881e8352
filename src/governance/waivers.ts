/**
 * Consent waivers granted by an IRB, ethics committee or privacy board for one project: the
 * committee, its reference, the date granted and the expiry, and each criterion of the US Common
 * Rule (45 CFR 46.116(f)(3)(i)–(v)) and of the HIPAA Privacy Rule (45 CFR 164.512(i)(2)(ii)(A)–(C),
 * with the three elements of (A)) recorded as met, with the committee's justification. A waiver
 * that leaves any criterion unmet or unjustified is refused, naming the criterion: the
 * regulations allow a waiver only when the committee finds every one of them.
 *
 * A waiver never covers a subject who refused broad consent (45 CFR 46.116(f)(1): "an IRB cannot
 * waive consent" for them), nor one who withdrew from the project or from all use: a waiver
 * stands in for consent that was not asked for, not for consent that was refused or taken back.
 */
import { randomUUID } from 'node:crypto';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { auditedRefusal, consentEventsOf, evaluateConsent, validResearchId } from './consent.js';
import type { Db, SchemaModule } from './db.js';
import { GovernanceError } from './errors.js';
import { authorize } from './permissions.js';

/** The criteria, in the regulations' words (abridged where they are long). */
export const WAIVER_CRITERIA = {
  'common-rule-46.116(f)(3)(i)': 'the research involves no more than minimal risk to the subjects',
  'common-rule-46.116(f)(3)(ii)': 'the research could not practicably be carried out without the requested waiver or alteration',
  'common-rule-46.116(f)(3)(iii)':
    'if the research involves using identifiable private information or identifiable biospecimens, the research could not practicably be carried out without using such information or biospecimens in an identifiable format',
  'common-rule-46.116(f)(3)(iv)': 'the waiver or alteration will not adversely affect the rights and welfare of the subjects',
  'common-rule-46.116(f)(3)(v)': 'whenever appropriate, the subjects or legally authorized representatives will be provided with additional pertinent information after participation',
  'hipaa-164.512(i)(2)(ii)(A)(1)': 'minimal risk to privacy: an adequate plan to protect the identifiers from improper use and disclosure',
  'hipaa-164.512(i)(2)(ii)(A)(2)':
    'minimal risk to privacy: an adequate plan to destroy the identifiers at the earliest opportunity consistent with conduct of the research, unless there is a health or research justification for retaining them or retention is required by law',
  'hipaa-164.512(i)(2)(ii)(A)(3)':
    'minimal risk to privacy: adequate written assurances that the protected health information will not be reused or disclosed to any other person or entity, except as required by law, for authorized oversight of the research, or for other permitted research',
  'hipaa-164.512(i)(2)(ii)(B)': 'the research could not practicably be conducted without the waiver or alteration',
  'hipaa-164.512(i)(2)(ii)(C)': 'the research could not practicably be conducted without access to and use of the protected health information',
} as const;

export type WaiverCriterion = keyof typeof WAIVER_CRITERIA;
export const WAIVER_CRITERION_IDS = Object.keys(WAIVER_CRITERIA) as WaiverCriterion[];

export const WAIVERS_SCHEMA: SchemaModule = {
  name: 'waivers',
  steps: [
    [
      `CREATE TABLE consent_waivers (
        id TEXT NOT NULL PRIMARY KEY,
        project_id TEXT NOT NULL,
        committee TEXT NOT NULL,
        reference TEXT NOT NULL,
        granted_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        criteria TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        revoked_at TEXT
      )`,
      `CREATE INDEX consent_waivers_project_idx ON consent_waivers (project_id)`,
    ],
  ],
};

export interface CriterionFinding {
  readonly met: boolean;
  /** The committee's reasons, as recorded in its minutes. */
  readonly justification: string;
}

export interface WaiverInput {
  readonly projectId: string;
  /** The IRB, ethics committee or privacy board. */
  readonly committee: string;
  /** Its reference for the decision (protocol or approval number). */
  readonly reference: string;
  /** Date (or date-time) granted, ISO 8601. */
  readonly granted: string;
  /** Date (or date-time) the waiver ends, ISO 8601; a date means the start of that day, UTC. */
  readonly expires: string;
  readonly criteria: { readonly [K in WaiverCriterion]?: CriterionFinding };
}

export interface Waiver {
  readonly id: string;
  readonly projectId: string;
  readonly committee: string;
  readonly reference: string;
  readonly granted: string;
  readonly expires: string;
  readonly criteria: { readonly [K in WaiverCriterion]: CriterionFinding };
  readonly recordedAt: string;
  readonly recordedBy: string;
  readonly revoked: string | null;
}

function invalid(field: string, reason: string): GovernanceError {
  return new GovernanceError('invalid', `${field}: ${reason}`, [{ check: field, reason }]);
}

function text(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > max || /[\u0000-\u001f]/.test(value)) throw invalid(field, `text of 1–${max} characters`);
  return value.trim();
}

function time(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/.test(value)) throw invalid(field, 'an ISO 8601 date, e.g. 2026-03-01');
  const t = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(t.getTime())) throw invalid(field, 'not a valid date');
  return t.toISOString();
}

/** Checks a waiver; every criterion must be present, met and justified. */
export function validateWaiver(input: WaiverInput, now: Date): Omit<Waiver, 'id' | 'recordedAt' | 'recordedBy' | 'revoked'> {
  if (input === null || typeof input !== 'object') throw invalid('waiver', 'an object');
  if (typeof input.projectId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/.test(input.projectId)) throw invalid('projectId', 'the id of a project');
  const committee = text(input.committee, 'committee', 200);
  const reference = text(input.reference, 'reference', 200);
  const granted = time(input.granted, 'granted');
  const expires = time(input.expires, 'expires');
  if (granted > now.toISOString()) throw invalid('granted', 'lies in the future');
  if (expires <= granted) throw invalid('expires', 'must be after the date granted');
  if (input.criteria === null || typeof input.criteria !== 'object') throw invalid('criteria', `an object with a finding for each of ${WAIVER_CRITERION_IDS.join(', ')}`);
  for (const key of Object.keys(input.criteria)) {
    if (!(key in WAIVER_CRITERIA)) throw invalid(`criteria.${key}`, 'is not a criterion of 45 CFR 46.116(f)(3) or 164.512(i)(2)(ii)');
  }
  const criteria = {} as Record<WaiverCriterion, CriterionFinding>;
  for (const id of WAIVER_CRITERION_IDS) {
    const finding = input.criteria[id];
    if (finding === undefined) throw invalid(`criteria.${id}`, `missing: the committee must find that ${WAIVER_CRITERIA[id]}`);
    if (finding === null || typeof finding !== 'object' || typeof finding.met !== 'boolean') throw invalid(`criteria.${id}`, '{ met: boolean, justification: text }');
    if (!finding.met) throw invalid(`criteria.${id}`, `not met: a waiver needs the finding that ${WAIVER_CRITERIA[id]}`);
    criteria[id] = { met: true, justification: text(finding.justification, `criteria.${id}.justification`, 4000) };
  }
  return { projectId: input.projectId, committee, reference, granted, expires, criteria };
}

type WaiverRow = {
  id: string;
  project_id: string;
  committee: string;
  reference: string;
  granted_at: string;
  expires_at: string;
  criteria: string;
  recorded_at: string;
  recorded_by: string;
  revoked_at: string | null;
};

const WAIVER_COLUMNS = 'id, project_id, committee, reference, granted_at, expires_at, criteria, recorded_at, recorded_by, revoked_at';

function waiverOf(r: WaiverRow): Waiver {
  return {
    id: r.id,
    projectId: r.project_id,
    committee: r.committee,
    reference: r.reference,
    granted: r.granted_at,
    expires: r.expires_at,
    criteria: JSON.parse(r.criteria) as Waiver['criteria'],
    recordedAt: r.recorded_at,
    recordedBy: r.recorded_by,
    revoked: r.revoked_at,
  };
}

/** Records a waiver for a project (curators and admins scoped to the project). */
export async function recordWaiver(db: Db, actor: Actor, input: WaiverInput, options: { now?: Date } = {}): Promise<Waiver> {
  const now = options.now ?? new Date();
  const target = typeof input?.projectId === 'string' ? input.projectId.slice(0, 100) : '';
  try {
    authorize(actor, 'waiver.record');
    const w = validateWaiver(input, now);
    authorize(actor, 'waiver.record', w.projectId);
    return await db.transaction(async (tx) => {
      const waiver: Waiver = { ...w, id: randomUUID(), recordedAt: now.toISOString(), recordedBy: actor.id, revoked: null };
      await tx.run(`INSERT INTO consent_waivers (${WAIVER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`, [
        waiver.id,
        waiver.projectId,
        waiver.committee,
        waiver.reference,
        waiver.granted,
        waiver.expires,
        JSON.stringify(waiver.criteria),
        waiver.recordedAt,
        waiver.recordedBy,
      ]);
      await recordAudit(tx, {
        actor,
        action: 'waiver.record',
        target: waiver.projectId,
        outcome: 'ok',
        details: { waiverId: waiver.id, committee: waiver.committee, reference: waiver.reference, granted: waiver.granted, expires: waiver.expires, criteria: WAIVER_CRITERION_IDS },
        at: now,
      });
      return waiver;
    });
  } catch (e) {
    return auditedRefusal(db, actor, 'waiver.record', target, now, e);
  }
}

/** Ends a waiver before its expiry (the committee withdrew it). */
export async function revokeWaiver(db: Db, actor: Actor, input: { readonly waiverId: string }, options: { now?: Date } = {}): Promise<Waiver> {
  const now = options.now ?? new Date();
  try {
    authorize(actor, 'waiver.record');
    if (typeof input?.waiverId !== 'string' || input.waiverId === '') throw invalid('waiverId', 'the id of a waiver');
    return await db.transaction(async (tx) => {
      const row = await tx.get<WaiverRow>(`SELECT ${WAIVER_COLUMNS} FROM consent_waivers WHERE id = ?`, [input.waiverId]);
      if (!row) throw new GovernanceError('not-found', 'waiverId: no such waiver');
      authorize(actor, 'waiver.record', row.project_id);
      if (row.revoked_at === null) await tx.run('UPDATE consent_waivers SET revoked_at = ? WHERE id = ?', [now.toISOString(), row.id]);
      await recordAudit(tx, { actor, action: 'waiver.revoke', target: row.project_id, outcome: 'ok', details: { waiverId: row.id }, at: now });
      return waiverOf({ ...row, revoked_at: row.revoked_at ?? now.toISOString() });
    });
  } catch (e) {
    return auditedRefusal(db, actor, 'waiver.revoke', '', now, e);
  }
}

/** A project's waivers, newest first. */
export async function listWaivers(db: Db, actor: Actor, input: { readonly projectId: string }, options: { now?: Date } = {}): Promise<Waiver[]> {
  const now = options.now ?? new Date();
  try {
    authorize(actor, 'waiver.read');
    if (typeof input?.projectId !== 'string' || input.projectId === '') throw invalid('projectId', 'the id of a project');
    authorize(actor, 'waiver.read', input.projectId);
    return await waiversOf(db, input.projectId);
  } catch (e) {
    return auditedRefusal(db, actor, 'waiver.read', '', now, e);
  }
}

export async function waiversOf(db: Db, projectId: string): Promise<Waiver[]> {
  const rows = await db.all<WaiverRow>(`SELECT ${WAIVER_COLUMNS} FROM consent_waivers WHERE project_id = ? ORDER BY granted_at DESC, id`, [projectId]);
  return rows.map(waiverOf);
}

export interface WaiverCoverage {
  readonly covered: boolean;
  readonly reason: string;
  readonly waiverId?: string;
}

/**
 * Whether a waiver of the project covers a subject at `at`: a waiver in force (granted, not yet
 * expired, not revoked), and no refusal of broad consent and no withdrawal from the project (or
 * from all use, or from a purpose of the project when `purposeCodes` are given) by the subject.
 */
export async function waiverCovers(db: Db, projectId: string, researchId: string, at: Date, options: { purposeCodes?: readonly string[] } = {}): Promise<WaiverCoverage> {
  validResearchId(researchId);
  const iso = at.toISOString();
  const waivers = await waiversOf(db, projectId);
  const inForce = waivers.find((w) => w.revoked === null && w.granted <= iso && iso < w.expires);
  if (!inForce) {
    const lapsed = waivers.find((w) => w.granted <= iso);
    const why = !lapsed ? 'the project has no consent waiver' : lapsed.revoked !== null && lapsed.revoked <= iso ? `the waiver ${lapsed.reference} was revoked` : `the waiver ${lapsed.reference} expired on ${lapsed.expires.slice(0, 10)}`;
    return { covered: false, reason: why };
  }
  const events = (await consentEventsOf(db, researchId)).filter((e) => e.at <= iso);
  if (events.some((e) => e.kind === 'refuse')) {
    return { covered: false, reason: 'the subject refused broad consent, and 45 CFR 46.116(f)(1) forbids waiving consent for them' };
  }
  const decision = evaluateConsent(events, { projectId, purposeCodes: options.purposeCodes ?? [], at });
  if (decision.basis === 'withdrawn' && !decision.permitted) {
    return { covered: false, reason: `a waiver does not override the subject's ${decision.reason.replace(/^not permitted: /, '')}` };
  }
  return { covered: true, reason: `covered by the waiver ${inForce.reference} of ${inForce.committee}, in force until ${inForce.expires.slice(0, 10)}`, waiverId: inForce.id };
}
