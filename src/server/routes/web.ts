/**
 * The web pages: server-rendered HTML over the same library operations as the API, for a person
 * signed in with a session cookie. Forms carry the session's CSRF token (checked by the
 * authentication hook for every state-changing request); a refusal is shown as a page with the
 * library's message and its status.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifyAudit } from '../../governance/audit.js';
import { listConsent, recordConsentEvent } from '../../governance/consent.js';
import { GovernanceError } from '../../governance/errors.js';
import { listProjects, submitProject, type Project } from '../../governance/projects.js';
import { actorOf, csrfTokenOf } from '../auth.js';
import { html, Html, loginPage, page, PAGE_HEADERS } from '../web/pages.js';
import { authorizeAuditRead } from '../../governance/audit-access.js';
import { idParams, input } from '../route.js';

async function render(request: FastifyRequest, reply: FastifyReply, title: string, content: Html, status = 200): Promise<FastifyReply> {
  const actor = actorOf(request);
  const csrf = await csrfTokenOf(request);
  return reply.code(status).headers(PAGE_HEADERS).send(page(title, `${actor.name} (${actor.roles.join(', ')})`, csrf, content));
}

function projectRows(projects: readonly Project[], csrf: string, actorId: string): Html {
  if (projects.length === 0) return html`<p>No projects.</p>`;
  const rows = projects.map(
    (p) => html`<tr><td>${p.title}</td><td class="state">${p.state}</td><td>${p.purpose.join(', ')}</td><td>${p.expiresAt ?? ''}</td><td>${
      (p.state === 'draft' || p.state === 'changes-requested') && p.ownerId === actorId
        ? html`<form method="post" action="/web/projects/${p.id}/submit"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit" class="submit-project">Submit to the committee</button></form>`
        : html``
    }</td></tr>`,
  );
  return html`<table id="projects"><thead><tr><th>Title</th><th>State</th><th>Purpose</th><th>Approval expires</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
}

export async function webRoutes(app: FastifyInstance): Promise<void> {
  // A page answers in HTML: a refusal becomes a page with the message (or the sign-in page).
  app.setErrorHandler(async (error, request, reply) => {
    if (error instanceof GovernanceError) {
      if (error.code === 'unauthenticated') return reply.code(401).headers(PAGE_HEADERS).send(loginPage(error.message));
      if (request.actor !== null) return render(request, reply, 'Not possible', html`<p class="error">${error.message}</p>`, error.status);
    }
    throw error;
  });

  app.get('/', { schema: { hide: true }, config: { operation: 'web.page' } }, async (request, reply) => {
    const { db, clock } = app.governance;
    const actor = actorOf(request);
    const now = clock();
    const csrf = await csrfTokenOf(request);
    const mine = await listProjects(db, actor, {}, { now });
    let pending = html``;
    if (actor.roles.includes('dac-member') || actor.roles.includes('admin')) {
      const waiting = mine.filter((p) => p.state === 'submitted' || p.state === 'under-review');
      pending = html`<h2>Pending reviews</h2>${waiting.length === 0 ? html`<p>None.</p>` : html`<ul id="pending">${waiting.map((p) => html`<li>${p.title} (${p.state})</li>`)}</ul>`}`;
    }
    return render(request, reply, 'Dashboard', html`<h2>Projects</h2>${projectRows(mine, csrf, actor.id)}${pending}`);
  });

  app.post<{ Params: { projectId: string } }>(
    '/web/projects/:projectId/submit',
    { schema: { hide: true, params: idParams('projectId'), body: input({ _csrf: { type: 'string' } }) }, config: { operation: 'project.submit' } },
    async (request, reply) => {
      const { db, clock } = app.governance;
      await submitProject(db, actorOf(request), { projectId: request.params.projectId }, { now: clock() });
      return reply.redirect('/', 303);
    },
  );

  app.get<{ Querystring: { researchId?: string } }>(
    '/consent-lookup',
    { schema: { hide: true, querystring: input({ researchId: { type: 'string', maxLength: 64 } }) }, config: { operation: 'web.page' } },
    async (request, reply) => {
      const { db, clock } = app.governance;
      const actor = actorOf(request);
      const csrf = await csrfTokenOf(request);
      const researchId = request.query.researchId?.trim() ?? '';
      const form = html`<form method="get" action="/consent-lookup" id="lookup"><label>Research ID <input name="researchId" id="researchId" value="${researchId}" required></label><button type="submit">Look up</button></form>`;
      let found = html``;
      if (researchId !== '') {
        // The library decides who may read a subject's consent; a refusal renders as its message.
        const record = await listConsent(db, actor, { researchId }, { now: clock() });
        const rows = record.events.map(
          (e) => html`<tr><td>${e.at}</td><td class="kind">${e.kind}</td><td>${e.codes.join(', ')}</td><td>${e.projectId ?? e.purpose ?? ''}</td><td>${e.source}</td></tr>`,
        );
        found = html`<h2>Site ${record.site}</h2><table id="events"><thead><tr><th>Effective</th><th>Event</th><th>Codes</th><th>Project or purpose</th><th>Source</th></tr></thead><tbody>${rows}</tbody></table>`;
      }
      let record = html``;
      if (actor.roles.includes('curator')) {
        record = html`<h2>Record an event</h2><form method="post" action="/web/consent-events" id="record-consent"><input type="hidden" name="_csrf" value="${csrf}">
<label>Research ID <input name="researchId" value="${researchId}" required></label>
<label>Site <input name="site" required></label>
<label>Event <select name="kind"><option value="grant">grant</option><option value="withdraw">withdraw</option><option value="refuse">refuse</option></select></label>
<label>Project id <input name="projectId"></label>
<button type="submit">Record</button></form>`;
      }
      return render(request, reply, 'Consent lookup', html`${form}${found}${record}`);
    },
  );

  app.post<{ Body: { researchId: string; site: string; kind: 'grant' | 'withdraw' | 'refuse'; projectId?: string } }>(
    '/web/consent-events',
    {
      schema: {
        hide: true,
        body: input(
          { _csrf: { type: 'string' }, researchId: { type: 'string', minLength: 1, maxLength: 64 }, site: { type: 'string', minLength: 1, maxLength: 100 }, kind: { type: 'string', enum: ['grant', 'withdraw', 'refuse'] }, projectId: { type: 'string', maxLength: 200 } },
          ['researchId', 'site', 'kind'],
        ),
      },
      config: { operation: 'consent.record' },
    },
    async (request, reply) => {
      const { db, clock } = app.governance;
      const b = request.body;
      await recordConsentEvent(db, actorOf(request), { researchId: b.researchId, site: b.site, kind: b.kind, ...(b.projectId ? { projectId: b.projectId } : {}) }, { now: clock() });
      return reply.redirect(`/consent-lookup?researchId=${encodeURIComponent(b.researchId)}`, 303);
    },
  );

  app.get('/audit-status', { schema: { hide: true }, config: { operation: 'audit.read' } }, async (request, reply) => {
    const { db, clock } = app.governance;
    const actor = actorOf(request);
    await authorizeAuditRead(db, actor, clock());
    const result = await verifyAudit(db);
    const body = result.ok
      ? html`<p class="ok" id="audit-state">Intact: ${result.entries} entries, head ${result.head}.</p>`
      : html`<p class="broken" id="audit-state">Broken at entry ${result.problems[0]!.seq} (${result.problems[0]!.kind}): ${result.problems[0]!.message}</p>`;
    return render(request, reply, 'Audit trail', body);
  });
}
