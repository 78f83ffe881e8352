/**
 * GA4GH Data Use Ontology (DUO) terms and the rule that matches a subject's consent against a
 * project's purpose.
 *
 * Codes are written `DUO:0000042`; `DUO_0000042`, the IRI
 * `http://purl.obolibrary.org/obo/DUO_0000042` and the shorthand `GRU` are accepted and turned
 * into that form. Terms that need a value carry it in parentheses: `DS(MONDO:0005015)` for a
 * disease, `GS(DE,FR)` for a region, `IS(…)`, `PS(project-id)`, `US(user)`, `RS(type)`,
 * `TS(12)` for a number of months, `MOR(2027-01-01)` for a date.
 *
 * The matching rule (`purposePermitted`), built on DUO's own definitions (quoted from the term
 * list in duo.generated.ts):
 *
 * 1. The project's purpose must name at least one permitted use: GRU, HMB, DS, POA, or CC
 *    (clinical care). Each one it names must be covered by a permission of the consent:
 *    - NRES "no restriction on use": covers every purpose.
 *    - GRU "general research use for any research purpose": covers GRU, HMB, DS and POA
 *      (not clinical care, which is not research).
 *    - HMB "health/medical/biomedical purposes; does not include the study of population
 *      origins or ancestry": covers HMB and DS, not GRU (a broader purpose) nor POA.
 *    - DS(disease) "allowed provided it is related to the specified disease": covers DS for the
 *      same disease only (radanon has no disease ontology, so "related" is read as "the same
 *      disease term"); a DS without a disease covers nothing.
 *    - POA "limited to the study of population origins or ancestry": covers POA only.
 *    - CC "allowed for clinical use and care": covers CC.
 * 2. Every modifier of the consent is a condition the project must meet:
 *    - prohibitions: NPOA forbids a POA purpose; NMDS "does not allow methods development
 *      research" and GSO "limited to genetic studies" hold only if the project declares the same
 *      code (that it does no methods development / is a genetic study).
 *    - commitments the requestor agrees to (IRB, PUB, COL, RTN, MOR, US): the project's purpose
 *      must list the same code, which is how a proposal records that it agrees.
 *    - who may use the data: NPU (not-for-profit organisation), NCU (non-commercial use) and
 *      NPUNCU (both) hold only if the project declares NPU, NCU or both (NPUNCU declares both).
 *    - where and by whom: GS(regions) needs the project's country among the regions (EU/EEA
 *      accepted as groups); IS(institutions) the project's institution; PS(projects) the
 *      project's id; RS(types) a project RS with one of the types.
 *    - TS(months) limits use to that many months from the consent's date.
 *    A consent code that is not a DUO permission or modifier (the grouping terms) is refused.
 */
import { DUO_TERMS, type DuoTerm } from './duo.generated.js';

export { DUO_SOURCE, DUO_TERMS, type DuoTerm } from './duo.generated.js';

/** The IRI of DUO and its terms' IRI prefix (FHIR codings may use either system). */
export const DUO_SYSTEM = 'http://purl.obolibrary.org/obo/duo.owl';
export const DUO_IRI_PREFIX = 'http://purl.obolibrary.org/obo/DUO_';

const BY_ID = new Map<string, DuoTerm>(DUO_TERMS.map((t) => [t.id, t]));
const BY_SHORTHAND = new Map<string, DuoTerm>(DUO_TERMS.filter((t) => t.shorthand !== '').map((t) => [t.shorthand, t]));

function idOf(shorthand: string): string {
  const t = BY_SHORTHAND.get(shorthand);
  if (!t) throw new Error(`DUO term ${shorthand} is missing from duo.generated.ts`);
  return t.id;
}

/** DUO ids of the terms the matching rule knows, by shorthand. */
export const DUO = Object.freeze({
  NRES: idOf('NRES'),
  GRU: idOf('GRU'),
  HMB: idOf('HMB'),
  DS: idOf('DS'),
  POA: idOf('POA'),
  CC: idOf('CC'),
  NPOA: idOf('NPOA'),
  NMDS: idOf('NMDS'),
  GSO: idOf('GSO'),
  IRB: idOf('IRB'),
  PUB: idOf('PUB'),
  COL: idOf('COL'),
  RTN: idOf('RTN'),
  MOR: idOf('MOR'),
  US: idOf('US'),
  NPU: idOf('NPU'),
  NCU: idOf('NCU'),
  NPUNCU: idOf('NPUNCU'),
  GS: idOf('GS'),
  IS: idOf('IS'),
  PS: idOf('PS'),
  RS: idOf('RS'),
  TS: idOf('TS'),
});

/** Permissions: the primary kinds of use a consent allows. */
const PERMISSIONS = new Set([DUO.NRES, DUO.GRU, DUO.HMB, DUO.DS, DUO.POA, DUO.CC]);
/** Terms whose value is required: a code without one means nothing checkable. */
const NEEDS_QUALIFIER = new Set([DUO.DS, DUO.GS, DUO.IS, DUO.PS, DUO.RS, DUO.TS]);

export interface DuoCode {
  /** DUO:0000042 */
  readonly id: string;
  /** The values in parentheses (a disease, regions, institutions, projects, months…), if any. */
  readonly qualifiers: readonly string[];
}

const QUALIFIER = /^[\p{L}\p{N}][\p{L}\p{N} ._:/-]{0,99}$/u;

/**
 * Parses a DUO code in any accepted form (id, underscore id, IRI, shorthand, each optionally with
 * parenthesised values); undefined when it is not a term of DUO or a value is malformed.
 */
export function parseDuoCode(text: string): DuoCode | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^\s*([^()\s]+)\s*(?:\(([^()]*)\))?\s*$/.exec(text);
  if (!m) return undefined;
  const head = m[1]!;
  let id: string | undefined;
  const numeric = /^(?:DUO[:_]|http:\/\/purl\.obolibrary\.org\/obo\/DUO_)(\d{7})$/i.exec(head);
  if (numeric) id = `DUO:${numeric[1]}`;
  else id = BY_SHORTHAND.get(head.toUpperCase())?.id;
  if (id === undefined || !BY_ID.has(id)) return undefined;
  const qualifiers: string[] = [];
  if (m[2] !== undefined) {
    for (const raw of m[2].split(',')) {
      const q = raw.trim();
      if (!QUALIFIER.test(q)) return undefined;
      if (!qualifiers.includes(q)) qualifiers.push(q);
    }
    if (qualifiers.length === 0) return undefined;
  }
  return { id, qualifiers };
}

/** The canonical text of a code: `DUO:0000007` or `DUO:0000007(MONDO:0005015)`. */
export function formatDuoCode(code: DuoCode): string {
  return code.qualifiers.length > 0 ? `${code.id}(${code.qualifiers.join(',')})` : code.id;
}

/** A code in canonical form (`GRU` → `DUO:0000042`), or undefined when it is not a DUO term. */
export function duoCodeOf(text: string): string | undefined {
  const code = parseDuoCode(text);
  return code ? formatDuoCode(code) : undefined;
}

/** Whether `text` is exactly a DUO id of the form DUO:0000042 naming a known term. */
export function isDuoId(text: string): boolean {
  return /^DUO:\d{7}$/.test(text) && BY_ID.has(text);
}

export function duoTerm(text: string): DuoTerm | undefined {
  const code = parseDuoCode(text);
  return code ? BY_ID.get(code.id) : undefined;
}

/** "GRU (general research use)", for messages. */
export function duoLabel(text: string): string {
  const code = parseDuoCode(text);
  const term = code ? BY_ID.get(code.id) : undefined;
  if (!code || !term) return text;
  const name = term.shorthand || term.id;
  const values = code.qualifiers.length > 0 ? `(${code.qualifiers.join(',')})` : '';
  return `${name}${values} (${term.label})`;
}

/** Whether a code is a permission (a primary kind of use), as opposed to a modifier. */
export function isDuoPermission(text: string): boolean {
  const code = parseDuoCode(text);
  return code !== undefined && PERMISSIONS.has(code.id);
}

/** A code usable in a consent or a purpose: a permission or a modifier, with its value where one is needed. */
export function checkConsentCode(text: string): { ok: true; code: string } | { ok: false; reason: string } {
  const code = parseDuoCode(text);
  // The text is not repeated: a value typed into the wrong field may be a person's name.
  if (!code) return { ok: false, reason: 'not a DUO term (give its id, DUO:0000042, or shorthand, GRU, with any value in parentheses)' };
  const term = BY_ID.get(code.id)!;
  if (term.shorthand === '') return { ok: false, reason: `${code.id} (${term.label}) is a grouping term, not a permission or modifier` };
  if (NEEDS_QUALIFIER.has(code.id) && code.qualifiers.length === 0) {
    return { ok: false, reason: `${term.shorthand} needs its value in parentheses, e.g. ${QUALIFIER_EXAMPLE[term.shorthand] ?? `${term.shorthand}(value)`}` };
  }
  if (code.id === DUO.TS && !code.qualifiers.every((q) => /^[1-9]\d{0,3}$/.test(q))) return { ok: false, reason: 'TS takes a whole number of months, e.g. TS(24)' };
  return { ok: true, code: formatDuoCode(code) };
}

const QUALIFIER_EXAMPLE: Record<string, string> = {
  DS: 'DS(MONDO:0005015)',
  GS: 'GS(DE,FR)',
  IS: 'IS(institution)',
  PS: 'PS(project-id)',
  RS: 'RS(type)',
  TS: 'TS(24)',
};

/** What a project states about itself, against which consent codes are checked. */
export interface ProjectPurpose {
  /** The purpose as DUO codes: at least one permitted use (GRU, HMB, DS(…), POA, CC) plus the modifiers the project declares or agrees to. */
  readonly codes: readonly string[];
  readonly projectId?: string;
  /** ISO 3166-1 alpha-2 country of the recipient. */
  readonly country?: string;
  readonly institution?: string;
}

export interface PermissionContext {
  /** When the consent was given (ISO 8601), for TS(months). */
  readonly consentDate?: string;
  /** The moment of use; default now. */
  readonly at?: Date;
}

/** EU and EEA member states, so that GS(EU) or GS(EEA) can be matched against a project's country. */
const EU = new Set(['AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE']);
const EEA = new Set([...EU, 'IS', 'LI', 'NO']);

function inRegion(country: string, region: string): boolean {
  const r = region.toUpperCase();
  const c = country.toUpperCase();
  if (r === 'EU') return EU.has(c);
  if (r === 'EEA') return EEA.has(c);
  return r === c;
}

function sameQualifier(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * Whether a consent given with `consentCodes` permits a project's purpose, and why (the reason
 * names the first unmet condition, or what covers the purpose). Pure: the same inputs give the
 * same answer everywhere.
 */
export function purposePermitted(consentCodes: readonly string[], purpose: ProjectPurpose, context: PermissionContext = {}): { permitted: boolean; reason: string } {
  const consent: DuoCode[] = [];
  for (const text of consentCodes) {
    const checked = checkConsentCode(text);
    if (!checked.ok) return { permitted: false, reason: `a consent code is unusable: ${checked.reason}` };
    consent.push(parseDuoCode(checked.code)!);
  }
  const project: DuoCode[] = [];
  for (const text of purpose.codes) {
    const code = parseDuoCode(text);
    if (!code) return { permitted: false, reason: 'the project purpose holds a code that is not a DUO term' };
    project.push(code);
  }
  const projectHas = (id: string) => project.some((c) => c.id === id);
  const consentOf = (id: string) => consent.filter((c) => c.id === id);

  const uses = project.filter((c) => PERMISSIONS.has(c.id) && c.id !== DUO.NRES);
  if (uses.length === 0) return { permitted: false, reason: 'the project purpose names no permitted use (GRU, HMB, DS, POA or CC)' };
  const permissions = consent.filter((c) => PERMISSIONS.has(c.id));
  if (permissions.length === 0) return { permitted: false, reason: 'the consent names no permitted use (NRES, GRU, HMB, DS, POA or CC)' };

  const covers = (p: DuoCode, use: DuoCode): boolean => {
    if (p.id === DUO.NRES) return true;
    if (use.id === DUO.CC) return p.id === DUO.CC;
    if (p.id === DUO.GRU) return use.id !== DUO.CC;
    if (p.id === DUO.HMB) return use.id === DUO.HMB || use.id === DUO.DS;
    if (p.id === DUO.DS) return use.id === DUO.DS && use.qualifiers.length > 0 && use.qualifiers.every((d) => p.qualifiers.some((q) => sameQualifier(q, d)));
    if (p.id === DUO.POA) return use.id === DUO.POA;
    return false;
  };
  const coveredBy: string[] = [];
  for (const use of uses) {
    const by = permissions.find((p) => covers(p, use));
    if (!by) return { permitted: false, reason: `the consent (${permissions.map((p) => duoLabel(formatDuoCode(p))).join(', ')}) does not cover the purpose ${duoLabel(formatDuoCode(use))}` };
    coveredBy.push(`${duoLabel(formatDuoCode(use))} by ${duoLabel(formatDuoCode(by))}`);
  }

  // Modifiers: each is a condition the project must meet.
  if (consentOf(DUO.NPOA).length > 0 && projectHas(DUO.POA)) return { permitted: false, reason: 'the consent prohibits population origins or ancestry research (NPOA)' };
  const declared: [string, string][] = [
    [DUO.NMDS, 'no general methods research (NMDS): the project must declare NMDS'],
    [DUO.GSO, 'genetic studies only (GSO): the project must be a genetic study and declare GSO'],
    [DUO.IRB, 'ethics approval required (IRB): the project must declare IRB'],
    [DUO.PUB, 'publication required (PUB): the project must agree to PUB'],
    [DUO.COL, 'collaboration required (COL): the project must agree to COL'],
    [DUO.RTN, 'return to database or resource (RTN): the project must agree to RTN'],
    [DUO.MOR, 'publication moratorium (MOR): the project must agree to MOR'],
    [DUO.US, 'user specific restriction (US): the project must agree to US'],
  ];
  for (const [id, reason] of declared) {
    if (consentOf(id).length > 0 && !projectHas(id)) return { permitted: false, reason: `the consent requires ${reason}` };
  }
  const notForProfitOrg = projectHas(DUO.NPU) || projectHas(DUO.NPUNCU);
  const nonCommercial = projectHas(DUO.NCU) || projectHas(DUO.NPUNCU);
  if (consentOf(DUO.NPUNCU).length > 0 && !(notForProfitOrg && nonCommercial)) {
    return { permitted: false, reason: 'the consent limits use to not-for-profit organisations and non-commercial use (NPUNCU): the project must declare NPUNCU, or NPU and NCU' };
  }
  if (consentOf(DUO.NPU).length > 0 && !notForProfitOrg) return { permitted: false, reason: 'the consent limits use to not-for-profit organisations (NPU): the project must declare NPU' };
  if (consentOf(DUO.NCU).length > 0 && !nonCommercial) return { permitted: false, reason: 'the consent limits use to non-commercial use (NCU): the project must declare NCU' };

  for (const gs of consentOf(DUO.GS)) {
    if (purpose.country === undefined) return { permitted: false, reason: `the consent restricts use to ${gs.qualifiers.join(', ')} (GS) and the project states no country` };
    if (!gs.qualifiers.some((r) => inRegion(purpose.country!, r))) return { permitted: false, reason: `the consent restricts use to ${gs.qualifiers.join(', ')} (GS); the project is in ${purpose.country}` };
  }
  for (const is of consentOf(DUO.IS)) {
    if (purpose.institution === undefined || !is.qualifiers.some((q) => sameQualifier(q, purpose.institution!))) {
      return { permitted: false, reason: `the consent restricts use to the institutions ${is.qualifiers.join(', ')} (IS)` };
    }
  }
  for (const ps of consentOf(DUO.PS)) {
    if (purpose.projectId === undefined || !ps.qualifiers.includes(purpose.projectId)) return { permitted: false, reason: 'the consent restricts use to other projects (PS)' };
  }
  for (const rs of consentOf(DUO.RS)) {
    const types = project.filter((c) => c.id === DUO.RS).flatMap((c) => c.qualifiers);
    if (!rs.qualifiers.some((q) => types.some((t) => sameQualifier(q, t)))) return { permitted: false, reason: `the consent restricts use to research of type ${rs.qualifiers.join(', ')} (RS)` };
  }
  for (const ts of consentOf(DUO.TS)) {
    const months = Math.min(...ts.qualifiers.map(Number));
    if (context.consentDate === undefined) return { permitted: false, reason: `the consent limits use to ${months} months (TS) and its date is not known` };
    const end = new Date(context.consentDate);
    end.setUTCMonth(end.getUTCMonth() + months);
    if ((context.at ?? new Date()).getTime() >= end.getTime()) return { permitted: false, reason: `the consent's time limit of ${months} months (TS) ended on ${end.toISOString().slice(0, 10)}` };
  }
  return { permitted: true, reason: `covered: ${coveredBy.join('; ')}` };
}
