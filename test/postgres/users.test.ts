import { usersSuite } from '../support/governance/users-suite.js';
import { postgresBackend } from './support.js';

usersSuite(postgresBackend('users'));
