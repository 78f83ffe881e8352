/**
 * One way to declare an API route, so every route is the same thin face: its input is the union
 * of its path parameters, query and body (each checked by a JSON Schema first), it names the
 * library operation it performs (its row in the permission tables, which the access tests
 * enumerate), it calls that operation with the authenticated actor and the service's clock, and
 * its answer goes out through a response schema: fields not in the schema never leave.
 */
import type { FastifyInstance } from 'fastify';
import type { Actor } from '../governance/actor.js';
import type { Db } from '../governance/db.js';
import { actorOf } from './auth.js';
import { ERROR_SCHEMA } from './errors.js';

export type JsonSchema = Readonly<Record<string, unknown>>;

export interface OperationCall {
  readonly db: Db;
  readonly actor: Actor;
  readonly now: Date;
}

export interface OperationRoute<I> {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  /** The permission-table key of the library operation this route performs. */
  readonly operation: string;
  readonly summary: string;
  readonly tag: string;
  readonly params?: JsonSchema;
  readonly query?: JsonSchema;
  readonly body?: JsonSchema;
  /** The schema of a successful answer: the allow-list of what leaves the service. */
  readonly response: JsonSchema;
  /** Status of a successful answer; 201 for creations. */
  readonly status?: 200 | 201;
  readonly call: (ctx: OperationCall, input: I) => Promise<unknown>;
}

export function operationRoute<I>(app: FastifyInstance, route: OperationRoute<I>): void {
  const status = route.status ?? 200;
  app.route({
    method: route.method,
    url: route.url,
    config: { operation: route.operation },
    schema: {
      summary: route.summary,
      tags: [route.tag],
      ...(route.params ? { params: route.params } : {}),
      ...(route.query ? { querystring: route.query } : {}),
      ...(route.body ? { body: route.body } : {}),
      response: { [status]: route.response, '4xx': ERROR_SCHEMA, '5xx': ERROR_SCHEMA },
    },
    handler: async (request, reply) => {
      const input = {
        ...((request.query as object | undefined) ?? {}),
        ...((request.body as object | undefined) ?? {}),
        ...((request.params as object | undefined) ?? {}),
      } as I;
      const result = await route.call({ db: app.governance.db, actor: actorOf(request), now: app.governance.clock() }, input);
      return reply.code(status).send(result);
    },
  });
}

// Schema building blocks.
export const str = { type: 'string' } as const;
export const nullableStr = { type: ['string', 'null'] } as const;
export const strList = { type: 'array', items: { type: 'string' } } as const;
export const int = { type: 'integer' } as const;
export const bool = { type: 'boolean' } as const;
/** An object whose every listed property may leave the service. */
export function obj(properties: Record<string, JsonSchema>, required: readonly string[] = []): JsonSchema {
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}) };
}
/** A request object: listed properties only, so a misspelt field is named rather than ignored. */
export function input(properties: Record<string, JsonSchema>, required: readonly string[] = []): JsonSchema {
  return { type: 'object', properties, additionalProperties: false, ...(required.length > 0 ? { required } : {}) };
}
export function list(items: JsonSchema): JsonSchema {
  return { type: 'array', items };
}
export function idParams(...names: string[]): JsonSchema {
  return input(Object.fromEntries(names.map((n) => [n, { type: 'string', minLength: 1, maxLength: 200 }])), names);
}
