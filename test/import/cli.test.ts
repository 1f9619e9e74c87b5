/**
 * `shoptoken import` in a child process, from a SQLite file the adapter wrote into shoptoken's
 * SQLite store: a dry run that creates nothing, the text and JSON reports with exact counts,
 * progress on stderr, a rerun that changes nothing, tokens that work afterwards, and no token,
 * refresh token or URL password in any output.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { Session } from '@shopify/shopify-api';
import { SQLiteSessionStorage } from '@shopify/shopify-app-session-storage-sqlite';
import type { ImportReport } from '../../src/import/import-sessions.ts';
import { openSqliteStorage } from '../../src/storage/sqlite.ts';
import { openEmulatorVault } from '../helpers/emulator-install.ts';
import {
  assertImportedWork,
  assertNoSecrets,
  counts,
  expectedCounts,
  RUN,
  type Scenario,
  scenario,
  world,
} from './fixtures.ts';

const repo = resolve(import.meta.dirname, '../..');
const nodeBin = join(repo, 'node_modules/.bin/node');
const dir = mkdtempSync(join(tmpdir(), 'shoptoken-import-cli-'));
const key = { id: 'k1', key: randomBytes(32) };
const target = join(dir, 'shoptoken.db');
const sessions = join(dir, 'sessions.sqlite');
const { emulator } = world();
let expected: Scenario;

const env = {
  NODE_ENV: 'production',
  SHOPTOKEN_KEYS: `k1:${key.key.toString('base64')}`,
  SHOPTOKEN_DATABASE_URL: target,
};

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function shoptoken(args: string[], environment: Record<string, string> = env): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(nodeBin, [join(repo, 'src/cli/main.ts'), ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

before(async () => {
  expected = await scenario(emulator, `cl${RUN}`);
  const peer = new SQLiteSessionStorage(sessions);
  for (const session of expected.sessions) await peer.storeSession(session);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('shoptoken import', () => {
  it('--dry-run reports what would be imported and creates nothing', async () => {
    const result = await shoptoken(['import', '--from', 'sessions.sqlite', '--dry-run']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^source: .*sessions\.sqlite \(table shopify_sessions, Shopify session storage\)$/m);
    assert.match(result.stdout, /^read: 10 sessions$/m);
    assert.match(result.stdout, /^would import: 4 offline \(2 expiring, with their refresh tokens\), 2 online$/m);
    assert.match(result.stdout, /^expired: 2$/m);
    assert.match(result.stdout, /^skipped: 4$/m);
    assert.match(result.stdout, /^ {2}refresh token expired: 1$/m);
    assert.match(result.stdout, /^dry run: nothing was written$/m);
    assert.equal(existsSync(target), false, 'a dry run creates no database');
    assertNoSecrets(result.stdout + result.stderr, expected);
  });

  it('imports with --json: exact counts, no token anywhere, no progress lines for a short run', async () => {
    const result = await shoptoken(['import', '--from', `sqlite:${sessions}`, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as ImportReport;
    assert.deepEqual(counts(report), expectedCounts());
    assert.equal(report.dryRun, false);
    assert.equal(result.stderr, '');
    assertNoSecrets(result.stdout + result.stderr, expected);
  });

  it('shows progress on stderr for a long run', async () => {
    const many = join(dir, 'many.sqlite');
    const peer = new SQLiteSessionStorage(many);
    const shop = (i: number) => `many-${i}-${RUN}.myshopify.com`;
    const session = (i: number) =>
      new Session({ id: `offline_${shop(i)}`, shop: shop(i), state: '', isOnline: false, accessToken: `shpat_${i}` });
    await peer.storeSession(session(0));
    // The rest in one transaction, in the adapter's own table (the adapter commits one row at a time).
    const db = new DatabaseSync(many);
    const insert = db.prepare(
      'INSERT INTO shopify_sessions (id, shop, state, isOnline, accessToken) VALUES (?, ?, ?, 0, ?)',
    );
    db.exec('BEGIN');
    for (let i = 1; i < 1200; i++) insert.run(`offline_${shop(i)}`, shop(i), '', `shpat_${i}`);
    db.exec('COMMIT');
    db.close();
    const result = await shoptoken(['import', '--from', many, '--database', join(dir, 'many.db')]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^imported: 1200 offline/m);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 10);
    assert.equal(lines.at(-1), 'sessions 1200/1200 (100%)');
  });

  it('changes nothing when run again', async () => {
    const result = await shoptoken(['import', '--from', sessions]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^imported: 0 offline \(0 expiring, with their refresh tokens\), 0 online$/m);
    assert.match(result.stdout, /^already held: 6$/m);
    assertNoSecrets(result.stdout + result.stderr, expected);
  });

  it('leaves tokens that work in the configured store', async () => {
    const vault = openEmulatorVault(emulator, { storage: await openSqliteStorage(target), keys: [key] });
    try {
      await assertImportedWork(emulator, vault, expected);
    } finally {
      await vault.close();
    }
  });

  it('needs the keys and never generates one', async () => {
    const { SHOPTOKEN_KEYS: _, ...withoutKeys } = env;
    const result = await shoptoken(['import', '--from', sessions], { ...withoutKeys, NODE_ENV: 'development' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no encryption keys configured/);
    assert.equal(existsSync(join(dir, '.shoptoken')), false);
  });

  it('names an unreachable source without its password', async () => {
    const result = await shoptoken(['import', '--from', 'postgres://postgres:hunter2secret@127.0.0.1:1/app']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /could not connect at postgres:\/\/postgres@127\.0\.0\.1:1\/app/);
    assert.ok(!result.stderr.includes('hunter2secret'));
  });

  it('refuses bad arguments without echoing them', async () => {
    const missing = await shoptoken(['import']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--from is required/);
    const positional = await shoptoken(['import', 'postgres://postgres:hunter2secret@db/app']);
    assert.equal(positional.code, 2);
    assert.ok(!positional.stderr.includes('hunter2secret'));
    const unknown = await shoptoken(['import', '--frm=postgres://postgres:hunter2secret@db/app']);
    assert.equal(unknown.code, 2);
    assert.ok(!unknown.stderr.includes('hunter2secret'));
    const layout = await shoptoken(['import', '--from', sessions, '--table', 'shopify_sessions_migrations']);
    assert.equal(layout.code, 1);
    assert.match(layout.stderr, /not a Shopify session table/);
  });
});
