/** Consent waivers granted by an IRB or ethics committee (`governance/waivers.ts`). */
import type { FastifyInstance } from 'fastify';
import { WAIVER_CRITERION_IDS, listWaivers, recordWaiver, revokeWaiver, type WaiverInput } from '../../governance/waivers.js';
import { bool, idParams, input, list, nullableStr, obj, operationRoute, str } from '../route.js';

const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max }) as const;
const FINDING_IN = input({ met: { type: 'boolean' }, justification: text(5000) }, ['met', 'justification']);
const FINDING_OUT = obj({ met: bool, justification: str }, ['met', 'justification']);
const criteria = (finding: Record<string, unknown>) => ({ type: 'object', properties: Object.fromEntries(WAIVER_CRITERION_IDS.map((c) => [c, finding])), additionalProperties: false });

const WAIVER = obj(
  { id: str, projectId: str, committee: str, reference: str, granted: str, expires: str, criteria: criteria(FINDING_OUT), recordedAt: str, recordedBy: str, revoked: nullableStr },
  ['id', 'projectId', 'committee', 'reference', 'granted', 'expires', 'criteria', 'revoked'],
);

export async function waiverRoutes(app: FastifyInstance): Promise<void> {
  operationRoute<WaiverInput>(app, {
    method: 'POST',
    url: '/projects/:projectId/waivers',
    operation: 'waiver.record',
    tag: 'waivers',
    summary: "Record a committee's consent waiver for a project: each criterion of 45 CFR 46.116(f)(3) and 164.512(i)(2)(ii) met, with its justification",
    params: idParams('projectId'),
    body: input({ committee: text(300), reference: text(300), granted: text(40), expires: text(40), criteria: criteria(FINDING_IN) }, ['committee', 'reference', 'granted', 'expires', 'criteria']),
    status: 201,
    response: WAIVER,
    call: ({ db, actor, now }, i) => recordWaiver(db, actor, i, { now }),
  });
  operationRoute<{ projectId: string }>(app, {
    method: 'GET',
    url: '/projects/:projectId/waivers',
    operation: 'waiver.read',
    tag: 'waivers',
    summary: "A project's consent waivers",
    params: idParams('projectId'),
    response: list(WAIVER),
    call: ({ db, actor, now }, i) => listWaivers(db, actor, { projectId: i.projectId }, { now }),
  });
  operationRoute<{ waiverId: string }>(app, {
    method: 'POST',
    url: '/waivers/:waiverId/revocation',
    operation: 'waiver.record',
    tag: 'waivers',
    summary: 'Revoke a waiver (it covers no release after now)',
    params: idParams('waiverId'),
    response: WAIVER,
    call: ({ db, actor, now }, i) => revokeWaiver(db, actor, { waiverId: i.waiverId }, { now }),
  });
}
