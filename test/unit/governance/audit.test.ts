import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/governance/audit.js';
import { auditSuite } from '../../support/governance/audit-suite.js';
import { sqliteBackend } from '../../support/governance/backends.js';

auditSuite(sqliteBackend('audit'));

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: undefined, x: 'é' }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"x":"é","z":0}]},"b":1}');
  });
});
