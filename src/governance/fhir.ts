/**
 * Consent events as FHIR R4 Consent resources (JSON), for exchange with hospital systems and
 * consent apps. One event is one Consent:
 *
 *   status      active (rejected for a refusal of broad consent)
 *   scope       consentscope#research
 *   category    consentcategorycodes#research and LOINC 59284-0 (patient consent)
 *   patient     { identifier: { system: <research-ID system>, value: <research ID> } }; never a
 *               reference to a Patient resource, which would carry a real identity
 *   dateTime    when the event took effect
 *   organization[0].identifier  the site (system urn:radanon:site)
 *   policyRule  v3-ActCode#OPTIN (permit) or #OPTOUT (deny), as R4's ppc-1 requires a policy
 *   provision   type permit | deny, period.start = dateTime, and
 *               - broad consent: code[] with the DUO codes (system DUO's IRI);
 *               - grant / withdraw for a purpose: purpose[] with one DUO coding;
 *               - grant / withdraw for a project: the extension PROJECT_EXTENSION (an identifier);
 *               - withdrawal from all use: deny with neither.
 * A DUO term's value (the disease of DS, the regions of GS …) travels as the extension
 * DUO_VALUE_EXTENSION on the coding's CodeableConcept (for purposes: on the Coding), since a
 * FHIR coding carries no parameters.
 *
 * Import validates everything it reads and names the JSON path of the first bad field; a Bundle
 * of Consents is imported in one transaction. Export followed by import gives the same events.
 */
import type { Actor } from './actor.js';
import { auditedRefusal, importConsentEvents, consentEventsOf, subjectsOfSites, validateConsentEvent, type ConsentEvent, type ConsentEventInput } from './consent.js';
import type { Db } from './db.js';
import { DUO_IRI_PREFIX, DUO_SYSTEM, duoTerm, formatDuoCode, parseDuoCode } from './duo.js';
import { GovernanceError } from './errors.js';
import { authorize } from './permissions.js';

export const RESEARCH_ID_SYSTEM = 'urn:radanon:research-id';
export const SITE_SYSTEM = 'urn:radanon:site';
export const PROJECT_SYSTEM = 'urn:radanon:project';
export const PROJECT_EXTENSION = 'urn:radanon:fhir:StructureDefinition:consent-research-project';
export const REFERENCE_SYSTEM = 'urn:radanon:consent-reference';
export const DUO_VALUE_EXTENSION = 'urn:radanon:fhir:StructureDefinition:duo-value';
const SCOPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/consentscope';
const CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/consentcategorycodes';
const ACT_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
/** Systems under which a DUO code is recognised on import. */
const DUO_SYSTEMS = new Set([DUO_SYSTEM, 'http://purl.obolibrary.org/obo/duo', 'http://purl.obolibrary.org/obo/DUO', 'http://purl.obolibrary.org/obo/']);

type Json = Record<string, unknown>;

export interface FhirCoding {
  readonly system: string;
  readonly code: string;
  readonly display?: string;
  readonly extension?: readonly { readonly url: string; readonly valueString: string }[];
}

export interface FhirConsent {
  readonly resourceType: 'Consent';
  readonly id?: string;
  readonly status: string;
  readonly scope: { readonly coding: readonly FhirCoding[] };
  readonly category: readonly { readonly coding: readonly FhirCoding[] }[];
  readonly patient: { readonly identifier: { readonly system: string; readonly value: string } };
  readonly dateTime: string;
  readonly organization?: readonly { readonly identifier: { readonly system: string; readonly value: string } }[];
  readonly policyRule?: { readonly coding: readonly FhirCoding[] };
  readonly provision: Json;
}

export interface FhirBundle {
  readonly resourceType: 'Bundle';
  readonly type: 'collection';
  readonly timestamp: string;
  readonly entry: readonly { readonly fullUrl: string; readonly resource: FhirConsent }[];
}

function duoCoding(code: string): { coding: FhirCoding; values: string[] } {
  const parsed = parseDuoCode(code)!;
  const term = duoTerm(parsed.id);
  return { coding: { system: DUO_SYSTEM, code: parsed.id, ...(term ? { display: term.label } : {}) }, values: [...parsed.qualifiers] };
}

function valueExtensions(values: readonly string[]): { extension?: { url: string; valueString: string }[] } {
  return values.length > 0 ? { extension: values.map((v) => ({ url: DUO_VALUE_EXTENSION, valueString: v })) } : {};
}

/** One event as a Consent resource. */
export function consentToFhir(e: ConsentEvent, researchIdSystem = RESEARCH_ID_SYSTEM): FhirConsent {
  const permit = e.kind === 'broad' || e.kind === 'grant';
  const provision: Json = { type: permit ? 'permit' : 'deny', period: { start: e.at } };
  if (e.kind === 'broad') {
    provision.code = e.codes.map((c) => {
      const { coding, values } = duoCoding(c);
      return { ...valueExtensions(values), coding: [coding] };
    });
  }
  if (e.purpose !== null) {
    const { coding, values } = duoCoding(e.purpose);
    provision.purpose = [{ ...coding, ...valueExtensions(values) }];
  }
  if (e.projectId !== null) provision.extension = [{ url: PROJECT_EXTENSION, valueIdentifier: { system: PROJECT_SYSTEM, value: e.projectId } }];
  return {
    resourceType: 'Consent',
    id: e.id,
    status: e.kind === 'refuse' ? 'rejected' : 'active',
    scope: { coding: [{ system: SCOPE_SYSTEM, code: 'research', display: 'Research' }] },
    category: [{ coding: [{ system: CATEGORY_SYSTEM, code: 'research', display: 'Research Information Access' }] }, { coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: { identifier: { system: researchIdSystem, value: e.researchId } },
    dateTime: e.at,
    organization: [{ identifier: { system: SITE_SYSTEM, value: e.site } }],
    policyRule: { coding: [{ system: ACT_CODE_SYSTEM, code: permit ? 'OPTIN' : 'OPTOUT' }] },
    provision,
    ...(e.reference !== null ? { identifier: [{ system: REFERENCE_SYSTEM, value: e.reference }] } : {}),
  } as FhirConsent;
}

/** Events as a Bundle of type collection. */
export function consentsToBundle(events: readonly ConsentEvent[], now: Date, researchIdSystem = RESEARCH_ID_SYSTEM): FhirBundle {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: now.toISOString(),
    entry: events.map((e) => ({ fullUrl: `urn:uuid:${e.id}`, resource: consentToFhir(e, researchIdSystem) })),
  };
}

// ---------------------------------------------------------------------------------------------
// Import

function bad(path: string, reason: string): GovernanceError {
  return new GovernanceError('invalid', `${path}: ${reason}`, [{ check: path, reason }]);
}

function obj(v: unknown, path: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(path, 'must be a JSON object');
  return v as Json;
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw bad(path, 'must be a JSON array');
  return v;
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v === '') throw bad(path, 'must be a non-empty string');
  return v;
}

function codings(v: unknown, path: string): { coding: Json; path: string }[] {
  const concept = obj(v, path);
  return arr(concept.coding, `${path}.coding`).map((c, i) => ({ coding: obj(c, `${path}.coding[${i}]`), path: `${path}.coding[${i}]` }));
}

/** A DUO code from a coding (id, underscore id or IRI), with values from the extensions given. */
function duoFrom(coding: Json, path: string, valueHolder: Json | undefined): string {
  const system = typeof coding.system === 'string' ? coding.system : '';
  const code = str(coding.code, `${path}.code`);
  const isIri = code.startsWith(DUO_IRI_PREFIX);
  if (!isIri && !DUO_SYSTEMS.has(system)) throw bad(`${path}.system`, `must be DUO's IRI ${DUO_SYSTEM}`);
  const parsed = parseDuoCode(code);
  if (!parsed || parsed.qualifiers.length > 0) throw bad(`${path}.code`, 'is not a DUO term id such as DUO:0000042');
  const values: string[] = [];
  const exts = valueHolder?.extension;
  if (exts !== undefined) {
    arr(exts, `${path}.extension`).forEach((x, i) => {
      const ext = obj(x, `${path}.extension[${i}]`);
      if (ext.url === DUO_VALUE_EXTENSION) values.push(str(ext.valueString, `${path}.extension[${i}].valueString`));
    });
  }
  const text = formatDuoCode({ id: parsed.id, qualifiers: values });
  if (!parseDuoCode(text)) throw bad(`${path}.extension`, 'holds a DUO value that is not valid');
  return text;
}

function hasCoding(list: { coding: Json }[], system: string, code: string): boolean {
  return list.some(({ coding }) => coding.system === system && coding.code === code);
}

/** Reads one Consent into a (validated) consent event; `path` prefixes error paths. */
export function consentFromFhir(
  resource: unknown,
  now: Date,
  options: { path?: string; researchIdSystem?: string; site?: string } = {},
): ReturnType<typeof validateConsentEvent> {
  const p = options.path ?? 'Consent';
  const r = obj(resource, p);
  if (r.resourceType !== 'Consent') throw bad(`${p}.resourceType`, 'must be "Consent"');
  const status = str(r.status, `${p}.status`);
  if (status !== 'active' && status !== 'rejected') throw bad(`${p}.status`, `"${status}" is not imported: only active consents and rejected (refused) ones record an expression of will`);
  if (!hasCoding(codings(r.scope, `${p}.scope`), SCOPE_SYSTEM, 'research')) throw bad(`${p}.scope`, `must carry ${SCOPE_SYSTEM}#research`);
  const category = arr(r.category, `${p}.category`);
  if (category.length === 0) throw bad(`${p}.category`, 'needs at least one category (FHIR R4: 1..*)');
  category.forEach((c, i) => codings(c, `${p}.category[${i}]`));
  const patient = obj(r.patient, `${p}.patient`);
  if (patient.reference !== undefined) throw bad(`${p}.patient.reference`, 'consent is keyed by research ID: give patient.identifier, not a reference to a Patient resource');
  const identifier = obj(patient.identifier, `${p}.patient.identifier`);
  const system = options.researchIdSystem ?? RESEARCH_ID_SYSTEM;
  if (identifier.system !== system) throw bad(`${p}.patient.identifier.system`, `must be the research-ID system ${system}`);
  const researchId = str(identifier.value, `${p}.patient.identifier.value`);
  const dateTime = str(r.dateTime, `${p}.dateTime`);
  let site = options.site;
  if (r.organization !== undefined) {
    const orgs = arr(r.organization, `${p}.organization`);
    const first = orgs[0] === undefined ? undefined : obj(orgs[0], `${p}.organization[0]`);
    const orgId = first?.identifier === undefined ? undefined : obj(first.identifier, `${p}.organization[0].identifier`);
    if (orgId && orgId.system === SITE_SYSTEM) site = str(orgId.value, `${p}.organization[0].identifier.value`);
  }
  if (site === undefined) throw bad(`${p}.organization`, `needs an organization identifier with system ${SITE_SYSTEM} naming the site (or import with a site)`);
  const provision = obj(r.provision, `${p}.provision`);
  const type = provision.type;
  if (type !== 'permit' && type !== 'deny') throw bad(`${p}.provision.type`, 'must be "permit" or "deny"');
  let periodStart: string | undefined;
  if (provision.period !== undefined) {
    const period = obj(provision.period, `${p}.provision.period`);
    if (period.start !== undefined) periodStart = str(period.start, `${p}.provision.period.start`);
  }
  if (provision.provision !== undefined) throw bad(`${p}.provision.provision`, 'nested provisions are not imported: send one Consent per event');

  const codes = provision.code === undefined ? [] : arr(provision.code, `${p}.provision.code`).map((c, i) => {
    const list = codings(c, `${p}.provision.code[${i}]`);
    const duo = list.find(({ coding }) => DUO_SYSTEMS.has(String(coding.system)) || String(coding.code ?? '').startsWith(DUO_IRI_PREFIX));
    if (!duo) throw bad(`${p}.provision.code[${i}]`, `needs a coding with system ${DUO_SYSTEM}`);
    return duoFrom(duo.coding, duo.path, obj(c, `${p}.provision.code[${i}]`));
  });
  const purposes = provision.purpose === undefined ? [] : arr(provision.purpose, `${p}.provision.purpose`).map((c, i) => duoFrom(obj(c, `${p}.provision.purpose[${i}]`), `${p}.provision.purpose[${i}]`, obj(c, `${p}.provision.purpose[${i}]`)));
  if (purposes.length > 1) throw bad(`${p}.provision.purpose`, 'one purpose per Consent (send one Consent per purpose)');
  let projectId: string | undefined;
  if (provision.extension !== undefined) {
    arr(provision.extension, `${p}.provision.extension`).forEach((x, i) => {
      const ext = obj(x, `${p}.provision.extension[${i}]`);
      if (ext.url !== PROJECT_EXTENSION) return;
      const id = obj(ext.valueIdentifier, `${p}.provision.extension[${i}].valueIdentifier`);
      if (id.system !== PROJECT_SYSTEM) throw bad(`${p}.provision.extension[${i}].valueIdentifier.system`, `must be ${PROJECT_SYSTEM}`);
      projectId = str(id.value, `${p}.provision.extension[${i}].valueIdentifier.value`);
    });
  }

  let input: ConsentEventInput;
  // The source document's reference: the one radanon exported, else the resource's own id.
  let reference = typeof r.id === 'string' && r.id !== '' ? `Consent/${r.id}` : undefined;
  if (r.identifier !== undefined) {
    arr(r.identifier, `${p}.identifier`).forEach((x, i) => {
      const id = obj(x, `${p}.identifier[${i}]`);
      if (id.system === REFERENCE_SYSTEM) reference = str(id.value, `${p}.identifier[${i}].value`);
    });
  }
  const common = { researchId, site, at: dateTime, source: 'fhir', reference };
  if (status === 'rejected') {
    if (codes.length > 0 || purposes.length > 0 || projectId !== undefined) throw bad(`${p}.provision`, 'a rejected consent records a refusal of broad consent and carries no codes, purpose or project');
    input = { ...common, kind: 'refuse' };
  } else if (codes.length > 0) {
    if (type !== 'permit') throw bad(`${p}.provision.type`, 'a consent with DUO codes (broad consent) must permit');
    if (purposes.length > 0 || projectId !== undefined) throw bad(`${p}.provision`, 'broad consent (code) is not for one purpose or project');
    input = { ...common, kind: 'broad', codes };
  } else {
    const kind = type === 'permit' ? 'grant' : 'withdraw';
    input = { ...common, kind, ...(projectId !== undefined ? { projectId } : {}), ...(purposes[0] !== undefined ? { purpose: purposes[0] } : {}) };
  }
  try {
    const event = validateConsentEvent(input, now);
    if (periodStart !== undefined && Date.parse(periodStart.length === 10 ? `${periodStart}T00:00:00Z` : periodStart) !== Date.parse(event.at)) {
      throw bad(`${p}.provision.period.start`, 'must be the same instant as dateTime (each Consent records one event)');
    }
    return event;
  } catch (e) {
    if (e instanceof GovernanceError && e.message.startsWith(p)) throw e;
    if (!(e instanceof GovernanceError)) throw e;
    const fieldPath: Record<string, string> = {
      researchId: 'patient.identifier.value',
      site: 'organization[0].identifier.value',
      at: 'dateTime',
      codes: 'provision.code',
      purpose: 'provision.purpose[0]',
      projectId: 'provision',
      reference: 'id',
    };
    const message = e.message.replace(/^([A-Za-z]+)(\[\d+\])?/, (_m, name: string, index?: string) => `${p}.${fieldPath[name] ?? name}${index ?? ''}`);
    throw new GovernanceError('invalid', message, [{ check: message.split(': ')[0]!, reason: message.split(': ').slice(1).join(': ') }]);
  }
}

/** Reads a Consent or a Bundle of Consents. */
export function consentsFromFhir(resource: unknown, now: Date, options: { researchIdSystem?: string; site?: string } = {}): ReturnType<typeof validateConsentEvent>[] {
  const r = obj(resource, 'resource');
  if (r.resourceType === 'Consent') return [consentFromFhir(r, now, options)];
  if (r.resourceType !== 'Bundle') throw bad('resourceType', 'must be "Consent" or "Bundle"');
  const entries = arr(r.entry ?? [], 'Bundle.entry');
  if (entries.length === 0) throw bad('Bundle.entry', 'holds no Consent');
  return entries.map((e, i) => consentFromFhir(obj(e, `Bundle.entry[${i}]`).resource, now, { ...options, path: `Bundle.entry[${i}].resource` }));
}

/** Imports a Consent or a Bundle of Consents (curators, for their sites) in one transaction. */
export async function importConsentFhir(
  db: Db,
  actor: Actor,
  input: { readonly resource: unknown; readonly researchIdSystem?: string; readonly site?: string },
  options: { now?: Date } = {},
): Promise<{ events: number; subjects: number }> {
  const now = options.now ?? new Date();
  try {
    authorize(actor, 'consent.import');
    const events = consentsFromFhir(input?.resource, now, { researchIdSystem: input?.researchIdSystem, site: input?.site });
    return await importConsentEvents(db, actor, 'fhir', events, now);
  } catch (e) {
    return auditedRefusal(db, actor, 'consent.import', '', now, e);
  }
}

/** A Bundle of the consent events of one subject, or of the actor's sites (curators, the DPO). */
export async function exportConsentFhir(
  db: Db,
  actor: Actor,
  input: { readonly researchId?: string; readonly sites?: readonly string[]; readonly researchIdSystem?: string } = {},
  options: { now?: Date } = {},
): Promise<FhirBundle> {
  const now = options.now ?? new Date();
  try {
    authorize(actor, 'consent.export');
    const sites = input.sites ?? actor.sites;
    for (const s of sites) authorize(actor, 'consent.export', s);
    let ids = await subjectsOfSites(db, sites);
    if (input.researchId !== undefined) {
      ids = ids.filter((id) => id === input.researchId);
      if (ids.length === 0) throw new GovernanceError('not-found', 'researchId: no consent is recorded for this research ID in your sites');
    }
    const events: ConsentEvent[] = [];
    for (const id of ids) events.push(...(await consentEventsOf(db, id)));
    return consentsToBundle(events, now, input.researchIdSystem);
  } catch (e) {
    return auditedRefusal(db, actor, 'consent.export', '', now, e);
  }
}
