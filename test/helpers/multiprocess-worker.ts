/**
 * One app instance in a process of its own, for the multi-process tests (test/multiprocess/):
 * opens the store a URL names (a SQLite file, `postgres://…?schema=`, `mysql://…/db`,
 * `redis://…?prefix=`) through the same entry point an app uses, and a vault that reaches the
 * emulator over real HTTP on the emulator's clock. It then takes commands, one JSON object a line on
 * stdin, and answers one JSON object a line on stdout (see multiprocess-harness.ts for both sides):
 *
 * - `tokens`: `callers` concurrent callers each ask `vault.token()` for every shop (in its own
 *   shuffled order, `rounds` times or until `forMs` ran out) and the answer counts what they got —
 *   per shop the digests of the access tokens returned (never a token), errors by code, the slowest
 *   call, `needs_reauth` events — and, with `check`, the Admin API status of each distinct token;
 * - `keeper`: ticks of `vault.keeper()` until one finds nothing due, and the rows the store read;
 * - `completeInstall`: `vault.completeInstall(shop)` with an `afterAuth` that announces itself and
 *   takes `afterAuthMs`.
 *
 * With `announce`, every token request leaves a `token-request` line before it is sent, so a test
 * can kill this process while it holds the shop's refresh lease and its request is at the emulator.
 *
 * Run: `node test/helpers/multiprocess-worker.ts '<WorkerConfig JSON>'` (Node 24 strips the types).
 */

import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { DEFAULT_API_VERSION } from '../../src/admin/client.ts';
import { openConfiguredStorage } from '../../src/config/database.ts';
import { ShoptokenError } from '../../src/errors.ts';
import { openVault, type Vault } from '../../src/open-vault.ts';
import type { TokenKey, TokenStorage } from '../../src/storage/types.ts';
import type { KeeperOptions, KeeperReport } from '../../src/vault/keeper.ts';

/** How a worker opens its vault (the first argument, as JSON). */
export interface WorkerConfig {
  /** The store: a SQLite path or a postgres://, mysql://, redis:// URL. */
  database: string;
  /** Encryption keys, current first, the key material in base64. */
  keys: { id: string; key: string }[];
  app?: string;
  clientId: string;
  clientSecret: string;
  /** The emulator's origin (`http://127.0.0.1:PORT`): its base URL and clock. */
  emulator: string;
  coordination?: { leaseTtlMs?: number; waitMs?: number };
  refresh?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number; timeoutMs?: number };
  /** Writes a `token-request` line before each request to the token endpoint. */
  announce?: boolean;
}

/** What the `tokens` command asks. */
export interface TokensCommand {
  op: 'tokens';
  shops: string[];
  callers: number;
  /** Passes over the shops per caller (1 by default). */
  rounds?: number;
  /** Instead of `rounds`: callers keep going until this many ms have passed. */
  forMs?: number;
  /** `vault.token()`'s margin; above a token's lifetime, every call is a refresh. */
  marginMs?: number;
  /** Ask the Admin API with each distinct token returned. */
  check?: boolean;
  /** Waits this long after a failed call before the caller goes on (a retrying app). */
  pauseAfterErrorMs?: number;
}

export interface KeeperCommand {
  op: 'keeper';
  options: Pick<KeeperOptions, 'aheadMs' | 'batchSize' | 'concurrency' | 'intervalMs' | 'refreshTokenAheadMs'>;
  /** At most this many ticks. */
  maxTicks: number;
}

export interface CompleteInstallCommand {
  op: 'completeInstall';
  shop: string;
  afterAuthMs: number;
}

/** What a test asks a worker to do. */
export type WorkerRequest = TokensCommand | KeeperCommand | CompleteInstallCommand;

/** A request as sent, with its id (`exit` ends the worker). */
export type WorkerCommand = (WorkerRequest | { op: 'exit' }) & { id: number };

/** The answer to `tokens`. */
export interface TokensResult {
  calls: number;
  ok: number;
  /** Failed calls by `code` (`retryable` appended: `ERR_STORAGE/retryable`); other errors by name. */
  errors: Record<string, number>;
  /** A few error messages (never values), to explain a failure. */
  samples: string[];
  /** Per shop, the distinct digests of the access tokens returned, in the order first seen. */
  digests: Record<string, string[]>;
  /** The Admin API's answers to the distinct tokens, by status (with `check`). */
  adminStatuses: Record<string, number>;
  needsReauth: number;
  slowestMs: number;
  durationMs: number;
  /** Calls that ended in each 250 ms since the command started: `[answered, failed]`. */
  timeline: [number, number][];
  /** CPU time this process used for the command (user + system), ms. */
  cpuMs: number;
}

/** The answer to `keeper`. */
export interface KeeperResult {
  ticks: KeeperReport[];
  /** Rows the store returned, by method. */
  rowsRead: { due: number; get: number; list: number };
  /** Calls made to the store, by method. */
  calls: { due: number; get: number; list: number };
}

/** A line this process writes: an event, or the answer to command `id`. */
export type WorkerLine =
  | { event: 'ready'; pid: number }
  | { event: 'token-request'; shop: string; grantType: string }
  | { event: 'afterAuth'; shop: string }
  | { event: 'done'; id: number; result: unknown }
  | { event: 'failed'; id: number; error: string };

/** A short digest of a token: enough to compare, useless to anyone reading the output. */
export const digestOf = (token: string): string => createHash('sha256').update(token).digest('hex').slice(0, 16);

const write = (line: WorkerLine): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

/**
 * A storage that counts the rows it returns (the keeper's reads must stay O(due)); batched point
 * reads (`getMany`, PostgreSQL and MySQL) count as `get`, and stay batched.
 */
function counting(storage: TokenStorage) {
  const rowsRead = { due: 0, get: 0, list: 0 };
  const calls = { due: 0, get: 0, list: 0 };
  const counted: TokenStorage = {
    name: storage.name,
    leases: storage.leases,
    states: storage.states,
    async get(key) {
      calls.get++;
      const row = await storage.get(key);
      if (row) rowsRead.get++;
      return row;
    },
    ...(storage.getMany
      ? {
          async getMany(keys: readonly TokenKey[]) {
            calls.get++;
            const rows = await storage.getMany!(keys);
            rowsRead.get += rows.length;
            return rows;
          },
        }
      : {}),
    async due(index, query) {
      calls.due++;
      const rows = await storage.due(index, query);
      rowsRead.due += rows.length;
      return rows;
    },
    async list(query) {
      calls.list++;
      const rows = await storage.list(query);
      rowsRead.list += rows.length;
      return rows;
    },
    put: (row) => storage.put(row),
    swap: (key, expected, next) => storage.swap(key, expected, next),
    markInstalled: (app, shop, at) => storage.markInstalled(app, shop, at),
    deleteOnline: (app, shop, userId) => storage.deleteOnline(app, shop, userId),
    deleteShop: (app, shop) => storage.deleteShop(app, shop),
    close: () => storage.close(),
  };
  return { storage: counted, rowsRead, calls };
}

/** The emulator's current time (its clock is the test's to move); without moving it. */
async function emulatorNow(origin: string): Promise<number> {
  const response = await fetch(`${origin}/_emulator/clock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ advanceSeconds: 0 }),
  });
  return ((await response.json()) as { now: number }).now;
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

function errorKey(error: unknown): string {
  if (error instanceof ShoptokenError) return `${error.code}${error.retryable ? '/retryable' : ''}`;
  return error instanceof Error ? error.name : typeof error;
}

/** The `grant_type` of a token request's body (JSON or a form), for the announcement. */
function grantTypeOf(body: unknown): string {
  const text = String(body ?? '');
  try {
    return String((JSON.parse(text) as { grant_type?: unknown }).grant_type);
  } catch {
    return new URLSearchParams(text).get('grant_type') ?? 'unknown';
  }
}

async function adminStatus(origin: string, shop: string, accessToken: string): Promise<number> {
  const response = await fetch(`${origin}/${shop}/admin/api/${DEFAULT_API_VERSION}/graphql.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-shopify-access-token': accessToken },
    body: JSON.stringify({ query: '{ shop { name } }' }),
  });
  await response.arrayBuffer();
  return response.status;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as WorkerConfig;
  const opened = await openConfiguredStorage({ database: config.database, cwd: process.cwd() });
  const store = counting(opened.storage);
  let offset = (await emulatorNow(config.emulator)) - Date.now();
  const announcing: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const shop = url.pathname.split('/')[1] ?? '';
    if (config.announce && url.pathname.endsWith('/admin/oauth/access_token')) {
      write({ event: 'token-request', shop, grantType: grantTypeOf(init?.body) });
    }
    return fetch(input, init);
  };
  const vault: Vault = openVault({
    storage: store.storage,
    keys: config.keys.map(({ id, key }) => ({ id, key: Buffer.from(key, 'base64') })),
    ...(config.app === undefined ? {} : { app: config.app }),
    now: () => Date.now() + offset,
    shopifyBaseUrl: `${config.emulator}/{shop}`,
    shopify: { clientId: config.clientId, clientSecret: config.clientSecret, fetch: announcing },
    ...(config.coordination ? { coordination: config.coordination } : {}),
    ...(config.refresh ? { refresh: config.refresh } : {}),
  });
  let needsReauth = 0;
  vault.on('needs_reauth', () => {
    needsReauth++;
  });

  async function tokens(command: TokensCommand): Promise<TokensResult> {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const result: TokensResult = {
      calls: 0,
      ok: 0,
      errors: {},
      samples: [],
      digests: {},
      adminStatuses: {},
      needsReauth: 0,
      slowestMs: 0,
      durationMs: 0,
      cpuMs: 0,
      timeline: [],
    };
    const tally = (index: 0 | 1) => {
      const slot = Math.floor((performance.now() - started) / 250);
      for (let i = result.timeline.length; i <= slot; i++) result.timeline.push([0, 0]);
      result.timeline[slot]![index]++;
    };
    const distinct = new Map<string, { shop: string; token: string }>();
    const before = needsReauth;
    const until = command.forMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + command.forMs;
    const rounds = command.forMs === undefined ? (command.rounds ?? 1) : Number.POSITIVE_INFINITY;
    const caller = async (): Promise<void> => {
      for (let round = 0; round < rounds && Date.now() < until; round++) {
        for (const shop of shuffled(command.shops)) {
          if (Date.now() >= until) return;
          const callStarted = performance.now();
          result.calls++;
          try {
            const token = await vault.token(
              shop,
              command.marginMs === undefined ? undefined : { marginMs: command.marginMs },
            );
            result.ok++;
            tally(0);
            const digest = digestOf(token.accessToken);
            const seen = result.digests[shop] ?? [];
            result.digests[shop] = seen;
            if (!seen.includes(digest)) seen.push(digest);
            if (!distinct.has(digest)) distinct.set(digest, { shop, token: token.accessToken });
          } catch (error) {
            tally(1);
            const key = errorKey(error);
            result.errors[key] = (result.errors[key] ?? 0) + 1;
            if (result.samples.length < 5) result.samples.push(`${key}: ${(error as Error).message}`);
            if (command.pauseAfterErrorMs) await new Promise((r) => setTimeout(r, command.pauseAfterErrorMs));
          } finally {
            result.slowestMs = Math.max(result.slowestMs, performance.now() - callStarted);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: command.callers }, caller));
    if (command.check) {
      const statuses = await Promise.all(
        [...distinct.values()].map(({ shop, token }) => adminStatus(config.emulator, shop, token)),
      );
      for (const status of statuses) result.adminStatuses[status] = (result.adminStatuses[status] ?? 0) + 1;
    }
    result.needsReauth = needsReauth - before;
    result.slowestMs = Math.round(result.slowestMs);
    result.durationMs = Math.round(performance.now() - started);
    const used = process.cpuUsage(cpu);
    result.cpuMs = Math.round((used.user + used.system) / 1000);
    return result;
  }

  /** Ticks as `keeper.start()` would (`intervalMs` from the end of one to the next), until one finds nothing due. */
  async function keeper(command: KeeperCommand): Promise<KeeperResult> {
    const ticks: KeeperReport[] = [];
    const running = vault.keeper({ ...command.options, jitter: false });
    for (let tick = 0; tick < command.maxTicks; tick++) {
      if (tick > 0) await new Promise((resolve) => setTimeout(resolve, command.options.intervalMs ?? 60_000));
      const report = await running.runOnce();
      ticks.push(report);
      if (report.scanned === 0) break;
    }
    return { ticks, rowsRead: { ...store.rowsRead }, calls: { ...store.calls } };
  }

  async function completeInstall(command: CompleteInstallCommand): Promise<string> {
    return vault.completeInstall(command.shop, async () => {
      write({ event: 'afterAuth', shop: command.shop });
      await new Promise((resolve) => setTimeout(resolve, command.afterAuthMs));
    });
  }

  write({ event: 'ready', pid: process.pid });
  const lines = createInterface({ input: process.stdin });
  const running = new Set<Promise<void>>();
  for await (const line of lines) {
    const command = JSON.parse(line) as WorkerCommand;
    if (command.op === 'exit') break;
    // Every command starts on the emulator's time as it is now (the test may have moved it).
    offset = (await emulatorNow(config.emulator)) - Date.now();
    const run = (async () => {
      try {
        const result =
          command.op === 'tokens'
            ? await tokens(command)
            : command.op === 'keeper'
              ? await keeper(command)
              : await completeInstall(command);
        write({ event: 'done', id: command.id, result });
      } catch (error) {
        write({ event: 'failed', id: command.id, error: `${errorKey(error)}: ${(error as Error).message}` });
      }
    })();
    running.add(run);
    void run.finally(() => running.delete(run));
  }
  await Promise.all(running);
  await vault.close();
  // Idle keep-alive sockets (the emulator's, the store's) would hold the process a while longer.
  process.exit(0);
}

await main();
