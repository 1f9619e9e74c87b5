/**
 * Refreshes under contention, per store: 4 processes share one store and each asks for the same
 * 200 expired expiring offline tokens (`BENCH_CONTENTION_SHOPS`), in the same order, 16 shops at a time and 3 concurrent
 * callers per shop (12 callers per shop across the processes, all at about the same moment). The
 * emulator runs in this process and serves the refresh grants over loopback HTTP. Seeding (installs
 * through the emulator in process, then the pairs stored with an access token already expired) is
 * not timed. The size keeps the run short: the peer's phase costs about ten grants per due token,
 * all served by the one emulator.
 *
 * shoptoken: `vault.token(shop)` — single flight in each process, the store's lease across them.
 * Checked: the emulator served exactly one refresh grant per due token, all answered 200; every
 * caller of a shop, in every process, got the same token, and it is the one stored; no call failed.
 * The peer: what apps on `@shopify/shopify-api` write around a session storage adapter (`loadSession`
 * → `isExpired` → `auth.refreshToken` → `storeSession`), with no lock — its grants and failures are
 * reported, not checked.
 */
import '@shopify/shopify-api/adapters/node';
import { type ChildProcess, fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Session } from '@shopify/shopify-api';
import { createEmulator, type Emulator } from '../src/emulator/index.ts';
import { openVault } from '../src/open-vault.ts';
import type { FromWorker, ToWorker, WorkerJob, WorkerResult } from './contention-worker.ts';
import { type BenchApp, benchApp, type IssuedPair, installExpiring } from './emulator-seed.ts';
import { forEachLimited, formatMs, percentile } from './measure.ts';
import {
  closePeer,
  openOurs,
  openPeer,
  peerPackage,
  prepareStore,
  STORE_NAMES,
  type StoreName,
  type StoreTarget,
} from './services.ts';

const DUE = Number(process.env.BENCH_CONTENTION_SHOPS ?? 200);
const PROCESSES = 4;
const CALLERS = 3;
const WINDOW = 16;
const EXPIRED_AGO_MS = 60_000;

/** What one phase (one contender on one store) measured. */
interface Phase {
  role: WorkerJob['role'];
  wallMs: number;
  calls: number;
  p50Ms: number;
  p99Ms: number;
  grants: number;
  grantsOk: number;
  grantShops: number;
  errors: Record<string, number>;
  /** Shops whose callers (across every process) got more than one distinct token. */
  splitShops: number;
  /** shoptoken only: shops whose callers' token is not the one stored afterwards. */
  staleShops: number;
}

/** Installs `app` on `count` new shops named `prefix-N`; returns the issued pairs by shop. */
async function install(emulator: Emulator, app: BenchApp, prefix: string): Promise<Map<string, IssuedPair>> {
  const shops = Array.from({ length: DUE }, (_, i) => `${prefix}-${i}.myshopify.com`);
  const pairs = new Map<string, IssuedPair>();
  await forEachLimited(shops, 8, async (shop) => pairs.set(shop, await installExpiring(emulator, app, shop)));
  return pairs;
}

/** Forks the workers, hands out `job`, starts them together; resolves with each result and the wall time. */
async function runWorkers(job: WorkerJob): Promise<{ results: WorkerResult[]; wallMs: number }> {
  const children: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  const done: Promise<WorkerResult>[] = [];
  for (let i = 0; i < PROCESSES; i++) {
    const child = fork(new URL('./contention-worker.ts', import.meta.url), {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    let onReady!: () => void;
    ready.push(new Promise<void>((resolve) => (onReady = resolve)));
    done.push(
      new Promise<WorkerResult>((resolve, reject) => {
        child.on('message', (message: FromWorker) => {
          if (message.type === 'ready') onReady();
          else if (message.type === 'done') resolve(message.result);
          else reject(new Error(`a ${job.role} worker failed (${message.message})`));
        });
        child.once('exit', (code) => reject(new Error(`a ${job.role} worker exited with ${code} before reporting`)));
      }),
    );
    child.send({ type: 'job', job } satisfies ToWorker);
  }
  try {
    await Promise.race([Promise.all(ready), Promise.all(done)]);
    const started = performance.now();
    for (const child of children) child.send({ type: 'go' } satisfies ToWorker);
    const results = await Promise.all(done);
    return { results, wallMs: performance.now() - started };
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}

function summarize(
  role: WorkerJob['role'],
  emulator: Emulator,
  app: BenchApp,
  grantsBefore: number,
  run: { results: WorkerResult[]; wallMs: number },
  stored: Map<string, string> | null,
): Phase {
  const latencies = new Float64Array(run.results.flatMap((r) => r.latencies)).sort();
  const errors: Record<string, number> = {};
  const byShop = new Map<string, Set<string>>();
  for (const result of run.results) {
    for (const [code, count] of Object.entries(result.errors)) errors[code] = (errors[code] ?? 0) + count;
    for (const [shop, hashes] of Object.entries(result.tokens)) {
      const set = byShop.get(shop) ?? new Set<string>();
      for (const hash of hashes) set.add(hash);
      byShop.set(shop, set);
    }
  }
  const grants = emulator
    .grants()
    .slice(grantsBefore)
    .filter((g) => g.clientId === app.clientId && g.grantType === 'refresh_token');
  const ok = grants.filter((g) => g.status === 200);
  let splitShops = 0;
  let staleShops = 0;
  for (const [shop, hashes] of byShop) {
    if (hashes.size > 1) splitShops++;
    if (stored && !hashes.has(stored.get(shop) ?? '')) staleShops++;
  }
  return {
    role,
    wallMs: run.wallMs,
    calls: latencies.length,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    grants: grants.length,
    grantsOk: ok.length,
    grantShops: new Set(ok.map((g) => g.shop)).size,
    errors,
    splitShops,
    staleShops,
  };
}

const digest = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 16);

async function runStore(target: StoreTarget): Promise<{ ours: Phase; peer: Phase; seedMs: number }> {
  const ourApp = benchApp(`bench-contention-${target.store}`);
  const peerApp = benchApp(`bench-contention-peer-${target.store}`);
  const emulator = createEmulator({ apps: [ourApp, peerApp] });
  const server = await emulator.listen({ port: 0 });
  const keys = [{ id: 'k1', key: randomBytes(32) }];
  try {
    // Seeding, not timed: installs through the emulator, then each pair stored already expired.
    const seedStart = performance.now();
    const ourPairs = await install(emulator, ourApp, `ct-${target.store}`);
    const peerPairs = await install(emulator, peerApp, `cp-${target.store}`);
    const vault = openVault({ storage: await openOurs(target), keys });
    const peer = await openPeer(target);
    const now = Date.now();
    await forEachLimited([...ourPairs], 16, ([shop, pair]) =>
      vault.saveOffline({
        shop,
        accessToken: pair.accessToken,
        scopes: pair.scopes,
        expiresAt: new Date(now - EXPIRED_AGO_MS),
        refreshToken: pair.refreshToken,
        refreshTokenExpiresAt: new Date(pair.issuedAt + pair.refreshTokenExpiresInMs),
      }),
    );
    await forEachLimited([...peerPairs], 16, ([shop, pair]) =>
      peer.storeSession(
        new Session({
          id: `offline_${shop}`,
          shop,
          state: '',
          isOnline: false,
          scope: pair.scopes.join(','),
          accessToken: pair.accessToken,
          expires: new Date(now - EXPIRED_AGO_MS),
          refreshToken: pair.refreshToken,
          refreshTokenExpires: new Date(pair.issuedAt + pair.refreshTokenExpiresInMs),
        }),
      ),
    );
    await vault.close();
    await closePeer(peer);
    const seedMs = performance.now() - seedStart;

    const job = (role: WorkerJob['role'], app: BenchApp, shops: string[]): WorkerJob => ({
      role,
      target,
      keys: keys.map(({ id, key }) => ({ id, key: key.toString('base64') })),
      app: { clientId: app.clientId, clientSecret: app.clientSecret },
      origin: server.origin,
      shops,
      callers: CALLERS,
      window: WINDOW,
    });

    let before = emulator.grants().length;
    const oursRun = await runWorkers(job('shoptoken', ourApp, [...ourPairs.keys()]));
    // What is stored now: the token every caller must have been given.
    const check = openVault({ storage: await openOurs(target), keys, cache: { maxEntries: 0 } });
    const stored = new Map<string, string>();
    await forEachLimited([...ourPairs.keys()], 16, async (shop) =>
      stored.set(shop, digest((await check.token(shop)).accessToken)),
    );
    await check.close();
    const ours = summarize('shoptoken', emulator, ourApp, before, oursRun, stored);

    before = emulator.grants().length;
    const peerRun = await runWorkers(job('peer', peerApp, [...peerPairs.keys()]));
    return { ours, peer: summarize('peer', emulator, peerApp, before, peerRun, null), seedMs };
  } finally {
    await server.close();
  }
}

const errorText = (errors: Record<string, number>) =>
  Object.keys(errors).length === 0
    ? '0'
    : Object.entries(errors)
        .map(([code, count]) => `${count} ${code}`)
        .join(', ');

/** The checks shoptoken's phase must pass; an empty list when all do. */
function failures(p: Phase): string[] {
  const failed: string[] = [];
  if (p.grants !== DUE) failed.push(`${p.grants} refresh grants for ${DUE} due tokens`);
  if (p.grantsOk !== p.grants || p.grantShops !== DUE)
    failed.push(`${p.grantsOk} grants answered 200, for ${p.grantShops} shops`);
  if (Object.keys(p.errors).length > 0) failed.push(`failed calls: ${errorText(p.errors)}`);
  if (p.splitShops > 0) failed.push(`${p.splitShops} shops whose callers got different tokens`);
  if (p.staleShops > 0) failed.push(`${p.staleShops} shops whose callers' token is not the stored one`);
  return failed;
}

/**
 * Runs the contention benchmark on every reachable store and returns its Markdown section.
 *
 * @example
 * const { lines } = await contentionBench(['sqlite', 'postgres']);
 */
export async function contentionBench(stores: readonly StoreName[] = STORE_NAMES): Promise<{ lines: string[] }> {
  const lines = [
    `### Refreshes under contention: ${PROCESSES} processes × ${DUE.toLocaleString('en-US')} expired tokens per store (emulator over loopback HTTP)`,
    '',
    `Each process asks for every due shop in the same order, ${WINDOW} shops at a time, ${CALLERS} concurrent callers per` +
      ` shop (${PROCESSES * CALLERS} callers per shop in all). tokens/s = due tokens ÷ wall time from the common start to the` +
      ' last process done; p50/p99 per call over every call of every process. shoptoken: `vault.token` (single flight' +
      ' per process, the store’s lease across processes). Peer: `loadSession` → `isExpired` → `auth.refreshToken` →' +
      ' `storeSession` with the matching session-storage adapter, no lock (how apps on `@shopify/shopify-api` refresh).',
    '',
    '| store | implementation | calls | wall s | tokens/s | p50 ms | p99 ms | refresh grants (due) | failed calls | shops given >1 token |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const notes: string[] = [];
  const verdicts: string[] = [];
  for (const store of stores) {
    const prepared = await prepareStore(store);
    if (typeof prepared === 'string') {
      notes.push(prepared);
      continue;
    }
    const { target } = prepared;
    try {
      const { ours, peer, seedMs } = await runStore(target);
      for (const p of [ours, peer]) {
        const name =
          p.role === 'shoptoken' ? 'shoptoken `vault.token`' : `${peerPackage(store)} + \`auth.refreshToken\``;
        lines.push(
          `| ${target.label} | ${name} | ${p.calls} | ${(p.wallMs / 1000).toFixed(2)} | ${((DUE * 1000) / p.wallMs).toFixed(0)} |` +
            ` ${formatMs(p.p50Ms)} | ${formatMs(p.p99Ms)} | ${p.grants} (${DUE}) | ${errorText(p.errors)} | ${p.splitShops} |`,
        );
      }
      const failed = failures(ours);
      verdicts.push(
        `- ${target.label}: ${failed.length === 0 ? `**exactly one grant per rotation** (${ours.grants} grants, all 200, ${ours.grantShops} shops; every caller got the stored token)` : `**FAILED**: ${failed.join('; ')}`};` +
          ` tokens/s ${(peer.wallMs / ours.wallMs).toFixed(1)}× the peer's, which spent ${(peer.grants / DUE).toFixed(2)} grants per` +
          ` due token (${peer.grants - peer.grantsOk} refused).` +
          ` Seeding ${(seedMs / 1000).toFixed(1)} s (not timed).`,
      );
    } catch (error) {
      verdicts.push(`- ${target.label}: **did not complete**: ${(error as Error).message}`);
    } finally {
      await prepared.drop();
    }
  }
  return { lines: [...lines, '', ...verdicts, ...(notes.length > 0 ? ['', ...notes] : [])] };
}

if (import.meta.main) {
  const only = process.argv.slice(2).filter((s): s is StoreName => (STORE_NAMES as string[]).includes(s));
  console.log((await contentionBench(only.length > 0 ? only : STORE_NAMES)).lines.join('\n'));
}
