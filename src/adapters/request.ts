/**
 * Node's `IncomingMessage` as a web `Request`, shared by the adapters. shoptoken reads only the
 * path, query and headers (its routes are GET-only and it builds every redirect from `appUrl`), so
 * the body is left unread on the Node request for the app's own handlers, and the origin — taken
 * from the `Host` header by default — decides nothing.
 */

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

const HOST_HEADER = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
// Methods a web Request refuses to carry. shoptoken serves only GET, so requests with them are not its business.
const UNSUPPORTED_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** `http(s)://{Host}` when the Host header is a well-formed host, else `http(s)://localhost`. */
function defaultOrigin(req: IncomingMessage): string {
  const scheme = (req.socket as Partial<TLSSocket> | undefined)?.encrypted ? 'https' : 'http';
  const host = req.headers.host;
  const origin = host && HOST_HEADER.test(host) ? `${scheme}://${host}` : null;
  return origin && URL.canParse(origin) ? origin : `${scheme}://localhost`;
}

/**
 * A body-less web Request with the method, headers and `pathAndQuery` of `req` on `origin`, or null
 * for a method a web Request cannot carry (CONNECT, TRACE, TRACK). `pathAndQuery` can never change
 * the origin: it is always read as a path.
 */
export function webRequest(req: IncomingMessage, pathAndQuery: string, origin?: string): Request | null {
  const method = req.method ?? 'GET';
  if (UNSUPPORTED_METHODS.has(method.toUpperCase())) return null;
  const base = new URL(origin ?? defaultOrigin(req)).origin;
  const path = pathAndQuery.startsWith('/') ? pathAndQuery : `/${pathAndQuery}`;
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return new Request(`${base}${path}`, { method, headers });
}
