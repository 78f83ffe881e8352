/** The data access committee's review (`governance/dac.ts`). */
import type { FastifyInstance } from 'fastify';
import { DECISIONS, VOTES, castVote, declareConflict, getReview, openReview, recordDecision, renewApproval, type Decision, type Vote } from '../../governance/dac.js';
import { idParams, input, operationRoute } from '../route.js';
import { DECISION, PROJECT, RECUSAL, REVIEW, VOTE_RESULT } from '../schemas.js';

const comment = { type: 'string', minLength: 1, maxLength: 5000 } as const;
const conditions = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 2000 }, maxItems: 50 } as const;
const termDays = { type: 'integer', minimum: 1, maximum: 3660 } as const;

export async function dacRoutes(app: FastifyInstance): Promise<void> {
  operationRoute<{ projectId: string }>(app, {
    method: 'GET',
    url: '/projects/:projectId/review',
    operation: 'project.read',
    tag: 'dac',
    summary: 'The review of a project: votes (not shown to researchers), recusals, decisions',
    params: idParams('projectId'),
    response: REVIEW,
    call: ({ db, actor, now }, i) => getReview(db, actor, { projectId: i.projectId }, { now }),
  });
  operationRoute<{ projectId: string }>(app, {
    method: 'POST',
    url: '/projects/:projectId/review',
    operation: 'dac.open-review',
    tag: 'dac',
    summary: 'Open the review of a submitted project',
    params: idParams('projectId'),
    response: PROJECT,
    call: ({ db, actor, now }, i) => openReview(db, actor, { projectId: i.projectId }, { now }),
  });
  operationRoute<{ projectId: string; vote: Vote; comment: string; conditions?: string[] }>(app, {
    method: 'POST',
    url: '/projects/:projectId/votes',
    operation: 'dac.vote',
    tag: 'dac',
    summary: 'Vote in the open review round (once per member and round)',
    params: idParams('projectId'),
    body: input({ vote: { type: 'string', enum: [...VOTES] }, comment, conditions }, ['vote', 'comment']),
    status: 201,
    response: VOTE_RESULT,
    call: ({ db, actor, now }, i) => castVote(db, actor, i, { now }),
  });
  operationRoute<{ projectId: string; reason: string }>(app, {
    method: 'POST',
    url: '/projects/:projectId/recusals',
    operation: 'dac.recuse',
    tag: 'dac',
    summary: 'Declare a conflict of interest and recuse from the review',
    params: idParams('projectId'),
    body: input({ reason: comment }, ['reason']),
    status: 201,
    response: RECUSAL,
    call: ({ db, actor, now }, i) => declareConflict(db, actor, i, { now }),
  });
  operationRoute<{ projectId: string; decision: Decision; comment: string; conditions?: string[]; termDays?: number }>(app, {
    method: 'POST',
    url: '/projects/:projectId/decision',
    operation: 'dac.decide',
    tag: 'dac',
    summary: "Record the round's decision: approve (with conditions), reject, or request changes",
    params: idParams('projectId'),
    body: input({ decision: { type: 'string', enum: [...DECISIONS] }, comment, conditions, termDays }, ['decision', 'comment']),
    status: 201,
    response: DECISION,
    call: ({ db, actor, now }, i) => recordDecision(db, actor, i, { now }),
  });
  operationRoute<{ projectId: string; comment: string; conditions?: string[]; termDays?: number }>(app, {
    method: 'POST',
    url: '/projects/:projectId/renewal',
    operation: 'dac.renew',
    tag: 'dac',
    summary: 'Renew an approval for another term',
    params: idParams('projectId'),
    body: input({ comment, conditions, termDays }, ['comment']),
    status: 201,
    response: DECISION,
    call: ({ db, actor, now }, i) => renewApproval(db, actor, i, { now }),
  });
}
