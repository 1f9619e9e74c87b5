/**
 * Node's `IncomingMessage` as a web `Request`, shared by the adapters. shoptoken reads only the
 * path, query and headers (its routes never read a body, and it builds every redirect from
 * `appUrl`), so the body is left unread on the Node request for the app's own handlers, and the
 * origin — taken from the `Host` header by default — decides nothing.
 *
 * Nothing here throws for anything a client sends: a header the web `Headers` refuses is left out,
 * and a request no web `Request` can carry (the methods CONNECT, TRACE and TRACK) converts to null,
 * which the adapters answer with {@link unconvertedResponse}.
 */

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { methodNotAllowed, textResponse } from '../auth/responses.ts';
import { ALLOWED_METHODS, flowRoute } from '../auth/routes.ts';
import type { Shoptoken } from '../auth/types.ts';

const HOST_HEADER = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
// Methods a web Request refuses to carry.
const UNSUPPORTED_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
// What a web Request can carry, for the `Allow` of a 405 on a path that is the app's own.
const CARRIED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/** `http(s)://{Host}` when the Host header is a well-formed host, else `http(s)://localhost`. */
function defaultOrigin(req: IncomingMessage): string {
  const scheme = (req.socket as Partial<TLSSocket> | undefined)?.encrypted ? 'https' : 'http';
  const host = req.headers.host;
  const origin = typeof host === 'string' && HOST_HEADER.test(host) ? `${scheme}://${host}` : null;
  return origin && URL.canParse(origin) ? origin : `${scheme}://localhost`;
}

/** The headers of `req` that a web `Headers` accepts; any other is left out, never thrown over. */
function webHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    if (value === undefined || name.startsWith(':')) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      try {
        headers.append(name, String(v));
      } catch {
        // A name or value the Fetch standard refuses (e.g. a control character): not one shoptoken reads.
      }
    }
  }
  return headers;
}

/** False for a method no web Request can carry (CONNECT, TRACE, TRACK). */
export function carriesMethod(req: IncomingMessage): boolean {
  return !UNSUPPORTED_METHODS.has(String(req.method ?? 'GET').toUpperCase());
}

/**
 * A body-less web Request with the method, headers and `pathAndQuery` of `req` on `origin`, or null
 * when none can be built: a method a web Request cannot carry (see {@link carriesMethod}), a URL it
 * refuses, or an `origin` that is not an absolute URL. Never throws. `pathAndQuery` can never change
 * the origin: it is always read as a path.
 */
export function webRequest(req: IncomingMessage, pathAndQuery: string, origin?: string): Request | null {
  if (!carriesMethod(req)) return null;
  try {
    const base = origin === undefined ? defaultOrigin(req) : new URL(origin).origin;
    const path = String(pathAndQuery);
    const url = `${base}${path.startsWith('/') ? path : `/${path}`}`;
    return new Request(url, { method: req.method ?? 'GET', headers: webHeaders(req) });
  } catch {
    return null;
  }
}

/** The pathname `pathAndQuery` stands for, as a web Request would read it, or null. */
function pathnameOf(pathAndQuery: string): string | null {
  try {
    return new URL(pathAndQuery.startsWith('/') ? pathAndQuery : `/${pathAndQuery}`, 'http://localhost').pathname;
  } catch {
    return null;
  }
}

/**
 * The answer to a request {@link webRequest} could not convert: 405 for a method no web Request can
 * carry (with the `Allow` of shoptoken's route on its paths), else 400.
 */
export function unconvertedResponse(st: Shoptoken, req: IncomingMessage, pathAndQuery: string): Response {
  if (carriesMethod(req)) return textResponse(400, 'Bad request');
  const pathname = pathnameOf(String(pathAndQuery));
  const route = pathname === null ? null : flowRoute(st.options, pathname);
  return methodNotAllowed(route === null ? CARRIED_METHODS : ALLOWED_METHODS[route]);
}

/** True when `pathAndQuery` names one of shoptoken's paths (auth, callback, logout). */
export function isFlowPath(st: Shoptoken, pathAndQuery: string): boolean {
  const pathname = pathnameOf(String(pathAndQuery));
  return pathname !== null && flowRoute(st.options, pathname) !== null;
}
