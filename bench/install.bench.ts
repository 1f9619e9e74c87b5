/**
 * Complete dual-token installs (offline leg, then per-user leg) over loopback HTTP against the
 * emulator: shoptoken vs the same two-leg flow built on @shopify/shopify-api's auth.begin/callback
 * (what shopify-app-express does with `useOnlineTokens`). Each install is a new shop: the consent
 * page is fetched and submitted, then both codes are exchanged over HTTP.
 */
import '@shopify/shopify-api/adapters/node';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiVersion, type Session, shopifyApi } from '@shopify/shopify-api';
import { setAbstractFetchFunc } from '@shopify/shopify-api/runtime';
import { sendWebResponse, toWebRequest } from '../src/adapters/node-http.ts';
import { createShoptoken, type Shoptoken } from '../src/auth/index.ts';
import { createEmulator, type Emulator } from '../src/emulator/index.ts';
import { openVault, type Vault } from '../src/open-vault.ts';
import { createMemoryStorage } from '../src/storage/memory.ts';
import { openSqliteStorage } from '../src/storage/sqlite.ts';
import { Browser, type Fetcher, socketFetcher } from '../test/helpers/browser.ts';

const SCOPES = ['write_products', 'read_orders', 'read_customers'];
const INSTALLS = Number(process.env.BENCH_INSTALLS ?? 300);

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Listens first (the emulator needs each app's redirect URL), handles with whatever is set later. */
async function lazyServer(): Promise<{ server: Server; origin: string; set(handler: Handler): void }> {
  let handler: Handler = (_req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    set: (h) => {
      handler = h;
    },
  };
}

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { median: at(0.5), p95: at(0.95) };
}

interface Contender {
  name: string;
  appOrigin: string;
  /** The app's fetcher in the test browser (the peer's redirects to https://{shop} are mapped to the emulator). */
  app: Fetcher;
  stored(shop: string): Promise<boolean>;
}

export async function installBench(): Promise<{ lines: string[]; ratio: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'shoptoken-bench-'));
  const [sqliteServer, memoryServer, peerServer] = [await lazyServer(), await lazyServer(), await lazyServer()];
  const apps = {
    sqlite: { clientId: 'bench-sqlite', clientSecret: randomBytes(16).toString('hex'), server: sqliteServer },
    memory: { clientId: 'bench-memory', clientSecret: randomBytes(16).toString('hex'), server: memoryServer },
    peer: { clientId: 'bench-peer', clientSecret: randomBytes(16).toString('hex'), server: peerServer },
  };
  const emulator: Emulator = createEmulator({
    apps: Object.values(apps).map((a) => ({
      clientId: a.clientId,
      clientSecret: a.clientSecret,
      redirectUrls: [`${a.server.origin}/auth/callback`],
    })),
  });
  const emu = await emulator.listen({ port: 0 });
  const shopifyBaseUrl = emulator.baseUrl(emu.origin);

  const vaults: Vault[] = [];
  function shoptokenApp(app: (typeof apps)['sqlite'], vault: Vault): Shoptoken {
    vaults.push(vault);
    const st = createShoptoken({
      apiKey: app.clientId,
      apiSecret: app.clientSecret,
      scopes: SCOPES,
      appUrl: app.server.origin,
      vault,
      shopifyBaseUrl,
    });
    app.server.set((req, res) => {
      const request = toWebRequest(req);
      void (async () => sendWebResponse(res, (request && (await st.handle(request))) ?? new Response('app home')))();
    });
    return st;
  }
  const keys = [{ id: 'k1', key: randomBytes(32) }];
  const sqliteVault = openVault({ storage: await openSqliteStorage(join(dir, 'bench.db')), keys });
  const memoryVault = openVault({ storage: createMemoryStorage(), keys });
  shoptokenApp(apps.sqlite, sqliteVault);
  shoptokenApp(apps.memory, memoryVault);

  // The peer: @shopify/shopify-api with the two legs chained as shopify-app-express does.
  const peerSessions = new Map<string, Session>();
  const shopify = shopifyApi({
    apiKey: apps.peer.clientId,
    apiSecretKey: apps.peer.clientSecret,
    scopes: SCOPES,
    hostName: new URL(peerServer.origin).host,
    hostScheme: 'http',
    apiVersion: ApiVersion.October25,
    isEmbeddedApp: false,
    logger: { level: 0, log: async () => {} },
  });
  // One setting for the peer too: its calls to https://{shop} go to the emulator.
  const toEmulator = (url: string) => url.replace(/^https:\/\/([a-z0-9-]+\.myshopify\.com)/, `${emu.origin}/$1`);
  setAbstractFetchFunc((input, init) => fetch(toEmulator(String(input)), init));
  peerServer.set((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', peerServer.origin);
      if (url.pathname === '/auth') {
        await shopify.auth.begin({
          shop: url.searchParams.get('shop')!,
          callbackPath: '/auth/callback',
          isOnline: false,
          rawRequest: req,
          rawResponse: res,
        });
      } else if (url.pathname === '/auth/callback') {
        const { session } = await shopify.auth.callback<Session>({ rawRequest: req, rawResponse: res });
        peerSessions.set(session.id, session);
        if (!session.isOnline) {
          await shopify.auth.begin({
            shop: session.shop,
            callbackPath: '/auth/callback',
            isOnline: true,
            rawRequest: req,
            rawResponse: res,
          });
        } else {
          res.writeHead(302, { location: '/' }).end();
        }
      } else {
        res.end('app home');
      }
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });
  const peerFetcher: Fetcher = async (request) => {
    const response = await socketFetcher(request);
    const location = response.headers.get('location');
    if (!location?.startsWith('https://')) return response;
    const headers = new Headers(response.headers);
    headers.set('location', toEmulator(location));
    return new Response(response.body, { status: response.status, headers });
  };

  const contenders: Contender[] = [
    {
      name: 'shoptoken (SQLite, encrypted)',
      appOrigin: sqliteServer.origin,
      app: socketFetcher,
      stored: async (s) => (await sqliteVault.offline(s)) !== null,
    },
    {
      name: 'shoptoken (memory, encrypted)',
      appOrigin: memoryServer.origin,
      app: socketFetcher,
      stored: async (s) => (await memoryVault.offline(s)) !== null,
    },
    {
      name: '@shopify/shopify-api two legs (memory, plaintext)',
      appOrigin: peerServer.origin,
      app: peerFetcher,
      stored: async (s) => [...peerSessions.values()].some((x) => x.shop === s && !x.isOnline),
    },
  ];

  // A browser-like User-Agent: the peer answers 410 to requests it takes for bots.
  const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36';
  const asBrowser =
    (f: Fetcher): Fetcher =>
    (request) => {
      request.headers.set('user-agent', ua);
      return f(request);
    };
  const owner = (shop: string) => emulator.shop(shop)!.users.find((u) => u.accountOwner)!.id;
  async function install(c: Contender, shop: string): Promise<number> {
    const started = performance.now();
    const browser = new Browser({
      origins: { [c.appOrigin]: asBrowser(c.app), [emu.origin]: asBrowser(socketFetcher) },
    });
    const consent = await browser.navigate(`${c.appOrigin}/auth?shop=${shop}`);
    if (consent.status !== 200)
      throw new Error(`${c.name}: expected the consent page, got ${consent.status} (${consent.body.slice(0, 200)})`);
    const done = await browser.submit(consent, { name: 'action', value: 'install' }, { user_id: owner(shop) });
    const elapsed = performance.now() - started;
    if (done.status !== 200 || !(await c.stored(shop)))
      throw new Error(`${c.name}: install ended with ${done.status} at ${done.url}`);
    return elapsed;
  }

  const times = contenders.map(() => [] as number[]);
  for (const [i, c] of contenders.entries())
    for (let w = 0; w < 20; w++) await install(c, `warm-${i}-${w}.myshopify.com`);
  // Interleave the contenders so each sees the same machine state.
  for (let n = 0; n < INSTALLS; n++) {
    for (const [i, c] of contenders.entries()) times[i]!.push(await install(c, `bench-${i}-${n}.myshopify.com`));
  }

  for (const s of [sqliteServer, memoryServer, peerServer]) s.server.close();
  await emu.close();
  for (const v of vaults) await v.close();
  await rm(dir, { recursive: true, force: true });

  const rows = contenders.map((c, i) => {
    const { median, p95 } = stats(times[i]!);
    const total = times[i]!.reduce((a, b) => a + b, 0);
    return { name: c.name, median, p95, perSecond: (times[i]!.length * 1000) / total };
  });
  const ratio = rows[2]!.median / rows[0]!.median;
  return {
    ratio,
    lines: [
      `### Complete dual-token installs over loopback HTTP (${INSTALLS} per contender, one at a time)`,
      '',
      'Each install: /auth → consent page → submit → offline callback + code exchange → per-user authorize → online callback + code exchange.',
      '',
      '| implementation | median ms | p95 ms | installs/s |',
      '|---|---|---|---|',
      ...rows.map((r) => `| ${r.name} | ${r.median.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.perSecond.toFixed(0)} |`),
      '',
      `shoptoken (SQLite) median: **${rows[0]!.median.toFixed(2)} ms** (target < 50 ms); peer median / shoptoken median: ${ratio.toFixed(2)}×`,
    ],
  };
}
