/**
 * The checks every framework adapter must pass over a real socket: the full install, the session
 * on a protected route, the redirect/401 of requireShoptokenSession, and both cookies of the last
 * callback surviving the adapter.
 */

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { Page } from './browser.ts';
import type { SocketFixture } from './socket-fixture.ts';

const SHOP = 'adapter-shop.myshopify.com';

/** The app under test serves `/app` (protected: the session as JSON) and `/` (`{ signedIn }` from the lazy session). */
export async function checkAdapterFlow(f: SocketFixture): Promise<void> {
  const browser = f.newBrowser();

  const before = await browser.navigate(`${f.appUrl}/`);
  assert.equal(before.status, 200);
  assert.deepEqual(JSON.parse(before.body), { signedIn: false });

  const anonymous = await f.newBrowser().navigate(`${f.appUrl}/app`);
  assert.equal(anonymous.status, 401);

  const consent = await browser.navigate(`${f.appUrl}/auth?shop=${SHOP}`);
  assert.equal(consent.status, 200);
  assert.equal(new URL(consent.url).origin, f.emulatorOrigin);
  const page = await browser.submit(
    consent,
    { name: 'action', value: 'install' },
    { user_id: f.userId(SHOP, 'Olivia') },
  );

  assert.equal(page.status, 200, page.body);
  assert.equal(new URL(page.url).pathname, '/app');
  const olivia = f.userId(SHOP, 'Olivia');
  assert.deepEqual(JSON.parse(page.body), { shop: SHOP, userId: olivia, offline: true });
  assert.equal(f.afterAuth.length, 1);
  assert.deepEqual(
    f.emulator.grants().map((g) => [g.accessMode, g.status]),
    [
      ['offline', 200],
      ['online', 200],
    ],
  );
  assert.equal((await f.vault.list()).length, 2);

  // The last callback sets two cookies (state cleared, session set): both made it through the adapter.
  const last = page.hops.find((h) => new URL(h.url).pathname === '/auth/callback' && h.setCookies.length === 2);
  assert.ok(last, 'the final callback carried both Set-Cookie headers');
  assert.deepEqual(
    last.setCookies.map((c) => c.split('=')[0]),
    ['__Host-shoptoken_state', '__Host-shoptoken_session'],
  );

  const after = await browser.navigate(`${f.appUrl}/`);
  assert.deepEqual(JSON.parse(after.body), { signedIn: true });

  const redirect = await f.newBrowser().navigate(`${f.appUrl}/app?shop=${SHOP}`);
  assert.equal(redirect.hops[0]?.status, 302);
  assert.equal(redirect.hops[0]?.location, `${f.appUrl}/auth?shop=${SHOP}`);

  // Sign-out from a form on the app's page: 303 to `/`, the cookie cleared, the online token deleted.
  const appPage: Page = {
    url: `${f.appUrl}/app`,
    status: 200,
    headers: new Headers(),
    body: '<form method="post" action="/auth/logout"><button name="signout" value="1">Sign out</button></form>',
    hops: [],
  };
  const signedOut = await browser.submit(appPage, { name: 'signout', value: '1' });
  assert.equal(signedOut.hops[0]?.status, 303);
  assert.deepEqual(JSON.parse(signedOut.body), { signedIn: false });
  assert.equal(await f.vault.online(SHOP, olivia), null);
}

/** The status and `Allow` of a request with `method` to the app, over a real socket. */
function statusOf(appUrl: string, method: string, path: string): Promise<{ status: number; allow?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${appUrl}${path}`, { method }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, allow: res.headers.allow }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * TRACE (which no web Request can carry; Node's parser itself refuses TRACK, and CONNECT goes to the
 * server's 'connect' event): 405 with `Allow` on shoptoken's paths, no server error elsewhere, no
 * unhandled rejection, and the server goes on answering.
 */
export async function checkUnsupportedMethod(f: SocketFixture): Promise<void> {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => void rejections.push(reason);
  process.on('unhandledRejection', onRejection);
  try {
    for (const method of ['TRACE']) {
      for (const [path, allow] of [
        ['/auth?shop=adapter-shop.myshopify.com', 'GET, HEAD'],
        ['/auth/callback?code=x', 'GET, HEAD'],
        ['/auth/logout', 'POST'],
      ] as const) {
        assert.deepEqual(await statusOf(f.appUrl, method, path), { status: 405, allow }, `${method} ${path}`);
      }
      for (const path of ['/', '/app']) {
        const { status } = await statusOf(f.appUrl, method, path);
        assert.ok(status >= 200 && status < 500, `${method} ${path} answered ${status}`);
      }
    }
    assert.equal((await statusOf(f.appUrl, 'GET', '/')).status, 200, 'the server is alive');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(rejections, [], 'no unhandled rejection');
  } finally {
    process.off('unhandledRejection', onRejection);
  }
}
