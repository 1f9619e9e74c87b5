import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { resolveDatabasePath } from '../../src/config/database.ts';
import { openDefaultVault } from '../../src/config/default-vault.ts';
import { ConfigError } from '../../src/errors.ts';

const cwd = '/srv/app';

describe('resolveDatabasePath', () => {
  it('defaults to .shoptoken/shoptoken.db under cwd', () => {
    assert.equal(resolveDatabasePath({ env: {}, cwd }), '/srv/app/.shoptoken/shoptoken.db');
  });

  it('reads SHOPTOKEN_DATABASE_URL in its accepted forms', () => {
    const cases: Record<string, string> = {
      'sqlite:data/app.db': '/srv/app/data/app.db',
      'sqlite:/var/lib/app.db': '/var/lib/app.db',
      'sqlite:///var/lib/app.db': '/var/lib/app.db',
      'file:data/app.db': '/srv/app/data/app.db',
      [pathToFileURL('/var/lib/my app.db').href]: '/var/lib/my app.db',
      'plain/path.db': '/srv/app/plain/path.db',
      '/abs/path.db': '/abs/path.db',
      ':memory:': ':memory:',
    };
    for (const [url, path] of Object.entries(cases)) {
      assert.equal(resolveDatabasePath({ env: { SHOPTOKEN_DATABASE_URL: url }, cwd }), path, url);
    }
  });

  it('lets the explicit --database value win', () => {
    const env = { SHOPTOKEN_DATABASE_URL: 'sqlite:env.db' };
    assert.equal(resolveDatabasePath({ env, cwd, database: 'flag.db' }), '/srv/app/flag.db');
  });

  it('refuses database servers and unknown schemes as a SQLite path, without echoing the URL (it may hold a password)', () => {
    for (const url of ['postgres://user:hunter2@db/app', 'mysql://user:hunter2@db/app', 'redis://:hunter2@cache']) {
      assert.throws(
        () => resolveDatabasePath({ env: { SHOPTOKEN_DATABASE_URL: url }, cwd }),
        (error: unknown) =>
          error instanceof ConfigError &&
          /names a database server, not a SQLite file/.test(error.message) &&
          !error.message.includes('hunter2'),
      );
    }
    assert.throws(
      () => resolveDatabasePath({ env: { SHOPTOKEN_DATABASE_URL: 'sqlite://host/x.db' }, cwd }),
      ConfigError,
    );
    assert.throws(() => resolveDatabasePath({ env: { SHOPTOKEN_DATABASE_URL: 'sqlite:' }, cwd }), ConfigError);
  });
});

describe('openDefaultVault', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoptoken-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('opens the SQLite default with a generated demo key', async () => {
    const opened = await openDefaultVault({ env: {}, cwd: dir });
    assert.equal(opened.databasePath, join(dir, '.shoptoken', 'shoptoken.db'));
    assert.equal(opened.generatedKey, true);
    assert.equal(opened.keySource, join(dir, '.shoptoken', 'keys.json'));
    await opened.vault.saveOffline({
      shop: 'cool-shop.myshopify.com',
      accessToken: 'shpat_config_test',
      scopes: [],
      expiresAt: null,
      refreshToken: null,
      refreshTokenExpiresAt: null,
    });
    await opened.vault.close();
    const again = await openDefaultVault({ env: {}, cwd: dir });
    assert.equal(again.generatedKey, false);
    assert.equal((await again.vault.offline('cool-shop.myshopify.com'))?.accessToken, 'shpat_config_test');
    await again.vault.close();
  });

  it('refuses production without keys before creating a database', async () => {
    const cwd = join(dir, 'prod');
    await assert.rejects(openDefaultVault({ env: { NODE_ENV: 'production' }, cwd }), ConfigError);
    assert.ok(!existsSync(cwd));
    const keys = `k1:${randomBytes(32).toString('base64')}`;
    const opened = await openDefaultVault({ env: { NODE_ENV: 'production', SHOPTOKEN_KEYS: keys }, cwd });
    assert.equal(opened.keySource, 'SHOPTOKEN_KEYS');
    assert.equal(opened.generatedKey, false);
    await opened.vault.close();
  });
});
