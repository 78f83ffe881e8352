/**
 * Shared by the G2 governance tests (projects, DAC, agreements, transfers, datasets, releases) on
 * SQLite (test/unit/governance) and on PostgreSQL (test/postgres): the actors, a store opener per
 * backend, and helpers that walk a project to a given state.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Actor } from '../../../src/governance/actor.js';
import { AUDIT_SCHEMA, readAudit } from '../../../src/governance/audit.js';
import type { Db, SchemaModule } from '../../../src/governance/db.js';
import { migrate, openStore } from '../../../src/governance/store.js';
import { AGREEMENTS_SCHEMA } from '../../../src/governance/agreements.js';
import { DAC_SCHEMA, openReview, recordDecision } from '../../../src/governance/dac.js';
import { DATASETS_SCHEMA, registerDataset } from '../../../src/governance/datasets.js';
import { PROJECTS_SCHEMA, createProject, loadProject, setDecisionRule, submitProject, type Project } from '../../../src/governance/projects.js';

/** The tables of projects, the DAC, agreements and datasets (the release tests add theirs and G1's consent tables). */
export const G2_SCHEMA: readonly SchemaModule[] = [AUDIT_SCHEMA, DATASETS_SCHEMA, PROJECTS_SCHEMA, DAC_SCHEMA, AGREEMENTS_SCHEMA];

/** Opens a fresh store and migrates it with `modules`. */
export type StoreFactory = (modules: readonly SchemaModule[]) => Promise<Db>;

export function sqliteFactory(prefix: string): StoreFactory {
  return async (modules) => {
    const db = await openStore({ dataDir: mkdtempSync(path.join(tmpdir(), `radanon-${prefix}-`)) });
    await migrate(db, modules);
    return db;
  };
}

function actor(name: string, roles: Actor['roles'], sites: string[] = [], projects: string[] = []): Actor {
  return { id: randomUUID(), name, roles, sites, projects };
}

export function actors() {
  return {
    researcher: actor('researcher-1', ['researcher']),
    otherResearcher: actor('researcher-2', ['researcher']),
    members: Array.from({ length: 8 }, (_, i) => actor(`dac-${i + 1}`, ['dac-member'], [], ['*'])),
    outsider: actor('dac-outsider', ['dac-member'], [], []),
    admin: actor('admin', ['admin'], ['*'], ['*']),
    dpo: actor('dpo', ['dpo'], ['*'], ['*']),
    curatorEu: actor('curator-eu', ['curator'], ['site-de'], ['*']),
    curatorUs: actor('curator-us', ['curator'], ['site-us'], ['*']),
  };
}

export type Actors = ReturnType<typeof actors>;

export const T0 = new Date('2026-03-01T09:00:00.000Z');

export function days(n: number, from: Date = T0): Date {
  return new Date(from.getTime() + n * 86_400_000);
}

/** A folder that exists, to register as a dataset when the files do not matter. */
export function emptyFolder(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `radanon-${prefix}-`));
}

export async function someDataset(db: Db, a: Actors, folder: string): Promise<string> {
  const d = await registerDataset(db, a.curatorEu, { site: 'site-de', country: 'DE', path: folder }, { now: T0 });
  return d.id;
}

export const PROPOSAL = {
  title: 'Radiomics of lung nodules',
  purpose: ['HMB'],
  fields: ['PatientAge', 'PatientSex', 'PixelData'],
  institution: 'Example University Hospital',
  country: 'DE',
  securityPlan: 'Encrypted storage at rest, access by named researchers only, no copies outside the enclave.',
} as const;

/** Creates and submits a project, opens its review; with `approve`, the admin approves it. */
export async function projectInState(
  db: Db,
  a: Actors,
  datasets: readonly string[],
  state: 'draft' | 'submitted' | 'under-review' | 'approved',
  overrides: Record<string, unknown> = {},
  options: { termDays?: number; quorum?: number; now?: Date } = {},
): Promise<Project> {
  const now = options.now ?? T0;
  let p = await createProject(db, a.researcher, { ...PROPOSAL, datasets: [...datasets], ...overrides } as never, { now });
  if (options.termDays !== undefined || options.quorum !== undefined) {
    p = await setDecisionRule(db, a.admin, { projectId: p.id, ...(options.termDays !== undefined ? { termDays: options.termDays } : {}), ...(options.quorum !== undefined ? { quorum: options.quorum } : {}) }, { now });
  }
  if (state === 'draft') return p;
  p = await submitProject(db, a.researcher, { projectId: p.id }, { now });
  if (state === 'submitted') return p;
  p = await openReview(db, a.members[0]!, { projectId: p.id }, { now });
  if (state === 'under-review') return p;
  await recordDecision(db, a.admin, { projectId: p.id, decision: 'approve', comment: 'meets the criteria', conditions: ['no linkage with other data'] }, { now });
  return loadProject(db, p.id, now);
}

/** The audit entries of one action and outcome. */
export async function auditOf(db: Db, action: string, outcome?: string) {
  return (await readAudit(db)).filter((e) => e.action === action && (outcome === undefined || e.outcome === outcome));
}

