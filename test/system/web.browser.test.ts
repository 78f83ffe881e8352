/**
 * The web pages in a real browser (playwright-core driving Debian's chromium, which CI installs):
 * sign in, see the dashboard, submit a form, have a request without the CSRF token refused, sign
 * out. Without chromium the test fails and says so: the pages are part of what ships.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { CONSOLE, type Role } from '../../src/governance/actor.js';
import { createProject, getProject } from '../../src/governance/projects.js';
import { buildServer } from '../../src/server/app.js';
import { sqliteBackend } from '../support/governance/backends.js';
import { seedWorld, type World } from '../support/server/world.js';

/** Debian's chromium (what .ci/run installs); RADANON_CHROMIUM names another. */
const CHROMIUM = process.env.RADANON_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const backend = sqliteBackend('server-web');
let app: FastifyInstance;
let world: World;
let browser: Browser;
let base: string;
let work: string;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`the browser test needs Chromium at ${CHROMIUM} (Debian package "chromium"; .ci/run installs it)`);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'radanon-web-'));
  world = await seedWorld(await backend.open(), work);
  app = await buildServer({ db: world.db });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await backend.cleanup();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('web pages in chromium', () => {
  it('signs in, shows the dashboard, submits a form, refuses a request without the CSRF token, signs out', async () => {
    const owner = { id: world.webUser.user.id, name: world.webUser.name, roles: world.webUser.user.roles as Role[], sites: ['*'], projects: ['*'] };
    const draft = await createProject(world.db, owner, {
      title: 'Draft from the browser test',
      purpose: ['DUO:0000006'],
      datasets: [world.datasetId],
      fields: ['PatientAge'],
      institution: 'Example University',
      country: 'DE',
      securityPlan: 'Encrypted storage.',
    });
    const context = await browser.newContext();
    const tab = await context.newPage();

    // Anonymous: the dashboard is refused and offers the sign-in form.
    const anonymous = await tab.goto(`${base}/`);
    expect(anonymous?.status()).toBe(401);
    await tab.goto(`${base}/login`);
    await tab.fill('#name', world.webUser.name);
    await tab.fill('#password', 'not the password at all');
    await tab.click('#login button[type=submit]');
    await expect.poll(() => tab.textContent('.message')).toContain('wrong name or password');

    await tab.fill('#name', world.webUser.name);
    await tab.fill('#password', world.webUser.password);
    await Promise.all([tab.waitForURL(`${base}/`), tab.click('#login button[type=submit]')]);
    expect(await tab.textContent('h1')).toBe('Dashboard');
    expect(await tab.textContent('#who')).toContain(world.webUser.name);
    const cookie = (await context.cookies()).find((c) => c.name === 'radanon_session');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Strict');
    const row = tab.locator('#projects tr', { hasText: 'Draft from the browser test' });
    expect(await row.locator('.state').textContent()).toBe('draft');

    // Submit the draft through the page's form (it carries the CSRF token).
    await Promise.all([tab.waitForURL(`${base}/`), row.locator('button.submit-project').click()]);
    expect(await tab.locator('#projects tr', { hasText: 'Draft from the browser test' }).locator('.state').textContent()).toBe('submitted');
    expect((await getProject(world.db, CONSOLE, { projectId: draft.id })).state).toBe('submitted');

    // The same session, a state-changing request without the token: refused, nothing changes.
    const forged = await tab.evaluate(async () => {
      const r = await fetch('/logout', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
      return r.status;
    });
    expect(forged).toBe(403);
    const stillIn = await tab.goto(`${base}/`);
    expect(stillIn?.status()).toBe(200);
    expect(stillIn?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");

    // Consent lookup by research ID (the web user is also the DPO, who may read every site).
    await tab.click('text=Consent lookup');
    await tab.fill('#researchId', world.researchId);
    await Promise.all([tab.waitForURL(/consent-lookup\?researchId=/), tab.click('#lookup button[type=submit]')]);
    expect(await tab.locator('#events .kind').allTextContents()).toEqual(['broad']);

    // The DPO page of the audit chain.
    await tab.click('text=Audit trail');
    expect(await tab.textContent('#audit-state')).toMatch(/^Intact: \d+ entries, head [0-9a-f]{64}\.$/);

    // Sign out: the cookie no longer opens the dashboard.
    await Promise.all([tab.waitForURL(`${base}/login`), tab.click('#logout')]);
    const after = await tab.goto(`${base}/`);
    expect(after?.status()).toBe(401);
    await context.close();
  }, 60_000);
});
