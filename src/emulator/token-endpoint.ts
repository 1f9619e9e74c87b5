/**
 * `POST /{shop}/admin/oauth/access_token`: the authorization-code grant, answering the three
 * documented shapes (non-expiring offline, expiring offline, online). Accepts JSON (what Shopify's
 * libraries send) and form bodies (what the docs show); `expiring` as '0'/'1' or 0/1.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { compactScopes, expandScopes } from '../protocol/scopes.ts';
import { json, mediaType, readBody } from './http.ts';
import { userHasScope } from './shops.ts';
import type { AccessMode, EmulatorState } from './state.ts';

type Body = Record<string, unknown>;

const INVALID_CLIENT = { error: 'invalid_client', error_description: 'Client authentication failed' };
// UNCONFIRMED (reference §1.5): Shopify's exact `error` value for a bad code. The description is the
// observed one; `invalid_request` is our reading, and clients should key on the HTTP 400 only.
const INVALID_CODE = {
  error: 'invalid_request',
  error_description: 'The authorization code was not found or was already used',
};

type Parsed = { ok: true; body: Body } | { ok: false; status: number; description: string };

async function parseBody(request: Request): Promise<Parsed> {
  const type = mediaType(request);
  if (type !== 'application/json' && type !== 'application/x-www-form-urlencoded') {
    const description = 'Content-Type must be application/json or application/x-www-form-urlencoded';
    return { ok: false, status: 400, description };
  }
  const raw = await readBody(request);
  if (raw === null) return { ok: false, status: 413, description: 'The request body is too large' };
  if (type === 'application/x-www-form-urlencoded')
    return { ok: true, body: Object.fromEntries(new URLSearchParams(raw)) };
  try {
    const body: unknown = JSON.parse(raw);
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) return { ok: true, body: body as Body };
  } catch {
    // Falls through to the error below.
  }
  return { ok: false, status: 400, description: 'The request body is not a JSON object' };
}

/** `expiring`: '0'/'1' (JS library, form bodies) or 0/1 (Ruby library); absent means 0. */
function parseExpiring(value: unknown): boolean | null {
  if (value === undefined || value === '0' || value === 0) return false;
  if (value === '1' || value === 1) return true;
  return null;
}

/** Constant-time string comparison (digests first, so lengths do not leak either). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Handles one token request for `domain` (a canonical shop domain). */
export async function tokenEndpoint(state: EmulatorState, request: Request, domain: string): Promise<Response> {
  const grant = {
    shop: domain,
    clientId: '',
    grantType: 'authorization_code',
    accessMode: null as AccessMode | null,
    expiring: false,
    userId: null as string | null,
  };
  const answer = (status: number, body: unknown) => {
    state.recordGrant({ ...grant, status });
    return json(body, status, { 'cache-control': 'no-store' });
  };

  const parsed = await parseBody(request);
  if (!parsed.ok) return answer(parsed.status, { error: 'invalid_request', error_description: parsed.description });
  const body = parsed.body;
  grant.clientId = (text(body.client_id) ?? '').slice(0, 200);
  const grantType = text(body.grant_type);
  if (grantType !== undefined && grantType !== 'authorization_code' && body.code === undefined) {
    grant.grantType = grantType.slice(0, 200);
    // The refresh_token, client_credentials and token-exchange grants are not emulated yet.
    return answer(400, { error: 'unsupported_grant_type' });
  }

  // The code is consumed on first presentation, even when a later check fails.
  const code = text(body.code);
  const record = code === undefined ? undefined : state.takeCode(code);
  const expiring = parseExpiring(body.expiring);
  if (record) {
    grant.accessMode = record.accessMode;
    grant.expiring = record.accessMode === 'offline' && expiring === true;
    if (record.accessMode === 'online') grant.userId = record.userId;
  }

  const app = state.apps.get(grant.clientId);
  const secret = text(body.client_secret);
  if (!app || secret === undefined || !sameSecret(secret, app.clientSecret)) return answer(400, INVALID_CLIENT);
  if (!record || record.shop !== domain || record.clientId !== app.clientId || record.expiresAt <= state.now()) {
    return answer(400, INVALID_CODE);
  }
  const shop = state.shop(domain);
  const granted = shop.installations.get(app.clientId);
  const user = shop.users.find((candidate) => candidate.id === record.userId);
  if (!granted || !user) return answer(400, INVALID_CODE);
  const scope = granted.join(',');

  if (record.accessMode === 'online') {
    const userScopes = compactScopes([...expandScopes(record.scopes)].filter((s) => userHasScope(user, s)));
    const accessToken = state.issueOnline(domain, app.clientId, granted, userScopes, user.id);
    return answer(200, {
      access_token: accessToken,
      scope,
      expires_in: 86399,
      associated_user_scope: userScopes.join(','),
      associated_user: {
        id: Number(user.id),
        first_name: user.firstName,
        last_name: user.lastName,
        email: user.email,
        email_verified: true,
        account_owner: user.accountOwner,
        locale: user.locale,
        collaborator: user.collaborator,
      },
    });
  }

  if (expiring === null) {
    return answer(400, { error: 'invalid_request', error_description: 'expiring must be 0 or 1' });
  }
  const issued = state.issueOffline(domain, app.clientId, granted, expiring);
  if (issued.refreshToken === null) return answer(200, { access_token: issued.accessToken, scope });
  return answer(200, {
    access_token: issued.accessToken,
    scope,
    expires_in: 3600,
    refresh_token: issued.refreshToken,
    refresh_token_expires_in: 7_776_000,
  });
}
