/**
 * Verified webhooks/s over loopback HTTP, the load from a separate process (autocannon, keep-alive
 * connections, a fresh `X-Shopify-Webhook-Id` per request so dedupe never short-circuits):
 * - the limit: a bare `node:http` server that reads the body and checks its HMAC, nothing else;
 * - the peer: the same server calling `@shopify/shopify-api`'s `webhooks.validate`;
 * - shoptoken's `webhooksNode` handler: verify + dedupe + enqueue in memory (verify-and-ack), and
 *   then with the durable enqueue of each store (SQLite, PostgreSQL, MariaDB, Redis).
 * Contenders run in alternating rounds; the median req/s is reported, with p50/p99 latency.
 */
import '@shopify/shopify-api/adapters/node';
import { execFile } from 'node:child_process';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import { webhooksNode } from '../src/adapters/node-http.ts';
import { openVault } from '../src/open-vault.ts';
import { signWebhookBody, verifyWebhook } from '../src/protocol/webhook.ts';
import { createMemoryStorage } from '../src/storage/memory.ts';
import type { TokenStorage } from '../src/storage/types.ts';
import { createWebhooks } from '../src/webhooks/index.ts';
import { openOurs, type PreparedStore, prepareStore, STORE_NAMES } from './services.ts';

const run = promisify(execFile);
const LOAD = join(import.meta.dirname, 'webhook-load.ts');
const SECRET = 'shpss_00000000000000000000000000000000';
const CONNECTIONS = 32;
const SECONDS = Number(process.env.SHOPTOKEN_BENCH_HTTP_SECONDS ?? 3);
const ROUNDS = 2;

const BODY = JSON.stringify({
  id: 820982911946154500,
  admin_graphql_api_id: 'gid://shopify/Order/820982911946154508',
  email: 'jon@example.com',
  total_price: '403.00',
  line_items: Array.from({ length: 3 }, (_, i) => ({ id: i, title: `Item ${i}`, quantity: 1, price: '199.00' })),
});
const HEADERS: Record<string, string> = {
  'content-type': 'application/json',
  'x-shopify-hmac-sha256': signWebhookBody(BODY, SECRET),
  'x-shopify-topic': 'orders/create',
  'x-shopify-shop-domain': 'bench-shop.myshopify.com',
  'x-shopify-api-version': '2026-01',
  'x-shopify-event-id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
  'x-shopify-triggered-at': '2026-05-11T15:06:59.110521905Z',
};

async function rawBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The limit: read the body, check the HMAC, answer. */
const bare: RequestListener = async (req, res) => {
  const body = await rawBody(req);
  const given = Buffer.from(String(req.headers['x-shopify-hmac-sha256'] ?? ''), 'base64');
  const expected = createHmac('sha256', SECRET).update(body).digest();
  res.statusCode = given.length === expected.length && timingSafeEqual(given, expected) ? 200 : 401;
  res.end();
};

/** shoptoken's verification and ack without the inbox: `verifyWebhook` on the raw body and Node's headers, then 200. */
const verifyAndAck: RequestListener = async (req, res) => {
  const body = await rawBody(req);
  const check = verifyWebhook({ method: req.method ?? 'GET', headers: req.headers, body }, { secrets: [SECRET] });
  res.statusCode = check.ok ? 200 : check.status;
  res.end();
};

function peer(): RequestListener {
  const shopify = shopifyApi({
    apiKey: 'bench',
    apiSecretKey: SECRET,
    scopes: ['write_products'],
    hostName: 'app.example.com',
    apiVersion: ApiVersion.October25,
    isEmbeddedApp: false,
    logger: { level: 0, log: async () => {} },
  });
  return async (req, res) => {
    const body = (await rawBody(req)).toString('utf8');
    const result = await shopify.webhooks.validate({ rawBody: body, rawRequest: req, rawResponse: res });
    res.statusCode = result.valid ? 200 : 401;
    res.end();
  };
}

function ours(storage: TokenStorage): RequestListener {
  const vault = openVault({ storage, keys: [{ id: 'k1', key: randomBytes(32) }] });
  const deliveries = webhooksNode(createWebhooks({ apiSecret: SECRET, vault }));
  return async (req, res) => {
    if (!(await deliveries.handle(req, res))) res.writeHead(404).end();
  };
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(listener: RequestListener): Promise<Load> {
  const server: Server = createServer({ keepAliveTimeout: 10_000 }, listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`;
  try {
    const config = JSON.stringify({ url, connections: CONNECTIONS, seconds: SECONDS, body: BODY, headers: HEADERS });
    const { stdout } = await run(process.execPath, [LOAD, config], { maxBuffer: 16 * 1024 * 1024 });
    const report = JSON.parse(stdout) as {
      requests: { average: number };
      latency: { p50: number; p99: number };
      non2xx: number;
      errors: number;
    };
    return {
      rps: report.requests.average,
      p50: report.latency.p50,
      p99: report.latency.p99,
      errors: report.non2xx + report.errors,
    };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

export async function webhookHttpBench(): Promise<{ lines: string[] }> {
  const prepared: PreparedStore[] = [];
  const skipped: string[] = [];
  for (const store of STORE_NAMES) {
    const result = await prepareStore(store);
    if (typeof result === 'string') skipped.push(result);
    else prepared.push(result);
  }
  const contenders: { name: string; listener: RequestListener; close?: () => Promise<void> }[] = [
    { name: 'bare node:http, HMAC only (the limit)', listener: bare },
    { name: '@shopify/shopify-api webhooks.validate', listener: peer() },
    { name: 'shoptoken verifyWebhook + 200 (verify-and-ack)', listener: verifyAndAck },
    { name: 'shoptoken webhooksNode: verify + dedupe + enqueue in memory', listener: ours(createMemoryStorage()) },
  ];
  for (const { target } of prepared) {
    const storage = await openOurs(target);
    contenders.push({
      name: `shoptoken webhooksNode: verify + dedupe + durable enqueue, ${target.label}`,
      listener: ours(storage),
      close: () => storage.close(),
    });
  }
  const results = new Map<string, Load[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const { name, listener } of contenders)
      results.set(name, [...(results.get(name) ?? []), await load(listener)]);
  }
  for (const contender of contenders) await contender.close?.();
  for (const store of prepared) await store.drop();
  const summary = contenders.map(({ name }) => {
    const loads = results.get(name)!;
    return {
      name,
      rps: median(loads.map((l) => l.rps)),
      p50: median(loads.map((l) => l.p50)),
      p99: median(loads.map((l) => l.p99)),
      errors: loads.reduce((n, l) => n + l.errors, 0),
    };
  });
  const [limit, peerResult, ack, memory] = summary as [
    (typeof summary)[0],
    (typeof summary)[0],
    (typeof summary)[0],
    (typeof summary)[0],
  ];
  return {
    lines: [
      `### Verified webhooks over loopback HTTP (autocannon in another process, ${CONNECTIONS} connections, ${SECONDS} s × ${ROUNDS} rounds)`,
      '',
      '| server | req/s | p50 ms | p99 ms | non-2xx |',
      '|---|---|---|---|---|',
      ...summary.map((r) => `| ${r.name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} |`),
      '',
      `verify-and-ack / peer: **${(ack.rps / peerResult.rps).toFixed(1)}×** (target ≥ 4×); ` +
        `/ limit: **${(ack.rps / limit.rps).toFixed(2)}×** (target ≥ 0.7×). ` +
        `The whole handler with the in-memory inbox (verify, dedupe, seal, enqueue): ` +
        `${(memory.rps / peerResult.rps).toFixed(1)}× the peer, ${(memory.rps / limit.rps).toFixed(2)}× the limit.`,
      ...skipped,
    ],
  };
}
