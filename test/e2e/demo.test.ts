/**
 * End to end in a real Chromium: `npm start`'s demo, a fulfillment service. From the landing page
 * through the emulator's consent page to the sign-up page (prefilled with the installer) and the app
 * page; a merchant requests fulfillment and the app accepts it with the offline token; three weeks
 * pass (the keeper refreshes the offline token, the user signs in again) and a second request is
 * accepted; Shopify asks for stock and tracking numbers, and a cancellation is accepted; Admin API
 * calls (post-redirect-get, the answer where the user looks); a second staff user; switching shops,
 * with a cancelled install on the way; uninstall (app/uninstalled empties the vault) and reinstall
 * (afterAuth again); sign-out. Checked against what `shoptoken tokens list --json` and the
 * emulator's grant log report. Saves screenshots to test-artifacts/.
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

/** One line of the app page's activity log (newest first on the page). */
interface ActivityLine {
  kind: string;
  source: string;
  text: string;
}

/** A grant the emulator served (`GET /_emulator/grants`). */
interface Grant {
  at: number;
  shop: string;
  grantType: string;
  accessMode: 'offline' | 'online' | null;
  status: number;
}

const DAY_MS = 86_400_000;

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
  let emulatorOrigin: string;
  let databasePath: string;

  async function emulator<T>(path: string): Promise<T> {
    const response = await fetch(`${emulatorOrigin}/_emulator/${path}`);
    assert.equal(response.status, 200, path);
    return (await response.json()) as T;
  }

  /** The shop's account owner, as the emulator seeds them. */
  async function shopOwner(shop: string): Promise<{ name: string; email: string }> {
    const view = await emulator<{
      users: { firstName: string; lastName: string; email: string; accountOwner: boolean }[];
    }>(`shops/${shop}`);
    const user = view.users.find((u) => u.accountOwner)!;
    return { name: `${user.firstName} ${user.lastName}`, email: user.email };
  }

  async function activity(): Promise<ActivityLine[]> {
    return page.$$eval('#activity li', (items) =>
      items.map((li) => ({
        kind: (li as HTMLElement).dataset.kind ?? '',
        source: (li as HTMLElement).dataset.source ?? '',
        text: li.textContent ?? '',
      })),
    );
  }

  /** The activity once `ready` holds, reloading the page for up to 5 s (the inbox's worker runs after the ack). */
  async function activityUntil(ready: (lines: ActivityLine[]) => boolean): Promise<ActivityLine[]> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const lines = await activity();
      if (ready(lines) || Date.now() > deadline) return lines;
      await new Promise((resolve) => setTimeout(resolve, 200));
      await page.reload();
    }
  }

  /** Clicks a demo control; its POST redirects (303) to `/app?after=N#activity`. */
  async function control(button: string): Promise<void> {
    const before = page.url();
    await page.click(button);
    await page.waitForURL((url) => url.href !== before && url.pathname === '/app' && url.searchParams.has('after'));
  }

  async function offlineOf(shop: string): Promise<TokenListRecord | undefined> {
    return (await tokensList()).find((t) => t.kind === 'offline' && t.shop === shop);
  }

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
    const info = JSON.parse(await waitForFile(ready, demo, 30_000)) as {
      appUrl: string;
      emulatorOrigin: string;
      databasePath: string;
    };
    appUrl = info.appUrl;
    emulatorOrigin = info.emulatorOrigin;
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

  it('installs from the landing page through consent and the sign-up page, prefilled with the installer, to the app page', async () => {
    await page.goto(`${appUrl}/`);
    await page.selectOption('#shop', 'demo-shop.myshopify.com');
    await page.click('#install');
    // The emulator's consent page: who is signed in, the scopes, Install / Cancel.
    await page.waitForSelector('button[value=install]');
    const consent = await page.textContent('body');
    assert.match(consent ?? '', /write_products/);
    assert.match(consent ?? '', /read_customers/);
    assert.match(consent ?? '', /write_assigned_fulfillment_orders/, 'the fulfillment service scopes are asked for');
    const ownerId = await page.$eval('#user option', (option) => (option as HTMLOptionElement).value);
    await page.selectOption('#user', ownerId);
    await page.screenshot({ path: join(artifacts, 'demo-consent.png') });
    await page.click('button[value=install]');

    // The first install lands on the sign-up page, filled in from the online token's user.
    await page.waitForURL(`${appUrl}/signup`);
    const installer = await shopOwner('demo-shop.myshopify.com');
    assert.equal(await page.inputValue('#name'), installer.name);
    assert.equal(await page.inputValue('#email'), installer.email);
    assert.equal(await page.textContent('#signup-shop'), 'demo-shop.myshopify.com');
    await page.screenshot({ path: join(artifacts, 'demo-signup.png') });
    await page.click('#signup');
    await page.waitForURL(`${appUrl}/app`);

    assert.equal(await page.textContent('#shop'), 'demo-shop.myshopify.com');
    assert.equal(await page.textContent('#user-name'), 'Olivia Owner');
    assert.equal(await page.textContent('#user-owner'), 'yes');
    assert.equal(await page.textContent('#account-name'), installer.name);
    assert.equal(await page.textContent('#account-email'), installer.email);
    assert.ok(await page.$('#missing-none'), 'the owner lacks no scope');
    assert.match((await page.textContent('#offline-token')) ?? '', /yes \(1 h access token/);
    const pageText = (await page.content()) ?? '';
    assert.doesNotMatch(pageText, /shp(at|rt|ua|ca)_/, 'no token value on the page');
    const lines = await activity();
    const install = lines.find((line) => line.kind === 'install');
    assert.match(install?.text ?? '', /afterAuth: installed by Olivia Owner; registered the fulfillment service/);
    assert.match(install?.text ?? '', /subscribed to orders\/create and app\/uninstalled/);
    assert.ok(lines.some((line) => line.kind === 'signup'));
    await page.screenshot({ path: join(artifacts, 'demo-app.png'), fullPage: true });

    const tokens = await tokensList();
    assert.equal(tokens.length, 2);
    const offline = tokens.find((t) => t.kind === 'offline');
    const online = tokens.find((t) => t.kind === 'online');
    assert.equal(offline?.shop, 'demo-shop.myshopify.com');
    assert.ok(offline?.refreshTokenExpiresAt, 'expiring offline token by default');
    assert.equal(online?.userId, await page.textContent('#user-id'));
  });

  it('a merchant requests fulfillment: the app accepts it with the offline token', async () => {
    await page.selectOption('#request-sku', 'DEMO-MUG');
    await page.fill('#request-quantity', '2');
    await control('#request-fulfillment');
    const lines = await activityUntil((l) => l.some((line) => line.kind === 'orders-create'));
    const request = lines.find((line) => line.kind === 'request');
    assert.equal(request?.source, 'shopify');
    assert.match(request?.text ?? '', /orders 2 × DEMO-MUG and the merchant requests fulfillment/);
    const ordered = lines.find((line) => line.kind === 'orders-create')?.text ?? '';
    assert.match(ordered, /Received webhook orders\/create: #\d+ \(2 × DEMO-MUG\)/);
    const orderName = /(#\d+)/.exec(ordered)?.[1];
    const accepted = lines.find((line) => line.kind === 'accepted');
    assert.equal(accepted?.source, 'app');
    assert.match(
      accepted?.text ?? '',
      /Accepted the fulfillment request for #\d+ \(2 × DEMO-MUG\) with the shop’s offline token/,
    );
    assert.ok(accepted?.text.includes(`for ${orderName} `), 'the order Shopify created');
    assert.ok(lines.some((line) => line.kind === 'notification' && /FULFILLMENT_REQUEST/.test(line.text)));
    assert.equal(await page.textContent('td[data-sku="DEMO-MUG"]'), '23', 'two mugs reserved');
    assert.doesNotMatch((await page.content()) ?? '', /shp(at|rt|ua|ca)_/, 'no token value on the page');
    await page.screenshot({ path: join(artifacts, 'demo-fulfillment.png'), fullPage: true });
  });

  it('three weeks pass: the offline token is refreshed, the user signs in again, and the next request is accepted', async () => {
    const shop = 'demo-shop.myshopify.com';
    const before = await offlineOf(shop);
    const grantsBefore = await emulator<Grant[]>('grants');
    const countOf = (grants: Grant[], type: string, mode: Grant['accessMode']) =>
      grants.filter((g) => g.shop === shop && g.grantType === type && g.accessMode === mode && g.status === 200).length;

    // The first stock poll after the jump finds the offline token expired: shoptoken refreshes it.
    // The online token expired too: the control sends the browser through /auth, which signs the
    // user in again without a consent page, back to the app (`?shop=…&host=…`).
    await page.click('#three-weeks');
    await page.waitForURL((url) => url.pathname === '/app' && url.searchParams.get('shop') === shop);
    const lines = await activity();
    assert.match(lines.find((line) => line.kind === 'clock')?.text ?? '', /Three weeks passed/);
    assert.match(lines.find((line) => line.kind === 'fetch-stock')?.text ?? '', /as it does every hour/);
    assert.match(lines.find((line) => line.kind === 'stock')?.text ?? '', /Answered fetch_stock/);
    assert.match(
      lines.find((line) => line.kind === 'refreshed')?.text ?? '',
      /refreshed the expired offline token on use/,
    );
    assert.match(lines[0]?.text ?? '', /afterLogin: Olivia Owner signed in/, 'signed in again, not installed again');

    const after = await offlineOf(shop);
    assert.ok(before?.expiresAt && after?.expiresAt && before.refreshTokenExpiresAt && after.refreshTokenExpiresAt);
    assert.ok(Date.parse(after.expiresAt) - Date.parse(before.expiresAt) > 20 * DAY_MS, 'the access token moved on');
    assert.ok(
      Date.parse(after.refreshTokenExpiresAt) - Date.parse(before.refreshTokenExpiresAt) > 20 * DAY_MS,
      'the refresh token rotated: a fresh 90 days',
    );
    assert.equal(after.createdAt, before.createdAt, 'the same install: refreshed, not re-minted');
    const grantsAfter = await emulator<Grant[]>('grants');
    assert.equal(
      countOf(grantsAfter, 'refresh_token', 'offline') - countOf(grantsBefore, 'refresh_token', 'offline'),
      1,
    );
    assert.equal(
      countOf(grantsAfter, 'authorization_code', 'offline'),
      countOf(grantsBefore, 'authorization_code', 'offline'),
      'no new offline grant through the install flow',
    );
    assert.equal(
      countOf(grantsAfter, 'authorization_code', 'online'),
      countOf(grantsBefore, 'authorization_code', 'online') + 1,
      'a new online token for the user',
    );

    await page.selectOption('#request-sku', 'DEMO-TEE');
    await page.fill('#request-quantity', '1');
    await control('#request-fulfillment');
    const accepted = (await activity()).find((line) => line.kind === 'accepted');
    assert.match(
      accepted?.text ?? '',
      /\(1 × DEMO-TEE\) with the shop’s offline token \(access token valid until ([^)]+)\)/,
    );
    const validUntil = /valid until ([^)]+)\)/.exec(accepted?.text ?? '')?.[1] ?? '';
    assert.equal(validUntil, after.expiresAt, 'accepted with the refreshed token');
    assert.equal(await page.textContent('#offline-token td[data-field="expires at"]'), after.expiresAt);
    await page.screenshot({ path: join(artifacts, 'demo-three-weeks.png'), fullPage: true });
  });

  it('Shopify asks for stock and tracking numbers; a cancellation is accepted and restocks', async () => {
    await control('#fetch-stock');
    let lines = await activity();
    assert.equal(lines[1]?.kind, 'fetch-stock', 'Shopify asked');
    assert.equal(lines[0]?.kind, 'stock', 'the app answered');
    assert.match(lines[0]?.text ?? '', /Answered fetch_stock: \{"DEMO-TEE":39,"DEMO-MUG":23,"DEMO-CAP":6\}/);

    await control('#fetch-tracking');
    lines = await activity();
    assert.match(lines[1]?.text ?? '', /Shopify asks for the tracking numbers of #\d+, #\d+/);
    assert.match(
      lines[0]?.text ?? '',
      /Answered fetch_tracking_numbers: \{"#\d+":"SHOPTOKEN-\d{6}","#\d+":"SHOPTOKEN-\d{6}"\}/,
      'one number per accepted order',
    );

    await control('#request-cancellation');
    lines = await activity();
    assert.match(
      lines.find((line) => line.kind === 'cancellation-accepted')?.text ?? '',
      /Accepted the cancellation of #\d+ with the shop’s offline token .*put back 1 × DEMO-TEE/,
    );
    assert.equal(await page.textContent('td[data-sku="DEMO-TEE"]'), '40');
    lines = await activityUntil((l) => l.filter((line) => line.kind === 'orders-create').length === 2);
    assert.equal(lines.filter((line) => line.kind === 'orders-create').length, 2, 'orders/create for each order');
    assert.deepEqual(
      lines.filter((line) => ['retry', 'error', 'waiting', 'rejected'].includes(line.kind)),
      [],
      'no handler failed, nothing refused, nothing late',
    );
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
    // A first install on this shop too: its own account, filled in with its owner.
    await page.waitForURL(`${appUrl}/signup`);
    const installer = await shopOwner('second-demo-shop.myshopify.com');
    assert.equal(await page.inputValue('#email'), installer.email);
    await page.click('#signup');
    await page.waitForURL(`${appUrl}/app`);
    assert.equal(await page.textContent('#shop'), 'second-demo-shop.myshopify.com');
    assert.equal(await page.textContent('#account-email'), installer.email);
    const shops = new Set((await tokensList()).filter((t) => t.kind === 'offline').map((t) => t.shop));
    assert.deepEqual([...shops].sort(), ['demo-shop.myshopify.com', 'second-demo-shop.myshopify.com']);
  });

  it('uninstalls: app/uninstalled makes the vault drop the shop’s tokens; the landing page offers a reinstall', async () => {
    const shop = 'second-demo-shop.myshopify.com';
    await control('#request-fulfillment');
    assert.ok(
      (await activity()).some((line) => line.kind === 'accepted'),
      'the service works on this shop too',
    );
    await page.click('#uninstall');
    await page.waitForURL(`${appUrl}/?uninstalled=${shop}`);
    assert.match((await page.textContent('#uninstalled')) ?? '', /uninstalled from second-demo-shop\.myshopify\.com/);
    assert.equal(await page.inputValue('#shop'), shop, 'the shop is preselected for the reinstall');
    assert.deepEqual(
      (await tokensList()).filter((t) => t.shop === shop),
      [],
      'every token of the shop is gone from the vault',
    );
    assert.ok(
      (await tokensList()).some((t) => t.shop === 'demo-shop.myshopify.com'),
      'the other shop keeps its',
    );
    await page.screenshot({ path: join(artifacts, 'demo-uninstalled.png') });
    await page.goto(`${appUrl}/app`);
    assert.equal(page.url(), `${appUrl}/`, 'the app page sends a signed-out browser to the landing page');
  });

  it('reinstalls: consent again, afterAuth again, fresh tokens, straight to the app (the account was kept)', async () => {
    const shop = 'second-demo-shop.myshopify.com';
    const startedAt = Date.now();
    await page.goto(`${appUrl}/?uninstalled=${shop}`);
    await page.click('#reinstall');
    await page.waitForSelector('button[value=install]');
    const ownerId = await page.$eval('#user option', (option) => (option as HTMLOptionElement).value);
    await page.selectOption('#user', ownerId);
    await page.click('button[value=install]');
    await page.waitForURL((url) => url.pathname === '/app' && url.searchParams.get('shop') === shop);
    assert.equal(await page.textContent('#shop'), shop);

    const lines = await activity();
    const installs = lines.filter((line) => line.kind === 'install');
    assert.equal(installs.length, 2, 'afterAuth ran again');
    assert.match(installs[0]?.text ?? '', /afterAuth: installed by Olivia Owner/);
    const uninstalled = lines.find((line) => line.kind === 'uninstalled');
    assert.match(uninstalled?.text ?? '', /app\/uninstalled: shoptoken deleted the shop’s 2 token\(s\)/);
    assert.ok(lines.indexOf(uninstalled!) > lines.indexOf(installs[0]!), 'the reinstall came after');

    const tokens = (await tokensList()).filter((t) => t.shop === shop);
    assert.deepEqual(tokens.map((t) => t.kind).sort(), ['offline', 'online']);
    for (const token of tokens) {
      // The vault runs on the emulator's clock, three weeks ahead of the wall clock by now.
      assert.ok(Date.parse(token.createdAt) > startedAt + 20 * DAY_MS, `a fresh ${token.kind} token`);
    }
    await control('#request-fulfillment');
    const accepted = (await activity()).filter((line) => line.kind === 'accepted');
    assert.equal(accepted.length, 2, 'the service answers again after the reinstall');
    await page.screenshot({ path: join(artifacts, 'demo-reinstalled.png'), fullPage: true });
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
