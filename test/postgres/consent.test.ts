import { consentSuite } from '../support/governance/consent-suite.js';
import { postgresBackend } from './support.js';

consentSuite(postgresBackend('consent'));
