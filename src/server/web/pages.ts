/**
 * The web pages' HTML: templates in the repository's `web/` folder, filled on the server. Written
 * here rather than with a template engine because the pages are four forms and tables: a
 * `{{slot}}` is HTML-escaped, a `{{{slot}}}` takes a fragment this module built (itself escaped).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `web/` sits two levels above both `src/server/web/` and `dist/server/web/`. */
const WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));

const cache = new Map<string, string>();
function template(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(WEB_DIR + name, 'utf8');
    cache.set(name, text);
  }
  return text;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A fragment built from escaped parts; only this module and the page builders make them. */
export class Html {
  constructor(readonly text: string) {}
}

/** Tagged template: interpolated strings are escaped, `Html` fragments and arrays of them are not. */
export function html(strings: TemplateStringsArray, ...values: readonly (string | number | Html | readonly Html[])[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    if (v instanceof Html) out += v.text;
    else if (Array.isArray(v)) out += (v as readonly Html[]).map((h) => h.text).join('');
    else out += escapeHtml(String(v));
    out += strings[i + 1]!;
  });
  return new Html(out);
}

function fill(name: string, slots: Readonly<Record<string, string | Html>>): string {
  return template(name).replace(/\{\{(\{)?(\w+)\}?\}\}/g, (_m, raw: string | undefined, key: string) => {
    const v = slots[key];
    if (v === undefined) throw new Error(`template ${name}: no value for slot ${key}`);
    if (raw !== undefined) {
      if (!(v instanceof Html)) throw new Error(`template ${name}: slot ${key} needs an HTML fragment`);
      return v.text;
    }
    return escapeHtml(v instanceof Html ? v.text : v);
  });
}

/**
 * Headers of every page: no script may run, forms post only here, no other site may frame the
 * page (clickjacking), and no referrer leaves with a research ID in the URL.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

// The stylesheet is inlined in every page so that no route but login and health answers an
// anonymous client.
export function loginPage(message = ''): string {
  return fill('login.html', { message, style: new Html(template('style.css')) });
}

export function page(title: string, user: string, csrf: string, content: Html): string {
  return fill('layout.html', { title, user, csrf, content, style: new Html(template('style.css')) });
}
