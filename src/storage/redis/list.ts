/**
 * Paged listing in (app, shop, kind, userId) bytewise order: per app, a lex sorted set of its rows
 * (members encoded so that Redis's bytewise member order is the contract's), and a lex sorted set
 * of the apps with rows for listing across apps. A page reads only the rows it returns; a member
 * whose row is gone is dropped and its shop reindexed.
 */

import { checkLimit, compareBytes } from '../row-codec.ts';
import type { ListQuery, TokenRow } from '../types.ts';
import type { RedisConnection } from './connection.ts';
import { lexPage, reindex } from './indexes.ts';
import { listMember, parseListMember, type RedisKeys } from './keys.ts';
import { readRow } from './rows.ts';

const APPS_PER_PAGE = 100;

/** Up to `limit` rows of `app` from the exclusive lex bound `start`. */
async function appRows(
  connection: RedisConnection,
  keys: RedisKeys,
  app: string,
  start: string,
  limit: number,
): Promise<TokenRow[]> {
  const key = keys.app(app).list;
  const rows: TokenRow[] = [];
  while (rows.length < limit) {
    const want = limit - rows.length;
    const members = await lexPage(connection, key, start, '+', want);
    const parsed = members.map(parseListMember);
    const read = await Promise.all(parsed.map((at) => (at ? readRow(connection, keys.row({ app, ...at })) : null)));
    const stale = new Set<string>();
    const junk: string[] = [];
    parsed.forEach((at, i) => {
      const row = read[i];
      if (row) rows.push(row);
      else if (at) stale.add(at.shop);
      else junk.push(members[i]!);
    });
    if (junk.length > 0) await connection.call('ZREM', key, ...junk);
    await Promise.all([...stale].map((shop) => reindex(connection, keys, app, shop)));
    if (members.length < want) break;
    start = `(${members.at(-1)}`;
  }
  return rows;
}

/**
 * A page of rows in (app, shop, kind, userId) bytewise order, of one app or of all.
 *
 * @example
 * const first = await listRows(connection, keys, { app: '', limit: 100 });
 */
export async function listRows(connection: RedisConnection, keys: RedisKeys, query: ListQuery): Promise<TokenRow[]> {
  const limit = checkLimit(query.limit);
  const { app, after } = query;
  if (app !== undefined && typeof app !== 'string') throw new TypeError('app must be a string');
  if (after !== undefined && [after.app, after.shop, after.kind, after.userId].some((p) => typeof p !== 'string')) {
    throw new TypeError('after must be a row key');
  }
  const startIn = (name: string) => (after !== undefined && after.app === name ? `(${listMember(after)}` : '-');
  if (app !== undefined) {
    if (after !== undefined && compareBytes(after.app, app) > 0) return [];
    return appRows(connection, keys, app, startIn(app), limit);
  }
  const rows: TokenRow[] = [];
  let appStart = after === undefined ? '-' : `[${after.app}`;
  while (rows.length < limit) {
    const apps = await lexPage(connection, keys.apps, appStart, '+', APPS_PER_PAGE);
    for (const name of apps) {
      rows.push(...(await appRows(connection, keys, name, startIn(name), limit - rows.length)));
      if (rows.length >= limit) break;
    }
    if (apps.length < APPS_PER_PAGE) break;
    appStart = `(${apps.at(-1)}`;
  }
  return rows;
}
