/**
 * End to end in a real Chromium: `npm start`'s demo, from the landing page through the emulator's
 * consent page to the app page; then a second staff user; checked against what
 * `shoptoken tokens list --json` reports. Saves screenshots to test-artifacts/.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import type { TokenListRecord } from '../../src/cli/tokens-list.ts';

const CHROMIUM = '/usr/bin/chromium';
const root = new URL('../../', import.meta.url).pathname;
const artifacts = join(root, 'test-artifacts');
const required = process.env.SHOPTOKEN_REQUIRE_BROWSER === '1';
const skip = existsSync(CHROMIUM) ? false : `Chromium not found at ${CHROMIUM} (apt-get install chromium)`;
if (skip) {
  if (required) throw new Error(`SHOPTOKEN_REQUIRE_BROWSER=1 but ${skip}`);
  console.log(`# skipping the browser test: ${skip}`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForFile(path: string, child: ChildProcess, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the demo exited early with code ${child.exitCode}`);
    try {
      return await readFile(path, 'utf8');
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error('the demo did not start in time');
}

describe('demo in Chromium', { skip }, () => {
  let dir: string;
  let demo: ChildProcess;
  let output = '';
  let browser: Browser;
  let page: Page;
  let appUrl: string;
  let databasePath: string;

  async function tokensList(): Promise<TokenListRecord[]> {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(root, 'src/cli/main.ts'), 'tokens', 'list', '--json', '--database', databasePath],
      { cwd: dir },
    );
    assert.doesNotMatch(stdout, /shp(at|rt|ua|ca)_/, 'tokens list never prints token values');
    return JSON.parse(stdout) as TokenListRecord[];
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoptoken-e2e-'));
    await mkdir(artifacts, { recursive: true });
    const ready = join(dir, 'ready.json');
    demo = spawn(process.execPath, [join(root, 'scripts/start.ts')], {
      cwd: dir,
      env: {
        ...process.env,
        PORT: String(await freePort()),
        EMULATOR_PORT: String(await freePort()),
        DEMO_READY_FILE: ready,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    demo.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const info = JSON.parse(await waitForFile(ready, demo, 30_000)) as { appUrl: string; databasePath: string };
    appUrl = info.appUrl;
    databasePath = info.databasePath;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = await browser.newPage();
  });

  after(async () => {
    await browser?.close();
    if (demo && demo.exitCode === null) {
      demo.kill('SIGTERM');
      await new Promise((resolve) => demo.once('exit', resolve));
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('prints one URL and says it generated a key file', () => {
    assert.deepEqual(output.match(/https?:\/\/\S+/g), [`${appUrl}/`]);
    assert.match(output, /generated a new encryption key file/);
  });

  it('installs from the landing page through consent to the app page', async () => {
    await page.goto(`${appUrl}/`);
    await page.selectOption('#shop', 'demo-shop.myshopify.com');
    await page.click('#install');
    // The emulator's consent page: who is signed in, the scopes, Install / Cancel.
    await page.waitForSelector('button[value=install]');
    const consent = await page.textContent('body');
    assert.match(consent ?? '', /write_products/);
    assert.match(consent ?? '', /read_customers/);
    const owner = await page.$eval('#user option', (option) => (option as HTMLOptionElement).value);
    await page.selectOption('#user', owner);
    await page.screenshot({ path: join(artifacts, 'demo-consent.png') });
    await page.click('button[value=install]');
    await page.waitForURL(`${appUrl}/app**`);

    assert.equal(await page.textContent('#shop'), 'demo-shop.myshopify.com');
    assert.equal(await page.textContent('#user-name'), 'Olivia Owner');
    assert.equal(await page.textContent('#user-owner'), 'yes');
    assert.ok(await page.$('#missing-none'), 'the owner lacks no scope');
    assert.match((await page.textContent('#offline-token')) ?? '', /yes \(1 h access token/);
    const pageText = (await page.content()) ?? '';
    assert.doesNotMatch(pageText, /shp(at|rt|ua|ca)_/, 'no token value on the page');
    await page.screenshot({ path: join(artifacts, 'demo-app.png'), fullPage: true });

    const tokens = await tokensList();
    assert.equal(tokens.length, 2);
    const offline = tokens.find((t) => t.kind === 'offline');
    const online = tokens.find((t) => t.kind === 'online');
    assert.equal(offline?.shop, 'demo-shop.myshopify.com');
    assert.ok(offline?.refreshTokenExpiresAt, 'expiring offline token by default');
    assert.equal(online?.userId, await page.textContent('#user-id'));
  });

  it('calls the Admin API through each token', async () => {
    await page.click('#call-offline-shop');
    await page.waitForSelector('#result');
    const shopResult = JSON.parse((await page.textContent('#result')) ?? '{}');
    assert.equal(shopResult.data?.shop?.myshopifyDomain, 'demo-shop.myshopify.com');

    await page.click('#call-online-orders');
    await page.waitForSelector('#result');
    const orders = JSON.parse((await page.textContent('#result')) ?? '{}');
    assert.ok(Array.isArray(orders.data?.orders?.nodes), 'the owner reads orders with the online token');
  });

  it('a second staff user signs in without a consent page and gets their own online token', async () => {
    const before = await tokensList();
    const offlineBefore = before.find((t) => t.kind === 'offline');
    await page.click('#switch-user');
    // The emulator asks who is signing in (no consent: the app is installed).
    await page.waitForSelector('#user');
    assert.equal(await page.$('button[value=install]'), null, 'no consent page for the second user');
    const sam = await page.$$eval('#user option', (options) =>
      options.find((o) => o.textContent?.includes('Sam Staff'))?.getAttribute('value'),
    );
    assert.ok(sam);
    await page.selectOption('#user', sam);
    await page.click('button[value=login]');
    await page.waitForURL(`${appUrl}/app**`);
    assert.equal(await page.textContent('#user-name'), 'Sam Staff');
    assert.equal(await page.textContent('#user-owner'), 'no');
    assert.match((await page.textContent('#missing')) ?? '', /read_customers/);
    await page.screenshot({ path: join(artifacts, 'demo-second-user.png'), fullPage: true });

    await page.click('#call-online-customers');
    await page.waitForSelector('#result');
    assert.match((await page.textContent('#result')) ?? '', /ACCESS_DENIED/);
    await page.click('#call-offline-customers');
    await page.waitForSelector('#result');
    assert.doesNotMatch((await page.textContent('#result')) ?? '', /ACCESS_DENIED/);

    const afterTokens = await tokensList();
    assert.equal(afterTokens.length, 3);
    assert.equal(afterTokens.filter((t) => t.kind === 'online').length, 2);
    const offlineAfter = afterTokens.find((t) => t.kind === 'offline');
    assert.deepEqual(offlineAfter, offlineBefore, 'the offline token is left alone');
  });
});
