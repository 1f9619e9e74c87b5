/**
 * A browser's cookie jar, strict enough that the tests notice cookie mistakes: host-only and Domain
 * cookies (ports are ignored, as browsers do), Path matching and default paths, Max-Age / Expires
 * (Max-Age=0 deletes), Secure only from and to secure contexts (https or loopback), the `__Host-`
 * and `__Secure-` prefixes, and SameSite on cross-site requests.
 */

export interface StoredCookie {
  name: string;
  value: string;
  /** Host name for host-only cookies, else the Domain attribute. */
  domain: string;
  hostOnly: boolean;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite: 'strict' | 'lax' | 'none';
  /** Epoch ms, or null for a session cookie. */
  expiresAt: number | null;
  createdAt: number;
}

/** What the browser knows about the request a cookie would go with. */
export interface CookieRequestContext {
  method: string;
  /** True when the request (or any redirect before it) crosses sites. */
  crossSite: boolean;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https, or http to a loopback host: where browsers allow `Secure` cookies. */
export function isSecureContext(url: URL): boolean {
  return url.protocol === 'https:' || LOOPBACK.has(url.hostname);
}

/** The "site" of a URL: the host for IPs and localhost, else the last two labels (good enough for tests). */
export function siteOf(url: URL): string {
  const host = url.hostname;
  if (LOOPBACK.has(host) || /^[\d.]+$/.test(host)) return host;
  return host.split('.').slice(-2).join('.');
}

function defaultPath(url: URL): string {
  const path = url.pathname;
  if (!path.startsWith('/') || path.lastIndexOf('/') === 0) return '/';
  return path.slice(0, path.lastIndexOf('/'));
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

function domainMatches(host: string, cookie: StoredCookie): boolean {
  return cookie.hostOnly ? host === cookie.domain : host === cookie.domain || host.endsWith(`.${cookie.domain}`);
}

export class CookieJar {
  readonly #cookies: StoredCookie[] = [];
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Applies one `Set-Cookie` header received from `url`. Returns false when the browser would ignore it. */
  store(url: URL, header: string): boolean {
    const [pair = '', ...attributes] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return false;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let domain: string | null = null;
    let path: string | null = null;
    let secure = false;
    let httpOnly = false;
    let sameSite: StoredCookie['sameSite'] = 'lax';
    let maxAge: number | null = null;
    let expires: number | null = null;
    for (const attribute of attributes) {
      const [rawKey = '', ...rest] = attribute.split('=');
      const key = rawKey.trim().toLowerCase();
      const arg = rest.join('=').trim();
      if (key === 'domain' && arg) domain = arg.replace(/^\./, '').toLowerCase();
      else if (key === 'path') path = arg.startsWith('/') ? arg : null;
      else if (key === 'secure') secure = true;
      else if (key === 'httponly') httpOnly = true;
      else if (key === 'samesite')
        sameSite = (['strict', 'lax', 'none'] as const).find((s) => s === arg.toLowerCase()) ?? 'lax';
      else if (key === 'max-age' && /^-?\d+$/.test(arg)) maxAge = Number(arg);
      else if (key === 'expires' && !Number.isNaN(Date.parse(arg))) expires = Date.parse(arg);
    }
    const host = url.hostname;
    if (domain !== null && host !== domain && !host.endsWith(`.${domain}`)) return false;
    if (secure && !isSecureContext(url)) return false;
    if (sameSite === 'none' && !secure) return false;
    if (name.startsWith('__Secure-') && !secure) return false;
    if (name.startsWith('__Host-') && (!secure || domain !== null || path !== '/')) return false;

    const now = this.#now();
    const expiresAt = maxAge !== null ? now + maxAge * 1000 : expires;
    const cookie: StoredCookie = {
      name,
      value,
      domain: domain ?? host,
      hostOnly: domain === null,
      path: path ?? defaultPath(url),
      secure,
      httpOnly,
      sameSite,
      expiresAt,
      createdAt: now,
    };
    const index = this.#cookies.findIndex(
      (c) => c.name === name && c.domain === cookie.domain && c.hostOnly === cookie.hostOnly && c.path === cookie.path,
    );
    if (index >= 0) {
      cookie.createdAt = this.#cookies[index]!.createdAt;
      this.#cookies.splice(index, 1);
    }
    if (expiresAt !== null && expiresAt <= now) return true; // a deletion
    this.#cookies.push(cookie);
    return true;
  }

  /** The cookies a request to `url` carries, most specific path first. */
  matching(url: URL, context: CookieRequestContext): StoredCookie[] {
    const now = this.#now();
    return this.#cookies
      .filter((c) => c.expiresAt === null || c.expiresAt > now)
      .filter((c) => domainMatches(url.hostname, c) && pathMatches(url.pathname, c.path))
      .filter((c) => !c.secure || isSecureContext(url))
      .filter((c) => !context.crossSite || c.sameSite === 'none' || (c.sameSite === 'lax' && context.method === 'GET'))
      .sort((a, b) => b.path.length - a.path.length || a.createdAt - b.createdAt);
  }

  /** The `Cookie` header for a request to `url`, or null. */
  header(url: URL, context: CookieRequestContext): string | null {
    const cookies = this.matching(url, context);
    return cookies.length > 0 ? cookies.map((c) => `${c.name}=${c.value}`).join('; ') : null;
  }

  /** A stored, unexpired cookie by name (for assertions). */
  get(name: string): StoredCookie | undefined {
    const now = this.#now();
    return this.#cookies.find((c) => c.name === name && (c.expiresAt === null || c.expiresAt > now));
  }

  /** Forgets a cookie, as when it expires or the user clears it. */
  delete(name: string): void {
    for (let i = this.#cookies.length - 1; i >= 0; i--) if (this.#cookies[i]!.name === name) this.#cookies.splice(i, 1);
  }
}
