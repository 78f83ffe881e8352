/**
 * Who may run each G1 operation (users, tokens, consent, waivers, the audit trail): one table, so
 * the HTTP layer can enumerate it for its access tests and every face allows the same. The G2
 * operations (projects, DAC, agreements, transfers, datasets, releases) have their table in
 * projects.ts (`G2_OPERATIONS`).
 *
 * Role is necessary, not sufficient: `scope` says what else is checked. 'site' means the actor's
 * `sites` must include the site the subject or record belongs to; 'project' means the actor's
 * `projects` must include the project; 'none' means the role alone decides.
 */
import type { Actor, Role } from './actor.js';
import { inScope } from './actor.js';
import { GovernanceError } from './errors.js';

export interface Permission {
  readonly roles: readonly Role[];
  readonly scope: 'none' | 'site' | 'project';
  readonly description: string;
}

export const G1_OPERATIONS = {
  'user.add': { roles: ['admin'], scope: 'none', description: 'create a user account and its first API token' },
  'user.list': { roles: ['admin', 'dpo'], scope: 'none', description: 'list user accounts' },
  'user.disable': { roles: ['admin'], scope: 'none', description: 'disable a user account (its tokens and sessions stop working)' },
  'user.set-password': { roles: ['admin'], scope: 'none', description: "set a user's password for the web pages" },
  'token.issue': { roles: ['admin'], scope: 'none', description: 'issue another API token to a user' },
  /** Users may also revoke their own tokens, whatever their role. */
  'token.revoke': { roles: ['admin'], scope: 'none', description: 'revoke an API token' },
  'consent.record': { roles: ['curator'], scope: 'site', description: 'record broad consent, a grant, a withdrawal or a refusal' },
  'consent.import': { roles: ['curator'], scope: 'site', description: 'import consent from CSV or FHIR' },
  'consent.read': { roles: ['curator', 'dpo', 'admin'], scope: 'site', description: "read a subject's consent record and status" },
  'consent.export': { roles: ['curator', 'dpo'], scope: 'site', description: 'export consent as FHIR R4 Consent resources' },
  'waiver.record': { roles: ['curator', 'admin'], scope: 'project', description: 'record an IRB/ethics consent waiver for a project' },
  'waiver.read': { roles: ['curator', 'admin', 'dpo', 'dac-member'], scope: 'project', description: "read a project's waivers" },
  'audit.read': { roles: ['dpo', 'admin'], scope: 'none', description: 'read, verify and export the audit trail' },
} as const satisfies Record<string, Permission>;

export type G1Operation = keyof typeof G1_OPERATIONS;

/**
 * Refuses (GovernanceError 'forbidden') an actor without one of the operation's roles or, when the
 * operation is scoped and a scope is given, outside it. The message names the operation and what
 * is missing, never a person.
 */
export function authorize(actor: Actor, operation: G1Operation, scope?: string): void {
  const permission: Permission = G1_OPERATIONS[operation];
  if (!actor.roles.some((r) => permission.roles.includes(r))) {
    throw new GovernanceError('forbidden', `${operation} needs one of the roles ${permission.roles.join(', ')}`);
  }
  if (scope === undefined || permission.scope === 'none') return;
  const granted = permission.scope === 'site' ? actor.sites : actor.projects;
  if (!inScope(granted, scope)) {
    throw new GovernanceError('forbidden', `${operation}: ${permission.scope} ${scope} is outside your scope`);
  }
}
