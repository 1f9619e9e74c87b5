/**
 * `shoptoken migrate-expiring` in a child process against the emulator on a socket: configuration
 * errors, the dry run (changes nothing), a full run with a failed shop, and a run killed with
 * SIGKILL mid-batch then rerun to completion (no shop lost, none exchanged twice for another pair).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import { openVault, type Vault } from '../../src/open-vault.ts';
import { TOKEN_EXCHANGE_GRANT } from '../../src/protocol/migration.ts';
import { openSqliteStorage } from '../../src/storage/sqlite.ts';
import type { Key } from '../../src/vault/keyring.ts';
import { ADMIN_QUERY_OK, APP, adminStatus, installInto } from '../helpers/emulator-install.ts';

const repo = resolve(import.meta.dirname, '../..');
const nodeBin = join(repo, 'node_modules/.bin/node');
const dir = mkdtempSync(join(tmpdir(), 'shoptoken-migrate-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let databases = 0;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI in a child process with a clean environment plus `env`. */
function start(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<Result> } {
  const child = spawn(nodeBin, [join(repo, 'src/cli/main.ts'), 'migrate-expiring', ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<Result>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
  return { child, done };
}

const cli = (args: string[], env: Record<string, string>) => start(args, env).done;

/** An emulator on a socket, a database seeded with `count` shops, and the CLI's environment. */
async function fixture(count: number, options: { expiring?: (i: number) => boolean } = {}) {
  const emulator = createEmulator({ apps: [APP] });
  const server = await emulator.listen();
  const key: Key = { id: 'k1', key: randomBytes(32) };
  const database = join(dir, `tokens-${databases++}.db`);
  const seed = openVault({ storage: await openSqliteStorage(database), keys: [key] });
  const shops = Array.from({ length: count }, (_, i) => `shop-${String(i).padStart(2, '0')}.myshopify.com`);
  const originals = new Map<string, string>();
  for (const [i, shop] of shops.entries()) {
    const token = await installInto(emulator, seed, shop, { expiring: options.expiring?.(i) === true });
    originals.set(shop, token.accessToken);
  }
  await seed.close();
  const env = {
    NODE_ENV: 'production',
    SHOPTOKEN_KEYS: `k1:${key.key.toString('base64')}`,
    SHOPIFY_API_KEY: APP.clientId,
    SHOPIFY_API_SECRET: APP.clientSecret,
    SHOPTOKEN_SHOPIFY_BASE_URL: emulator.baseUrl(server.origin),
    SHOPTOKEN_DATABASE_URL: database,
  };
  /** A vault over the database on the emulator's clock, to check what the CLI stored. */
  const open = async (): Promise<Vault> =>
    openVault({
      storage: await openSqliteStorage(database),
      keys: [key],
      now: emulator.clock.now,
      shopify: { ...APP, baseUrl: env.SHOPTOKEN_SHOPIFY_BASE_URL },
    });
  return { emulator, server, database, env, shops, originals, open };
}

const exchanges = (emulator: Emulator) => emulator.grants().filter((grant) => grant.grantType === TOKEN_EXCHANGE_GRANT);

function assertNoValues(output: string, values: Iterable<string>): void {
  for (const value of values) assert.ok(!output.includes(value), 'no token value in the output');
}

describe('shoptoken migrate-expiring', () => {
  it('refuses to run without credentials and keys, listing every problem, and creates no key', async () => {
    const { server, database } = await fixture(1);
    try {
      const result = await cli([], { SHOPTOKEN_DATABASE_URL: database });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /SHOPIFY_API_KEY/);
      assert.match(result.stderr, /SHOPIFY_API_SECRET/);
      assert.match(result.stderr, /no encryption keys configured/);
      assert.equal(existsSync(join(dir, '.shoptoken')), false);
      assert.equal((await cli(['--concurrency', '0'], {})).code, 2);
    } finally {
      await server.close();
    }
  });

  it('--dry-run lists what would change and changes nothing', async () => {
    const { emulator, server, database, env, shops, originals, open } = await fixture(3, {
      expiring: (i) => i === 1,
    });
    try {
      const bytes = readFileSync(database);
      const vault = await open();
      const rows = await vault.list();
      const result = await cli(['--dry-run', '--json'], env);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), {
        dryRun: true,
        migrated: [shops[0], shops[2]],
        alreadyExpiring: [shops[1]],
        failed: [],
        notAttempted: [],
      });
      const human = await cli(['--dry-run'], env);
      assert.match(human.stdout, /would migrate: 2/);
      assert.match(human.stdout, /nothing changed/);
      assertNoValues(human.stdout + human.stderr + result.stdout + result.stderr, originals.values());
      assert.deepEqual(exchanges(emulator), []);
      assert.deepEqual(await vault.list(), rows);
      assert.deepEqual(readFileSync(database), bytes);
      await vault.close();
    } finally {
      await server.close();
    }
  });

  it('migrates every shop, reports the already expiring and the failed (uninstalled) ones', async () => {
    const { emulator, server, env, shops, originals, open } = await fixture(4, { expiring: (i) => i === 3 });
    try {
      emulator.uninstall(shops[2]!, APP.clientId);
      const result = await cli(['--json', '--concurrency', '2'], env);
      assert.equal(result.code, 1, 'a failed shop makes the exit code 1');
      assert.deepEqual(JSON.parse(result.stdout), {
        dryRun: false,
        migrated: [shops[0], shops[1]],
        alreadyExpiring: [shops[3]],
        failed: [{ shop: shops[2], reason: 'invalid_subject_token (HTTP 400)' }],
        notAttempted: [],
      });
      assert.match(result.stderr, /shops 3\/3 \(100%\)/, 'a plain progress line when stderr is not a terminal');
      assertNoValues(result.stdout + result.stderr, originals.values());
      const vault = await open();
      for (const shop of [shops[0]!, shops[1]!]) {
        const token = await vault.token(shop);
        assert.equal(token.expiring, true);
        assert.equal(await adminStatus(emulator, shop, token.accessToken), ADMIN_QUERY_OK);
      }
      assert.equal((await vault.offline(shops[2]!))?.accessToken, originals.get(shops[2]!), 'the failed shop is kept');
      await vault.close();
    } finally {
      await server.close();
    }
  });

  it('the app’s credentials refused: stops after the first refusal, the rest not attempted, exit 1', async () => {
    const { emulator, server, env, shops, originals, open } = await fixture(5);
    try {
      const wrongSecret = 'shpss_mistyped_secret_value_0000';
      const result = await cli(['--json', '--concurrency', '1'], { ...env, SHOPIFY_API_SECRET: wrongSecret });
      assert.equal(result.code, 1);
      assert.deepEqual(JSON.parse(result.stdout), {
        dryRun: false,
        migrated: [],
        alreadyExpiring: [],
        failed: [{ shop: shops[0], reason: 'invalid_client (HTTP 400)' }],
        notAttempted: shops.slice(1).map((shop) => ({ shop, reason: 'app credentials rejected' })),
      });
      assert.deepEqual(
        emulator.requests().filter((request) => request.grantType === TOKEN_EXCHANGE_GRANT).length,
        1,
        'one exchange sent, none after the refusal',
      );
      const messages = result.stderr.match(/Shopify refused the app's credentials/g) ?? [];
      assert.equal(messages.length, 1, 'one clear message');
      assert.match(result.stderr, /check SHOPIFY_API_KEY and SHOPIFY_API_SECRET/);
      assertNoValues(result.stdout + result.stderr, [...originals.values(), wrongSecret, APP.clientSecret]);
      // Nothing changed: every shop still holds its token, none marked, none with an intent.
      const vault = await open();
      assert.ok((await vault.migrationPlan()).every((entry) => entry.state === 'non_expiring'));
      for (const shop of shops) assert.equal((await vault.offline(shop))?.status, 'active');
      await vault.close();
      // The secret fixed, a rerun migrates everything.
      const rerun = await cli(['--json'], env);
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.deepEqual(JSON.parse(rerun.stdout).migrated, shops);
    } finally {
      await server.close();
    }
  });

  it('killed with SIGKILL mid-batch, a rerun finishes: every shop migrated, none lost', async () => {
    const { emulator, server, env, shops, originals, open } = await fixture(30);
    try {
      // Slow exchanges, so the kill lands while some are in flight.
      emulator.faults.add({ endpoint: 'token', grantType: TOKEN_EXCHANGE_GRANT, delayMs: 100, times: 1000 });
      const first = start(['--concurrency', '3'], env);
      const served = () => exchanges(emulator).filter((grant) => grant.status === 200).length;
      while (served() < 6) {
        const exited = await Promise.race([first.done, new Promise((r) => setTimeout(r, 10, null))]);
        assert.equal(exited, null, 'the first run is still going when it is killed');
      }
      first.child.kill('SIGKILL');
      const killed = await first.done;
      assert.equal(killed.code, null);
      const midway = await open();
      const states = (await midway.migrationPlan()).map((entry) => entry.state);
      await midway.close();
      assert.ok(states.includes('expiring'), 'some shops were migrated before the kill');
      assert.ok(
        states.some((state) => state !== 'expiring'),
        'some shops were not',
      );

      emulator.faults.clear();
      const rerun = await cli(['--json'], env);
      assert.equal(rerun.code, 0, rerun.stderr);
      const report = JSON.parse(rerun.stdout) as { migrated: string[]; alreadyExpiring: string[]; failed: unknown[] };
      assert.deepEqual(report.failed, []);
      assert.deepEqual([...report.migrated, ...report.alreadyExpiring].sort(), shops);
      assertNoValues(rerun.stdout + rerun.stderr + killed.stdout + killed.stderr, originals.values());

      const vault = await open();
      assert.ok((await vault.migrationPlan()).every((entry) => entry.state === 'expiring'));
      for (const shop of shops) {
        const perShop = exchanges(emulator).filter((grant) => grant.shop === shop);
        assert.ok(perShop.length >= 1 && perShop.length <= 2, `${shop}: one exchange, or one repeat after the kill`);
        assert.ok(perShop.every((grant) => grant.status === 200));
        const token = await vault.token(shop);
        assert.equal(await adminStatus(emulator, shop, token.accessToken), ADMIN_QUERY_OK, `${shop} works`);
        assert.equal(await adminStatus(emulator, shop, originals.get(shop)!), 401);
      }
      // The stored refresh tokens are the live ones: an hour later every shop refreshes.
      emulator.clock.advance(3_600_000);
      for (const shop of shops) {
        const token = await vault.token(shop);
        assert.equal(await adminStatus(emulator, shop, token.accessToken), ADMIN_QUERY_OK, `${shop} refreshed`);
      }
      await vault.close();
    } finally {
      await server.close();
    }
  });
});
