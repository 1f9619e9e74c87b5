/** Options are checked when the flow is built; every problem is reported at once. */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createShoptoken } from '../../src/auth/shoptoken.ts';
import type { ShoptokenOptions } from '../../src/auth/types.ts';
import { ConfigError } from '../../src/errors.ts';
import { openVault } from '../../src/open-vault.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';

const vault = openVault({ storage: createMemoryStorage(), keys: [{ id: 'k1', key: randomBytes(32) }] });
const valid: ShoptokenOptions = {
  apiKey: 'client-id',
  apiSecret: 'client-secret-value',
  scopes: 'write_products, read_orders',
  appUrl: 'https://app.example.com',
  vault,
};

function problems(overrides: Record<string, unknown>): readonly string[] {
  try {
    createShoptoken({ ...valid, ...overrides } as ShoptokenOptions);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.code, 'ERR_CONFIG');
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('createShoptoken options', () => {
  it('resolves defaults and exposes no secret', () => {
    const st = createShoptoken({ ...valid, appUrl: 'https://app.example.com/' });
    assert.deepEqual(st.options, {
      apiKey: 'client-id',
      scopes: ['write_products', 'read_orders'],
      appUrl: 'https://app.example.com',
      authPath: '/auth',
      callbackPath: '/auth/callback',
      logoutPath: '/auth/logout',
      redirectUri: 'https://app.example.com/auth/callback',
      redirectAfterAuth: '/',
      redirectAfterLogout: '/',
      expiringOfflineTokens: true,
      shopifyBaseUrl: 'https://{shop}',
      cookieSecure: true,
      exchangeTimeoutMs: 10_000,
    });
    assert.ok(Object.isFrozen(st.options));
    assert.doesNotMatch(JSON.stringify(st), /client-secret-value/);
  });

  it('reports every problem at once', () => {
    const found = problems({
      apiKey: ' ',
      apiSecret: [],
      scopes: 'read_products,bogus scope',
      appUrl: 'ftp://app.example.com/x?y',
      vault: {},
      authPath: 'auth',
      callbackPath: '//evil.com/cb',
      redirectAfterAuth: '/a/../b',
      shopifyBaseUrl: 'https://shopify.example',
      expiringOfflineTokens: 'yes',
      cookieSecure: 1,
      afterAuth: 'no',
      now: 5,
      exchangeTimeoutMs: 0,
      stateStore: { save() {} },
    });
    const expected = [
      /^apiKey/,
      /^apiSecret/,
      /^scopes contains invalid handles: bogus scope$/,
      /^appUrl must use https/,
      /^appUrl must be an origin only/,
      /^vault/,
      /^authPath/,
      /^callbackPath/,
      /^redirectAfterAuth/,
      /^shopifyBaseUrl must contain \{shop\}/,
      /^expiringOfflineTokens/,
      /^cookieSecure/,
      /^afterAuth/,
      /^now/,
      /^exchangeTimeoutMs/,
      /^stateStore/,
    ];
    for (const pattern of expected)
      assert.ok(
        found.some((p) => pattern.test(p)),
        `missing ${pattern}: ${found.join(' | ')}`,
      );
    assert.equal(found.length, expected.length);
  });

  it('allows http only for loopback hosts', () => {
    for (const appUrl of ['http://localhost:3000', 'http://127.0.0.1:8080', 'http://[::1]:3000']) {
      assert.equal(createShoptoken({ ...valid, appUrl }).options.appUrl, appUrl);
    }
    for (const appUrl of ['http://app.example.com', 'http://localhost.evil.com', 'http://10.0.0.1']) {
      assert.ok(
        problems({ appUrl }).some((p) => p.startsWith('appUrl must use https')),
        appUrl,
      );
    }
  });

  it('rejects an appUrl with credentials, a path, a query or a fragment', () => {
    assert.ok(problems({ appUrl: 'https://u:p@app.example.com' }).some((p) => /credentials/.test(p)));
    for (const appUrl of [
      'https://app.example.com/app',
      'https://app.example.com/?a=1',
      'https://app.example.com/#x',
    ]) {
      assert.ok(
        problems({ appUrl }).some((p) => /origin only/.test(p)),
        appUrl,
      );
    }
    assert.ok(problems({ appUrl: 'not a url' }).some((p) => /absolute URL/.test(p)));
  });

  it('requires paths that cannot leave the app origin or loop', () => {
    for (const redirectAfterAuth of ['//evil.com', '/\\evil.com', 'https://evil.com', '/a?b', '/a#b', '/ x']) {
      assert.ok(
        problems({ redirectAfterAuth }).some((p) => p.startsWith('redirectAfterAuth')),
        redirectAfterAuth,
      );
    }
    assert.ok(problems({ callbackPath: '/auth' }).some((p) => /must differ/.test(p)));
    assert.ok(problems({ redirectAfterAuth: '/auth/callback' }).some((p) => /loop/.test(p)));
    assert.ok(problems({ redirectAfterAuth: '/auth/logout' }).some((p) => /loop/.test(p)));
    assert.ok(problems({ logoutPath: '/auth/callback' }).some((p) => /must differ/.test(p)));
    assert.ok(problems({ redirectAfterLogout: '/auth/logout' }).some((p) => p.startsWith('redirectAfterLogout')));
    for (const logoutPath of ['logout', '//evil.com/logout', '/a/../logout']) {
      assert.ok(
        problems({ logoutPath }).some((p) => p.startsWith('logoutPath')),
        logoutPath,
      );
    }
    assert.ok(problems({ redirectAfterLogout: 'https://evil.com' }).some((p) => p.startsWith('redirectAfterLogout')));
  });

  it('puts the sign-out under the auth path unless logoutPath says otherwise', () => {
    assert.equal(createShoptoken({ ...valid, authPath: '/login' }).options.logoutPath, '/login/logout');
    assert.equal(createShoptoken({ ...valid, authPath: '/', redirectAfterAuth: '/app' }).options.logoutPath, '/logout');
    const st = createShoptoken({ ...valid, logoutPath: '/sign-out', redirectAfterLogout: '/bye' });
    assert.equal(st.options.logoutPath, '/sign-out');
    assert.equal(st.options.redirectAfterLogout, '/bye');
  });

  it('accepts a list of secrets (rotation) and array scopes, and rejects empty ones', () => {
    assert.ok(createShoptoken({ ...valid, apiSecret: ['new-secret', 'old-secret'], scopes: ['read_orders'] }));
    assert.ok(problems({ apiSecret: ['ok', ''] }).some((p) => p.startsWith('apiSecret')));
    assert.ok(problems({ scopes: '' }).some((p) => p.startsWith('scopes must list')));
    assert.ok(problems({ scopes: [] }).some((p) => p.startsWith('scopes must list')));
  });

  it('takes exchangeTimeoutMs as a whole number of milliseconds a timer can wait', () => {
    assert.equal(createShoptoken({ ...valid, exchangeTimeoutMs: 2500 }).options.exchangeTimeoutMs, 2500);
    assert.equal(
      createShoptoken({ ...valid, exchangeTimeoutMs: 2_147_483_647 }).options.exchangeTimeoutMs,
      2_147_483_647,
    );
    for (const exchangeTimeoutMs of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2_147_483_648, '1000']) {
      assert.ok(
        problems({ exchangeTimeoutMs }).some((p) => p.startsWith('exchangeTimeoutMs')),
        String(exchangeTimeoutMs),
      );
    }
  });

  it('requires a vault that can mark an install complete and sign a user out', () => {
    const { markInstalled: _, ...withoutMark } = vault;
    assert.ok(problems({ vault: withoutMark }).some((p) => p.startsWith('vault') && p.includes('markInstalled')));
    const methods = ['saveOffline', 'saveOnline', 'offline', 'online', 'markInstalled', 'list'] as const;
    const withoutDelete = Object.fromEntries(methods.map((m) => [m, vault[m].bind(vault)]));
    assert.ok(problems({ vault: withoutDelete }).some((p) => p.startsWith('vault') && p.includes('deleteOnline')));
  });

  it('accepts the emulator base URL', () => {
    const fresh = openVault({ storage: createMemoryStorage(), keys: [{ id: 'k1', key: randomBytes(32) }] });
    const st = createShoptoken({ ...valid, vault: fresh, shopifyBaseUrl: 'http://127.0.0.1:4010/{shop}' });
    assert.equal(st.options.shopifyBaseUrl, 'http://127.0.0.1:4010/{shop}');
  });
});
