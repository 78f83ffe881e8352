import { storeSuite } from '../support/governance/store-suite.js';
import { postgresBackend } from './support.js';

storeSuite(postgresBackend('store'));
