/** The release gate (`governance/release.ts`): assemble a release, or learn why it is refused. */
import type { FastifyInstance } from 'fastify';
import { createRelease, getRelease, listReleases } from '../../governance/release.js';
import { idParams, input, int, list, nullableStr, obj, operationRoute, str, strList } from '../route.js';

const CHECK = obj({ check: str, result: str, reason: str }, ['check', 'result', 'reason']);
const TRANSFER_BASIS = obj({ kind: str, summary: str, decision: str, module: int, tiaReference: str, tiaDate: str, approvalReference: str, authority: str, ground: str, justification: str, exceptional: { type: 'boolean' } }, ['kind', 'summary']);
const MANIFEST = obj(
  {
    format: str,
    releaseId: str,
    createdAt: str,
    actor: obj({ id: str, name: str }, ['id', 'name']),
    project: obj({ id: str, title: str, purpose: strList, institution: str, country: str, targetK: int, quasiIdentifiers: strList }, ['id']),
    agreement: obj({ id: str, kind: str, title: str, reference: nullableStr }, ['id']),
    datasets: list(obj({ id: str, site: str, country: str, transfer: TRANSFER_BASIS }, ['id', 'site', 'country'])),
    subjects: strList,
    files: list(obj({ path: str, size: int, sha256: str, subject: str }, ['path', 'size', 'sha256', 'subject'])),
    checks: list(CHECK),
    risk: obj({ k: int, target: int, quasiIdentifiers: strList, records: int }, ['k', 'target']),
  },
  ['format', 'releaseId', 'subjects', 'files', 'checks'],
);
const RELEASE = obj(
  {
    id: str,
    projectId: str,
    agreementId: nullableStr,
    status: str,
    out: str,
    checks: list(CHECK),
    manifest: { anyOf: [MANIFEST, { type: 'null' }] },
    exclusions: list(obj({ dataset: str, subject: nullableStr, file: nullableStr, reason: str }, ['dataset', 'reason'])),
    actorId: str,
    createdAt: str,
  },
  ['id', 'projectId', 'status', 'checks', 'manifest', 'createdAt'],
);

export async function releaseRoutes(app: FastifyInstance): Promise<void> {
  operationRoute<{ projectId: string; out: string; datasetIds?: string[] }>(app, {
    method: 'POST',
    url: '/projects/:projectId/releases',
    operation: 'release.create',
    tag: 'releases',
    summary:
      'Assemble a release into a new folder on the server: consented (or waiver-covered) subjects only, verified, k reached, agreement active, transfer lawful; a refusal (422) lists every failed check',
    params: idParams('projectId'),
    body: input({ out: { type: 'string', minLength: 1, maxLength: 4096 }, datasetIds: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 }, minItems: 1, maxItems: 100 } }, ['out']),
    status: 201,
    response: RELEASE,
    call: ({ db, actor, now }, i) => createRelease(db, actor, { projectId: i.projectId, out: i.out, ...(i.datasetIds ? { datasetIds: i.datasetIds } : {}) }, { now }),
  });
  operationRoute<{ projectId: string }>(app, {
    method: 'GET',
    url: '/projects/:projectId/releases',
    operation: 'release.read',
    tag: 'releases',
    summary: "A project's releases (released and refused), oldest first",
    params: idParams('projectId'),
    response: list(RELEASE),
    call: ({ db, actor, now }, i) => listReleases(db, actor, { projectId: i.projectId }, { now }),
  });
  operationRoute<{ releaseId: string }>(app, {
    method: 'GET',
    url: '/releases/:releaseId',
    operation: 'release.read',
    tag: 'releases',
    summary: 'One release with its checks and manifest',
    params: idParams('releaseId'),
    response: RELEASE,
    call: ({ db, actor, now }, i) => getRelease(db, actor, { releaseId: i.releaseId }, { now }),
  });
}
