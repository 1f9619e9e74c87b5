/**
 * The Redis storage on a Redis Cluster (`?cluster=true`), on three private `redis-server` nodes this
 * file starts (free loopback ports, slots split three ways): the storage battery and the index
 * repairs, where a command or script whose declared keys span two slots fails with CROSSSLOT and a
 * key on another node answers MOVED; every command the storage sent, with every command its scripts
 * ran (watched through MONITOR on each node), is checked to touch the keys of one slot; a node
 * connection killed in the middle of a compare-and-set fails that call retryably without running it
 * twice. Skipped with a printed reason without `redis-server`, unless SHOPTOKEN_REQUIRE_SERVICES=1.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ShoptokenError } from '../../src/errors.ts';
import { openRedisStorage } from '../../src/storage/redis/index.ts';
import { timeKey } from '../../src/storage/redis/keys.ts';
import { offlineKey, offlineRow, onlineRow, refreshedRow, sealed } from '../../src/testing/fixtures.ts';
import { runStorageConformance } from '../../src/testing/index.ts';

const SERVER = process.env.SHOPTOKEN_TEST_REDIS_SERVER ?? 'redis-server';
const found = spawnSync(SERVER, ['--version'], { encoding: 'utf8' });
const reason = found.status === 0 ? null : `${SERVER} is not installed (apt-get install redis-server)`;
if (reason === null) {
  declareSuites();
} else if (process.env.SHOPTOKEN_REQUIRE_SERVICES === '1') {
  it('redis-server is installed (SHOPTOKEN_REQUIRE_SERVICES=1)', () => assert.fail(reason));
} else {
  console.log(`# skipping the redis cluster test: ${reason}`);
  it('redis storage on a cluster', { skip: reason }, () => undefined);
}

/** A loopback port nothing listens on (one just freed). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An admin connection to one node, once it answers. */
async function connect(port: number): Promise<Redis> {
  const client = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  for (let attempt = 0; ; attempt++) {
    try {
      await client.connect();
      return client;
    } catch (error) {
      if (attempt > 100) throw error;
      await sleep(50);
    }
  }
}

/** One command a node ran: its arguments, and whether a script ran it. */
interface Seen {
  args: string[];
  fromScript: boolean;
}

/** A node of the test cluster. */
interface Node {
  port: number;
  process: ChildProcess;
  admin: Redis;
  watcher: Redis;
  seen: Seen[];
}

function declareSuites(): void {
  const dir = mkdtempSync(join(tmpdir(), 'shoptoken-redis-cluster-'));
  const nodes: Node[] = [];
  let url = '';
  const ranges = [
    [0, 5460],
    [5461, 10_922],
    [10_923, 16_383],
  ];

  before(async () => {
    for (const [i, [from, to]] of ranges.entries()) {
      const port = await freePort();
      const home = join(dir, String(i));
      mkdirSync(home);
      const child = spawn(
        SERVER,
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', home, '--save', '', '--appendonly', 'no'].concat([
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(home, 'nodes.conf'),
        ]),
        { stdio: 'ignore' },
      );
      const admin = await connect(port);
      await admin.call('CLUSTER', 'ADDSLOTSRANGE', from!, to!);
      nodes.push({ port, process: child, admin, watcher: await connect(port), seen: [] });
    }
    for (const node of nodes.slice(1)) await nodes[0]!.admin.call('CLUSTER', 'MEET', '127.0.0.1', node.port);
    for (let attempt = 0; ; attempt++) {
      const states = await Promise.all(nodes.map((node) => node.admin.call('CLUSTER', 'INFO')));
      if (states.every((info) => String(info).includes('cluster_state:ok'))) break;
      if (attempt > 200) throw new Error('the test cluster never became ready');
      await sleep(50);
    }
    for (const node of nodes) {
      const monitor = await node.watcher.monitor();
      monitor.on('error', () => undefined);
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        node.seen.push({ args, fromScript: source === 'lua' });
      });
      node.watcher = monitor;
    }
    url = `redis://127.0.0.1:${nodes[0]!.port}?cluster=true&prefix=cluster`;
  });

  after(async () => {
    for (const node of nodes) {
      node.watcher.disconnect();
      node.admin.disconnect();
      node.process.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  runStorageConformance('redis on a Redis Cluster', () => openRedisStorage(url), { shared: true });

  describe('redis storage on a Redis Cluster', () => {
    it('repairs its indexes, deletes shops and migrates there too', async () => {
      const storage = await openRedisStorage(url);
      const app = `cluster-${randomUUID()}`;
      const shop = 'cool-shop.myshopify.com';
      const admin = (key: string) => nodes.find((node) => node.port === nodeOf(key))!.admin;
      try {
        await storage.put(offlineRow(app, shop, { expiresAt: 2000 }));
        await storage.put(onlineRow(app, shop));
        const due = `cluster:app:{app:${app}}:due:access`;
        await admin(due).call('ZADD', due, 0, `${timeKey(1000)}${shop}`, 0, '!junk');
        const row = `cluster:t:{${app}:${shop}}:offline`;
        await admin(row).call('HSET', row, 'expires_at', '3000');
        assert.deepEqual(await storage.due('access', { app, before: 2500, limit: 10 }), []);
        assert.equal((await storage.due('access', { app, before: 3000, limit: 10 })).length, 1);
        assert.equal(await storage.deleteOnline(app, shop, '42'), true);
        assert.equal(await storage.markInstalled(app, shop, 5), true);
        assert.equal(await storage.deleteShop(app, shop), 1);
        assert.deepEqual(await storage.list({ app, limit: 10 }), []);
      } finally {
        await storage.close();
      }
    });

    it('a node connection killed in the middle of a compare-and-set: that call fails retryably, ran once', async () => {
      const name = `cluster-killed-${randomUUID()}`;
      const storage = await openRedisStorage(`${url}&name=${name}`);
      const app = `killed-${randomUUID()}`;
      const shop = 'cool-shop.myshopify.com';
      const key = offlineKey(app, shop);
      const port = nodeOf(`cluster:t:{${app}:${shop}}:offline`);
      const node = nodes.find((candidate) => candidate.port === port)!;
      try {
        await storage.put(offlineRow(app, shop));
        const list = String(await node.admin.call('CLIENT', 'LIST'));
        const id = /\bid=(\d+)/.exec(list.split('\n').find((line) => line.includes(` name=${name} `)) ?? '')?.[1];
        assert.ok(id, 'the storage has a connection to the node');
        await node.admin.call('CLIENT', 'PAUSE', 2000, 'WRITE');
        let outcome: Promise<unknown>;
        try {
          outcome = storage
            .swap(key, { refreshToken: sealed('refresh-1') }, refreshedRow(offlineRow(app, shop), 2))
            .then(
              () => null,
              (error: unknown) => error,
            );
          await sleep(100);
          await node.admin.call('CLIENT', 'KILL', 'ID', id);
        } finally {
          await node.admin.call('CLIENT', 'UNPAUSE');
        }
        const error = (await outcome) as ShoptokenError;
        assert.ok(error instanceof ShoptokenError, 'the swap failed');
        assert.equal(error.code, 'ERR_STORAGE');
        assert.equal(error.retryable, true);
        await sleep(200); // a re-sent swap would have run by now
        assert.equal((await storage.get(key))?.refreshToken, sealed('refresh-1'), 'the killed swap never ran');
        assert.equal(
          await storage.swap(key, { refreshToken: sealed('refresh-1') }, refreshedRow(offlineRow(app, shop), 2)),
          true,
        );
      } finally {
        await node.admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
        await storage.deleteShop(app, shop).catch(() => undefined);
        await storage.close();
      }
    });

    it('every command it sent, and every command its scripts ran, touched the keys of one slot', async () => {
      await sleep(200); // the last MONITOR lines
      const admin = nodes[0]!.admin;
      const keysOf = async ({ args }: Seen): Promise<string[]> => {
        const [name, ...rest] = args;
        if (/^(evalsha|eval)$/i.test(name!)) return rest.slice(2, 2 + Number(rest[1]));
        try {
          return ((await admin.call('COMMAND', 'GETKEYS', ...args)) as string[]).map(String);
        } catch {
          return []; // a command without keys (CLIENT, INFO, SCRIPT, …)
        }
      };
      let scripts = 0;
      for (const node of nodes) {
        // A script's commands follow its EVAL/EVALSHA line (a script runs alone): group them.
        const groups: Seen[][] = [];
        for (const command of node.seen) {
          if (command.fromScript && groups.length > 0) groups.at(-1)!.push(command);
          else groups.push([command]);
        }
        for (const group of groups) {
          const keys = (await Promise.all(group.map(keysOf))).flat().filter((key) => key.startsWith('cluster:'));
          if (keys.length === 0) continue;
          if (group.length > 1) scripts++;
          const inSlots = new Set(keys.map(slotOf));
          assert.equal(inSlots.size, 1, `one slot: ${group.map((command) => command.args[0]).join(' → ')} ${keys}`);
        }
      }
      assert.ok(scripts > 100, `scripts were watched (${scripts})`);
    });
  });

  /** The port of the node holding `key`'s slot. */
  function nodeOf(key: string): number {
    const slot = slotOf(key);
    return nodes[ranges.findIndex(([from, to]) => slot >= from! && slot <= to!)]!.port;
  }
}

/** Redis Cluster's slot of a key: CRC16 (XMODEM) of its hash tag (or of the key), mod 16384. */
function slotOf(key: string): number {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  const tagged = close > open + 1 ? key.slice(open + 1, close) : key;
  let crc = 0;
  for (const byte of Buffer.from(tagged, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16_384;
}
