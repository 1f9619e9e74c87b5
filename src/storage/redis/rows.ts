/**
 * Token rows as Redis hashes whose fields are the codec's column names (numbers as decimal
 * strings, null as an absent field): reading, writing (put and compare-and-set in one script that
 * keeps `created_at` and `installed_at`), marking an install, and deleting — each followed by the
 * app's index update (see indexes.ts).
 */

import { checkKeyShape, keyOf, rowFromRecord, rowValues, TOKEN_COLUMNS, UPDATED_COLUMNS } from '../row-codec.ts';
import type { Expected, TokenKey, TokenRow } from '../types.ts';
import type { RedisConnection } from './connection.ts';
import { shopState, syncAfterWrite } from './indexes.ts';
import { parseRowTail, type RedisKeys, rowTail } from './keys.ts';
import { DELETE_ROW, DELETE_SHOP, MARK_INSTALLED, READ_ROW, runScript, WRITE_ROW } from './scripts.ts';

/** Columns set only when a row is created: its key, and what a write keeps (`created_at`, `installed_at`). */
const CREATED_COLUMNS = TOKEN_COLUMNS.filter((column) => !UPDATED_COLUMNS.includes(column));

const columnOf = (field: keyof TokenRow): string => TOKEN_COLUMNS.find((column) => column.field === field)!.column;

/** Refuses a key this layout cannot hold: an offline row has no user. */
export function checkKey(key: TokenKey): void {
  if (typeof key.app !== 'string' || typeof key.shop !== 'string' || typeof key.userId !== 'string') {
    throw new TypeError('app, shop and userId must be strings');
  }
  if (key.kind !== 'offline' && key.kind !== 'online') throw new TypeError("kind must be 'offline' or 'online'");
  if (key.kind === 'offline' && key.userId !== '') throw new TypeError("an offline row's userId must be ''");
}

/** Refuses a row whose values could not be read back (a fraction, a missing text). */
function checkRow(row: TokenRow): void {
  checkKeyShape(row);
  checkKey(row);
  for (const { field, type } of TOKEN_COLUMNS) {
    const value = row[field];
    if (value === null && type.endsWith('?')) continue;
    const integer = type.startsWith('integer');
    if (integer ? !Number.isSafeInteger(value) : typeof value !== 'string') {
      throw new TypeError(
        `${field} must be ${integer ? 'an integer' : 'a string'}${type.endsWith('?') ? ' or null' : ''}`,
      );
    }
  }
}

/** The row stored at `hash`, or null. */
export async function readRow(connection: RedisConnection, hash: string): Promise<TokenRow | null> {
  const reply = await runScript(connection, READ_ROW, [hash], []);
  if (reply === null) return null;
  const flat: unknown = JSON.parse(String(reply));
  if (!Array.isArray(flat) || flat.length % 2 !== 0) throw new Error('unexpected reply to a row read');
  const record: Record<string, unknown> = {};
  for (let i = 0; i < flat.length; i += 2) record[String(flat[i])] = flat[i + 1];
  return rowFromRecord(record);
}

/** The row of `key`, or null. */
export async function getRow(connection: RedisConnection, keys: RedisKeys, key: TokenKey): Promise<TokenRow | null> {
  if (key.kind === 'offline' && key.userId !== '') return null;
  checkKey(key);
  return readRow(connection, keys.row(key));
}

/**
 * Writes `row` (a put, or with `expected` a compare-and-set on that sealed value), keeping the
 * stored `created_at` and `installed_at`; true when it wrote.
 */
export async function writeRow(
  connection: RedisConnection,
  keys: RedisKeys,
  row: TokenRow,
  expected?: Expected,
): Promise<boolean> {
  checkRow(row);
  const compared = expected === undefined ? null : 'refreshToken' in expected ? 'refreshToken' : 'accessToken';
  const value = compared === null ? '' : (expected as Record<string, unknown>)[compared];
  if (typeof value !== 'string') throw new TypeError('the expected value must be a string');
  const set: string[] = [];
  const unset: string[] = [];
  const updated = rowValues(row, UPDATED_COLUMNS);
  UPDATED_COLUMNS.forEach(({ column }, i) => {
    const v = updated[i];
    if (v === null || v === undefined) unset.push(column);
    else set.push(column, String(v));
  });
  const created: string[] = [];
  const initial = rowValues(row, CREATED_COLUMNS);
  CREATED_COLUMNS.forEach(({ column }, i) => {
    const v = initial[i];
    if (v !== null && v !== undefined) created.push(column, String(v));
  });
  const shop = keys.shop(row.app, row.shop);
  const reply = await runScript(
    connection,
    WRITE_ROW,
    [keys.row(row), shop.rows, shop.version, shop.offline],
    [
      compared === null ? 'put' : 'swap',
      compared === null ? '' : columnOf(compared),
      value,
      rowTail(row.kind, row.userId),
      set.length / 2,
      ...set,
      unset.length,
      ...unset,
      created.length / 2,
      ...created,
    ],
  );
  if (!Array.isArray(reply) || reply[0] !== 1) return false;
  await syncAfterWrite(connection, keys, row.app, row.shop, shopState(reply, 1));
  return true;
}

/** Compare-and-set of the row of `key` (next's key is ignored). */
export function swapRow(
  connection: RedisConnection,
  keys: RedisKeys,
  key: TokenKey,
  expected: Expected,
  next: TokenRow,
): Promise<boolean> {
  checkKey(key);
  return writeRow(connection, keys, { ...next, ...keyOf(key) }, expected);
}

/** Sets `installed_at` of the offline row of (app, shop) when unset; true when the row exists. */
export async function markInstalled(
  connection: RedisConnection,
  keys: RedisKeys,
  app: string,
  shop: string,
  at: number,
): Promise<boolean> {
  if (!Number.isSafeInteger(at)) throw new TypeError('at must be an integer');
  const key: TokenKey = { app, shop, kind: 'offline', userId: '' };
  checkKey(key);
  return (await runScript(connection, MARK_INSTALLED, [keys.row(key)], [String(at)])) === 1;
}

/** Deletes one user's online row; true when there was one. */
export async function deleteOnline(
  connection: RedisConnection,
  keys: RedisKeys,
  app: string,
  shop: string,
  userId: string,
): Promise<boolean> {
  const key: TokenKey = { app, shop, kind: 'online', userId };
  checkKey(key);
  if (userId === '') return false;
  const { rows, version, offline } = keys.shop(app, shop);
  const reply = await runScript(
    connection,
    DELETE_ROW,
    [keys.row(key), rows, version, offline],
    [rowTail('online', userId)],
  );
  if (!Array.isArray(reply) || reply[0] !== 1) return false;
  await syncAfterWrite(connection, keys, app, shop, shopState(reply, 1));
  return true;
}

/** Deletes every row of (app, shop) through its row set (no scan); returns how many. */
export async function deleteShop(
  connection: RedisConnection,
  keys: RedisKeys,
  app: string,
  shop: string,
): Promise<number> {
  checkKey({ app, shop, kind: 'offline', userId: '' });
  const { rows, version, offline } = keys.shop(app, shop);
  for (let attempt = 0; attempt < 10; attempt++) {
    const tails = ((await connection.call('SMEMBERS', rows)) as unknown[]).map(String);
    const hashes = tails.flatMap((tail) => {
      const parsed = parseRowTail(tail);
      return parsed ? [keys.row({ app, shop, ...parsed })] : [];
    });
    const reply = await runScript(connection, DELETE_SHOP, [rows, version, offline, ...hashes], tails);
    if (!Array.isArray(reply)) break;
    if (reply[0] === -1) continue; // a row was added or removed meanwhile: read the set again
    if (reply[0] === 0) return 0;
    await syncAfterWrite(connection, keys, app, shop, shopState(reply, 1));
    return Number(reply[0]);
  }
  throw new Error('the rows of a shop kept changing while they were deleted');
}
