/**
 * Who may read the audit trail. The trail's functions (verify, read, export) take no actor, so
 * the faces check the library's permission row 'audit.read' before calling them; a refusal is
 * recorded in the trail as every other failed access is.
 */
import type { Actor } from '../governance/actor.js';
import { recordAuditAlone } from '../governance/audit.js';
import type { Db } from '../governance/db.js';
import { GovernanceError } from '../governance/errors.js';
import { authorize } from '../governance/permissions.js';

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
