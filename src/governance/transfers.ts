/**
 * The lawful basis of a transfer of personal data out of the EU/EEA (GDPR Chapter V), checked for
 * each release from a dataset's site country to the project's country, in the order the GDPR
 * gives: an adequacy decision (Art. 45), then appropriate safeguards recorded on the agreement
 * (Art. 46: Standard Contractual Clauses with a transfer impact assessment; Art. 47: Binding
 * Corporate Rules), then, exceptionally, a derogation (Art. 49). A transfer with none is refused
 * with a reason that names what is missing.
 *
 * Scope: the exporter's rules are the EU's. A transfer from a site outside the EU/EEA is not
 * restricted by GDPR Chapter V and is reported as such (that site's own law, e.g. HIPAA through
 * the data use agreement, is checked by the agreement, not here).
 */
import type { Actor } from './actor.js';
import type { Db } from './db.js';
import { GovernanceError } from './errors.js';
import { loadAgreement, type Agreement, type Party } from './agreements.js';
import { audited, country, requireRole, timeOf, uuid } from './projects.js';

/** EU member states and the other EEA states (Iceland, Liechtenstein, Norway), ISO 3166-1 alpha-2. */
export const EEA_COUNTRIES: ReadonlySet<string> = new Set([
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
  'IS', 'LI', 'NO',
]);

export interface AdequacyDecision {
  readonly country: string;
  readonly name: string;
  /** The decision (or its first predecessor still in force). */
  readonly decision: string;
  /** In force from (ISO date). */
  readonly from: string;
  /** In force until (exclusive), when the decision has a sunset. */
  readonly until?: string;
  /** Adequacy that covers only some recipients in the country. */
  readonly covers?: 'dpf-certified' | 'pipeda';
}

/**
 * Where the list comes from: the European Commission's page "Adequacy decisions"
 * (commission.europa.eu/law/law-topic/data-protection/international-dimension-data-protection/adequacy-decisions_en),
 * which lists Andorra, Argentina, Canada (commercial organisations), Faroe Islands, Guernsey,
 * Israel, Isle of Man, Japan, Jersey, New Zealand, Republic of Korea, Switzerland, the United
 * Kingdom, the United States (commercial organisations participating in the EU–US Data Privacy
 * Framework) and Uruguay; plus the decisions adopted since, as reported when this list was
 * checked: the renewal of the UK decisions on 19 December 2025 (in force until 27 December 2031)
 * and the decision on Brazil of 27 January 2026.
 */
export const ADEQUACY_SOURCE = {
  source: 'European Commission, "Adequacy decisions" (Article 45 GDPR), with the UK renewal of 19 December 2025 and the Brazil decision of 27 January 2026',
  checked: '2026-11-25',
} as const;

export const ADEQUACY_DECISIONS: readonly AdequacyDecision[] = [
  { country: 'AD', name: 'Andorra', decision: 'Commission Decision 2010/625/EU', from: '2010-10-19' },
  { country: 'AR', name: 'Argentina', decision: 'Commission Decision 2003/490/EC', from: '2003-06-30' },
  { country: 'BR', name: 'Brazil', decision: 'Commission adequacy decision of 27 January 2026', from: '2026-01-27' },
  { country: 'CA', name: 'Canada (organisations subject to PIPEDA)', decision: 'Commission Decision 2002/2/EC', from: '2001-12-20', covers: 'pipeda' },
  { country: 'FO', name: 'Faroe Islands', decision: 'Commission Decision 2010/146/EU', from: '2010-03-05' },
  { country: 'GG', name: 'Guernsey', decision: 'Commission Decision 2003/821/EC', from: '2003-11-21' },
  { country: 'IL', name: 'Israel', decision: 'Commission Decision 2011/61/EU', from: '2011-01-31' },
  { country: 'IM', name: 'Isle of Man', decision: 'Commission Decision 2004/411/EC', from: '2004-04-28' },
  { country: 'JP', name: 'Japan', decision: 'Commission Implementing Decision (EU) 2019/419', from: '2019-01-23' },
  { country: 'JE', name: 'Jersey', decision: 'Commission Decision 2008/393/EC', from: '2008-05-08' },
  { country: 'NZ', name: 'New Zealand', decision: 'Commission Implementing Decision 2013/65/EU', from: '2012-12-19' },
  { country: 'KR', name: 'Republic of Korea', decision: 'Commission Implementing Decision (EU) 2022/254', from: '2021-12-17' },
  { country: 'CH', name: 'Switzerland', decision: 'Commission Decision 2000/518/EC', from: '2000-07-26' },
  { country: 'GB', name: 'United Kingdom', decision: 'Commission Implementing Decision (EU) 2021/1772, renewed on 19 December 2025', from: '2021-06-28', until: '2031-12-27' },
  { country: 'US', name: 'United States (organisations certified under the EU–US Data Privacy Framework)', decision: 'Commission Implementing Decision (EU) 2023/1795 of 10 July 2023', from: '2023-07-10', covers: 'dpf-certified' },
  { country: 'UY', name: 'Uruguay', decision: 'Commission Implementing Decision 2012/484/EU', from: '2012-08-21' },
];

export type TransferBasis =
  | { readonly kind: 'domestic'; readonly summary: string }
  | { readonly kind: 'not-an-eu-export'; readonly summary: string }
  | { readonly kind: 'within-eea'; readonly summary: string }
  | { readonly kind: 'adequacy'; readonly decision: string; readonly summary: string }
  | { readonly kind: 'scc'; readonly module: number; readonly tiaReference: string; readonly tiaDate: string; readonly summary: string }
  | { readonly kind: 'bcr'; readonly approvalReference: string; readonly authority: string; readonly summary: string }
  | { readonly kind: 'derogation'; readonly ground: string; readonly justification: string; readonly exceptional: true; readonly summary: string };

export type TransferResult = { readonly lawful: true; readonly basis: TransferBasis } | { readonly lawful: false; readonly reason: string };

export interface TransferQuery {
  /** The exporter's country (the dataset's site). */
  readonly from: string;
  /** The recipient's country. */
  readonly to: string;
  /** The recipient party's id on the agreement; default: the agreement's recipient (or member) in `to`. */
  readonly recipient?: string;
  /** The agreement that carries the safeguards; without one, only transfers that need none are lawful. */
  readonly agreementId?: string;
  readonly at: Date;
}

function adequacyFor(to: string, at: Date): AdequacyDecision | undefined {
  const t = at.getTime();
  return ADEQUACY_DECISIONS.find((d) => d.country === to && Date.parse(d.from) <= t && (d.until === undefined || t < Date.parse(d.until)));
}

function recipientOf(a: Agreement, to: string, partyId: string | undefined): Party | string {
  if (partyId !== undefined) {
    const p = a.parties.find((x) => x.id === partyId);
    if (!p) return `party ${partyId} is not a party of agreement ${a.id}`;
    if (p.country !== to) return `the recipient ${p.name} is in ${p.country}, not in ${to}`;
    return p;
  }
  const p = a.parties.find((x) => x.country === to && x.role === 'recipient') ?? a.parties.find((x) => x.country === to && x.role === 'member');
  return p ?? `agreement ${a.id} has no recipient in ${to}`;
}

/**
 * The lawful basis of a transfer from `from` to `to` under the agreement at `at`, or the reason
 * there is none. Reads the agreement; writes nothing.
 */
export async function transferBasis(db: Db, query: TransferQuery): Promise<TransferResult> {
  const from = country(query.from, 'from');
  const to = country(query.to, 'to');
  const agreementId = query.agreementId === undefined ? undefined : uuid(query.agreementId, 'agreementId');
  const at = query.at;
  if (from === to) return { lawful: true, basis: { kind: 'domestic', summary: `${from} → ${to}: no transfer to another country` } };
  if (!EEA_COUNTRIES.has(from)) {
    return { lawful: true, basis: { kind: 'not-an-eu-export', summary: `${from} → ${to}: the exporter is outside the EU/EEA, so GDPR Chapter V does not restrict this transfer` } };
  }
  if (EEA_COUNTRIES.has(to)) return { lawful: true, basis: { kind: 'within-eea', summary: `${from} → ${to}: within the EU/EEA` } };

  if (agreementId === undefined) {
    const adequacy = adequacyFor(to, at);
    return { lawful: false, reason: `EU → ${to}: no agreement names the recipient${adequacy ? '' : `, no adequacy decision covers ${to}`} and no agreement carries safeguards for the transfer` };
  }
  const a = await loadAgreement(db, agreementId);
  const recipient = recipientOf(a, to, query.recipient);
  if (typeof recipient === 'string') return { lawful: false, reason: `EU → ${to}: ${recipient}` };

  const adequacy = adequacyFor(to, at);
  let notCovered = '';
  if (adequacy) {
    if (adequacy.covers === 'dpf-certified' && !recipient.dpfCertified) notCovered = ' to a recipient not certified under the EU–US Data Privacy Framework';
    else if (adequacy.covers === 'pipeda' && !recipient.pipedaCovered) notCovered = ' to a recipient not subject to PIPEDA';
    else return { lawful: true, basis: { kind: 'adequacy', decision: adequacy.decision, summary: `${from} → ${to}: adequacy decision for ${adequacy.name} (${adequacy.decision})` } };
  }
  const route = `EU → ${to}${notCovered}`;
  const scc = a.transfer.scc;
  if (scc) {
    if (Date.parse(scc.tiaDate) > at.getTime()) return { lawful: false, reason: `${route}: the transfer impact assessment ${scc.tiaReference} on agreement ${a.id} is dated after the transfer (${scc.tiaDate})` };
    return {
      lawful: true,
      basis: { kind: 'scc', module: scc.module, tiaReference: scc.tiaReference, tiaDate: scc.tiaDate, summary: `${route}: Standard Contractual Clauses (2021), module ${scc.module}, transfer impact assessment ${scc.tiaReference}` },
    };
  }
  const bcr = a.transfer.bcr;
  if (bcr) return { lawful: true, basis: { kind: 'bcr', approvalReference: bcr.approvalReference, authority: bcr.authority, summary: `${route}: Binding Corporate Rules approved by ${bcr.authority} (${bcr.approvalReference})` } };
  const derogation = a.transfer.derogation;
  if (derogation) {
    return {
      lawful: true,
      basis: { kind: 'derogation', ground: derogation.ground, justification: derogation.justification, exceptional: true, summary: `${route}: Article 49 derogation (${derogation.ground}), exceptional` },
    };
  }
  const adequacyNote = adequacy ? '' : `no adequacy decision covers ${to}; `;
  return { lawful: false, reason: `${route}: ${adequacyNote}no Standard Contractual Clauses, Binding Corporate Rules or Article 49 derogation on agreement ${a.id}` };
}

/** The transfer check as an operation (for the API and the command line): audited, like a decision. */
export async function checkTransfer(
  db: Db,
  actor: Actor,
  input: { from: string; to: string; agreementId: string; recipient?: string; at?: string },
  options: { now?: Date } = {},
): Promise<TransferResult> {
  const now = timeOf(options.now);
  const agreementId = uuid(input?.agreementId, 'agreementId');
  return audited(db, actor, { action: 'transfer.check', target: agreementId }, async (tx, audit) => {
    requireRole(actor, 'transfer.check');
    const at = input.at === undefined ? now : new Date(input.at);
    if (Number.isNaN(at.getTime())) throw new GovernanceError('invalid', 'at: must be an ISO 8601 time');
    const result = await transferBasis(tx, { from: input.from, to: input.to, agreementId, at, ...(input.recipient !== undefined ? { recipient: input.recipient } : {}) });
    await audit(result.lawful ? { from: input.from, to: input.to, lawful: true, basis: result.basis.kind } : { from: input.from, to: input.to, lawful: false, reason: result.reason });
    return result;
  }, now);
}
