import { schemaSuite } from '../support/governance/schema-suite.js';
import { postgresBackend } from './support.js';

schemaSuite(postgresBackend('schema'));
