/**
 * The test side of the multi-process harness: the emulator listening in the test process over real
 * HTTP, shops installed into a store with expiring tokens, worker processes (multiprocess-worker.ts,
 * run with this Node) that take commands and answer in JSON lines, and the emulator's grant counts.
 */

import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openConfiguredStorage } from '../../src/config/database.ts';
import { createEmulator, type Emulator, type GrantRecord } from '../../src/emulator/index.ts';
import { openVault, type Vault } from '../../src/open-vault.ts';
import { APP, installInto } from './emulator-install.ts';
import type { WorkerConfig, WorkerLine, WorkerRequest } from './multiprocess-worker.ts';

export { APP };

const WORKER = fileURLToPath(new URL('./multiprocess-worker.ts', import.meta.url));
/** Node's compile cache for the workers: a worker then starts in about half the time (content-keyed, so never stale). */
const COMPILE_CACHE = join(tmpdir(), 'shoptoken-mp-compile-cache');

/** The emulator, listening on a loopback port, with the app {@link APP}. */
export async function listeningEmulator(): Promise<{ emulator: Emulator; origin: string; close(): Promise<void> }> {
  const emulator = createEmulator({ apps: [APP] });
  const { origin, close } = await emulator.listen();
  return { emulator, origin, close };
}

/** Fresh encryption keys, as the workers take them (base64). */
export function freshKeys(): { id: string; key: string }[] {
  return [{ id: 'k1', key: randomBytes(32).toString('base64') }];
}

/** A vault in the test process over `database` (the workers' store), reaching the emulator over HTTP. */
export async function testVault(
  database: string,
  keys: { id: string; key: string }[],
  origin: string,
  emulator: Emulator,
  extra: { leaseTtlMs?: number } = {},
): Promise<Vault> {
  const { storage } = await openConfiguredStorage({ database, cwd: process.cwd() });
  return openVault({
    storage,
    keys: keys.map(({ id, key }) => ({ id, key: Buffer.from(key, 'base64') })),
    now: emulator.clock.now,
    shopifyBaseUrl: `${origin}/{shop}`,
    shopify: { clientId: APP.clientId, clientSecret: APP.clientSecret },
    ...(extra.leaseTtlMs ? { coordination: { leaseTtlMs: extra.leaseTtlMs } } : {}),
  });
}

/** Installs the app on every shop (expiring offline tokens) and stores the tokens through `vault`. */
export async function installShops(emulator: Emulator, vault: Vault, shops: readonly string[]): Promise<void> {
  for (let i = 0; i < shops.length; i += 20) {
    await Promise.all(shops.slice(i, i + 20).map((shop) => installInto(emulator, vault, shop, { expiring: true })));
  }
}

/** `count` shop domains named after `label`. */
export function shopNames(label: string, count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, i) => `mp-${label}-${from + i}.myshopify.com`);
}

/** The refresh grants the emulator answered 200 (dropped answers included), since `since` grants. */
export function refreshGrants(emulator: Emulator, since = 0, shops?: ReadonlySet<string>): GrantRecord[] {
  return emulator
    .grants()
    .slice(since)
    .filter((g) => g.grantType === 'refresh_token' && g.status === 200 && (!shops || shops.has(g.shop)));
}

/** Refresh requests whose answer the emulator dropped after the grant took effect (a fault). */
export function droppedRefreshes(emulator: Emulator, shops?: ReadonlySet<string>): number {
  return emulator
    .requests()
    .filter(
      (r) =>
        r.grantType === 'refresh_token' && r.status === 0 && r.fault !== null && (!shops || shops.has(r.shop ?? '')),
    ).length;
}

/** A worker process: commands in, answers and events out. */
export class Worker {
  readonly child: ChildProcessWithoutNullStreams;
  readonly ready: Promise<void>;
  /** The worker's stderr so far (for failure messages). */
  stderr = '';
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  readonly #listeners = new Set<(line: WorkerLine) => void>();
  #nextId = 1;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(config: WorkerConfig) {
    this.child = spawn(process.execPath, [WORKER, JSON.stringify(config)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? COMPILE_CACHE },
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.ready = new Promise((resolve, reject) => {
      const onReady = (line: WorkerLine) => {
        if (line.event !== 'ready') return;
        this.#listeners.delete(onReady);
        resolve();
      };
      this.#listeners.add(onReady);
      void this.exited.then(({ code, signal }) =>
        reject(new Error(`worker exited before it was ready (${code ?? signal}): ${this.stderr}`)),
      );
    });
    // Not awaited by everyone: a worker killed on purpose never gets ready.
    this.ready.catch(() => undefined);
    const lines = createInterface({ input: this.child.stdout });
    lines.on('line', (text) => {
      let line: WorkerLine;
      try {
        line = JSON.parse(text) as WorkerLine;
      } catch {
        return;
      }
      if (line.event === 'done' || line.event === 'failed') {
        const pending = this.#pending.get(line.id);
        this.#pending.delete(line.id);
        if (line.event === 'done') pending?.resolve(line.result);
        else pending?.reject(new Error(`worker command failed: ${line.error}`));
      }
      for (const listener of [...this.#listeners]) listener(line);
    });
    void this.exited.then(({ code, signal }) => {
      for (const [id, pending] of this.#pending) {
        this.#pending.delete(id);
        pending.reject(new Error(`worker exited (${code ?? signal}) during command ${id}: ${this.stderr}`));
      }
    });
  }

  /** Sends a command; resolves with its answer. */
  send<T>(command: WorkerRequest): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.stdin.write(`${JSON.stringify({ ...command, id })}\n`);
    });
  }

  /** Resolves with the first line `match` accepts. */
  next(match: (line: WorkerLine) => boolean): Promise<WorkerLine> {
    return new Promise((resolve) => {
      const listener = (line: WorkerLine) => {
        if (!match(line)) return;
        this.#listeners.delete(listener);
        resolve(line);
      };
      this.#listeners.add(listener);
    });
  }

  /** SIGKILL, now; resolves once the process is gone. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Asks the worker to finish (closing its store) and waits for it. */
  async exit(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin.write(`${JSON.stringify({ op: 'exit', id: 0 })}\n`);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Starts `count` workers with `config` and waits until every one is ready. */
export async function startWorkers(count: number, config: WorkerConfig): Promise<Worker[]> {
  const workers = Array.from({ length: count }, () => new Worker(config));
  try {
    await Promise.all(workers.map((worker) => worker.ready));
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.kill()));
    throw error;
  }
  return workers;
}

/** Ends every worker (politely, then by force). */
export async function stopWorkers(workers: readonly Worker[]): Promise<void> {
  await Promise.all(workers.map((worker) => worker.exit()));
}

/** The worker configuration for `database`, with the emulator at `origin`. */
export function workerConfig(
  database: string,
  keys: { id: string; key: string }[],
  origin: string,
  extra: Partial<WorkerConfig> = {},
): WorkerConfig {
  return { database, keys, clientId: APP.clientId, clientSecret: APP.clientSecret, emulator: origin, ...extra };
}

/** Merges per-worker counts (`{ key: n }`). */
export function sumCounts(counts: readonly Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const count of counts) for (const [key, n] of Object.entries(count)) total[key] = (total[key] ?? 0) + n;
  return total;
}

/** Asserts that every worker saw the same single token per shop; returns the digests by shop. */
export function assertSameTokenPerShop(
  shops: readonly string[],
  results: readonly { digests: Record<string, string[]> }[],
): Map<string, string> {
  const byShop = new Map<string, string>();
  for (const shop of shops) {
    const seen = new Set(results.flatMap((result) => result.digests[shop] ?? []));
    assert.equal(seen.size, 1, `${shop}: every process got the same token (saw ${seen.size} distinct)`);
    byShop.set(shop, [...seen][0]!);
  }
  return byShop;
}
