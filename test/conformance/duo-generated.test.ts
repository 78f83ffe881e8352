import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, sharedDataDir } from './helpers.js';

interface Generator {
  renderDuo(csv: string): string;
  OUTPUT_PATH: string;
}

describe('src/governance/duo.generated.ts', () => {
  it('is current with the shared duo.csv', async () => {
    const csv = fs.readFileSync(path.join(sharedDataDir, 'governance', 'duo.csv'), 'utf8');
    const gen = (await import(new URL('scripts/generate-duo.mjs', `file://${repoRoot}/`).href)) as Generator;
    const onDisk = fs.readFileSync(path.join(repoRoot, gen.OUTPUT_PATH), 'utf8');
    expect(gen.renderDuo(csv) === onDisk, 'run node scripts/generate-duo.mjs').toBe(true);
    expect(onDisk).toContain('"DUO:0000042", shorthand: "GRU"');
  });

  it('refuses a CSV with a malformed row, naming the line', async () => {
    const gen = (await import(new URL('scripts/generate-duo.mjs', `file://${repoRoot}/`).href)) as Generator;
    expect(() => gen.renderDuo('id,shorthand,label,description\nDUO:42,GRU,general research use,x\n')).toThrow(/line 2: id "DUO:42"/);
  });
});
