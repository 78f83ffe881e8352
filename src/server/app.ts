/**
 * The governance service's HTTP face: a Fastify app over one `Db`. It holds no rule of its own:
 * every route parses its input against a JSON Schema, calls one library operation with the
 * authenticated actor, and renders the result through a response schema that is the allow-list
 * of what may leave the service. `buildServer` does not listen; `radanon serve` does.
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import type { Db } from '../governance/db.js';
import { VERSION } from '../version.js';
import { authentication, loginRoutes, SESSION_COOKIE, type LoginLimits } from './auth.js';
import { sendError } from './errors.js';
import { agreementRoutes } from './routes/agreements.js';
import { consentRoutes } from './routes/consent.js';
import { auditRoutes } from './routes/audit.js';
import { dacRoutes } from './routes/dac.js';
import { datasetRoutes } from './routes/datasets.js';
import { releaseRoutes } from './routes/releases.js';
import { projectRoutes } from './routes/projects.js';
import { transferRoutes } from './routes/transfers.js';
import { userRoutes } from './routes/users.js';
import { waiverRoutes } from './routes/waivers.js';
import { webRoutes } from './routes/web.js';

export interface ServerOptions {
  readonly db: Db;
  /** Mark cookies Secure even on plain HTTP (behind a TLS-terminating proxy). */
  readonly secureCookies?: boolean;
  /** Fastify's logger setting; off by default so no request detail is written anywhere. */
  readonly logger?: FastifyServerOptions['logger'];
  /** The service's clock, injectable so expiry can be tested. */
  readonly clock?: () => Date;
  /** Login attempts allowed per minute, per client address and per user name. */
  readonly loginLimits?: LoginLimits;
}

/** What every route plugin receives: the store and the clock. */
export interface RouteContext {
  readonly db: Db;
  readonly clock: () => Date;
}

/** A route as the app serves it, with the library operation it performs (from its config). */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly operation: string | undefined;
  /** Left out of the OpenAPI document (the web pages, login and logout). */
  readonly hidden: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The governance store and clock of this app. */
    readonly governance: RouteContext;
    /** Every route of the app, collected as they are added (the access tests enumerate it). */
    readonly routeTable: readonly RouteEntry[];
  }
}

const HEALTH = { type: 'object', required: ['status', 'database'], properties: { status: { type: 'string' }, database: { type: 'string' }, version: { type: 'string' } } } as const;

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    // A request id that tells nothing about the request or the time it came in.
    genReqId: () => randomBytes(8).toString('hex'),
    // Unknown fields are refused (named), not silently dropped; query strings are coerced to their types.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    bodyLimit: 10 * 1024 * 1024,
    // A HEAD twin of every GET would be one more route to protect and test, for no client's use.
    exposeHeadRoutes: false,
  });
  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routeTable.push({ method, url: route.url, operation: route.config?.operation, hidden: (route.schema as { hide?: boolean } | undefined)?.hide === true });
  });
  const ctx: RouteContext = { db: options.db, clock: options.clock ?? (() => new Date()) };
  app.decorate('governance', ctx);
  app.decorateRequest('actor', null);
  app.decorateRequest('sessionKey', null);
  app.setErrorHandler(sendError);
  // The path is not echoed: it may hold a research ID.
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: { code: 'not-found', message: `no route answers ${request.method} on this path` } }));

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'radanon governance service', version: VERSION, description: 'Consent, waivers, projects, the access committee, agreements, transfers and the release gate.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  await app.register(fastifyRateLimit, { global: false });

  app.get(
    '/health',
    {
      config: { operation: 'health' },
      schema: {
        summary: 'Whether the service and its database answer',
        security: [],
        response: { 200: HEALTH, 503: HEALTH },
      },
    },
    async (_request, reply) => {
      try {
        await ctx.db.get('SELECT 1 AS ok');
        return { status: 'ok', database: ctx.db.dialect, version: VERSION };
      } catch {
        return reply.code(503).send({ status: 'unavailable', database: ctx.db.dialect, version: VERSION });
      }
    },
  );
  await app.register(loginRoutes, { secureCookies: options.secureCookies === true, limits: options.loginLimits });

  // Everything below needs an authenticated actor: the hook lives only in this context.
  await app.register(async (protectedApp) => {
    // Called, not registered: its hooks must hold in this context, for every sibling plugin below.
    await authentication(protectedApp);
    protectedApp.get('/openapi.json', { schema: { hide: true }, config: { operation: 'openapi' } }, async () => app.swagger());
    await protectedApp.register(userRoutes);
    await protectedApp.register(auditRoutes);
    await protectedApp.register(consentRoutes);
    await protectedApp.register(waiverRoutes);
    await protectedApp.register(projectRoutes);
    await protectedApp.register(dacRoutes);
    await protectedApp.register(agreementRoutes);
    await protectedApp.register(transferRoutes);
    await protectedApp.register(datasetRoutes);
    await protectedApp.register(releaseRoutes);
    await protectedApp.register(webRoutes);
  });
  return app;
}
