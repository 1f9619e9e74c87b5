/**
 * One configuration: Shopify CLI's environment, then shopify.app.toml, then shoptoken's own
 * settings; explicit options win; missing and contradictory settings fail at startup with every
 * problem listed.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { createShoptoken } from '../../src/auth/shoptoken.ts';
import { loadConfig } from '../../src/config/load.ts';
import { openVault } from '../../src/open-vault.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { configProblems } from '../helpers/config-problems.ts';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/app-config');
const EMPTY = mkdtempSync(join(tmpdir(), 'shoptoken-config-empty-'));
after(() => rmSync(EMPTY, { recursive: true, force: true }));

/** What `shopify app dev` passes to the web process (shopify-protocol §10.2). */
const CLI_ENV = {
  SHOPIFY_API_KEY: 'cli-client-id',
  SHOPIFY_API_SECRET: 'shpss_cli_secret_value_0123456789',
  HOST: 'https://trout-ample-quiet.trycloudflare.com',
  APP_URL: 'https://trout-ample-quiet.trycloudflare.com',
  SCOPES: 'write_products,read_orders',
  NODE_ENV: 'development',
  PORT: '52611',
};

const vault = () => openVault({ storage: createMemoryStorage(), keys: [{ id: 'k1', key: Buffer.alloc(32, 7) }] });

describe('loadConfig: a Shopify-CLI-style environment', () => {
  it('configures the app fully, with nothing else', () => {
    const config = loadConfig({ env: CLI_ENV, cwd: EMPTY });
    assert.equal(config.apiKey, 'cli-client-id');
    assert.deepEqual(config.apiSecret, ['shpss_cli_secret_value_0123456789']);
    assert.deepEqual(config.scopes, ['write_products', 'read_orders']);
    assert.equal(config.appUrl, 'https://trout-ample-quiet.trycloudflare.com');
    assert.equal(config.shopifyBaseUrl, 'https://{shop}');
    assert.equal(config.appConfigFile, null);
    assert.equal(config.production, false);
    assert.deepEqual(config.sources, {
      apiKey: 'SHOPIFY_API_KEY',
      apiSecret: 'SHOPIFY_API_SECRET',
      scopes: 'SCOPES',
      appUrl: 'APP_URL',
      shopifyBaseUrl: 'default',
      authPath: 'default',
      callbackPath: 'default',
    });
    const shoptoken = createShoptoken({ config, vault: vault() });
    assert.equal(shoptoken.options.apiKey, 'cli-client-id');
    assert.equal(shoptoken.options.redirectUri, 'https://trout-ample-quiet.trycloudflare.com/auth/callback');
    assert.deepEqual(shoptoken.options.scopes, ['write_products', 'read_orders']);
  });

  it('reads the app URL from SHOPIFY_APP_URL, else APP_URL, else HOST', () => {
    const base = { SHOPIFY_API_KEY: 'k' };
    const url = (env: Record<string, string>) => loadConfig({ env: { ...base, ...env }, cwd: EMPTY }).appUrl;
    assert.equal(
      url({ SHOPIFY_APP_URL: 'https://a.example', APP_URL: 'https://b.example', HOST: 'https://c.example' }),
      'https://a.example',
    );
    assert.equal(url({ APP_URL: 'https://b.example/', HOST: 'https://c.example' }), 'https://b.example');
    assert.equal(url({ HOST: 'https://c.example' }), 'https://c.example');
    assert.equal(url({ HOST: '0.0.0.0' }), undefined, 'a bind address in HOST is not an app URL');
  });

  it('the emulator setting reaches the flow: SHOPTOKEN_SHOPIFY_BASE_URL', () => {
    const config = loadConfig({
      env: { ...CLI_ENV, SHOPTOKEN_SHOPIFY_BASE_URL: 'http://127.0.0.1:4010/{shop}' },
      cwd: EMPTY,
    });
    assert.equal(createShoptoken({ config, vault: vault() }).options.shopifyBaseUrl, 'http://127.0.0.1:4010/{shop}');
  });

  it('keeps secrets out of logs and JSON', () => {
    const config = loadConfig({
      env: { ...CLI_ENV, SHOPTOKEN_PREVIOUS_API_SECRET: 'shpss_previous_secret_987', SHOPTOKEN_KEYS: 'k1:c2VjcmV0' },
      cwd: EMPTY,
    });
    assert.deepEqual(config.apiSecret, ['shpss_cli_secret_value_0123456789', 'shpss_previous_secret_987']);
    for (const text of [JSON.stringify(config), inspect(config, { depth: 5 }), JSON.stringify({ ...config })]) {
      assert.ok(!text.includes('shpss_'), text);
      assert.ok(!text.includes('c2VjcmV0'), text);
    }
  });

  it('explicit options win over the configuration', () => {
    const config = loadConfig({ env: CLI_ENV, cwd: EMPTY });
    const shoptoken = createShoptoken({
      config,
      vault: vault(),
      appUrl: 'https://explicit.example',
      scopes: 'read_orders',
    });
    assert.equal(shoptoken.options.appUrl, 'https://explicit.example');
    assert.deepEqual(shoptoken.options.scopes, ['read_orders']);
    assert.equal(shoptoken.options.apiKey, 'cli-client-id');
  });

  it('reports every missing setting at once, naming what to set', () => {
    const config = loadConfig({ env: {}, cwd: EMPTY });
    assert.deepEqual(
      configProblems(() => createShoptoken({ config, vault: vault() })),
      [
        'apiKey is not set: set SHOPIFY_API_KEY (or client_id in shopify.app.toml)',
        'apiSecret is not set: set SHOPIFY_API_SECRET',
        'scopes is not set: set SCOPES, e.g. SCOPES=write_products,read_orders (or [access_scopes] scopes in shopify.app.toml)',
        'appUrl is not set: set SHOPIFY_APP_URL, e.g. https://app.example.com (or application_url in shopify.app.toml)',
      ],
    );
  });

  it('refuses settings that are present but wrong, all at once, never quoting a secret', () => {
    const problems = configProblems(() =>
      loadConfig({
        env: {
          SHOPIFY_APP_URL: 'ftp://nope',
          SHOPTOKEN_SHOPIFY_BASE_URL: 'http://127.0.0.1:4010',
          SHOPTOKEN_PREVIOUS_API_SECRET: 'shpss_lonely_previous',
        },
        cwd: EMPTY,
      }),
    );
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems[0]!, /SHOPIFY_APP_URL must be an http\(s\) URL/);
    assert.match(problems.join('\n'), /SHOPTOKEN_SHOPIFY_BASE_URL must contain \{shop\}/);
    assert.match(problems.join('\n'), /SHOPTOKEN_PREVIOUS_API_SECRET is set without SHOPIFY_API_SECRET/);
    assert.ok(!problems.join('\n').includes('shpss_lonely_previous'));
  });
});

describe('loadConfig: shopify.app.toml', () => {
  it('configures the app fully from the fixture file and the secret', () => {
    const config = loadConfig({ env: { SHOPIFY_API_SECRET: 'shpss_fixture_secret' }, cwd: FIXTURE });
    assert.equal(config.appConfigFile, join(FIXTURE, 'shopify.app.toml'));
    assert.equal(config.apiKey, 'fixture-client-id-production');
    assert.deepEqual(config.scopes, ['write_products', 'read_orders', 'write_fulfillments']);
    assert.equal(config.appUrl, 'https://fixture-app.example.com');
    assert.equal(config.embedded, false);
    assert.equal(config.apiVersion, '2026-10');
    assert.equal(config.appName, 'Fixture Fulfillment');
    assert.equal(config.redirectUrls?.length, 3);
    assert.deepEqual(config.webhookSubscriptions, [
      { topics: ['app/uninstalled'], complianceTopics: [], uri: '/webhooks/app/uninstalled', name: undefined },
      {
        topics: [],
        complianceTopics: ['customers/data_request', 'customers/redact', 'shop/redact'],
        uri: '/webhooks/compliance',
        name: undefined,
      },
    ]);
    assert.equal(config.sources.apiKey, 'shopify.app.toml client_id');
    const shoptoken = createShoptoken({ config, vault: vault() });
    assert.equal(shoptoken.options.redirectUri, 'https://fixture-app.example.com/auth/callback');
  });

  it('the environment wins over the file (Shopify CLI passes the dev tunnel URL)', () => {
    const env = {
      SHOPIFY_API_KEY: 'fixture-client-id-production',
      SHOPIFY_API_SECRET: 's',
      HOST: 'https://dev-tunnel.example',
      SCOPES: 'read_orders',
    };
    const config = loadConfig({ env, cwd: FIXTURE });
    assert.equal(config.appUrl, 'https://dev-tunnel.example');
    assert.deepEqual(config.scopes, ['read_orders']);
    // The callback path is among redirect_urls' paths: the tunnel's own URL is registered by the CLI in dev.
    assert.equal(
      createShoptoken({ config, vault: vault() }).options.redirectUri,
      'https://dev-tunnel.example/auth/callback',
    );
  });

  it('picks shopify.app.<name>.toml by SHOPTOKEN_APP_CONFIG, by the appConfig option, or by the client id', () => {
    const secret = { SHOPIFY_API_SECRET: 's' };
    const byEnv = loadConfig({ env: { ...secret, SHOPTOKEN_APP_CONFIG: 'staging' }, cwd: FIXTURE });
    assert.equal(byEnv.apiKey, 'fixture-client-id-staging');
    const byOption = loadConfig({ env: secret, cwd: FIXTURE, appConfig: 'shopify.app.staging.toml' });
    assert.equal(byOption.appConfigFile, join(FIXTURE, 'shopify.app.staging.toml'));
    const byKey = loadConfig({ env: { ...secret, SHOPIFY_API_KEY: 'fixture-client-id-staging' }, cwd: FIXTURE });
    assert.equal(byKey.appConfigFile, join(FIXTURE, 'shopify.app.staging.toml'));
    assert.equal(byKey.apiVersion, '2026-07');
    assert.equal(loadConfig({ env: secret, cwd: FIXTURE, appConfig: false }).apiKey, undefined);
  });

  it('a callback path that is not among [auth] redirect_urls fails at startup, naming both', () => {
    const config = loadConfig({ env: { SHOPIFY_API_SECRET: 's', SHOPTOKEN_APP_CONFIG: 'staging' }, cwd: FIXTURE });
    const [problem, ...rest] = configProblems(() => createShoptoken({ config, vault: vault() }));
    assert.deepEqual(rest, []);
    assert.match(problem!, /https:\/\/staging\.fixture-app\.example\.com\/auth\/callback/);
    assert.match(problem!, /https:\/\/staging\.fixture-app\.example\.com\/api\/auth\/callback/);
    assert.match(problem!, /shopify\.app\.staging\.toml/);
    const fixed = loadConfig({
      env: { SHOPIFY_API_SECRET: 's', SHOPTOKEN_APP_CONFIG: 'staging', SHOPTOKEN_CALLBACK_PATH: '/api/auth/callback' },
      cwd: FIXTURE,
    });
    assert.equal(
      createShoptoken({ config: fixed, vault: vault() }).options.redirectUri,
      'https://staging.fixture-app.example.com/api/auth/callback',
    );
  });

  it('a client id that contradicts the chosen file fails, naming both', () => {
    const problems = configProblems(() =>
      loadConfig({ env: { SHOPIFY_API_KEY: 'another-app', SHOPTOKEN_APP_CONFIG: 'staging' }, cwd: FIXTURE }),
    );
    assert.deepEqual(problems, [
      'SHOPIFY_API_KEY (another-app) is not the client_id of shopify.app.staging.toml (fixture-client-id-staging): they name different apps',
    ]);
    assert.match(
      configProblems(() => loadConfig({ env: { SHOPIFY_API_KEY: 'another-app' }, cwd: FIXTURE }))[0]!,
      /is the client_id of none of shopify\.app\.toml, shopify\.app\.staging\.toml/,
    );
  });

  it('reports a missing chosen file, bad TOML and wrongly typed fields', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoptoken-config-bad-'));
    try {
      assert.match(
        configProblems(() => loadConfig({ env: {}, cwd: dir, appConfig: 'nope' }))[0]!,
        /shopify\.app\.nope\.toml: no such file/,
      );
      writeFileSync(join(dir, 'shopify.app.toml'), 'client_id = "x"\nname = \n');
      assert.match(
        configProblems(() => loadConfig({ env: {}, cwd: dir }))[0]!,
        /shopify\.app\.toml: not valid TOML \(line 2/,
      );
      writeFileSync(
        join(dir, 'shopify.app.toml'),
        'client_id = 42\nembedded = "yes"\n[access_scopes]\nscopes = ["a"]\n[auth]\nredirect_urls = ["not a url"]\n',
      );
      assert.deepEqual(
        configProblems(() => loadConfig({ env: {}, cwd: dir })),
        [
          'shopify.app.toml: client_id must be a non-empty string',
          'shopify.app.toml: embedded must be true or false',
          'shopify.app.toml: [access_scopes] scopes must be a string',
          'shopify.app.toml: [auth] redirect_urls holds a value that is not an http(s) URL',
        ],
      );
      writeFileSync(
        join(dir, 'shopify.app.toml'),
        '[webhooks]\napi_version = "2026-10"\n[[webhooks.subscriptions]]\ntopics = "orders/create"\nuri = "/w"\n' +
          '[[webhooks.subscriptions]]\ntopics = ["orders/paid"]\n',
      );
      assert.deepEqual(
        configProblems(() => loadConfig({ env: {}, cwd: dir })).filter((p) => p.includes('webhooks')),
        [
          'shopify.app.toml: [[webhooks.subscriptions]] #1 topics must be a list of strings',
          'shopify.app.toml: [[webhooks.subscriptions]] #1 needs topics or compliance_topics',
          'shopify.app.toml: [[webhooks.subscriptions]] #2 needs a uri',
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
