/** Every governance module's tables migrate on either backend, once. */
import { afterAll, describe, expect, it } from 'vitest';
import { GOVERNANCE_SCHEMA } from '../../../src/governance/schema.js';
import { migrate } from '../../../src/governance/store.js';
import type { Backend } from './backends.js';

export function schemaSuite(backend: Backend): void {
  afterAll(() => backend.cleanup());

  describe(`the governance schema on ${backend.name}`, () => {
    it('applies every module once and nothing on a second run', async () => {
      const db = await backend.open();
      const first = await migrate(db, GOVERNANCE_SCHEMA);
      const steps = GOVERNANCE_SCHEMA.flatMap((m) => m.steps.map((_, i) => `${m.name}#${i + 1}`));
      expect(first.applied).toEqual(steps);
      expect((await migrate(db, GOVERNANCE_SCHEMA)).applied).toEqual([]);
      expect(new Set(GOVERNANCE_SCHEMA.map((m) => m.name)).size).toBe(GOVERNANCE_SCHEMA.length);
    });
  });
}
