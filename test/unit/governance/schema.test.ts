import { sqliteBackend } from '../../support/governance/backends.js';
import { schemaSuite } from '../../support/governance/schema-suite.js';

schemaSuite(sqliteBackend('schema'));
