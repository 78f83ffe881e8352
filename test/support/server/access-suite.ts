/**
 * The access matrix of the HTTP API: every route the app serves (collected as it registers them)
 * × every role, plus no credentials, a revoked token, an expired token and a session cookie
 * without its CSRF token. What the library's permission tables allow must be answered (2xx, or a
 * domain 4xx such as 404 or 409), everything else refused with 401 or 403. A route without a
 * request below, or whose operation is in no permission table, fails the suite: a new route cannot
 * ship unprotected or untested.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ROLES, type Role } from '../../../src/governance/actor.js';
import { G1_OPERATIONS } from '../../../src/governance/permissions.js';
import { G2_OPERATIONS } from '../../../src/governance/projects.js';
import { buildServer } from '../../../src/server/app.js';
import { SESSION_COOKIE } from '../../../src/server/auth.js';
import type { Backend } from '../governance/backends.js';
import { fullWaiver, seedWorld, type World } from './world.js';

/** Operations of the HTTP layer itself: who may call them. */
const SERVER_OPERATIONS: Readonly<Record<string, readonly Role[] | 'anyone' | 'session'>> = {
  health: 'anyone',
  login: 'anyone',
  logout: 'session',
  self: ROLES,
  openapi: ROLES,
  'web.page': ROLES,
};

function allowedRoles(operation: string): readonly Role[] | 'anyone' | 'session' {
  const server = SERVER_OPERATIONS[operation];
  if (server !== undefined) return server;
  const row = (G1_OPERATIONS as Record<string, { roles: readonly Role[] }>)[operation] ?? (G2_OPERATIONS as Record<string, { roles: readonly Role[] }>)[operation];
  if (row === undefined) throw new Error(`operation ${operation} is in no permission table`);
  return row.roles;
}

interface Req {
  readonly url: string;
  readonly body?: Record<string, unknown>;
  readonly form?: Record<string, string>;
  readonly csv?: string;
}

/** A valid request for every route: the access check must not be hidden behind a 400. */
function requests(w: World): Record<string, () => Req> {
  const p = w.projectId;
  const future = new Date(Date.now() + 86_400_000).toISOString();
  return {
    'GET /health': () => ({ url: '/health' }),
    'GET /login': () => ({ url: '/login' }),
    'POST /login': () => ({ url: '/login', body: { name: w.webUser.name, password: w.webUser.password } }),
    'POST /logout': () => ({ url: '/logout' }),
    'GET /openapi.json': () => ({ url: '/openapi.json' }),
    'GET /me': () => ({ url: '/me' }),
    'POST /users': () => ({ url: '/users', body: { name: `u-${Math.random().toString(36).slice(2, 10)}`, roles: ['researcher'] } }),
    'GET /users': () => ({ url: '/users' }),
    'POST /users/:user/disable': () => ({ url: `/users/${w.victim.id}/disable` }),
    'PUT /users/:user/password': () => ({ url: `/users/${w.victim.id}/password`, body: { password: 'a long enough password' } }),
    'POST /users/:user/tokens': () => ({ url: `/users/${w.users.admin.id}/tokens`, body: { label: 'extra' } }),
    'GET /users/:user/tokens': () => ({ url: `/users/${w.users.admin.id}/tokens` }),
    'DELETE /tokens/:tokenId': () => ({ url: `/tokens/${w.victimTokenId}` }),
    'GET /audit/verify': () => ({ url: '/audit/verify' }),
    'GET /audit/entries': () => ({ url: '/audit/entries?limit=5' }),
    'GET /audit/export': () => ({ url: '/audit/export' }),
    'POST /projects': () => ({
      url: '/projects',
      body: { title: 'T', purpose: ['DUO:0000006'], datasets: [w.datasetId], fields: ['PatientAge'], institution: 'I', country: 'DE', securityPlan: 'S' },
    }),
    'GET /projects': () => ({ url: '/projects' }),
    'GET /projects/:projectId': () => ({ url: `/projects/${p}` }),
    'PUT /projects/:projectId': () => ({ url: `/projects/${p}`, body: { title: 'New title' } }),
    'POST /projects/:projectId/submit': () => ({ url: `/projects/${p}/submit` }),
    'PUT /projects/:projectId/decision-rule': () => ({ url: `/projects/${p}/decision-rule`, body: { chairId: w.users['dac-member'].id } }),
    'POST /projects/:projectId/close': () => ({ url: `/projects/${w.recusalProjectId}/close`, body: { by: 'IT', at: new Date().toISOString(), method: 'secure erase' } }),
    'GET /projects/:projectId/review': () => ({ url: `/projects/${p}/review` }),
    'POST /projects/:projectId/review': () => ({ url: `/projects/${p}/review` }),
    'POST /projects/:projectId/votes': () => ({ url: `/projects/${p}/votes`, body: { vote: 'approve', comment: 'fine' } }),
    'POST /projects/:projectId/recusals': () => ({ url: `/projects/${w.recusalProjectId}/recusals`, body: { reason: 'co-author' } }),
    'POST /projects/:projectId/decision': () => ({ url: `/projects/${p}/decision`, body: { decision: 'approve', comment: 'ok' } }),
    'POST /projects/:projectId/renewal': () => ({ url: `/projects/${p}/renewal`, body: { comment: 'renew' } }),
    'POST /datasets': () => ({ url: '/datasets', body: { site: 'site-a', country: 'DE', path: w.datasetDir } }),
    'GET /datasets': () => ({ url: '/datasets' }),
    'GET /datasets/:datasetId': () => ({ url: `/datasets/${w.datasetId}` }),
    'POST /agreements': () => ({
      url: '/agreements',
      body: { kind: 'data-use', title: 'A', parties: [{ name: 'X', role: 'recipient', country: 'DE' }], permittedUses: ['DUO:0000006'], startsAt: new Date().toISOString(), endsAt: future },
    }),
    'GET /agreements': () => ({ url: '/agreements' }),
    'GET /agreements/:agreementId': () => ({ url: `/agreements/${w.agreementId}` }),
    'POST /agreements/:agreementId/signatures': () => ({ url: `/agreements/${w.agreementId}/signatures`, body: { partyId: w.partyId, signedBy: 'Dr A', signerRole: 'director' } }),
    'POST /agreements/:agreementId/projects': () => ({ url: `/agreements/${w.agreementId}/projects`, body: { projectId: p } }),
    'POST /agreements/:agreementId/termination': () => ({ url: `/agreements/${w.agreementId}/termination`, body: { reason: 'ended' } }),
    'POST /transfers/check': () => ({ url: '/transfers/check', body: { from: 'DE', to: 'US', agreementId: w.agreementId } }),
    'POST /projects/:projectId/releases': () => ({ url: `/projects/${p}/releases`, body: { out: path.join(w.datasetDir, '..', `release-${Math.random().toString(36).slice(2)}`) } }),
    'GET /projects/:projectId/releases': () => ({ url: `/projects/${p}/releases` }),
    'GET /releases/:releaseId': () => ({ url: `/releases/${w.releaseId}` }),
    'POST /consent/events': () => ({ url: '/consent/events', body: { researchId: w.researchId, site: 'site-a', kind: 'grant', projectId: p } }),
    'POST /consent/import/csv': () => ({ url: '/consent/import/csv', csv: `research_id,site,kind,at,codes,project_id,purpose,source,reference\n${w.researchId},site-a,grant,,,${p},,,\n` }),
    'POST /consent/import/fhir': () => ({ url: '/consent/import/fhir', body: { resource: w.fhirBundle } }),
    'GET /consent/export/fhir': () => ({ url: '/consent/export/fhir?site=site-a' }),
    'GET /consent/export/csv': () => ({ url: '/consent/export/csv?site=site-a' }),
    'GET /consent/:researchId': () => ({ url: `/consent/${w.researchId}` }),
    'GET /consent/:researchId/status': () => ({ url: `/consent/${w.researchId}/status?projectId=${p}&purposeCodes=HMB` }),
    'POST /projects/:projectId/waivers': () => ({ url: `/projects/${p}/waivers`, body: (({ projectId: _p, ...rest }) => rest)(fullWaiver(p, w.seededAt)) }),
    'GET /projects/:projectId/waivers': () => ({ url: `/projects/${p}/waivers` }),
    'POST /waivers/:waiverId/revocation': () => ({ url: `/waivers/${w.waiverId}/revocation` }),
    'GET /': () => ({ url: '/' }),
    'POST /web/projects/:projectId/submit': () => ({ url: `/web/projects/${p}/submit`, form: {} }),
    'GET /audit-status': () => ({ url: '/audit-status' }),
    'GET /consent-lookup': () => ({ url: '/consent-lookup' }),
    'POST /web/consent-events': () => ({ url: '/web/consent-events', form: { researchId: w.researchId, site: 'site-a', kind: 'grant', projectId: p } }),
  };
}

type Caller = { kind: 'role'; role: Role } | { kind: 'none' } | { kind: 'revoked' } | { kind: 'expired' } | { kind: 'session-no-csrf' };
const CALLERS: readonly Caller[] = [...ROLES.map((role) => ({ kind: 'role', role }) as const), { kind: 'none' }, { kind: 'revoked' }, { kind: 'expired' }, { kind: 'session-no-csrf' }];
function callerName(c: Caller): string {
  return c.kind === 'role' ? c.role : c.kind;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function accessSuite(backend: Backend): void {
  describe(`access control of every route (${backend.name})`, () => {
    let app: FastifyInstance;
    let world: World;
    let work: string;
    let sessionCookie: string;

    beforeAll(async () => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'radanon-access-'));
      const db = await backend.open();
      world = await seedWorld(db, work);
      app = await buildServer({ db, loginLimits: { perAddress: 1000, perName: 1000 } });
      await app.ready();
      const login = await app.inject({ method: 'POST', url: '/login', payload: { name: world.webUser.name, password: world.webUser.password } });
      expect(login.statusCode).toBe(200);
      const cookie = login.cookies.find((c) => c.name === SESSION_COOKIE);
      expect(cookie?.httpOnly).toBe(true);
      expect(cookie?.sameSite).toBe('Strict');
      sessionCookie = `${SESSION_COOKIE}=${cookie!.value}`;
    });
    afterAll(async () => {
      await app?.close();
      await backend.cleanup();
      fs.rmSync(work, { recursive: true, force: true });
    });

    it('every route has a request and an operation in the permission tables', () => {
      const reqs = requests(world);
      const missing = app.routeTable.map((r) => `${r.method} ${r.url}`).filter((k) => reqs[k] === undefined);
      expect(missing, 'routes without an access-test request').toEqual([]);
      const noOperation = app.routeTable.filter((r) => r.operation === undefined).map((r) => `${r.method} ${r.url}`);
      expect(noOperation, 'routes that name no operation').toEqual([]);
      for (const r of app.routeTable) expect(() => allowedRoles(r.operation!)).not.toThrow();
    });

    it('allows exactly what the permission tables allow, for every route and caller', async () => {
      const reqs = requests(world);
      const failures: string[] = [];
      let checked = 0;
      for (const route of app.routeTable) {
        const allowed = allowedRoles(route.operation!);
        for (const caller of CALLERS) {
          const req = reqs[`${route.method} ${route.url}`]!();
          const headers: Record<string, string> = {};
          if (caller.kind === 'role') headers.authorization = `Bearer ${world.tokens[caller.role]}`;
          else if (caller.kind === 'revoked') headers.authorization = `Bearer ${world.revokedToken}`;
          else if (caller.kind === 'expired') headers.authorization = `Bearer ${world.expiredToken}`;
          else if (caller.kind === 'session-no-csrf') headers.cookie = sessionCookie;
          // Logging out ends the session the other callers share: test it last, separately.
          if (route.url === '/logout') continue;
          if (req.form) headers['content-type'] = 'application/x-www-form-urlencoded';
          if (req.csv !== undefined) headers['content-type'] = 'text/csv';
          const payload = req.form ? new URLSearchParams(req.form).toString() : (req.csv ?? req.body);
          const res = await app.inject({ method: route.method as 'GET', url: req.url, headers, ...(payload !== undefined ? { payload } : {}) });
          checked++;
          let expectAllowed: boolean;
          if (allowed === 'anyone') expectAllowed = true;
          else if (allowed === 'session') expectAllowed = caller.kind === 'session-no-csrf' && !STATE_CHANGING.has(route.method);
          else if (caller.kind === 'role') expectAllowed = allowed.includes(caller.role);
          else if (caller.kind === 'session-no-csrf') expectAllowed = !STATE_CHANGING.has(route.method) && world.webUser.user.roles.some((r) => allowed.includes(r));
          else expectAllowed = false;
          const refused = res.statusCode === 401 || res.statusCode === 403;
          const label = `${route.method} ${route.url} as ${callerName(caller)}: ${res.statusCode} ${res.body.slice(0, 160)}`;
          if (res.statusCode >= 500) failures.push(`server error: ${label}`);
          else if (expectAllowed && refused) failures.push(`refused but allowed: ${label}`);
          else if (!expectAllowed && !refused) failures.push(`answered but not allowed: ${label}`);
          else if (!expectAllowed && ['none', 'revoked', 'expired'].includes(caller.kind) && res.statusCode !== 401) failures.push(`expected 401: ${label}`);
        }
      }
      expect(failures).toEqual([]);
      expect(checked).toBeGreaterThan(app.routeTable.length * 5);
    });

    it('every refusal is in the audit trail', async () => {
      const res = await app.inject({ method: 'GET', url: '/users', headers: { authorization: `Bearer ${world.revokedToken}` } });
      expect(res.statusCode).toBe(401);
      const res2 = await app.inject({ method: 'GET', url: '/users', headers: { authorization: `Bearer ${world.tokens.researcher}` } });
      expect(res2.statusCode).toBe(403);
      const entries = (await app.inject({ method: 'GET', url: '/audit/entries?limit=5000', headers: { authorization: `Bearer ${world.tokens.dpo}` } })).json() as { action: string; outcome: string; actorId: string; details: Record<string, unknown> }[];
      const refusals = entries.filter((e) => e.outcome === 'refused');
      expect(refusals.some((e) => e.action === 'auth.token' && e.details.reason === 'revoked token')).toBe(true);
      expect(refusals.some((e) => e.action === 'auth.token' && e.details.reason === 'expired token')).toBe(true);
      expect(refusals.some((e) => e.action === 'access.authenticate' && e.details.reason === 'no credentials')).toBe(true);
      expect(refusals.some((e) => e.action === 'access.csrf')).toBe(true);
      expect(refusals.some((e) => e.action === 'user.list' && e.actorId === world.users.researcher.id)).toBe(true);
      // The trail never holds a token's value.
      const text = JSON.stringify(entries);
      for (const t of [world.revokedToken, world.expiredToken, ...Object.values(world.tokens)]) expect(text).not.toContain(t);
    });

    it('a session cookie with its CSRF token may change state, and logging out ends it', async () => {
      const login = await app.inject({ method: 'POST', url: '/login', payload: { name: world.webUser.name, password: world.webUser.password } });
      const { csrfToken } = login.json() as { csrfToken: string };
      const cookie = `${SESSION_COOKIE}=${login.cookies.find((c) => c.name === SESSION_COOKIE)!.value}`;
      const wrong = await app.inject({ method: 'POST', url: '/logout', headers: { cookie, 'x-csrf-token': 'x'.repeat(csrfToken.length) } });
      expect(wrong.statusCode).toBe(403);
      const made = await app.inject({
        method: 'POST',
        url: '/projects',
        headers: { cookie, 'x-csrf-token': csrfToken },
        payload: { title: 'From the web', purpose: ['DUO:0000006'], datasets: [world.datasetId], fields: ['PatientAge'], institution: 'I', country: 'DE', securityPlan: 'S' },
      });
      expect(made.statusCode).toBe(201);
      const out = await app.inject({ method: 'POST', url: '/logout', headers: { cookie, 'x-csrf-token': csrfToken } });
      expect(out.statusCode).toBe(303);
      const after = await app.inject({ method: 'GET', url: '/me', headers: { cookie } });
      expect(after.statusCode).toBe(401);
    });

    it('names the field of an invalid request, and sends no internals', async () => {
      const res = await app.inject({ method: 'POST', url: '/users', headers: { authorization: `Bearer ${world.tokens.admin}` }, payload: { name: 'x', roles: ['wizard'] } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'invalid' } });
      expect((res.json() as { error: { message: string } }).error.message).toContain('body.roles[0]');
      const missing = await app.inject({ method: 'POST', url: '/projects', headers: { authorization: `Bearer ${world.tokens.researcher}` }, payload: { title: 'T' } });
      expect(missing.statusCode).toBe(400);
      expect((missing.json() as { error: { message: string } }).error.message).toMatch(/^body\.\w+ is required$/);
      const extra = await app.inject({ method: 'PUT', url: `/projects/${world.projectId}`, headers: { authorization: `Bearer ${world.tokens.researcher}` }, payload: { titel: 'typo' } });
      expect((extra.json() as { error: { message: string } }).error.message).toBe('body.titel is not a known field');
    });

    it('rate-limits sign-in per name and audits it', async () => {
      const limited = await buildServer({ db: world.db, loginLimits: { perAddress: 100, perName: 3 } });
      try {
        const codes: number[] = [];
        for (let i = 0; i < 5; i++) {
          const r = await limited.inject({ method: 'POST', url: '/login', payload: { name: world.webUser.name, password: 'wrong password, wrong' } });
          codes.push(r.statusCode);
        }
        expect(codes).toEqual([401, 401, 401, 429, 429]);
        const right = await limited.inject({ method: 'POST', url: '/login', payload: { name: world.webUser.name, password: world.webUser.password } });
        expect(right.statusCode).toBe(429);
      } finally {
        await limited.close();
      }
      const entries = (await app.inject({ method: 'GET', url: '/audit/entries?limit=5000', headers: { authorization: `Bearer ${world.tokens.dpo}` } })).json() as { action: string }[];
      expect(entries.filter((e) => e.action === 'access.login-limited').length).toBe(3);
    });

    it('serves an OpenAPI 3 document of every API route with the bearer scheme', async () => {
      const res = await app.inject({ method: 'GET', url: '/openapi.json', headers: { authorization: `Bearer ${world.tokens.researcher}` } });
      const doc = res.json() as { openapi: string; paths: Record<string, Record<string, unknown>>; components: { securitySchemes: Record<string, unknown> } };
      expect(doc.openapi).toMatch(/^3\./);
      expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
      const documented = new Set(Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`)));
      const api = app.routeTable.filter((r) => !r.hidden);
      expect(api.length).toBeGreaterThan(40);
      for (const r of api) expect(documented, `${r.method} ${r.url}`).toContain(`${r.method} ${r.url}`);
    });
  });
}
