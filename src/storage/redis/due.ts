/**
 * The keeper's due scans. Each (app, index) is a sorted set whose members are a fixed-width hex
 * time followed by the shop, all with score 0, so `ZRANGE … BYLEX` walks them in (time, shop)
 * bytewise order and resumes strictly after a cursor with an exclusive bound. The index is a hint:
 * every row it names is read again, returned only when its CURRENT time on that index is the one
 * indexed; otherwise the shop is reindexed (its entry moves to where the row now belongs, or goes)
 * and the entry dropped unless it is the shop's current one.
 */

import { checkLimit, dueTime } from '../row-codec.ts';
import type { DueIndex, DueQuery, TokenRow } from '../types.ts';
import type { RedisConnection } from './connection.ts';
import { lexPage, reindex } from './indexes.ts';
import { parseDueMember, type RedisKeys, timeKey } from './keys.ts';
import { readRow } from './rows.ts';
import { DROP_DUE, runScript } from './scripts.ts';

const INDEXES: readonly DueIndex[] = ['access', 'refresh', 'renew'];
const MAX = Number.MAX_SAFE_INTEGER;

/** The exclusive upper bound of times at or before `before`, or null when none can be. */
function upperBound(before: number): string | null {
  if (typeof before !== 'number' || Number.isNaN(before)) throw new TypeError('before must be a number');
  if (before < -MAX) return null;
  return before >= MAX ? '+' : `(${timeKey(Math.floor(before) + 1)}`;
}

/** The exclusive lower bound strictly after `after`, or the start. */
function lowerBound(after: DueQuery['after']): string {
  if (after === undefined) return '-';
  if (!Number.isSafeInteger(after.at) || typeof after.shop !== 'string') {
    throw new TypeError('after must be { at: an integer, shop: a string }');
  }
  return `(${timeKey(after.at)}${after.shop}`;
}

/**
 * A page of the app's active offline rows due by `before` on `index`, soonest first, ties by shop,
 * strictly after `after`.
 *
 * @example
 * const rows = await dueRows(connection, keys, 'access', { app: '', before: Date.now(), limit: 100 });
 */
export async function dueRows(
  connection: RedisConnection,
  keys: RedisKeys,
  index: DueIndex,
  query: DueQuery,
): Promise<TokenRow[]> {
  const limit = checkLimit(query.limit);
  if (!INDEXES.includes(index)) throw new TypeError('index must be access, refresh or renew');
  if (typeof query.app !== 'string') throw new TypeError('app must be a string');
  const end = upperBound(query.before);
  let start = lowerBound(query.after);
  if (end === null) return [];
  const { shops, due } = keys.app(query.app);
  const key = due[index];
  const rows: TokenRow[] = [];
  while (rows.length < limit) {
    const want = limit - rows.length;
    const members = await lexPage(connection, key, start, end, want);
    const entries = members.map(parseDueMember);
    const read = await Promise.all(
      entries.map((entry) =>
        entry ? readRow(connection, keys.row({ app: query.app, shop: entry.shop, kind: 'offline', userId: '' })) : null,
      ),
    );
    const stale: [shop: string, member: string][] = [];
    const junk: string[] = [];
    entries.forEach((entry, i) => {
      const row = read[i];
      if (entry && row && dueTime(row, index) === entry.time) rows.push(row);
      else if (entry) stale.push([entry.shop, members[i]!]);
      else junk.push(members[i]!);
    });
    if (junk.length > 0) await connection.call('ZREM', key, ...junk);
    await Promise.all(
      stale.map(async ([shop, member]) => {
        await reindex(connection, keys, query.app, shop);
        await runScript(connection, DROP_DUE, [shops, key], [shop, member, INDEXES.indexOf(index) + 1]);
      }),
    );
    if (members.length < want) break;
    start = `(${members.at(-1)}`;
  }
  return rows;
}
