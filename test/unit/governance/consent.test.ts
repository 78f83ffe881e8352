import { sqliteBackend } from '../../support/governance/backends.js';
import { consentSuite } from '../../support/governance/consent-suite.js';

consentSuite(sqliteBackend('consent'));
