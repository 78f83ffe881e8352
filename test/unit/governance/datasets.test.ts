import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/governance/db.js';
import { getDataset, listDatasets, registerDataset } from '../../../src/governance/datasets.js';
import { GovernanceError } from '../../../src/governance/errors.js';
import { G2_SCHEMA, T0, actors, auditOf, emptyFolder, sqliteFactory } from '../../support/governance/g2.js';

describe('datasets', () => {
  let db: Db;
  const a = actors();
  let folder: string;

  beforeAll(async () => {
    db = await sqliteFactory('g2-datasets')(G2_SCHEMA);
    folder = emptyFolder('g2-datasets-folder');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('a curator registers a folder of their site; researchers see the catalogue without paths', async () => {
    const d = await registerDataset(db, a.curatorEu, { site: 'site-de', country: 'de', path: folder, label: 'CT chest 2023' }, { now: T0 });
    expect(d).toMatchObject({ site: 'site-de', country: 'DE', path: path.resolve(folder), allowList: true, birthDate: 'remove', registeredBy: a.curatorEu.id });
    expect((await getDataset(db, a.researcher, { datasetId: d.id })).path).toBeNull();
    expect((await getDataset(db, a.dpo, { datasetId: d.id })).path).toBe(path.resolve(folder));
    expect((await listDatasets(db, a.researcher, { site: 'site-de' })).map((x) => x.id)).toEqual([d.id]);
    const entry = (await auditOf(db, 'dataset.register', 'ok')).find((e) => e.target === d.id);
    expect(entry?.details).toMatchObject({ site: 'site-de', country: 'DE' });
  });

  it('refuses another site, a missing folder and bad fields, naming them', async () => {
    const e1 = await registerDataset(db, a.curatorUs, { site: 'site-de', country: 'DE', path: folder }, { now: T0 }).catch((e: GovernanceError) => e);
    expect(e1).toMatchObject({ code: 'forbidden' });
    const e2 = await registerDataset(db, a.curatorEu, { site: 'site-de', country: 'DE', path: path.join(folder, 'absent') }, { now: T0 }).catch((e: GovernanceError) => e);
    expect((e2 as GovernanceError).message).toMatch(/^path: is not a folder/);
    const e3 = await registerDataset(db, a.curatorEu, { site: 'site-de', country: 'Germany', path: folder }, { now: T0 }).catch((e: GovernanceError) => e);
    expect((e3 as GovernanceError).message).toMatch(/^country:/);
    const e4 = await registerDataset(db, a.curatorEu, { site: 'site-de', country: 'DE', path: folder, birthDate: 'keep' } as never, { now: T0 }).catch((e: GovernanceError) => e);
    expect((e4 as GovernanceError).message).toMatch(/^birthDate:/);
    const e5 = await registerDataset(db, a.researcher, { site: 'site-de', country: 'DE', path: folder }, { now: T0 }).catch((e: GovernanceError) => e);
    expect(e5).toMatchObject({ code: 'forbidden' });
    expect((await auditOf(db, 'dataset.register', 'refused')).length).toBe(5);
  });
});
