/**
 * Every governance module's tables, in the order the migration runner applies them (a module
 * comes after the modules its foreign keys point into). `radanon serve` and the governance
 * commands migrate with this list; tests may migrate with a subset.
 */
import { AUDIT_SCHEMA } from './audit.js';
import type { SchemaModule } from './db.js';
import { PROJECTS_SCHEMA } from './projects.js';
import { USERS_SCHEMA } from './users.js';

export const GOVERNANCE_SCHEMA: readonly SchemaModule[] = [AUDIT_SCHEMA, USERS_SCHEMA, PROJECTS_SCHEMA];
