/**
 * `POST /{shop}/admin/oauth/access_token`: the authorization-code grant (the three documented
 * shapes: non-expiring offline, expiring offline, online), the refresh grant, client credentials
 * and the migration token exchange. Every request is recorded in the grant log.
 */

import { compactScopes, expandScopes } from '../protocol/scopes.ts';
import { clientCredentialsGrant } from './client-credentials-grant.ts';
import { json } from './http.ts';
import { migrationGrant, TOKEN_EXCHANGE } from './migration-grant.ts';
import { refreshGrant } from './refresh-grant.ts';
import { userHasScope } from './shops.ts';
import type { AccessMode, EmulatorState } from './state.ts';
import {
  type GrantAnswer,
  INVALID_CLIENT,
  parseExpiring,
  parseTokenBody,
  sameSecret,
  type TokenBody,
  text,
} from './token-body.ts';

// UNCONFIRMED (reference §1.5): Shopify's exact `error` value for a bad code. The description is the
// observed one; `invalid_request` is our reading, and clients should key on the HTTP 400 only.
const INVALID_CODE = {
  error: 'invalid_request',
  error_description: 'The authorization code was not found or was already used',
};

type OtherGrant = (state: EmulatorState, domain: string, clientId: string, body: TokenBody) => GrantAnswer;

/** The grants other than authorization_code, with what the grant log says of them. */
const OTHER_GRANTS: Record<string, { handle: OtherGrant; expiring: boolean }> = {
  refresh_token: { handle: refreshGrant, expiring: true },
  client_credentials: {
    handle: (state, domain, clientId) => clientCredentialsGrant(state, domain, clientId),
    expiring: false,
  },
  [TOKEN_EXCHANGE]: { handle: migrationGrant, expiring: true },
};

interface GrantLog {
  shop: string;
  clientId: string;
  grantType: string;
  accessMode: AccessMode | null;
  expiring: boolean;
  userId: string | null;
}

/** Handles one token request for `domain` (a canonical shop domain). */
export async function tokenEndpoint(state: EmulatorState, request: Request, domain: string): Promise<Response> {
  const grant: GrantLog = {
    shop: domain,
    clientId: '',
    grantType: 'authorization_code',
    accessMode: null,
    expiring: false,
    userId: null,
  };
  const answer = ({ status, body }: GrantAnswer) => {
    state.recordGrant({ ...grant, status });
    return json(body, status, { 'cache-control': 'no-store' });
  };

  const parsed = await parseTokenBody(request);
  if (!parsed.ok) {
    return answer({ status: parsed.status, body: { error: 'invalid_request', error_description: parsed.description } });
  }
  const body = parsed.body;
  grant.clientId = (text(body.client_id) ?? '').slice(0, 200);
  const grantType = text(body.grant_type);
  if (grantType === undefined || grantType === 'authorization_code' || body.code !== undefined) {
    return answer(codeGrant(state, domain, body, grant));
  }
  grant.grantType = grantType.slice(0, 200);
  const other = Object.hasOwn(OTHER_GRANTS, grantType) ? OTHER_GRANTS[grantType] : undefined;
  if (!other) return answer({ status: 400, body: { error: 'unsupported_grant_type' } });
  grant.accessMode = 'offline';
  grant.expiring = other.expiring;
  const app = state.apps.get(grant.clientId);
  const secret = text(body.client_secret);
  if (!app || secret === undefined || !sameSecret(secret, app.clientSecret)) {
    return answer({ status: 400, body: INVALID_CLIENT });
  }
  return answer(other.handle(state, domain, app.clientId, body));
}

/** The authorization-code grant; fills in what the grant log records of it. */
function codeGrant(state: EmulatorState, domain: string, body: TokenBody, grant: GrantLog): GrantAnswer {
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
  if (!app || secret === undefined || !sameSecret(secret, app.clientSecret))
    return { status: 400, body: INVALID_CLIENT };
  if (!record || record.shop !== domain || record.clientId !== app.clientId || record.expiresAt <= state.now()) {
    return { status: 400, body: INVALID_CODE };
  }
  const shop = state.shop(domain);
  const granted = shop.installations.get(app.clientId);
  const user = shop.users.find((candidate) => candidate.id === record.userId);
  if (!granted || !user) return { status: 400, body: INVALID_CODE };
  const scope = granted.join(',');

  if (record.accessMode === 'online') {
    const userScopes = compactScopes([...expandScopes(record.scopes)].filter((s) => userHasScope(user, s)));
    const accessToken = state.issueOnline(domain, app.clientId, granted, userScopes, user.id);
    return {
      status: 200,
      body: {
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
      },
    };
  }

  if (expiring === null) {
    return { status: 400, body: { error: 'invalid_request', error_description: 'expiring must be 0 or 1' } };
  }
  const issued = state.issueOffline(domain, app.clientId, granted, expiring);
  if (issued.refreshToken === null) return { status: 200, body: { access_token: issued.accessToken, scope } };
  return {
    status: 200,
    body: {
      access_token: issued.accessToken,
      scope,
      expires_in: 3600,
      refresh_token: issued.refreshToken,
      refresh_token_expires_in: 7_776_000,
    },
  };
}
