/**
 * One process of the contention benchmark (forked by contention.bench.ts): opens the store named in
 * its job, reports ready, and on `go` asks for every shop of the job in the job's order, `window`
 * shops at a time and `callers` concurrent calls per shop — through shoptoken's `vault.token`, or,
 * for the peer, the way apps on `@shopify/shopify-api` refresh an expiring offline session
 * (`loadSession` → `isExpired` → `auth.refreshToken` → `storeSession`, no lock). Reports each call's
 * time, errors by code, and a short SHA-256 of the token each shop got (never a token).
 */
import '@shopify/shopify-api/adapters/node';
import { createHash } from 'node:crypto';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import { setAbstractFetchFunc } from '@shopify/shopify-api/runtime';
import { openVault } from '../src/open-vault.ts';
import { closePeer, openOurs, openPeer, type StoreTarget } from './services.ts';

/** What the parent sends first. */
export interface WorkerJob {
  role: 'shoptoken' | 'peer';
  target: StoreTarget;
  /** The vault's keys, base64 (shoptoken only). */
  keys: { id: string; key: string }[];
  app: { clientId: string; clientSecret: string };
  /** The emulator's origin (`http://127.0.0.1:PORT`). */
  origin: string;
  shops: string[];
  callers: number;
  window: number;
}

/** What a worker answers when it is done. */
export interface WorkerResult {
  /** ms per call. */
  latencies: number[];
  errors: Record<string, number>;
  /** Shop → the distinct token hashes its callers got. */
  tokens: Record<string, string[]>;
}

export type ToWorker = { type: 'job'; job: WorkerJob } | { type: 'go' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'done'; result: WorkerResult }
  | { type: 'failed'; message: string };

const send = (message: FromWorker) => process.send?.(message);
const digest = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 16);

/** The call each caller makes: returns the shop's access token. */
async function caller(
  job: WorkerJob,
): Promise<{ call: (shop: string) => Promise<string>; close: () => Promise<void> }> {
  if (job.role === 'shoptoken') {
    const vault = openVault({
      storage: await openOurs(job.target),
      keys: job.keys.map(({ id, key }) => ({ id, key: Buffer.from(key, 'base64') })),
      // The global fetch, over loopback to the emulator in the parent process.
      shopify: { clientId: job.app.clientId, clientSecret: job.app.clientSecret, baseUrl: `${job.origin}/{shop}` },
    });
    return { call: async (shop) => (await vault.token(shop)).accessToken, close: () => vault.close() };
  }
  const peer = await openPeer(job.target);
  const shopify = shopifyApi({
    apiKey: job.app.clientId,
    apiSecretKey: job.app.clientSecret,
    scopes: ['write_products'],
    hostName: 'app.example',
    apiVersion: ApiVersion.October25,
    isEmbeddedApp: false,
    logger: { level: 0, log: async () => {} },
  });
  // The peer's calls to https://{shop} go to the emulator.
  const toEmulator = (url: string) => url.replace(/^https:\/\/([a-z0-9-]+\.myshopify\.com)/, `${job.origin}/$1`);
  setAbstractFetchFunc((input, init) => fetch(toEmulator(String(input)), init));
  return {
    async call(shop) {
      const session = await peer.loadSession(`offline_${shop}`);
      if (!session?.accessToken) throw Object.assign(new Error('no session'), { code: 'NO_SESSION' });
      if (!session.isExpired(5 * 60_000)) return session.accessToken;
      if (!session.refreshToken) throw Object.assign(new Error('no refresh token'), { code: 'NO_REFRESH_TOKEN' });
      const { session: fresh } = await shopify.auth.refreshToken({ shop, refreshToken: session.refreshToken });
      await peer.storeSession(fresh);
      return fresh.accessToken!;
    },
    close: () => closePeer(peer),
  };
}

function errorCode(error: unknown): string {
  const e = error as { code?: unknown; response?: { code?: unknown }; name?: string } | null;
  const code = e?.code ?? e?.response?.code;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : (e?.name ?? 'Error');
}

async function run(job: WorkerJob): Promise<void> {
  const { call, close } = await caller(job);
  const go = new Promise<void>((resolve) => process.once('message', () => resolve()));
  send({ type: 'ready' });
  await go;
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const tokens: Record<string, Set<string>> = {};
  let next = 0;
  const one = async (shop: string) => {
    const started = performance.now();
    try {
      const token = await call(shop);
      const seen = tokens[shop] ?? new Set<string>();
      seen.add(digest(token));
      tokens[shop] = seen;
    } catch (error) {
      const code = errorCode(error);
      errors[code] = (errors[code] ?? 0) + 1;
    }
    latencies.push(performance.now() - started);
  };
  const lane = async () => {
    while (next < job.shops.length) {
      const shop = job.shops[next++]!;
      await Promise.all(Array.from({ length: job.callers }, () => one(shop)));
    }
  };
  await Promise.all(Array.from({ length: job.window }, lane));
  await close();
  const result: WorkerResult = {
    latencies,
    errors,
    tokens: Object.fromEntries(Object.entries(tokens).map(([shop, set]) => [shop, [...set]])),
  };
  send({ type: 'done', result });
}

process.once('message', (message: ToWorker) => {
  if (message.type !== 'job') return;
  run(message.job).then(
    () => process.disconnect?.(),
    (error: unknown) => {
      // The code only: a driver's message could quote a value.
      send({ type: 'failed', message: errorCode(error) });
      process.disconnect?.();
    },
  );
});
