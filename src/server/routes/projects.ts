/** Project proposals (`governance/projects.ts`). */
import type { FastifyInstance } from 'fastify';
import { PROJECT_STATES, closeProject, createProject, getProject, listProjects, setDecisionRule, submitProject, updateProject, type ProposalInput, type ProjectState } from '../../governance/projects.js';
import { idParams, input, list, operationRoute, str } from '../route.js';
import { PROJECT } from '../schemas.js';

const texts = (max: number) => ({ type: 'array', items: { type: 'string', minLength: 1, maxLength: 1000 }, maxItems: max }) as const;
const PROPOSAL_FIELDS = {
  title: { type: 'string', minLength: 1, maxLength: 300 },
  purpose: texts(50),
  datasets: texts(100),
  fields: texts(500),
  institution: { type: 'string', minLength: 1, maxLength: 300 },
  country: { type: 'string', minLength: 2, maxLength: 2 },
  securityPlan: { type: 'string', minLength: 1, maxLength: 20_000 },
  targetK: { type: 'integer', minimum: 1, maximum: 1000 },
  quasiIdentifiers: texts(30),
} as const;

export async function projectRoutes(app: FastifyInstance): Promise<void> {
  operationRoute<ProposalInput>(app, {
    method: 'POST',
    url: '/projects',
    operation: 'project.create',
    tag: 'projects',
    summary: 'Draft a project proposal (the researcher becomes its owner)',
    body: input(PROPOSAL_FIELDS, ['title', 'purpose', 'datasets', 'fields', 'institution', 'country', 'securityPlan']),
    status: 201,
    response: PROJECT,
    call: ({ db, actor, now }, body) => createProject(db, actor, body, { now }),
  });
  operationRoute<{ state?: ProjectState }>(app, {
    method: 'GET',
    url: '/projects',
    operation: 'project.read',
    tag: 'projects',
    summary: 'Projects the caller may see, optionally in one state',
    query: input({ state: { type: 'string', enum: [...PROJECT_STATES] } }),
    response: list(PROJECT),
    call: ({ db, actor, now }, q) => listProjects(db, actor, q.state === undefined ? {} : { state: q.state }, { now }),
  });
  operationRoute<{ projectId: string }>(app, {
    method: 'GET',
    url: '/projects/:projectId',
    operation: 'project.read',
    tag: 'projects',
    summary: 'One project',
    params: idParams('projectId'),
    response: PROJECT,
    call: ({ db, actor, now }, i) => getProject(db, actor, { projectId: i.projectId }, { now }),
  });
  operationRoute<{ projectId: string } & Partial<ProposalInput>>(app, {
    method: 'PUT',
    url: '/projects/:projectId',
    operation: 'project.update',
    tag: 'projects',
    summary: 'Edit a draft, or a proposal sent back for changes',
    params: idParams('projectId'),
    body: { ...input(PROPOSAL_FIELDS), minProperties: 1 },
    response: PROJECT,
    call: ({ db, actor, now }, { projectId, ...changes }) => updateProject(db, actor, { projectId, changes }, { now }),
  });
  operationRoute<{ projectId: string }>(app, {
    method: 'POST',
    url: '/projects/:projectId/submit',
    operation: 'project.submit',
    tag: 'projects',
    summary: 'Submit (or resubmit) a proposal to the access committee',
    params: idParams('projectId'),
    response: PROJECT,
    call: ({ db, actor, now }, i) => submitProject(db, actor, { projectId: i.projectId }, { now }),
  });
  operationRoute<{ projectId: string; quorum?: number; termDays?: number; chairId?: string | null }>(app, {
    method: 'PUT',
    url: '/projects/:projectId/decision-rule',
    operation: 'project.set-rule',
    tag: 'projects',
    summary: "Set a project's decision rule: quorum, approval term, chair",
    params: idParams('projectId'),
    body: input({ quorum: { type: 'integer', minimum: 1, maximum: 100 }, termDays: { type: 'integer', minimum: 1, maximum: 3660 }, chairId: { type: ['string', 'null'], maxLength: 200 } }),
    response: PROJECT,
    call: ({ db, actor, now }, i) => setDecisionRule(db, actor, i, { now }),
  });
  operationRoute<{ projectId: string; by: string; at: string; method: string }>(app, {
    method: 'POST',
    url: '/projects/:projectId/close',
    operation: 'project.close',
    tag: 'projects',
    summary: 'Close a project, confirming the destruction of its data (who, when, how)',
    params: idParams('projectId'),
    body: input({ by: { type: 'string', minLength: 1, maxLength: 300 }, at: { ...str, minLength: 1, maxLength: 40 }, method: { type: 'string', minLength: 1, maxLength: 1000 } }, ['by', 'at', 'method']),
    response: PROJECT,
    call: ({ db, actor, now }, i) => closeProject(db, actor, { projectId: i.projectId, destruction: { by: i.by, at: i.at, method: i.method } }, { now }),
  });
}
