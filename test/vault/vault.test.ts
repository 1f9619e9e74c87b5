import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ConfigError, ShoptokenError } from '../../src/errors.ts';
import { openVault } from '../../src/open-vault.ts';
import type { AssociatedUser } from '../../src/protocol/tokens.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import type { TokenStorage } from '../../src/storage/types.ts';

const SHOP = 'cool-shop.myshopify.com';
const OTHER = 'other-shop.myshopify.com';
const ACCESS = 'shpat_offline_access_token_value_0001';
const REFRESH = 'shprt_refresh_token_value_0001';
const ONLINE = 'shpua_online_access_token_value_0001';
const user: AssociatedUser = {
  id: '902541635',
  firstName: 'John',
  lastName: 'Smith',
  email: 'john@example.com',
  emailVerified: true,
  accountOwner: true,
  locale: 'en',
  collaborator: false,
};

function setup(start = 1_700_000_000_000) {
  const clock = { now: start };
  const storage = createMemoryStorage();
  const vault = openVault({ storage, keys: [{ id: 'k1', key: randomBytes(32) }], now: () => clock.now });
  return { clock, storage, vault };
}

function offlineInput(shop = SHOP, accessToken = ACCESS) {
  return {
    shop,
    accessToken,
    scopes: ['write_products', 'read_orders'],
    expiresAt: new Date(1_700_003_600_000),
    refreshToken: REFRESH,
    refreshTokenExpiresAt: new Date(1_707_776_000_000),
  };
}

function onlineInput(expiresAt = new Date(1_700_000_060_000)) {
  return {
    shop: SHOP,
    accessToken: ONLINE,
    scopes: ['write_products'],
    associatedUserScopes: ['read_products'],
    expiresAt,
    user,
  };
}

/** Every key, own or inherited, enumerable or not, of an object. */
function allKeys(value: object): string[] {
  const keys: string[] = [];
  for (let o: object | null = value; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    keys.push(...Reflect.ownKeys(o).map(String));
  }
  return keys;
}

describe('Vault', () => {
  it('saves and reads an expiring offline token without exposing the refresh token', async () => {
    const { vault, clock } = setup();
    const saved = await vault.saveOffline(offlineInput());
    clock.now += 1000;
    const read = await vault.offline(SHOP);
    assert.ok(read);
    for (const token of [saved, read]) {
      assert.equal(token.accessToken, ACCESS);
      assert.equal(token.kind, 'offline');
      assert.equal(token.userId, null);
      assert.equal(token.expiring, true);
      assert.deepEqual(token.scopes, ['write_products', 'read_orders']);
      assert.equal(token.expiresAt?.getTime(), 1_700_003_600_000);
      assert.equal(token.refreshTokenExpiresAt?.getTime(), 1_707_776_000_000);
      assert.equal(token.createdAt.getTime(), 1_700_000_000_000);
      assert.ok(!allKeys(token).some((key) => /refresh_?token$/i.test(key)), 'a refreshToken property exists');
      assert.ok(!JSON.stringify(token).includes(REFRESH));
      assert.ok(!inspect(token, { showHidden: true, depth: 10 }).includes(REFRESH));
    }
    assert.equal(await vault.offline(OTHER), null);
  });

  it('keeps createdAt and sets updatedAt when a token is replaced', async () => {
    const { vault, clock } = setup();
    await vault.saveOffline(offlineInput());
    clock.now += 5000;
    const replaced = await vault.saveOffline({
      ...offlineInput(SHOP, 'shpat_new'),
      expiresAt: null,
      refreshToken: null,
      refreshTokenExpiresAt: null,
    });
    assert.equal(replaced.createdAt.getTime(), 1_700_000_000_000);
    assert.equal(replaced.updatedAt.getTime(), 1_700_000_005_000);
    assert.equal(replaced.expiring, false);
    const read = await vault.offline(SHOP);
    assert.equal(read?.accessToken, 'shpat_new');
    assert.equal(read?.createdAt.getTime(), 1_700_000_000_000);
    assert.equal(read?.updatedAt.getTime(), 1_700_000_005_000);
  });

  it('saves and reads an online token, and returns null once it has expired', async () => {
    const { vault, clock } = setup();
    const saved = await vault.saveOnline(onlineInput());
    assert.equal(saved.accessToken, ONLINE);
    const read = await vault.online(SHOP, user.id);
    assert.ok(read);
    assert.equal(read.accessToken, ONLINE);
    assert.equal(read.userId, user.id);
    assert.deepEqual(read.user, user);
    assert.deepEqual(read.associatedUserScopes, ['read_products']);
    assert.ok(!allKeys(read).some((key) => /refresh_?token$/i.test(key)));
    assert.equal(await vault.online(SHOP, '1'), null);
    clock.now = 1_700_000_059_999;
    assert.ok(await vault.online(SHOP, user.id));
    clock.now = 1_700_000_060_000;
    assert.equal(await vault.online(SHOP, user.id), null);
  });

  it('lists metadata only, sorted by shop, kind and user', async () => {
    const { vault } = setup();
    await vault.saveOnline(onlineInput());
    await vault.saveOffline(offlineInput(OTHER));
    await vault.saveOffline(offlineInput());
    const list = await vault.list();
    assert.deepEqual(
      list.map((t) => [t.shop, t.kind, t.userId]),
      [
        [SHOP, 'offline', null],
        [SHOP, 'online', user.id],
        [OTHER, 'offline', null],
      ],
    );
    const text = JSON.stringify(list) + inspect(list, { showHidden: true, depth: 10 });
    for (const secret of [ACCESS, REFRESH, ONLINE, user.email]) assert.ok(!text.includes(secret), 'list leaks a value');
    assert.ok(list.every((t) => !('accessToken' in t)));
  });

  it("lists one shop's tokens, and not its neighbours' in key order", async () => {
    const { vault } = setup();
    const before = 'cool-shop-2.myshopify.com'; // '-' sorts before '.'
    const after = 'cool-shopa.myshopify.com';
    await vault.saveOffline(offlineInput(before));
    await vault.saveOffline(offlineInput(after));
    await vault.saveOnline({ ...onlineInput(), shop: after });
    assert.deepEqual(await vault.list({ shop: SHOP }), []);
    await vault.saveOnline(onlineInput());
    await vault.saveOnline({ ...onlineInput(), user: { ...user, id: '7' } });
    assert.deepEqual(
      (await vault.list({ shop: SHOP })).map((t) => [t.shop, t.kind, t.userId]),
      [
        [SHOP, 'online', '7'],
        [SHOP, 'online', user.id],
      ],
    );
    await vault.saveOffline(offlineInput());
    assert.deepEqual(
      (await vault.list({ shop: SHOP })).map((t) => [t.kind, t.userId]),
      [
        ['offline', null],
        ['online', '7'],
        ['online', user.id],
      ],
    );
    await assert.rejects(vault.list({ shop: 'evil.com' }), TypeError);
  });

  it('stores only sealed values', async () => {
    const { vault, storage } = setup();
    await vault.saveOffline(offlineInput());
    await vault.saveOnline(onlineInput());
    const rows = JSON.stringify(await storage.list({ limit: 10_000 }));
    for (const secret of [ACCESS, REFRESH, ONLINE, user.email, user.firstName]) assert.ok(!rows.includes(secret));
  });

  it("refuses shop A's ciphertext copied into shop B's row (AAD binding)", async () => {
    const { vault, storage } = setup();
    await vault.saveOffline(offlineInput(SHOP, ACCESS));
    await vault.saveOffline(offlineInput(OTHER, 'shpat_other_shop_token'));
    const a = (await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))!;
    const b = (await storage.get({ app: '', shop: OTHER, kind: 'offline', userId: '' }))!;
    await storage.put({ ...b, accessToken: a.accessToken });
    await assert.rejects(
      vault.offline(OTHER),
      (error: unknown) =>
        error instanceof ShoptokenError && error.code === 'ERR_DECRYPT' && !error.message.includes(ACCESS),
    );
    assert.equal((await vault.offline(SHOP))?.accessToken, ACCESS);
  });

  it('rejects invalid input and stores nothing', async () => {
    const { vault } = setup();
    const bad = [
      { ...offlineInput(), shop: 'Cool-Shop.myshopify.com' },
      { ...offlineInput(), shop: 'evil.com' },
      { ...offlineInput(), accessToken: '' },
      { ...offlineInput(), scopes: ['read_a,write_b'] },
      { ...offlineInput(), expiresAt: null },
      { ...offlineInput(), expiresAt: new Date(Number.NaN) },
    ];
    for (const input of bad) await assert.rejects(vault.saveOffline(input), TypeError);
    await assert.rejects(vault.saveOnline({ ...onlineInput(), user: { ...user, id: '12a' } }), TypeError);
    await assert.rejects(vault.saveOnline({ ...onlineInput(), accessToken: '' }), (error: unknown) => {
      return error instanceof TypeError && !error.message.includes(ONLINE);
    });
    await assert.rejects(vault.online(SHOP, 'abc'), TypeError);
    await assert.rejects(vault.offline('not a shop'), TypeError);
    assert.deepEqual(await vault.list(), []);
  });

  it('checks its options when opened', () => {
    const storage: TokenStorage = createMemoryStorage();
    assert.throws(() => openVault({ storage, keys: [] }), ConfigError);
    assert.throws(
      () => openVault({ storage: {} as TokenStorage, keys: [{ id: 'k1', key: Buffer.alloc(8) }] }),
      (error: unknown) => error instanceof ConfigError && error.problems.length === 2,
    );
  });
});

describe('Vault: token values stay out of logs', () => {
  it('keeps accessToken usable but out of JSON, inspect and spread', async () => {
    const { vault } = setup();
    await vault.saveOffline(offlineInput());
    await vault.saveOnline(onlineInput(new Date(1_700_000_060_000)));
    const offline = (await vault.offline(SHOP))!;
    const online = (await vault.online(SHOP, user.id))!;
    assert.equal(offline.accessToken, ACCESS);
    assert.equal(online.accessToken, ONLINE);
    const context = { offline, online, session: { offline, online } };
    for (const rendered of [JSON.stringify(context), inspect(context, { depth: 10 }), JSON.stringify({ ...offline })]) {
      assert.ok(!rendered.includes(ACCESS) && !rendered.includes(ONLINE), rendered);
    }
  });
});

describe('Vault: install marker', () => {
  it('marks an install once and keeps the mark when the offline token is re-minted', async () => {
    const { clock, vault } = setup();
    assert.equal((await vault.saveOffline(offlineInput())).installedAt, null);
    clock.now += 1000;
    await vault.markInstalled(SHOP);
    const installedAt = (await vault.offline(SHOP))!.installedAt;
    assert.equal(installedAt?.getTime(), clock.now);
    clock.now += 1000;
    await vault.markInstalled(SHOP);
    assert.equal((await vault.offline(SHOP))!.installedAt?.getTime(), installedAt?.getTime(), 'the first mark stays');
    await vault.saveOffline(offlineInput(SHOP, 'shpat_re_minted_access_token_0002'));
    assert.equal((await vault.offline(SHOP))!.installedAt?.getTime(), installedAt?.getTime());
  });

  it('refuses to mark a shop with no offline token', async () => {
    const { vault } = setup();
    await assert.rejects(vault.markInstalled(OTHER), TypeError);
  });
});
