/**
 * The behaviour of projects and the DAC, run on SQLite (unit) and PostgreSQL (test/postgres).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/governance/db.js';
import { castVote, declareConflict, getReview, openReview, recordDecision, renewApproval } from '../../../src/governance/dac.js';
import { GovernanceError } from '../../../src/governance/errors.js';
import { closeProject, createProject, getProject, listProjects, setDecisionRule, submitProject, updateProject } from '../../../src/governance/projects.js';
import { G2_SCHEMA, PROPOSAL, T0, actors, auditOf, days, emptyFolder, projectInState, someDataset, type StoreFactory } from './g2.js';
import { refusal } from './refusals.js';

export function projectsSuite(backend: string, factory: StoreFactory, options: { concurrencyOnly?: boolean; cleanup?: () => Promise<void> } = {}): void {
  describe(`projects and the DAC (${backend})`, () => {
    let db: Db;
    const a = actors();
    let dataset: string;

    beforeAll(async () => {
      db = await factory(G2_SCHEMA);
      dataset = await someDataset(db, a, emptyFolder('g2-projects'));
    });
    afterAll(async () => {
      if (options.cleanup) await options.cleanup();
      else await db?.close();
    });

    it('concurrent votes are neither lost nor doubled: every member once, a double vote refused once', async () => {
      const p = await projectInState(db, a, [dataset], 'under-review', {}, { quorum: 8 });
      // Each member votes once, all at the same time; the first member also tries a second time.
      const attempts = [...a.members.map((m, i) => castVote(db, m, { projectId: p.id, vote: i < 5 ? 'approve' : 'reject', comment: `vote of ${m.name}` }, { now: T0 })), castVote(db, a.members[0]!, { projectId: p.id, vote: 'reject', comment: 'again' }, { now: T0 })];
      const settled = await Promise.allSettled(attempts);
      const ok = settled.filter((s) => s.status === 'fulfilled');
      const refused = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      expect(ok).toHaveLength(8);
      expect(refused).toHaveLength(1);
      expect((refused[0]!.reason as GovernanceError).code).toBe('conflict');
      const review = await getReview(db, a.admin, { projectId: p.id }, { now: T0 });
      expect(review.votes).toHaveLength(8);
      expect(new Set(review.votes.map((v) => v.memberId)).size).toBe(8);
      // The eighth vote completed the quorum: 5 of 8 approve, a strict majority, decided once.
      expect(review.decisions).toHaveLength(1);
      expect(review.decisions[0]).toMatchObject({ decision: 'approve', basis: 'votes', tally: { approve: 5, reject: 3, 'request-changes': 0 } });
      expect(review.project.state).toBe('approved');
      expect((await auditOf(db, 'dac.vote', 'ok')).filter((e) => e.target === p.id)).toHaveLength(8);
      const refusedEntries = (await auditOf(db, 'dac.vote', 'refused')).filter((e) => e.target === p.id);
      expect(refusedEntries).toHaveLength(1);
    });

    if (options.concurrencyOnly) return;

    it('a proposal is validated field by field', async () => {
      const bad: [Record<string, unknown>, string][] = [
        [{ purpose: ['NOT-A-CODE'] }, 'purpose[0]'],
        [{ purpose: ['IRB'] }, 'purpose'],
        [{ country: 'XX' }, 'country'],
        [{ country: 'EU' }, 'country'],
        [{ targetK: 0 }, 'targetK'],
        [{ quasiIdentifiers: ['age', 'nonsense'] }, 'quasiIdentifiers'],
        [{ datasets: ['00000000-0000-4000-8000-000000000000'] }, 'datasets[0]'],
        [{ title: '' }, 'title'],
      ];
      for (const [change, field] of bad) {
        const e = await refusal(createProject(db, a.researcher, { ...PROPOSAL, datasets: [dataset], ...change } as never, { now: T0 }));
        expect(e.code, field).toBe('invalid');
        expect(e.message.startsWith(`${field}:`), `${e.message} should name ${field}`).toBe(true);
      }
      const missing = await refusal(createProject(db, a.researcher, { ...PROPOSAL } as never, { now: T0 }));
      expect(missing.message).toBe('datasets: is required');
      const p = await createProject(db, a.researcher, { ...PROPOSAL, purpose: ['hmb', 'DUO:0000019'], datasets: [dataset], country: 'us' }, { now: T0 });
      expect(p).toMatchObject({ state: 'draft', round: 1, targetK: 5, quasiIdentifiers: ['age', 'sex'], purpose: ['DUO:0000006', 'DUO:0000019'], country: 'US', ownerId: a.researcher.id });
      // Only researchers propose.
      expect((await refusal(createProject(db, a.curatorEu, { ...PROPOSAL, datasets: [dataset] }, { now: T0 }))).code).toBe('forbidden');
      expect((await auditOf(db, 'project.create', 'refused')).length).toBeGreaterThanOrEqual(bad.length + 2);
    });

    it('refuses every illegal transition with the state and what it needs', async () => {
      const draft = await projectInState(db, a, [dataset], 'draft');
      const m = a.members[1]!;
      const illegalFromDraft: [string, () => Promise<unknown>][] = [
        ['open-review', () => openReview(db, m, { projectId: draft.id }, { now: T0 })],
        ['vote', () => castVote(db, m, { projectId: draft.id, vote: 'approve', comment: 'x' }, { now: T0 })],
        ['decide', () => recordDecision(db, a.admin, { projectId: draft.id, decision: 'approve', comment: 'x' }, { now: T0 })],
        ['renew', () => renewApproval(db, a.admin, { projectId: draft.id, comment: 'x' }, { now: T0 })],
        ['close', () => closeProject(db, a.researcher, { projectId: draft.id, destruction: { by: 'x', at: '2026-01-01', method: 'erase' } }, { now: T0 })],
      ];
      for (const [transition, attempt] of illegalFromDraft) {
        const e = await refusal(attempt());
        expect(e.code, transition).toBe('conflict');
        expect(e.message).toContain(`is draft: ${transition} is possible only when it is`);
      }
      const submitted = await submitProject(db, a.researcher, { projectId: draft.id }, { now: T0 });
      expect(submitted.state).toBe('submitted');
      for (const [transition, attempt] of [
        ['submit', () => submitProject(db, a.researcher, { projectId: draft.id }, { now: T0 })],
        ['update', () => updateProject(db, a.researcher, { projectId: draft.id, changes: { title: 'New title' } }, { now: T0 })],
        ['vote', () => castVote(db, m, { projectId: draft.id, vote: 'approve', comment: 'x' }, { now: T0 })],
        ['decide', () => recordDecision(db, a.admin, { projectId: draft.id, decision: 'approve', comment: 'x' }, { now: T0 })],
      ] as const) {
        const e = await refusal(attempt());
        expect(e.code, transition).toBe('conflict');
        expect(e.message).toContain(`is submitted: ${transition} is possible only when it is`);
      }
      await openReview(db, m, { projectId: draft.id }, { now: T0 });
      expect((await refusal(openReview(db, m, { projectId: draft.id }, { now: T0 }))).message).toContain('is under-review: open-review is possible only when it is submitted');
      await recordDecision(db, a.admin, { projectId: draft.id, decision: 'reject', comment: 'out of scope of the consortium' }, { now: T0 });
      const rejected = await getProject(db, a.researcher, { projectId: draft.id }, { now: T0 });
      expect(rejected.state).toBe('rejected');
      for (const [transition, attempt] of [
        ['submit', () => submitProject(db, a.researcher, { projectId: draft.id }, { now: T0 })],
        ['renew', () => renewApproval(db, a.admin, { projectId: draft.id, comment: 'x' }, { now: T0 })],
        ['close', () => closeProject(db, a.admin, { projectId: draft.id, destruction: { by: 'x', at: '2026-01-01', method: 'erase' } }, { now: T0 })],
        ['vote', () => castVote(db, m, { projectId: draft.id, vote: 'approve', comment: 'x' }, { now: T0 })],
      ] as const) {
        expect((await refusal(attempt())).message, transition).toContain(`is rejected: ${transition} is possible only when it is`);
      }
      // Each refusal is in the audit trail with its reason.
      const refusedOpen = (await auditOf(db, 'dac.open-review', 'refused')).filter((e) => e.target === draft.id);
      expect(refusedOpen.length).toBe(2);
      expect(refusedOpen[0]!.details.code).toBe('conflict');
    });

    it('decides by the rule when the quorum votes with a majority; conditions of the approving votes carry over', async () => {
      const p = await projectInState(db, a, [dataset], 'under-review', {}, { termDays: 30 });
      const [m1, m2, m3] = a.members;
      const r1 = await castVote(db, m1!, { projectId: p.id, vote: 'approve', comment: 'fine', conditions: ['publish the code'] }, { now: days(1) });
      expect(r1.decision).toBeNull();
      await castVote(db, m2!, { projectId: p.id, vote: 'reject', comment: 'too broad' }, { now: days(2) });
      const r3 = await castVote(db, m3!, { projectId: p.id, vote: 'approve', comment: 'ok', conditions: ['no linkage', 'publish the code'] }, { now: days(3) });
      // The term runs from the decision, the vote that completed it.
      expect(r3.decision).toMatchObject({ decision: 'approve', basis: 'votes', conditions: ['publish the code', 'no linkage'], expiresAt: days(33).toISOString() });
      expect(r3.project).toMatchObject({ state: 'approved', conditions: ['publish the code', 'no linkage'], expiresAt: days(33).toISOString() });
      // Votes close with the round.
      expect((await refusal(castVote(db, a.members[3]!, { projectId: p.id, vote: 'reject', comment: 'late' }, { now: T0 }))).code).toBe('conflict');
      // Conditions belong to approvals only.
      const q = await projectInState(db, a, [dataset], 'under-review');
      expect((await refusal(castVote(db, m1!, { projectId: q.id, vote: 'reject', comment: 'no', conditions: ['x'] }, { now: T0 }))).message).toMatch(/^conditions:/);
    });

    it('a split vote waits for the chair; only the chair or an admin decides', async () => {
      const p = await projectInState(db, a, [dataset], 'under-review');
      const [m1, m2, m3, m4] = a.members;
      await castVote(db, m1!, { projectId: p.id, vote: 'approve', comment: 'a' }, { now: T0 });
      await castVote(db, m2!, { projectId: p.id, vote: 'reject', comment: 'b' }, { now: T0 });
      const third = await castVote(db, m3!, { projectId: p.id, vote: 'request-changes', comment: 'c' }, { now: T0 });
      expect(third.decision).toBeNull();
      expect(third.project.state).toBe('under-review');
      expect((await refusal(recordDecision(db, m4!, { projectId: p.id, decision: 'approve', comment: 'me' }, { now: T0 }))).code).toBe('forbidden');
      await setDecisionRule(db, a.admin, { projectId: p.id, chairId: m4!.id }, { now: T0 });
      const d = await recordDecision(db, m4!, { projectId: p.id, decision: 'request-changes', comment: 'clarify the security plan' }, { now: T0 });
      expect(d).toMatchObject({ decision: 'request-changes', basis: 'chair', decidedBy: m4!.id, tally: { approve: 1, reject: 1, 'request-changes': 1 } });
      // Changes, then a new round in which the same members vote again.
      await updateProject(db, a.researcher, { projectId: p.id, changes: { securityPlan: 'Enclave only; audited access; encrypted backups.' } }, { now: T0 });
      expect((await refusal(updateProject(db, a.otherResearcher, { projectId: p.id, changes: { title: 'mine' } }, { now: T0 }))).code).toBe('not-found');
      const resubmitted = await submitProject(db, a.researcher, { projectId: p.id }, { now: T0 });
      expect(resubmitted).toMatchObject({ state: 'submitted', round: 2 });
      await openReview(db, a.admin, { projectId: p.id }, { now: T0 });
      const again = await castVote(db, m1!, { projectId: p.id, vote: 'approve', comment: 'better' }, { now: T0 });
      expect(again.vote.round).toBe(2);
    });

    it('a recused member cannot vote or decide; the refused vote is audited; recusal withdraws an open vote', async () => {
      const p = await projectInState(db, a, [dataset], 'under-review');
      const [m1, m2] = a.members;
      await castVote(db, m2!, { projectId: p.id, vote: 'approve', comment: 'before knowing' }, { now: T0 });
      await declareConflict(db, m1!, { projectId: p.id, reason: 'co-author of the applicant' }, { now: T0 });
      const withdrawn = await declareConflict(db, m2!, { projectId: p.id, reason: 'same department' }, { now: T0 });
      expect(withdrawn.memberId).toBe(m2!.id);
      const e = await refusal(castVote(db, m1!, { projectId: p.id, vote: 'approve', comment: 'anyway' }, { now: T0 }));
      expect(e.code).toBe('forbidden');
      expect(e.message).toContain('recused');
      const audited = (await auditOf(db, 'dac.vote', 'refused')).filter((x) => x.target === p.id && x.actorId === m1!.id);
      expect(audited).toHaveLength(1);
      expect(audited[0]!.details.reason).toContain('conflict of interest');
      const review = await getReview(db, a.dpo, { projectId: p.id }, { now: T0 });
      expect(review.votes).toEqual([]);
      expect(review.recusals.map((r) => r.memberId).sort()).toEqual([m1!.id, m2!.id].sort());
      // A recused chair cannot decide either.
      await setDecisionRule(db, a.admin, { projectId: p.id, chairId: m1!.id }, { now: T0 });
      expect((await refusal(recordDecision(db, m1!, { projectId: p.id, decision: 'approve', comment: 'x' }, { now: T0 }))).message).toContain('recused');
      // Researchers see decisions, not the committee's votes or recusals.
      const own = await getReview(db, a.researcher, { projectId: p.id }, { now: T0 });
      expect(own.recusals).toEqual([]);
    });

    it('an approval expires at decision + term; renewal extends it; closing needs the destruction confirmed', async () => {
      const p = await projectInState(db, a, [dataset], 'approved', {}, { termDays: 30 });
      expect(p.state).toBe('approved');
      expect(p.expiresAt).toBe(days(30).toISOString());
      expect((await getProject(db, a.researcher, { projectId: p.id }, { now: days(29) })).state).toBe('approved');
      expect((await getProject(db, a.researcher, { projectId: p.id }, { now: days(30) })).state).toBe('expired');
      expect((await listProjects(db, a.researcher, { state: 'expired' }, { now: days(31) })).map((x) => x.id)).toContain(p.id);
      // Renewed after expiry: the term runs from the renewal.
      const renewal = await renewApproval(db, a.admin, { projectId: p.id, comment: 'progress report received', termDays: 60 }, { now: days(40) });
      expect(renewal).toMatchObject({ kind: 'renewal', decision: 'approve', expiresAt: days(100).toISOString(), conditions: ['no linkage with other data'] });
      expect((await getProject(db, a.researcher, { projectId: p.id }, { now: days(41) })).state).toBe('approved');
      // Renewed before expiry: the term runs on from the current expiry.
      const early = await renewApproval(db, a.admin, { projectId: p.id, comment: 'early', termDays: 10 }, { now: days(50) });
      expect(early.expiresAt).toBe(days(110).toISOString());
      // Closing: who, when, how; not a destruction in the future; only the owner or an admin.
      const future = await refusal(closeProject(db, a.researcher, { projectId: p.id, destruction: { by: 'IT security', at: days(70).toISOString(), method: 'secure erase' } }, { now: days(60) }));
      expect(future.message).toMatch(/^destruction\.at:/);
      expect((await refusal(closeProject(db, a.researcher, { projectId: p.id, destruction: { by: '', at: days(59).toISOString(), method: 'x' } } as never, { now: days(60) }))).message).toMatch(/^destruction\.by:/);
      expect((await refusal(closeProject(db, a.otherResearcher, { projectId: p.id, destruction: { by: 'x', at: days(59).toISOString(), method: 'x' } }, { now: days(60) }))).code).toBe('not-found');
      const closed = await closeProject(db, a.researcher, { projectId: p.id, destruction: { by: 'IT security, Example University', at: days(59).toISOString(), method: 'crypto-shredding of the enclave volume' } }, { now: days(60) });
      expect(closed.state).toBe('closed');
      expect(closed.destruction).toMatchObject({ by: 'IT security, Example University', method: 'crypto-shredding of the enclave volume', confirmedBy: a.researcher.id });
      expect((await refusal(renewApproval(db, a.admin, { projectId: p.id, comment: 'x' }, { now: days(61) }))).message).toContain('is closed');
      const decisions = (await getReview(db, a.admin, { projectId: p.id }, { now: days(61) })).decisions;
      expect(decisions.map((d) => d.kind)).toEqual(['decision', 'renewal', 'renewal']);
    });

    it('scopes: researchers see their own projects; a DAC member outside the project scope is refused', async () => {
      const p = await projectInState(db, a, [dataset], 'submitted');
      expect((await refusal(getProject(db, a.otherResearcher, { projectId: p.id }, { now: T0 }))).code).toBe('not-found');
      expect((await listProjects(db, a.otherResearcher, {}, { now: T0 })).map((x) => x.id)).not.toContain(p.id);
      expect((await listProjects(db, a.dpo, {}, { now: T0 })).map((x) => x.id)).toContain(p.id);
      expect((await refusal(openReview(db, a.outsider, { projectId: p.id }, { now: T0 }))).code).toBe('forbidden');
      expect((await refusal(castVote(db, a.researcher, { projectId: p.id, vote: 'approve', comment: 'mine' }, { now: T0 }))).code).toBe('forbidden');
      expect((await refusal(setDecisionRule(db, a.dpo, { projectId: p.id, quorum: 1 }, { now: T0 }))).code).toBe('forbidden');
      expect((await refusal(setDecisionRule(db, a.admin, { projectId: p.id, quorum: 0 }, { now: T0 }))).message).toMatch(/^quorum:/);
    });
  });
}
