import { interchangeSuite } from '../support/governance/interchange-suite.js';
import { postgresBackend } from './support.js';

interchangeSuite(postgresBackend('interchange'));
