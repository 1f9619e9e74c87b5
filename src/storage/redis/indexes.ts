/**
 * Keeping an app's indexes (its list, its three due indexes, and the set of apps) in step with its
 * rows. A row and its index entries live in different slots, so every write is two steps: the row
 * script returns the shop's new state with a rising version, and {@link syncIndexes} applies that
 * state to the app's slot unless a newer version got there first. The indexes are hints: `list`
 * and `due` re-read every row they return and {@link reindex} any entry found stale (a writer that
 * died between the two steps, a reply lost), so an index entry never produces a wrong answer.
 */

import type { RedisConnection } from './connection.ts';
import { listShopPrefix, type RedisKeys, timeKey } from './keys.ts';
import { APPLY_INDEX, READ_STATE, runScript } from './scripts.ts';

/** What the indexes hold for one shop, as a row script returns it. */
export interface ShopState {
  version: string;
  /** The offline row's stored access, refresh and renew times ('' when not on that index). */
  times: [string, string, string];
  /** The tails of the shop's rows (kind and user). */
  tails: string[];
}

/** The shop state in a script reply, starting at `offset`. */
export function shopState(reply: unknown, offset: number): ShopState {
  if (!Array.isArray(reply) || reply.length < offset + 4 || !reply.slice(offset).every((x) => typeof x === 'string')) {
    throw new Error('unexpected reply from a shoptoken script');
  }
  const [version, access, refresh, renew, ...tails] = reply.slice(offset) as string[];
  return { version: version!, times: [access!, refresh!, renew!], tails };
}

/** The hex due time of a stored decimal time, or '' (not indexed) for none. */
function dueTimeKey(stored: string): string {
  const time = stored === '' ? NaN : Number(stored);
  return Number.isSafeInteger(time) ? timeKey(time) : '';
}

const count = (value: unknown): number => (typeof value === 'number' ? value : Number(value));

/** Applies `state` of (app, shop) to the app's indexes, and keeps the set of apps with rows. */
export async function syncIndexes(
  connection: RedisConnection,
  keys: RedisKeys,
  app: string,
  shop: string,
  state: ShopState,
): Promise<void> {
  const { shops, list, due } = keys.app(app);
  const prefix = listShopPrefix(shop);
  const reply = await runScript(
    connection,
    APPLY_INDEX,
    [shops, due.access, due.refresh, due.renew, list],
    [shop, prefix, state.version, ...state.times.map(dueTimeKey), ...state.tails.map((tail) => prefix + tail)],
  );
  const [, before, after] = (Array.isArray(reply) ? reply : []).map(count);
  // The app set lives in another slot. Add after filling; remove after emptying, then look again:
  // a writer that filled the list meanwhile added the app before that look, or adds it after.
  if (before === 0 && after! > 0) {
    await connection.call('ZADD', keys.apps, 0, app);
  } else if (before! > 0 && after === 0) {
    await connection.call('ZREM', keys.apps, app);
    if (count(await connection.call('ZCARD', list)) > 0) await connection.call('ZADD', keys.apps, 0, app);
  }
}

/** Re-reads the shop's state and applies it: the repair of a stale or missing index entry. */
export async function reindex(connection: RedisConnection, keys: RedisKeys, app: string, shop: string): Promise<void> {
  const { rows, version, offline } = keys.shop(app, shop);
  const reply = await runScript(connection, READ_STATE, [rows, version, offline], []);
  await syncIndexes(connection, keys, app, shop, shopState(reply, 0));
}

/**
 * After a row script wrote `state`: syncs the indexes, trying again from a fresh read when the
 * first attempt is lost. If that fails too the call fails (retryable): the row is written, and the
 * caller learns, as after any lost reply, to read it again.
 */
export async function syncAfterWrite(
  connection: RedisConnection,
  keys: RedisKeys,
  app: string,
  shop: string,
  state: ShopState,
): Promise<void> {
  try {
    await syncIndexes(connection, keys, app, shop, state);
  } catch {
    await reindex(connection, keys, app, shop);
  }
}

/** Pages through a lex sorted set from `start` (a ZRANGE BYLEX bound), `limit` members at most. */
export async function lexPage(
  connection: RedisConnection,
  key: string,
  start: string,
  end: string,
  limit: number,
): Promise<string[]> {
  const members = await connection.call('ZRANGE', key, start, end, 'BYLEX', 'LIMIT', 0, limit);
  return Array.isArray(members) ? members.map(String) : [];
}
