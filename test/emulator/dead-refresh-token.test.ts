/**
 * Every way a refresh token dies gets Shopify's observed answer (reference §3.2), status and body
 * exactly: `401 {"error":"invalid_request","error_description":"This request requires an active
 * refresh_token"}`. One case per test; each also lands in the grant log and the request log as 401.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  APP,
  authorizeParams,
  DAY,
  DEAD,
  install,
  installExpiring,
  type Pair,
  refresh,
  SHOP,
  setup,
  type TestEmulator,
  tokenRequest,
} from './helpers.ts';

const OTHER_APP = { ...APP, clientId: 'other-app', clientSecret: 'shpss_other_secret' };

/** Each case returns the refresh token to present, after killing it. */
const cases: [string, (t: TestEmulator) => Promise<string>][] = [
  [
    'rotated, its replacement used',
    async ({ emulator }) => {
      const first = await installExpiring(emulator);
      const second = (await refresh(emulator, first.refresh_token)).body as unknown as Pair;
      assert.equal((await refresh(emulator, second.refresh_token)).status, 200);
      return first.refresh_token;
    },
  ],
  [
    'rotated, 30 days past its first use',
    async ({ emulator, advance }) => {
      const first = await installExpiring(emulator);
      assert.equal((await refresh(emulator, first.refresh_token)).status, 200);
      advance(30 * DAY);
      return first.refresh_token;
    },
  ],
  [
    'revoked by uninstall',
    async ({ emulator }) => {
      const pair = await installExpiring(emulator);
      emulator.uninstall(SHOP, APP.clientId);
      return pair.refresh_token;
    },
  ],
  [
    'revoked by revokeRefreshTokens',
    async ({ emulator }) => {
      const pair = await installExpiring(emulator);
      emulator.revokeRefreshTokens(SHOP, APP.clientId);
      return pair.refresh_token;
    },
  ],
  [
    'retired by a newer grant',
    async ({ emulator }) => {
      const pair = await installExpiring(emulator);
      await installExpiring(emulator);
      return pair.refresh_token;
    },
  ],
  [
    'lapsed after 90 days',
    async ({ emulator, advance }) => {
      const pair = await installExpiring(emulator);
      advance(90 * DAY);
      return pair.refresh_token;
    },
  ],
  ['unknown', async () => 'shprt_00000000000000000000000000000000'],
  [
    'another shop’s',
    async ({ emulator }) => (await installExpiring(emulator, 'other-shop.myshopify.com')).refresh_token,
  ],
  [
    'another app’s (on the same shop), sent with this app’s credentials',
    async ({ emulator }) => (await otherAppPair(emulator)).refresh_token,
  ],
];

/** An expiring pair of OTHER_APP on SHOP, through its own consent and code exchange. */
async function otherAppPair(emulator: TestEmulator['emulator']): Promise<Pair> {
  const { code } = await install(emulator, { params: authorizeParams({ client_id: OTHER_APP.clientId }) });
  const response = await tokenRequest(emulator, {
    client_id: OTHER_APP.clientId,
    client_secret: OTHER_APP.clientSecret,
    code,
    expiring: '1',
  });
  assert.equal(response.status, 200);
  return (await response.json()) as Pair;
}

describe('refresh with a dead refresh token: 401 invalid_request, every case', () => {
  for (const [name, kill] of cases) {
    it(name, async () => {
      const t = setup({ apps: [APP, OTHER_APP] });
      const refreshToken = await kill(t);
      const answer = await refresh(t.emulator, refreshToken);
      assert.equal(answer.status, 401);
      assert.deepEqual(answer.body, DEAD);
      assert.equal(t.emulator.grants().at(-1)?.status, 401);
      assert.equal(t.emulator.requests().at(-1)?.status, 401);
    });
  }
});
