/**
 * Token requests to `POST {shop}/admin/oauth/access_token` and the checking of their responses.
 * Sending (`…Request`) and checking (`processTokenResponse`) are separate; the checking half is
 * pure and tested without a network.
 */

import { OAuthResponseError, TransportError, UnexpectedResponseError } from '../errors.ts';
import { parseScopes } from './scopes.ts';
import { shopBaseUrl } from './shop.ts';

/** The staff user an online token belongs to (`associated_user`). `id` is kept as a string. */
export interface AssociatedUser {
  id: string;
  firstName: string;
  lastName: string;
  email: string;
  emailVerified: boolean;
  accountOwner: boolean;
  locale: string;
  collaborator: boolean;
}

/** A non-expiring or expiring offline token response. */
export interface OfflineTokenResponse {
  kind: 'offline';
  accessToken: string;
  scopes: string[];
  /** Seconds; `null` for a non-expiring token. */
  expiresIn: number | null;
  refreshToken: string | null;
  refreshTokenExpiresIn: number | null;
}

/** An online (per-user) token response. */
export interface OnlineTokenResponse {
  kind: 'online';
  accessToken: string;
  scopes: string[];
  expiresIn: number;
  associatedUserScopes: string[];
  associatedUser: AssociatedUser;
}

export type TokenResponse = OfflineTokenResponse | OnlineTokenResponse;

/** Where and how to reach a shop's token endpoint. */
export interface TokenEndpoint {
  /** Base-URL template, `https://{shop}` in production. */
  baseUrl: string;
  shop: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/** The URL of a shop's token endpoint. */
export function tokenUrl(baseUrl: string, shop: string): string {
  return `${shopBaseUrl(baseUrl, shop)}/admin/oauth/access_token`;
}

/**
 * Sends a JSON body (with the client credentials added) to the token endpoint, the way Shopify's
 * own libraries do. Network failures (DNS, reset, abort) become {@link TransportError}; secrets and
 * tokens travel in the body, never in the URL.
 */
export async function postToken(endpoint: TokenEndpoint, body: Record<string, string>): Promise<Response> {
  const doFetch = endpoint.fetch ?? fetch;
  try {
    return await doFetch(tokenUrl(endpoint.baseUrl, endpoint.shop), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ client_id: endpoint.clientId, client_secret: endpoint.clientSecret, ...body }),
      redirect: 'error',
      signal: endpoint.signal ?? null,
    });
  } catch (cause) {
    throw new TransportError(`could not reach the token endpoint of ${endpoint.shop}`, cause);
  }
}

/**
 * Step 4 of the authorization code grant: exchanges `code` for a token. `expiring: true` asks for
 * an expiring offline token (1 h access token and a rotating refresh token); it is only sent for
 * offline codes.
 */
export function authorizationCodeRequest(
  endpoint: TokenEndpoint,
  grant: { code: string; expiring?: boolean },
): Promise<Response> {
  const body: Record<string, string> = { code: grant.code };
  if (grant.expiring !== undefined) body.expiring = grant.expiring ? '1' : '0';
  return postToken(endpoint, body);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** 8 to 512 visible ASCII characters: a value that can travel in a header without being quoted back. */
function isTokenString(value: unknown): value is string {
  return typeof value === 'string' && /^[\x21-\x7e]{8,512}$/.test(value);
}

function positiveInt(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
}

/** `associated_user.id` may exceed 2^53; read its digits from the raw text when it does. */
function userIdFrom(raw: string, id: unknown): string | null {
  if (typeof id === 'string' && /^\d{1,20}$/.test(id)) return id;
  if (typeof id !== 'number' || !Number.isInteger(id) || id <= 0) return null;
  if (Number.isSafeInteger(id)) return String(id);
  const m = /"associated_user"\s*:\s*\{[^{}]*?"id"\s*:\s*(\d{1,20})/.exec(raw);
  return m?.[1] ?? null;
}

function parseUser(raw: string, value: unknown): AssociatedUser | null {
  if (!isRecord(value)) return null;
  const id = userIdFrom(raw, value.id);
  if (!id) return null;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    id,
    firstName: str(value.first_name),
    lastName: str(value.last_name),
    email: str(value.email),
    emailVerified: value.email_verified === true,
    accountOwner: value.account_owner === true,
    locale: str(value.locale),
    collaborator: value.collaborator === true,
  };
}

/**
 * Checks a parsed token response body. Pure; `raw` is the body text (used only to keep large user
 * ids exact). Throws {@link UnexpectedResponseError} for any shape Shopify does not document.
 */
export function parseTokenResponseBody(raw: string, body: unknown, status = 200): TokenResponse {
  const bad = (what: string) => new UnexpectedResponseError(status, `token response ${what}`);
  if (!isRecord(body)) throw bad('is not a JSON object');
  const accessToken = body.access_token;
  if (!isTokenString(accessToken)) {
    throw bad('has no usable access_token');
  }
  if (typeof body.scope !== 'string') throw bad('has no scope');
  const scopes = parseScopes(body.scope);

  if (body.associated_user !== undefined) {
    const associatedUser = parseUser(raw, body.associated_user);
    if (!associatedUser) throw bad('has an invalid associated_user');
    const expiresIn = positiveInt(body.expires_in);
    if (expiresIn === null) throw bad('for an online token has no expires_in');
    if (typeof body.associated_user_scope !== 'string') throw bad('for an online token has no associated_user_scope');
    return {
      kind: 'online',
      accessToken,
      scopes,
      expiresIn,
      associatedUserScopes: parseScopes(body.associated_user_scope),
      associatedUser,
    };
  }

  const hasRefresh = body.refresh_token !== undefined;
  if (!hasRefresh) {
    return {
      kind: 'offline',
      accessToken,
      scopes,
      expiresIn: body.expires_in === undefined ? null : positiveInt(body.expires_in),
      refreshToken: null,
      refreshTokenExpiresIn: null,
    };
  }
  const refreshToken = body.refresh_token;
  if (!isTokenString(refreshToken)) {
    throw bad('has an unusable refresh_token');
  }
  const expiresIn = positiveInt(body.expires_in);
  const refreshTokenExpiresIn = positiveInt(body.refresh_token_expires_in);
  // An expiring token without its lifetimes would never be refreshed (shopify-app-js#3400).
  if (expiresIn === null) throw bad('for an expiring token has no expires_in');
  if (refreshTokenExpiresIn === null) throw bad('for an expiring token has no refresh_token_expires_in');
  return { kind: 'offline', accessToken, scopes, expiresIn, refreshToken, refreshTokenExpiresIn };
}

/** Reads a token endpoint response: the token on 2xx, an {@link OAuthResponseError} otherwise. */
export async function processTokenResponse(response: Response): Promise<TokenResponse> {
  let raw: string;
  try {
    raw = await response.text();
  } catch (cause) {
    throw new TransportError('the token response body could not be read', cause);
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    if (isRecord(body) && typeof body.error === 'string') {
      const description = typeof body.error_description === 'string' ? body.error_description.slice(0, 300) : undefined;
      throw new OAuthResponseError(response.status, body.error.slice(0, 100), description);
    }
    throw new UnexpectedResponseError(response.status, `token endpoint answered HTTP ${response.status}`);
  }
  return parseTokenResponseBody(raw, body, response.status);
}

/** Sends the authorization-code grant and checks the answer. */
export async function exchangeAuthorizationCode(
  endpoint: TokenEndpoint,
  grant: { code: string; expiring?: boolean },
): Promise<TokenResponse> {
  return processTokenResponse(await authorizationCodeRequest(endpoint, grant));
}
