/**
 * Research projects: a researcher's proposal (purpose as DUO codes, requested datasets and fields,
 * institution, country, data security plan, the k-anonymity target and quasi-identifiers the
 * release gate measures) and its life cycle:
 *
 *   draft ─submit─► submitted ─open review─► under-review ─decide─► approved ──renew──► approved
 *     ▲                                          │                    │  (expiry passes: expired)
 *     └─update─ changes-requested ◄──────────────┤                    └─close (data destruction
 *               (resubmit: next review round)    └──► rejected          confirmed) ─► closed
 *
 * `expired` is not written by a sweep: an approved project whose expiry has passed at `now` IS
 * expired, so a release, a renewal or a listing at any time sees the same state without a job
 * having to run first. Votes, recusals, decisions and renewals live in dac.ts.
 *
 * This module also holds what the G2 modules (projects, dac, agreements, transfers, datasets,
 * release) share: the table of operations and the roles allowed to run them, input validation
 * that names the field, and the audited transaction wrapper.
 */
import { randomUUID } from 'node:crypto';
import type { Actor, Role } from './actor.js';
import { inScope } from './actor.js';
import { recordAudit, recordAuditAlone, type JsonValue } from './audit.js';
import type { Db, SchemaModule } from './db.js';
import { checkConsentCode, isDuoPermission } from './duo.js';
import { GovernanceError } from './errors.js';
import type { Permission } from './permissions.js';

// ---------------------------------------------------------------------------------------------
// Operations and roles

/**
 * Every G2 operation and the roles that may run it: one table, so the HTTP layer can enumerate
 * it for its access tests. Role is necessary, not sufficient: each operation also checks scope
 * (a researcher acts on projects they own or are scoped to, a curator on datasets of their sites,
 * a DAC member on projects in their scope).
 */
export const G2_OPERATIONS = {
  'project.create': { roles: ['researcher'], scope: 'none', description: 'draft a project proposal (the researcher becomes its owner)' },
  'project.update': { roles: ['researcher'], scope: 'project', description: 'edit a draft or a proposal sent back for changes (owner only)' },
  'project.submit': { roles: ['researcher'], scope: 'project', description: 'submit or resubmit a proposal to the DAC (owner only)' },
  /** Researchers see the projects they own or are scoped to; the DPO and admins see all. */
  'project.read': { roles: ['researcher', 'dac-member', 'admin', 'dpo', 'curator'], scope: 'project', description: 'read projects, their reviews and decisions' },
  'project.set-rule': { roles: ['admin'], scope: 'none', description: "set a project's decision rule (quorum, term, chair)" },
  'project.close': { roles: ['researcher', 'admin'], scope: 'project', description: 'close an approved or expired project, confirming data destruction (owner or admin)' },
  'dac.open-review': { roles: ['dac-member', 'admin'], scope: 'project', description: 'open the review of a submitted project' },
  'dac.vote': { roles: ['dac-member'], scope: 'project', description: 'vote in the open review round (once; not after recusal)' },
  'dac.recuse': { roles: ['dac-member'], scope: 'project', description: 'declare a conflict of interest and recuse' },
  /** Admins, or the DAC member named chair in the project's decision rule. */
  'dac.decide': { roles: ['admin', 'dac-member'], scope: 'project', description: "record the round's decision (admin or the project's chair)" },
  'dac.renew': { roles: ['admin', 'dac-member'], scope: 'project', description: "renew an approval (admin or the project's chair)" },
  'agreement.create': { roles: ['admin', 'dpo'], scope: 'none', description: 'record a data-sharing or data-use agreement' },
  'agreement.sign': { roles: ['admin', 'dpo'], scope: 'none', description: "record a party's signature" },
  'agreement.link': { roles: ['admin', 'dpo'], scope: 'none', description: 'link an agreement to a project' },
  'agreement.terminate': { roles: ['admin', 'dpo'], scope: 'none', description: 'terminate an agreement' },
  /** Researchers see the agreements linked to projects they may see. */
  'agreement.read': { roles: ['admin', 'dpo', 'dac-member', 'curator', 'researcher'], scope: 'none', description: 'read agreements' },
  'transfer.check': { roles: ['admin', 'dpo', 'curator', 'dac-member'], scope: 'none', description: 'check the transfer basis of a release to another country' },
  'dataset.register': { roles: ['curator', 'admin'], scope: 'site', description: 'register a de-identified folder as a dataset of a site' },
  'dataset.read': { roles: ['curator', 'admin', 'dpo', 'dac-member', 'researcher'], scope: 'none', description: 'read the dataset catalogue (ids, sites, countries; not paths for researchers)' },
  /** Curators: datasets of their sites, for projects in their project scope; admins: any. */
  'release.create': { roles: ['curator', 'admin'], scope: 'site', description: "assemble a release for an approved project from datasets of the curator's sites" },
  /** Researchers see the releases of projects they may see. */
  'release.read': { roles: ['curator', 'admin', 'dpo', 'researcher'], scope: 'project', description: 'read releases and their manifests' },
} as const satisfies Record<string, Permission>;

export type G2Operation = keyof typeof G2_OPERATIONS;

/** Refuses (403) an actor that holds none of the operation's roles. */
export function requireRole(actor: Actor, operation: G2Operation): void {
  const allowed: readonly Role[] = (G2_OPERATIONS[operation] as Permission).roles;
  if (!actor.roles.some((r) => allowed.includes(r))) {
    throw new GovernanceError('forbidden', `${operation} needs one of the roles ${allowed.join(', ')}`);
  }
}

export function hasRole(actor: Actor, role: Role): boolean {
  return actor.roles.includes(role);
}

// ---------------------------------------------------------------------------------------------
// Audited transactions

export interface AuditTarget {
  readonly action: string;
  readonly target: string;
}

/**
 * Runs `work` in one transaction with its audit entry (written by `work` through the `audit`
 * callback, so the entry can carry what the work produced). A GovernanceError (a refusal) is
 * recorded in a transaction of its own, since the work's was rolled back: failed attempts belong
 * in the trail.
 */
export async function audited<T>(
  db: Db,
  actor: Actor,
  what: AuditTarget,
  work: (tx: Db, audit: (details: Record<string, JsonValue | undefined>) => Promise<void>) => Promise<T>,
  at?: Date,
): Promise<T> {
  try {
    return await db.transaction(async (tx) => {
      let recorded = false;
      const result = await work(tx, async (details) => {
        await recordAudit(tx, { actor, action: what.action, target: what.target, outcome: 'ok', details, ...(at ? { at } : {}) });
        recorded = true;
      });
      if (!recorded) await recordAudit(tx, { actor, action: what.action, target: what.target, outcome: 'ok', ...(at ? { at } : {}) });
      return result;
    });
  } catch (e) {
    if (e instanceof GovernanceError) await auditRefusal(db, actor, what, e, at);
    else {
      // A breakage (not a refusal) is in the trail too, by its kind only: a driver's message can
      // quote the values of the row it failed on.
      const kind = (e as { code?: unknown } | null)?.code;
      await recordAuditAlone(db, { actor, action: what.action, target: what.target, outcome: 'failed', details: { error: e instanceof Error ? e.name : 'error', ...(typeof kind === 'string' ? { code: kind } : {}) }, ...(at ? { at } : {}) }).catch(() => undefined);
    }
    throw e;
  }
}

/** Records a refusal (role, scope, validation, state, gate) with its code and reason. */
export async function auditRefusal(db: Db, actor: Actor, what: AuditTarget, e: GovernanceError, at?: Date): Promise<void> {
  const details: Record<string, JsonValue> = { code: e.code, reason: e.message };
  if (e.details) details.checks = e.details.map((d) => ({ check: d.check, reason: d.reason }));
  await recordAuditAlone(db, { actor, action: what.action, target: what.target, outcome: 'refused', details, ...(at ? { at } : {}) });
}

// ---------------------------------------------------------------------------------------------
// Input validation: every message names the field.

export function invalid(field: string, reason: string): GovernanceError {
  return new GovernanceError('invalid', `${field}: ${reason}`, [{ check: field, reason }]);
}

export function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(field, 'must be an object');
  return value as Record<string, unknown>;
}

export function text(value: unknown, field: string, options: { max?: number } = {}): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(field, 'must be a non-empty text');
  const max = options.max ?? 10_000;
  if (value.length > max) throw invalid(field, `must be at most ${max} characters`);
  return value.trim();
}

export function optionalText(value: unknown, field: string, max = 10_000): string | undefined {
  if (value === undefined || value === null) return undefined;
  return text(value, field, { max });
}

export function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw invalid(field, `must be a whole number from ${min} to ${max}`);
  return value;
}

export function bool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalid(field, 'must be true or false');
  return value;
}

export function textList(value: unknown, field: string, options: { min?: number; max?: number } = {}): string[] {
  if (!Array.isArray(value)) throw invalid(field, 'must be a list');
  const min = options.min ?? 0;
  if (value.length < min) throw invalid(field, min === 1 ? 'must not be empty' : `must hold at least ${min} items`);
  if (value.length > (options.max ?? 1000)) throw invalid(field, `must hold at most ${options.max ?? 1000} items`);
  const out = value.map((v, i) => text(v, `${field}[${i}]`, { max: 1000 }));
  const seen = new Set<string>();
  out.forEach((v, i) => {
    if (seen.has(v)) throw invalid(`${field}[${i}]`, `"${v}" is listed twice`);
    seen.add(v);
  });
  return out;
}

/** An ISO 8601 time, returned in the store's form (UTC, milliseconds, Z). */
export function isoTime(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/.test(value)) {
    throw invalid(field, 'must be an ISO 8601 date (2026-01-31) or time with a zone (2026-01-31T12:00:00Z)');
  }
  const t = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(t.getTime())) throw invalid(field, 'is not a real date');
  return t.toISOString();
}

export function uuid(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) throw invalid(field, 'must be an id (a UUID)');
  return value.toLowerCase();
}

// CLDR's region names through ICU: a code it cannot name is not a region. Codes that name
// groupings rather than countries are refused by hand.
const REGION_NAMES = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
const NOT_COUNTRIES = new Set(['EU', 'EZ', 'UN', 'QO', 'ZZ', 'XA', 'XB']);

/** An ISO 3166-1 alpha-2 country code, upper case. */
export function country(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z]{2}$/.test(value)) throw invalid(field, 'must be an ISO 3166-1 alpha-2 country code (e.g. DE, US)');
  const code = value.toUpperCase();
  if (NOT_COUNTRIES.has(code) || REGION_NAMES.of(code) === undefined) throw invalid(field, `"${code}" is not an ISO 3166-1 alpha-2 country code`);
  return code;
}

/**
 * A list of DUO codes (id, DUO:0000042, or shorthand, GRU; values in parentheses where the term
 * needs one, DS(MONDO:0005015)), returned in canonical form. `needsPermission`: at least one must
 * be a permitted use (GRU, HMB, DS, POA, CC; NRES too for what a consent or agreement allows).
 */
export function duoCodes(value: unknown, field: string, options: { min?: number; needsPermission?: boolean } = {}): string[] {
  const list = textList(value, field, { min: options.min ?? 1, max: 50 });
  const codes = list.map((code, i) => {
    const checked = checkConsentCode(code);
    if (!checked.ok) throw invalid(`${field}[${i}]`, checked.reason);
    return checked.code;
  });
  if (new Set(codes).size !== codes.length) throw invalid(field, 'names one DUO code twice');
  if ((options.needsPermission ?? true) && !codes.some((c) => isDuoPermission(c))) throw invalid(field, 'must name a permitted use (GRU, HMB, DS(…), POA or CC)');
  return codes;
}

export function timeOf(now: Date | undefined): Date {
  const t = now ?? new Date();
  if (Number.isNaN(t.getTime())) throw invalid('now', 'is not a valid time');
  return t;
}

export function parseJson<T>(textValue: unknown): T {
  return JSON.parse(String(textValue)) as T;
}

// ---------------------------------------------------------------------------------------------
// Projects

export const PROJECT_STATES = ['draft', 'submitted', 'under-review', 'approved', 'rejected', 'changes-requested', 'expired', 'closed'] as const;
export type ProjectState = (typeof PROJECT_STATES)[number];

/**
 * How the DAC decides a review round: once `quorum` non-recused members have voted, the option
 * with a strict majority of the votes cast is the decision (approve, reject or request changes);
 * without one, the round stays open for more votes or for the chair (or an admin) to decide. An
 * approval runs for `termDays` from the decision. The chair is a DAC member who may record the
 * decision; null leaves that to admins.
 */
export interface DecisionRule {
  readonly quorum: number;
  readonly termDays: number;
  readonly chairId: string | null;
}

export const DEFAULT_DECISION_RULE: DecisionRule = Object.freeze({ quorum: 3, termDays: 365, chairId: null });
export const DEFAULT_TARGET_K = 5;
export const DEFAULT_QUASI_IDENTIFIERS: readonly string[] = Object.freeze(['age', 'sex']);

export interface Destruction {
  /** Who destroyed the data (a name or role at the recipient). */
  readonly by: string;
  readonly at: string;
  /** How: secure erase, crypto-shredding, … */
  readonly method: string;
  /** The account that confirmed it. */
  readonly confirmedBy: string;
}

export interface Project {
  readonly id: string;
  readonly title: string;
  readonly ownerId: string;
  readonly institution: string;
  /** The recipient's country (ISO 3166-1 alpha-2): where the data goes. */
  readonly country: string;
  /** The purpose as DUO term ids. */
  readonly purpose: readonly string[];
  /** Dataset ids requested (datasets.ts). */
  readonly datasets: readonly string[];
  /** Requested fields (DICOM keywords or descriptions), as proposed. */
  readonly fields: readonly string[];
  readonly securityPlan: string;
  readonly targetK: number;
  /** Fields of the risk measure (`radanon risk --fields` syntax: age, sex, weight=PatientWeight). */
  readonly quasiIdentifiers: readonly string[];
  /** The state at the time asked (an approval past its expiry reads as expired). */
  readonly state: ProjectState;
  /** The review round (1 for the first submission, +1 for each resubmission). */
  readonly round: number;
  readonly decisionRule: DecisionRule;
  /** Conditions of the current approval. */
  readonly conditions: readonly string[];
  readonly decidedAt: string | null;
  readonly expiresAt: string | null;
  readonly destruction: Destruction | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const PROJECTS_SCHEMA: SchemaModule = {
  name: 'projects',
  steps: [
    [
      `CREATE TABLE projects (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        owner_id TEXT NOT NULL,
        institution TEXT NOT NULL,
        country TEXT NOT NULL,
        purpose TEXT NOT NULL,
        datasets TEXT NOT NULL,
        fields TEXT NOT NULL,
        security_plan TEXT NOT NULL,
        target_k INTEGER NOT NULL,
        quasi_identifiers TEXT NOT NULL,
        state TEXT NOT NULL,
        round INTEGER NOT NULL,
        quorum INTEGER NOT NULL,
        term_days INTEGER NOT NULL,
        chair_id TEXT,
        conditions TEXT NOT NULL,
        decided_at TEXT,
        expires_at TEXT,
        destruction TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`,
      'CREATE INDEX projects_owner_idx ON projects (owner_id)',
      'CREATE INDEX projects_state_idx ON projects (state)',
    ],
  ],
};

interface ProjectRow {
  id: string;
  title: string;
  owner_id: string;
  institution: string;
  country: string;
  purpose: string;
  datasets: string;
  fields: string;
  security_plan: string;
  target_k: number;
  quasi_identifiers: string;
  state: string;
  round: number;
  quorum: number;
  term_days: number;
  chair_id: string | null;
  conditions: string;
  decided_at: string | null;
  expires_at: string | null;
  destruction: string | null;
  created_at: string;
  updated_at: string;
  [key: string]: unknown;
}

/** The state at `now`: an approval whose expiry has passed is expired. */
export function effectiveState(stored: string, expiresAt: string | null, now: Date): ProjectState {
  if (stored === 'approved' && expiresAt !== null && now.getTime() >= Date.parse(expiresAt)) return 'expired';
  return stored as ProjectState;
}

function fromRow(r: ProjectRow, now: Date): Project {
  return {
    id: r.id,
    title: r.title,
    ownerId: r.owner_id,
    institution: r.institution,
    country: r.country,
    purpose: parseJson<string[]>(r.purpose),
    datasets: parseJson<string[]>(r.datasets),
    fields: parseJson<string[]>(r.fields),
    securityPlan: r.security_plan,
    targetK: Number(r.target_k),
    quasiIdentifiers: parseJson<string[]>(r.quasi_identifiers),
    state: effectiveState(r.state, r.expires_at, now),
    round: Number(r.round),
    decisionRule: { quorum: Number(r.quorum), termDays: Number(r.term_days), chairId: r.chair_id },
    conditions: parseJson<string[]>(r.conditions),
    decidedAt: r.decided_at,
    expiresAt: r.expires_at,
    destruction: r.destruction === null ? null : parseJson<Destruction>(r.destruction),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The project as stored (for the G2 modules, inside their transactions); not-found when absent. */
export async function loadProject(tx: Db, id: string, now: Date): Promise<Project> {
  const row = await tx.get<ProjectRow>('SELECT * FROM projects WHERE id = ?', [id]);
  if (!row) throw new GovernanceError('not-found', `project ${id} does not exist`);
  return fromRow(row, now);
}

/**
 * Whether the actor may see the project: the DPO and admins see all; researchers the projects
 * they own or are scoped to; DAC members and curators those in their project scope.
 */
export function canSeeProject(actor: Actor, project: Pick<Project, 'id' | 'ownerId'>): boolean {
  if (hasRole(actor, 'admin') || hasRole(actor, 'dpo')) return true;
  if (hasRole(actor, 'researcher') && project.ownerId === actor.id) return true;
  return inScope(actor.projects, project.id);
}

/** Refuses an actor who may not see the project with not-found, so its existence does not leak. */
export function requireVisible(actor: Actor, project: Project): void {
  if (!canSeeProject(actor, project)) throw new GovernanceError('not-found', `project ${project.id} does not exist`);
}

/** The transitions and the states each one starts from. */
export const TRANSITIONS = {
  update: ['draft', 'changes-requested'],
  submit: ['draft', 'changes-requested'],
  'open-review': ['submitted'],
  vote: ['under-review'],
  recuse: ['submitted', 'under-review'],
  decide: ['under-review'],
  renew: ['approved', 'expired'],
  close: ['approved', 'expired'],
  'set-rule': ['draft', 'submitted', 'under-review', 'changes-requested'],
} as const satisfies Record<string, readonly ProjectState[]>;

export type Transition = keyof typeof TRANSITIONS;

/** Refuses (409) a transition that the project's state does not allow, naming both. */
export function requireState(project: Project, transition: Transition): void {
  const from: readonly ProjectState[] = TRANSITIONS[transition];
  if (!from.includes(project.state)) {
    throw new GovernanceError('conflict', `project ${project.id} is ${project.state}: ${transition} is possible only when it is ${from.join(' or ')}`, [
      { check: 'state', reason: `${transition} from ${project.state} is not allowed` },
    ]);
  }
}

export interface ProposalInput {
  readonly title: string;
  readonly purpose: readonly string[];
  readonly datasets: readonly string[];
  readonly fields: readonly string[];
  readonly institution: string;
  readonly country: string;
  readonly securityPlan: string;
  readonly targetK?: number;
  readonly quasiIdentifiers?: readonly string[];
}

interface Proposal {
  title: string;
  purpose: string[];
  datasets: string[];
  fields: string[];
  institution: string;
  country: string;
  securityPlan: string;
  targetK: number;
  quasiIdentifiers: string[];
}

async function quasiIdentifiers(value: unknown, field: string): Promise<string[]> {
  const list = textList(value, field, { min: 1, max: 30 });
  // Loaded when needed: the projects module (and the faces that use only it) need not load the
  // DICOM pipeline behind the field parser.
  const { parseDicomFields } = await import('../privacy/from-dicom.js');
  try {
    parseDicomFields(list.join(','));
  } catch (e) {
    throw invalid(field, (e as Error).message);
  }
  return list;
}

async function validateProposal(input: unknown, partial: boolean): Promise<Partial<Proposal>> {
  const o = requireObject(input, 'proposal');
  const known = new Set(['title', 'purpose', 'datasets', 'fields', 'institution', 'country', 'securityPlan', 'targetK', 'quasiIdentifiers']);
  for (const k of Object.keys(o)) if (!known.has(k)) throw invalid(k, 'is not a field of a proposal');
  const out: Partial<Proposal> = {};
  const need = (k: string): boolean => {
    if (o[k] !== undefined) return true;
    if (!partial && k !== 'targetK' && k !== 'quasiIdentifiers') throw invalid(k, 'is required');
    return false;
  };
  if (need('title')) out.title = text(o.title, 'title', { max: 300 });
  if (need('purpose')) {
    out.purpose = duoCodes(o.purpose, 'purpose');
    // NRES describes what a consent allows, not what a project does.
    if (!out.purpose.some((c) => isDuoPermission(c) && !c.startsWith('DUO:0000004'))) throw invalid('purpose', 'must name the use the project makes (GRU, HMB, DS(…), POA or CC)');
  }
  if (need('datasets')) out.datasets = textList(o.datasets, 'datasets', { min: 1, max: 100 }).map((d, i) => uuid(d, `datasets[${i}]`));
  if (need('fields')) out.fields = textList(o.fields, 'fields', { min: 1, max: 500 });
  if (need('institution')) out.institution = text(o.institution, 'institution', { max: 300 });
  if (need('country')) out.country = country(o.country, 'country');
  if (need('securityPlan')) out.securityPlan = text(o.securityPlan, 'securityPlan', { max: 20_000 });
  if (o.targetK !== undefined) out.targetK = integer(o.targetK, 'targetK', 1, 1000);
  else if (!partial) out.targetK = DEFAULT_TARGET_K;
  if (o.quasiIdentifiers !== undefined) out.quasiIdentifiers = await quasiIdentifiers(o.quasiIdentifiers, 'quasiIdentifiers');
  else if (!partial) out.quasiIdentifiers = [...DEFAULT_QUASI_IDENTIFIERS];
  return out;
}

async function requireDatasetsExist(tx: Db, ids: readonly string[]): Promise<void> {
  for (const [i, id] of ids.entries()) {
    // datasets.ts owns the table; it imports this module, so the query is written here rather than imported.
    const row = await tx.get('SELECT id FROM datasets WHERE id = ?', [id]);
    if (!row) throw invalid(`datasets[${i}]`, `dataset ${id} is not registered`);
  }
}

/** A researcher drafts a proposal; it is theirs, in state draft. */
export async function createProject(db: Db, actor: Actor, input: ProposalInput, options: { now?: Date } = {}): Promise<Project> {
  const now = timeOf(options.now);
  const id = randomUUID();
  return audited(db, actor, { action: 'project.create', target: id }, async (tx, audit) => {
    requireRole(actor, 'project.create');
    const p = (await validateProposal(input, false)) as Proposal;
    await requireDatasetsExist(tx, p.datasets);
    const at = now.toISOString();
    const rule = DEFAULT_DECISION_RULE;
    await tx.run(
      `INSERT INTO projects (id, title, owner_id, institution, country, purpose, datasets, fields, security_plan, target_k, quasi_identifiers, state, round, quorum, term_days, chair_id, conditions, decided_at, expires_at, destruction, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', 1, ?, ?, NULL, '[]', NULL, NULL, NULL, ?, ?)`,
      [id, p.title, actor.id, p.institution, p.country, JSON.stringify(p.purpose), JSON.stringify(p.datasets), JSON.stringify(p.fields), p.securityPlan, p.targetK, JSON.stringify(p.quasiIdentifiers), rule.quorum, rule.termDays, at, at],
    );
    await audit({ title: p.title, purpose: p.purpose, country: p.country, datasets: p.datasets, targetK: p.targetK });
    return loadProject(tx, id, now);
  }, now);
}

function requireOwner(actor: Actor, project: Project, operation: string): void {
  if (project.ownerId !== actor.id) throw new GovernanceError('forbidden', `${operation}: only the researcher who proposed project ${project.id} may do this`);
}

/** The owner edits a draft, or a proposal the DAC sent back for changes. */
export async function updateProject(db: Db, actor: Actor, input: { projectId: string; changes: Partial<ProposalInput> }, options: { now?: Date } = {}): Promise<Project> {
  const now = timeOf(options.now);
  const projectId = uuid(input?.projectId, 'projectId');
  return audited(db, actor, { action: 'project.update', target: projectId }, async (tx, audit) => {
    requireRole(actor, 'project.update');
    const project = await loadProject(tx, projectId, now);
    requireVisible(actor, project);
    requireOwner(actor, project, 'project.update');
    requireState(project, 'update');
    const c = await validateProposal(input.changes, true);
    if (Object.keys(c).length === 0) throw invalid('changes', 'name at least one field to change');
    if (c.datasets) await requireDatasetsExist(tx, c.datasets);
    const columns: Record<keyof Proposal, string> = {
      title: 'title',
      purpose: 'purpose',
      datasets: 'datasets',
      fields: 'fields',
      institution: 'institution',
      country: 'country',
      securityPlan: 'security_plan',
      targetK: 'target_k',
      quasiIdentifiers: 'quasi_identifiers',
    };
    const sets: string[] = [];
    const values: (string | number)[] = [];
    for (const [k, v] of Object.entries(c) as [keyof Proposal, unknown][]) {
      sets.push(`${columns[k]} = ?`);
      values.push(Array.isArray(v) ? JSON.stringify(v) : (v as string | number));
    }
    await tx.run(`UPDATE projects SET ${sets.join(', ')}, updated_at = ? WHERE id = ?`, [...values, now.toISOString(), projectId]);
    await audit({ changed: Object.keys(c) });
    return loadProject(tx, projectId, now);
  }, now);
}

/** The owner submits a draft, or resubmits after changes were requested (a new review round). */
export async function submitProject(db: Db, actor: Actor, input: { projectId: string }, options: { now?: Date } = {}): Promise<Project> {
  const now = timeOf(options.now);
  const projectId = uuid(input?.projectId, 'projectId');
  return audited(db, actor, { action: 'project.submit', target: projectId }, async (tx, audit) => {
    requireRole(actor, 'project.submit');
    const project = await loadProject(tx, projectId, now);
    requireVisible(actor, project);
    requireOwner(actor, project, 'project.submit');
    requireState(project, 'submit');
    const round = project.state === 'changes-requested' ? project.round + 1 : project.round;
    await tx.run("UPDATE projects SET state = 'submitted', round = ?, updated_at = ? WHERE id = ?", [round, now.toISOString(), projectId]);
    await audit({ from: project.state, round });
    return loadProject(tx, projectId, now);
  }, now);
}

/** An admin sets how the DAC decides this project (before a decision). */
export async function setDecisionRule(db: Db, actor: Actor, input: { projectId: string; quorum?: number; termDays?: number; chairId?: string | null }, options: { now?: Date } = {}): Promise<Project> {
  const now = timeOf(options.now);
  const projectId = uuid(input?.projectId, 'projectId');
  return audited(db, actor, { action: 'project.set-rule', target: projectId }, async (tx, audit) => {
    requireRole(actor, 'project.set-rule');
    const project = await loadProject(tx, projectId, now);
    requireState(project, 'set-rule');
    const quorum = input.quorum === undefined ? project.decisionRule.quorum : integer(input.quorum, 'quorum', 1, 100);
    const termDays = input.termDays === undefined ? project.decisionRule.termDays : integer(input.termDays, 'termDays', 1, 3660);
    const chairId = input.chairId === undefined ? project.decisionRule.chairId : input.chairId === null ? null : text(input.chairId, 'chairId', { max: 200 });
    await tx.run('UPDATE projects SET quorum = ?, term_days = ?, chair_id = ?, updated_at = ? WHERE id = ?', [quorum, termDays, chairId, now.toISOString(), projectId]);
    await audit({ quorum, termDays, chairId });
    return loadProject(tx, projectId, now);
  }, now);
}

/** One project, if the actor may see it (otherwise not-found). */
export async function getProject(db: Db, actor: Actor, input: { projectId: string }, options: { now?: Date } = {}): Promise<Project> {
  const now = timeOf(options.now);
  const projectId = uuid(input?.projectId, 'projectId');
  try {
    requireRole(actor, 'project.read');
    const project = await loadProject(db, projectId, now);
    requireVisible(actor, project);
    return project;
  } catch (e) {
    if (e instanceof GovernanceError && e.code === 'forbidden') await auditRefusal(db, actor, { action: 'project.read', target: projectId }, e, now);
    throw e;
  }
}

/** The projects the actor may see, newest first, optionally in one state (as at `now`). */
export async function listProjects(db: Db, actor: Actor, input: { state?: ProjectState } = {}, options: { now?: Date } = {}): Promise<Project[]> {
  const now = timeOf(options.now);
  try {
    requireRole(actor, 'project.read');
  } catch (e) {
    await auditRefusal(db, actor, { action: 'project.read', target: '' }, e as GovernanceError, now);
    throw e;
  }
  if (input.state !== undefined && !(PROJECT_STATES as readonly string[]).includes(input.state)) throw invalid('state', `must be one of ${PROJECT_STATES.join(', ')}`);
  const rows = await db.all<ProjectRow>('SELECT * FROM projects ORDER BY created_at DESC, id');
  return rows
    .map((r) => fromRow(r, now))
    .filter((p) => canSeeProject(actor, p))
    .filter((p) => input.state === undefined || p.state === input.state);
}

/**
 * Closes an approved (or expired) project once the recipient confirms the data were destroyed:
 * who destroyed them, when and how. The owner or an admin confirms.
 */
export async function closeProject(db: Db, actor: Actor, input: { projectId: string; destruction: { by: string; at: string; method: string } }, options: { now?: Date } = {}): Promise<Project> {
  const now = timeOf(options.now);
  const projectId = uuid(input?.projectId, 'projectId');
  return audited(db, actor, { action: 'project.close', target: projectId }, async (tx, audit) => {
    requireRole(actor, 'project.close');
    const project = await loadProject(tx, projectId, now);
    requireVisible(actor, project);
    if (!hasRole(actor, 'admin')) requireOwner(actor, project, 'project.close');
    requireState(project, 'close');
    const d = requireObject(input.destruction, 'destruction');
    const by = text(d.by, 'destruction.by', { max: 300 });
    const at = isoTime(d.at, 'destruction.at');
    const method = text(d.method, 'destruction.method', { max: 1000 });
    if (Date.parse(at) > now.getTime()) throw invalid('destruction.at', 'is in the future: confirm a destruction that has happened');
    const destruction: Destruction = { by, at, method, confirmedBy: actor.id };
    await tx.run("UPDATE projects SET state = 'closed', destruction = ?, updated_at = ? WHERE id = ?", [JSON.stringify(destruction), now.toISOString(), projectId]);
    await audit({ from: project.state, destruction: { ...destruction } });
    return loadProject(tx, projectId, now);
  }, now);
}
