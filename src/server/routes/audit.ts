/**
 * The audit trail for the DPO and admins: verify the chain, read entries, export with hashes.
 */
import type { FastifyInstance } from 'fastify';
import { exportAudit, readAudit, verifyAudit } from '../../governance/audit.js';
import { authorizeAuditRead } from '../../governance/audit-access.js';
import { ERROR_SCHEMA } from '../errors.js';
import { input, int, list, obj, operationRoute, str } from '../route.js';

const PROBLEM = obj({ seq: int, kind: str, message: str }, ['seq', 'kind', 'message']);
const ENTRY = obj(
  { seq: int, at: str, actorId: str, actorName: str, action: str, target: str, outcome: str, details: { type: 'object', additionalProperties: true }, prevHash: str, hash: str },
  ['seq', 'at', 'actorId', 'actorName', 'action', 'target', 'outcome', 'details', 'prevHash', 'hash'],
);

export async function auditRoutes(app: FastifyInstance): Promise<void> {
  operationRoute(app, {
    method: 'GET',
    url: '/audit/verify',
    operation: 'audit.read',
    tag: 'audit',
    summary: 'Check the hash chain; names the first broken entry',
    response: obj({ ok: { type: 'boolean' }, entries: int, head: str, problems: list(PROBLEM) }, ['ok', 'entries']),
    call: async ({ db, actor, now }) => {
      await authorizeAuditRead(db, actor, now);
      return verifyAudit(db);
    },
  });
  operationRoute<{ from?: number; limit?: number }>(app, {
    method: 'GET',
    url: '/audit/entries',
    operation: 'audit.read',
    tag: 'audit',
    summary: 'Entries of the trail in order, with their hashes',
    query: input({ from: { type: 'integer', minimum: 1 }, limit: { type: 'integer', minimum: 1, maximum: 5000 } }),
    response: list(ENTRY),
    call: async ({ db, actor, now }, q) => {
      await authorizeAuditRead(db, actor, now);
      return readAudit(db, { fromSeq: q.from ?? 1, limit: q.limit ?? 1000 });
    },
  });
  app.get(
    '/audit/export',
    {
      config: { operation: 'audit.read' },
      schema: {
        summary: 'The whole trail as JSON lines with each entry’s hashes, for an auditor to re-verify offline',
        tags: ['audit'],
        produces: ['application/x-ndjson'],
        response: { 200: { type: 'string' }, '4xx': ERROR_SCHEMA },
      },
    },
    async (request, reply) => {
      const { db, clock } = app.governance;
      await authorizeAuditRead(db, request.actor!, clock());
      const text = await exportAudit(db);
      return reply.type('application/x-ndjson; charset=utf-8').header('content-disposition', 'attachment; filename="audit.jsonl"').send(text);
    },
  );
}
