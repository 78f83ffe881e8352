/**
 * Who is acting. Every governance operation takes the actor and checks role and scope itself, so
 * the command line, the HTTP API and the web pages cannot differ in what they allow.
 */

export const ROLES = ['admin', 'curator', 'researcher', 'dac-member', 'dpo'] as const;
export type Role = (typeof ROLES)[number];

export interface Actor {
  /** The user's id (a random UUID, never a real-world identifier). */
  readonly id: string;
  /** Display name, for the audit trail. */
  readonly name: string;
  readonly roles: readonly Role[];
  /** Sites and projects the user may act on; '*' means all (admins, the DPO). */
  readonly sites: readonly string[];
  readonly projects: readonly string[];
}

/**
 * The local operator: the person at the server's own console (`radanon users add`,
 * `radanon audit verify`), who holds the data directory and so every right.
 */
export const CONSOLE: Actor = Object.freeze({ id: 'console', name: 'console', roles: ['admin'] as const, sites: ['*'], projects: ['*'] });

/** Whether `actor` may act on `scope` (a site or project id); '*' grants all. */
export function inScope(granted: readonly string[], scope: string): boolean {
  return granted.includes('*') || granted.includes(scope);
}
