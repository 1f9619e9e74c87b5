// Checks the built package (dist/, through its `exports` map and bin) on whatever Node runs it.
// Plain JavaScript on purpose: .ci/run also runs it on the oldest Node that `engines` allows.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { createShoptoken, createWebhooks, openDefaultVault } = await import('shoptoken');
const { verifySignedQuery, verifyWebhook, signWebhookBody } = await import('shoptoken/protocol');
const { shoptokenKoa, webhooksKoa } = await import('shoptoken/koa');
const { shoptokenExpress } = await import('shoptoken/express');
const { toWebRequest } = await import('shoptoken/node');
const { createEmulator } = await import('shoptoken/emulator');
const { runStorageConformance } = await import('shoptoken/testing');
const { createSessionStorage } = await import('shoptoken/session-storage');
for (const fn of [
  createShoptoken,
  openDefaultVault,
  verifySignedQuery,
  shoptokenKoa,
  shoptokenExpress,
  toWebRequest,
  runStorageConformance,
  createSessionStorage,
  createWebhooks,
  webhooksKoa,
]) {
  assert.equal(typeof fn, 'function');
}
{
  const body = new TextEncoder().encode('{"shop_domain":"pkg-shop.myshopify.com"}');
  const headers = new Headers({
    'x-shopify-hmac-sha256': signWebhookBody(body, 'pkg-secret'),
    'x-shopify-topic': 'app/uninstalled',
    'x-shopify-shop-domain': 'pkg-shop.myshopify.com',
    'x-shopify-webhook-id': 'pkg-webhook-1',
  });
  assert.equal(verifyWebhook({ method: 'POST', headers, body }, { secrets: ['pkg-secret'] }).ok, true);
}

const dir = mkdtempSync(join(tmpdir(), 'shoptoken-package-'));
try {
  const database = join(dir, 'tokens.db');
  const env = { SHOPTOKEN_KEYS: `k1:${randomBytes(32).toString('base64')}` };
  const { vault } = await openDefaultVault({ env, cwd: dir, database });
  const shop = 'package-check.myshopify.com';
  const secretValue = `shpat_${randomBytes(16).toString('hex')}`;
  await vault.saveOffline({
    shop,
    accessToken: secretValue,
    scopes: ['read_products'],
    expiresAt: null,
    refreshToken: null,
    refreshTokenExpiresAt: null,
  });
  assert.equal((await vault.offline(shop)).accessToken, secretValue);
  const loaded = await createSessionStorage(vault).loadSession(`offline_${shop}`);
  assert.equal(loaded.accessToken, secretValue);
  assert.equal(typeof loaded.isActive, 'function');

  // A delivery stored in the SQLite inbox, acknowledged, then handled with the shop's token.
  const seen = [];
  const webhooks = createWebhooks({
    apiSecret: 'pkg-secret',
    vault,
    handlers: { 'orders/create': (ctx) => void seen.push([ctx.shop, ctx.adminError]) },
  });
  const delivery = '{"id":1}';
  const received = await webhooks.handle(
    new Request('https://app.example.com/webhooks', {
      method: 'POST',
      body: delivery,
      headers: {
        'x-shopify-hmac-sha256': signWebhookBody(delivery, 'pkg-secret'),
        'x-shopify-topic': 'orders/create',
        'x-shopify-shop-domain': shop,
        'x-shopify-webhook-id': 'pkg-delivery-1',
      },
    }),
  );
  assert.equal(received.status, 200);
  assert.deepEqual(await webhooks.drain(), { done: 1, retried: 0, dead: 0 });
  assert.deepEqual(seen, [[shop, null]]);

  const emulator = createEmulator({
    apps: [{ clientId: 'pkg', clientSecret: 'pkg-secret', redirectUrls: ['https://app.example.com/auth/callback'] }],
  });
  const shoptoken = createShoptoken({
    apiKey: 'pkg',
    apiSecret: 'pkg-secret',
    scopes: 'write_products',
    appUrl: 'https://app.example.com',
    vault,
    shopifyBaseUrl: emulator.baseUrl('http://emulator.test'),
  });
  const begin = await shoptoken.handle(new Request('https://app.example.com/auth?shop=other-shop.myshopify.com'));
  assert.equal(begin.status, 302);
  const consent = await emulator.fetch(
    new Request(begin.headers.get('location').replace('http://emulator.test', 'http://e.test')),
  );
  assert.equal(consent.status, 200);
  await vault.close();

  const bin = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'dist', 'cli', 'main.js');
  const listed = JSON.parse(
    execFileSync(process.execPath, [bin, 'tokens', 'list', '--json', '--database', database], { encoding: 'utf8' }),
  );
  assert.equal(listed.length, 1);
  assert.equal(listed[0].shop, shop);
  assert.ok(!JSON.stringify(listed).includes(secretValue));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`package check passed on Node ${process.version}`);
