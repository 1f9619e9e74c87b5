/**
 * The drop-in `SessionStorage` against the behaviour Shopify's official adapters are held to (the
 * rules of `@shopify/shopify-app-session-storage-test-utils`' battery, restated and written anew),
 * on a vault over memory and over a SQLite file. Where shoptoken differs by design the assertion
 * says so: sessions are real ones (a `{name}.myshopify.com` shop, an access token, Shopify's ids,
 * an online session with its expiry), `state` is not kept, and a refresh token is never returned.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Session } from '@shopify/shopify-api';
import type { SessionStorage } from '@shopify/shopify-app-session-storage';
import { openVault, type Vault } from '../../src/open-vault.ts';
import { createSessionStorage } from '../../src/session-storage/index.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { openSqliteStorage } from '../../src/storage/sqlite.ts';
import type { TokenStorage } from '../../src/storage/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoptoken-session-battery-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const SCOPES = ['test_scope'];
const SHOP = 'battery-shop.myshopify.com';
const token = () => `shpat_${randomBytes(16).toString('hex')}`;

/** The properties a session carries through a storage, as `Session.equals` compares them, without `state`. */
function carried(session: Session | undefined) {
  assert.ok(session, 'a session was loaded');
  return session
    .toPropertyArray(true)
    .filter(([key]) => key !== 'state')
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

/** Asserts `loaded` is `stored` as shoptoken returns it: the same session, `state` empty, no refresh token. */
function assertSame(loaded: Session | undefined, stored: Session): void {
  const { refreshToken: _, ...rest } = stored.toObject();
  assert.deepEqual(carried(loaded), carried(new Session(rest)));
  assert.equal(loaded?.state, '');
  assert.equal(loaded?.refreshToken, undefined);
}

const stores: [string, () => Promise<TokenStorage>][] = [
  ['memory', async () => createMemoryStorage()],
  ['sqlite', () => openSqliteStorage(join(dir, `vault-${files++}.db`))],
];

for (const [name, openStorage] of stores) {
  describe(`createSessionStorage battery (${name})`, () => {
    const vaults: Vault[] = [];
    after(async () => {
      for (const vault of vaults) await vault.close();
    });
    const factory = async (): Promise<SessionStorage> => {
      const vault = openVault({ storage: await openStorage(), keys: [{ id: 'k1', key: randomBytes(32) }] });
      vaults.push(vault);
      // What the app's shopifyApp({ sessionStorage }) option takes.
      return createSessionStorage(vault);
    };

    it('stores, loads and deletes offline sessions of every shape', async () => {
      const storage = await factory();
      const id = `offline_${SHOP}`;
      const inAnHour = () => {
        const date = new Date();
        date.setMilliseconds(0);
        date.setMinutes(date.getMinutes() + 60);
        return date;
      };
      const shapes: (() => Session)[] = [
        () =>
          new Session({
            id,
            shop: SHOP,
            state: 'state',
            isOnline: false,
            scope: SCOPES.toString(),
            accessToken: token(),
          }),
        () =>
          new Session({
            id,
            shop: SHOP,
            state: 'state',
            isOnline: false,
            expires: inAnHour(),
            scope: SCOPES.toString(),
            accessToken: token(),
          }),
        () =>
          new Session({
            id,
            shop: SHOP,
            state: 'state',
            isOnline: false,
            // biome-ignore lint/suspicious/noExplicitAny: an explicit null expiry, as apps store it
            expires: null as any,
            scope: SCOPES.toString(),
            accessToken: token(),
          }),
        () =>
          new Session({
            id,
            shop: SHOP,
            state: 'state',
            isOnline: false,
            expires: undefined,
            scope: SCOPES.toString(),
            accessToken: token(),
          }),
      ];
      // Twice over, as the official battery does: each shape stored after the previous one was deleted.
      for (const shape of [...shapes, ...shapes]) {
        const session = shape();
        assert.equal(await storage.storeSession(session), true);
        const loaded = await storage.loadSession(id);
        assertSame(loaded, session);
        assert.equal(loaded?.isActive(SCOPES), true);
        assert.equal(await storage.deleteSession(id), true);
        assert.equal(await storage.loadSession(id), undefined);
        assert.equal(await storage.deleteSession(id), true, 'deleting a session that is not there succeeds');
      }
    });

    it('replaces a stored session with a newer one of the same id', async () => {
      const storage = await factory();
      const id = `offline_${SHOP}`;
      const first = new Session({
        id,
        shop: SHOP,
        state: 's',
        isOnline: false,
        scope: 'read_products',
        accessToken: token(),
      });
      const second = new Session({
        id,
        shop: SHOP,
        state: 's',
        isOnline: false,
        scope: 'write_products',
        accessToken: token(),
      });
      await storage.storeSession(first);
      await storage.storeSession(second);
      assertSame(await storage.loadSession(id), second);
    });

    it('stores sessions with unexpected fields (which are not kept)', async () => {
      const storage = await factory();
      const session = new Session({
        id: `offline_${SHOP}`,
        shop: SHOP,
        state: 'state',
        isOnline: false,
        accessToken: token(),
      });
      (session as unknown as Record<string, unknown>).someField = 'lol';
      assert.equal(await storage.storeSession(session), true);
      const loaded = await storage.loadSession(session.id);
      assertSame(loaded, session);
      assert.equal((loaded as unknown as Record<string, unknown>).someField, undefined);
    });

    it('stores, loads and deletes online sessions with their user', async () => {
      const storage = await factory();
      const id = `${SHOP}_123`;
      const session = new Session({
        id,
        shop: SHOP,
        state: 'state',
        isOnline: true,
        scope: SCOPES.toString(),
        accessToken: token(),
        // shoptoken keeps an online token with its expiry (Shopify always gives one).
        expires: new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000),
        onlineAccessInfo: {
          expires_in: 3600,
          associated_user_scope: SCOPES.toString(),
          associated_user: {
            id: 123,
            first_name: 'first',
            last_name: 'last',
            email: 'email@email.com',
            account_owner: true,
            locale: 'en',
            collaborator: false,
            email_verified: true,
          },
        },
      });
      for (let round = 0; round < 2; round++) {
        assert.equal(await storage.storeSession(session), true);
        const loaded = await storage.loadSession(id);
        assertSame(loaded, session);
        assert.deepEqual(loaded?.onlineAccessInfo?.associated_user, session.onlineAccessInfo?.associated_user);
        assert.equal(loaded?.isActive(SCOPES), true);
        assert.equal(await storage.deleteSession(id), true);
        assert.equal(await storage.loadSession(id), undefined);
        assert.equal(await storage.deleteSession(id), true);
      }
    });

    it('answers undefined for ids that name no session', async () => {
      const storage = await factory();
      for (const id of [
        'not_a_session_id',
        `offline_${SHOP}`,
        `${SHOP}_42`,
        'offline_not-a-shop',
        'offline_',
        '',
        'Battery-Shop.myshopify.com_42',
        `${SHOP}_abc`,
      ]) {
        assert.equal(await storage.loadSession(id), undefined, id);
      }
    });

    const fourSessions = (prefix: string) => {
      const shop = (n: number) => `${prefix}-shop${n}-sessions.myshopify.com`;
      const online = new Session({
        id: `${shop(1)}_7`,
        shop: shop(1),
        state: 'state',
        isOnline: true,
        scope: 'read_products',
        accessToken: token(),
        expires: new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000),
        onlineAccessInfo: {
          expires_in: 3600,
          associated_user_scope: 'read_products',
          associated_user: {
            id: 7,
            first_name: 'a',
            last_name: 'b',
            email: 'a@b.example',
            account_owner: false,
            locale: 'en',
            collaborator: false,
            email_verified: true,
          },
        },
      });
      const offline = (n: number) =>
        new Session({ id: `offline_${shop(n)}`, shop: shop(n), state: 'state', isOnline: false, accessToken: token() });
      return { shop, sessions: [offline(1), offline(2), online, offline(3)] };
    };

    it('finds every session of a shop, and only those', async () => {
      const storage = await factory();
      const { shop, sessions } = fourSessions('find');
      for (const session of sessions) assert.equal(await storage.storeSession(session), true);
      const found = await storage.findSessionsByShop(shop(1));
      assert.equal(found.length, 2);
      const byId = new Map(found.map((session) => [session.id, session]));
      for (const session of [sessions[0]!, sessions[2]!]) assertSame(byId.get(session.id), session);
      assert.deepEqual(await storage.findSessionsByShop('nobody.myshopify.com'), []);
      assert.deepEqual(await storage.findSessionsByShop('not a shop'), []);
    });

    it('deletes the sessions of a list of ids', async () => {
      const storage = await factory();
      const { shop, sessions } = fourSessions('delete');
      for (const session of sessions) await storage.storeSession(session);
      const ids = (await storage.findSessionsByShop(shop(1))).map((session) => session.id);
      assert.equal(ids.length, 2);
      assert.equal(await storage.deleteSessions(ids), true);
      assert.deepEqual(await storage.findSessionsByShop(shop(1)), []);
      assert.equal((await storage.findSessionsByShop(shop(2))).length, 1, 'other shops keep theirs');
      assert.equal((await storage.findSessionsByShop(shop(3))).length, 1);
    });

    it('stores a scope longer than 255 characters', async () => {
      const storage = await factory();
      const scope = [
        'unauthenticated_read_product_listings',
        'unauthenticated_write_checkouts',
        'unauthenticated_write_customers',
        'unauthenticated_read_customer_tags',
        'unauthenticated_read_content',
        'unauthenticated_read_product_tags',
        'read_orders',
        'read_products',
        'read_script_tags',
        'write_script_tags',
        'read_legal_policies',
      ].join(',');
      assert.ok(scope.length > 255);
      const session = new Session({
        id: `offline_${SHOP}`,
        shop: SHOP,
        state: 'state',
        isOnline: false,
        scope,
        accessToken: token(),
      });
      await storage.storeSession(session);
      assertSame(await storage.loadSession(session.id), session);
    });
  });
}
