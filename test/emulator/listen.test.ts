/** The whole install over a real loopback socket: consent, cookie, code exchange, Admin API. */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEmulator } from '../../src/emulator/index.ts';
import { ConfigError } from '../../src/errors.ts';
import { verifyQueryHmac } from '../../src/protocol/hmac.ts';
import { exchangeAuthorizationCode } from '../../src/protocol/tokens.ts';
import { APP, authorizeParams, SHOP } from './helpers.ts';

describe('emulator over a socket', () => {
  const emulator = createEmulator({ apps: [APP] });
  let server: { origin: string; close(): Promise<void> };
  before(async () => {
    server = await emulator.listen({ port: 0 });
  });
  after(async () => {
    await server.close();
  });

  it('listens on 127.0.0.1 and gives the base-URL template', () => {
    assert.match(server.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(emulator.baseUrl(server.origin), `${server.origin}/{shop}`);
  });

  it('installs offline then per-user (invisible), and serves the Admin API', async () => {
    const base = emulator.baseUrl(server.origin).replace('{shop}', SHOP);
    const consent = await fetch(`${base}/admin/oauth/authorize?${authorizeParams()}`);
    assert.equal(consent.status, 200);
    const olivia = emulator.shop(SHOP)!.users.find((u) => u.accountOwner)!;

    const form = authorizeParams();
    form.set('user_id', olivia.id);
    form.set('action', 'install');
    const installed = await fetch(`${base}/admin/oauth/authorize`, {
      method: 'POST',
      body: form,
      headers: { origin: server.origin },
      redirect: 'manual',
    });
    assert.equal(installed.status, 302);
    const callback = new URL(installed.headers.get('location')!);
    assert.ok(verifyQueryHmac(callback.searchParams, [APP.clientSecret]));
    const cookie = installed.headers.get('set-cookie')!.split(';')[0]!;

    const endpoint = {
      baseUrl: emulator.baseUrl(server.origin),
      shop: SHOP,
      clientId: APP.clientId,
      clientSecret: APP.clientSecret,
    };
    const offline = await exchangeAuthorizationCode(endpoint, {
      code: callback.searchParams.get('code')!,
      expiring: true,
    });
    assert.equal(offline.kind, 'offline');

    const perUser = await fetch(`${base}/admin/oauth/authorize?${authorizeParams({ 'grant_options[]': 'per-user' })}`, {
      headers: { cookie },
      redirect: 'manual',
    });
    assert.equal(perUser.status, 302);
    const code = new URL(perUser.headers.get('location')!).searchParams.get('code')!;
    const online = await exchangeAuthorizationCode(endpoint, { code });
    assert.equal(online.kind, 'online');
    assert.equal(online.kind === 'online' ? online.associatedUser.id : '', olivia.id);

    const admin = await fetch(`${base}/admin/api/2026-10/graphql.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': online.accessToken },
      body: JSON.stringify({ query: '{ shop { myshopifyDomain } }' }),
    });
    assert.deepEqual(((await admin.json()) as { data: unknown }).data, { shop: { myshopifyDomain: SHOP } });

    const view = await fetch(`${server.origin}/_emulator/shops/${SHOP}`);
    assert.deepEqual(await view.json(), emulator.shop(SHOP));
    const grants = await (await fetch(`${server.origin}/_emulator/grants`)).json();
    assert.equal((grants as unknown[]).length, 2);
  });
});

describe('createEmulator options', () => {
  it('reports every problem at once', () => {
    assert.throws(
      () =>
        createEmulator({
          apps: [
            { clientId: '', clientSecret: '', redirectUrls: ['not a url'] },
            { clientId: 'b', clientSecret: 's', redirectUrls: [] },
          ],
          shops: [
            {
              domain: 'Bad.myshopify.com',
              users: [{ firstName: 'A', lastName: 'B', email: 'a@b', permissions: ['x'] }],
            },
          ],
          codeTtlSeconds: 0,
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          'apps[0].clientId must be a non-empty string',
          'apps[0].clientSecret must be a non-empty string',
          'apps[0].redirectUrls[0] must be an absolute http(s) URL',
          'apps[1].redirectUrls must be a non-empty array of http(s) URLs',
          'shops[0].domain must be a lower-case {name}.myshopify.com domain',
          "shops[0].users[0].permissions must be an array of scope handles or ['*']",
          'codeTtlSeconds must be a positive integer',
        ]);
        return true;
      },
    );
  });

  it('seeds shops with their own staff', () => {
    const emulator = createEmulator({
      apps: [APP],
      shops: [
        {
          domain: 'seeded.myshopify.com',
          name: 'Seeded',
          users: [{ id: '42', firstName: 'Ann', lastName: 'Lee', email: 'ann@seeded.example', permissions: ['*'] }],
        },
      ],
    });
    assert.deepEqual(emulator.shop('seeded.myshopify.com'), {
      id: 68_000_000_001,
      domain: 'seeded.myshopify.com',
      name: 'Seeded',
      email: 'ann@seeded.example',
      users: [
        {
          id: '42',
          firstName: 'Ann',
          lastName: 'Lee',
          email: 'ann@seeded.example',
          accountOwner: false,
          permissions: ['*'],
          locale: 'en',
          collaborator: false,
        },
      ],
      installations: {},
    });
    assert.equal(emulator.shop('not a shop'), undefined);
    const fresh = emulator.shop('fresh-one.myshopify.com')!;
    assert.equal(fresh.name, 'Fresh One');
    assert.deepEqual(
      fresh.users.map((u) => `${u.firstName} ${u.lastName}`),
      ['Olivia Owner', 'Sam Staff', 'Rita Reader'],
    );
    assert.equal(new Set(fresh.users.map((u) => u.id)).size, 3);
    assert.deepEqual(emulator.shop('fresh-one.myshopify.com'), fresh, 'ids are stable');
  });
});
