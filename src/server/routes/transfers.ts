/** The transfer basis of a release to another country (`governance/transfers.ts`). */
import type { FastifyInstance } from 'fastify';
import { checkTransfer } from '../../governance/transfers.js';
import { input, int, obj, operationRoute, str } from '../route.js';

const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max }) as const;

export async function transferRoutes(app: FastifyInstance): Promise<void> {
  operationRoute<{ from: string; to: string; agreementId: string; recipient?: string; at?: string }>(app, {
    method: 'POST',
    url: '/transfers/check',
    operation: 'transfer.check',
    tag: 'transfers',
    summary: 'Whether a transfer from one country to another under an agreement is lawful, and on which basis (or why not)',
    body: input({ from: text(2), to: text(2), agreementId: text(200), recipient: text(300), at: text(40) }, ['from', 'to', 'agreementId']),
    response: obj(
      {
        lawful: { type: 'boolean' },
        reason: str,
        basis: obj({ kind: str, summary: str, decision: str, module: int, tiaReference: str, tiaDate: str, approvalReference: str, authority: str, ground: str, justification: str, exceptional: { type: 'boolean' } }),
      },
      ['lawful'],
    ),
    call: ({ db, actor, now }, i) => checkTransfer(db, actor, i, { now }),
  });
}
