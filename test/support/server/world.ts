/**
 * A governance store populated for the HTTP tests: one user per role (scoped as the permission
 * tables expect), a revoked and an expired token, a web user with a password, a dataset, projects
 * in the states the routes need, an agreement. Everything is made through the library, as an
 * operator would, two days in the past so that a one-day token has expired by now.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CONSOLE, type Role } from '../../../src/governance/actor.js';
import { createAgreement } from '../../../src/governance/agreements.js';
import { registerDataset } from '../../../src/governance/datasets.js';
import { GovernanceError } from '../../../src/governance/errors.js';
import { createRelease, listReleases } from '../../../src/governance/release.js';
import type { Db } from '../../../src/governance/db.js';
import { createProject, setDecisionRule, submitProject } from '../../../src/governance/projects.js';
import { GOVERNANCE_SCHEMA } from '../../../src/governance/schema.js';
import { migrate } from '../../../src/governance/store.js';
import { recordConsentEvent } from '../../../src/governance/consent.js';
import { exportConsentFhir } from '../../../src/governance/fhir.js';
import { WAIVER_CRITERION_IDS, recordWaiver, type WaiverInput } from '../../../src/governance/waivers.js';
import { addUser, issueToken, revokeToken, type User } from '../../../src/governance/users.js';

export const SITE = 'site-a';
export const WEB_PASSWORD = 'correct horse battery staple';

export interface World {
  readonly db: Db;
  /** A token per role. */
  readonly tokens: Readonly<Record<Role, string>>;
  readonly users: Readonly<Record<Role, User>>;
  readonly revokedToken: string;
  readonly expiredToken: string;
  /** A researcher with a password, for the web pages. */
  readonly webUser: { readonly name: string; readonly password: string; readonly user: User };
  /** An account the user routes may disable or re-key without harming the others. */
  readonly victim: User;
  readonly victimTokenId: string;
  readonly datasetId: string;
  readonly datasetDir: string;
  /** Submitted, the DAC member is its chair. */
  readonly projectId: string;
  /** Submitted; for the recusal route, so a recusal does not bar the chair elsewhere. */
  readonly recusalProjectId: string;
  readonly agreementId: string;
  readonly partyId: string;
  /** A subject of SITE with broad consent. */
  readonly researchId: string;
  /** A FHIR Bundle of the seeded consent, as exported (for the import route). */
  readonly fhirBundle: unknown;
  /** A refused release of `projectId`. */
  readonly releaseId: string;
  /** A waiver of `projectId`. */
  readonly waiverId: string;
  readonly seededAt: Date;
}

/** A waiver with every criterion found met, as a committee records it. */
export function fullWaiver(projectId: string, granted: Date): WaiverInput {
  return {
    projectId,
    committee: 'Example University IRB',
    reference: 'IRB-2026-0042',
    granted: granted.toISOString(),
    expires: new Date(granted.getTime() + 365 * 86_400_000).toISOString(),
    criteria: Object.fromEntries(WAIVER_CRITERION_IDS.map((c) => [c, { met: true, justification: 'Found by the board on the protocol as submitted.' }])),
  };
}

export const SCOPES: Readonly<Record<Role, { sites: string[]; projects: string[] }>> = {
  admin: { sites: ['*'], projects: ['*'] },
  curator: { sites: [SITE], projects: ['*'] },
  researcher: { sites: [], projects: [] },
  'dac-member': { sites: [], projects: ['*'] },
  dpo: { sites: ['*'], projects: ['*'] },
};

export async function seedWorld(db: Db, workDir: string): Promise<World> {
  await migrate(db, GOVERNANCE_SCHEMA);
  const now = new Date(Date.now() - 2 * 86_400_000);
  const opts = { now };
  const tokens = {} as Record<Role, string>;
  const users = {} as Record<Role, User>;
  for (const role of Object.keys(SCOPES) as Role[]) {
    const made = await addUser(db, CONSOLE, { name: `${role}-user`, roles: [role], ...SCOPES[role] }, opts);
    tokens[role] = made.token;
    users[role] = made.user;
  }
  const webUser = await addUser(db, CONSOLE, { name: 'web-researcher', roles: ['researcher', 'dpo'], sites: ['*'], projects: ['*'], password: WEB_PASSWORD }, opts);
  const victim = await addUser(db, CONSOLE, { name: 'victim', roles: ['researcher'] }, opts);
  const revoked = await issueToken(db, CONSOLE, { user: 'admin-user', label: 'to revoke' }, opts);
  await revokeToken(db, CONSOLE, { tokenId: revoked.info.id }, opts);
  const expired = await issueToken(db, CONSOLE, { user: 'admin-user', label: 'short', expiresInDays: 1 }, opts);

  const datasetDir = path.join(workDir, 'dataset');
  fs.mkdirSync(datasetDir, { recursive: true });
  const dataset = await registerDataset(db, { ...CONSOLE, roles: ['admin'] }, { site: SITE, country: 'DE', path: datasetDir }, opts);
  const researcher = { id: users.researcher.id, name: users.researcher.name, roles: ['researcher'] as Role[], sites: [], projects: [] };
  const proposal = {
    title: 'Radiomics of lung nodules',
    purpose: ['DUO:0000006'],
    datasets: [dataset.id],
    fields: ['PatientAge', 'PatientSex'],
    institution: 'Example University',
    country: 'DE',
    securityPlan: 'Encrypted storage at the recipient; access by named staff only.',
  };
  const project = await createProject(db, researcher, proposal, opts);
  await setDecisionRule(db, CONSOLE, { projectId: project.id, chairId: users['dac-member'].id, quorum: 1 }, opts);
  await submitProject(db, researcher, { projectId: project.id }, opts);
  const other = await createProject(db, researcher, { ...proposal, title: 'Second proposal' }, opts);
  await submitProject(db, researcher, { projectId: other.id }, opts);
  const agreement = await createAgreement(
    db,
    CONSOLE,
    {
      kind: 'data-use',
      title: 'Data use agreement',
      parties: [
        { name: 'Hospital A', role: 'provider', country: 'DE' },
        { name: 'Example University', role: 'recipient', country: 'DE' },
      ],
      permittedUses: ['DUO:0000006'],
      startsAt: new Date(now.getTime() - 86_400_000).toISOString(),
      endsAt: new Date(now.getTime() + 365 * 86_400_000).toISOString(),
    },
    opts,
  );
  const researchId = 'RADSEED0000001';
  await recordConsentEvent(db, users.curator, { researchId, site: SITE, kind: 'broad', codes: ['HMB'] }, opts);
  const waiver = await recordWaiver(db, CONSOLE, fullWaiver(project.id, now), opts);
  // A release of a project not yet approved is refused, and recorded: the release routes read it.
  await createRelease(db, CONSOLE, { projectId: project.id, out: path.join(workDir, 'refused-release') }, opts).catch((e: unknown) => {
    if (!(e instanceof GovernanceError && e.code === 'refused')) throw e;
  });
  const [release] = await listReleases(db, CONSOLE, { projectId: project.id }, opts);
  if (!release) throw new Error('the refused release was not recorded');
  const fhirBundle = await exportConsentFhir(db, users.curator, { researchId }, opts);
  return {
    db,
    fhirBundle,
    tokens,
    researchId,
    waiverId: waiver.id,
    releaseId: release.id,
    users,
    revokedToken: revoked.token,
    expiredToken: expired.token,
    webUser: { name: 'web-researcher', password: WEB_PASSWORD, user: webUser.user },
    victim: victim.user,
    victimTokenId: victim.tokenInfo.id,
    datasetId: dataset.id,
    datasetDir,
    projectId: project.id,
    recusalProjectId: other.id,
    agreementId: agreement.id,
    partyId: agreement.parties[0]!.id,
    seededAt: now,
  };
}
