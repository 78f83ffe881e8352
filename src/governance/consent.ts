/**
 * The consent registry, keyed by the research ID that `deid` assigns, never by a real identity.
 *
 * Every expression of a subject's will is an event in an append-only, time-ordered log:
 * - `broad`: broad consent with its permitted uses as DUO codes (a later broad consent replaces an
 *   earlier one, and a refusal);
 * - `refuse`: a recorded refusal of broad consent (it blocks consent waivers for good: 45 CFR
 *   46.116(f)(1));
 * - `grant` / `withdraw` for one project, or for one purpose (a DUO permission such as HMB);
 * - `withdraw` with neither project nor purpose: withdrawal from every use.
 * Each event has the time it takes effect (`at`: the date on the form, the moment of the click)
 * and the time it was recorded; decisions use the first, so re-importing an old form never
 * overrides a later withdrawal.
 *
 * How `consentStatus` decides for a project at a time t, from the events in effect at t:
 * 1. Broad track: the latest of the broad consents and refusals. A broad consent whose codes
 *    permit the project's purpose (duo.ts, `purposePermitted`) permits; a refusal forbids; a broad
 *    consent that does not cover the purpose says nothing either way (so it does not cancel a
 *    grant the subject gave for that project).
 * 2. Dynamic track: every grant or withdrawal for this project, for a purpose that covers one of
 *    the project's uses, and every withdrawal from all use.
 * 3. The latest of these decides. Events taking effect at the same instant: a withdrawal or
 *    refusal wins over a grant or broad consent, so a subject who changed their mind within one
 *    clock tick is not included. Hence a withdrawal at time t applies to every release after t,
 *    until the subject grants again.
 * With no deciding event the subject is not included (basis 'none').
 */
import { randomUUID } from 'node:crypto';
import type { Actor } from './actor.js';
import { inScope } from './actor.js';
import { recordAudit, recordAuditAlone } from './audit.js';
import type { Db, SchemaModule } from './db.js';
import { checkConsentCode, duoLabel, formatDuoCode, isDuoPermission, parseDuoCode, purposePermitted, type ProjectPurpose } from './duo.js';
import { GovernanceError } from './errors.js';
import { authorize } from './permissions.js';

export const CONSENT_KINDS = ['broad', 'grant', 'withdraw', 'refuse'] as const;
export type ConsentKind = (typeof CONSENT_KINDS)[number];

export const CONSENT_SCHEMA: SchemaModule = {
  name: 'consent',
  steps: [
    [
      // One row per subject: the site that answers for them (the scope curators act in).
      `CREATE TABLE consent_subjects (
        research_id TEXT NOT NULL PRIMARY KEY,
        site TEXT NOT NULL,
        created_at TEXT NOT NULL
      )`,
      `CREATE TABLE consent_events (
        id TEXT NOT NULL PRIMARY KEY,
        research_id TEXT NOT NULL REFERENCES consent_subjects (research_id),
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('broad', 'grant', 'withdraw', 'refuse')),
        project_id TEXT,
        purpose TEXT,
        codes TEXT NOT NULL,
        effective_at TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        source TEXT NOT NULL,
        reference TEXT,
        CONSTRAINT consent_events_subject_seq_key UNIQUE (research_id, seq)
      )`,
      `CREATE INDEX consent_events_subject_idx ON consent_events (research_id, effective_at)`,
      `CREATE INDEX consent_subjects_site_idx ON consent_subjects (site)`,
    ],
  ],
};

export interface ConsentEventInput {
  readonly researchId: string;
  /** The site that answers for the subject; fixed by the subject's first event. */
  readonly site: string;
  readonly kind: ConsentKind;
  /** Broad consent: the permitted uses and conditions, as DUO codes (at least one permission). */
  readonly codes?: readonly string[];
  /** Grant or withdraw: the project concerned … */
  readonly projectId?: string;
  /** … or the purpose, a DUO permission (GRU, HMB, DS(…), POA, CC, NRES). */
  readonly purpose?: string;
  /** When the event takes effect (ISO 8601); default now; never in the future. */
  readonly at?: string;
  /** Where it came from: 'api', 'csv', 'fhir', 'paper form' …; default 'api'. */
  readonly source?: string;
  /** A reference to the source document (form number, FHIR Consent id); never a name. */
  readonly reference?: string;
}

export interface ConsentEvent {
  readonly id: string;
  readonly researchId: string;
  readonly site: string;
  /** Order of recording for this subject, from 1. */
  readonly seq: number;
  readonly kind: ConsentKind;
  readonly codes: readonly string[];
  readonly projectId: string | null;
  readonly purpose: string | null;
  readonly at: string;
  readonly recordedAt: string;
  readonly recordedBy: string;
  readonly source: string;
  readonly reference: string | null;
}

export type ConsentBasis = 'broad' | 'dynamic' | 'none' | 'refused' | 'withdrawn';

export interface ConsentDecision {
  readonly permitted: boolean;
  readonly reason: string;
  readonly basis: ConsentBasis;
  /** The event that decided, if any. */
  readonly eventId?: string;
}

export interface ConsentQuery {
  readonly projectId: string;
  /** The project's purpose as DUO codes. */
  readonly purposeCodes: readonly string[];
  /** The moment of use (a release); default now. */
  readonly at?: Date;
  /** The recipient's country and institution, for GS and IS conditions. */
  readonly country?: string;
  readonly institution?: string;
}

// ---------------------------------------------------------------------------------------------
// Validation

/**
 * A research ID: what `deid` writes as Patient ID (prefix + 12 Crockford base-32 characters) or
 * a site's own pseudonym from a lookup table. Letters, digits, '.', '_' and '-', 3 to 64 of
 * them: no spaces, '^' or '@', so a person's name, a DICOM person name or an e-mail address is
 * refused.
 */
export const RESEARCH_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

function invalid(field: string, reason: string): GovernanceError {
  return new GovernanceError('invalid', `${field}: ${reason}`, [{ check: field, reason }]);
}

export function validResearchId(value: unknown, field = 'researchId'): string {
  if (typeof value !== 'string' || !RESEARCH_ID.test(value)) {
    throw invalid(field, 'a research ID as deid assigns it: 3–64 letters, digits, ".", "_" or "-" (never a name)');
  }
  return value;
}

function validId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ID.test(value)) throw invalid(field, 'an id of letters, digits, ".", "_", ":" or "-"');
  return value;
}

function validTime(value: unknown, field: string, now: Date): string {
  if (value === undefined) return now.toISOString();
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/.test(value)) {
    throw invalid(field, 'an ISO 8601 date or date-time with a time zone, e.g. 2026-03-01 or 2026-03-01T09:30:00Z');
  }
  const t = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(t.getTime())) throw invalid(field, 'not a valid date');
  // A minute of clock skew between the recording machine and the store is tolerated.
  if (t.getTime() > now.getTime() + 60_000) throw invalid(field, 'lies in the future: consent takes effect when given, not before');
  return t.toISOString();
}

function validText(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > max || /[\u0000-\u001f]/.test(value)) throw invalid(field, `text of 1–${max} characters without control characters`);
  return value.trim();
}

/** Checks an event and returns it in canonical form (codes canonical, time normalised). */
export function validateConsentEvent(input: ConsentEventInput, now: Date, prefix = ''): Required<Omit<ConsentEventInput, 'projectId' | 'purpose' | 'reference'>> & {
  projectId: string | null;
  purpose: string | null;
  reference: string | null;
} {
  const f = (name: string) => `${prefix}${name}`;
  if (input === null || typeof input !== 'object') throw invalid(f('event'), 'an object');
  const researchId = validResearchId(input.researchId, f('researchId'));
  const site = validId(input.site, f('site'));
  if (!(CONSENT_KINDS as readonly unknown[]).includes(input.kind)) throw invalid(f('kind'), `one of ${CONSENT_KINDS.join(', ')}`);
  const kind = input.kind;
  const at = validTime(input.at, f('at'), now);
  const source = input.source === undefined ? 'api' : validText(input.source, f('source'), 100);
  const reference = input.reference === undefined || input.reference === null || input.reference === '' ? null : validText(input.reference, f('reference'), 200);
  let codes: string[] = [];
  let projectId: string | null = null;
  let purpose: string | null = null;
  if (kind === 'broad') {
    if (!Array.isArray(input.codes) || input.codes.length === 0) throw invalid(f('codes'), 'broad consent needs its permitted uses as DUO codes, e.g. ["HMB"]');
    input.codes.forEach((c, i) => {
      const checked = checkConsentCode(c);
      if (!checked.ok) throw invalid(`${f('codes')}[${i}]`, checked.reason);
      if (!codes.includes(checked.code)) codes.push(checked.code);
    });
    if (!codes.some(isDuoPermission)) throw invalid(f('codes'), 'name at least one permitted use (NRES, GRU, HMB, DS(…), POA or CC)');
    if (input.projectId !== undefined || input.purpose !== undefined) throw invalid(f('projectId'), 'broad consent is not for one project or purpose: use kind "grant"');
  } else {
    if (input.codes !== undefined && (!Array.isArray(input.codes) || input.codes.length > 0)) throw invalid(f('codes'), `only broad consent carries codes, not ${kind}`);
    if (input.projectId !== undefined && input.purpose !== undefined) throw invalid(f('purpose'), 'give a project or a purpose, not both');
    if (input.projectId !== undefined) projectId = validId(input.projectId, f('projectId'));
    if (input.purpose !== undefined) {
      const checked = checkConsentCode(input.purpose);
      if (!checked.ok) throw invalid(f('purpose'), checked.reason);
      if (!isDuoPermission(checked.code)) throw invalid(f('purpose'), `${duoLabel(checked.code)} is a condition, not a purpose: give a permission (GRU, HMB, DS(…), POA, CC)`);
      purpose = checked.code;
    }
    if (kind === 'grant' && projectId === null && purpose === null) throw invalid(f('projectId'), 'a grant names a project or a purpose (for every use, record broad consent)');
    if (kind === 'refuse' && (projectId !== null || purpose !== null)) throw invalid(f('projectId'), 'a refusal is of broad consent: to refuse one project or purpose, record a withdrawal');
  }
  return { researchId, site, kind, at, source, reference, codes, projectId, purpose };
}

// ---------------------------------------------------------------------------------------------
// Rows

type EventRow = {
  id: string;
  research_id: string;
  site: string;
  seq: number;
  kind: string;
  project_id: string | null;
  purpose: string | null;
  codes: string;
  effective_at: string;
  recorded_at: string;
  recorded_by: string;
  source: string;
  reference: string | null;
};

const EVENT_SELECT = `SELECT e.id, e.research_id, s.site, e.seq, e.kind, e.project_id, e.purpose, e.codes, e.effective_at, e.recorded_at, e.recorded_by, e.source, e.reference
  FROM consent_events e JOIN consent_subjects s ON s.research_id = e.research_id`;

function eventOf(r: EventRow): ConsentEvent {
  return {
    id: r.id,
    researchId: r.research_id,
    site: r.site,
    seq: Number(r.seq),
    kind: r.kind as ConsentKind,
    codes: JSON.parse(r.codes) as string[],
    projectId: r.project_id,
    purpose: r.purpose,
    at: r.effective_at,
    recordedAt: r.recorded_at,
    recordedBy: r.recorded_by,
    source: r.source,
    reference: r.reference,
  };
}

/** The site of a subject, or undefined when no consent has been recorded for them. */
export async function subjectSite(db: Db, researchId: string): Promise<string | undefined> {
  return (await db.get<{ site: string }>('SELECT site FROM consent_subjects WHERE research_id = ?', [researchId]))?.site;
}

/**
 * Appends validated events inside a transaction (used by the single-event operation and by the
 * CSV and FHIR imports, which hold the whole file in one transaction).
 */
export async function appendConsentEvents(tx: Db, actor: Actor, events: readonly ReturnType<typeof validateConsentEvent>[], now: Date, labels?: readonly string[]): Promise<ConsentEvent[]> {
  const out: ConsentEvent[] = [];
  for (const [i, e] of events.entries()) {
    const where = labels?.[i] ? `${labels[i]}: ` : '';
    const existing = await tx.get<{ site: string }>('SELECT site FROM consent_subjects WHERE research_id = ?', [e.researchId]);
    if (existing && existing.site !== e.site) {
      throw new GovernanceError('conflict', `${where}site: the subject's consent is held by another site`, [{ check: 'site', reason: "the subject's consent is held by another site" }]);
    }
    if (!existing) await tx.run('INSERT INTO consent_subjects (research_id, site, created_at) VALUES (?, ?, ?)', [e.researchId, e.site, now.toISOString()]);
    const last = await tx.get<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM consent_events WHERE research_id = ?', [e.researchId]);
    const seq = (last?.seq === null || last?.seq === undefined ? 0 : Number(last.seq)) + 1;
    const event: ConsentEvent = {
      id: randomUUID(),
      researchId: e.researchId,
      site: e.site,
      seq,
      kind: e.kind,
      codes: e.codes,
      projectId: e.projectId,
      purpose: e.purpose,
      at: e.at,
      recordedAt: now.toISOString(),
      recordedBy: actor.id,
      source: e.source,
      reference: e.reference,
    };
    await tx.run(
      'INSERT INTO consent_events (id, research_id, seq, kind, project_id, purpose, codes, effective_at, recorded_at, recorded_by, source, reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [event.id, event.researchId, seq, event.kind, event.projectId, event.purpose, JSON.stringify(event.codes), event.at, event.recordedAt, event.recordedBy, event.source, event.reference],
    );
    out.push(event);
  }
  return out;
}

/** Audits a refused consent operation in its own transaction and rethrows. */
/**
 * A whole file of consent events (CSV rows, FHIR resources) recorded in one transaction with one
 * audit entry, after the actor's right for every site in it is checked.
 */
export async function importConsentEvents(
  db: Db,
  actor: Actor,
  format: 'csv' | 'fhir',
  events: readonly ReturnType<typeof validateConsentEvent>[],
  now: Date,
  labels?: readonly string[],
): Promise<{ events: number; subjects: number }> {
  const sites = [...new Set(events.map((e) => e.site))].sort();
  for (const site of sites) authorize(actor, 'consent.import', site);
  return db.transaction(async (tx) => {
    const recorded = await appendConsentEvents(tx, actor, events, now, labels);
    const subjects = new Set(recorded.map((e) => e.researchId)).size;
    await recordAudit(tx, { actor, action: 'consent.import', target: '', outcome: 'ok', details: { format, events: recorded.length, subjects, sites, eventIds: recorded.map((e) => e.id) }, at: now });
    return { events: recorded.length, subjects };
  });
}

export async function auditedRefusal(db: Db, actor: Actor, action: string, target: string, now: Date, e: unknown): Promise<never> {
  if (e instanceof GovernanceError) {
    await recordAuditAlone(db, { actor, action, target, outcome: 'refused', details: { code: e.code, reason: e.message }, at: now });
  }
  throw e;
}

// ---------------------------------------------------------------------------------------------
// Operations

/** Records one consent event (curators, for subjects of their sites). */
export async function recordConsentEvent(db: Db, actor: Actor, input: ConsentEventInput, options: { now?: Date } = {}): Promise<ConsentEvent> {
  const now = options.now ?? new Date();
  const target = typeof input?.researchId === 'string' && RESEARCH_ID.test(input.researchId) ? input.researchId : '';
  try {
    authorize(actor, 'consent.record');
    const event = validateConsentEvent(input, now);
    authorize(actor, 'consent.record', event.site);
    return await db.transaction(async (tx) => {
      const [recorded] = await appendConsentEvents(tx, actor, [event], now);
      await recordAudit(tx, {
        actor,
        action: 'consent.record',
        target: event.researchId,
        outcome: 'ok',
        details: { eventId: recorded!.id, kind: event.kind, site: event.site, codes: event.codes, projectId: event.projectId, purpose: event.purpose, at: event.at, source: event.source },
        at: now,
      });
      return recorded!;
    });
  } catch (e) {
    return auditedRefusal(db, actor, 'consent.record', target, now, e);
  }
}

async function readableSite(db: Db, actor: Actor, researchId: string): Promise<string> {
  const site = await subjectSite(db, researchId);
  // Outside one's scope, a subject is as unknown as a subject with no record: 404 either way.
  if (site === undefined || !inScope(actor.sites, site)) throw new GovernanceError('not-found', 'researchId: no consent is recorded for this research ID in your sites');
  return site;
}

/** A subject's events in the order they take effect (curators of the site, the DPO, admins). */
export async function listConsent(db: Db, actor: Actor, input: { readonly researchId: string }, options: { now?: Date } = {}): Promise<{ researchId: string; site: string; events: ConsentEvent[] }> {
  const now = options.now ?? new Date();
  try {
    authorize(actor, 'consent.read');
    const researchId = validResearchId(input?.researchId);
    const site = await readableSite(db, actor, researchId);
    return { researchId, site, events: await consentEventsOf(db, researchId) };
  } catch (e) {
    return auditedRefusal(db, actor, 'consent.read', '', now, e);
  }
}

/** The decision for one subject, as the actor may ask it (curators of the site, the DPO, admins). */
export async function readConsentStatus(db: Db, actor: Actor, input: { readonly researchId: string } & ConsentQuery, options: { now?: Date } = {}): Promise<ConsentDecision> {
  const now = options.now ?? new Date();
  try {
    authorize(actor, 'consent.read');
    const researchId = validResearchId(input?.researchId);
    validId(input.projectId, 'projectId');
    if (!Array.isArray(input.purposeCodes)) throw invalid('purposeCodes', 'a list of DUO codes');
    await readableSite(db, actor, researchId);
    return await consentStatus(db, researchId, { ...input, at: input.at ?? now });
  } catch (e) {
    return auditedRefusal(db, actor, 'consent.read', '', now, e);
  }
}

/** Every event of a subject, ordered as decisions read them. */
export async function consentEventsOf(db: Db, researchId: string): Promise<ConsentEvent[]> {
  const rows = await db.all<EventRow>(`${EVENT_SELECT} WHERE e.research_id = ? ORDER BY e.effective_at, e.seq`, [researchId]);
  return rows.map(eventOf);
}

/** Subjects of some sites (for exports and listings), by research ID. */
export async function subjectsOfSites(db: Db, sites: readonly string[]): Promise<string[]> {
  const rows = sites.includes('*')
    ? await db.all<{ research_id: string }>('SELECT research_id FROM consent_subjects ORDER BY research_id')
    : sites.length === 0
      ? []
      : await db.all<{ research_id: string }>(`SELECT research_id FROM consent_subjects WHERE site IN (${sites.map(() => '?').join(', ')}) ORDER BY research_id`, sites);
  return rows.map((r) => r.research_id);
}

// ---------------------------------------------------------------------------------------------
// Decisions

const BLOCKING: ReadonlySet<ConsentKind> = new Set(['withdraw', 'refuse']);

/** Order of events taking effect: by time; at the same instant withdrawals and refusals last (they win); then as recorded. */
function compareEvents(a: ConsentEvent, b: ConsentEvent): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  const ba = BLOCKING.has(a.kind) ? 1 : 0;
  const bb = BLOCKING.has(b.kind) ? 1 : 0;
  if (ba !== bb) return ba - bb;
  return a.seq - b.seq;
}

function describe(e: ConsentEvent): string {
  const day = e.at.slice(0, 10);
  switch (e.kind) {
    case 'broad':
      return `broad consent of ${day} (${e.codes.map(duoLabel).join(', ')})`;
    case 'refuse':
      return `refusal of broad consent of ${day}`;
    case 'grant':
      return e.projectId !== null ? `grant for this project of ${day}` : `grant for ${duoLabel(e.purpose!)} of ${day}`;
    case 'withdraw':
      return e.projectId !== null ? `withdrawal from this project of ${day}` : e.purpose !== null ? `withdrawal from ${duoLabel(e.purpose)} of ${day}` : `withdrawal from all use of ${day}`;
  }
}

/**
 * The decision from a subject's events (pure: the rule described at the top of this file). Events
 * that take effect after `query.at` are ignored.
 */
export function evaluateConsent(events: readonly ConsentEvent[], query: ConsentQuery): ConsentDecision {
  const at = (query.at ?? new Date()).toISOString();
  const inEffect = events.filter((e) => e.at <= at).sort(compareEvents);
  const purpose: ProjectPurpose = { codes: query.purposeCodes, projectId: query.projectId, country: query.country, institution: query.institution };
  const uses = query.purposeCodes.map((c) => parseDuoCode(c)).filter((c) => c !== undefined && isDuoPermission(formatDuoCode(c)));
  const usesPurpose: ProjectPurpose = { codes: uses.map((c) => formatDuoCode(c!)) };
  const coversUse = (code: string) => uses.length > 0 && purposePermitted([code], usesPurpose).permitted;

  // Broad track: only its latest event counts.
  let broad: ConsentEvent | undefined;
  for (const e of inEffect) if (e.kind === 'broad' || e.kind === 'refuse') broad = e;
  const deciding: { event: ConsentEvent; permits: boolean; reason: string }[] = [];
  let broadNote = '';
  if (broad?.kind === 'refuse') deciding.push({ event: broad, permits: false, reason: describe(broad) });
  if (broad?.kind === 'broad') {
    const verdict = purposePermitted(broad.codes, purpose, { consentDate: broad.at, at: query.at ?? new Date() });
    if (verdict.permitted) deciding.push({ event: broad, permits: true, reason: `${describe(broad)}: ${verdict.reason}` });
    else broadNote = `${describe(broad)} does not permit the purpose: ${verdict.reason.replace(/^the consent/, 'it')}`;
  }
  // Dynamic track.
  for (const e of inEffect) {
    if (e.kind !== 'grant' && e.kind !== 'withdraw') continue;
    const applies = e.projectId !== null ? e.projectId === query.projectId : e.purpose !== null ? coversUse(e.purpose) : e.kind === 'withdraw';
    if (applies) deciding.push({ event: e, permits: e.kind === 'grant', reason: describe(e) });
  }
  if (deciding.length === 0) {
    return { permitted: false, basis: broad ? 'broad' : 'none', reason: broadNote || 'no consent is recorded for this purpose' };
  }
  deciding.sort((a, b) => compareEvents(a.event, b.event));
  const last = deciding[deciding.length - 1]!;
  const e = last.event;
  const basis: ConsentBasis = e.kind === 'broad' ? 'broad' : e.kind === 'grant' ? 'dynamic' : e.kind === 'refuse' ? 'refused' : 'withdrawn';
  return { permitted: last.permits, basis, reason: last.permits ? `permitted by the ${last.reason}` : `not permitted: ${last.reason}`, eventId: e.id };
}

/** The decision for a subject and a project's purpose at a time (the release gate's question). */
export async function consentStatus(db: Db, researchId: string, query: ConsentQuery): Promise<ConsentDecision> {
  return evaluateConsent(await consentEventsOf(db, researchId), query);
}

/** The decisions for many subjects at once (one query per 500 subjects), by research ID. */
export async function consentStatuses(db: Db, researchIds: readonly string[], query: ConsentQuery): Promise<Map<string, ConsentDecision>> {
  const byId = new Map<string, ConsentEvent[]>();
  const unique = [...new Set(researchIds)];
  for (let i = 0; i < unique.length; i += 500) {
    const chunk = unique.slice(i, i + 500);
    const rows = await db.all<EventRow>(`${EVENT_SELECT} WHERE e.research_id IN (${chunk.map(() => '?').join(', ')}) ORDER BY e.effective_at, e.seq`, chunk);
    for (const r of rows) {
      const list = byId.get(r.research_id) ?? [];
      list.push(eventOf(r));
      byId.set(r.research_id, list);
    }
  }
  const out = new Map<string, ConsentDecision>();
  for (const id of unique) out.set(id, evaluateConsent(byId.get(id) ?? [], query));
  return out;
}

/** Whether a refusal of broad consent has been recorded for the subject, in effect by `at`. */
export async function hasRefused(db: Db, researchId: string, at: Date): Promise<boolean> {
  const row = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM consent_events WHERE research_id = ? AND kind = 'refuse' AND effective_at <= ?", [researchId, at.toISOString()]);
  return Number(row?.n ?? 0) > 0;
}
