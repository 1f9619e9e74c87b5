/**
 * Exactly one refresh per rotation across processes (issue 7 §3, §5), on each store: 4 worker
 * processes × 50 concurrent callers over 100 expired shops, against the emulator over real HTTP.
 * The emulator counts the refresh grants; every token returned must work on the Admin API, every
 * process must get the same token per shop, and no shop may be marked `needs_reauth`. Then the same
 * with 30 % of the refreshes committed at the emulator and their answers lost: nothing may be lost
 * (every shop's stored pair is the live one, so it refreshes again) and nothing marked.
 */

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { Emulator } from '../../src/emulator/index.ts';
import type { Vault } from '../../src/open-vault.ts';
import { ADMIN_QUERY_OK, adminStatus } from '../helpers/emulator-install.ts';
import {
  assertSameTokenPerShop,
  droppedRefreshes,
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
import { BACKENDS, Stores, storeTest, unavailable } from '../helpers/multiprocess-stores.ts';
import type { TokensResult } from '../helpers/multiprocess-worker.ts';

const PROCESSES = 4;
const CALLERS = 50;
const SHOPS = 100;
const DROPPED = 30;
/** An hour and a second: every access token issued before has expired. */
const EXPIRE_ALL_MS = 3_601_000;

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

function assertClean(results: TokensResult[], shops: string[]): void {
  for (const [index, result] of results.entries()) {
    assert.deepEqual(result.errors, {}, `process ${index}: no call failed (${result.samples.join('; ')})`);
    assert.equal(result.ok, CALLERS * shops.length, `process ${index}: every call answered`);
    assert.equal(result.needsReauth, 0, `process ${index}: no needs_reauth`);
    assert.deepEqual(result.adminStatuses, { [ADMIN_QUERY_OK]: shops.length }, `process ${index}: every token works`);
  }
  assertSameTokenPerShop(shops, results);
}

function report(what: string, numbers: Record<string, unknown>): void {
  console.log(`# ${what}: ${JSON.stringify(numbers)}`);
}

for (const backend of BACKENDS) {
  describe(`${backend}: one refresh per rotation across ${PROCESSES} processes`, () => {
    const reason = reasons[backend];
    const keys = freshKeys();
    let vault: Vault;
    let workers: Worker[] = [];

    before(async () => {
      if (reason !== null) return;
      const database = await stores.fresh(backend, 'once');
      vault = await testVault(database, keys, origin, emulator);
      workers = await startWorkers(PROCESSES, workerConfig(database, keys, origin));
    });
    after(async () => {
      await stopWorkers(workers);
      await vault?.close();
    });

    /** Installs `shops`, expires their tokens, and has every process's callers ask for each once. */
    async function race(shops: string[]): Promise<{ results: TokensResult[]; since: number; ms: number }> {
      await installShops(emulator, vault, shops);
      emulator.clock.advance(EXPIRE_ALL_MS);
      const since = emulator.grants().length;
      const started = performance.now();
      const results = await Promise.all(
        workers.map((worker) => worker.send<TokensResult>({ op: 'tokens', shops, callers: CALLERS, check: true })),
      );
      return { results, since, ms: Math.round(performance.now() - started) };
    }

    storeTest(
      backend,
      reason,
      `${PROCESSES} processes × ${CALLERS} callers on ${SHOPS} expired shops → ${SHOPS} refresh grants`,
      async () => {
        const shops = shopNames(`${backend}-once`, SHOPS);
        const { results, since, ms } = await race(shops);
        const grants = refreshGrants(emulator, since, new Set(shops));
        report(`${backend} once`, {
          grants: grants.length,
          calls: results.reduce((n, r) => n + r.calls, 0),
          needsReauth: results.reduce((n, r) => n + r.needsReauth, 0),
          admin: sumCounts(results.map((r) => r.adminStatuses)),
          slowestCallMs: Math.max(...results.map((r) => r.slowestMs)),
          ms,
        });
        assertClean(results, shops);
        assert.equal(grants.length, SHOPS, 'one refresh grant per shop');
        assert.equal(new Set(grants.map((g) => g.shop)).size, SHOPS, 'every shop refreshed once');
      },
    );

    storeTest(
      backend,
      reason,
      `with ${DROPPED} % of refreshes committed and their answers lost → nothing lost, nothing marked`,
      async () => {
        const shops = shopNames(`${backend}-drop`, SHOPS);
        const inScope = new Set(shops);
        const dropped = [...shops].sort(() => Math.random() - 0.5).slice(0, (SHOPS * DROPPED) / 100);
        for (const shop of dropped) {
          emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', shop, commitThenDrop: true });
        }
        const { results, since, ms } = await race(shops);
        const grants = refreshGrants(emulator, since, inScope);
        const lost = droppedRefreshes(emulator, inScope);
        assertClean(results, shops);
        assert.equal(lost, dropped.length, 'every planned answer was lost');
        // A lost answer is recovered by sending the same refresh token again, which Shopify answers
        // with the same pair: one more 200, no new rotation.
        assert.equal(grants.length, SHOPS + lost, 'one rotation per shop, plus one retry per lost answer');

        // Nothing lost: every stored refresh token is the one the emulator holds live, so each
        // shop refreshes again (a rotation, not a refusal), and the new token works.
        emulator.clock.advance(EXPIRE_ALL_MS);
        const again = emulator.grants().length;
        let marked = 0;
        const off = vault.on('needs_reauth', () => void marked++);
        const tokens = await Promise.all(shops.map((shop) => vault.token(shop)));
        off();
        const statuses = await Promise.all(
          tokens.map((token, i) => adminStatus(emulator, shops[i]!, token.accessToken)),
        );
        const next = refreshGrants(emulator, again, inScope);
        report(`${backend} commit-then-drop`, {
          dropped: lost,
          grants: grants.length,
          needsReauth: results.reduce((n, r) => n + r.needsReauth, 0) + marked,
          refreshedAgain: next.length,
          ms,
        });
        assert.equal(marked, 0, 'no shop marked on the next refresh');
        assert.equal(next.length, SHOPS, 'every stored refresh token is live: one more rotation each');
        assert.ok(
          statuses.every((status) => status === ADMIN_QUERY_OK),
          'every token after the next rotation works',
        );
      },
    );
  });
}
