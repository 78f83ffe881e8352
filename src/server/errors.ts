/**
 * How a refusal leaves the service: one body shape, `{ error: { code, message, details? } }`, with
 * the status the governance error catalogue gives its code. Fastify's own 4xx (validation, a body
 * too large, an unsupported media type, the login rate limit) keep their status; anything else is
 * a 500 that says nothing about the service's internals.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GovernanceError, GOVERNANCE_ERRORS } from '../governance/errors.js';

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: readonly { readonly check: string; readonly reason: string }[] };
}

/** The JSON Schema of every error answer, for the OpenAPI document. */
export const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: { type: 'array', items: { type: 'object', properties: { check: { type: 'string' }, reason: { type: 'string' } } } },
      },
    },
  },
} as const;

interface AjvIssue {
  readonly instancePath?: string;
  readonly keyword?: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
}

/** `body.consent.codes[0] must be string`: the field a validation failure is about, in the request's words. */
export function validationMessage(context: string | undefined, issues: readonly AjvIssue[]): { field: string; message: string } {
  const first = issues[0] ?? {};
  const segments = (first.instancePath ?? '')
    .split('/')
    .filter((s) => s !== '')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const missing = first.params?.missingProperty;
  const extra = first.params?.additionalProperty;
  if (typeof missing === 'string') segments.push(missing);
  else if (typeof extra === 'string') segments.push(extra);
  let field = context ?? 'request';
  for (const s of segments) field += /^\d+$/.test(s) ? `[${s}]` : `.${s}`;
  let reason = first.message ?? 'is invalid';
  if (typeof missing === 'string') reason = 'is required';
  else if (typeof extra === 'string') reason = 'is not a known field';
  else if (first.keyword === 'enum' && Array.isArray(first.params?.allowedValues)) reason = `must be one of ${(first.params.allowedValues as unknown[]).join(', ')}`;
  return { field, message: `${field} ${reason}` };
}

export function errorBody(code: string, message: string, details?: ErrorBody['error']['details']): ErrorBody {
  return details === undefined || details.length === 0 ? { error: { code, message } } : { error: { code, message, details } };
}

const CODE_OF_STATUS = new Map<number, string>(Object.entries(GOVERNANCE_ERRORS).map(([code, status]) => [status, code]));

/** The error handler of the whole app. */
export function sendError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof GovernanceError) {
    return reply.code(error.status).send(errorBody(error.code, error.message, error.details));
  }
  const fe = error as FastifyError;
  if (Array.isArray(fe.validation)) {
    const { field, message } = validationMessage(fe.validationContext, fe.validation as AjvIssue[]);
    return reply.code(400).send(errorBody('invalid', message, [{ check: field, reason: message }]));
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Fastify's own refusals (malformed JSON, unsupported media type, too large, rate limit) carry
    // messages written for clients and no data of the request.
    return reply.code(status).send(errorBody(CODE_OF_STATUS.get(status) ?? 'invalid', fe.message));
  }
  // The message may quote a value of the request; the frames tell the operator where it failed.
  request.log.error({ err: { name: error.name, frames: error.stack?.split('\n').slice(1).join('\n') } }, 'request failed');
  return reply.code(500).send(errorBody('internal', 'internal error'));
}
