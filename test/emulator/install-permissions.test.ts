/**
 * "The user installing the app must have access to all required scopes, or the installation
 * fails" (reference §9): for online access, and — as the older docs say — for offline access.
 * Default staff: Olivia Owner (everything), Sam Staff (read/write_products, read_orders), Rita
 * Reader (read_products). The app asks for write_products, read_orders, read_customers.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APP, authorizeParams, authorizePath, install, postForm, SHOP, setup, userId } from './helpers.ts';

const refusal = (missing: string) =>
  `<p id="error">The user installing the app must have access to all required scopes. Missing: ${missing}.</p>`;

/** Posts the consent form as `firstName` with `action=install`. */
function installAs(emulator: Parameters<typeof userId>[0], firstName: string, params = authorizeParams()) {
  const form = new URLSearchParams(params);
  form.set('user_id', userId(emulator, firstName));
  form.set('action', 'install');
  return postForm(emulator, authorizePath(), form);
}

describe('installing offline needs a user with every requested scope', () => {
  it('Rita Reader (read_products only): 403, nothing installed, no code', async () => {
    const { emulator } = setup();
    const response = await installAs(emulator, 'Rita');
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('location'), null);
    assert.ok((await response.text()).includes(refusal('write_products, read_orders, read_customers')));
    assert.deepEqual(emulator.shop(SHOP)?.installations, {});
    assert.equal(response.headers.get('set-cookie'), null, 'nobody is signed in');
  });

  it('Sam Staff (no read_customers): 403 naming only what he lacks', async () => {
    const { emulator } = setup();
    const response = await installAs(emulator, 'Sam');
    assert.equal(response.status, 403);
    assert.ok((await response.text()).includes(refusal('read_customers')));
    assert.deepEqual(emulator.shop(SHOP)?.installations, {});
  });

  it('the same refusal with the configured scopes (authorize without scope)', async () => {
    const { emulator } = setup({ apps: [{ ...APP, scopes: ['write_products'] }] });
    const response = await installAs(emulator, 'Rita', authorizeParams({ scope: null }));
    assert.equal(response.status, 403);
    assert.ok((await response.text()).includes(refusal('write_products')));
  });

  it('the same page as an online install by her', async () => {
    const { emulator } = setup();
    const offline = await (await installAs(emulator, 'Rita')).text();
    const online = await (await installAs(emulator, 'Rita', authorizeParams({ 'grant_options[]': 'per-user' }))).text();
    assert.equal(offline, online);
  });

  it('a user whose permissions cover the scopes installs (write implies read)', async () => {
    const { emulator } = setup();
    const { location } = await install(emulator, {
      firstName: 'Sam',
      params: authorizeParams({ scope: 'write_products' }),
    });
    assert.ok(location.searchParams.get('code'));
    assert.deepEqual(emulator.shop(SHOP)?.installations, { [APP.clientId]: ['write_products'] });
  });

  it('once installed, Rita signs in to the installed app (the rule is for installing)', async () => {
    const { emulator } = setup();
    await install(emulator); // Olivia installs
    const { code } = await install(emulator, { firstName: 'Rita', action: 'login' });
    assert.ok(code);
  });
});
