/**
 * The checks every framework adapter must pass over a real socket: the full install, the session
 * on a protected route, the redirect/401 of requireShoptokenSession, and both cookies of the last
 * callback surviving the adapter.
 */

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
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
}

/** The status of a request with `method` to the app, over a real socket. */
function statusOf(appUrl: string, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${appUrl}${path}`, { method }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A TRACE (which no web Request can carry) passes shoptoken's middleware without a server error. */
export async function checkUnsupportedMethod(f: SocketFixture): Promise<void> {
  for (const path of ['/', '/auth?shop=adapter-shop.myshopify.com', '/app']) {
    const status = await statusOf(f.appUrl, 'TRACE', path);
    assert.ok(status >= 200 && status < 500, `TRACE ${path} answered ${status}`);
  }
}
