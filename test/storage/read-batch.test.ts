/**
 * Coalesced point reads (storage/read-batch.ts) over the memory store given a `getMany` that
 * records its calls: which reads share a statement, what each caller gets back, and what a
 * failing batch does to the reads in it. The same reads on PostgreSQL and MySQL run in the
 * conformance battery.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ShoptokenError } from '../../src/errors.ts';
import { openVault } from '../../src/open-vault.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { batchReads, MAX_KEYS, SPLIT_AT } from '../../src/storage/read-batch.ts';
import type { TokenKey, TokenRow, TokenStorage } from '../../src/storage/types.ts';
import { offlineKey, offlineRow, onlineKey, onlineRow, sealed } from '../../src/testing/fixtures.ts';

const APP = 'batch-app';

/** The memory store with a `getMany` (answered from `get`, or by `fail`), counting both calls. */
function batchingStore(fail?: (keys: readonly TokenKey[]) => unknown) {
  const inner = createMemoryStorage();
  const calls = { get: 0, getMany: [] as number[] };
  const storage: TokenStorage = {
    ...inner,
    name: 'batching-memory',
    async get(key) {
      calls.get++;
      return inner.get(key);
    },
    async getMany(keys) {
      calls.getMany.push(keys.length);
      const failure = fail?.(keys);
      if (failure !== undefined) {
        if (failure instanceof Error) throw failure;
        return failure as TokenRow[];
      }
      const rows = await Promise.all(keys.map((key) => inner.get(key)));
      return rows.filter((row) => row !== null).reverse(); // any order
    },
  };
  return { storage, calls };
}

const shop = (i: number) => `shop-${i}.myshopify.com`;

describe('batched reads', () => {
  it('reads asked for in one turn share statements; each caller gets its own row, a missing key null', async () => {
    const { storage, calls } = batchingStore();
    for (let i = 0; i < 10; i++) await storage.put(offlineRow(APP, shop(i), { accessToken: sealed(`t${i}`) }));
    await storage.put(onlineRow(APP, shop(0), { userId: '7', accessToken: sealed('online') }));
    const read = batchReads(storage);
    const keys = [...Array.from({ length: 12 }, (_, i) => offlineKey(APP, shop(i))), onlineKey(APP, shop(0), '7')];
    const rows = await Promise.all(keys.map((key) => read(key)));
    assert.deepEqual(calls, { get: 0, getMany: [7, 6] }, 'two statements from 8 keys');
    assert.deepEqual(
      rows.map((row) => row?.accessToken ?? null),
      [...Array.from({ length: 10 }, (_, i) => sealed(`t${i}`)), null, null, sealed('online')],
    );
  });

  it('a read alone is one get; reads in different turns are different statements and see the writes before them', async () => {
    const { storage, calls } = batchingStore();
    const read = batchReads(storage);
    await storage.put(offlineRow(APP, shop(1), { accessToken: sealed('first') }));
    assert.equal((await read(offlineKey(APP, shop(1))))?.accessToken, sealed('first'));
    await storage.put(offlineRow(APP, shop(1), { accessToken: sealed('second') }));
    assert.equal((await read(offlineKey(APP, shop(1))))?.accessToken, sealed('second'));
    assert.deepEqual(calls, { get: 2, getMany: [] });
  });

  it('one key asked for twice is looked up once; each caller gets its own copy', async () => {
    const { storage, calls } = batchingStore();
    await storage.put(offlineRow(APP, shop(1)));
    const read = batchReads(storage);
    const [a, b, c] = await Promise.all([
      read(offlineKey(APP, shop(1))),
      read(offlineKey(APP, shop(1))),
      read(offlineKey(APP, shop(2))),
    ]);
    assert.deepEqual(calls.getMany, [2]);
    assert.deepEqual(a, b);
    assert.notEqual(a, b, 'not the same object: one caller changing its row cannot change another’s');
    assert.equal(c, null);
  });

  it(`below ${SPLIT_AT} keys a turn's reads are one statement; from ${SPLIT_AT}, two halves`, async () => {
    for (const [count, statements] of [
      [2, [2]],
      [SPLIT_AT - 1, [SPLIT_AT - 1]],
      [SPLIT_AT, [SPLIT_AT / 2, SPLIT_AT / 2]],
      [SPLIT_AT + 1, [(SPLIT_AT + 2) / 2, SPLIT_AT / 2]],
    ] as const) {
      const { storage, calls } = batchingStore();
      const read = batchReads(storage);
      await Promise.all(Array.from({ length: count }, (_, i) => read(offlineKey(APP, shop(i)))));
      assert.deepEqual(calls.getMany, statements, `${count} keys`);
    }
  });

  it(`more than ${MAX_KEYS} reads in a turn are split into statements of at most ${MAX_KEYS} keys`, async () => {
    const { storage, calls } = batchingStore();
    for (let i = 0; i < 250; i += 2) await storage.put(offlineRow(APP, shop(i), { accessToken: sealed(`t${i}`) }));
    const read = batchReads(storage);
    const rows = await Promise.all(Array.from({ length: 250 }, (_, i) => read(offlineKey(APP, shop(i)))));
    assert.deepEqual(calls.getMany, [100, 100, 50]);
    assert.deepEqual(
      rows.map((row) => row?.accessToken ?? null),
      rows.map((_, i) => (i % 2 === 0 ? sealed(`t${i}`) : null)),
    );
  });

  it('keys whose parts run together are still told apart', async () => {
    const { storage } = batchingStore();
    await storage.put(offlineRow('a', '1:b.myshopify.com', { accessToken: sealed('first') }));
    await storage.put(offlineRow('a1', ':b.myshopify.com', { accessToken: sealed('second') }));
    const read = batchReads(storage);
    const [first, second] = await Promise.all([
      read(offlineKey('a', '1:b.myshopify.com')),
      read(offlineKey('a1', ':b.myshopify.com')),
    ]);
    assert.equal(first?.accessToken, sealed('first'));
    assert.equal(second?.accessToken, sealed('second'));
  });

  it('a store that is down fails every read of the batch with its error, once', async () => {
    const down = new ShoptokenError('ERR_STORAGE', 'postgres storage could not read token rows');
    const { storage, calls } = batchingStore(() => down);
    const read = batchReads(storage);
    const reads = [1, 2, 3].map((i) => read(offlineKey(APP, shop(i))));
    for (const result of await Promise.allSettled(reads)) {
      assert.equal(result.status, 'rejected');
      assert.equal((result as PromiseRejectedResult).reason, down);
    }
    assert.deepEqual(calls, { get: 0, getMany: [3] }, 'no second try per key while the store is down');
  });

  it('a batch refused for another reason (a key the store cannot hold) is read key by key', async () => {
    const { storage, calls } = batchingStore(() => new TypeError('a key the store cannot hold'));
    await storage.put(offlineRow(APP, shop(1)));
    const read = batchReads(storage);
    const [one, two] = await Promise.all([read(offlineKey(APP, shop(1))), read(offlineKey(APP, shop(2)))]);
    assert.equal(one?.shop, shop(1));
    assert.equal(two, null);
    assert.deepEqual(calls, { get: 2, getMany: [2] });
  });

  it('a getMany that does not answer an array is read key by key', async () => {
    const { storage, calls } = batchingStore(() => ({ rows: [] }));
    await storage.put(offlineRow(APP, shop(1)));
    const read = batchReads(storage);
    const [one] = await Promise.all([read(offlineKey(APP, shop(1))), read(offlineKey(APP, shop(2)))]);
    assert.equal(one?.shop, shop(1));
    assert.equal(calls.get, 2);
  });

  it('a store without getMany is read with get, as it was', async () => {
    const storage = createMemoryStorage();
    await storage.put(offlineRow(APP, shop(1)));
    const read = batchReads(storage);
    const rows = await Promise.all([read(offlineKey(APP, shop(1))), read(offlineKey(APP, shop(2)))]);
    assert.deepEqual(
      rows.map((row) => row?.shop ?? null),
      [shop(1), null],
    );
  });

  it('vault.token of many shops at once, cache off: two statements, each shop its own token', async () => {
    const { storage, calls } = batchingStore();
    const vault = openVault({ storage, keys: [{ id: 'k1', key: randomBytes(32) }], cache: { maxEntries: 0 } });
    try {
      for (let i = 0; i < 30; i++) {
        await vault.saveOffline({
          shop: shop(i),
          accessToken: `shpat_${i}`,
          scopes: ['read_orders'],
          expiresAt: null,
          refreshToken: null,
          refreshTokenExpiresAt: null,
        });
      }
      calls.getMany.length = 0;
      calls.get = 0;
      const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => vault.token(shop(i))));
      assert.deepEqual(
        tokens.map((token) => token.accessToken),
        Array.from({ length: 30 }, (_, i) => `shpat_${i}`),
      );
      assert.deepEqual(calls, { get: 0, getMany: [15, 15] });
    } finally {
      await vault.close();
    }
  });
});

describe('batched reads from a store that throws instead of rejecting', () => {
  it('the read that asked gets the error; the process does not crash', async () => {
    const { storage } = batchingStore(() => new TypeError('refused'));
    const throwing: TokenStorage = {
      ...storage,
      get(key) {
        if (key.shop === shop(2)) throw new TypeError('a key this store cannot hold');
        return storage.get(key);
      },
    };
    await throwing.put(offlineRow(APP, shop(1)));
    const read = batchReads(throwing);
    const [one, two] = await Promise.allSettled([read(offlineKey(APP, shop(1))), read(offlineKey(APP, shop(2)))]);
    assert.equal(one.status === 'fulfilled' && one.value?.shop, shop(1));
    assert.equal(two.status, 'rejected');
    assert.match(String((two as PromiseRejectedResult).reason), /cannot hold/);
    await assert.rejects(read(offlineKey(APP, shop(2))), /cannot hold/, 'a read alone, too');
  });
});

describe('batched reads and closing the store', () => {
  it('drain sends the reads not yet sent and waits for them', async () => {
    const { storage, calls } = batchingStore();
    await storage.put(offlineRow(APP, shop(1)));
    const read = batchReads(storage);
    const reads = [read(offlineKey(APP, shop(1))), read(offlineKey(APP, shop(2)))];
    await read.drain();
    assert.deepEqual(calls.getMany, [2], 'sent by drain, before the next turn');
    await storage.close();
    const [one, two] = await Promise.all(reads);
    assert.equal(one?.shop, shop(1));
    assert.equal(two, null);
    await read.drain(); // nothing held: resolves at once
  });

  it('vault.close after vault.token in the same turn: the read is still answered', async () => {
    const { storage } = batchingStore();
    const vault = openVault({ storage, keys: [{ id: 'k1', key: randomBytes(32) }], cache: { maxEntries: 0 } });
    await vault.saveOffline({
      shop: shop(1),
      accessToken: 'shpat_1',
      scopes: ['read_orders'],
      expiresAt: null,
      refreshToken: null,
      refreshTokenExpiresAt: null,
    });
    const token = vault.token(shop(1));
    await vault.close();
    assert.equal((await token).accessToken, 'shpat_1');
    await assert.rejects(vault.token(shop(1)), { code: 'ERR_STORAGE' }, 'and later reads meet the closed store');
  });
});
