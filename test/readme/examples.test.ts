/**
 * Every code block of README.md runs as written. The app examples (Koa, Express, node:http) run
 * unchanged as their own processes against `shoptoken emulator`, configured by the README's own
 * `export` lines (with free ports instead of 3000/4010, so a running demo cannot collide), and
 * complete a dual-token install over HTTP. `shoptoken` resolves to the sources here
 * (test/helpers/source-exports.mjs); CI runs the Koa and Express blocks again from the packed
 * tarball with the README's exact commands (scripts/check-readme-examples.ts).
 */

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CookieJar,
  exportedVariables,
  installOverHttp,
  openedUrl,
  readmeBlock,
  waitForOutput,
} from '../../scripts/readme-examples.ts';
import { loadConfig } from '../../src/config/load.ts';

const root = resolve(import.meta.dirname, '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const HOOK = join(root, 'test/helpers/source-exports.mjs');
const CLI = join(root, 'src/cli/main.ts');
const children: ChildProcess[] = [];
const dirs: string[] = [];

after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

function start(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): ChildProcess {
  const child = spawn(process.execPath, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

/** Collects everything a child prints. */
function collect(child: ChildProcess): () => string {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return () => output;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await exited;
}

/** The README's environment for the emulator walk-through, on free ports. */
async function walkthrough() {
  const commands = readmeBlock(readme, 'emulator-commands');
  const exported = exportedVariables(commands);
  const appPort = await freePort();
  const emulatorPort = await freePort();
  const appUrl = `http://localhost:${appPort}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...exported,
    SHOPIFY_APP_URL: exported.SHOPIFY_APP_URL!.replace(':3000', `:${appPort}`),
    SHOPTOKEN_SHOPIFY_BASE_URL: exported.SHOPTOKEN_SHOPIFY_BASE_URL!.replace(':4010', `:${emulatorPort}`),
    PORT: String(appPort),
  };
  assert.equal(env.SHOPIFY_APP_URL, appUrl, 'the README exports the app URL on port 3000');
  const installUrl = openedUrl(commands).replace('http://localhost:3000', appUrl);
  return { commands, env, appUrl, emulatorPort, installUrl };
}

/** Starts the emulator as the README does (`shoptoken emulator`, from the same environment). */
async function startEmulator(cwd: string, env: NodeJS.ProcessEnv, port: number): Promise<string> {
  const emulator = start([CLI, 'emulator', '--port', String(port)], { cwd, env });
  return waitForOutput(emulator, /Then install it: \S+\n/);
}

async function waitForApp(appUrl: string, child: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) assert.fail(`the example exited with ${child.exitCode}:\n${output()}`);
    try {
      await fetch(appUrl);
      return;
    } catch {
      await new Promise((done) => setTimeout(done, 50));
    }
  }
  assert.fail(`the example never listened on ${appUrl}:\n${output()}`);
}

function tokensIn(cwd: string, env: NodeJS.ProcessEnv): { shop: string; kind: string; userId: string | null }[] {
  return JSON.parse(execFileSync(process.execPath, [CLI, 'tokens', 'list', '--json'], { cwd, env, encoding: 'utf8' }));
}

describe('README: the app examples, unchanged, against `shoptoken emulator`', () => {
  for (const name of ['koa', 'express', 'node-http']) {
    it(`${name}: a dual-token install over HTTP lands on "Hello Olivia"`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `shoptoken-readme-${name}-`));
      dirs.push(dir);
      const { env, appUrl, emulatorPort, installUrl } = await walkthrough();
      const printed = await startEmulator(dir, env, emulatorPort);
      assert.match(printed, new RegExp(`Then install it: ${appUrl}/auth\\?shop=dev-shop\\.myshopify\\.com\\n`));
      assert.match(printed, new RegExp(`SHOPTOKEN_SHOPIFY_BASE_URL=http://127\\.0\\.0\\.1:${emulatorPort}/\\{shop\\}`));

      writeFileSync(join(dir, 'app.ts'), readmeBlock(readme, name));
      const app = start(['--import', HOOK, 'app.ts'], { cwd: dir, env });
      const output = collect(app);
      await waitForApp(appUrl, app, output);

      const landed = await installOverHttp(installUrl);
      assert.equal(landed.status, 200, `${landed.visited.join('\n')}\n${landed.text}\n${output()}`);
      assert.equal(landed.text.trim(), 'Hello Olivia');
      assert.equal(new URL(landed.url).origin, appUrl);

      const tokens = tokensIn(dir, env);
      assert.deepEqual(
        tokens.map(({ shop, kind }) => `${shop} ${kind}`),
        ['dev-shop.myshopify.com offline', 'dev-shop.myshopify.com online'],
      );
      const notices = output().match(/shoptoken: generated an encryption key file at \S+/g) ?? [];
      assert.equal(notices.length, 1, output());
      assert.ok(!output().includes(env.SHOPIFY_API_SECRET!), 'the secret is never printed');
      await stop(app);
    });
  }
});

describe('README: sessions, tokens, keys', () => {
  it('the sign-out form, the "Tokens that stay valid" block, and the key generator run as written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoptoken-readme-tokens-'));
    dirs.push(dir);
    const { env, appUrl, emulatorPort, installUrl } = await walkthrough();
    await startEmulator(dir, env, emulatorPort);
    writeFileSync(join(dir, 'app.ts'), readmeBlock(readme, 'koa'));
    const app = start(['--import', HOOK, 'app.ts'], { cwd: dir, env });
    const output = collect(app);
    await waitForApp(appUrl, app, output);
    const jar = new CookieJar();
    assert.equal((await installOverHttp(installUrl, { jar })).text.trim(), 'Hello Olivia');
    const cool = await installOverHttp(installUrl.replace('dev-shop', 'cool-shop'), { jar, user: 'Sam' });
    assert.equal(cool.text.trim(), 'Hello Sam');

    // <form method="post" action="/auth/logout">: the session ends on the server.
    const form = /<form method="(\w+)" action="([^"]+)">/.exec(readmeBlock(readme, 'sign-out'));
    assert.ok(form);
    const signOut = await fetch(new URL(form[2]!, appUrl), {
      method: form[1]!.toUpperCase(),
      headers: { cookie: jar.header(appUrl), origin: appUrl },
      redirect: 'manual',
    });
    assert.equal(signOut.status, 303);
    jar.store(appUrl, signOut);
    assert.equal((await fetch(appUrl, { headers: { cookie: jar.header(appUrl) } })).status, 401);
    await stop(app);

    // The tokens block: a token for cool-shop (stored by the install above) and an Admin API call with it.
    writeFileSync(join(dir, 'tokens.ts'), readmeBlock(readme, 'tokens'));
    writeFileSync(
      join(dir, 'run-tokens.mjs'),
      "await import('./tokens.ts');\nprocess.stdout.write('the block ran to its end\\n');\nprocess.exit(0);\n",
    );
    const tokens = start(['--import', HOOK, 'run-tokens.mjs'], { cwd: dir, env });
    const tokensOutput = collect(tokens);
    const code = await new Promise((done) => tokens.once('exit', done));
    assert.equal(code, 0, tokensOutput());
    assert.match(tokensOutput(), /the block ran to its end/);
    const requests = (await (await fetch(`http://127.0.0.1:${emulatorPort}/_emulator/requests`)).json()) as {
      endpoint: string;
      shop: string;
      status: number;
    }[];
    const calls = requests.filter((entry) => entry.endpoint === 'graphql' && entry.shop === 'cool-shop.myshopify.com');
    assert.deepEqual(
      calls.map((entry) => entry.status),
      [200],
      'vault.admin(shop).request reached the emulator with a valid token',
    );

    // The key generator's output is a valid SHOPTOKEN_KEYS.
    const keygen = /^node -e "(.+)"$/m.exec(readmeBlock(readme, 'keygen'));
    assert.ok(keygen);
    const key = execFileSync(process.execPath, ['-e', keygen[1]!], { encoding: 'utf8' }).trim();
    assert.match(key, /^k1:[A-Za-z0-9+/]{43}=$/);
    assert.equal(loadConfig({ env: { SHOPTOKEN_KEYS: key }, cwd: dir }).keys, key);
  });
});

describe('README: webhooks and fulfillment services', () => {
  it('the webhooks block, as written: registers on install, handles a delivery, accepts a fulfillment request, answers stock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoptoken-readme-webhooks-'));
    dirs.push(dir);
    const walk = await walkthrough();
    // The fulfillment scopes `registerFulfillmentService` and the accept mutation need.
    const scopes =
      'write_products,write_fulfillments,read_assigned_fulfillment_orders,write_assigned_fulfillment_orders';
    const env: NodeJS.ProcessEnv = { ...walk.env, SCOPES: scopes };
    await startEmulator(dir, env, walk.emulatorPort);
    writeFileSync(join(dir, 'app.ts'), readmeBlock(readme, 'webhooks'));
    const app = start(['--import', HOOK, 'app.ts'], { cwd: dir, env });
    const output = collect(app);
    await waitForApp(walk.appUrl, app, output);
    const landed = await installOverHttp(walk.installUrl);
    assert.equal(new URL(landed.url).origin, walk.appUrl, `${landed.visited.join('\n')}\n${output()}`);

    const control = async (path: string, body: unknown) => {
      const response = await fetch(`http://127.0.0.1:${walk.emulatorPort}/_emulator/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 200, await response.clone().text());
      return (await response.json()) as Record<string, unknown>;
    };
    const target = { shop: 'dev-shop.myshopify.com', clientId: env.SHOPIFY_API_KEY };
    // afterAuth subscribed the app to orders/create through the Admin API: the emulator delivers to it.
    const { webhookIds } = (await control('webhooks/trigger', {
      ...target,
      topic: 'orders/create',
      payload: { id: 4242 },
    })) as {
      webhookIds: string[];
    };
    assert.equal(webhookIds.length, 1, 'one subscription, made by registerWebhooks');
    const request = (await control('fulfillment/request', {
      ...target,
      lineItems: [{ sku: 'SKU-1', quantity: 1 }],
    })) as {
      fulfillmentOrderId: string;
      notification: { status: number };
    };
    assert.equal(request.notification.status, 200, 'the service registered by afterAuth was notified');
    const stock = (await control('fulfillment/fetch-stock', { ...target, sku: 'SKU-1' })) as {
      status: number;
      body: unknown;
    };
    assert.deepEqual([stock.status, stock.body], [200, { 'SKU-1': 12 }]);

    // The worker runs both after the acks: the order is logged, the request accepted with the offline token.
    for (let i = 0; i < 100 && !/order on dev-shop\.myshopify\.com/.test(output()); i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.match(output(), /order on dev-shop\.myshopify\.com \{ id: 4242 \}/);
    // Only an accepted fulfillment order can be asked to cancel: the emulator refuses it before that.
    const cancel = () =>
      fetch(`http://127.0.0.1:${walk.emulatorPort}/_emulator/fulfillment/cancel`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...target, fulfillmentOrderId: request.fulfillmentOrderId }),
      });
    let cancelled = await cancel();
    for (let i = 0; i < 100 && cancelled.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      cancelled = await cancel();
    }
    assert.equal(cancelled.status, 200, `the request was accepted by onNotification: ${await cancelled.text()}`);
    assert.ok(!output().includes(env.SHOPIFY_API_SECRET!), 'the secret is never printed');
    await stop(app);
  });
});
