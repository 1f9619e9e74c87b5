/**
 * Several processes rotating the same shops' refresh tokens through one store, the way the vault
 * does across instances — take the shop's lease, re-read, rotate (a "grant") only if nobody has,
 * compare-and-set; losers wait for the winner's write. Each store's test checks that every shop
 * was rotated exactly once. Run as a script (`SHOPTOKEN_ROTATION_TASK` set), this file is the worker.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { openNetworkStorage } from '../../src/storage/open.ts';
import type { TokenStorage } from '../../src/storage/types.ts';
import { offlineKey, offlineRow, refreshedRow, sealed } from '../../src/testing/fixtures.ts';

/** What one worker process is asked to do. */
interface RotationTask {
  url: string;
  app: string;
  shops: string[];
  callers: number;
}

interface RotationResult {
  grants: number;
  conflicts: number;
}

/** One instance of an app: `callers` concurrent callers, each making sure every shop was rotated once. */
async function rotateAll(task: RotationTask): Promise<RotationResult> {
  const storage = await openNetworkStorage(task.url);
  const used = sealed('refresh-1');
  const result = { grants: 0, conflicts: 0 };
  const rotate = async (shop: string): Promise<void> => {
    const key = offlineKey(task.app, shop);
    const lease = `refresh:${task.app}:${shop}`;
    for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
      if ((await storage.get(key))?.refreshToken !== used) return;
      const owner = randomUUID();
      if (await storage.leases.acquire(lease, owner, 10_000)) {
        try {
          const row = await storage.get(key);
          if (row?.refreshToken !== used) return;
          result.grants++;
          if (!(await storage.swap(key, { refreshToken: used }, refreshedRow(row, 2)))) result.conflicts++;
        } finally {
          await storage.leases.release(lease, owner);
        }
        return;
      }
      await sleep(wait * Math.random());
    }
  };
  await Promise.all(
    Array.from({ length: task.callers }, async () => {
      const shops = [...task.shops].sort(() => Math.random() - 0.5);
      for (const shop of shops) await rotate(shop);
    }),
  );
  await storage.close();
  return result;
}

function runWorker(task: RotationTask): Promise<RotationResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, SHOPTOKEN_ROTATION_TASK: JSON.stringify(task) };
  delete env.NODE_TEST_CONTEXT;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [import.meta.filename], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(out) as RotationResult);
      else reject(new Error(`worker exited with ${code}: ${err}`));
    });
  });
}

/**
 * Seeds `shops` offline rows of a fresh app in `storage`, has `processes` worker processes ×
 * `callers` callers rotate them all through the store at `url`, and asserts one grant per shop, no
 * compare-and-set lost, and every row rotated once. Deletes the rows afterwards.
 */
export async function assertRotatedOnceAcrossProcesses(
  storage: TokenStorage,
  url: string,
  options: { shops: number; processes: number; callers: number },
): Promise<void> {
  const app = `processes-${randomUUID()}`;
  const shops = Array.from({ length: options.shops }, (_, i) => `shop-${i}.myshopify.com`);
  try {
    for (const shop of shops) await storage.put(offlineRow(app, shop));
    const task = { url, app, shops, callers: options.callers };
    const results = await Promise.all(Array.from({ length: options.processes }, () => runWorker(task)));
    assert.equal(
      results.reduce((sum, result) => sum + result.grants, 0),
      shops.length,
      'one grant per shop',
    );
    assert.equal(
      results.reduce((sum, result) => sum + result.conflicts, 0),
      0,
      'no compare-and-set lost',
    );
    const rows = await storage.list({ app, limit: 1000 });
    assert.equal(rows.length, shops.length);
    for (const row of rows) {
      assert.equal(row.refreshToken, sealed('refresh-2'));
      assert.equal(row.previousRefreshToken, sealed('refresh-1'));
    }
  } finally {
    for (const shop of shops) await storage.deleteShop(app, shop);
  }
}

const task = process.env.SHOPTOKEN_ROTATION_TASK;
if (task !== undefined) process.stdout.write(JSON.stringify(await rotateAll(JSON.parse(task) as RotationTask)));
