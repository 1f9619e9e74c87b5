import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { openVault } from '../../src/open-vault.ts';
import { openSqliteStorage, SQLITE_SCHEMA_VERSION } from '../../src/storage/sqlite.ts';
import type { TokenRow } from '../../src/storage/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoptoken-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function row(overrides: Partial<TokenRow> = {}): TokenRow {
  return {
    app: '',
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
    renewAt: null,
    createdAt: 1000,
    updatedAt: 1000,
    installedAt: null,
    migrationStartedAt: null,
    grant: 'authorization_code',
    issuedAt: null,
    authorizedAt: null,
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
    const storage = await openSqliteStorage(path);
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
    for (const name of ['shoptoken_tokens_due_access', 'shoptoken_tokens_due_refresh', 'shoptoken_tokens_due_renew']) {
      assert.ok(
        indexes.some((index) => index.name === name),
        name,
      );
    }
    assert.equal(journal.journal_mode, 'wal');
  });

  it('upgrades a version-6 database to the storage contract: rows of the single app, renewAt computed', async () => {
    const path = join(dir, 'upgrade-v6.db');
    const old = await openSqliteStorage(join(dir, 'scratch.db'));
    await old.close();
    const v6 = new DatabaseSync(path);
    // The schema as version 6 shipped it (src/storage/sqlite/migrations.ts, SHIPPED).
    const { SQLITE_MIGRATIONS } = await import('../../src/storage/sqlite/migrations.ts');
    v6.exec('CREATE TABLE shoptoken_schema (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT');
    for (const migration of SQLITE_MIGRATIONS.slice(0, 6)) {
      for (const statement of migration.statements) v6.exec(statement);
      v6.prepare('INSERT INTO shoptoken_schema VALUES (?, 1)').run(migration.version);
    }
    v6.exec(`INSERT INTO shoptoken_tokens (shop, kind, user_id, access_token, refresh_token, scopes, expires_at,
        refresh_token_expires_at, created_at, updated_at, installed_at, token_grant, issued_at) VALUES
      ('cool-shop.myshopify.com', 'offline', '', 'v1.k1.a', 'v1.k1.r', 'read_products', 5000, 9000, 1000, 1000, 1500,
        'authorization_code', NULL),
      ('own-shop.myshopify.com', 'offline', '', 'v1.k1.c', NULL, 'read_products', 86399000, NULL, 1000, 1000, NULL,
        'client_credentials', 0),
      ('odd-shop.myshopify.com', 'offline', '', 'v1.k1.d', NULL, 'read_products', 2000003, NULL, 1000, 1000, NULL,
        'client_credentials', 0)`);
    v6.close();
    const storage = await openSqliteStorage(path);
    assert.deepEqual(
      await storage.get({ app: '', shop: 'cool-shop.myshopify.com', kind: 'offline', userId: '' }),
      row({
        accessToken: 'v1.k1.a',
        refreshToken: 'v1.k1.r',
        expiresAt: 5000,
        refreshTokenExpiresAt: 9000,
        installedAt: 1500,
      }),
    );
    // 80 % of a day comes before 5 minutes before expiry; renewal times are whole milliseconds.
    const due = await storage.due('renew', { app: '', before: 1e12, limit: 10 });
    assert.deepEqual(
      due.map((r) => [r.shop, r.renewAt]),
      [
        ['odd-shop.myshopify.com', 1_600_002],
        ['own-shop.myshopify.com', 69_119_200],
      ],
    );
    await storage.close();
    assert.deepEqual(
      schemaRows(path).map((r) => r.version),
      Array.from({ length: SQLITE_SCHEMA_VERSION }, (_, i) => i + 1),
    );
  });

  it('several processes opening a fresh file at once apply each migration once', async () => {
    const path = join(dir, 'concurrent.db');
    const { spawn } = await import('node:child_process');
    const script = `import { openSqliteStorage } from ${JSON.stringify(new URL('../../src/storage/sqlite.ts', import.meta.url).href)};
      const storage = await openSqliteStorage(${JSON.stringify(path)}); await storage.close();`;
    const runs = Array.from({ length: 4 }, () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
      return new Promise<number | null>((resolve) => child.once('exit', resolve));
    });
    assert.deepEqual(await Promise.all(runs), [0, 0, 0, 0]);
    assert.deepEqual(
      schemaRows(path).map((r) => r.version),
      Array.from({ length: SQLITE_SCHEMA_VERSION }, (_, i) => i + 1),
    );
  });

  it('serves due-row pages from the keeper indexes, resuming at a cursor without a sort', async () => {
    const path = join(dir, 'plan.db');
    await (await openSqliteStorage(path)).close();
    const db = new DatabaseSync(path, { readOnly: true });
    for (const [column, where, index] of [
      ['expires_at', "refresh_token IS NOT NULL AND status = 'active'", 'shoptoken_tokens_due_access'],
      ['refresh_token_expires_at', "refresh_token IS NOT NULL AND status = 'active'", 'shoptoken_tokens_due_refresh'],
      ['renew_at', "renew_at IS NOT NULL AND status = 'active'", 'shoptoken_tokens_due_renew'],
    ] as const) {
      // The statement `due` runs (src/storage/sqlite/statements.ts).
      const plan = db
        .prepare(
          `EXPLAIN QUERY PLAN SELECT shop FROM shoptoken_tokens
           WHERE app = ? AND kind = 'offline' AND ${where} AND ${column} <= ? AND (${column}, shop) > (?, ?)
           ORDER BY ${column}, shop LIMIT ?`,
        )
        .all('', 1, 0, '', 1)
        .map((step) => String(step.detail));
      assert.ok(
        plan.some((detail) => detail.includes(`SEARCH shoptoken_tokens USING INDEX ${index}`)),
        plan.join('\n'),
      );
      assert.ok(!plan.some((detail) => detail.includes('TEMP B-TREE')), plan.join('\n'));
    }
    db.close();
  });

  it('keeps data across reopen and does not re-run migrations', async () => {
    const path = join(dir, 'reopen.db');
    const first = await openSqliteStorage(path);
    await first.put(row());
    await first.close();
    const applied = schemaRows(path);
    const second = await openSqliteStorage(path);
    assert.deepEqual(
      await second.get({ app: '', shop: 'cool-shop.myshopify.com', kind: 'offline', userId: '' }),
      row(),
    );
    await second.close();
    assert.deepEqual(schemaRows(path), applied);
  });

  it('upserts by (app, shop, kind, user) and keeps createdAt and installedAt', async () => {
    const storage = await openSqliteStorage(':memory:');
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
    assert.deepEqual(await storage.get({ app: '', shop: 'cool-shop.myshopify.com', kind: 'offline', userId: '' }), {
      ...row(),
      accessToken: 'v1.k1.sealed-b',
      scopes: 'write_products',
      createdAt: 1000,
      updatedAt: 5000,
      installedAt: null,
    });
    assert.deepEqual(
      (await storage.list({ limit: 10 })).map((r) => [r.shop, r.kind, r.userId]),
      [
        ['a-shop.myshopify.com', 'offline', ''],
        ['cool-shop.myshopify.com', 'offline', ''],
        ['cool-shop.myshopify.com', 'online', '42'],
      ],
    );
    assert.equal(await storage.get({ app: '', shop: 'cool-shop.myshopify.com', kind: 'online', userId: '43' }), null);
    await storage.close();
  });

  it('refuses rows that break the schema constraints', async () => {
    const storage = await openSqliteStorage(':memory:');
    await assert.rejects(storage.put(row({ kind: 'other' as 'offline' })), { code: 'ERR_STORAGE' });
    await assert.rejects(storage.put(row({ kind: 'online', userId: '' })), { code: 'ERR_STORAGE' });
    await assert.rejects(storage.put(row({ userId: '42' })), { code: 'ERR_STORAGE' });
    assert.deepEqual(await storage.list({ limit: 10 }), []);
    await storage.close();
    await assert.rejects(storage.list({ limit: 10 }), { code: 'ERR_STORAGE' });
  });

  it('never writes token values in clear to the database file', async () => {
    const path = join(dir, 'secret.db');
    const access = `shpat_${randomBytes(16).toString('hex')}`;
    const refresh = `shprt_${randomBytes(16).toString('hex')}`;
    const online = `shpua_${randomBytes(16).toString('hex')}`;
    const email = `person-${randomBytes(4).toString('hex')}@example.com`;
    const vault = openVault({ storage: await openSqliteStorage(path), keys: [{ id: 'k1', key: randomBytes(32) }] });
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
