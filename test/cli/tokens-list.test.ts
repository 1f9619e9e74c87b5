import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openVault } from '../../src/open-vault.ts';
import { openSqliteStorage } from '../../src/storage/sqlite.ts';
import { runCli } from '../helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoptoken-cli-'));
const dbPath = join(dir, 'tokens.db');

const ACCESS = `shpat_${randomBytes(16).toString('hex')}`;
const REFRESH = `shprt_${randomBytes(16).toString('hex')}`;
const ONLINE = `shpua_${randomBytes(16).toString('hex')}`;
const VALUES = [ACCESS, REFRESH, ONLINE];

/** Runs the CLI in a child process with a clean environment plus `env`. */
const cli = (args: string[], env: Record<string, string> = {}, cwd = dir) => runCli(args, { env, cwd });

before(async () => {
  const vault = openVault({ storage: await openSqliteStorage(dbPath), keys: [{ id: 'k1', key: randomBytes(32) }] });
  await vault.saveOffline({
    shop: 'cool-shop.myshopify.com',
    accessToken: ACCESS,
    scopes: ['write_products', 'read_orders'],
    expiresAt: new Date('2030-01-01T01:00:00.000Z'),
    refreshToken: REFRESH,
    refreshTokenExpiresAt: new Date('2030-03-01T00:00:00.000Z'),
  });
  await vault.saveOnline({
    shop: 'cool-shop.myshopify.com',
    accessToken: ONLINE,
    scopes: ['write_products', 'read_orders'],
    associatedUserScopes: ['read_products'],
    expiresAt: new Date('2030-01-01T00:01:00.000Z'),
    user: {
      id: '902541635',
      firstName: 'John',
      lastName: 'Smith',
      email: 'john@example.com',
      emailVerified: true,
      accountOwner: true,
      locale: 'en',
      collaborator: false,
    },
  });
  await vault.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('shoptoken tokens list', () => {
  it('prints metadata as JSON, from SHOPTOKEN_DATABASE_URL, without values', async () => {
    const result = await cli(['tokens', 'list', '--json'], { SHOPTOKEN_DATABASE_URL: `sqlite:${dbPath}` });
    assert.equal(result.code, 0, result.stderr);
    const records = JSON.parse(result.stdout) as Record<string, unknown>[];
    assert.equal(records.length, 2);
    const [offline, online] = records;
    assert.deepEqual(Object.keys(offline!).sort(), [
      'associatedUserScopes',
      'createdAt',
      'expiresAt',
      'kind',
      'refreshTokenExpiresAt',
      'scopes',
      'shop',
      'updatedAt',
      'userId',
    ]);
    assert.equal(offline!.shop, 'cool-shop.myshopify.com');
    assert.equal(offline!.kind, 'offline');
    assert.equal(offline!.userId, null);
    assert.deepEqual(offline!.scopes, ['write_products', 'read_orders']);
    assert.equal(offline!.associatedUserScopes, null);
    assert.equal(offline!.expiresAt, '2030-01-01T01:00:00.000Z');
    assert.equal(offline!.refreshTokenExpiresAt, '2030-03-01T00:00:00.000Z');
    assert.ok(!Number.isNaN(Date.parse(offline!.createdAt as string)));
    assert.equal(online!.kind, 'online');
    assert.equal(online!.userId, '902541635');
    assert.deepEqual(online!.associatedUserScopes, ['read_products']);
    assert.equal(online!.expiresAt, '2030-01-01T00:01:00.000Z');
    assert.equal(online!.refreshTokenExpiresAt, null);
    for (const value of VALUES) assert.ok(!result.stdout.includes(value) && !result.stderr.includes(value));
    assert.ok(!result.stdout.includes('john@example.com'));
  });

  it('prints an aligned human table without values', async () => {
    const result = await cli(['tokens', 'list', '--database', dbPath]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^SHOP\s+KIND\s+USER\s+SCOPES/);
    assert.equal(lines[1]!.indexOf('offline'), lines[0]!.indexOf('KIND'));
    assert.equal(lines[2]!.indexOf('902541635'), lines[0]!.indexOf('USER'));
    for (const value of VALUES) assert.ok(!result.stdout.includes(value) && !result.stderr.includes(value));
  });

  it('says so when no tokens are stored', async () => {
    const empty = join(dir, 'empty.db');
    await (await openSqliteStorage(empty)).close();
    const result = await cli(['tokens', 'list', '--database', empty]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /no tokens stored/);
    const json = await cli(['tokens', 'list', '--json', '--database', empty]);
    assert.deepEqual(JSON.parse(json.stdout), []);
  });

  it('exits 1 for a missing database and creates neither it nor a key file', async () => {
    const cwd = mkdtempSync(join(dir, 'missing-'));
    const result = await cli(['tokens', 'list', '--json'], {}, cwd);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no database at .*shoptoken\.db/);
    assert.equal(result.stdout, '');
    assert.deepEqual(readdirSync(cwd), []);
    const explicit = await cli(['tokens', 'list', '--database', join(cwd, 'nope.db')], {}, cwd);
    assert.equal(explicit.code, 1);
    assert.ok(!existsSync(join(cwd, 'nope.db')));
  });

  it('rejects unknown options and unsupported database schemes', async () => {
    const usage = await cli(['tokens', 'list', '--bogus']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: shoptoken tokens list/);
    const unknown = await cli(['tokens', 'list'], { SHOPTOKEN_DATABASE_URL: 'mongodb://u:hunter2@db/app' });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown scheme "mongodb"/);
    assert.ok(!unknown.stderr.includes('hunter2'));
    // A database server that cannot be reached: a storage error that never quotes the URL.
    const down = await cli(['tokens', 'list'], { SHOPTOKEN_DATABASE_URL: 'postgres://u:hunter2@127.0.0.1:1/app' });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /ERR_STORAGE/);
    assert.ok(!down.stderr.includes('hunter2'));
  });
});
