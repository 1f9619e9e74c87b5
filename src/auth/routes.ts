/**
 * The paths shoptoken answers and the methods each accepts. The adapters use this too, to answer a
 * request no web `Request` can carry (TRACE, TRACK, CONNECT) on these paths with the same 405.
 */

import type { ResolvedShoptokenOptions } from './types.ts';

/** `begin`: the auth path; `callback`: Shopify's redirect back; `logout`: the sign-out. */
export type FlowRoute = 'begin' | 'callback' | 'logout';

/** The `Allow` header of each route: the flow's pages are GET (HEAD changes nothing); sign-out is POST. */
export const ALLOWED_METHODS: Readonly<Record<FlowRoute, string>> = {
  begin: 'GET, HEAD',
  callback: 'GET, HEAD',
  logout: 'POST',
};

/** The route `pathname` (exact match) belongs to, or null for a path that is the app's own. */
export function flowRoute(options: ResolvedShoptokenOptions, pathname: string): FlowRoute | null {
  if (pathname === options.authPath) return 'begin';
  if (pathname === options.callbackPath) return 'callback';
  if (pathname === options.logoutPath) return 'logout';
  return null;
}

/** True when `method` may be used on `route` (a web Request's method, upper case for the standard ones). */
export function methodAllowed(route: FlowRoute, method: string): boolean {
  return route === 'logout' ? method === 'POST' : method === 'GET' || method === 'HEAD';
}
