/**
 * `invalid_client`: Shopify refusing the APP's credentials marks no shop. Through the emulator, 50
 * shops and a vault deployed with a mistyped secret: one event, fail-fast without requests, tokens
 * still valid served, the keeper paused; a redeploy with the right secret finds every shop intact.
 * And recovery inside one process: Shopify refuses (an `invalid_client` fault) until it accepts
 * again; one probe per minute goes through, the first success restores the state and the keeper.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import { AppCredentialsError, ConfigError } from '../../src/errors.ts';
import { openVault, type Vault } from '../../src/open-vault.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import type { TokenStorage } from '../../src/storage/types.ts';
import type { Key } from '../../src/vault/keyring.ts';
import {
  ADMIN_QUERY_OK,
  APP,
  adminStatus,
  frozenClock,
  inProcessFetch,
  installInto,
  ORIGIN,
} from '../helpers/emulator-install.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const SHOPS = Array.from({ length: 50 }, (_, i) => `shop-${String(i).padStart(2, '0')}.myshopify.com`);

/** A vault over `storage` on the emulator, deployed with `clientSecret`; every event it emits, in order. */
function deploy(emulator: Emulator, storage: TokenStorage, keys: Key[], now: () => number, clientSecret: string) {
  const vault = openVault({
    storage,
    keys,
    now,
    shopify: { clientId: APP.clientId, clientSecret, baseUrl: `${ORIGIN}/{shop}`, fetch: inProcessFetch(emulator) },
    refresh: { sleep: async () => {} },
  });
  const events: { name: string; [key: string]: unknown }[] = [];
  for (const name of ['needs_reauth', 'app_credentials_rejected', 'app_credentials_restored'] as const) {
    vault.on(name, (event) => {
      events.push({ name, ...event });
    });
  }
  const keeper = vault.keeper({ jitter: false, setTimer: (run) => setImmediate(run), clearTimer: () => {} });
  return { vault, events, keeper };
}

/** 50 shops installed (expiring tokens) into one storage, and the emulator's refresh requests. */
async function fiftyShops() {
  const clock = frozenClock();
  const emulator = createEmulator({ apps: [APP], now: clock.now });
  const storage = createMemoryStorage();
  const keys = [{ id: 'k1', key: randomBytes(32) }];
  const seeder = deploy(emulator, storage, keys, clock.now, APP.clientSecret);
  for (const shop of SHOPS) await installInto(emulator, seeder.vault, shop, { expiring: true });
  const refreshes = () => emulator.requests().filter((request) => request.grantType === 'refresh_token');
  const statuses = async () => new Set((await storage.list({ limit: 10_000 })).map((row) => row.status));
  return { clock, emulator, storage, keys, refreshes, statuses };
}

const refreshAll = (vault: Vault) =>
  Promise.allSettled(SHOPS.map((shop) => vault.token(shop))).then((results) =>
    results.map((result) => (result.status === 'fulfilled' ? 'ok' : (result.reason as { code: string }).code)),
  );

describe('a deploy with a mistyped client secret (the emulator answers invalid_client)', () => {
  it('50 expired shops refreshed at once: none marked, one event, then no request reaches Shopify', async () => {
    const t = await fiftyShops();
    const bad = deploy(t.emulator, t.storage, t.keys, t.clock.now, 'shpss_mistyped_secret_value_000');
    t.clock.advance(2 * HOUR);
    assert.deepEqual(new Set(await refreshAll(bad.vault)), new Set(['ERR_APP_CREDENTIALS']));
    const sent = t.refreshes();
    assert.ok(sent.length >= 1 && sent.length <= SHOPS.length, 'at most the requests already in flight');
    assert.equal(new Set(sent.map((request) => request.shop)).size, sent.length, 'one request per shop at most');
    assert.ok(sent.every((request) => request.status === 400));
    assert.deepEqual(bad.events, [
      { name: 'app_credentials_rejected', grant: 'refresh_token', reason: 'invalid_client (HTTP 400)' },
    ]);
    assert.deepEqual(await t.statuses(), new Set(['active']));
    assert.ok(
      (await t.storage.list({ limit: 10_000 })).every((row) => row.refreshFailures === 0),
      'no row is touched',
    );
    assert.equal(bad.vault.appCredentials().status, 'rejected');

    // Fail fast: neither the request path nor the keeper sends anything within the probe interval.
    const error = await bad.vault.token(SHOPS[7]!).catch((e: unknown) => e);
    assert.ok(error instanceof AppCredentialsError);
    assert.match(error.message, /client id\/secret.*SHOPIFY_API_KEY and SHOPIFY_API_SECRET/);
    assert.ok(!error.message.includes('shpss_'), 'no secret in the message');
    assert.deepEqual(new Set(await refreshAll(bad.vault)), new Set(['ERR_APP_CREDENTIALS']));
  });

  it('through the keeper: paused after the first refusals; tokens still valid served; a redeploy finds all 50 intact', async () => {
    const t = await fiftyShops();
    const bad = deploy(t.emulator, t.storage, t.keys, t.clock.now, 'shpss_mistyped_secret_value_000');
    t.clock.advance(HOUR - 8 * MINUTE); // every access token expires within the keeper's 10 minutes
    const first = await bad.keeper.runOnce();
    assert.equal(first.paused, 'app_credentials_rejected');
    assert.equal(first.refreshed, 0);
    assert.equal(first.needsReauth, 0);
    const sent = t.refreshes().length;
    assert.ok(sent >= 1 && sent <= 4, `only the refreshes already in flight (concurrency 4): ${sent}`);
    assert.equal(first.failed, sent);
    // A paused tick reads nothing and sends nothing.
    const second = await bad.keeper.runOnce();
    assert.deepEqual([second.scanned, second.refreshed, second.failed, second.paused], [0, 0, 0, first.paused]);
    assert.equal(t.refreshes().length, sent);
    // An access token does not need the app's secret: one still valid is served.
    const valid = await bad.vault.token(SHOPS[30]!);
    assert.equal(await adminStatus(t.emulator, SHOPS[30]!, valid.accessToken), ADMIN_QUERY_OK);
    // After the probe interval the keeper sends one probe, refused: still paused.
    t.clock.advance(MINUTE);
    const probe = await bad.keeper.runOnce();
    assert.equal(probe.paused, 'app_credentials_rejected');
    assert.equal(t.refreshes().length, sent + 1);
    assert.equal(bad.events.filter((event) => event.name === 'app_credentials_rejected').length, 1);
    assert.equal(bad.events.length, 1, 'no needs_reauth, no second rejected event');
    assert.deepEqual(await t.statuses(), new Set(['active']));

    // The secret is fixed and the app redeployed: every shop refreshes, none had been lost.
    t.clock.advance(2 * HOUR);
    const fixed = deploy(t.emulator, t.storage, t.keys, t.clock.now, APP.clientSecret);
    assert.deepEqual(new Set(await refreshAll(fixed.vault)), new Set(['ok']));
    for (const shop of [SHOPS[0]!, SHOPS[49]!]) {
      assert.equal(await adminStatus(t.emulator, shop, (await fixed.vault.token(shop)).accessToken), ADMIN_QUERY_OK);
    }
    assert.deepEqual(fixed.events, []);
    assert.equal(fixed.vault.appCredentials().status, 'ok');
  });
});

describe('recovery in one process (Shopify refuses, then accepts the credentials again)', () => {
  it('one probe per minute; the first success restores the state once and the keeper resumes', async () => {
    const t = await fiftyShops();
    const app = deploy(t.emulator, t.storage, t.keys, t.clock.now, APP.clientSecret);
    t.emulator.faults.add({
      endpoint: 'token',
      grantType: 'refresh_token',
      status: 401,
      error: 'invalid_client',
      errorDescription: 'Client authentication failed',
      times: 1000,
    });
    t.clock.advance(HOUR - 8 * MINUTE);
    const first = await app.keeper.runOnce();
    assert.equal(first.paused, 'app_credentials_rejected');
    const sent = t.refreshes().length;
    assert.deepEqual(app.vault.appCredentials(), {
      status: 'rejected',
      since: new Date(t.clock.now()),
      reason: 'invalid_client (HTTP 401)',
      grant: 'refresh_token',
      nextProbeAt: new Date(t.clock.now() + MINUTE),
    });
    // Within the minute: nothing is sent, whoever asks.
    t.clock.advance(MINUTE - 1);
    await assert.rejects(app.vault.token(SHOPS[3]!, { marginMs: HOUR }), { code: 'ERR_APP_CREDENTIALS' });
    assert.equal((await app.keeper.runOnce()).scanned, 0);
    assert.equal(t.refreshes().length, sent);
    // The minute over: exactly one probe, refused; then nothing again.
    t.clock.advance(1);
    const [a, b] = await Promise.allSettled([
      app.vault.token(SHOPS[3]!, { marginMs: HOUR }),
      app.vault.token(SHOPS[4]!, { marginMs: HOUR }),
    ]);
    assert.deepEqual([a.status, b.status], ['rejected', 'rejected']);
    assert.equal(t.refreshes().length, sent + 1, 'one probe for two callers');

    // Shopify accepts the credentials again. The next probe succeeds: restored, and the tick goes on.
    t.emulator.faults.clear();
    t.clock.advance(MINUTE);
    const resumed = await app.keeper.runOnce();
    assert.equal(resumed.paused, null);
    assert.equal(resumed.refreshed, SHOPS.length);
    assert.equal(resumed.failed, 0);
    assert.deepEqual(
      app.events.map((event) => event.name),
      ['app_credentials_rejected', 'app_credentials_restored'],
    );
    assert.deepEqual(app.events[1], {
      name: 'app_credentials_restored',
      grant: 'refresh_token',
      rejectedForMs: 2 * MINUTE,
    });
    assert.equal(app.vault.appCredentials().status, 'ok');
    assert.deepEqual(await t.statuses(), new Set(['active']));
    const token = await app.vault.token(SHOPS[12]!);
    assert.equal(await adminStatus(t.emulator, SHOPS[12]!, token.accessToken), ADMIN_QUERY_OK);
  });

  it('refresh.credentialsProbeMs is checked when the vault is opened', () => {
    assert.throws(
      () =>
        openVault({
          storage: createMemoryStorage(),
          keys: [{ id: 'k1', key: randomBytes(32) }],
          refresh: { credentialsProbeMs: 0, timeoutMs: -1 },
        }),
      (error: ConfigError) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          'refresh.timeoutMs must be a number of milliseconds > 0',
          'refresh.credentialsProbeMs must be a number of milliseconds > 0',
        ]);
        return true;
      },
    );
  });
});
