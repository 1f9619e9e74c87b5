/**
 * In-memory token storage, for tests and short-lived processes, and the reference implementation
 * of the storage contract. Rows are copied on the way in and out, so callers cannot change what is
 * stored by mutating an object.
 */

import { createMemoryLeases } from '../coordination/memory-leases.ts';
import { ShoptokenError } from '../errors.ts';
import { memoryWebhooks } from './memory-webhooks.ts';
import { checkLimit, compareBytes, compareKeys, dueTime, keyOf } from './row-codec.ts';
import type { Expected, StateStorage, TokenKey, TokenRow, TokenStorage } from './types.ts';

const rowKey = (key: TokenKey): string => JSON.stringify([key.app, key.shop, key.kind, key.userId]);

/** What a write stores over `existing`: every field of `next` but the kept ones. */
function written(existing: TokenRow | undefined, next: TokenRow): TokenRow {
  return existing ? { ...next, createdAt: existing.createdAt, installedAt: existing.installedAt } : { ...next };
}

function matches(row: TokenRow, expected: Expected): boolean {
  return 'refreshToken' in expected
    ? row.refreshToken === expected.refreshToken
    : row.accessToken === expected.accessToken;
}

/** OAuth states in a map, swept of expired entries on every save. */
function memoryStates(ensureOpen: () => void): StateStorage {
  const states = new Map<string, { value: string; expiresAt: number }>();
  return {
    async save(state, value, expiresAt) {
      ensureOpen();
      states.set(state, { value, expiresAt });
    },
    async take(state, now) {
      ensureOpen();
      for (const [key, entry] of states) if (entry.expiresAt <= now) states.delete(key);
      const entry = states.get(state);
      states.delete(state);
      return entry && entry.expiresAt > now ? entry.value : null;
    },
  };
}

/**
 * Creates an empty in-memory storage (with in-process leases and OAuth states).
 *
 * @example
 * const vault = openVault({ storage: createMemoryStorage(), keys: [{ id: 'k1', key: randomBytes(32) }] });
 */
export function createMemoryStorage(options: { now?: () => number } = {}): TokenStorage {
  const rows = new Map<string, TokenRow>();
  let closed = false;
  const ensureOpen = (): void => {
    if (closed) throw new ShoptokenError('ERR_STORAGE', 'the memory storage is closed');
  };
  const leases = createMemoryLeases(options.now);

  return {
    name: 'memory',
    async get(key) {
      ensureOpen();
      const row = rows.get(rowKey(key));
      return row ? { ...row } : null;
    },
    async put(row) {
      ensureOpen();
      if ((row.kind === 'offline') !== (row.userId === '')) {
        throw new ShoptokenError('ERR_STORAGE', 'memory storage refuses a row whose kind and user disagree');
      }
      rows.set(rowKey(row), written(rows.get(rowKey(row)), row));
    },
    async swap(key, expected, next) {
      ensureOpen();
      const existing = rows.get(rowKey(key));
      if (!existing || !matches(existing, expected)) return false;
      rows.set(rowKey(key), written(existing, { ...next, ...keyOf(key) }));
      return true;
    },
    async markInstalled(app, shop, at) {
      ensureOpen();
      const row = rows.get(rowKey({ app, shop, kind: 'offline', userId: '' }));
      if (!row) return false;
      row.installedAt ??= at;
      return true;
    },
    async deleteOnline(app, shop, userId) {
      ensureOpen();
      return userId !== '' && rows.delete(rowKey({ app, shop, kind: 'online', userId }));
    },
    async deleteShop(app, shop) {
      ensureOpen();
      let deleted = 0;
      for (const [key, row] of rows) {
        if (row.app === app && row.shop === shop && rows.delete(key)) deleted++;
      }
      return deleted;
    },
    async list(query) {
      const limit = checkLimit(query.limit);
      ensureOpen();
      return [...rows.values()]
        .filter((row) => query.app === undefined || row.app === query.app)
        .filter((row) => query.after === undefined || compareKeys(row, query.after) > 0)
        .sort(compareKeys)
        .slice(0, limit)
        .map((row) => ({ ...row }));
    },
    async due(index, query) {
      const limit = checkLimit(query.limit);
      ensureOpen();
      const { app, before, after } = query;
      const timed = [...rows.values()].flatMap((row) => {
        const time = row.app === app ? dueTime(row, index) : null;
        return time === null || time > before ? [] : [{ row, time }];
      });
      return timed
        .filter(
          ({ row, time }) =>
            after === undefined || time > after.at || (time === after.at && compareBytes(row.shop, after.shop) > 0),
        )
        .sort((a, b) => a.time - b.time || compareBytes(a.row.shop, b.row.shop))
        .slice(0, limit)
        .map(({ row }) => ({ ...row }));
    },
    leases: {
      async acquire(key, owner, ttlMs) {
        ensureOpen();
        return leases.acquire(key, owner, ttlMs);
      },
      async extend(key, owner, ttlMs) {
        ensureOpen();
        return leases.extend(key, owner, ttlMs);
      },
      async release(key, owner) {
        ensureOpen();
        return leases.release(key, owner);
      },
    },
    states: memoryStates(ensureOpen),
    webhooks: memoryWebhooks(ensureOpen),
    async close() {
      closed = true;
    },
  };
}
