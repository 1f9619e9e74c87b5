/**
 * `shoptoken db migrate`: the configured store's schema brought up to date explicitly, once per
 * version, on SQLite and (when the service runs here) PostgreSQL; the report never holds a password.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SQLITE_SCHEMA_VERSION } from '../../src/storage/sqlite.ts';
import { runCli } from '../helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoptoken-db-migrate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env, cwd: dir });

describe('shoptoken db migrate', () => {
  it('creates and migrates a SQLite store, then finds it up to date', async () => {
    const database = join(dir, 'fresh.db');
    const first = await cli(['db', 'migrate', '--database', database]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      new RegExp(`^sqlite store at ${database.replaceAll('.', '\\.')}: schema version ${SQLITE_SCHEMA_VERSION}\\n`),
    );
    assert.equal(first.stdout.match(/^ {2}applied \d+: /gm)?.length, SQLITE_SCHEMA_VERSION);
    const again = await cli(['db', 'migrate', '--json'], { SHOPTOKEN_DATABASE_URL: `sqlite:${database}` });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), {
      store: 'sqlite',
      location: database,
      from: SQLITE_SCHEMA_VERSION,
      to: SQLITE_SCHEMA_VERSION,
      applied: [],
    });
  });

  it('migrates a PostgreSQL schema once and never prints the password', async (t) => {
    const base = process.env.SHOPTOKEN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const schema = `shoptoken_cli_${randomBytes(4).toString('hex')}`;
    const url = new URL(base);
    url.password = 'a-password-never-printed';
    url.searchParams.set('schema', schema);
    const { default: pg } = await import('pg');
    const admin = new pg.Client({ connectionString: base, connectionTimeoutMillis: 2000 });
    try {
      await admin.connect();
    } catch (error) {
      if (process.env.SHOPTOKEN_REQUIRE_SERVICES === '1') throw error;
      t.skip(`PostgreSQL is not reachable at ${new URL(base).host}`);
      return;
    }
    try {
      const first = await cli(['db', 'migrate', '--json'], { SHOPTOKEN_DATABASE_URL: url.href });
      assert.equal(first.code, 0, first.stderr);
      const report = JSON.parse(first.stdout) as { store: string; from: number; to: number; applied: unknown[] };
      assert.equal(report.store, 'postgres');
      assert.equal(report.from, 0);
      assert.equal(report.applied.length, report.to);
      const second = await cli(['db', 'migrate'], { SHOPTOKEN_DATABASE_URL: url.href });
      assert.match(second.stdout, /already up to date/);
      for (const output of [first.stdout, first.stderr, second.stdout, second.stderr]) {
        assert.ok(!output.includes('a-password-never-printed'));
      }
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  });

  it('refuses unknown options (exit 2)', async () => {
    const result = await cli(['db', 'migrate', '--bogus']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /usage: shoptoken db migrate/);
  });
});
