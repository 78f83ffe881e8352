/**
 * Response schemas of the governance records: each is the allow-list of the fields that may
 * leave the service (fast-json-stringify drops every other field), kept next to the library's
 * types they mirror.
 */
import { bool, int, list, nullableStr, obj, str, strList, type JsonSchema } from './route.js';

const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: 'null' }] });

export const DECISION_RULE = obj({ quorum: int, termDays: int, chairId: nullableStr }, ['quorum', 'termDays', 'chairId']);
export const DESTRUCTION = obj({ by: str, at: str, method: str, confirmedBy: str }, ['by', 'at', 'method', 'confirmedBy']);

export const PROJECT = obj(
  {
    id: str,
    title: str,
    ownerId: str,
    institution: str,
    country: str,
    purpose: strList,
    datasets: strList,
    fields: strList,
    securityPlan: str,
    targetK: int,
    quasiIdentifiers: strList,
    state: str,
    round: int,
    decisionRule: DECISION_RULE,
    conditions: strList,
    decidedAt: nullableStr,
    expiresAt: nullableStr,
    destruction: nullable(DESTRUCTION),
    createdAt: str,
    updatedAt: str,
  },
  ['id', 'title', 'ownerId', 'state', 'round', 'purpose', 'country'],
);

export const TALLY = obj({ approve: int, reject: int, 'request-changes': int }, ['approve', 'reject', 'request-changes']);
export const VOTE = obj({ memberId: str, round: int, vote: str, comment: str, conditions: strList, castAt: str }, ['memberId', 'round', 'vote', 'castAt']);
export const RECUSAL = obj({ memberId: str, reason: str, declaredAt: str }, ['memberId', 'reason', 'declaredAt']);
export const DECISION = obj(
  { id: str, round: int, kind: str, decision: str, basis: str, decidedBy: str, tally: TALLY, conditions: strList, comment: str, expiresAt: nullableStr, decidedAt: str },
  ['id', 'round', 'kind', 'decision', 'basis', 'decidedBy', 'decidedAt'],
);
export const REVIEW = obj({ project: PROJECT, votes: list(VOTE), recusals: list(RECUSAL), decisions: list(DECISION) }, ['project', 'votes', 'recusals', 'decisions']);
export const VOTE_RESULT = obj({ vote: VOTE, tally: TALLY, decision: nullable(DECISION), project: PROJECT }, ['vote', 'tally', 'decision', 'project']);

export const DATASET = obj(
  { id: str, site: str, country: str, path: nullableStr, label: nullableStr, allowList: bool, birthDate: str, registeredBy: str, createdAt: str },
  ['id', 'site', 'country', 'path', 'createdAt'],
);

export const PARTY = obj({ id: str, name: str, role: str, country: str, dpfCertified: bool, pipedaCovered: bool }, ['id', 'name', 'role', 'country']);
export const SIGNATURE = obj({ partyId: str, signedBy: str, signerRole: str, signedAt: str, recordedBy: str }, ['partyId', 'signedBy', 'signedAt']);
export const SAFEGUARDS = obj({
  scc: obj({ module: int, tiaReference: str, tiaDate: str }),
  bcr: obj({ approvalReference: str, authority: str }),
  derogation: obj({ ground: str, justification: str }),
});
export const LIMITED_DATA_SET = obj({
  permittedUsesAndDisclosures: str,
  whoMayUseOrReceive: str,
  noUseBeyondAgreement: bool,
  safeguards: str,
  reportViolations: bool,
  agentsBound: bool,
  noReidentificationOrContact: bool,
});
export const AGREEMENT_STATUS = obj({ active: bool, reasons: strList }, ['active', 'reasons']);
export const AGREEMENT = obj(
  {
    id: str,
    kind: str,
    title: str,
    reference: nullableStr,
    parties: list(PARTY),
    permittedUses: strList,
    startsAt: str,
    endsAt: str,
    signatures: list(SIGNATURE),
    projects: strList,
    transfer: SAFEGUARDS,
    limitedDataSet: nullable(LIMITED_DATA_SET),
    terminatedAt: nullableStr,
    terminationReason: nullableStr,
    createdBy: str,
    createdAt: str,
    status: AGREEMENT_STATUS,
  },
  ['id', 'kind', 'title', 'parties', 'startsAt', 'endsAt'],
);
