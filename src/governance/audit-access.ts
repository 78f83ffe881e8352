/**
 * Who may read the audit trail. The trail's functions (verify, read, export) take no actor, so
 * every face (API, web pages) calls this first; a refusal is
 * recorded in the trail as every other failed access is.
 */
import type { Actor } from './actor.js';
import { recordAuditAlone } from './audit.js';
import type { Db } from './db.js';
import { GovernanceError } from './errors.js';
import { authorize } from './permissions.js';

/** The DPO's or an admin's right to the trail; a refusal is itself recorded in it. */
export async function authorizeAuditRead(db: Db, actor: Actor, now: Date): Promise<void> {
  try {
    authorize(actor, 'audit.read');
  } catch (e) {
    if (e instanceof GovernanceError) {
      await recordAuditAlone(db, { actor, action: 'audit.read', target: 'audit_log', outcome: 'refused', details: { reason: e.message }, at: now });
    }
    throw e;
  }
}
