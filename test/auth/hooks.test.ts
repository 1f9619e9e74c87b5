/**
 * afterAuth / afterLogin through the emulator: when they run, what they see, and what happens when
 * the flow is cut short or a hook fails. afterAuth runs exactly once per install: on the first
 * sign-in after which it succeeded, whichever leg led there.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TokenVault } from '../../src/vault/types.ts';
import { APP_URL, createInstallFixture, isCallback } from '../helpers/install-fixture.ts';
import { toEmulator } from '../helpers/security.ts';

const SHOP = 'cool-shop.myshopify.com';

describe('hooks', () => {
  it('completes without hooks', async () => {
    const f = createInstallFixture({ afterAuth: undefined, afterLogin: undefined });
    const page = await f.install(SHOP);
    assert.equal(page.status, 200);
    assert.notEqual((await f.vault.offline(SHOP))?.installedAt, null, 'the install is marked complete');
  });

  it('marks the install complete once afterAuth resolved', async () => {
    const f = createInstallFixture({
      afterAuth: async () => {
        assert.equal((await f.vault.offline(SHOP))?.installedAt, null, 'not marked while afterAuth runs');
      },
    });
    await f.install(SHOP);
    assert.equal((await f.vault.offline(SHOP))?.installedAt?.getTime(), f.clock.now());
  });

  it('awaits an async afterAuth before answering', async () => {
    const order: string[] = [];
    const f = createInstallFixture({
      afterAuth: async ({ missingUserScopes }) => {
        await new Promise((resolve) => setImmediate(resolve));
        order.push(`afterAuth:${missingUserScopes.length}`);
      },
    });
    await f.install(SHOP);
    order.push('answered');
    assert.deepEqual(order, ['afterAuth:0', 'answered']);
  });

  it('completes an install cut short after the offline leg on the next sign-in: afterAuth, not afterLogin', async () => {
    const f = createInstallFixture();
    // The offline leg completes; the tab is closed before the browser follows the per-user authorize.
    const callback = await f.callbackOfInstall(SHOP);
    const stopped = await f.browser.navigate(callback.href, { stopBefore: toEmulator });
    assert.equal(stopped.status, 302);
    assert.equal((await f.vault.offline(SHOP))?.installedAt, null);
    assert.equal(f.afterAuth.length + f.afterLogin.length, 0);

    // Later: /auth runs the per-user leg only, and that sign-in completes the install.
    const page = await f.browser.navigate(`${APP_URL}/auth?shop=${SHOP}`);
    assert.equal(page.status, 200);
    assert.deepEqual(
      f.emulator.grants().map((g) => g.accessMode),
      ['offline', 'online'],
      'no second offline leg',
    );
    assert.equal(f.afterAuth.length, 1);
    assert.equal(f.afterLogin.length, 0);
    assert.equal(f.afterAuth[0]?.online.userId, f.userId(SHOP, 'Olivia'));
    assert.ok(f.afterAuth[0]?.offline.accessToken);

    // A second user is a sign-in to an installed shop.
    const sam = f.newBrowser();
    const signIn = await sam.navigate(`${APP_URL}/auth?shop=${SHOP}`);
    await sam.submit(signIn, { name: 'action', value: 'login' }, { user_id: f.userId(SHOP, 'Sam') });
    assert.equal(f.afterAuth.length, 1);
    assert.equal(f.afterLogin.length, 1);
  });

  it('retries a failing afterAuth on the next sign-in until it succeeds, then never again', async () => {
    const failure = new Error('webhook registration failed');
    let attempts = 0;
    const f = createInstallFixture({
      afterAuth: (ctx) => {
        attempts++;
        if (attempts === 1) throw failure;
        f.afterAuth.push(ctx);
      },
    });
    // The error propagates out of handle(); the tokens stay stored, the install is not marked.
    await assert.rejects(f.install(SHOP), (error) => error === failure);
    assert.deepEqual(
      (await f.vault.list()).map((t) => t.kind),
      ['offline', 'online'],
    );
    assert.equal((await f.vault.offline(SHOP))?.installedAt, null);

    const retry = await f.browser.navigate(`${APP_URL}/auth?shop=${SHOP}`);
    assert.equal(retry.status, 200);
    assert.equal(attempts, 2, 'the next sign-in calls afterAuth again');
    assert.equal(f.afterLogin.length, 0);
    assert.notEqual((await f.vault.offline(SHOP))?.installedAt, null);

    await f.browser.navigate(`${APP_URL}/auth?shop=${SHOP}`);
    assert.equal(attempts, 2, 'never again once it succeeded');
    assert.equal(f.afterLogin.length, 1);
  });

  it('restarts the flow when the offline token vanished between the legs (e.g. an uninstall)', async () => {
    let offlineGone = false;
    let afterAuthCalls = 0;
    const f = createInstallFixture();
    const vault: TokenVault = {
      saveOffline: (input) => f.vault.saveOffline(input),
      saveOnline: async (input) => {
        offlineGone = true; // the uninstall lands while the per-user leg completes
        return f.vault.saveOnline(input);
      },
      offline: async (shop) => (offlineGone ? null : f.vault.offline(shop)),
      online: (shop, userId) => f.vault.online(shop, userId),
      deleteOnline: (shop, userId) => f.vault.deleteOnline(shop, userId),
      markInstalled: (shop) => f.vault.markInstalled(shop),
      list: () => f.vault.list(),
      close: () => f.vault.close(),
    };
    const st = f.create({
      vault,
      afterAuth: () => {
        afterAuthCalls++;
      },
    });
    const browser = f.newBrowser(undefined, st);
    const page = await f
      .callbackOfInstall(SHOP, 'Olivia', browser)
      .then((callback) =>
        browser.navigate(callback.href, { stopBefore: (url) => !isCallback(url) && !toEmulator(url) }),
      );
    assert.equal(page.status, 302);
    assert.equal(page.headers.get('location'), `${APP_URL}/auth?shop=${SHOP}`);
    assert.equal(afterAuthCalls, 0, 'afterAuth is not called without an offline token');
    assert.ok(await f.vault.online(SHOP, f.userId(SHOP, 'Olivia')));
  });
});
