/**
 * The Redis storage against a real server (SHOPTOKEN_TEST_REDIS_URL, default the local one): the
 * storage battery, then what only Redis has — migrations under concurrent opens, the driver and URL
 * errors, connections refused, killed or hung, scripts flushed, several processes sharing leases,
 * Redis-clock leases and caller-clock OAuth states. Each run works under key prefixes of its own
 * (random names), deleted at the end. Without a server the suites are skipped with a printed
 * reason, unless SHOPTOKEN_REQUIRE_SERVICES=1 (CI), where that is a failure.
 */

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { ConfigError, ShoptokenError } from '../../src/errors.ts';
import type { MigrationReport } from '../../src/storage/migrations.ts';
import { MISSING_DRIVER } from '../../src/storage/redis/client.ts';
import { storageError } from '../../src/storage/redis/errors.ts';
import { openRedisStorage } from '../../src/storage/redis/index.ts';
import { REDIS_MIGRATIONS } from '../../src/storage/redis/migrations.ts';
import { cleanupAfter } from '../../src/storage/redis/states.ts';
import { parseRedisUrl } from '../../src/storage/redis/url.ts';
import type { TokenStorage } from '../../src/storage/types.ts';
import { offlineKey, offlineRow, onlineRow, refreshedRow, sealed } from '../../src/testing/fixtures.ts';
import { runStorageConformance } from '../../src/testing/index.ts';
import { assertRotatedOnceAcrossProcesses } from '../helpers/rotation-processes.ts';

const BASE = process.env.SHOPTOKEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const RUN = `shoptoken-test-${randomBytes(4).toString('hex')}`;
const SHOP = 'cool-shop.myshopify.com';

/** Why the server cannot be used, or null when it can. */
async function unreachable(): Promise<string | null> {
  const client = new Redis(BASE, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let seen: unknown;
  client.on('error', (error: unknown) => {
    seen = error;
  });
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    const { code, message } = (seen ?? error) as { code?: string; message?: string };
    return `Redis at SHOPTOKEN_TEST_REDIS_URL is not reachable (${code ?? message})`;
  } finally {
    client.disconnect();
  }
}

const reason = await unreachable();
if (reason === null) {
  declareSuites();
} else if (process.env.SHOPTOKEN_REQUIRE_SERVICES === '1') {
  it('Redis is reachable (SHOPTOKEN_REQUIRE_SERVICES=1)', () => assert.fail(reason));
} else {
  console.log(`# skipping the redis storage tests: ${reason}`);
  it('redis storage', { skip: reason }, () => undefined);
}

function declareSuites(): void {
  const admin = new Redis(BASE, { maxRetriesPerRequest: 1 });
  admin.on('error', () => undefined);

  /** BASE with `params` set; the prefix defaults to this run's main one. */
  const urlWith = (params: Record<string, string> = {}, base = BASE): string => {
    const url = new URL(base);
    url.searchParams.set('prefix', RUN);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url.toString();
  };
  const mainUrl = urlWith();
  const open = (params: Record<string, string> = {}) => openRedisStorage(urlWith(params));
  /** A prefix of this run (its keys are deleted at the end with the others). */
  const freshPrefix = (what: string): string => `${RUN}-${what}`;
  /** The id of the connection named `name` (`?name=`). */
  const clientId = async (name: string): Promise<string> => {
    const list = String(await admin.call('CLIENT', 'LIST'));
    const line = list.split('\n').find((entry) => entry.includes(` name=${name} `));
    assert.ok(line, `a connection named ${name}`);
    return /\bid=(\d+)/.exec(line)![1]!;
  };

  after(async () => {
    await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
    let cursor = '0';
    do {
      const [next, keys] = (await admin.call('SCAN', cursor, 'MATCH', `${RUN}*`, 'COUNT', 1000)) as [string, string[]];
      if (keys.length > 0) await admin.call('UNLINK', ...keys);
      cursor = next;
    } while (cursor !== '0');
    admin.disconnect();
  });

  runStorageConformance('redis', () => openRedisStorage(mainUrl), { shared: true });

  describe('redis storage: migrations', () => {
    it('8 instances opening a fresh prefix at once apply each version exactly once', async () => {
      const prefix = freshPrefix('fresh');
      const counter = `${prefix}:test:applied`;
      const migrations = [
        ...REDIS_MIGRATIONS,
        {
          version: REDIS_MIGRATIONS.length + 1,
          description: 'a test layout change that counts its runs',
          statements: ["redis.call('INCR', ARGV[1] .. ':test:applied')"],
        },
      ];
      const latest = migrations.length;
      const reports: MigrationReport[] = [];
      const stores = await Promise.all(
        Array.from({ length: 8 }, () =>
          openRedisStorage(urlWith({ prefix }), { migrations, onMigrated: (report) => reports.push(report) }),
        ),
      );
      await Promise.all(stores.map((store) => store.close()));
      assert.equal(await admin.get(counter), '1', 'the counting migration ran once');
      assert.equal(await admin.get(`${prefix}:schema`), String(latest));
      assert.equal(await admin.exists(`${prefix}:migrate:lock`), 0, 'the lock is released');
      assert.equal(reports.length, 8, 'onMigrated is called by every open');
      const applied = reports.flatMap((report) => report.applied.map((step) => step.version));
      assert.deepEqual(
        applied,
        Array.from({ length: latest }, (_, i) => i + 1),
        'each version applied once',
      );
      assert.ok(reports.every((report) => report.to === latest));
      const again: MigrationReport[] = [];
      await (await openRedisStorage(urlWith({ prefix }), { migrations, onMigrated: (r) => again.push(r) })).close();
      assert.deepEqual(again, [{ from: latest, to: latest, applied: [] }]);
    });

    it('refuses a layout newer than this code, and closes its connection', async () => {
      const prefix = freshPrefix('newer');
      const name = `${RUN}-newer`;
      await admin.set(`${prefix}:schema`, String(REDIS_MIGRATIONS.length + 1));
      await assert.rejects(openRedisStorage(urlWith({ prefix, name })), (error: ShoptokenError) => {
        assert.equal(error.code, 'ERR_STORAGE');
        assert.match(error.message, /newer than this shoptoken knows/);
        return true;
      });
      await sleep(50);
      assert.ok(!String(await admin.call('CLIENT', 'LIST')).includes(` name=${name} `), 'no connection left open');
    });

    it('waits for another instance holding the migration lock, then finds nothing to do', async () => {
      const prefix = freshPrefix('locked');
      await (await openRedisStorage(urlWith({ prefix }))).close();
      await admin.set(`${prefix}:migrate:lock`, 'another-instance', 'PX', 400);
      const started = performance.now();
      const reports: MigrationReport[] = [];
      await (await openRedisStorage(urlWith({ prefix }), { onMigrated: (report) => reports.push(report) })).close();
      assert.ok(performance.now() - started >= 350, 'it waited for the lock');
      assert.deepEqual(reports[0]?.applied, []);
    });
  });

  describe('redis storage: driver, URL and connection errors', () => {
    it('a missing ioredis package is a ConfigError saying what to install', async () => {
      const absent = `ioredis-absent-${RUN}`;
      await assert.rejects(openRedisStorage(mainUrl, { importDriver: () => import(absent) }), (error: ConfigError) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          'SHOPTOKEN_DATABASE_URL is a redis:// URL: install the ioredis package (npm install ioredis)',
        ]);
        assert.equal(error.problems[0], MISSING_DRIVER);
        return true;
      });
    });

    it('a malformed URL or bad options: one ConfigError naming each, never quoting the URL', async () => {
      const password = `pw-${RUN}`;
      const bad = `redis://u:${password}@127.0.0.1/db2?prefix=a{b}&connect_timeout=soon&reject_unauthorized=false&frob=1`;
      await assert.rejects(openRedisStorage(bad), (error: ConfigError) => {
        assert.ok(error instanceof ConfigError);
        const problems = error.problems.join('\n');
        assert.equal(error.problems.length, 5, problems);
        for (const pattern of [
          /database number/,
          /prefix must be/,
          /connect_timeout must be/,
          /rediss:\/\/ URLs only/,
        ]) {
          assert.match(problems, pattern);
        }
        assert.match(problems, /unknown option "frob"/);
        assert.ok(!inspect(error, { depth: 5 }).includes(password));
        return true;
      });
      for (const url of [
        `redis://u:${password}@[nope:6379`,
        `redis://u:${password}@127.0.0.1:0`,
        `memcache://u:${password}@h`,
      ]) {
        await assert.rejects(openRedisStorage(url), (error: ConfigError) => {
          assert.ok(error instanceof ConfigError, url);
          assert.ok(!inspect(error, { depth: 5 }).includes(password));
          return true;
        });
      }
    });

    it('reads host, credentials, database, TLS and options out of the URL', () => {
      assert.deepEqual(
        parseRedisUrl(
          'rediss://app%40x:p%3Ass@cache.internal:6380/3?prefix=billing&name=web-1&connect_timeout=2&command_timeout=900&reject_unauthorized=false',
        ),
        {
          host: 'cache.internal',
          port: 6380,
          username: 'app@x',
          password: 'p:ss',
          db: 3,
          tls: { rejectUnauthorized: false },
          prefix: 'billing',
          name: 'web-1',
          connectTimeout: 2000,
          commandTimeout: 900,
          cluster: false,
        },
      );
      assert.deepEqual(parseRedisUrl('redis://[::1]'), {
        host: '::1',
        port: 6379,
        username: undefined,
        password: undefined,
        db: 0,
        tls: undefined,
        prefix: 'shoptoken',
        name: 'shoptoken',
        connectTimeout: 5000,
        commandTimeout: 10_000,
        cluster: false,
      });
      assert.deepEqual(parseRedisUrl('rediss://:secret@10.0.0.5/').tls, { rejectUnauthorized: true });
      assert.equal(parseRedisUrl('redis://node-1.internal:7000?cluster=true').cluster, true);
      assert.equal(parseRedisUrl('redis://h?command_timeout=0').commandTimeout, undefined, '0: no limit');
      assert.throws(() => parseRedisUrl('redis://node-1.internal:7000/2?cluster=true'), /database 0 only/);
    });

    it('an unreachable server (a closed port) is a quick, retryable ERR_STORAGE without the password', async () => {
      const port = await closedPort();
      const password = `pw-${RUN}`;
      const started = performance.now();
      await assert.rejects(openRedisStorage(`redis://:${password}@127.0.0.1:${port}/0`), (error: ShoptokenError) => {
        assert.ok(error instanceof ShoptokenError);
        assert.equal(error.code, 'ERR_STORAGE');
        assert.equal(error.retryable, true);
        assert.equal(error.message, 'redis storage could not connect');
        assert.ok(!inspect(error, { depth: 10 }).includes(password), 'no password anywhere in the error');
        return true;
      });
      assert.ok(performance.now() - started < 5000);
    });

    it('a server that accepts and never answers times out after connect_timeout', async () => {
      const sockets: Socket[] = [];
      const server = createServer((socket) => sockets.push(socket));
      const port = await listen(server);
      try {
        const started = performance.now();
        await assert.rejects(
          openRedisStorage(`redis://127.0.0.1:${port}/0?connect_timeout=1`),
          (error: ShoptokenError) => error.code === 'ERR_STORAGE' && error.retryable,
        );
        const elapsed = performance.now() - started;
        assert.ok(elapsed >= 900 && elapsed < 4000, `${elapsed} ms`);
      } finally {
        for (const socket of sockets) socket.destroy();
        server.close();
      }
    });

    it('credentials the server refuses: ERR_STORAGE, not retryable, without the password', async () => {
      const password = `pw-${RUN}`;
      const url = new URL(mainUrl);
      url.username = `nobody-${RUN}`;
      url.password = password;
      await assert.rejects(openRedisStorage(url.toString()), (error: ShoptokenError) => {
        assert.equal(error.code, 'ERR_STORAGE');
        assert.equal(error.retryable, false);
        assert.equal(error.message, 'redis storage could not connect: the server refused the user name or password');
        assert.ok(!inspect(error, { depth: 10 }).includes(password), 'no password anywhere in the error');
        return true;
      });
    });

    it('a database number the server does not have is ERR_STORAGE, not retryable', async () => {
      const url = new URL(mainUrl);
      url.pathname = '/99999';
      await assert.rejects(openRedisStorage(url.toString()), (error: ShoptokenError) => {
        assert.equal(error.code, 'ERR_STORAGE');
        assert.equal(error.retryable, false);
        return true;
      });
    });

    it('classifies driver errors: lost connections, timeouts, LOADING and TRYAGAIN are retryable; scripts are not', () => {
      const retryable = (message: string) => storageError('x', new Error(message)).retryable;
      for (const message of [
        'Connection is closed.',
        'connect ECONNREFUSED 127.0.0.1:6379',
        'read ECONNRESET',
        'Command timed out',
        'Reached the max retries per request limit (which is 0). Refer to "maxRetriesPerRequest" option for details.',
        'LOADING Redis is loading the dataset in memory',
        'TRYAGAIN Multiple keys request during rehashing of slot',
        'CLUSTERDOWN The cluster is down',
        "READONLY You can't write against a read only replica.",
        'BUSY Redis is busy running a script.',
      ]) {
        assert.equal(retryable(message), true, message);
      }
      for (const message of [
        'ERR Error running script (call to f_0): @user_script:1: user_script:1: oops',
        'WRONGTYPE Operation against a key holding the wrong kind of value',
        'NOSCRIPT No matching script. Please use EVAL.',
        'WRONGPASS invalid username-password pair or user is disabled.',
        "NOPERM this user has no permissions to run the 'eval' command",
        "OOM command not allowed when used memory > 'maxmemory'.",
      ]) {
        assert.equal(retryable(message), false, message);
      }
      const withArgs = Object.assign(new Error('ERR oops'), {
        command: { name: 'evalsha', args: ['x', 'secret-token'] },
      });
      assert.ok(
        !inspect(storageError('x', withArgs), { depth: 10 }).includes('secret-token'),
        'the cause drops the arguments',
      );
    });
  });

  describe('redis storage: connections lost, scripts flushed, calls hung', () => {
    it('a connection killed in the middle of a call: that call fails retryably, the next works', async () => {
      const name = `${RUN}-killed`;
      const storage = await open({ name });
      const app = `killed-${randomUUID()}`;
      try {
        await storage.put(offlineRow(app, SHOP));
        const id = await clientId(name);
        // Writes wait while the server is paused for writes: the swap is in the middle of its call.
        await admin.call('CLIENT', 'PAUSE', 2000, 'WRITE');
        let swap: Promise<unknown>;
        try {
          swap = storage
            .swap(offlineKey(app, SHOP), { refreshToken: sealed('refresh-1') }, refreshedRow(offlineRow(app, SHOP), 2))
            .then(
              () => null,
              (error: unknown) => error,
            );
          await sleep(100);
          assert.equal(await admin.call('CLIENT', 'KILL', 'ID', id), 1);
        } finally {
          await admin.call('CLIENT', 'UNPAUSE');
        }
        const error = (await swap) as ShoptokenError;
        assert.ok(error instanceof ShoptokenError, 'the swap failed');
        assert.equal(error.code, 'ERR_STORAGE');
        assert.equal(error.retryable, true);
        assert.equal(error.message, 'redis storage could not compare-and-set a token row');
        assert.equal(
          (await storage.get(offlineKey(app, SHOP)))?.refreshToken,
          sealed('refresh-1'),
          'the killed swap never ran',
        );
        assert.equal(
          await storage.swap(
            offlineKey(app, SHOP),
            { refreshToken: sealed('refresh-1') },
            refreshedRow(offlineRow(app, SHOP), 2),
          ),
          true,
        );
        assert.notEqual(await clientId(name), id, 'a new connection');
        // Killed while idle: the next call reconnects and works.
        await admin.call('CLIENT', 'KILL', 'ID', await clientId(name));
        assert.equal((await storage.get(offlineKey(app, SHOP)))?.refreshToken, sealed('refresh-2'));
        assert.deepEqual(
          (await storage.due('refresh', { app, before: 1e12, limit: 10 })).map((row) => row.shop),
          [SHOP],
        );
      } finally {
        await storage.deleteShop(app, SHOP).catch(() => undefined);
        await storage.close();
      }
    });

    it('SCRIPT FLUSH between calls: every script is sent again (NOSCRIPT → EVAL)', async () => {
      const storage = await open();
      const app = `flushed-${randomUUID()}`;
      const key = offlineKey(app, SHOP);
      try {
        await storage.put(offlineRow(app, SHOP));
        await admin.call('SCRIPT', 'FLUSH');
        assert.equal(
          await storage.swap(key, { refreshToken: sealed('refresh-1') }, refreshedRow(offlineRow(app, SHOP), 2)),
          true,
        );
        await admin.call('SCRIPT', 'FLUSH');
        assert.equal(await storage.markInstalled(app, SHOP, 5), true);
        await admin.call('SCRIPT', 'FLUSH');
        assert.equal(await storage.leases.acquire(`flushed-${app}`, 'a', 10_000), true);
        await admin.call('SCRIPT', 'FLUSH');
        assert.equal(await storage.leases.release(`flushed-${app}`, 'a'), true);
        await admin.call('SCRIPT', 'FLUSH');
        assert.deepEqual(await storage.get(key), { ...refreshedRow(offlineRow(app, SHOP), 2), installedAt: 5 });
        assert.equal((await storage.due('access', { app, before: 1e12, limit: 10 })).length, 1);
        await admin.call('SCRIPT', 'FLUSH');
        assert.equal(await storage.deleteShop(app, SHOP), 1);
      } finally {
        await storage.close();
      }
    });

    it('rows are read as one script reply: values holding what JSON escapes come back byte for byte', async () => {
      const storage = await open();
      const app = `escaped-${randomUUID()}`;
      // Quotes, backslashes, slashes, control characters, NUL, accents, an emoji and a long value.
      const odd = `"\\/\u0000\u0001\t\n\r é ü 🙂 ${'x'.repeat(5000)}`;
      const online = onlineRow(app, SHOP, { userId: `ü "42"\\/\u0000`, scopes: odd, lastRefreshError: odd });
      const offline = offlineRow(app, SHOP, { associatedUserScopes: odd, lastRefreshError: '' });
      try {
        await storage.put(online);
        await storage.put(offline);
        assert.deepEqual(await storage.get(online), online);
        assert.deepEqual(await storage.get(offline), offline);
        assert.equal(await storage.get(offlineKey(app, 'absent.myshopify.com')), null);
      } finally {
        await storage.close();
      }
    });

    it('a call that times out fails retryably, and its late reply never lands on the next call', async () => {
      const storage = await open({ command_timeout: '300' });
      const app = `timeout-${randomUUID()}`;
      const key = offlineKey(app, SHOP);
      try {
        await storage.put(offlineRow(app, SHOP));
        await admin.call('CLIENT', 'PAUSE', 1000, 'WRITE');
        const started = performance.now();
        await assert.rejects(
          storage.swap(key, { refreshToken: sealed('refresh-1') }, refreshedRow(offlineRow(app, SHOP), 2)),
          (error: ShoptokenError) => error.code === 'ERR_STORAGE' && error.retryable,
        );
        const elapsed = performance.now() - started;
        assert.ok(elapsed >= 250 && elapsed < 900, `${elapsed} ms`);
        await admin.call('CLIENT', 'UNPAUSE');
        // The timed-out swap ran once the server went on (its outcome was unknown, not failed).
        const row = await storage.get(key);
        assert.equal(row?.refreshToken, sealed('refresh-2'));
        assert.equal(await storage.leases.acquire(`timeout-${app}`, 'a', 1000), true, 'replies in step');
        assert.equal(await storage.states.take(`timeout-${app}`, 0), null, 'replies in step');
      } finally {
        await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
        await storage.deleteShop(app, SHOP).catch(() => undefined);
        await storage.close();
      }
    });

    it('close is idempotent; calls in flight finish, later ones are refused without touching the server', async () => {
      const storage: TokenStorage = await open();
      const app = `close-${randomUUID()}`;
      const writing = storage.put(offlineRow(app, SHOP));
      await Promise.all([storage.close(), storage.close()]);
      await writing;
      await storage.close();
      await assert.rejects(storage.states.save('x', 'y', 1), { code: 'ERR_STORAGE', message: /closed/ });
      await assert.rejects(storage.leases.release('x', 'y'), { code: 'ERR_STORAGE' });
      const other = await open();
      try {
        assert.equal((await other.get(offlineKey(app, SHOP)))?.shop, SHOP, 'the write in flight was made');
      } finally {
        await other.deleteShop(app, SHOP);
        await other.close();
      }
    });
  });

  describe('redis storage: several processes', () => {
    it('4 processes × 50 callers over 100 shops: each shop’s token is rotated exactly once', async () => {
      const storage = await open();
      try {
        await assertRotatedOnceAcrossProcesses(storage, mainUrl, { shops: 100, processes: 4, callers: 50 });
      } finally {
        await storage.close();
      }
    });
  });

  describe('redis storage: clocks', () => {
    it('leases run on the Redis server’s expiry, whatever this process’s clock says', async () => {
      const storage = await open();
      const key = `clock-${randomUUID()}`;
      const realNow = Date.now;
      try {
        assert.equal(await storage.leases.acquire(key, 'a', 60_000), true);
        const left = Number(await admin.pttl(`${RUN}:lease:${key}`));
        assert.ok(left > 55_000 && left <= 60_000, `${left} ms left on the server's clock`);
        Date.now = () => realNow() + 3_600_000; // this instance's clock an hour ahead
        assert.equal(await storage.leases.acquire(key, 'b', 60_000), false, 'still held on the server’s clock');
        assert.equal(await storage.leases.extend(key, 'a', 60_000), true);
        await assert.rejects(storage.leases.acquire(key, 'a', 0), TypeError);
        await assert.rejects(storage.leases.acquire(key, 'a', 1.5), TypeError);
      } finally {
        Date.now = realNow;
        await storage.leases.release(key, 'a');
        await storage.close();
      }
    });

    it('OAuth states expire on the caller’s clock; Redis only cleans them up, well after', async () => {
      const storage = await open();
      const state = (what: string) => `clock-${RUN}-${what}`;
      try {
        const now = Date.now();
        await storage.states.save(state('live'), 'x:y', now + 600_000);
        const left = Number(await admin.pttl(`${RUN}:state:${state('live')}`));
        assert.ok(left > 600_000 && left <= cleanupAfter(now + 600_000, now), `${left} ms`);
        assert.equal(await storage.states.take(state('live'), now + 599_999), 'x:y', 'values may hold colons');
        // A caller whose clock is far behind (a frozen test clock): Redis keeps it for the grace period.
        await storage.states.save(state('past'), 'v', 5000);
        assert.ok(Number(await admin.pttl(`${RUN}:state:${state('past')}`)) > 3_000_000);
        assert.equal(await storage.states.take(state('past'), 4999), 'v');
        assert.equal(cleanupAfter(1e15, 0), 7 * 86_400_000 + 3_600_000, 'never longer than a week and an hour');
      } finally {
        await storage.close();
      }
    });
  });
}

/** Listens on a free loopback port and returns it. */
function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

/** A loopback port nothing listens on (one just freed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}
