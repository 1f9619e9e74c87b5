/**
 * A fake Shopify token endpoint for the refresh grant, as an injected `fetch`. It follows the
 * rotation rules of shopify-protocol §3.2 (28 Aug 2026): each refresh rotates the pair; the refresh
 * token just used stays retryable, answering the same pair, until its replacement is used; anything
 * else is `invalid_grant`. Faults are queued per request.
 */

export const CLIENT_ID = 'fake-client-id';
export const CLIENT_SECRET = 'fake-client-secret-value';

export interface Pair {
  accessToken: string;
  refreshToken: string;
}

/** What the next request meets: an answer status, a reset, or the grant applied and the answer lost. */
export type Fault = { status: number } | { reset: true } | { commitThenDrop: true };

export interface LoggedRequest {
  shop: string;
  grantType: unknown;
  refreshToken: unknown;
  answer: number | 'dropped';
}

interface ShopState {
  active: Pair | null;
  /** The refresh token used last, and the pair it was answered with. */
  lastUsed: { refreshToken: string; answer: Pair } | null;
}

export class FakeShopify {
  readonly requests: LoggedRequest[] = [];
  readonly faults: Fault[] = [];
  /** Answer a retry of the last-used token with a NEW pair (the reading the protocol notes leave open). */
  retryAnswersNewPair = false;
  /** Runs before the grant is handled (to let "another process" act meanwhile). */
  beforeHandle: (() => Promise<void>) | null = null;
  readonly #shops = new Map<string, ShopState>();
  #serial = 0;

  /** Issues a first expiring pair for `shop` (as an install would), retiring any earlier one. */
  issue(shop: string): Pair {
    const pair = this.#newPair();
    this.#shops.set(shop, { active: pair, lastUsed: null });
    return pair;
  }

  /** Revokes every refresh token of `shop` (as an uninstall would). */
  revoke(shop: string): void {
    this.#shops.set(shop, { active: null, lastUsed: null });
  }

  /** The refresh token Shopify currently considers the replacement (unused). */
  activeRefreshToken(shop: string): string | null {
    return this.#shops.get(shop)?.active?.refreshToken ?? null;
  }

  /** Requests that carried the refresh grant. */
  refreshRequests(): LoggedRequest[] {
    return this.requests.filter((request) => request.grantType === 'refresh_token');
  }

  readonly fetch = (async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const shop = url.hostname;
    const body = JSON.parse(String(init?.body)) as Record<string, unknown>;
    const logged: LoggedRequest = {
      shop,
      grantType: body.grant_type,
      refreshToken: body.refresh_token,
      answer: 0,
    };
    this.requests.push(logged);
    // Always answer asynchronously, as a network would.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.beforeHandle) await this.beforeHandle();
    const fault = this.faults.shift();
    if (fault && 'reset' in fault) {
      logged.answer = 'dropped';
      throw new TypeError('fetch failed');
    }
    if (fault && 'status' in fault) {
      logged.answer = fault.status;
      return new Response(`{"errors":"Service unavailable"}`, { status: fault.status });
    }
    const response = this.#handle(shop, body);
    if (fault && 'commitThenDrop' in fault) {
      logged.answer = 'dropped';
      throw new TypeError('fetch failed');
    }
    logged.answer = response.status;
    return response;
  }) as typeof fetch;

  #handle(shop: string, body: Record<string, unknown>): Response {
    if (body.grant_type !== 'refresh_token') return oauthError('unsupported_grant_type');
    if (body.client_id !== CLIENT_ID || body.client_secret !== CLIENT_SECRET) return oauthError('invalid_client');
    const state = this.#shops.get(shop);
    const token = body.refresh_token;
    if (!state || typeof token !== 'string') return oauthError('invalid_grant');
    if (state.active && token === state.active.refreshToken) {
      // The replacement is used: the token before it is retired, this one becomes retryable.
      const pair = this.#newPair();
      state.lastUsed = { refreshToken: token, answer: pair };
      state.active = pair;
      return answer(pair);
    }
    if (state.lastUsed && token === state.lastUsed.refreshToken) {
      if (this.retryAnswersNewPair) {
        const pair = this.#newPair();
        state.lastUsed.answer = pair;
        state.active = pair;
      }
      return answer(state.lastUsed.answer);
    }
    return oauthError('invalid_grant');
  }

  #newPair(): Pair {
    this.#serial++;
    const n = String(this.#serial).padStart(4, '0');
    return { accessToken: `shpat_fake_access_token_${n}`, refreshToken: `shprt_fake_refresh_token_${n}` };
  }
}

function answer(pair: Pair): Response {
  return Response.json({
    access_token: pair.accessToken,
    expires_in: 3600,
    refresh_token: pair.refreshToken,
    refresh_token_expires_in: 7_776_000,
    scope: 'write_products,read_orders',
  });
}

function oauthError(error: string): Response {
  return Response.json({ error, error_description: `fake: ${error}` }, { status: 400 });
}
