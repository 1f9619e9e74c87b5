/**
 * Refresh throughput: due expiring offline tokens refreshed by `vault.token(shop)` against the
 * emulator over a real loopback socket (global fetch), SQLite storage, bounded concurrency. The
 * shops are installed with `expiring=1` through the emulator (in process, not timed), then the
 * shared clock moves past the 1 h access-token lifetime so every token is due. The shops are split
 * into chunks and the concurrency levels alternate chunk by chunk, so both see the same machine
 * state. Afterwards every shop must hold a new access token, and the emulator must have served
 * exactly one successful refresh grant per shop (no double refresh, no failure).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmulator, type Emulator } from '../src/emulator/index.ts';
import { openVault, type Vault } from '../src/open-vault.ts';
import { exchangeAuthorizationCode } from '../src/protocol/tokens.ts';
import { openSqliteStorage } from '../src/storage/sqlite.ts';

const SHOPS = Number(process.env.BENCH_REFRESH_SHOPS ?? 10_000);
const CONCURRENCY = [1, 8, 32];
const CHUNKS = 12;
const HOUR = 3_600_000;
const ORIGIN = 'http://emulator.bench';
const APP = {
  clientId: 'bench-refresh',
  clientSecret: randomBytes(16).toString('hex'),
  redirectUrls: ['https://app.example/auth/callback'],
};

const inProcessFetch = (emulator: Emulator): typeof fetch =>
  ((input: string | URL | Request, init?: RequestInit) => emulator.fetch(new Request(input, init))) as typeof fetch;

/** Installs the app on `shop` (offline, expiring) through the emulator in process; stores the pair. */
async function install(emulator: Emulator, vault: Vault, shop: string): Promise<string> {
  const form = new URLSearchParams({
    client_id: APP.clientId,
    scope: 'write_products',
    redirect_uri: APP.redirectUrls[0]!,
    state: randomBytes(8).toString('hex'),
    'grant_options[]': '',
    user_id: emulator.shop(shop)!.users[0]!.id,
    action: 'install',
  });
  const consent = await emulator.fetch(
    new Request(`${ORIGIN}/${shop}/admin/oauth/authorize`, { method: 'POST', body: form }),
  );
  const code = new URL(consent.headers.get('location') ?? 'x:').searchParams.get('code');
  if (consent.status !== 302 || !code) throw new Error(`install of ${shop} answered ${consent.status}`);
  const endpoint = { baseUrl: `${ORIGIN}/{shop}`, shop, ...APP, fetch: inProcessFetch(emulator) };
  const token = await exchangeAuthorizationCode(endpoint, { code, expiring: true });
  if (token.kind !== 'offline' || !token.refreshToken || !token.expiresIn || !token.refreshTokenExpiresIn) {
    throw new Error(`install of ${shop} did not return an expiring offline token`);
  }
  const now = emulator.clock.now();
  await vault.saveOffline({
    shop,
    accessToken: token.accessToken,
    scopes: token.scopes,
    expiresAt: new Date(now + token.expiresIn * 1000),
    refreshToken: token.refreshToken,
    refreshTokenExpiresAt: new Date(now + token.refreshTokenExpiresIn * 1000),
  });
  return token.accessToken;
}

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { median: at(0.5), p95: at(0.95) };
}

/** Refreshes `shops` with at most `concurrency` refreshes in flight; returns per-refresh ms and wall ms. */
async function refreshAll(vault: Vault, shops: string[], concurrency: number) {
  const times: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < shops.length) {
      const shop = shops[next++]!;
      const started = performance.now();
      await vault.token(shop);
      times.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { times, wallMs: performance.now() - started };
}

export async function refreshBench(): Promise<{ lines: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'shoptoken-bench-refresh-'));
  const emulator = createEmulator({ apps: [APP] });
  const emu = await emulator.listen({ port: 0 });
  const vault = openVault({
    storage: await openSqliteStorage(join(dir, 'refresh.db')),
    keys: [{ id: 'k1', key: randomBytes(32) }],
    now: emulator.clock.now,
    // The global fetch over a real loopback socket.
    shopify: { clientId: APP.clientId, clientSecret: APP.clientSecret, baseUrl: emulator.baseUrl(emu.origin) },
  });

  const shops = Array.from({ length: SHOPS }, (_, i) => `bench-refresh-${i}.myshopify.com`);
  const original = new Map<string, string>();
  const seedStart = performance.now();
  for (const shop of shops) original.set(shop, await install(emulator, vault, shop));
  const seedMs = performance.now() - seedStart;
  emulator.clock.advance(HOUR + 1); // every access token is now expired: all 10k are due
  const grantsBefore = emulator.grants().length;

  const samples = new Map(CONCURRENCY.map((c) => [c, { times: [] as number[], wallMs: 0, count: 0 }]));
  const chunkSize = Math.ceil(SHOPS / CHUNKS);
  for (let i = 0; i < CHUNKS; i++) {
    const concurrency = CONCURRENCY[i % CONCURRENCY.length]!;
    const chunk = shops.slice(i * chunkSize, (i + 1) * chunkSize);
    const { times, wallMs } = await refreshAll(vault, chunk, concurrency);
    const sample = samples.get(concurrency)!;
    sample.times.push(...times);
    sample.wallMs += wallMs;
    sample.count += chunk.length;
  }

  // Verification: a new, fresh access token for every shop; exactly one successful refresh grant each.
  const now = emulator.clock.now();
  let renewed = 0;
  for (const shop of shops) {
    const token = await vault.offline(shop);
    if (token && token.accessToken !== original.get(shop) && token.expiresAt!.getTime() > now + HOUR / 2) renewed++;
  }
  const grants = emulator.grants().slice(grantsBefore);
  const refreshGrants = grants.filter((g) => g.grantType === 'refresh_token');
  const ok = refreshGrants.filter((g) => g.status === 200);
  const perShop = new Set(ok.map((g) => g.shop));
  await emu.close();
  await vault.close();
  await rm(dir, { recursive: true, force: true });
  const checks = [
    [`${renewed} of ${SHOPS} shops hold a new access token`, renewed === SHOPS],
    [`${refreshGrants.length} refresh grants served (expected ${SHOPS})`, refreshGrants.length === SHOPS],
    [`${ok.length} answered 200, for ${perShop.size} distinct shops`, ok.length === SHOPS && perShop.size === SHOPS],
    [`${grants.length - refreshGrants.length} other grants during the run`, grants.length === refreshGrants.length],
  ] as const;
  const failed = checks.filter(([, pass]) => !pass);
  if (failed.length > 0) throw new Error(`refresh bench verification failed: ${failed.map(([m]) => m).join('; ')}`);

  return {
    lines: [
      `### Refresh of ${SHOPS.toLocaleString('en-US')} due expiring offline tokens against the emulator (loopback HTTP)`,
      '',
      `\`vault.token(shop)\` on shops whose access token expired (SQLite, AES-256-GCM; emulator in the same process).` +
        ` ${CHUNKS} chunks of ${chunkSize}, concurrency levels alternating chunk by chunk. Seeding` +
        ` (${SHOPS.toLocaleString('en-US')} expiring installs, in process) took ${(seedMs / 1000).toFixed(1)} s, not timed.`,
      '',
      '| concurrency | tokens | tokens/s | median ms per refresh | p95 ms |',
      '|---|---|---|---|---|',
      ...[...samples].map(([c, s]) => {
        const { median, p95 } = stats(s.times);
        return `| ${c} | ${s.count} | ${((s.count * 1000) / s.wallMs).toFixed(0)} | ${median.toFixed(2)} | ${p95.toFixed(2)} |`;
      }),
      '',
      `Verified: ${checks.map(([m]) => m).join('; ')}.`,
    ],
  };
}
