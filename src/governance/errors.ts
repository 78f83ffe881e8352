/**
 * Every refusal of the governance service, as a catalogue: a stable code that clients and tests
 * match on, the HTTP status the API answers with, and a message that names the field or the
 * condition (never an identifier of a person). The command line prints the message and exits 1.
 */

export const GOVERNANCE_ERRORS = {
  /** A request field is missing or malformed. */
  invalid: 400,
  /** No credentials, or credentials that are unknown, revoked or expired. */
  unauthenticated: 401,
  /** The actor's role or scope does not allow the operation. */
  forbidden: 403,
  /** The thing named does not exist (or the actor may not know it exists). */
  'not-found': 404,
  /** The operation contradicts the current state (a vote on a closed review, a duplicate name). */
  conflict: 409,
  /** A release or transfer condition does not hold; `details` lists each failed check. */
  refused: 422,
  /** Too many attempts (login rate limit). */
  'rate-limited': 429,
} as const satisfies Record<string, number>;

export type GovernanceErrorCode = keyof typeof GOVERNANCE_ERRORS;

export class GovernanceError extends Error {
  readonly status: number;
  constructor(
    readonly code: GovernanceErrorCode,
    message: string,
    /** Structured reasons (a release's failed checks, the fields that failed validation). */
    readonly details?: readonly { readonly check: string; readonly reason: string }[],
  ) {
    super(message);
    this.name = 'GovernanceError';
    this.status = GOVERNANCE_ERRORS[code];
  }
}
