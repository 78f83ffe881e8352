/**
 * The data access committee: opening a review, votes (one per member per review round, enforced
 * by a unique constraint so concurrent votes are never lost or doubled), recusal for a conflict of
 * interest, the decision (by the project's decision rule when the votes are in, or recorded by the
 * chair or an admin), and renewal of an approval.
 *
 * The decision rule (projects.ts `DecisionRule`): once `quorum` non-recused members have voted in
 * the round, an option with a strict majority of the votes cast decides. A tie or a split leaves
 * the round open; the chair or an admin then records the decision, which is final for the round.
 */
import { randomUUID } from 'node:crypto';
import type { Actor } from './actor.js';
import { inScope } from './actor.js';
import type { Db, SchemaModule } from './db.js';
import { GovernanceError } from './errors.js';
import {
  audited,
  auditRefusal,
  hasRole,
  integer,
  invalid,
  loadProject,
  parseJson,
  requireRole,
  requireState,
  requireVisible,
  text,
  textList,
  timeOf,
  uuid,
  type Project,
} from './projects.js';

export const VOTES = ['approve', 'reject', 'request-changes'] as const;
export type Vote = (typeof VOTES)[number];

export const DECISIONS = ['approve', 'reject', 'request-changes'] as const;
export type Decision = (typeof DECISIONS)[number];

const STATE_AFTER: Record<Decision, 'approved' | 'rejected' | 'changes-requested'> = {
  approve: 'approved',
  reject: 'rejected',
  'request-changes': 'changes-requested',
};

export const DAC_SCHEMA: SchemaModule = {
  name: 'dac',
  steps: [
    [
      `CREATE TABLE dac_votes (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects (id),
        round INTEGER NOT NULL,
        member_id TEXT NOT NULL,
        vote TEXT NOT NULL,
        comment TEXT NOT NULL,
        conditions TEXT NOT NULL,
        cast_at TEXT NOT NULL,
        CONSTRAINT dac_votes_one_per_round UNIQUE (project_id, round, member_id)
      )`,
      `CREATE TABLE dac_recusals (
        project_id TEXT NOT NULL REFERENCES projects (id),
        member_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        declared_at TEXT NOT NULL,
        CONSTRAINT dac_recusals_pkey PRIMARY KEY (project_id, member_id)
      )`,
      `CREATE TABLE project_decisions (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects (id),
        round INTEGER NOT NULL,
        kind TEXT NOT NULL,
        decision TEXT NOT NULL,
        basis TEXT NOT NULL,
        decided_by TEXT NOT NULL,
        tally TEXT NOT NULL,
        conditions TEXT NOT NULL,
        comment TEXT NOT NULL,
        expires_at TEXT,
        decided_at TEXT NOT NULL
      )`,
      'CREATE INDEX project_decisions_project_idx ON project_decisions (project_id)',
    ],
  ],
};

export interface VoteRecord {
  readonly memberId: string;
  readonly round: number;
  readonly vote: Vote;
  readonly comment: string;
  readonly conditions: readonly string[];
  readonly castAt: string;
}

export interface Recusal {
  readonly memberId: string;
  readonly reason: string;
  readonly declaredAt: string;
}

export interface Tally {
  readonly approve: number;
  readonly reject: number;
  readonly 'request-changes': number;
}

export interface DecisionRecord {
  readonly id: string;
  readonly round: number;
  /** A review decision, or a renewal of an approval. */
  readonly kind: 'decision' | 'renewal';
  readonly decision: Decision;
  /** 'votes': the decision rule applied to the round's votes; 'chair': recorded by the chair or an admin. */
  readonly basis: 'votes' | 'chair';
  readonly decidedBy: string;
  readonly tally: Tally;
  readonly conditions: readonly string[];
  readonly comment: string;
  readonly expiresAt: string | null;
  readonly decidedAt: string;
}

export interface Review {
  readonly project: Project;
  /** Every vote of every round; empty for a researcher (the committee's deliberation is its own). */
  readonly votes: readonly VoteRecord[];
  readonly recusals: readonly Recusal[];
  readonly decisions: readonly DecisionRecord[];
}

function requireDacScope(actor: Actor, project: Project, operation: string): void {
  if (hasRole(actor, 'admin')) return;
  if (!inScope(actor.projects, project.id)) throw new GovernanceError('forbidden', `${operation}: project ${project.id} is not in your scope`);
}

async function isRecused(tx: Db, projectId: string, memberId: string): Promise<boolean> {
  return (await tx.get('SELECT member_id FROM dac_recusals WHERE project_id = ? AND member_id = ?', [projectId, memberId])) !== undefined;
}

async function tallyOf(tx: Db, projectId: string, round: number): Promise<{ tally: Tally; votes: VoteRecord[] }> {
  const rows = await tx.all<{ member_id: string; round: number; vote: string; comment: string; conditions: string; cast_at: string }>(
    'SELECT member_id, round, vote, comment, conditions, cast_at FROM dac_votes WHERE project_id = ? AND round = ? ORDER BY cast_at, id',
    [projectId, round],
  );
  const tally = { approve: 0, reject: 0, 'request-changes': 0 };
  const votes = rows.map((r) => {
    tally[r.vote as Vote]++;
    return { memberId: r.member_id, round: Number(r.round), vote: r.vote as Vote, comment: r.comment, conditions: parseJson<string[]>(r.conditions), castAt: r.cast_at };
  });
  return { tally, votes };
}

function addDays(t: Date, days: number): Date {
  return new Date(t.getTime() + days * 86_400_000);
}

async function applyDecision(
  tx: Db,
  project: Project,
  d: { decision: Decision; kind: 'decision' | 'renewal'; basis: 'votes' | 'chair'; decidedBy: string; tally: Tally; conditions: readonly string[]; comment: string; termDays: number; base?: Date },
  now: Date,
): Promise<DecisionRecord> {
  const at = now.toISOString();
  const expiresAt = d.decision === 'approve' ? addDays(d.base ?? now, d.termDays).toISOString() : null;
  const record: DecisionRecord = {
    id: randomUUID(),
    round: project.round,
    kind: d.kind,
    decision: d.decision,
    basis: d.basis,
    decidedBy: d.decidedBy,
    tally: d.tally,
    conditions: [...d.conditions],
    comment: d.comment,
    expiresAt,
    decidedAt: at,
  };
  await tx.run(
    'INSERT INTO project_decisions (id, project_id, round, kind, decision, basis, decided_by, tally, conditions, comment, expires_at, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [record.id, project.id, record.round, record.kind, record.decision, record.basis, record.decidedBy, JSON.stringify(record.tally), JSON.stringify(record.conditions), record.comment, expiresAt, at],
  );
  await tx.run('UPDATE projects SET state = ?, conditions = ?, decided_at = ?, expires_at = ?, updated_at = ? WHERE id = ?', [
    STATE_AFTER[d.decision],
    JSON.stringify(record.conditions),
    at,
    expiresAt,
    at,
    project.id,
  ]);
  return record;
}

/** A DAC member (in scope) or an admin opens the review of a submitted project. */
export async function openReview(db: Db, actor: Actor, input: { projectId: string }, options: { now?: Date } = {}): Promise<Project> {
  const now = timeOf(options.now);
  const projectId = uuid(input?.projectId, 'projectId');
  return audited(db, actor, { action: 'dac.open-review', target: projectId }, async (tx, audit) => {
    requireRole(actor, 'dac.open-review');
    const project = await loadProject(tx, projectId, now);
    requireDacScope(actor, project, 'dac.open-review');
    requireState(project, 'open-review');
    await tx.run("UPDATE projects SET state = 'under-review', updated_at = ? WHERE id = ?", [now.toISOString(), projectId]);
    await audit({ round: project.round });
    return loadProject(tx, projectId, now);
  }, now);
}

/**
 * A DAC member declares a conflict of interest and recuses from the project: they cannot vote on
 * it or decide it from then on, and a vote they cast in the open round is withdrawn.
 */
export async function declareConflict(db: Db, actor: Actor, input: { projectId: string; reason: string }, options: { now?: Date } = {}): Promise<Recusal> {
  const now = timeOf(options.now);
  const projectId = uuid(input?.projectId, 'projectId');
  return audited(db, actor, { action: 'dac.recuse', target: projectId }, async (tx, audit) => {
    requireRole(actor, 'dac.recuse');
    const reason = text(input.reason, 'reason', { max: 2000 });
    const project = await loadProject(tx, projectId, now);
    requireDacScope(actor, project, 'dac.recuse');
    requireState(project, 'recuse');
    if (await isRecused(tx, projectId, actor.id)) throw new GovernanceError('conflict', `you have already recused from project ${projectId}`);
    const withdrawn = await tx.run('DELETE FROM dac_votes WHERE project_id = ? AND round = ? AND member_id = ?', [projectId, project.round, actor.id]);
    await tx.run('INSERT INTO dac_recusals (project_id, member_id, reason, declared_at) VALUES (?, ?, ?, ?)', [projectId, actor.id, reason, now.toISOString()]);
    await audit({ round: project.round, voteWithdrawn: withdrawn.changes > 0 });
    return { memberId: actor.id, reason, declaredAt: now.toISOString() };
  }, now);
}

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export interface VoteResult {
  readonly vote: VoteRecord;
  readonly tally: Tally;
  /** The decision the vote completed under the decision rule, if any. */
  readonly decision: DecisionRecord | null;
  readonly project: Project;
}

/** A DAC member votes in the open round, once; the vote may complete the decision. */
export async function castVote(
  db: Db,
  actor: Actor,
  input: { projectId: string; vote: Vote; comment: string; conditions?: readonly string[] },
  options: { now?: Date } = {},
): Promise<VoteResult> {
  const now = timeOf(options.now);
  const projectId = uuid(input?.projectId, 'projectId');
  return audited(db, actor, { action: 'dac.vote', target: projectId }, async (tx, audit) => {
    requireRole(actor, 'dac.vote');
    if (!(VOTES as readonly string[]).includes(input.vote)) throw invalid('vote', `must be one of ${VOTES.join(', ')}`);
    const comment = text(input.comment, 'comment', { max: 5000 });
    const conditions = input.conditions === undefined ? [] : textList(input.conditions, 'conditions', { max: 50 });
    if (conditions.length > 0 && input.vote !== 'approve') throw invalid('conditions', 'only an approving vote carries conditions');
    const project = await loadProject(tx, projectId, now);
    requireDacScope(actor, project, 'dac.vote');
    if (await isRecused(tx, projectId, actor.id)) throw new GovernanceError('forbidden', `you recused from project ${projectId} (conflict of interest): your vote is not accepted`);
    requireState(project, 'vote');
    const existing = await tx.get('SELECT id FROM dac_votes WHERE project_id = ? AND round = ? AND member_id = ?', [projectId, project.round, actor.id]);
    if (existing) throw new GovernanceError('conflict', `you have already voted in round ${project.round} of project ${projectId}`);
    const castAt = now.toISOString();
    try {
      await tx.run('INSERT INTO dac_votes (id, project_id, round, member_id, vote, comment, conditions, cast_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
        randomUUID(),
        projectId,
        project.round,
        actor.id,
        input.vote,
        comment,
        JSON.stringify(conditions),
        castAt,
      ]);
    } catch (e) {
      // The check above and this constraint agree; the constraint is what holds under a race.
      if (isUniqueViolation(e)) throw new GovernanceError('conflict', `you have already voted in round ${project.round} of project ${projectId}`);
      throw e;
    }
    const { tally, votes } = await tallyOf(tx, projectId, project.round);
    const cast = votes.length;
    let decision: DecisionRecord | null = null;
    if (cast >= project.decisionRule.quorum) {
      const winner = (Object.entries(tally) as [Decision, number][]).find(([, n]) => n * 2 > cast);
      if (winner) {
        const agreed = [...new Set(votes.filter((v) => v.vote === 'approve').flatMap((v) => v.conditions))];
        decision = await applyDecision(
          tx,
          project,
          { decision: winner[0], kind: 'decision', basis: 'votes', decidedBy: 'dac-vote', tally, conditions: winner[0] === 'approve' ? agreed : [], comment: '', termDays: project.decisionRule.termDays },
          now,
        );
      }
    }
    await audit({ round: project.round, vote: input.vote, tally: { ...tally }, decision: decision?.decision ?? null });
    return {
      vote: { memberId: actor.id, round: project.round, vote: input.vote, comment, conditions, castAt },
      tally,
      decision,
      project: await loadProject(tx, projectId, now),
    };
  }, now);
}

async function requireChairOrAdmin(tx: Db, actor: Actor, project: Project, operation: 'dac.decide' | 'dac.renew'): Promise<void> {
  requireRole(actor, operation);
  if (hasRole(actor, 'admin')) return;
  if (project.decisionRule.chairId !== actor.id) throw new GovernanceError('forbidden', `${operation}: only an admin or the project's DAC chair may record the decision`);
  requireDacScope(actor, project, operation);
  if (await isRecused(tx, project.id, actor.id)) throw new GovernanceError('forbidden', `${operation}: you recused from project ${project.id} (conflict of interest)`);
}

/** The chair or an admin records the round's decision (approve with conditions, reject, request changes). */
export async function recordDecision(
  db: Db,
  actor: Actor,
  input: { projectId: string; decision: Decision; comment: string; conditions?: readonly string[]; termDays?: number },
  options: { now?: Date } = {},
): Promise<DecisionRecord> {
  const now = timeOf(options.now);
  const projectId = uuid(input?.projectId, 'projectId');
  return audited(db, actor, { action: 'dac.decide', target: projectId }, async (tx, audit) => {
    const project = await loadProject(tx, projectId, now);
    await requireChairOrAdmin(tx, actor, project, 'dac.decide');
    if (!(DECISIONS as readonly string[]).includes(input.decision)) throw invalid('decision', `must be one of ${DECISIONS.join(', ')}`);
    const comment = text(input.comment, 'comment', { max: 5000 });
    const conditions = input.conditions === undefined ? [] : textList(input.conditions, 'conditions', { max: 50 });
    if (conditions.length > 0 && input.decision !== 'approve') throw invalid('conditions', 'only an approval carries conditions');
    const termDays = input.termDays === undefined ? project.decisionRule.termDays : integer(input.termDays, 'termDays', 1, 3660);
    requireState(project, 'decide');
    const { tally } = await tallyOf(tx, projectId, project.round);
    const record = await applyDecision(tx, project, { decision: input.decision, kind: 'decision', basis: 'chair', decidedBy: actor.id, tally, conditions, comment, termDays }, now);
    await audit({ round: project.round, decision: record.decision, expiresAt: record.expiresAt, conditions: [...conditions] });
    return record;
  }, now);
}

/**
 * The chair or an admin renews an approval (also one that has expired): a new decision whose
 * term runs from the current expiry when that is still ahead, else from now.
 */
export async function renewApproval(
  db: Db,
  actor: Actor,
  input: { projectId: string; comment: string; termDays?: number; conditions?: readonly string[] },
  options: { now?: Date } = {},
): Promise<DecisionRecord> {
  const now = timeOf(options.now);
  const projectId = uuid(input?.projectId, 'projectId');
  return audited(db, actor, { action: 'dac.renew', target: projectId }, async (tx, audit) => {
    const project = await loadProject(tx, projectId, now);
    await requireChairOrAdmin(tx, actor, project, 'dac.renew');
    const comment = text(input.comment, 'comment', { max: 5000 });
    const conditions = input.conditions === undefined ? project.conditions : textList(input.conditions, 'conditions', { max: 50 });
    const termDays = input.termDays === undefined ? project.decisionRule.termDays : integer(input.termDays, 'termDays', 1, 3660);
    requireState(project, 'renew');
    const currentExpiry = project.expiresAt === null ? now : new Date(project.expiresAt);
    const base = currentExpiry.getTime() > now.getTime() ? currentExpiry : now;
    const record = await applyDecision(
      tx,
      project,
      { decision: 'approve', kind: 'renewal', basis: 'chair', decidedBy: actor.id, tally: { approve: 0, reject: 0, 'request-changes': 0 }, conditions, comment, termDays, base },
      now,
    );
    await audit({ from: project.state, previousExpiry: project.expiresAt, expiresAt: record.expiresAt });
    return record;
  }, now);
}

/** The review of a project: votes (not for researchers), recusals and decisions. */
export async function getReview(db: Db, actor: Actor, input: { projectId: string }, options: { now?: Date } = {}): Promise<Review> {
  const now = timeOf(options.now);
  const projectId = uuid(input?.projectId, 'projectId');
  let project: Project;
  try {
    requireRole(actor, 'project.read');
    project = await loadProject(db, projectId, now);
    requireVisible(actor, project);
  } catch (e) {
    if (e instanceof GovernanceError && e.code === 'forbidden') await auditRefusal(db, actor, { action: 'project.read', target: projectId }, e, now);
    throw e;
  }
  const deliberation = hasRole(actor, 'admin') || hasRole(actor, 'dpo') || hasRole(actor, 'dac-member');
  const voteRows = deliberation
    ? await db.all<{ member_id: string; round: number; vote: string; comment: string; conditions: string; cast_at: string }>(
        'SELECT member_id, round, vote, comment, conditions, cast_at FROM dac_votes WHERE project_id = ? ORDER BY round, cast_at, id',
        [projectId],
      )
    : [];
  const recusals = deliberation ? await db.all<{ member_id: string; reason: string; declared_at: string }>('SELECT member_id, reason, declared_at FROM dac_recusals WHERE project_id = ? ORDER BY declared_at, member_id', [projectId]) : [];
  const decisions = await db.all<{ id: string; round: number; kind: string; decision: string; basis: string; decided_by: string; tally: string; conditions: string; comment: string; expires_at: string | null; decided_at: string }>(
    'SELECT * FROM project_decisions WHERE project_id = ? ORDER BY decided_at, id',
    [projectId],
  );
  return {
    project,
    votes: voteRows.map((r) => ({ memberId: r.member_id, round: Number(r.round), vote: r.vote as Vote, comment: r.comment, conditions: parseJson<string[]>(r.conditions), castAt: r.cast_at })),
    recusals: recusals.map((r) => ({ memberId: r.member_id, reason: r.reason, declaredAt: r.declared_at })),
    decisions: decisions.map((r) => ({
      id: r.id,
      round: Number(r.round),
      kind: r.kind as 'decision' | 'renewal',
      decision: r.decision as Decision,
      basis: r.basis as 'votes' | 'chair',
      decidedBy: r.decided_by,
      tally: parseJson<Tally>(r.tally),
      conditions: parseJson<string[]>(r.conditions),
      comment: r.comment,
      expiresAt: r.expires_at,
      decidedAt: r.decided_at,
    })),
  };
}
