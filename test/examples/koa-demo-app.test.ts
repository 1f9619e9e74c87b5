/**
 * The demo app's routes without a browser, through a real loopback server: Shopify's calls reach
 * the webhook inbox (mounted first, so the app's same-origin rule for forms never refuses them, and
 * their signatures are checked), the app's forms are refused from other origins, and a browser
 * without a session is sent to the landing page, which offers a reinstall after an uninstall.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { createDemoService, type DemoService } from '../../examples/koa-demo/demo.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createEmulator } from '../../src/emulator/index.ts';
import { openVault } from '../../src/open-vault.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';

const shop = 'demo-shop.myshopify.com';

describe('the demo app’s routes', () => {
  let server: Server;
  let appUrl: string;
  let demo: DemoService;

  before(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const emulator = createEmulator({
      apps: [{ clientId: 'key', clientSecret: 'secret', redirectUrls: [`${appUrl}/auth/callback`] }],
    });
    const vault = openVault({
      storage: createMemoryStorage(),
      keys: [{ id: 'k1', key: randomBytes(32) }],
      now: emulator.clock.now,
    });
    demo = createDemoService({
      config: loadConfig({ env: {}, cwd: tmpdir(), appConfig: false }),
      vault,
      apiKey: 'key',
      apiSecret: 'secret',
      appUrl,
      shopifyBaseUrl: 'http://127.0.0.1:9/{shop}',
      emulatorOrigin: 'http://127.0.0.1:9',
      demoShops: [shop],
      shopify: emulator,
    });
    server.on('request', demo.app.callback());
  });

  after(async () => {
    await demo.stop();
    await new Promise((resolve) => server.close(resolve));
  });

  const post = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${appUrl}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: 'action=uninstall',
    });

  it('a webhook without a valid HMAC reaches the inbox (401), not the same-origin rule', async () => {
    const response = await fetch(`${appUrl}/webhooks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': 'orders/create',
        'x-shopify-shop-domain': shop,
      },
      body: '{}',
    });
    assert.equal(response.status, 401);
  });

  it('an unsigned fulfillment callback is refused by the inbox', async () => {
    const stock = await fetch(`${appUrl}/fulfillment/fetch_stock.json?max_retries=3&shop=${shop}&timestamp=1`);
    assert.equal(stock.status, 401);
    const notification = await fetch(`${appUrl}/fulfillment/fulfillment_order_notification`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-shop-domain': shop },
      body: '{"kind":"FULFILLMENT_REQUEST"}',
    });
    assert.equal(notification.status, 401);
  });

  it('refuses the app’s forms from another origin or without one (the controls uninstall apps)', async () => {
    for (const headers of [{ origin: 'http://evil.example' }, {}] as Record<string, string>[]) {
      for (const path of ['/app/shopify', '/signup', '/app/call']) {
        assert.equal((await post(path, headers)).status, 403, `${path} ${JSON.stringify(headers)}`);
      }
    }
  });

  it('without a session: /app goes to the landing page, the other app paths answer 401', async () => {
    const app = await fetch(`${appUrl}/app?after=3`, { redirect: 'manual' });
    assert.equal(app.status, 302);
    assert.equal(app.headers.get('location'), '/');
    assert.equal((await fetch(`${appUrl}/signup`, { redirect: 'manual' })).status, 401);
    assert.equal((await post('/app/shopify', { origin: appUrl })).status, 401);
  });

  it('the landing page offers a reinstall after an uninstall, only for a shop domain', async () => {
    const page = await (await fetch(`${appUrl}/?uninstalled=${shop}`)).text();
    assert.match(page, /id="reinstall" href="\/auth\?shop=demo-shop\.myshopify\.com"/);
    const forged = await (await fetch(`${appUrl}/?uninstalled=${encodeURIComponent('<b>x</b>')}`)).text();
    assert.doesNotMatch(forged, /id="uninstalled"/);
  });
});
