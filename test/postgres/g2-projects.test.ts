import { migrate } from '../../src/governance/store.js';
import { projectsSuite } from '../support/governance/g2-projects-suite.js';
import { pgSchemas } from './support.js';

const schemas = pgSchemas('g2-projects');
projectsSuite('PostgreSQL', async (modules) => {
  // Enough connections for every concurrent voter to hold a transaction at once.
  const db = await schemas.open({ maxConnections: 12 });
  await migrate(db, modules);
  return db;
}, { cleanup: () => schemas.dropAll() });
