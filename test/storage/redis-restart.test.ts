/**
 * The Redis storage while its server dies and comes back, on a private `redis-server` this file
 * starts (a free loopback port, append-only file fsynced on every write, in a temporary directory):
 * callers rotating tokens under load get either a confirmed write or a retryable ERR_STORAGE, fast,
 * never a hang; no confirmed write is lost; everything works again once the server is back. Skipped
 * with a printed reason without `redis-server`, unless SHOPTOKEN_REQUIRE_SERVICES=1.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ShoptokenError } from '../../src/errors.ts';
import { openRedisStorage } from '../../src/storage/redis/index.ts';
import type { TokenRow } from '../../src/storage/types.ts';
import { offlineKey, offlineRow, sealed } from '../../src/testing/fixtures.ts';

const SERVER = process.env.SHOPTOKEN_TEST_REDIS_SERVER ?? 'redis-server';
const found = spawnSync(SERVER, ['--version'], { encoding: 'utf8' });
const reason = found.status === 0 ? null : `${SERVER} is not installed (apt-get install redis-server)`;
if (reason === null) {
  declareSuites();
} else if (process.env.SHOPTOKEN_REQUIRE_SERVICES === '1') {
  it('redis-server is installed (SHOPTOKEN_REQUIRE_SERVICES=1)', () => assert.fail(reason));
} else {
  console.log(`# skipping the redis restart test: ${reason}`);
  it('redis storage across a restart', { skip: reason }, () => undefined);
}

/** A loopback port nothing listens on (one just freed). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function declareSuites(): void {
  const dir = mkdtempSync(join(tmpdir(), 'shoptoken-redis-'));
  let server: ChildProcess | undefined;
  after(() => {
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the private server on `port` (its data in `dir`) and waits until it answers. */
  async function start(port: number): Promise<void> {
    server = spawn(
      SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes'],
      { stdio: 'ignore' },
    );
    const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    for (let attempt = 0; ; attempt++) {
      try {
        await probe.connect();
        await probe.call('CONFIG', 'SET', 'appendfsync', 'always');
        probe.disconnect();
        return;
      } catch (error) {
        if (attempt > 100) throw error;
        await sleep(50);
      }
    }
  }

  describe('redis storage: the server restarted under load', () => {
    it('confirmed writes survive, failures are quick retryable ERR_STORAGE, and it recovers', async () => {
      const port = await freePort();
      await start(port);
      const storage = await openRedisStorage(`redis://127.0.0.1:${port}/0?prefix=restart`);
      const app = 'restart';
      const shops = Array.from({ length: 20 }, (_, i) => `shop-${i}.myshopify.com`);
      const confirmed = new Map<string, number>(shops.map((shop) => [shop, 1]));
      const attempted = new Map<string, number>(shops.map((shop) => [shop, 1]));
      const failures: ShoptokenError[] = [];
      let slowest = 0;
      let succeeded = 0;
      let stop = false;
      const tokenNumber = (row: TokenRow | null) => Number(row?.refreshToken?.split('-').at(-1));
      try {
        for (const shop of shops) await storage.put(offlineRow(app, shop));
        const caller = async (i: number) => {
          for (let n = 0; !stop; n++) {
            const shop = shops[(i + n) % shops.length]!;
            const started = performance.now();
            try {
              const row = await storage.get(offlineKey(app, shop));
              const current = tokenNumber(row);
              assert.ok(current >= confirmed.get(shop)!, 'never an older token than one confirmed');
              attempted.set(shop, Math.max(attempted.get(shop)!, current + 1));
              const next = { ...row!, refreshToken: sealed(`refresh-${current + 1}`) };
              if (await storage.swap(offlineKey(app, shop), { refreshToken: row!.refreshToken! }, next)) {
                confirmed.set(shop, Math.max(confirmed.get(shop)!, current + 1));
              }
              succeeded++;
            } catch (error) {
              assert.ok(error instanceof ShoptokenError, String(error));
              failures.push(error);
              await sleep(20);
            }
            slowest = Math.max(slowest, performance.now() - started);
          }
        };
        const callers = Promise.all(Array.from({ length: 10 }, (_, i) => caller(i)));
        await sleep(300);
        const before = succeeded;
        server!.kill('SIGKILL');
        await new Promise((resolve) => server!.once('exit', resolve));
        await sleep(1000);
        const during = failures.length;
        await start(port);
        const restarted = succeeded;
        await sleep(3000);
        stop = true;
        await callers;

        assert.ok(before > 0, 'calls worked before');
        assert.ok(during > 0, 'calls failed while the server was down');
        assert.ok(succeeded > restarted, 'calls work again after the restart');
        for (const error of failures) {
          assert.equal(error.code, 'ERR_STORAGE');
          assert.equal(error.retryable, true, error.message);
          assert.match(error.message, /^redis storage could not /);
        }
        assert.ok(slowest < 3000, `no call hung (slowest ${Math.round(slowest)} ms)`);
        for (const shop of shops) {
          const stored = tokenNumber(await storage.get(offlineKey(app, shop)));
          assert.ok(stored >= confirmed.get(shop)!, `${shop}: no confirmed write lost`);
          assert.ok(stored <= attempted.get(shop)!, `${shop}: nothing written that was not asked`);
        }
        assert.equal((await storage.due('access', { app, before: 1e12, limit: 100 })).length, shops.length);
      } finally {
        stop = true;
        await storage.close();
      }
    });
  });
}
