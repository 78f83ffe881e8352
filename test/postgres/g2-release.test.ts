import { migrate } from '../../src/governance/store.js';
import { releaseSuite } from '../support/governance/g2-release-suite.js';
import { pgSchemas } from './support.js';

const schemas = pgSchemas('g2-release');
releaseSuite('PostgreSQL', async (modules) => {
  const db = await schemas.open();
  await migrate(db, modules);
  return db;
}, { cleanup: () => schemas.dropAll() });
