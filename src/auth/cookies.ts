/**
 * The flow's two cookies, the OAuth state cookie and the session cookie. Both are
 * `Path=/; HttpOnly; Secure; SameSite=Lax` with the `__Host-` prefix, which makes the browser refuse
 * them unless they are Secure, host-only and Path=/ — so a sibling subdomain cannot plant one.
 * `SameSite=Lax` (not Strict) because Shopify's redirect back to the callback is a cross-site
 * top-level GET, which Lax cookies accompany and Strict ones do not.
 */

/** The names of the flow's cookies. */
export interface CookieNames {
  state: string;
  session: string;
}

/** `__Host-` names when cookies are Secure; plain names for local http demos (the prefix requires Secure). */
export function cookieNames(secure: boolean): CookieNames {
  const prefix = secure ? '__Host-' : '';
  return { state: `${prefix}shoptoken_state`, session: `${prefix}shoptoken_session` };
}

/** A `Set-Cookie` value with the flow's fixed attributes; `maxAge` 0 deletes the cookie. */
export function serializeCookie(name: string, value: string, options: { secure: boolean; maxAge: number }): string {
  const secure = options.secure ? ' Secure;' : '';
  return `${name}=${value}; Path=/; HttpOnly;${secure} SameSite=Lax; Max-Age=${Math.max(0, Math.floor(options.maxAge))}`;
}

/** A `Set-Cookie` value that deletes the cookie `name`. */
export function clearCookie(name: string, secure: boolean): string {
  return serializeCookie(name, '', { secure, maxAge: 0 });
}

/**
 * The value of cookie `name` in the request's `Cookie` header, or null. When the name occurs more
 * than once the first occurrence wins (browsers send the most specific cookie first).
 */
export function readCookie(request: Request, name: string): string | null {
  const header = request.headers.get('cookie');
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return value.length > 0 ? value : null;
  }
  return null;
}
