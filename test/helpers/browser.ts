/**
 * A minimal browser for tests: a cookie jar, top-level navigation that follows redirects by hand
 * across the app and the emulator (each origin served in-process or over a real socket), and form
 * submission so a test can click through Shopify's consent page.
 */

import { CookieJar, siteOf } from './cookie-jar.ts';

/** Serves one origin: an in-process handler or a real socket. */
export type Fetcher = (request: Request) => Promise<Response>;

/** Talks to a server over a real socket, without following redirects. */
export const socketFetcher: Fetcher = (request) => fetch(request, { redirect: 'manual' });

export interface BrowserOptions {
  /** Who serves each origin (`https://app.example.com`, `http://127.0.0.1:4010`). Any other origin fails the test. */
  origins: Record<string, Fetcher>;
  /** The jar's clock; default Date.now. */
  now?: () => number;
  maxRedirects?: number;
}

/** One request the browser made. */
export interface Hop {
  method: string;
  url: string;
  status: number;
  location: string | null;
  /** The Set-Cookie headers of the response. */
  setCookies: string[];
}

/** Where a navigation ended. */
export interface Page {
  url: string;
  status: number;
  headers: Headers;
  body: string;
  /** The hops of this navigation, first to last. */
  hops: Hop[];
}

/** How far a navigation goes. */
export interface NavigateOptions {
  /**
   * Stop before requesting a redirect target for which this returns true: the page is then the
   * redirect response itself, so a test can inspect or rewrite its `location` before following it.
   */
  stopBefore?: (url: URL) => boolean;
}

/** A form found on a page. */
export interface Form {
  method: string;
  action: string;
  /** Values of inputs and selects (a select's selected option, else its first). */
  fields: Record<string, string>;
  /** Submit buttons as `name=value`. */
  buttons: { name: string; value: string }[];
  /** Options of each select. */
  options: Record<string, string[]>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function decodeEntities(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    out[m[1]!.toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

/** The forms of an HTML page, resolved against the page's URL. */
export function parseForms(page: Page): Form[] {
  const forms: Form[] = [];
  for (const m of page.body.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = attributes(m[1]!);
    const inner = m[2]!;
    const fields: Record<string, string> = {};
    const options: Record<string, string[]> = {};
    const buttons: Form['buttons'] = [];
    for (const input of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const a = attributes(input[1]!);
      if (a.name && a.type !== 'submit') fields[a.name] = a.value ?? '';
    }
    for (const select of inner.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/gi)) {
      const name = attributes(select[1]!).name;
      if (!name) continue;
      const opts = [...select[2]!.matchAll(/<option\b([^>]*)>/gi)].map((o) => attributes(o[1]!));
      options[name] = opts.map((o) => o.value ?? '');
      fields[name] = (opts.find((o) => 'selected' in o) ?? opts[0])?.value ?? '';
    }
    for (const button of inner.matchAll(/<button\b([^>]*)>/gi)) {
      const a = attributes(button[1]!);
      if (a.name && (a.type ?? 'submit') === 'submit') buttons.push({ name: a.name, value: a.value ?? '' });
    }
    forms.push({
      method: (attrs.method ?? 'get').toUpperCase(),
      action: new URL(attrs.action || page.url, page.url).href,
      fields,
      buttons,
      options,
    });
  }
  return forms;
}

export class Browser {
  readonly jar: CookieJar;
  /** Every request made, oldest first. */
  readonly history: Hop[] = [];
  readonly #origins: Record<string, Fetcher>;
  readonly #maxRedirects: number;

  constructor(options: BrowserOptions) {
    this.#origins = options.origins;
    this.jar = new CookieJar(options.now);
    this.#maxRedirects = options.maxRedirects ?? 20;
  }

  /** Types `url` into the address bar and follows redirects. */
  navigate(url: string, options: NavigateOptions = {}): Promise<Page> {
    return this.#go('GET', new URL(url), undefined, null, options);
  }

  /**
   * Submits the first form of `page` whose buttons include `button`, with `overrides` applied to its
   * fields, and follows redirects.
   */
  submit(
    page: Page,
    button: { name: string; value: string },
    overrides: Record<string, string> = {},
    options: NavigateOptions = {},
  ): Promise<Page> {
    const form = parseForms(page).find((f) =>
      f.buttons.some((b) => b.name === button.name && b.value === button.value),
    );
    if (!form) throw new Error(`no form with button ${button.name}=${button.value} on ${page.url}`);
    const body = new URLSearchParams({ ...form.fields, ...overrides, [button.name]: button.value });
    if (form.method === 'GET') {
      const target = new URL(form.action);
      target.search = body.toString();
      return this.#go('GET', target, undefined, new URL(page.url), options);
    }
    return this.#go('POST', new URL(form.action), body, new URL(page.url), options);
  }

  /** How many requests with `method` went to `origin` + a path starting with `pathPrefix`. */
  count(method: string, pathPrefix = ''): number {
    return this.history.filter((h) => h.method === method && new URL(h.url).pathname.startsWith(pathPrefix)).length;
  }

  async #go(
    method: string,
    start: URL,
    body: URLSearchParams | undefined,
    initiator: URL | null,
    options: NavigateOptions,
  ): Promise<Page> {
    let url = start;
    let crossSite = initiator !== null && siteOf(initiator) !== siteOf(url);
    const hops: Hop[] = [];
    for (let i = 0; i <= this.#maxRedirects; i++) {
      const fetcher = this.#origins[url.origin];
      if (!fetcher) throw new Error(`the test browser has no server for ${url.origin}`);
      const headers = new Headers();
      const cookie = this.jar.header(url, { method, crossSite });
      if (cookie) headers.set('cookie', cookie);
      if (method === 'POST') {
        headers.set('content-type', 'application/x-www-form-urlencoded');
        if (initiator) headers.set('origin', initiator.origin);
      }
      const response = await fetcher(
        new Request(url, {
          method,
          headers,
          body: method === 'POST' ? body?.toString() : undefined,
          redirect: 'manual',
        }),
      );
      const setCookies = response.headers.getSetCookie();
      for (const header of setCookies) this.jar.store(url, header);
      const location = response.headers.get('location');
      const hop: Hop = { method, url: url.href, status: response.status, location, setCookies };
      hops.push(hop);
      this.history.push(hop);
      const next = location === null ? null : new URL(location, url);
      if (!REDIRECTS.has(response.status) || next === null || options.stopBefore?.(next)) {
        return { url: url.href, status: response.status, headers: response.headers, body: await response.text(), hops };
      }
      await response.body?.cancel();
      crossSite ||= siteOf(url) !== siteOf(next);
      if (response.status !== 307 && response.status !== 308) {
        method = 'GET';
        body = undefined;
      }
      url = next;
    }
    throw new Error(`too many redirects from ${start.href}`);
  }
}
