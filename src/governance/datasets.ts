/**
 * Datasets: a de-identified folder (the output of `radanon deid`) that a curator registers for a
 * site, with the site's country (where the data sits, the origin of any transfer) and how it was
 * de-identified (allow-list, birth date removed or shifted: `radanon verify` needs both and the
 * files cannot say). The release gate reads the folder; nothing here modifies it.
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Actor } from './actor.js';
import { inScope } from './actor.js';
import type { Db, SchemaModule } from './db.js';
import { GovernanceError } from './errors.js';
import { audited, auditRefusal, bool, country, hasRole, invalid, optionalText, requireRole, text, timeOf, uuid } from './projects.js';

export interface Dataset {
  readonly id: string;
  readonly site: string;
  /** ISO 3166-1 alpha-2 country of the site. */
  readonly country: string;
  /** The folder, absolute; withheld (null) from researchers. */
  readonly path: string | null;
  readonly label: string | null;
  /** Whether the de-identification used the allow-list (radanon's default). */
  readonly allowList: boolean;
  /** Whether the birth date was removed (default) or shifted. */
  readonly birthDate: 'remove' | 'shift';
  readonly registeredBy: string;
  readonly createdAt: string;
}

export const DATASETS_SCHEMA: SchemaModule = {
  name: 'datasets',
  steps: [
    [
      `CREATE TABLE datasets (
        id TEXT PRIMARY KEY,
        site TEXT NOT NULL,
        country TEXT NOT NULL,
        path TEXT NOT NULL,
        label TEXT,
        allow_list INTEGER NOT NULL,
        birth_date TEXT NOT NULL,
        registered_by TEXT NOT NULL,
        created_at TEXT NOT NULL
      )`,
      'CREATE INDEX datasets_site_idx ON datasets (site)',
    ],
  ],
};

interface DatasetRow {
  id: string;
  site: string;
  country: string;
  path: string;
  label: string | null;
  allow_list: number;
  birth_date: string;
  registered_by: string;
  created_at: string;
  [key: string]: unknown;
}

function fromRow(r: DatasetRow, withPath: boolean): Dataset {
  return {
    id: r.id,
    site: r.site,
    country: r.country,
    path: withPath ? r.path : null,
    label: r.label,
    allowList: Number(r.allow_list) === 1,
    birthDate: r.birth_date === 'shift' ? 'shift' : 'remove',
    registeredBy: r.registered_by,
    createdAt: r.created_at,
  };
}

/** Paths are the sites' storage layout: researchers see the catalogue without them. */
function seesPaths(actor: Actor): boolean {
  return actor.roles.some((r) => r !== 'researcher');
}

/** A dataset with its path, for the G2 modules (release); not-found when absent. */
export async function loadDataset(tx: Db, id: string): Promise<Dataset & { readonly path: string }> {
  const row = await tx.get<DatasetRow>('SELECT * FROM datasets WHERE id = ?', [id]);
  if (!row) throw new GovernanceError('not-found', `dataset ${id} does not exist`);
  return fromRow(row, true) as Dataset & { readonly path: string };
}

export interface RegisterDatasetInput {
  readonly site: string;
  readonly country: string;
  /** The de-identified folder, on the machine running the service. */
  readonly path: string;
  readonly label?: string;
  readonly allowList?: boolean;
  readonly birthDate?: 'remove' | 'shift';
}

/** A curator of the site (or an admin) registers a de-identified folder. */
export async function registerDataset(db: Db, actor: Actor, input: RegisterDatasetInput, options: { now?: Date } = {}): Promise<Dataset> {
  const now = timeOf(options.now);
  const id = randomUUID();
  const site = typeof input?.site === 'string' ? input.site.trim() : '';
  return audited(db, actor, { action: 'dataset.register', target: id }, async (tx, audit) => {
    requireRole(actor, 'dataset.register');
    text(input?.site, 'site', { max: 200 });
    if (!hasRole(actor, 'admin') && !inScope(actor.sites, site)) throw new GovernanceError('forbidden', `dataset.register: site ${site} is outside your scope`);
    const c = country(input.country, 'country');
    const folder = path.resolve(text(input.path, 'path', { max: 4096 }));
    const info = await stat(folder).catch(() => undefined);
    if (!info?.isDirectory()) throw invalid('path', 'is not a folder this service can read');
    const label = optionalText(input.label, 'label', 300) ?? null;
    const allowList = input.allowList === undefined ? true : bool(input.allowList, 'allowList');
    if (input.birthDate !== undefined && input.birthDate !== 'remove' && input.birthDate !== 'shift') throw invalid('birthDate', 'must be remove or shift');
    const birthDate = input.birthDate ?? 'remove';
    await tx.run('INSERT INTO datasets (id, site, country, path, label, allow_list, birth_date, registered_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      id,
      site,
      c,
      folder,
      label,
      allowList ? 1 : 0,
      birthDate,
      actor.id,
      now.toISOString(),
    ]);
    // The path is the site's storage layout, not an identifier: the audit records it for the DPO.
    await audit({ site, country: c, path: folder, allowList, birthDate });
    return fromRow((await tx.get<DatasetRow>('SELECT * FROM datasets WHERE id = ?', [id]))!, true);
  }, now);
}

/** One dataset (the path only for roles other than researcher). */
export async function getDataset(db: Db, actor: Actor, input: { datasetId: string }): Promise<Dataset> {
  const datasetId = uuid(input?.datasetId, 'datasetId');
  try {
    requireRole(actor, 'dataset.read');
  } catch (e) {
    await auditRefusal(db, actor, { action: 'dataset.read', target: datasetId }, e as GovernanceError);
    throw e;
  }
  const d = await loadDataset(db, datasetId);
  return seesPaths(actor) ? d : { ...d, path: null };
}

/** The catalogue, optionally of one site. */
export async function listDatasets(db: Db, actor: Actor, input: { site?: string } = {}): Promise<Dataset[]> {
  try {
    requireRole(actor, 'dataset.read');
  } catch (e) {
    await auditRefusal(db, actor, { action: 'dataset.read', target: '' }, e as GovernanceError);
    throw e;
  }
  const rows =
    input.site === undefined
      ? await db.all<DatasetRow>('SELECT * FROM datasets ORDER BY site, created_at, id')
      : await db.all<DatasetRow>('SELECT * FROM datasets WHERE site = ? ORDER BY created_at, id', [text(input.site, 'site', { max: 200 })]);
  return rows.map((r) => fromRow(r, seesPaths(actor)));
}
