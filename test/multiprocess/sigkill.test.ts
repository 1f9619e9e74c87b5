/**
 * A process killed (SIGKILL) while it holds a shop's refresh lease, on each store (issue 7 §3, §5).
 * The emulator holds the victim's refresh request (`delayMs`), so the victim dies mid-request; two
 * surviving processes ask for the same shop meanwhile. They must wait — never calling Shopify while
 * the victim's lease is live — and take over once it expires (leases of 1 s here); no token may be
 * lost and no shop marked.
 *
 * The grant bound. The killed process's request may have reached the emulator before it died, so
 * Shopify may apply it after all (here: when its delay ends, with nobody left to read the answer).
 * That rotates the pair once; the survivor that takes over sends the same stored refresh token,
 * which Shopify answers with the same pair again (a second 200, no second rotation) — or, if the
 * survivor came first, the victim's late request is that retry. So a trial normally costs two 200
 * grants (one when the victim died before its request got out: the survivor's request then meets
 * the delay) and exactly one rotation. A further request can only be another retry of that same
 * refresh token (a survivor stalled past its lease under load, a transient failure retried) and
 * answers the same pair. What each trial asserts is therefore the invariant — exactly one rotation
 * (the stored pair was issued for the installed refresh token: its previous token), every request
 * answered 200 (always the live token), nobody but the victim calling Shopify before the kill —
 * and it reports the grants per trial; the last step refreshes every shop once more, proving each
 * stored refresh token is the live one.
 */

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openConfiguredStorage } from '../../src/config/database.ts';
import type { Emulator } from '../../src/emulator/index.ts';
import type { Vault } from '../../src/open-vault.ts';
import type { TokenStorage } from '../../src/storage/types.ts';
import { offlineKey } from '../../src/testing/fixtures.ts';
import { ADMIN_QUERY_OK, adminStatus } from '../helpers/emulator-install.ts';
import {
  freshKeys,
  installShops,
  listeningEmulator,
  refreshGrants,
  shopNames,
  startWorkers,
  stopWorkers,
  testVault,
  Worker,
  workerConfig,
} from '../helpers/multiprocess-harness.ts';
import { BACKENDS, type Backend, Stores, storeTest, unavailable } from '../helpers/multiprocess-stores.ts';
import type { TokensResult, WorkerConfig } from '../helpers/multiprocess-worker.ts';

/** 50 kills over the four stores. */
const TRIALS: Record<Backend, number> = { sqlite: 14, postgres: 12, mysql: 12, redis: 12 };
/** Trials run at once (each with its own victim process): a store's trials in one go. */
const AT_ONCE = 14;
const LEASE_TTL_MS = 1000;
const SURVIVORS = 2;
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

/**
 * Resolves once every held request (`faultIds`) was answered and no refresh request for `shops`
 * arrived for half a second (at most 10 s).
 */
async function settled(shops: ReadonlySet<string>, faultIds: readonly string[]): Promise<void> {
  const count = () => emulator.requests().filter((r) => r.grantType === 'refresh_token' && shops.has(r.shop!)).length;
  const deadline = Date.now() + 10_000;
  let last = -1;
  while (Date.now() < deadline) {
    const answered = new Set(emulator.requests().map((r) => r.fault));
    const now = count();
    if (faultIds.every((id) => answered.has(id)) && now === last) return;
    last = now;
    await sleep(500);
  }
}

const random = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

/** What one trial saw. */
interface Trial {
  shop: string;
  faultId: string;
  delayMs: number;
  killedAt: number;
  survivors: TokensResult[];
}

for (const backend of BACKENDS) {
  describe(`${backend}: a lease holder killed mid-refresh`, () => {
    const reason = reasons[backend];
    const keys = freshKeys();
    let database: string;
    let vault: Vault;
    let storage: TokenStorage;
    let survivors: Worker[] = [];
    let config: WorkerConfig;

    before(async () => {
      if (reason !== null) return;
      database = await stores.fresh(backend, 'kill');
      vault = await testVault(database, keys, origin, emulator);
      ({ storage } = await openConfiguredStorage({ database, cwd: process.cwd() }));
      config = workerConfig(database, keys, origin, { coordination: { leaseTtlMs: LEASE_TTL_MS } });
      survivors = await startWorkers(SURVIVORS, config);
    });
    after(async () => {
      await stopWorkers(survivors);
      await vault?.close();
      await storage?.close();
    });

    /** Kills a process holding `shop`'s refresh lease while its request is held at the emulator. */
    async function trial(shop: string): Promise<Trial> {
      // Long enough that the victim is always killed before the emulator answers it.
      const delayMs = random(800, 1600);
      const faultId = emulator.faults.add({ endpoint: 'token', grantType: 'refresh_token', shop, delayMs });
      const victim = new Worker({ ...config, announce: true });
      try {
        await victim.ready;
        const sent = victim.next((line) => line.event === 'token-request' && line.shop === shop);
        const victimCall = { answered: false };
        victim.send({ op: 'tokens', shops: [shop], callers: 3 }).then(
          () => {
            victimCall.answered = true;
          },
          () => undefined,
        );
        await sent;
        // The victim holds the lease (it announces from inside the refresh): the survivors queue up.
        const asked = survivors.map((worker) =>
          worker.send<TokensResult>({ op: 'tokens', shops: [shop], callers: 5, check: true }),
        );
        await sleep(random(0, 250));
        const killedAt = emulator.clock.now();
        await victim.kill();
        assert.equal(victimCall.answered, false, `${shop}: the victim died before its refresh was answered`);
        return { shop, faultId, delayMs, killedAt, survivors: await Promise.all(asked) };
      } finally {
        await victim.kill();
      }
    }

    storeTest(
      backend,
      reason,
      `SIGKILL of the lease holder, ${TRIALS[backend]} trials → no token lost, no shop marked`,
      async () => {
        const shops = shopNames(`${backend}-kill`, TRIALS[backend]);
        const inScope = new Set(shops);
        await installShops(emulator, vault, shops);
        const installed = new Map<string, string>();
        for (const shop of shops) installed.set(shop, (await storage.get(offlineKey('', shop)))!.refreshToken!);
        emulator.clock.advance(EXPIRE_ALL_MS);
        const since = emulator.grants().length;
        const started = performance.now();
        const trials: Trial[] = [];
        for (let i = 0; i < shops.length; i += AT_ONCE) {
          trials.push(...(await Promise.all(shops.slice(i, i + AT_ONCE).map(trial))));
        }
        // A held request is applied when its delay ends, whoever is left to read the answer: wait
        // until every held request was answered and the shop's requests stopped coming.
        await settled(
          inScope,
          trials.map((t) => t.faultId),
        );
        const ms = Math.round(performance.now() - started);

        const requests = emulator.requests().filter((r) => r.grantType === 'refresh_token' && inScope.has(r.shop!));
        const grants = refreshGrants(emulator, since, inScope);
        const takeovers: number[] = [];
        const perTrial: Record<string, number> = {};
        let victimApplied = 0;
        for (const t of trials) {
          for (const [index, result] of t.survivors.entries()) {
            assert.deepEqual(result.errors, {}, `${t.shop}, survivor ${index}: no call failed (${result.samples})`);
            assert.equal(result.needsReauth, 0, `${t.shop}: not marked`);
            assert.deepEqual(result.adminStatuses, { [ADMIN_QUERY_OK]: 1 }, `${t.shop}: the token works`);
          }
          const digests = new Set(t.survivors.flatMap((r) => r.digests[t.shop] ?? []));
          assert.equal(digests.size, 1, `${t.shop}: both survivors got the same token`);
          // The victim's request, if it got out before the kill, arrived before it; the survivors' after.
          const mine = requests.filter((r) => r.shop === t.shop);
          const seen = mine.map((r) => `${r.at - t.killedAt} ms: ${r.status}${r.fault ? ' (held)' : ''}`).join(', ');
          const beforeKill = mine.filter((r) => r.at < t.killedAt);
          const afterKill = mine.filter((r) => r.at >= t.killedAt).sort((a, b) => a.at - b.at);
          assert.ok(
            beforeKill.length <= 1,
            `${t.shop}: nobody but the victim called Shopify before the kill (${seen})`,
          );
          assert.ok(afterKill.length >= 1, `${t.shop}: a survivor took over (${seen})`);
          assert.ok(
            mine.every((r) => r.status === 200),
            `${t.shop}: every request sent the live refresh token (${seen})`,
          );
          // Exactly one rotation: the stored pair was issued for the installed refresh token.
          const row = await storage.get(offlineKey('', t.shop));
          assert.equal(row?.previousRefreshToken, installed.get(t.shop), `${t.shop}: one rotation (${seen})`);
          // The survivor's request is the last: it waits out the lease, while a victim's request
          // read late (its bytes left before the kill) arrives right after the kill.
          takeovers.push(afterKill.at(-1)!.at - t.killedAt);
          victimApplied += beforeKill.length;
          const shopGrants = grants.filter((g) => g.shop === t.shop).length;
          perTrial[shopGrants] = (perTrial[shopGrants] ?? 0) + 1;
        }

        // Nothing lost: every stored refresh token is live (one more rotation each), nothing marked.
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
        const offline = await Promise.all(shops.map((shop) => vault.offline(shop)));
        takeovers.sort((a, b) => a - b);
        console.log(
          `# ${backend} sigkill: ${JSON.stringify({
            trials: trials.length,
            grants: grants.length,
            trialsByGrants: perTrial,
            victimRequestsBeforeKill: victimApplied,
            takeoverMs: { min: takeovers[0], median: takeovers[takeovers.length >> 1], max: takeovers.at(-1) },
            marked: marked + offline.filter((o) => o?.status !== 'active').length,
            refreshedAgain: next.length,
            ms,
          })}`,
        );
        assert.equal(marked, 0, 'nothing marked on the next refresh');
        assert.equal(next.length, shops.length, 'every stored refresh token is live: one more rotation each');
        assert.ok(
          statuses.every((status) => status === ADMIN_QUERY_OK),
          'every next token works',
        );
        assert.ok(
          offline.every((o) => o?.status === 'active'),
          'no shop marked needs_reauth',
        );
      },
      { timeout: 180_000 },
    );
  });
}
