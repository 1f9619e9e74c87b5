/**
 * The request log: what reached the emulated Shopify endpoints, how it was answered and which
 * fault applied — never a token, code, secret or query string.
 */

import { isShopDomain } from '../protocol/shop.ts';
import type { RequestTarget } from './faults.ts';
import { parseTokenBody, text } from './token-body.ts';

/** One request, as the emulator saw it. */
export interface RequestLogEntry {
  /** ms since epoch, from the emulator's clock, when the request arrived. */
  at: number;
  method: string;
  /** The path without its query string. */
  path: string;
  endpoint: RequestTarget['endpoint'];
  /** Token endpoint: the grant asked for (`authorization_code` when a code is sent); otherwise null. */
  grantType: string | null;
  shop: string | null;
  /** The HTTP status answered; 0 when the connection was dropped. */
  status: number;
  /** The id of the fault rule that applied, or null. */
  fault: string | null;
}

const MAX_ENTRIES = 10_000;

const ENDPOINT_PATHS: [RegExp, RequestTarget['endpoint']][] = [
  [/^oauth\/access_token$/, 'token'],
  [/^oauth\/authorize$/, 'authorize'],
  [/^oauth\/access_scopes\.json$/, 'access_scopes'],
  [/^api\/[^/]+\/graphql\.json$/, 'graphql'],
  [/^logout$/, 'logout'],
];

/** The grant type of a token request, read from a clone (the handler reads the original). */
async function grantTypeOf(request: Request): Promise<string | null> {
  const parsed = await parseTokenBody(request.clone());
  if (!parsed.ok) return null;
  const grantType = text(parsed.body.grant_type);
  if (grantType === undefined || parsed.body.code !== undefined) return 'authorization_code';
  return grantType.slice(0, 200);
}

/** What endpoint and shop a request is for, and (token endpoint) its grant type. */
export async function classify(request: Request): Promise<RequestTarget> {
  const match = /^\/([^/]+)\/admin\/(.+)$/.exec(new URL(request.url).pathname);
  const shop = match && isShopDomain(match[1]!) ? match[1]! : null;
  const endpoint = (shop && ENDPOINT_PATHS.find(([pattern]) => pattern.test(match![2]!))?.[1]) || 'other';
  const grantType = endpoint === 'token' && request.method === 'POST' ? await grantTypeOf(request) : null;
  return { endpoint, shop, grantType };
}

/** The last {@link MAX_ENTRIES} requests, oldest first. */
export class RequestLog {
  readonly #entries: RequestLogEntry[] = [];

  add(entry: RequestLogEntry): void {
    this.#entries.push(entry);
    if (this.#entries.length > MAX_ENTRIES) this.#entries.shift();
  }

  entries(): RequestLogEntry[] {
    return this.#entries.map((entry) => ({ ...entry }));
  }
}
