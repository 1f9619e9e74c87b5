/**
 * Authorize without `scope` — Shopify's documented form when the app's configuration manages its
 * scopes (reference §1.2) — grants the app's configured scopes; an empty `scope=` reads the same;
 * with no configured scopes either, the error page says so.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  APP,
  authorizeParams,
  authorizePath,
  exchange,
  get,
  install,
  postForm,
  SHOP,
  setup,
  userId,
} from './helpers.ts';

const CONFIGURED = { ...APP, scopes: ['write_products', 'read_orders'] };
const NO_SCOPES_CONFIGURED =
  'The scope parameter is required: this app has no access scopes in its configuration (shopify.app.toml [access_scopes] scopes).';
const authorizeUrl = (params: URLSearchParams) => `${authorizePath()}?${params}`;

describe('authorize without scope', () => {
  it('the consent page lists the configured scopes and carries no scope field', async () => {
    const { emulator } = setup({ apps: [CONFIGURED] });
    const response = await get(emulator, authorizeUrl(authorizeParams({ scope: null })));
    assert.equal(response.status, 200);
    const page = await response.text();
    assert.match(page, /It asks for these access scopes \(from the app’s configuration\):/);
    assert.match(
      page,
      /<ul id="scopes"><li><code>write_products<\/code><\/li><li><code>read_orders<\/code><\/li><\/ul>/,
    );
    assert.doesNotMatch(page, /name="scope"/);
  });

  it('installs with the configured scopes, which the offline token carries', async () => {
    const { emulator } = setup({ apps: [CONFIGURED] });
    const { code } = await install(emulator, { params: authorizeParams({ scope: null }) });
    assert.deepEqual(emulator.shop(SHOP)?.installations, { [APP.clientId]: ['write_products', 'read_orders'] });
    const token = await exchange(emulator, code);
    assert.equal(token.scope, 'write_products,read_orders');
  });

  it('the per-user leg without scope redirects at once once installed, with the user’s share', async () => {
    const { emulator } = setup({ apps: [CONFIGURED] });
    await install(emulator, { params: authorizeParams({ scope: null }) });
    const { code } = await install(emulator, {
      firstName: 'Rita',
      action: 'login',
      params: authorizeParams({ scope: null, 'grant_options[]': 'per-user' }),
    });
    const online = await exchange(emulator, code);
    assert.equal(online.scope, 'write_products,read_orders');
    assert.equal(online.associated_user_scope, 'read_products', 'Rita reads products only');
  });

  it('a scope parameter still decides over the configured scopes', async () => {
    const { emulator } = setup({ apps: [CONFIGURED] });
    await install(emulator, { params: authorizeParams({ scope: 'read_customers' }) });
    assert.deepEqual(emulator.shop(SHOP)?.installations, { [APP.clientId]: ['read_customers'] });
  });

  it('an empty scope= reads as an absent one (UNCONFIRMED reading)', async () => {
    const { emulator } = setup({ apps: [CONFIGURED] });
    const { code } = await install(emulator, { params: authorizeParams({ scope: '' }) });
    assert.equal((await exchange(emulator, code)).scope, 'write_products,read_orders');
  });
});

describe('authorize without scope: refusals', () => {
  for (const [name, scope] of [
    ['absent', null],
    ['empty', ''],
  ] as const) {
    it(`${name} scope and no configured scopes: 400 saying so`, async () => {
      const { emulator } = setup();
      const response = await get(emulator, authorizeUrl(authorizeParams({ scope })));
      assert.equal(response.status, 400);
      assert.match(
        await response.text(),
        new RegExp(`<p id="error">${NO_SCOPES_CONFIGURED.replace(/[()[\]]/g, '\\$&')}</p>`),
      );
    });
  }

  it('the consent form posted without scope and no configured scopes: 400, nothing installed', async () => {
    const { emulator } = setup();
    const form = authorizeParams({ scope: null });
    form.set('user_id', userId(emulator, 'Olivia'));
    form.set('action', 'install');
    const response = await postForm(emulator, authorizePath(), form);
    assert.equal(response.status, 400);
    assert.deepEqual(emulator.shop(SHOP)?.installations, {});
  });

  it('a repeated scope: 400, even with configured scopes', async () => {
    const { emulator } = setup({ apps: [CONFIGURED] });
    const params = authorizeParams({ scope: 'read_products' });
    params.append('scope', 'write_orders');
    const response = await get(emulator, authorizeUrl(params));
    assert.equal(response.status, 400);
    assert.match(await response.text(), /<p id="error">The scope parameter may appear at most once\.<\/p>/);
  });
});
