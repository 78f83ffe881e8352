import { sqliteBackend } from '../../support/governance/backends.js';
import { interchangeSuite } from '../../support/governance/interchange-suite.js';

interchangeSuite(sqliteBackend('interchange'));
