import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { openSqliteStorage, SQLITE_SCHEMA_VERSION } from '../../src/storage/sqlite.ts';
import type { TokenRow } from '../../src/storage/types.ts';
import { openVault } from '../../src/vault/vault.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoptoken-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function row(overrides: Partial<TokenRow> = {}): TokenRow {
  return {
    shop: 'cool-shop.myshopify.com',
    kind: 'offline',
    userId: '',
    accessToken: 'v1.k1.sealed-a',
    refreshToken: null,
    user: null,
    scopes: 'read_products',
    associatedUserScopes: null,
    expiresAt: null,
    refreshTokenExpiresAt: null,
    createdAt: 1000,
    updatedAt: 1000,
    installedAt: null,
    migrationStartedAt: null,
    grant: 'authorization_code',
    issuedAt: null,
    previousRefreshToken: null,
    status: 'active',
    refreshFailures: 0,
    lastRefreshError: null,
    ...overrides,
  };
}

function schemaRows(path: string): { version: number; applied_at: number }[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare('SELECT version, applied_at FROM shoptoken_schema ORDER BY version').all() as {
      version: number;
      applied_at: number;
    }[];
  } finally {
    db.close();
  }
}

describe('openSqliteStorage', () => {
  it('creates the file and its directory, and migrates', async () => {
    const path = join(dir, 'nested', 'deeper', 'create.db');
    const storage = openSqliteStorage(path);
    await storage.close();
    assert.ok(existsSync(path));
    if (process.platform !== 'win32') assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(
      schemaRows(path).map((r) => r.version),
      Array.from({ length: SQLITE_SCHEMA_VERSION }, (_, i) => i + 1),
    );
    const db = new DatabaseSync(path, { readOnly: true });
    const indexes = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'shoptoken_tokens'")
      .all();
    const journal = db.prepare('PRAGMA journal_mode').get() as { journal_mode: string };
    db.close();
    assert.ok(indexes.some((index) => index.name === 'shoptoken_tokens_expires_at'));
    assert.ok(indexes.some((index) => index.name === 'shoptoken_tokens_refresh_token_expires_at'));
    assert.equal(journal.journal_mode, 'wal');
  });

  it('upgrades a version-1 database in place: rows kept, refresh state defaulted', async () => {
    const path = join(dir, 'upgrade.db');
    const v1 = new DatabaseSync(path);
    v1.exec(`CREATE TABLE shoptoken_schema (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT;
      INSERT INTO shoptoken_schema VALUES (1, 1);
      CREATE TABLE shoptoken_tokens (
        shop TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('offline', 'online')), user_id TEXT NOT NULL,
        access_token TEXT NOT NULL, refresh_token TEXT, associated_user TEXT, scopes TEXT NOT NULL,
        associated_user_scopes TEXT, expires_at INTEGER, refresh_token_expires_at INTEGER,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, installed_at INTEGER,
        PRIMARY KEY (shop, kind, user_id),
        CHECK ((kind = 'offline' AND user_id = '') OR (kind = 'online' AND user_id <> ''))) STRICT;
      CREATE INDEX shoptoken_tokens_expires_at ON shoptoken_tokens (expires_at) WHERE expires_at IS NOT NULL;
      INSERT INTO shoptoken_tokens VALUES ('cool-shop.myshopify.com', 'offline', '', 'v1.k1.sealed-a',
        'v1.k1.sealed-r', NULL, 'read_products', NULL, 5000, 9000, 1000, 1000, 1500);`);
    v1.close();
    const storage = openSqliteStorage(path);
    assert.deepEqual(
      await storage.get('cool-shop.myshopify.com', 'offline', ''),
      row({ refreshToken: 'v1.k1.sealed-r', expiresAt: 5000, refreshTokenExpiresAt: 9000, installedAt: 1500 }),
    );
    await assert.rejects(storage.put(row({ status: 'broken' as 'active' })), { code: 'ERR_STORAGE' });
    await storage.close();
    assert.deepEqual(
      schemaRows(path).map((r) => r.version),
      Array.from({ length: SQLITE_SCHEMA_VERSION }, (_, i) => i + 1),
    );
  });

  it('serves due-row pages from the keeper indexes, resuming at a cursor without a sort', async () => {
    const path = join(dir, 'plan.db');
    await openSqliteStorage(path).close();
    const db = new DatabaseSync(path, { readOnly: true });
    for (const [column, index] of [
      ['expires_at', 'shoptoken_tokens_due_access'],
      ['refresh_token_expires_at', 'shoptoken_tokens_due_refresh'],
    ] as const) {
      // The statement dueOffline runs (src/storage/sqlite.ts dueQuery).
      const plan = db
        .prepare(
          `EXPLAIN QUERY PLAN SELECT shop FROM shoptoken_tokens
           WHERE kind = 'offline' AND refresh_token IS NOT NULL AND status = 'active'
             AND (${column}, shop) > (?, ?) AND ${column} <= ?
           ORDER BY ${column}, shop LIMIT ?`,
        )
        .all(0, '', 1, 1)
        .map((step) => String(step.detail));
      assert.ok(
        plan.some((detail) => detail.includes(`SEARCH shoptoken_tokens USING INDEX ${index}`)),
        plan.join('\n'),
      );
      assert.ok(!plan.some((detail) => detail.includes('TEMP B-TREE')), plan.join('\n'));
    }
    // The statement dueCredentials runs (src/storage/sqlite.ts DUE_CREDENTIALS), renewal time inlined.
    const renewal = `MIN(COALESCE(issued_at, updated_at) + (expires_at - COALESCE(issued_at, updated_at)) * 0.8,
  expires_at - 300000)`;
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT shop FROM shoptoken_tokens
         WHERE kind = 'offline' AND token_grant = 'client_credentials' AND status = 'active'
           AND expires_at IS NOT NULL
           AND ${renewal} >= ? AND (${renewal}, shop) > (?, ?) AND ${renewal} <= ?
         ORDER BY ${renewal}, shop LIMIT ?`,
      )
      .all(0, 0, '', 1, 1)
      .map((step) => String(step.detail));
    assert.ok(
      plan.some((detail) => detail.includes('SEARCH shoptoken_tokens USING INDEX shoptoken_tokens_due_credentials')),
      plan.join('\n'),
    );
    assert.ok(!plan.some((detail) => detail.includes('TEMP B-TREE')), plan.join('\n'));
    db.close();
  });

  it('keeps data across reopen and does not re-run migrations', async () => {
    const path = join(dir, 'reopen.db');
    const first = openSqliteStorage(path);
    await first.put(row());
    await first.close();
    const applied = schemaRows(path);
    const second = openSqliteStorage(path);
    assert.deepEqual(await second.get('cool-shop.myshopify.com', 'offline', ''), row());
    await second.close();
    assert.deepEqual(schemaRows(path), applied);
  });

  it('upserts by (shop, kind, user) and keeps createdAt', async () => {
    const storage = openSqliteStorage(':memory:');
    await storage.put(row());
    await storage.put(
      row({
        accessToken: 'v1.k1.sealed-b',
        scopes: 'write_products',
        createdAt: 5000,
        updatedAt: 5000,
        installedAt: 4000,
      }),
    );
    await storage.put(row({ kind: 'online', userId: '42', user: 'v1.k1.user', associatedUserScopes: 'read_products' }));
    await storage.put(row({ shop: 'a-shop.myshopify.com' }));
    assert.deepEqual(await storage.get('cool-shop.myshopify.com', 'offline', ''), {
      ...row(),
      accessToken: 'v1.k1.sealed-b',
      scopes: 'write_products',
      createdAt: 1000,
      updatedAt: 5000,
      installedAt: 4000,
    });
    assert.deepEqual(
      (await storage.list()).map((r) => [r.shop, r.kind, r.userId]),
      [
        ['a-shop.myshopify.com', 'offline', ''],
        ['cool-shop.myshopify.com', 'offline', ''],
        ['cool-shop.myshopify.com', 'online', '42'],
      ],
    );
    assert.equal(await storage.get('cool-shop.myshopify.com', 'online', '43'), null);
    await storage.close();
  });

  it('refuses rows that break the schema constraints', async () => {
    const storage = openSqliteStorage(':memory:');
    await assert.rejects(storage.put(row({ kind: 'other' as 'offline' })), { code: 'ERR_STORAGE' });
    await assert.rejects(storage.put(row({ kind: 'online', userId: '' })), { code: 'ERR_STORAGE' });
    await assert.rejects(storage.put(row({ userId: '42' })), { code: 'ERR_STORAGE' });
    assert.deepEqual(await storage.list(), []);
    await storage.close();
    await assert.rejects(storage.list(), { code: 'ERR_STORAGE' });
  });

  it('never writes token values in clear to the database file', async () => {
    const path = join(dir, 'secret.db');
    const access = `shpat_${randomBytes(16).toString('hex')}`;
    const refresh = `shprt_${randomBytes(16).toString('hex')}`;
    const online = `shpua_${randomBytes(16).toString('hex')}`;
    const email = `person-${randomBytes(4).toString('hex')}@example.com`;
    const vault = openVault({ storage: openSqliteStorage(path), keys: [{ id: 'k1', key: randomBytes(32) }] });
    await vault.saveOffline({
      shop: 'cool-shop.myshopify.com',
      accessToken: access,
      scopes: ['read_products'],
      expiresAt: new Date(Date.now() + 3_600_000),
      refreshToken: refresh,
      refreshTokenExpiresAt: new Date(Date.now() + 86_400_000),
    });
    await vault.saveOnline({
      shop: 'cool-shop.myshopify.com',
      accessToken: online,
      scopes: ['read_products'],
      associatedUserScopes: ['read_products'],
      expiresAt: new Date(Date.now() + 60_000),
      user: {
        id: '42',
        firstName: 'Ada',
        lastName: 'Lovelace',
        email,
        emailVerified: true,
        accountOwner: false,
        locale: 'en',
        collaborator: false,
      },
    });
    // While open, the rows may sit in the WAL: read it too, then again after close (checkpoint).
    const files = () => ['', '-wal', '-shm'].map((s) => `${path}${s}`).filter((f) => existsSync(f));
    const scan = () => Buffer.concat(files().map((f) => readFileSync(f))).toString('latin1');
    const open = scan();
    assert.ok(open.includes('cool-shop.myshopify.com'), 'the scan does not see the rows');
    await vault.close();
    const closed = scan();
    assert.ok(closed.includes('cool-shop.myshopify.com'));
    for (const secret of [access, refresh, online, email]) {
      assert.ok(!open.includes(secret), 'a value is in clear in the open database');
      assert.ok(!closed.includes(secret), 'a value is in clear in the closed database');
    }
  });
});
