import { releaseSuite } from '../../support/governance/g2-release-suite.js';
import { sqliteFactory } from '../../support/governance/g2.js';

releaseSuite('SQLite', sqliteFactory('g2-release'));
