/**
 * Who is calling. API clients send `Authorization: Bearer <token>`; the web pages sign in with a
 * name and password (`POST /login`) and then carry a session cookie (HttpOnly, SameSite=Strict,
 * Secure over TLS). A state-changing request made with the cookie must also carry its session's
 * CSRF token (the synchroniser token of the library's session, as form field `_csrf` or header
 * `x-csrf-token`); a bearer request needs none, since no browser attaches a bearer token by
 * itself. Tokens, sessions and passwords are the library's (`governance/users.ts`); this file only
 * reads them off the request. Every refusal is audited.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor } from '../governance/actor.js';
import { recordAuditAlone } from '../governance/audit.js';
import { GovernanceError } from '../governance/errors.js';
import { authenticateToken, csrfMatches, endSession, login, sessionActor, sessionCsrfSecret } from '../governance/users.js';
import { ERROR_SCHEMA } from './errors.js';
import { loginPage, PAGE_HEADERS } from './web/pages.js';

export const SESSION_COOKIE = 'radanon_session';
export const CSRF_HEADER = 'x-csrf-token';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated actor; set by the authentication hook in the protected context. */
    actor: Actor | null;
    /** The session key when the request was authenticated by the session cookie. */
    sessionKey: string | null;
  }
  interface FastifyContextConfig {
    /** The library operation a route performs: the key of its row in the permission tables. */
    operation?: string;
  }
}

export interface LoginLimits {
  /** Attempts per minute from one client address. */
  readonly perAddress: number;
  /** Attempts per minute for one user name. */
  readonly perName: number;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The actor of an authenticated request; routes in the protected context always have one. */
export function actorOf(request: FastifyRequest): Actor {
  if (request.actor === null) throw new GovernanceError('unauthenticated', 'authentication required');
  return request.actor;
}

/** A refusal that happened before any library operation ran: recorded in its own transaction. */
export async function auditRefusal(request: FastifyRequest, action: string, reason: string, actor?: Actor): Promise<void> {
  const { db, clock } = request.server.governance;
  await recordAuditAlone(db, {
    actor: actor ?? { id: 'anonymous', name: 'anonymous' },
    action: `access.${action}`,
    target: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
    outcome: 'refused',
    details: { reason },
    at: clock(),
  });
}

function bearerToken(request: FastifyRequest): string | null | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header);
  return match === null ? null : match[1]!;
}

function csrfCandidate(request: FastifyRequest): string | undefined {
  const header = request.headers[CSRF_HEADER];
  if (typeof header === 'string') return header;
  const body = request.body as { _csrf?: unknown } | undefined;
  return typeof body?._csrf === 'string' ? body._csrf : undefined;
}

/** The CSRF token of the request's session, for the pages to embed in their forms. */
export async function csrfTokenOf(request: FastifyRequest): Promise<string> {
  if (request.sessionKey === null) return '';
  return sessionCsrfSecret(request.server.governance.db, request.sessionKey, request.server.governance.clock());
}

/** Authenticates by the session cookie and, for a state-changing request, checks its CSRF token. */
async function bySession(request: FastifyRequest, key: string): Promise<void> {
  const { db, clock } = request.server.governance;
  request.actor = await sessionActor(db, key, clock());
  request.sessionKey = key;
  if (!STATE_CHANGING.has(request.method)) return;
  const candidate = csrfCandidate(request);
  const secret = await sessionCsrfSecret(db, key, clock());
  if (candidate === undefined || !csrfMatches(secret, candidate)) {
    await auditRefusal(request, 'csrf', candidate === undefined ? 'missing CSRF token' : 'wrong CSRF token', request.actor);
    throw new GovernanceError('forbidden', 'missing or invalid CSRF token: reload the page and submit the form again');
  }
}

/** The authentication hook of the protected context (encapsulated: not a fastify-plugin). */
export async function authentication(app: FastifyInstance): Promise<void> {
  // preValidation: after the body is parsed (the CSRF token may be a form field), before the
  // schema is checked, so an anonymous caller learns nothing about a route's input.
  app.addHook('preValidation', async (request) => {
    const { db, clock } = app.governance;
    const token = bearerToken(request);
    if (token === null) {
      await auditRefusal(request, 'authenticate', 'malformed Authorization header');
      throw new GovernanceError('unauthenticated', 'the Authorization header must be "Bearer <token>"');
    }
    if (token !== undefined) {
      request.actor = await authenticateToken(db, token, clock());
      return;
    }
    const session = request.cookies[SESSION_COOKIE];
    if (session !== undefined && session !== '') return bySession(request, session);
    await auditRefusal(request, 'authenticate', 'no credentials');
    throw new GovernanceError('unauthenticated', 'authentication required: send "Authorization: Bearer <token>" or sign in at /login');
  });
}

const LOGIN_BODY = {
  type: 'object',
  required: ['name', 'password'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;

function isForm(request: FastifyRequest): boolean {
  return request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') === true;
}

/** `GET /login` (the page), `POST /login` and `POST /logout`: the routes that need no actor first. */
export async function loginRoutes(app: FastifyInstance, options: { secureCookies: boolean; limits?: LoginLimits }): Promise<void> {
  const limits = options.limits ?? { perAddress: 5, perName: 5 };
  const byAddress = app.createRateLimit({ max: limits.perAddress, timeWindow: 60_000, keyGenerator: (r) => `address:${r.ip}` });
  const byName = app.createRateLimit({
    max: limits.perName,
    timeWindow: 60_000,
    keyGenerator: (r) => `name:${String((r.body as { name?: unknown } | undefined)?.name ?? '').toLowerCase()}`,
  });
  const cookie = (request: FastifyRequest) => ({ path: '/', httpOnly: true, sameSite: 'strict', secure: options.secureCookies || request.protocol === 'https' }) as const;

  app.get('/login', { schema: { hide: true }, config: { operation: 'login' } }, async (_request, reply) => reply.headers(PAGE_HEADERS).send(loginPage()));

  app.post<{ Body: { name: string; password: string } }>(
    '/login',
    {
      config: { operation: 'login' },
      schema: {
        summary: 'Sign in with a name and password; sets the session cookie and returns the CSRF token',
        security: [],
        body: LOGIN_BODY,
        response: {
          200: {
            type: 'object',
            required: ['name', 'roles', 'csrfToken', 'expires'],
            properties: { name: { type: 'string' }, roles: { type: 'array', items: { type: 'string' } }, csrfToken: { type: 'string' }, expires: { type: 'string' } },
          },
          '4xx': ERROR_SCHEMA,
        },
      },
      preHandler: async (request) => {
        for (const limiter of [byAddress, byName]) {
          const state = await limiter(request);
          if (!state.isAllowed && state.isExceeded) {
            await auditRefusal(request, 'login-limited', 'too many sign-in attempts');
            throw new GovernanceError('rate-limited', `too many sign-in attempts: wait ${state.ttlInSeconds} s`);
          }
        }
      },
      errorHandler: async (error, request, reply) => {
        // A failed form sign-in goes back to the page with the message; API clients get JSON.
        if (isForm(request) && error instanceof GovernanceError && (error.code === 'unauthenticated' || error.code === 'rate-limited')) {
          return reply.code(error.status).headers(PAGE_HEADERS).send(loginPage(error.message));
        }
        throw error;
      },
    },
    async (request, reply) => {
      const { db, clock } = app.governance;
      const session = await login(db, request.body.name, request.body.password, clock());
      reply.setCookie(SESSION_COOKIE, session.token, { ...cookie(request), expires: new Date(session.expires) });
      if (isForm(request)) return reply.redirect('/', 303);
      return { name: session.actor.name, roles: [...session.actor.roles], csrfToken: session.csrfSecret, expires: session.expires };
    },
  );

  app.post(
    '/logout',
    {
      schema: { hide: true },
      config: { operation: 'logout' },
      preValidation: async (request) => {
        const session = request.cookies[SESSION_COOKIE];
        if (session === undefined || session === '') {
          await auditRefusal(request, 'logout', 'no session');
          throw new GovernanceError('unauthenticated', 'not signed in');
        }
        await bySession(request, session);
      },
    },
    async (request, reply) => {
      const { db, clock } = app.governance;
      await endSession(db, request.sessionKey!, clock());
      reply.clearCookie(SESSION_COOKIE, cookie(request));
      return reply.redirect('/login', 303);
    },
  );
}
