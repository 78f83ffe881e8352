/** Accounts and API tokens (`governance/users.ts`). */
import type { FastifyInstance } from 'fastify';
import { ROLES } from '../../governance/actor.js';
import { addUser, disableUser, issueToken, listTokens, listUsers, revokeToken, setPassword, type AddUserInput } from '../../governance/users.js';
import { bool, idParams, input, list, nullableStr, obj, operationRoute, str, strList } from '../route.js';

const USER = obj(
  { id: str, name: str, roles: strList, sites: strList, projects: strList, created: str, disabled: nullableStr, hasPassword: bool },
  ['id', 'name', 'roles', 'sites', 'projects', 'created', 'disabled', 'hasPassword'],
);
const TOKEN_INFO = obj({ id: str, userId: str, label: str, created: str, expires: str, revoked: nullableStr }, ['id', 'userId', 'label', 'created', 'expires', 'revoked']);
const ACTOR = obj({ id: str, name: str, roles: strList, sites: strList, projects: strList }, ['id', 'name', 'roles', 'sites', 'projects']);
const scopeList = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 100 }, maxItems: 1000 } as const;
const days = { type: 'integer', minimum: 1 } as const;

export async function userRoutes(app: FastifyInstance): Promise<void> {
  operationRoute<Record<string, never>>(app, {
    method: 'GET',
    url: '/me',
    operation: 'self',
    tag: 'users',
    summary: 'The authenticated actor: name, roles and scopes',
    response: ACTOR,
    call: async ({ actor }) => actor,
  });
  operationRoute<AddUserInput>(app, {
    method: 'POST',
    url: '/users',
    operation: 'user.add',
    tag: 'users',
    summary: 'Create a user and its first API token (shown once)',
    body: input(
      {
        name: { type: 'string', minLength: 1, maxLength: 100 },
        roles: { type: 'array', minItems: 1, items: { type: 'string', enum: [...ROLES] } },
        sites: scopeList,
        projects: scopeList,
        password: { type: 'string', minLength: 1, maxLength: 1024 },
        expiresInDays: days,
      },
      ['name', 'roles'],
    ),
    status: 201,
    response: obj({ user: USER, token: str, tokenInfo: TOKEN_INFO }, ['user', 'token', 'tokenInfo']),
    call: ({ db, actor, now }, body) => addUser(db, actor, body, { now }),
  });
  operationRoute(app, {
    method: 'GET',
    url: '/users',
    operation: 'user.list',
    tag: 'users',
    summary: 'List user accounts',
    response: list(USER),
    call: ({ db, actor, now }) => listUsers(db, actor, { now }),
  });
  operationRoute<{ user: string }>(app, {
    method: 'POST',
    url: '/users/:user/disable',
    operation: 'user.disable',
    tag: 'users',
    summary: 'Disable an account: its tokens and sessions stop working at once',
    params: idParams('user'),
    response: USER,
    call: ({ db, actor, now }, i) => disableUser(db, actor, { user: i.user }, { now }),
  });
  operationRoute<{ user: string; password: string }>(app, {
    method: 'PUT',
    url: '/users/:user/password',
    operation: 'user.set-password',
    tag: 'users',
    summary: "Set a user's password for the web pages (ends their sessions)",
    params: idParams('user'),
    body: input({ password: { type: 'string', minLength: 1, maxLength: 1024 } }, ['password']),
    response: obj({ ok: bool }, ['ok']),
    call: async ({ db, actor, now }, i) => {
      await setPassword(db, actor, { user: i.user, password: i.password }, { now });
      return { ok: true };
    },
  });
  operationRoute<{ user: string; label?: string; expiresInDays?: number }>(app, {
    method: 'POST',
    url: '/users/:user/tokens',
    operation: 'token.issue',
    tag: 'users',
    summary: 'Issue another API token to a user (shown once)',
    params: idParams('user'),
    body: input({ label: { type: 'string', maxLength: 100 }, expiresInDays: days }),
    status: 201,
    response: obj({ token: str, info: TOKEN_INFO }, ['token', 'info']),
    call: ({ db, actor, now }, i) => issueToken(db, actor, { user: i.user, label: i.label, expiresInDays: i.expiresInDays }, { now }),
  });
  operationRoute<{ user: string }>(app, {
    method: 'GET',
    url: '/users/:user/tokens',
    operation: 'token.issue',
    tag: 'users',
    summary: "A user's API tokens (never their values)",
    params: idParams('user'),
    response: list(TOKEN_INFO),
    call: ({ db, actor }, i) => listTokens(db, actor, { user: i.user }),
  });
  operationRoute<{ tokenId: string }>(app, {
    method: 'DELETE',
    url: '/tokens/:tokenId',
    operation: 'token.revoke',
    tag: 'users',
    summary: 'Revoke an API token (admins, or the token’s own user)',
    params: idParams('tokenId'),
    response: TOKEN_INFO,
    call: ({ db, actor, now }, i) => revokeToken(db, actor, { tokenId: i.tokenId }, { now }),
  });
}
