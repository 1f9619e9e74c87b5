/**
 * `shoptoken tokens import-custom` in a child process against the emulator on a socket: the token
 * comes from stdin, is checked with the Admin API, and is stored only when it works.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEmulator } from '../../src/emulator/index.ts';
import { openVault } from '../../src/open-vault.ts';
import { openSqliteStorage } from '../../src/storage/sqlite.ts';
import { APP, installOffline } from '../helpers/emulator-install.ts';

const repo = resolve(import.meta.dirname, '../..');
const nodeBin = join(repo, 'node_modules/.bin/node');
const dir = mkdtempSync(join(tmpdir(), 'shoptoken-import-'));
const SHOP = 'cool-shop.myshopify.com';
const key = { id: 'k1', key: randomBytes(32) };
const emulator = createEmulator({ apps: [APP] });
let server: { origin: string; close(): Promise<void> };
let databases = 0;

before(async () => {
  server = await emulator.listen();
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `shoptoken tokens import-custom` with `input` on stdin. */
function importCustom(args: string[], input: string, env: Record<string, string>): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(nodeBin, [join(repo, 'src/cli/main.ts'), 'tokens', 'import-custom', ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
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
    child.stdin.end(input);
  });
}

function environment() {
  const database = join(dir, `tokens-${databases++}.db`);
  const env = {
    NODE_ENV: 'production',
    SHOPTOKEN_KEYS: `k1:${key.key.toString('base64')}`,
    SHOPTOKEN_SHOPIFY_BASE_URL: emulator.baseUrl(server.origin),
    SHOPTOKEN_DATABASE_URL: database,
  };
  return { database, env };
}

describe('shoptoken tokens import-custom', () => {
  it('stores a token from stdin that the Admin API accepts; prints the scopes, never the token', async () => {
    const { database, env } = environment();
    const { accessToken } = await installOffline(emulator, SHOP);
    const result = await importCustom(['--shop', SHOP], `${accessToken}\n`, env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /stored the custom app token of cool-shop\.myshopify\.com \(scopes: /);
    assert.ok(!(result.stdout + result.stderr).includes(accessToken));
    const vault = openVault({ storage: await openSqliteStorage(database), keys: [key] });
    const stored = await vault.offline(SHOP);
    assert.equal(stored?.accessToken, accessToken);
    assert.equal(stored?.grant, 'custom');
    await vault.close();
  });

  it('rejects a bogus token: exit 1, nothing stored', async () => {
    const { database, env } = environment();
    const bogus = `shpca_${randomBytes(16).toString('hex')}`;
    const result = await importCustom(['--shop', SHOP], bogus, env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /ERR_TOKEN_REJECTED/);
    assert.ok(!(result.stdout + result.stderr).includes(bogus));
    const storage = await openSqliteStorage(database);
    assert.deepEqual(await storage.list({ limit: 10 }), []);
    await storage.close();
  });

  it('never takes the token from arguments and never echoes one given there', async () => {
    const { database, env } = environment();
    const { accessToken } = await installOffline(emulator, SHOP);
    const result = await importCustom(['--shop', SHOP, accessToken], '', env);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /read from stdin/);
    assert.ok(!result.stderr.includes(accessToken));
    assert.equal(existsSync(database), false);
  });

  it('needs configured keys, a shop and a token', async () => {
    const { database, env } = environment();
    const { SHOPTOKEN_KEYS: _, ...noKeys } = env;
    const missingKeys = await importCustom(['--shop', SHOP], 'shpca_x', noKeys);
    assert.equal(missingKeys.code, 1);
    assert.match(missingKeys.stderr, /no encryption keys configured/);
    assert.equal((await importCustom([], 'shpca_x', env)).code, 2);
    assert.equal((await importCustom(['--shop', SHOP], '  \n', env)).code, 2);
    assert.equal(existsSync(database), false);
  });
});
