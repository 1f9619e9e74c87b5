/**
 * The webhook inbox across processes, on each store (issue 8 §7): three instances draining one
 * inbox run each delivery once; an instance SIGKILLed after acknowledging deliveries (its handler
 * mid-run) loses none of them — another instance takes them over once their claims end.
 */

import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { signWebhookBody } from '../../src/protocol/webhook.ts';
import { BACKENDS, Stores, storeTest, unavailable } from '../helpers/multiprocess-stores.ts';
import type { WebhookWorkerConfig } from '../helpers/webhook-worker.ts';

const WORKER = fileURLToPath(new URL('../helpers/webhook-worker.ts', import.meta.url));
const SECRET = 'mp-webhook-secret';
const SHOP = 'mp-shop.myshopify.com';
const DELIVERIES = 120;

const reasons = await unavailable();
const stores = new Stores();
const dir = mkdtempSync(join(tmpdir(), 'shoptoken-mp-webhooks-'));
after(async () => {
  await stores.dropAll();
  rmSync(dir, { recursive: true, force: true });
});

interface Instance {
  child: ChildProcessWithoutNullStreams;
  port: number;
}

async function startInstance(config: WebhookWorkerConfig): Promise<Instance> {
  const child = spawn(process.execPath, [WORKER, JSON.stringify(config)], { stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (process.env.SHOPTOKEN_DEBUG_WORKERS) process.stderr.write(chunk);
  });
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    new Promise<never>((_, reject) => child.once('exit', () => reject(new Error(`worker exited: ${stderr}`)))),
    sleep(20_000).then(() => Promise.reject(new Error(`worker did not start: ${stderr}`))),
  ]);
  return { child, port: (JSON.parse(first) as { port: number }).port };
}

async function stopInstance(instance: Instance, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (instance.child.exitCode !== null) return;
  const exited = new Promise((resolve) => instance.child.once('exit', resolve));
  instance.child.kill(signal);
  await exited;
}

/** Posts one signed delivery to `port`; resolves the status. */
async function deliver(port: number, webhookId: string): Promise<number> {
  const body = JSON.stringify({ id: webhookId });
  const response = await fetch(`http://127.0.0.1:${port}/webhooks`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-shopify-hmac-sha256': signWebhookBody(body, SECRET),
      'x-shopify-topic': 'orders/create',
      'x-shopify-shop-domain': SHOP,
      'x-shopify-webhook-id': webhookId,
    },
  });
  await response.arrayBuffer();
  return response.status;
}

/** The lines of `log` (`{webhookId} {pid}`), once at least `count` are there (or after `timeoutMs`). */
async function handled(log: string, count: number, timeoutMs = 30_000): Promise<[string, string][]> {
  const read = () =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => line.split(' ') as [string, string])
      : [];
  const deadline = Date.now() + timeoutMs;
  while (read().length < count && Date.now() < deadline) await sleep(50);
  await sleep(300); // anything run twice would show up now
  return read();
}

describe('webhooks across processes', () => {
  for (const backend of BACKENDS) {
    storeTest(
      backend,
      reasons[backend],
      `3 instances: ${DELIVERIES} deliveries (and duplicates) run once each`,
      async () => {
        const database = await stores.fresh(backend, `webhooks-${randomUUID().slice(0, 8)}`);
        const log = join(dir, `${backend}-once.log`);
        const keys = [{ id: 'k1', key: randomBytes(32).toString('base64') }];
        const base = { database, keys, secret: SECRET, log, leaseMs: 5000 } as const;
        const instances = await Promise.all([0, 1, 2].map(() => startInstance({ ...base, mode: 'work' })));
        try {
          const ids = Array.from({ length: DELIVERIES }, () => randomUUID());
          // Each delivery to one instance, its duplicate to another (Shopify retries land anywhere).
          const statuses = await Promise.all(
            ids.flatMap((id, i) => [
              deliver(instances[i % 3]!.port, id),
              ...(i % 4 === 0 ? [deliver(instances[(i + 1) % 3]!.port, id)] : []),
            ]),
          );
          assert.ok(
            statuses.every((status) => status === 200),
            statuses.join(','),
          );
          const lines = await handled(log, DELIVERIES);
          assert.equal(lines.length, DELIVERIES, 'each delivery ran once');
          assert.deepEqual(new Set(lines.map(([id]) => id)), new Set(ids));
          const pids = new Set(lines.map(([, pid]) => pid));
          console.log(`# ${backend}: ${DELIVERIES} deliveries run by ${pids.size} instance(s)`);
        } finally {
          await Promise.all(instances.map((instance) => stopInstance(instance)));
        }
      },
    );

    storeTest(backend, reasons[backend], 'an instance SIGKILLed after the ack loses no delivery', async () => {
      const database = await stores.fresh(backend, `webhooks-${randomUUID().slice(0, 8)}`);
      const log = join(dir, `${backend}-kill.log`);
      const keys = [{ id: 'k1', key: randomBytes(32).toString('base64') }];
      const base = { database, keys, secret: SECRET, log, leaseMs: 1000 } as const;
      const victim = await startInstance({ ...base, mode: 'work', hang: true });
      const ids = Array.from({ length: 20 }, () => randomUUID());
      try {
        for (const id of ids) assert.equal(await deliver(victim.port, id), 200);
        await sleep(200); // the victim claims them and its handler hangs
      } finally {
        await stopInstance(victim, 'SIGKILL');
      }
      assert.equal(existsSync(log), false, 'nothing finished before the kill');
      const survivor = await startInstance({ ...base, mode: 'work' });
      try {
        const lines = await handled(log, ids.length);
        assert.deepEqual(new Set(lines.map(([id]) => id)), new Set(ids));
        assert.equal(lines.length, ids.length);
      } finally {
        await stopInstance(survivor);
      }
    });
  }
});
