/** How the governance suites look at an operation that must be refused. */
import { GovernanceError } from '../../../src/governance/errors.js';

/** The GovernanceError the operation was refused with; fails when it succeeded or failed otherwise. */
export async function refusal(p: Promise<unknown>): Promise<GovernanceError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof GovernanceError) return e;
    throw e;
  }
  throw new Error('expected a GovernanceError, the operation succeeded');
}

/** The refusal's code, or 'resolved' when the operation succeeded. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof GovernanceError) return e.code;
    throw e;
  }
  return 'resolved';
}
