/** Data-sharing and data-use agreements (`governance/agreements.ts`). */
import type { FastifyInstance } from 'fastify';
import { AGREEMENT_KINDS, ARTICLE_49_GROUNDS, PARTY_ROLES, createAgreement, getAgreement, linkProject, listAgreements, signAgreement, terminateAgreement, type CreateAgreementInput } from '../../governance/agreements.js';
import { idParams, input, list, operationRoute } from '../route.js';
import { AGREEMENT } from '../schemas.js';

const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max }) as const;
const time = text(40);
const PARTY_INPUT = input(
  { name: text(300), role: { type: 'string', enum: [...PARTY_ROLES] }, country: text(2), dpfCertified: { type: 'boolean' }, pipedaCovered: { type: 'boolean' } },
  ['name', 'role', 'country'],
);
const TRANSFER_INPUT = input({
  scc: input({ module: { type: 'integer', minimum: 1, maximum: 4 }, tiaReference: text(300), tiaDate: time }, ['module', 'tiaReference', 'tiaDate']),
  bcr: input({ approvalReference: text(300), authority: text(300) }, ['approvalReference', 'authority']),
  derogation: input({ ground: { type: 'string', enum: Object.keys(ARTICLE_49_GROUNDS) }, justification: text(5000) }, ['ground', 'justification']),
});
const LDS_INPUT = input(
  {
    permittedUsesAndDisclosures: text(5000),
    whoMayUseOrReceive: text(5000),
    noUseBeyondAgreement: { type: 'boolean' },
    safeguards: text(5000),
    reportViolations: { type: 'boolean' },
    agentsBound: { type: 'boolean' },
    noReidentificationOrContact: { type: 'boolean' },
  },
  ['permittedUsesAndDisclosures', 'whoMayUseOrReceive', 'noUseBeyondAgreement', 'safeguards', 'reportViolations', 'agentsBound', 'noReidentificationOrContact'],
);

export async function agreementRoutes(app: FastifyInstance): Promise<void> {
  operationRoute<CreateAgreementInput>(app, {
    method: 'POST',
    url: '/agreements',
    operation: 'agreement.create',
    tag: 'agreements',
    summary: 'Record a data-sharing or data-use agreement (active once every party has signed)',
    body: input(
      {
        kind: { type: 'string', enum: [...AGREEMENT_KINDS] },
        title: text(300),
        reference: text(300),
        parties: { type: 'array', items: PARTY_INPUT, minItems: 1, maxItems: 50 },
        permittedUses: { type: 'array', items: text(100), minItems: 1, maxItems: 50 },
        startsAt: time,
        endsAt: time,
        transfer: TRANSFER_INPUT,
        limitedDataSet: LDS_INPUT,
        projects: { type: 'array', items: text(200), maxItems: 100 },
      },
      ['kind', 'title', 'parties', 'permittedUses', 'startsAt', 'endsAt'],
    ),
    status: 201,
    response: AGREEMENT,
    call: ({ db, actor, now }, body) => createAgreement(db, actor, body, { now }),
  });
  operationRoute<{ projectId?: string }>(app, {
    method: 'GET',
    url: '/agreements',
    operation: 'agreement.read',
    tag: 'agreements',
    summary: 'Agreements the caller may see, with whether each is active and why not',
    query: input({ projectId: text(200) }),
    response: list(AGREEMENT),
    call: ({ db, actor, now }, q) => listAgreements(db, actor, q.projectId === undefined ? {} : { projectId: q.projectId }, { now }),
  });
  operationRoute<{ agreementId: string }>(app, {
    method: 'GET',
    url: '/agreements/:agreementId',
    operation: 'agreement.read',
    tag: 'agreements',
    summary: 'One agreement, with whether it is active and why not',
    params: idParams('agreementId'),
    response: AGREEMENT,
    call: ({ db, actor, now }, i) => getAgreement(db, actor, { agreementId: i.agreementId }, { now }),
  });
  operationRoute<{ agreementId: string; partyId: string; signedBy: string; signerRole: string; signedAt?: string }>(app, {
    method: 'POST',
    url: '/agreements/:agreementId/signatures',
    operation: 'agreement.sign',
    tag: 'agreements',
    summary: "Record one party's signature",
    params: idParams('agreementId'),
    body: input({ partyId: text(200), signedBy: text(300), signerRole: text(300), signedAt: time }, ['partyId', 'signedBy', 'signerRole']),
    status: 201,
    response: AGREEMENT,
    call: ({ db, actor, now }, i) => signAgreement(db, actor, i, { now }),
  });
  operationRoute<{ agreementId: string; projectId: string }>(app, {
    method: 'POST',
    url: '/agreements/:agreementId/projects',
    operation: 'agreement.link',
    tag: 'agreements',
    summary: 'Link the agreement to a project',
    params: idParams('agreementId'),
    body: input({ projectId: text(200) }, ['projectId']),
    status: 201,
    response: AGREEMENT,
    call: ({ db, actor, now }, i) => linkProject(db, actor, i, { now }),
  });
  operationRoute<{ agreementId: string; reason: string }>(app, {
    method: 'POST',
    url: '/agreements/:agreementId/termination',
    operation: 'agreement.terminate',
    tag: 'agreements',
    summary: 'Terminate the agreement',
    params: idParams('agreementId'),
    body: input({ reason: text(5000) }, ['reason']),
    status: 201,
    response: AGREEMENT,
    call: ({ db, actor, now }, i) => terminateAgreement(db, actor, i, { now }),
  });
}
