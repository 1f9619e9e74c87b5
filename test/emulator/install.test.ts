/**
 * Installing without the OAuth pages (seed `installedApps`, `emulator.install`, `POST
 * /_emulator/install`), `emulator.uninstall` / `POST /_emulator/uninstall`, and the controls'
 * answer to bad input: 400 with every problem listed, nothing changed.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEmulator } from '../../src/emulator/index.ts';
import { configProblems } from '../helpers/config-problems.ts';
import { APP, authorizeParams, authorizePath, control, get, install, ORIGIN, SHOP, setup } from './helpers.ts';

const CONFIGURED = { ...APP, scopes: ['write_products', 'read_orders'] };
const OTHER_SHOP = 'other-shop.myshopify.com';

describe('seed installedApps', () => {
  it('installs the app with its configured scopes and issues no token', async () => {
    const { emulator } = setup({ apps: [CONFIGURED], shops: [{ domain: SHOP, installedApps: [APP.clientId] }] });
    assert.deepEqual(emulator.shop(SHOP)?.installations, { [APP.clientId]: ['write_products', 'read_orders'] });
    assert.deepEqual(emulator.grants(), []);
    // An installation like any other: covered scopes get the sign-in page, not the consent page.
    const page = await get(emulator, `${authorizePath()}?${authorizeParams({ scope: 'read_products' })}`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /value="login"/);
  });

  it('is checked with the other options (a registered app only)', () => {
    const problems = configProblems(() =>
      createEmulator({ apps: [APP], shops: [{ domain: SHOP, installedApps: ['someone-else'] }] }),
    );
    assert.deepEqual(problems, ['shops[0].installedApps must be an array of client ids of registered apps']);
  });
});

describe('emulator.install', () => {
  it('defaults to the app’s configured scopes, takes explicit ones, and adds to what is installed', async () => {
    const { emulator } = setup({ apps: [CONFIGURED] });
    emulator.install(SHOP, APP.clientId);
    assert.deepEqual(emulator.shop(SHOP)?.installations[APP.clientId], ['write_products', 'read_orders']);
    emulator.install(OTHER_SHOP, APP.clientId, ['read_customers']);
    assert.deepEqual(emulator.shop(OTHER_SHOP)?.installations[APP.clientId], ['read_customers']);
    emulator.install(OTHER_SHOP, APP.clientId, ['read_products', 'write_customers']);
    assert.deepEqual(emulator.shop(OTHER_SHOP)?.installations[APP.clientId], ['read_products', 'write_customers']);
    await install(emulator, { params: authorizeParams({ scope: 'read_customers' }) }); // consent adds too
    assert.deepEqual(emulator.shop(SHOP)?.installations[APP.clientId], [
      'write_products',
      'read_orders',
      'read_customers',
    ]);
  });

  it('an app with no configured scopes is installed with none', () => {
    const { emulator } = setup();
    emulator.install(SHOP, APP.clientId);
    assert.deepEqual(emulator.shop(SHOP)?.installations, { [APP.clientId]: [] });
  });

  it('throws a ConfigError listing every problem, and installs nothing', () => {
    const { emulator } = setup();
    assert.deepEqual(
      configProblems(() => emulator.install('not a shop', 'nobody', ['read everything'])),
      [
        'shop must be a {name}.myshopify.com domain',
        'clientId must be the client id of a registered app',
        'scopes must be an array of scope handles such as read_products',
      ],
    );
    assert.deepEqual(
      configProblems(() => emulator.install(SHOP, APP.clientId, 'read_products' as unknown as string[])),
      ['scopes must be an array of scope handles such as read_products'],
    );
    assert.deepEqual(emulator.shop(SHOP)?.installations, {});
  });
});

describe('POST /_emulator/install', () => {
  it('installs and answers the installation, without any secret', async () => {
    const { emulator } = setup({ apps: [CONFIGURED] });
    const response = await control(emulator, 'install', { shop: 'Cool-Shop.myshopify.com', clientId: APP.clientId });
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.deepEqual(JSON.parse(text), {
      installed: { shop: SHOP, clientId: APP.clientId, scopes: ['write_products', 'read_orders'] },
    });
    assert.ok(!text.includes(APP.clientSecret));
    const wider = await control(emulator, 'install', {
      shop: SHOP,
      clientId: APP.clientId,
      scopes: ['read_customers'],
    });
    assert.deepEqual(await wider.json(), {
      installed: { shop: SHOP, clientId: APP.clientId, scopes: ['write_products', 'read_orders', 'read_customers'] },
    });
    assert.deepEqual(emulator.requests(), [], 'controls are not Shopify requests');
  });

  it('answers 400 listing every problem, and installs nothing', async () => {
    const { emulator } = setup();
    const response = await control(emulator, 'install', { shop: 'nope', clientId: 'x', scopes: 'read_products', v: 1 });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), {
      error: 'invalid install',
      problems: [
        'shop must be a {name}.myshopify.com domain',
        'clientId must be the client id of a registered app',
        'scopes must be an array of scope handles such as read_products',
        'unknown field v',
      ],
    });
    const unknownOnly = await control(emulator, 'install', { shop: SHOP, clientId: APP.clientId, scope: 'x' });
    assert.equal(unknownOnly.status, 400);
    assert.deepEqual(((await unknownOnly.json()) as { problems: string[] }).problems, ['unknown field scope']);
    assert.equal((await control(emulator, 'install', [])).status, 400);
    const form = await emulator.fetch(
      new Request(`${ORIGIN}/_emulator/install`, { method: 'POST', body: `shop=${SHOP}&clientId=${APP.clientId}` }),
    );
    assert.equal(form.status, 415, 'a cross-site form cannot install');
    assert.deepEqual(emulator.shop(SHOP)?.installations, {});
  });
});

describe('uninstall controls', () => {
  it('emulator.uninstall throws a ConfigError listing every problem', () => {
    const { emulator } = setup();
    assert.deepEqual(
      configProblems(() => emulator.uninstall('not a shop', 'nobody')),
      ['shop must be a {name}.myshopify.com domain', 'clientId must be the client id of a registered app'],
    );
  });

  it('POST /_emulator/uninstall removes the installation; bad input answers 400 with every problem', async () => {
    const { emulator } = setup({ apps: [CONFIGURED] });
    emulator.install(SHOP, APP.clientId);
    const bad = await control(emulator, 'uninstall', { shop: 'nope', extra: true });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), {
      error: 'invalid uninstall',
      problems: [
        'shop must be a {name}.myshopify.com domain',
        'clientId must be the client id of a registered app',
        'unknown field extra',
      ],
    });
    assert.deepEqual(emulator.shop(SHOP)?.installations, { [APP.clientId]: ['write_products', 'read_orders'] });
    const response = await control(emulator, 'uninstall', { shop: SHOP, clientId: APP.clientId });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { uninstalled: { shop: SHOP, clientId: APP.clientId }, webhookIds: [] });
    assert.deepEqual(emulator.shop(SHOP)?.installations, {});
  });
});

describe('other controls list every problem', () => {
  it('POST /_emulator/revoke', async () => {
    const { emulator } = setup();
    const response = await control(emulator, 'revoke', { shop: 'nope' });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), {
      error: 'invalid revoke',
      problems: ['shop must be a {name}.myshopify.com domain', 'clientId must be the client id of a registered app'],
    });
  });

  it('POST /_emulator/clock', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const before = emulator.clock.now();
    const response = await control(emulator, 'clock', { advanceSeconds: -5, setMs: 1.5, days: 1 });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), {
      error: 'invalid clock move',
      problems: [
        'unknown field days',
        'advanceSeconds must be a number >= 0',
        'setMs must be an integer >= 0 (ms since epoch)',
        'send exactly one of advanceSeconds and setMs',
      ],
    });
    const none = await control(emulator, 'clock', {});
    assert.deepEqual(((await none.json()) as { problems: string[] }).problems, [
      'send exactly one of advanceSeconds and setMs',
    ]);
    assert.ok(emulator.clock.now() - before < 60_000, 'the clock did not move');
  });
});
