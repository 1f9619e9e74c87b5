/**
 * Sessions in Redis, written by `@shopify/shopify-app-session-storage-redis`: one string key per
 * session, `{prefix}_{session id}`, holding the session's property array as JSON, beside one key per
 * shop, `{prefix}_{shop}`, holding the JSON array of that shop's session keys (skipped here), and
 * `{prefix}_migrations`. `--table` is the prefix (the adapter's `sessionKeyPrefix`, default
 * `shopify_sessions`). Read with `ioredis` (SCAN, then MGET), read-only.
 */

import type { Redis, RedisOptions } from 'ioredis';
import { lowerKeys, type RawSession } from '../records.ts';
import { loadDriver, PAGE_SIZE, type SessionSource, type SourceLocation, sourceError } from '../source.ts';

/** The adapter's default `sessionKeyPrefix`. */
export const DEFAULT_PREFIX = 'shopify_sessions';

const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, (char) => `\\${char}`);

/** A stored value: a session's fields, `null` for a shop's key list, `{}` (malformed) for anything else. */
export function readRedisValue(value: string | null): RawSession | null {
  if (value === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return {};
  }
  if (!Array.isArray(parsed)) return {};
  if (parsed.length > 0 && parsed.every((item) => typeof item === 'string')) return null;
  const isEntry = (item: unknown): item is [string, unknown] =>
    Array.isArray(item) && item.length === 2 && typeof item[0] === 'string';
  return parsed.every(isEntry) ? lowerKeys(Object.fromEntries(parsed)) : {};
}

/** Opens the sessions under `prefix` (default {@link DEFAULT_PREFIX}) of the Redis database at `location`. */
export async function openRedisSource(
  location: Extract<SourceLocation, { backend: 'redis' }>,
  prefix: string = DEFAULT_PREFIX,
): Promise<SessionSource> {
  const driver = (await loadDriver('ioredis', 'ioredis', 'redis://')) as {
    Redis?: new (url: string, options: RedisOptions) => Redis;
    default?: new (url: string, options: RedisOptions) => Redis;
  };
  const RedisClass = driver.Redis ?? driver.default;
  if (!RedisClass) throw sourceError(location, 'load the ioredis driver', new TypeError('ioredis exports no Redis'));
  const client = new RedisClass(location.url, {
    lazyConnect: true,
    connectTimeout: 10_000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw sourceError(location, 'connect', error);
  }
  try {
    const found = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${escapeGlob(prefix)}_*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) found.add(key);
    } while (cursor !== '0');
    found.delete(`${prefix}_migrations`);
    const keys = [...found].sort();
    return {
      location,
      table: prefix,
      layout: 'session-storage',
      total: keys.length,
      async *pages() {
        for (let start = 0; start < keys.length; start += PAGE_SIZE) {
          const chunk = keys.slice(start, start + PAGE_SIZE);
          let values: (string | null)[];
          try {
            values = await client.mget(...chunk);
          } catch (error) {
            throw sourceError(location, 'read the sessions', error);
          }
          yield values.map(readRedisValue);
        }
      },
      async close() {
        await client.quit().catch(() => client.disconnect());
      },
    };
  } catch (error) {
    client.disconnect();
    throw sourceError(location, 'list the session keys', error);
  }
}
