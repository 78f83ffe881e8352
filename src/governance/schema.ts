/**
 * Every governance module's tables, in the order the migration runner applies them (a module
 * comes after the modules its foreign keys point into). `radanon serve` and the governance
 * commands migrate with this list; tests may migrate with a subset.
 */
import { AGREEMENTS_SCHEMA } from './agreements.js';
import { AUDIT_SCHEMA } from './audit.js';
import { CONSENT_SCHEMA } from './consent.js';
import { DAC_SCHEMA } from './dac.js';
import { DATASETS_SCHEMA } from './datasets.js';
import type { SchemaModule } from './db.js';
import { PROJECTS_SCHEMA } from './projects.js';
import { RELEASES_SCHEMA } from './release.js';
import { USERS_SCHEMA } from './users.js';
import { WAIVERS_SCHEMA } from './waivers.js';

export const GOVERNANCE_SCHEMA: readonly SchemaModule[] = [
  AUDIT_SCHEMA,
  USERS_SCHEMA,
  CONSENT_SCHEMA,
  WAIVERS_SCHEMA,
  PROJECTS_SCHEMA,
  DAC_SCHEMA,
  DATASETS_SCHEMA,
  AGREEMENTS_SCHEMA,
  RELEASES_SCHEMA,
];
