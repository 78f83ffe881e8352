import { auditSuite } from '../support/governance/audit-suite.js';
import { postgresBackend } from './support.js';

auditSuite(postgresBackend('audit'));
