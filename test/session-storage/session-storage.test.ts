/**
 * What the drop-in `SessionStorage` adds to Shopify's contract, with tokens the emulator issued:
 * an expiring offline session loads with a valid (refreshed) token and never its refresh token, so
 * the Shopify library never refreshes by itself; two instances sharing a store refresh once; a
 * session stored back loses nothing; `invalidateAccessToken` marks the shop; non-embedded online
 * ids go through aliases; what cannot be keyed is refused; tokens are sealed at rest.
 */

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { Session } from '@shopify/shopify-api';
import { ConfigError } from '../../src/errors.ts';
import { createMemorySessionAliases, createSessionStorage, parseSessionId } from '../../src/session-storage/index.ts';
import { openSqliteStorage } from '../../src/storage/sqlite.ts';
import { adminStatus, openEmulatorVault } from '../helpers/emulator-install.ts';
import { HOUR, offlineSession, onlineSession, RUN, world } from '../import/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoptoken-session-storage-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const refreshGrants = (emulator: ReturnType<typeof world>['emulator']) =>
  emulator.grants().filter((grant) => grant.grantType === 'refresh_token').length;

describe('createSessionStorage', () => {
  it('loads an expiring offline session with a valid token, refreshed by the vault; never the refresh token', async () => {
    const { emulator, vault } = world();
    const storage = createSessionStorage(vault);
    const session = await offlineSession(emulator, `expiring-${RUN}.myshopify.com`, { expiring: true });
    await storage.storeSession(session);

    const fresh = await storage.loadSession(session.id);
    assert.equal(fresh?.accessToken, session.accessToken, 'a fresh token is returned as stored');
    assert.equal(fresh?.expires?.getTime(), session.expires?.getTime());
    assert.equal(fresh?.refreshTokenExpires?.getTime(), session.refreshTokenExpires?.getTime());

    // 55 minutes on, the token is within the libraries' 5-minute window: the vault refreshes first.
    emulator.clock.advance(55 * 60_000);
    const loaded = await storage.loadSession(session.id);
    assert.ok(loaded?.accessToken && loaded.accessToken !== session.accessToken);
    assert.equal(refreshGrants(emulator), 1);
    assert.equal(await adminStatus(emulator, session.shop, loaded.accessToken), 200);
    assert.ok(loaded.expires!.getTime() - emulator.clock.now() > 6 * 60_000, 'valid beyond the margin');
    // What makes Shopify's libraries refresh by themselves is a refreshToken on the session: never there.
    assert.equal(loaded.refreshToken, undefined);
    for (const shown of [JSON.stringify(loaded), inspect(loaded, { depth: 5 }), JSON.stringify(loaded.toObject())]) {
      assert.ok(!shown.includes(session.refreshToken!), 'the refresh token does not leave the vault');
    }
  });

  it('refreshes once for two instances loading one expired shop at the same time', async () => {
    const { emulator } = world();
    const file = join(dir, 'shared.db');
    const key = { id: 'k1', key: randomBytes(32) };
    const vaults = [
      openEmulatorVault(emulator, { storage: await openSqliteStorage(file), keys: [key] }),
      openEmulatorVault(emulator, { storage: await openSqliteStorage(file), keys: [key] }),
    ];
    try {
      const storages = vaults.map((vault) => createSessionStorage(vault));
      const session = await offlineSession(emulator, `shared-${RUN}.myshopify.com`, { expiring: true });
      await storages[0]!.storeSession(session);
      emulator.clock.advance(2 * HOUR);
      const loaded = await Promise.all(Array.from({ length: 20 }, (_, i) => storages[i % 2]!.loadSession(session.id)));
      assert.equal(refreshGrants(emulator), 1);
      const tokens = new Set(loaded.map((entry) => entry?.accessToken));
      assert.equal(tokens.size, 1);
      assert.equal(await adminStatus(emulator, session.shop, [...tokens][0]!), 200);
    } finally {
      for (const vault of vaults) await vault.close();
    }
  });

  it('writes nothing when a loaded session is stored back, so the refresh token is kept', async () => {
    const { emulator, vault } = world();
    const storage = createSessionStorage(vault);
    const session = await offlineSession(emulator, `stored-back-${RUN}.myshopify.com`, { expiring: true });
    await storage.storeSession(session);
    const before = await vault.list();
    const loaded = await storage.loadSession(session.id);
    assert.equal(await storage.storeSession(loaded!), true);
    // A copy the app made (not the object handed out) carrying the same token: nothing written either.
    assert.equal(await storage.storeSession(new Session(loaded!.toObject())), true);
    assert.deepEqual(await vault.list(), before);
    emulator.clock.advance(2 * HOUR);
    const refreshed = await storage.loadSession(session.id);
    assert.equal(refreshGrants(emulator), 1, 'the refresh token survived');
    assert.equal(await adminStatus(emulator, session.shop, refreshed!.accessToken!), 200);
  });

  it('marks the shop when the library invalidates its token, and recovers on the next store', async () => {
    const { emulator, vault } = world();
    const storage = createSessionStorage(vault);
    const shop = `invalidated-${RUN}.myshopify.com`;
    const reasons: string[] = [];
    vault.on('needs_reauth', ({ reason }) => reasons.push(reason));
    await storage.storeSession(await offlineSession(emulator, shop));
    // What @shopify/shopify-app-react-router's invalidateAccessToken does after an Admin 401.
    const loaded = await storage.loadSession(`offline_${shop}`);
    loaded!.accessToken = undefined;
    assert.equal(await storage.storeSession(loaded!), true);
    assert.equal((await vault.offline(shop))?.status, 'needs_reauth');
    assert.deepEqual(reasons, ['admin_unauthorized']);
    assert.equal(await storage.loadSession(`offline_${shop}`), undefined, 'the library authenticates again');
    // … and stores the token it got: the shop is active again.
    const again = await offlineSession(emulator, shop);
    await storage.storeSession(again);
    assert.equal((await storage.loadSession(`offline_${shop}`))?.accessToken, again.accessToken);
  });

  it('does not mark a token newer than the one the invalidated session carried', async () => {
    const { emulator, vault } = world();
    const storage = createSessionStorage(vault);
    const shop = `stale-${RUN}.myshopify.com`;
    await storage.storeSession(await offlineSession(emulator, shop, { expiring: true }));
    const stale = await storage.loadSession(`offline_${shop}`);
    emulator.clock.advance(2 * HOUR);
    const current = await storage.loadSession(`offline_${shop}`);
    assert.notEqual(current?.accessToken, stale?.accessToken);
    stale!.accessToken = undefined;
    await storage.storeSession(stale!);
    assert.equal((await vault.offline(shop))?.status, 'active');
    assert.equal((await storage.loadSession(`offline_${shop}`))?.accessToken, current?.accessToken);
  });

  it('deletes an online token whose session was invalidated', async () => {
    const { emulator, vault } = world();
    const storage = createSessionStorage(vault);
    const shop = `online-invalid-${RUN}.myshopify.com`;
    await storage.storeSession(await offlineSession(emulator, shop));
    const online = await onlineSession(emulator, shop);
    await storage.storeSession(online);
    const loaded = await storage.loadSession(online.id);
    loaded!.accessToken = undefined;
    await storage.storeSession(loaded!);
    assert.equal(await storage.loadSession(online.id), undefined);
    assert.ok(await storage.loadSession(`offline_${shop}`), "the shop's offline token stays");
  });

  it("keeps a non-embedded app's online session (random id) under its user, found through the aliases", async () => {
    const { emulator, vault } = world();
    const shop = `non-embedded-${RUN}.myshopify.com`;
    const aliases = createMemorySessionAliases();
    const storage = createSessionStorage(vault, { aliases });
    await storage.storeSession(await offlineSession(emulator, shop));
    const session = await onlineSession(emulator, shop, { embedded: false });
    assert.equal(parseSessionId(session.id), null, 'a random id names no row by itself');
    await storage.storeSession(session);
    const userId = String(session.onlineAccessInfo!.associated_user.id);
    const loaded = await storage.loadSession(session.id);
    assert.equal(loaded?.id, session.id);
    assert.equal(loaded?.accessToken, session.accessToken);
    assert.equal(loaded?.onlineAccessInfo?.associated_user.id, Number(userId));
    assert.equal((await vault.online(shop, userId))?.accessToken, session.accessToken);
    assert.equal(await adminStatus(emulator, shop, loaded!.accessToken!), 200);
    // Another instance sharing the aliases finds it; one with its own (the default) does not.
    assert.ok(await createSessionStorage(vault, { aliases }).loadSession(session.id));
    assert.equal(await createSessionStorage(vault).loadSession(session.id), undefined);
    // findSessionsByShop names it by its user: {shop}_{userId}.
    const ids = (await storage.findSessionsByShop(shop)).map((found) => found.id).sort();
    assert.deepEqual(ids, [`${shop}_${userId}`, `offline_${shop}`].sort());
    await storage.deleteSession(session.id);
    assert.equal(await storage.loadSession(session.id), undefined);
    assert.equal(await vault.online(shop, userId), null);
  });

  it('deletes every token of the shop with its offline session', async () => {
    const { emulator, vault } = world();
    const storage = createSessionStorage(vault);
    const shop = `uninstalled-${RUN}.myshopify.com`;
    await storage.storeSession(await offlineSession(emulator, shop));
    const online = await onlineSession(emulator, shop);
    await storage.storeSession(online);
    // What shopify-app-express's APP_UNINSTALLED handler does.
    const sessions = await storage.findSessionsByShop(shop);
    assert.equal(sessions.length, 2);
    await storage.deleteSessions([`offline_${shop}`]);
    assert.equal(await storage.loadSession(online.id), undefined);
    assert.deepEqual(await vault.list(), []);
  });

  it('counts a stored offline session as an installed shop', async () => {
    const { emulator, vault } = world();
    const storage = createSessionStorage(vault);
    const session = await offlineSession(emulator, `installed-${RUN}.myshopify.com`);
    await storage.storeSession(session);
    assert.ok((await vault.offline(session.shop))?.installedAt);
  });

  it('refuses sessions it could not load back, naming why and never the token', async () => {
    const { vault } = world();
    const storage = createSessionStorage(vault);
    const accessToken = `shpat_${randomBytes(16).toString('hex')}`;
    const shop = `refused-${RUN}.myshopify.com`;
    const cases: [string, Session, RegExp][] = [
      [
        'an offline session under another id',
        new Session({ id: 'custom-id', shop, state: '', isOnline: false, accessToken }),
        /offline_\{shop\}/,
      ],
      [
        'a shop that is not a shop domain',
        new Session({ id: 'offline_shop', shop: 'shop', state: '', isOnline: false, accessToken }),
        /myshopify\.com/,
      ],
      [
        'an online session without a user',
        new Session({
          id: randomUUID(),
          shop,
          state: '',
          isOnline: true,
          accessToken,
          expires: new Date(Date.now() + HOUR),
        }),
        /associated_user\.id/,
      ],
      [
        'an online session without an expiry',
        new Session({
          id: `${shop}_1`,
          shop,
          state: '',
          isOnline: true,
          accessToken,
          // biome-ignore lint/suspicious/noExplicitAny: a user with only an id, as the official battery stores
          onlineAccessInfo: { associated_user: { id: 1 } } as any,
        }),
        /expires/,
      ],
    ];
    for (const [name, session, pattern] of cases) {
      await assert.rejects(
        storage.storeSession(session),
        (error: unknown) =>
          error instanceof TypeError && pattern.test(error.message) && !error.message.includes(accessToken),
        name,
      );
    }
    assert.deepEqual(await vault.list(), []);
  });

  it('seals the tokens at rest', async () => {
    const { emulator } = world();
    const file = join(dir, 'sealed.db');
    const vault = openEmulatorVault(emulator, { storage: await openSqliteStorage(file) });
    try {
      const storage = createSessionStorage(vault);
      const shop = `sealed-${RUN}.myshopify.com`;
      const offline = await offlineSession(emulator, shop, { expiring: true });
      const online = await onlineSession(emulator, shop);
      await storage.storeSession(offline);
      await storage.storeSession(online);
      assert.equal((await storage.loadSession(online.id))?.accessToken, online.accessToken);
    } finally {
      await vault.close();
    }
    const bytes = readFileSync(file).toString('latin1');
    assert.ok(!/shpat_|shprt_|shpua_/.test(bytes), 'no token in clear in the database file');
  });

  it('checks its options when built', () => {
    const { vault } = world();
    // biome-ignore lint/suspicious/noExplicitAny: wrong on purpose
    assert.throws(() => createSessionStorage({} as any), ConfigError);
    assert.throws(() => createSessionStorage(vault, { marginMs: -1 }), /marginMs/);
    // biome-ignore lint/suspicious/noExplicitAny: wrong on purpose
    assert.throws(() => createSessionStorage(vault, { aliases: {} as any }), /aliases/);
  });
});
