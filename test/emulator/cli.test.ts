/** `shoptoken emulator` as a real process: prints the base URL (never the secret), stops on SIGTERM. */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';

const root = new URL('../../', import.meta.url).pathname;
const SECRET = 'shpss_cli_test_secret_must_not_be_printed';

function memoryIO(env: NodeJS.ProcessEnv) {
  let out = '';
  let err = '';
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  return { io: { stdout, stderr, stdin: new PassThrough(), env, cwd: root }, out: () => out, err: () => err };
}

describe('shoptoken emulator', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoptoken-emulator-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves with --config, prints the base URL and not the secret, exits 0 on SIGTERM', async (t) => {
    const config = join(dir, 'emulator.json');
    const app = {
      clientId: 'cli-app',
      clientSecret: SECRET,
      redirectUrls: ['http://127.0.0.1:3000/auth/callback'],
      scopes: ['read_products'],
    };
    const shops = [
      { domain: 'org-shop.myshopify.com', organizationClientIds: ['cli-app'], installedApps: ['cli-app'] },
    ];
    await writeFile(config, JSON.stringify({ apps: [app], shops, throttle: { maximumAvailable: 50, restoreRate: 5 } }));
    const child = spawn(
      process.execPath,
      [join(root, 'src/cli/main.ts'), 'emulator', '--port', '0', '--config', config],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    t.after(() => child.kill('SIGKILL')); // a failed assertion must not leave the emulator running
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const baseUrl = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /shopifyBaseUrl: (http:\/\/127\.0\.0\.1:\d+\/\{shop\})\n/.exec(output);
        if (match) resolve(match[1]!);
      });
      child.once('exit', () => reject(new Error(`the emulator exited early:\n${output}`)));
    });
    const origin = baseUrl.replace('/{shop}', '');
    assert.match(output, new RegExp(`Shopify emulator listening on ${origin.replaceAll('.', '\\.')}\n`));
    assert.equal(new URL(origin).port === '0', false, 'prints the real port');
    const grants = await fetch(`${origin}/_emulator/grants`);
    assert.deepEqual(await grants.json(), []);

    // The new seed fields: a same-organization shop, the app's scopes, the throttle.
    const granted = await fetch(`${origin}/org-shop.myshopify.com/admin/oauth/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'cli-app', client_secret: SECRET, grant_type: 'client_credentials' }),
    });
    assert.equal(granted.status, 200);
    const token = (await granted.json()) as { access_token: string; scope: string };
    assert.equal(token.scope, 'read_products');
    const shop = await fetch(`${origin}/org-shop.myshopify.com/admin/api/2026-10/graphql.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': token.access_token },
      body: JSON.stringify({ query: '{ shop { name } }' }),
    });
    const cost = ((await shop.json()) as { extensions: { cost: { throttleStatus: unknown } } }).extensions.cost;
    assert.deepEqual(cost.throttleStatus, { maximumAvailable: 50, currentlyAvailable: 49, restoreRate: 5 });
    const clock = await fetch(`${origin}/_emulator/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceSeconds: 86_400 }),
    });
    assert.ok(((await clock.json()) as { now: number }).now >= Date.now() + 86_399_000, 'the clock moved a day');

    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(!output.includes(SECRET), 'the secret is never printed');
  });

  it('registers the app from the app’s own settings and prints a ready install link', async () => {
    const env = {
      ...process.env,
      SHOPIFY_API_KEY: 'env-app',
      SHOPIFY_API_SECRET: SECRET,
      SCOPES: 'write_products',
      SHOPIFY_APP_URL: 'http://localhost:3999',
    };
    const child = spawn(process.execPath, [join(root, 'src/cli/main.ts'), 'emulator', '--port', '0'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Then install it:')) resolve();
      });
      child.once('exit', () => reject(new Error(`the emulator exited early:\n${output}`)));
    });
    const baseUrl = /SHOPTOKEN_SHOPIFY_BASE_URL=(http:\/\/127\.0\.0\.1:\d+\/\{shop\})\n/.exec(output)?.[1];
    assert.ok(baseUrl, output);
    assert.match(
      output,
      /app: env-app \(client id env-app\); redirect URLs: http:\/\/localhost:3999\/auth\/callback\n/,
    );
    assert.match(output, /Then install it: http:\/\/localhost:3999\/auth\?shop=dev-shop\.myshopify\.com\n/);
    // The registered app accepts an authorize request for that redirect URL, with the configured scopes.
    const authorize = new URL(`${baseUrl.replace('{shop}', 'dev-shop.myshopify.com')}/admin/oauth/authorize`);
    authorize.search = new URLSearchParams({
      client_id: 'env-app',
      scope: 'write_products',
      redirect_uri: 'http://localhost:3999/auth/callback',
      state: 'cli-test-state',
    }).toString();
    const page = await fetch(authorize);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /write_products/);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(!output.includes(SECRET), 'the secret is never printed');
  });

  it('takes the app from shopify.app.toml: its name on the consent page, its redirect URLs', async () => {
    const fixture = join(root, 'test/fixtures/app-config');
    const child = spawn(process.execPath, [join(root, 'src/cli/main.ts'), 'emulator', '--port', '0'], {
      cwd: fixture,
      env: { ...process.env, SHOPIFY_API_SECRET: SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('Then install it:')) resolve();
        });
        child.once('exit', () => reject(new Error(`the emulator exited early:\n${output}`)));
      });
      assert.match(output, /app: Fixture Fulfillment \(client id fixture-client-id-production\)/);
      assert.match(output, /https:\/\/fixture-app\.example\.com\/api\/auth\/callback/);
      assert.match(
        output,
        /Then install it: https:\/\/fixture-app\.example\.com\/auth\?shop=dev-shop\.myshopify\.com\n/,
      );
      const origin = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      const authorize = new URL(`${origin}/dev-shop.myshopify.com/admin/oauth/authorize`);
      authorize.search = new URLSearchParams({
        client_id: 'fixture-client-id-production',
        redirect_uri: 'https://fixture-app.example.com/auth/callback',
        state: 'toml-state',
      }).toString();
      const page = await (await fetch(authorize)).text();
      assert.match(page, /Install <span id="app-name">Fixture Fulfillment<\/span>/);
      assert.match(page, /write_fulfillments/, 'no scope parameter: the scopes of the configuration');
      // [[webhooks.subscriptions]] of the toml: compliance topics are delivered without an install, to the uri under the app URL.
      const app = { shop: 'dev-shop.myshopify.com', clientId: 'fixture-client-id-production' };
      const trigger = await fetch(`${origin}/_emulator/webhooks/trigger`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...app, topic: 'shop/redact', payload: { shop_id: 1, shop_domain: app.shop } }),
      });
      assert.equal(trigger.status, 200, await trigger.clone().text());
      const deliveries = (await (await fetch(`${origin}/_emulator/webhooks`)).json()) as {
        uri: string;
        apiVersion: string;
      }[];
      assert.deepEqual(
        deliveries.map((d) => [d.uri, d.apiVersion]),
        [['https://fixture-app.example.com/webhooks/compliance', '2026-10']],
      );
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('without an app configured says what to set (exit 1)', async () => {
    const { io, err } = memoryIO({ SHOPIFY_API_KEY: 'key' });
    assert.equal(await main(['emulator', '--port', '0'], io), 1);
    assert.match(err(), /apiSecret is not set: set SHOPIFY_API_SECRET/);
    assert.match(err(), /appUrl is not set: set SHOPIFY_APP_URL/);
  });

  it('--help shows the usage and the default port 4010 (exit 0)', async () => {
    const { io, out } = memoryIO({});
    assert.equal(await main(['emulator', '--help'], io), 0);
    assert.match(out(), /^usage: shoptoken emulator/);
    assert.match(out(), /default 4010/);
    assert.match(out(), /SHOPTOKEN_SHOPIFY_BASE_URL=http:\/\/127\.0\.0\.1:4010\/\{shop\}/);
  });

  it('an unknown command says so (exit 2)', async () => {
    const { io, err } = memoryIO({});
    assert.equal(await main(['emulater'], io), 2);
    assert.match(err(), /^shoptoken: unknown command "emulater"\n/);
    assert.match(err(), /usage: shoptoken <command>/);
    const secretish = memoryIO({});
    assert.equal(await main(['shpat_0123456789abcdef0123/x'], secretish.io), 2);
    assert.ok(!secretish.err().includes('shpat_'), 'an argument that is not a plain word is not echoed');
  });

  it('rejects unknown flags and a bad port (exit 2)', async () => {
    for (const argv of [['--bogus'], ['--port', 'eighty'], ['--port', '70000']]) {
      const { io, err } = memoryIO({});
      assert.equal(await main(['emulator', ...argv], io), 2, argv.join(' '));
      assert.match(err(), /shoptoken emulator:/);
    }
  });

  it('reports a config file that is not JSON without printing its content', async () => {
    const config = join(dir, 'broken.json');
    await writeFile(config, `{"apps": [{"clientSecret": "${SECRET}"`);
    const { io, out, err } = memoryIO({});
    assert.equal(await main(['emulator', '--config', config], io), 2);
    assert.match(err(), /is not valid JSON/);
    assert.ok(!`${out()}${err()}`.includes(SECRET));
  });
});
