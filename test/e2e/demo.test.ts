/**
 * End to end in a real Chromium: `npm start`'s demo, from the landing page through the emulator's
 * consent page to the app page; Admin API calls (post-redirect-get, the answer where the user looks);
 * a second staff user; switching shops, with a cancelled install on the way; checked against what
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

/** The JSON the demo shows for an Admin API call. */
interface CallAnswer {
  data: { shop?: { myshopifyDomain?: string }; orders?: { nodes?: unknown } } | null;
  errors: unknown;
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

  it('prints one URL and says, once, that it generated a key file', () => {
    assert.deepEqual(output.match(/https?:\/\/\S+/g), [`${appUrl}/`]);
    assert.equal(output.match(/shoptoken: generated an encryption key file at \S+keys\.json/g)?.length, 1, output);
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

  /** Clicks a call button; the POST redirects (303) to `/app?result=ID#result`. Returns the result's JSON. */
  async function call(button: string): Promise<CallAnswer> {
    const before = page.url();
    await page.click(button);
    await page.waitForURL((url) => url.href !== before && url.pathname === '/app' && url.searchParams.has('result'));
    assert.match(page.url(), /\/app\?result=[\w-]{16,}#result$/);
    return JSON.parse((await page.textContent('#result-body')) ?? '{}');
  }

  it('calls the Admin API through each token and shows the answer where the user is looking', async () => {
    const shopResult = await call('#call-offline-shop');
    assert.equal(shopResult.data?.shop?.myshopifyDomain, 'demo-shop.myshopify.com');
    assert.equal(await page.textContent('#result-label'), 'shop via the offline token');
    const inView = await page.$eval('#result', (card) => {
      const box = card.getBoundingClientRect();
      // Scrolled to #result: its top edge at the viewport's (within a pixel) or lower on screen.
      return box.top > -1 && box.top < window.innerHeight;
    });
    assert.ok(inView, 'the result is in the viewport after the click');
    await page.screenshot({ path: join(artifacts, 'demo-result.png') });
    // On a phone-narrow window the JSON's longer lines wrap instead of running off the card.
    const viewport = page.viewportSize();
    await page.setViewportSize({ width: 320, height: 640 });
    const pre = await page.$eval('#result-body', (el) => ({
      whiteSpace: getComputedStyle(el).whiteSpace,
      overflowWrap: getComputedStyle(el).overflowWrap,
      overflows: el.scrollWidth > el.clientWidth,
    }));
    if (viewport) await page.setViewportSize(viewport);
    assert.deepEqual(pre, { whiteSpace: 'pre-wrap', overflowWrap: 'anywhere', overflows: false }, 'long lines wrap');

    const orders = await call('#call-online-orders');
    assert.ok(Array.isArray(orders.data?.orders?.nodes), 'the owner reads orders with the online token');
  });

  it('reloading a result page shows it again without repeating the call (post-redirect-get)', async () => {
    const url = page.url();
    const shown = await page.textContent('#result-body');
    const requests: string[] = [];
    const record = (request: { method(): string; url(): string }) =>
      requests.push(`${request.method()} ${request.url()}`);
    page.on('request', record);
    try {
      await page.reload();
    } finally {
      page.off('request', record);
    }
    assert.deepEqual(requests, [`GET ${url.replace(/#.*$/, '')}`], 'one GET, no POST');
    assert.equal(page.url(), url);
    assert.equal(await page.textContent('#result-body'), shown);
  });

  it('a result id is kept for its own session only: another id shows a note, not a result', async () => {
    await page.goto(`${appUrl}/app?result=not-a-result-id#result`);
    assert.ok(await page.$('#result-expired'));
    assert.equal(await page.$('#result-body'), null);
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

    assert.match(JSON.stringify(await call('#call-online-customers')), /ACCESS_DENIED/);
    assert.doesNotMatch(JSON.stringify(await call('#call-offline-customers')), /ACCESS_DENIED/);

    const afterTokens = await tokensList();
    assert.equal(afterTokens.length, 3);
    assert.equal(afterTokens.filter((t) => t.kind === 'online').length, 2);
    const offlineAfter = afterTokens.find((t) => t.kind === 'offline');
    assert.deepEqual(offlineAfter, offlineBefore, 'the offline token is left alone');
  });

  it('switches shop: the picker while signed in; a cancelled install links back to the app', async () => {
    await page.click('#switch-shop');
    await page.waitForURL(`${appUrl}/?switch=1`);
    assert.match((await page.textContent('#signed-in')) ?? '', /demo-shop\.myshopify\.com/);
    assert.equal(await page.inputValue('#shop'), 'second-demo-shop.myshopify.com', 'the other shop is preselected');

    await page.click('#install');
    await page.waitForSelector('button[value=cancel]');
    await page.click('button[value=cancel]');
    await page.waitForSelector('#cancelled');
    await page.screenshot({ path: join(artifacts, 'demo-cancelled.png') });
    await page.click('#back-to-app');
    await page.waitForURL(`${appUrl}/app**`);
    assert.equal(await page.textContent('#shop'), 'demo-shop.myshopify.com', 'still signed in to the first shop');

    await page.click('#switch-shop');
    await page.waitForURL(`${appUrl}/?switch=1`);
    await page.click('#install');
    await page.waitForSelector('button[value=install]');
    const owner = await page.$eval('#user option', (option) => (option as HTMLOptionElement).value);
    await page.selectOption('#user', owner);
    await page.click('button[value=install]');
    await page.waitForURL(`${appUrl}/app**`);
    assert.equal(await page.textContent('#shop'), 'second-demo-shop.myshopify.com');
    const shops = new Set((await tokensList()).filter((t) => t.kind === 'offline').map((t) => t.shop));
    assert.deepEqual([...shops].sort(), ['demo-shop.myshopify.com', 'second-demo-shop.myshopify.com']);
  });

  it('signs out (POST /auth/logout): the landing page again, and the online token is gone', async () => {
    const userId = await page.textContent('#user-id');
    const isTheirs = (token: TokenListRecord) =>
      token.kind === 'online' && token.userId === userId && token.shop === 'second-demo-shop.myshopify.com';
    assert.equal((await tokensList()).filter(isTheirs).length, 1);
    await page.click('#sign-out');
    await page.waitForURL(`${appUrl}/`);
    assert.ok(await page.$('#install'), 'the shop picker');
    assert.equal(await page.$('#signed-in'), null, 'nobody is signed in');
    await page.goto(`${appUrl}/`);
    assert.equal(page.url(), `${appUrl}/`, 'no session: the landing page stays, no redirect to the app');
    assert.deepEqual((await tokensList()).filter(isTheirs), [], 'the signed-out user’s online token is deleted');
  });
});
