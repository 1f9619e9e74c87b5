/**
 * The database going away under load and coming back (issue 7 §5), for PostgreSQL and Redis, at the
 * vault level: worker processes refresh tokens without pause (every call a refresh) through a small
 * TCP proxy in front of the machine's shared server, and the proxy is cut for a few seconds — every
 * connection dropped, new ones reset — then restored. (The shared servers themselves are never
 * restarted: other tests use them. The Redis server restarted for real, at the storage level, is
 * test/storage/redis-restart.test.ts.)
 *
 * Callers must get a valid token or a retryable `ERR_STORAGE`, quickly (never a hang), never a
 * `needs_reauth`; calls must work again once the proxy is back; and no refresh token may be lost —
 * a pair Shopify issued whose write was cut off is recovered by the next refresh (the same refresh
 * token again answers the same pair), which the last step proves by refreshing every shop once more.
 */

import assert from 'node:assert/strict';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Emulator } from '../../src/emulator/index.ts';
import { ADMIN_QUERY_OK, adminStatus } from '../helpers/emulator-install.ts';
import {
  freshKeys,
  installShops,
  listeningEmulator,
  refreshGrants,
  shopNames,
  startWorkers,
  stopWorkers,
  sumCounts,
  testVault,
  type Worker,
  workerConfig,
} from '../helpers/multiprocess-harness.ts';
import {
  BACKENDS,
  type Backend,
  Stores,
  serverAddress,
  storeTest,
  throughPort,
  unavailable,
} from '../helpers/multiprocess-stores.ts';
import type { TokensResult } from '../helpers/multiprocess-worker.ts';

const PROCESSES = 2;
const CALLERS = 5;
const SHOPS = 10;
const BEFORE_MS = 1500;
const CUT_MS = 2500;
/** Redis reconnects with a backoff of up to 2 s: the last second after it must be clean. */
const AFTER_MS = 3000;
/** Above a token's lifetime: every `token()` call refreshes. */
const ALWAYS_REFRESH_MS = 2 * 3_600_000;
/** A call that takes longer than this has hung. */
const HANG_MS = 10_000;
const EXPIRE_ALL_MS = 3_601_000;

/** A TCP proxy to `target` that can be cut (every connection dropped, new ones reset) and restored. */
class CuttableProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #cut = false;
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.#server = createServer((client) => {
      if (this.#cut) {
        client.resetAndDestroy();
        return;
      }
      const upstream = tcpConnect(target.port, target.host);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.#sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
  }

  /** Drops every connection now and resets new ones until {@link restore}. */
  cut(): void {
    this.#cut = true;
    for (const socket of this.#sockets) socket.resetAndDestroy();
  }

  restore(): void {
    this.#cut = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

const reasons = await unavailable();
const stores = new Stores();
let emulator: Emulator;
let origin: string;
let closeEmulator: (() => Promise<void>) | undefined;

before(async () => {
  ({ emulator, origin, close: closeEmulator } = await listeningEmulator());
});
after(async () => {
  await closeEmulator?.();
  await stores.dropAll();
});

/** The stores with a server to cut (SHOPTOKEN_MP_BACKENDS narrows them, as in the other multi-process tests). */
const CUT_STORES: Backend[] = (['postgres', 'redis'] as const).filter((backend) => BACKENDS.includes(backend));
if (CUT_STORES.length === 0) {
  it(
    'the database cut off under load',
    { skip: 'SHOPTOKEN_MP_BACKENDS lists neither postgres nor redis' },
    () => undefined,
  );
}

for (const backend of CUT_STORES) {
  describe(`${backend}: the database cut off under load`, () => {
    storeTest(
      backend,
      reasons[backend],
      `cut for ${CUT_MS / 1000} s → valid tokens or retryable ERR_STORAGE, no hang, nothing lost`,
      async () => {
        const direct = await stores.fresh(backend, 'cut', backend === 'postgres' ? { connect_timeout: '2' } : {});
        const proxy = new CuttableProxy(serverAddress(direct));
        await proxy.listen();
        const keys = freshKeys();
        const vault = await testVault(direct, keys, origin, emulator);
        const shops = shopNames(`${backend}-cut`, SHOPS);
        const inScope = new Set(shops);
        let workers: Worker[] = [];
        try {
          await installShops(emulator, vault, shops);
          workers = await startWorkers(
            PROCESSES,
            workerConfig(throughPort(direct, proxy.port), keys, origin, { coordination: { leaseTtlMs: 2000 } }),
          );
          const since = emulator.grants().length;
          const running = workers.map((worker) =>
            worker.send<TokensResult>({
              op: 'tokens',
              shops,
              callers: CALLERS,
              forMs: BEFORE_MS + CUT_MS + AFTER_MS,
              marginMs: ALWAYS_REFRESH_MS,
              check: true,
              pauseAfterErrorMs: 50,
            }),
          );
          await sleep(BEFORE_MS);
          proxy.cut();
          await sleep(CUT_MS);
          proxy.restore();
          const results = await Promise.all(running);
          const grants = refreshGrants(emulator, since, inScope).length;

          const errors = sumCounts(results.map((r) => r.errors));
          const slot = (ms: number) => Math.floor(ms / 250);
          const phase = (from: number, to: number) =>
            results
              .flatMap((r) => r.timeline.slice(slot(from), slot(to)))
              .reduce(([ok, failed], [o, f]) => [ok + o, failed + f], [0, 0]);
          // A quarter second of slack each side: the workers' clocks started a little after the test's.
          const beforeCut = phase(0, BEFORE_MS - 250);
          const duringCut = phase(BEFORE_MS + 250, BEFORE_MS + CUT_MS);
          const recovered = phase(BEFORE_MS + CUT_MS + AFTER_MS - 1000, BEFORE_MS + CUT_MS + AFTER_MS);
          const admin = sumCounts(results.map((r) => r.adminStatuses));

          // Nothing lost: every stored refresh token is live, so every shop refreshes once more.
          emulator.clock.advance(EXPIRE_ALL_MS);
          const again = emulator.grants().length;
          let marked = 0;
          const off = vault.on('needs_reauth', () => void marked++);
          const tokens = await Promise.all(shops.map((shop) => vault.token(shop)));
          off();
          const statuses = await Promise.all(tokens.map((t, i) => adminStatus(emulator, shops[i]!, t.accessToken)));
          const next = refreshGrants(emulator, again, inScope).length;

          console.log(
            `# ${backend} cut: ${JSON.stringify({
              calls: results.reduce((n, r) => n + r.calls, 0),
              grants,
              errors,
              beforeCut,
              duringCut,
              lastSecondsAfter: recovered,
              slowestCallMs: Math.max(...results.map((r) => r.slowestMs)),
              needsReauth: results.reduce((n, r) => n + r.needsReauth, 0) + marked,
              admin,
              refreshedAgain: next,
            })}`,
          );
          for (const result of results) {
            for (const key of Object.keys(result.errors)) {
              assert.equal(
                key,
                'ERR_STORAGE/retryable',
                `only retryable storage errors (${result.samples.join('; ')})`,
              );
            }
            assert.equal(result.needsReauth, 0, 'no shop marked');
            assert.ok(result.slowestMs < HANG_MS, `no call hung (slowest ${result.slowestMs} ms)`);
          }
          assert.ok(beforeCut[0] > 0, 'calls worked before the cut');
          assert.ok(duringCut[1] > 0, 'calls failed while the database was away');
          assert.ok(recovered[0] > 0 && recovered[1] === 0, 'everything works again once it is back');
          assert.deepEqual(Object.keys(admin), [String(ADMIN_QUERY_OK)], 'every token returned works');
          assert.equal(marked, 0, 'no shop marked on the next refresh');
          assert.equal(next, SHOPS, 'every stored refresh token is live');
          assert.ok(statuses.every((status) => status === ADMIN_QUERY_OK));
        } finally {
          await stopWorkers(workers);
          await vault.close();
          await proxy.close();
        }
      },
    );
  });
}
