/**
 * One instance of an app's webhook inbox, in its own process, for the multi-process webhook tests:
 * opens the store of `database` with `keys`, serves deliveries on a loopback port (printed as
 * `{"port":N}`), and — unless `mode` is `receive` — runs the worker, whose handler appends
 * `{webhookId} {pid}` to `log` (one write per line, O_APPEND). With `hang`, the handler never ends
 * (a process that is killed mid-run). Stops on SIGTERM.
 */

import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webhooksNode } from '../../src/adapters/node-http.ts';
import { openConfiguredStorage } from '../../src/config/database.ts';
import { openVault } from '../../src/open-vault.ts';
import { createWebhooks } from '../../src/webhooks/index.ts';

export interface WebhookWorkerConfig {
  database: string;
  keys: { id: string; key: string }[];
  secret: string;
  log: string;
  mode: 'receive' | 'work';
  hang?: boolean;
  leaseMs: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as WebhookWorkerConfig;
const { storage } = await openConfiguredStorage({ database: config.database, cwd: process.cwd() });
const vault = openVault({
  storage,
  keys: config.keys.map(({ id, key }) => ({ id, key: Buffer.from(key, 'base64') })),
  shopifyBaseUrl: 'http://127.0.0.1:9/{shop}',
});
const webhooks = createWebhooks({
  apiSecret: config.secret,
  vault,
  leaseMs: config.leaseMs,
  pollIntervalMs: 50,
  concurrency: 8,
  onError: (error, info) => process.stderr.write(`handler failed (${info.webhookId}): ${String(error)}\n`),
  handlers: {
    'orders/create': async ({ webhookId }) => {
      if (config.hang) await new Promise(() => undefined);
      appendFileSync(config.log, `${webhookId} ${process.pid}\n`);
    },
  },
});
const deliveries = webhooksNode(webhooks);
const server = createServer(async (req, res) => {
  if (!(await deliveries.handle(req, res))) res.writeHead(404).end();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
if (config.mode === 'work') webhooks.start();
process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
process.on('SIGTERM', async () => {
  server.close();
  await webhooks.stop();
  await vault.close();
  process.exit(0);
});
