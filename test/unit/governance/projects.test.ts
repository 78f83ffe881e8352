import { projectsSuite } from '../../support/governance/g2-projects-suite.js';
import { sqliteFactory } from '../../support/governance/g2.js';

projectsSuite('SQLite', sqliteFactory('g2-projects'));
