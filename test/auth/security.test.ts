/**
 * Every check of the callback, each proved alone, through the emulator: the browser runs a real
 * install, and the callback it is about to follow is Shopify's own (a real code, signed by the
 * emulator). Each test changes ONE thing — re-signing the query when the change must not trip the
 * hmac check — and that one thing must give a 4xx that stores nothing and exchanges no code.
 * Removing any single check makes its test fail, because the rest of the callback would then
 * succeed (the baseline shows it does).
 */

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import type { StateRecord, StateStore } from '../../src/auth/state-store.ts';
import { signQuery } from '../../src/protocol/hmac.ts';
import {
  API_KEY,
  API_SECRET,
  APP_URL,
  createInstallFixture,
  EMULATOR_ORIGIN,
  type InstallFixture,
  isCallback,
} from '../helpers/install-fixture.ts';
import {
  assertGenuineCallbackSucceeds,
  assertNoCookieSet,
  assertRejected,
  authorizeUrlOf,
  resign,
  STATE_COOKIE,
  snapshot,
  toEmulator,
  withParam,
} from '../helpers/security.ts';

const SHOP = 'cool-shop.myshopify.com';
const OTHER_SHOP = 'other-shop.myshopify.com';
const INSTALL = { name: 'action', value: 'install' };

/** An install whose offline callback the browser is about to follow. */
async function pending(f: InstallFixture = createInstallFixture()) {
  const callback = await f.callbackOfInstall(SHOP);
  return { f, callback, before: await snapshot(f) };
}

/**
 * A callback rejected before its state is examined: 4xx, nothing stored, no cookie touched — so
 * the GENUINE callback, followed next in the same browser, still completes the install.
 */
async function rejectedBeforeState(f: InstallFixture, callback: URL, bad: string, status = 400): Promise<void> {
  const before = await snapshot(f);
  const page = await f.browser.navigate(bad);
  await assertRejected(f, page, status, before);
  assertNoCookieSet(page);
  await assertGenuineCallbackSucceeds(f, f.browser, callback);
}

describe('security: the callback, one failing check at a time', () => {
  it("baseline: Shopify's callback stores the offline token and chains to the per-user leg", async () => {
    const sent: { url: string; body: unknown }[] = [];
    const f: InstallFixture = createInstallFixture({
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        const request = new Request(input, init);
        sent.push({ url: request.url, body: await request.clone().json() });
        return f.emulator.fetch(request);
      }) as typeof fetch,
    });
    const callback = await f.callbackOfInstall(SHOP);
    const page = await f.browser.navigate(callback.href, { stopBefore: toEmulator });
    assert.equal(page.status, 302);
    const next = new URL(page.headers.get('location')!);
    assert.equal(next.searchParams.get('grant_options[]'), 'per-user');
    assert.deepEqual(
      (await f.vault.list()).map((t) => [t.shop, t.kind]),
      [[SHOP, 'offline']],
    );
    assert.deepEqual(sent, [
      {
        url: `${EMULATOR_ORIGIN}/${SHOP}/admin/oauth/access_token`,
        body: { client_id: API_KEY, client_secret: API_SECRET, code: callback.searchParams.get('code'), expiring: '1' },
      },
    ]);
  });

  for (const shop of ['evil.com', `${SHOP}/x`, `a@${SHOP}`, `${SHOP}:443`, `${SHOP}.evil.com`]) {
    it(`rejects callback shop=${JSON.stringify(shop)} (signed) with 400; the state survives`, async () => {
      const { f, callback } = await pending();
      await rejectedBeforeState(f, callback, resign(callback, { shop }));
    });
  }

  it('accepts an upper-case callback shop as the same shop', async () => {
    const { f, callback } = await pending();
    const page = await f.browser.navigate(resign(callback, { shop: 'COOL-SHOP.myshopify.com' }), {
      stopBefore: toEmulator,
    });
    assert.equal(page.status, 302);
    assert.equal((await f.vault.list())[0]?.shop, SHOP);
  });

  it('rejects a tampered hmac with 400; the state survives', async () => {
    const { f, callback } = await pending();
    const hmac = callback.searchParams.get('hmac')!;
    await rejectedBeforeState(
      f,
      callback,
      withParam(callback, 'hmac', `${hmac[0] === 'a' ? 'b' : 'a'}${hmac.slice(1)}`),
    );
  });

  it('rejects a callback without hmac with 400; the state survives', async () => {
    const { f, callback } = await pending();
    await rejectedBeforeState(f, callback, withParam(callback, 'hmac', undefined));
  });

  it('rejects a callback signed with another secret with 400; the state survives', async () => {
    const { f, callback } = await pending();
    await rejectedBeforeState(f, callback, resign(callback, {}, 'not-the-app-secret'));
  });

  it("rejects a parameter changed after Shopify signed it (the attacker's code) with 400", async () => {
    const { f, callback } = await pending();
    await rejectedBeforeState(f, callback, withParam(callback, 'code', 'the-code-of-the-attacker'));
  });

  for (const skew of [-91, 91]) {
    it(`rejects a timestamp ${skew} s from now with 400; the state survives`, async () => {
      const { f, callback } = await pending();
      const timestamp = String(Math.floor(f.clock.now() / 1000) + skew);
      await rejectedBeforeState(f, callback, resign(callback, { timestamp }));
    });
  }

  it('rejects the callback followed 91 s after Shopify sent it with 400', async () => {
    const { f, callback, before } = await pending();
    f.clock.advance(91_000);
    const page = await f.browser.navigate(callback.href);
    await assertRejected(f, page, 400, before);
    assertNoCookieSet(page);
  });

  it('accepts a timestamp 89 s old (inside the window)', async () => {
    const { f, callback } = await pending();
    const timestamp = String(Math.floor(f.clock.now() / 1000) - 89);
    const page = await f.browser.navigate(resign(callback, { timestamp }), { stopBefore: toEmulator });
    assert.equal(page.status, 302);
    assert.equal((await f.vault.list()).length, 1);
  });

  for (const [label, code] of [
    ['a missing code', undefined],
    ['a code with spaces', 'not a code'],
    ['a 513-character code', 'x'.repeat(513)],
  ] as const) {
    it(`rejects ${label} with 400; the state survives`, async () => {
      const { f, callback } = await pending();
      await rejectedBeforeState(f, callback, resign(callback, { code }));
    });
  }

  it('restarts the flow when the state cookie is missing: 302 to the auth path, nothing stored', async () => {
    const { f, callback, before } = await pending();
    f.browser.jar.delete(STATE_COOKIE);
    const page = await f.browser.navigate(callback.href, { stopBefore: (url) => !isCallback(url) });
    assert.equal(page.status, 302);
    assert.equal(page.headers.get('location'), `${APP_URL}/auth?shop=${SHOP}`);
    assert.deepEqual(await f.vault.list(), before.tokens);
    assert.equal(f.emulator.grants().length, 0);
  });

  it("rejects another browser's callback (state differs from the cookie) with 403", async () => {
    const { f, callback, before } = await pending();
    const victim = f.newBrowser();
    await authorizeUrlOf(victim, SHOP); // the victim has a pending state of its own
    await assertRejected(f, await victim.navigate(callback.href), 403, before);
  });

  it('rejects a repeated state parameter with 403', async () => {
    const { f, callback, before } = await pending();
    const query = new URLSearchParams(callback.search);
    query.append('state', query.get('state')!);
    query.set('hmac', signQuery(query, API_SECRET));
    await assertRejected(f, await f.browser.navigate(`${APP_URL}/auth/callback?${query}`), 403, before);
  });

  it('rejects a replayed callback (state already used), even with the captured state cookie, with 403', async () => {
    const { f, callback } = await pending();
    const captured = f.browser.jar.get(STATE_COOKIE)!.value;
    assert.equal((await f.browser.navigate(callback.href)).status, 200);
    const before = await snapshot(f);

    f.clock.advance(1000);
    const attacker = f.newBrowser();
    attacker.jar.store(new URL(APP_URL), `${STATE_COOKIE}=${captured}; Path=/; Secure; HttpOnly; SameSite=Lax`);
    await assertRejected(f, await attacker.navigate(callback.href), 403, before);
  });

  it("rejects shop A's state in a real callback for shop B (the authorize URL pointed at B) with 403", async () => {
    const f = createInstallFixture();
    const authorize = await authorizeUrlOf(f.browser, SHOP);
    authorize.pathname = authorize.pathname.replace(`/${SHOP}/`, `/${OTHER_SHOP}/`);
    const consent = await f.browser.navigate(authorize.href);
    const page = await f.browser.submit(
      consent,
      INSTALL,
      { user_id: f.userId(OTHER_SHOP, 'Olivia') },
      { stopBefore: isCallback },
    );
    const callback = new URL(page.headers.get('location')!);
    assert.equal(callback.searchParams.get('shop'), OTHER_SHOP, 'a callback Shopify signed for shop B');
    await assertRejected(f, await f.browser.navigate(callback.href), 403, await snapshot(f));
  });

  /** Replaces the browser's state cookie with `value`. */
  const plantStateCookie = (f: InstallFixture, value: string) =>
    f.browser.jar.store(new URL(APP_URL), `${STATE_COOKIE}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax`);

  it('rejects a state cookie with a bad signature with 403', async () => {
    const { f, callback, before } = await pending();
    const value = f.browser.jar.get(STATE_COOKIE)!.value;
    const dot = value.lastIndexOf('.');
    plantStateCookie(f, `${value.slice(0, dot + 1)}${value[dot + 1] === 'A' ? 'B' : 'A'}${value.slice(dot + 2)}`);
    await assertRejected(f, await f.browser.navigate(callback.href), 403, before);
  });

  it('rejects a state cookie without a signature with 403', async () => {
    const { f, callback, before } = await pending();
    plantStateCookie(f, callback.searchParams.get('state')!);
    await assertRejected(f, await f.browser.navigate(callback.href), 403, before);
  });

  it('rejects a state cookie signed with the raw client secret (keys are HKDF-derived) with 403', async () => {
    const { f, callback, before } = await pending();
    const state = callback.searchParams.get('state')!;
    plantStateCookie(f, `${state}.${createHmac('sha256', API_SECRET).update(state).digest('base64url')}`);
    await assertRejected(f, await f.browser.navigate(callback.href), 403, before);
  });

  /** The user waits 10 min 1 s on the consent page: the callback is fresh, the state is not. */
  async function lateCallback(f: InstallFixture): Promise<URL> {
    const authorize = await authorizeUrlOf(f.browser, SHOP);
    f.clock.advance(601_000);
    const consent = await f.browser.navigate(authorize.href);
    const page = await f.browser.submit(
      consent,
      INSTALL,
      { user_id: f.userId(SHOP, 'Olivia') },
      { stopBefore: isCallback },
    );
    return new URL(page.headers.get('location')!);
  }

  it('rejects a state whose 10 minutes are up with 403, even with a fresh callback and cookie', async () => {
    const f = createInstallFixture();
    const callback = await lateCallback(f);
    assert.ok(f.browser.jar.get(STATE_COOKIE), 'the browser still sends its cookie');
    await assertRejected(f, await f.browser.navigate(callback.href), 403, await snapshot(f));
  });

  it('rejects a state older than 10 minutes even when a shared store still returns it', async () => {
    const records = new Map<string, StateRecord>();
    const stateStore: StateStore = {
      async save(record) {
        records.set(record.state, record);
      },
      async take(state) {
        const record = records.get(state) ?? null;
        records.delete(state);
        return record;
      },
    };
    const f = createInstallFixture({ stateStore });
    const callback = await lateCallback(f);
    await assertRejected(f, await f.browser.navigate(callback.href), 403, await snapshot(f));
  });
});

describe('security: the state cookie is cleared once the state was examined', () => {
  it('clears it on a 403 for a state that does not match', async () => {
    const { f, callback } = await pending();
    const victim = f.newBrowser();
    await authorizeUrlOf(victim, SHOP);
    assert.ok(victim.jar.get(STATE_COOKIE));
    const page = await victim.navigate(callback.href);
    assert.equal(page.status, 403);
    assert.deepEqual(page.hops.at(-1)?.setCookies, [
      `${STATE_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0`,
    ]);
    assert.equal(victim.jar.get(STATE_COOKIE), undefined);
  });
});
