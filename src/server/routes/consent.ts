/** The consent registry, keyed by research ID (`governance/consent.ts`). */
import type { FastifyInstance } from 'fastify';
import { GovernanceError } from '../../governance/errors.js';
import { CONSENT_KINDS, listConsent, readConsentStatus, recordConsentEvent, type ConsentEventInput } from '../../governance/consent.js';
import { exportConsentCsv, importConsentCsv } from '../../governance/consent-csv.js';
import { exportConsentFhir, importConsentFhir } from '../../governance/fhir.js';
import { ERROR_SCHEMA } from '../errors.js';
import { idParams, input, int, list, nullableStr, obj, operationRoute, str, strList } from '../route.js';

const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max }) as const;

export const CONSENT_EVENT = obj(
  { id: str, researchId: str, site: str, seq: int, kind: str, codes: strList, projectId: nullableStr, purpose: nullableStr, at: str, recordedAt: str, recordedBy: str, source: str, reference: nullableStr },
  ['id', 'researchId', 'site', 'seq', 'kind', 'at', 'recordedAt'],
);
export const CONSENT_DECISION = obj({ permitted: { type: 'boolean' }, reason: str, basis: str, eventId: str }, ['permitted', 'reason', 'basis']);

const IMPORTED = obj({ events: int, subjects: int }, ['events', 'subjects']);
const CODING = obj({ system: str, code: str, display: str });
const IDENTIFIER = obj({ system: str, value: str }, ['system', 'value']);
/**
 * A FHIR R4 Consent as the library writes it. `provision` is FHIR's own nested structure (type,
 * period, purpose, code, nested provisions), built by the library from recorded events only; it is
 * passed through whole rather than enumerated to its leaves.
 */
const FHIR_CONSENT = obj(
  {
    resourceType: str,
    id: str,
    status: str,
    scope: obj({ coding: list(CODING) }),
    category: list(obj({ coding: list(CODING) })),
    patient: obj({ identifier: IDENTIFIER }),
    dateTime: str,
    organization: list(obj({ identifier: IDENTIFIER })),
    policyRule: obj({ coding: list(CODING) }),
    provision: { type: 'object', additionalProperties: true },
  },
  ['resourceType', 'status', 'patient', 'dateTime', 'provision'],
);
const FHIR_BUNDLE = obj({ resourceType: str, type: str, timestamp: str, entry: list(obj({ fullUrl: str, resource: FHIR_CONSENT }, ['resource'])) }, ['resourceType', 'type', 'entry']);

export async function consentRoutes(app: FastifyInstance): Promise<void> {
  // A CSV import is sent as text/csv; the library parses and validates it row by row.
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: 50 * 1024 * 1024 }, (_request, body, done) => done(null, body));

  app.post<{ Body: string; Querystring: { name?: string } }>(
    '/consent/import/csv',
    {
      config: { operation: 'consent.import' },
      schema: {
        summary: `Import consent events from CSV (columns research_id, site, kind, at, codes, project_id, purpose, source, reference): every row validated, the whole file in one transaction`,
        tags: ['consent'],
        consumes: ['text/csv'],
        querystring: input({ name: { type: 'string', minLength: 1, maxLength: 200 } }),
        body: { type: 'string' },
        response: { 201: IMPORTED, '4xx': ERROR_SCHEMA },
      },
    },
    async (request, reply) => {
      const { db, clock } = app.governance;
      const r = await importConsentCsv(db, request.actor!, { csv: request.body, name: request.query.name ?? 'consent CSV' }, { now: clock() });
      return reply.code(201).send(r);
    },
  );
  operationRoute<{ resource: unknown; site?: string; researchIdSystem?: string }>(app, {
    method: 'POST',
    url: '/consent/import/fhir',
    operation: 'consent.import',
    tag: 'consent',
    summary: 'Import FHIR R4 Consent resources (one Consent, or a Bundle of them) in one transaction',
    body: input({ resource: { type: 'object', required: ['resourceType'], properties: { resourceType: { type: 'string', enum: ['Consent', 'Bundle'] } } }, site: text(100), researchIdSystem: text(300) }, ['resource']),
    status: 201,
    response: IMPORTED,
    call: ({ db, actor, now }, i) => importConsentFhir(db, actor, i, { now }),
  });
  operationRoute<{ researchId?: string; site?: string }>(app, {
    method: 'GET',
    url: '/consent/export/fhir',
    operation: 'consent.export',
    tag: 'consent',
    summary: "Consent events as a FHIR R4 Bundle of Consent resources: one subject's, or every subject of the caller's sites (or of one site)",
    query: input({ researchId: text(64), site: text(100) }),
    response: FHIR_BUNDLE,
    call: ({ db, actor, now }, q) => exportConsentFhir(db, actor, { ...(q.researchId ? { researchId: q.researchId } : {}), ...(q.site ? { sites: [q.site] } : {}) }, { now }),
  });
  app.get<{ Querystring: { site?: string } }>(
    '/consent/export/csv',
    {
      config: { operation: 'consent.export' },
      schema: { summary: "Consent events of the caller's sites (or of one site) as CSV, in the import format", tags: ['consent'], produces: ['text/csv'], querystring: input({ site: text(100) }), response: { 200: { type: 'string' }, '4xx': ERROR_SCHEMA } },
    },
    async (request, reply) => {
      const { db, clock } = app.governance;
      const csv = await exportConsentCsv(db, request.actor!, request.query.site ? { sites: [request.query.site] } : {}, { now: clock() });
      return reply.type('text/csv; charset=utf-8').send(csv);
    },
  );

  operationRoute<ConsentEventInput>(app, {
    method: 'POST',
    url: '/consent/events',
    operation: 'consent.record',
    tag: 'consent',
    summary: 'Record a consent event for a research ID: broad consent (DUO codes), a grant or withdrawal for a project or purpose, or a refusal',
    body: input(
      {
        researchId: text(64),
        site: text(100),
        kind: { type: 'string', enum: [...CONSENT_KINDS] },
        codes: { type: 'array', items: text(100), maxItems: 50 },
        projectId: text(200),
        purpose: text(100),
        at: text(40),
        source: text(100),
        reference: text(300),
      },
      ['researchId', 'site', 'kind'],
    ),
    status: 201,
    response: CONSENT_EVENT,
    call: ({ db, actor, now }, body) => recordConsentEvent(db, actor, body, { now }),
  });
  operationRoute<{ researchId: string }>(app, {
    method: 'GET',
    url: '/consent/:researchId',
    operation: 'consent.read',
    tag: 'consent',
    summary: "A subject's consent events, in the order they take effect",
    params: idParams('researchId'),
    response: obj({ researchId: str, site: str, events: list(CONSENT_EVENT) }, ['researchId', 'site', 'events']),
    call: ({ db, actor, now }, i) => listConsent(db, actor, { researchId: i.researchId }, { now }),
  });
  operationRoute<{ researchId: string; projectId: string; purposeCodes: string; at?: string; country?: string; institution?: string }>(app, {
    method: 'GET',
    url: '/consent/:researchId/status',
    operation: 'consent.read',
    tag: 'consent',
    summary: 'Whether the subject’s consent permits a project’s purpose at a moment (default now), and why',
    params: idParams('researchId'),
    query: input(
      {
        projectId: text(200),
        purposeCodes: { ...text(2000), description: 'the purpose as DUO codes, comma-separated' },
        at: text(40),
        country: text(2),
        institution: text(300),
      },
      ['projectId', 'purposeCodes'],
    ),
    response: CONSENT_DECISION,
    call: ({ db, actor, now }, q) => {
      let at: Date | undefined;
      if (q.at !== undefined) {
        at = new Date(q.at);
        if (Number.isNaN(at.getTime())) throw new GovernanceError('invalid', 'querystring.at is not an ISO 8601 time', [{ check: 'querystring.at', reason: 'not an ISO 8601 time' }]);
      }
      return readConsentStatus(
        db,
        actor,
        {
          researchId: q.researchId,
          projectId: q.projectId,
          purposeCodes: q.purposeCodes.split(',').map((c) => c.trim()).filter((c) => c !== ''),
          ...(at !== undefined ? { at } : {}),
          ...(q.country !== undefined ? { country: q.country } : {}),
          ...(q.institution !== undefined ? { institution: q.institution } : {}),
        },
        { now },
      );
    },
  });
}
