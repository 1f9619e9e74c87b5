/**
 * The Lua scripts, each touching the keys of one hash tag (one Redis Cluster slot), sent by SHA
 * (`EVALSHA`) with a fallback to `EVAL` when the server has not seen them (a restart, `SCRIPT
 * FLUSH`, another node). Column names come from the row codec, never spelled here.
 */

import { createHash } from 'node:crypto';
import { TOKEN_COLUMNS } from '../row-codec.ts';
import type { TokenRow } from '../types.ts';
import type { RedisConnection } from './connection.ts';
import { replyCode } from './errors.ts';

/** A script and its SHA-1. */
export interface Script {
  readonly lua: string;
  readonly sha: string;
}

/** A script of `lua`, with its SHA-1. */
export const script = (lua: string): Script => ({ lua, sha: createHash('sha1').update(lua).digest('hex') });

/** Runs `script` with `keys` and `args`, loading it when the server does not know it. */
export async function runScript(
  connection: RedisConnection,
  { lua, sha }: Script,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await connection.call('EVALSHA', sha, keys.length, ...keys, ...args);
  } catch (error) {
    // NOSCRIPT: nothing ran, so sending the source is safe.
    if (replyCode(error) !== 'NOSCRIPT') throw error;
    return connection.call('EVAL', lua, keys.length, ...keys, ...args);
  }
}

/** A column name as a Lua string literal. */
const col = (field: keyof TokenRow): string => `'${TOKEN_COLUMNS.find((column) => column.field === field)!.column}'`;

/** How long a deleted shop's version outlives its rows, so a recreated shop's versions keep rising. */
const TOMBSTONE_MS = 3_600_000;

/**
 * The state of one (app, shop) that the app's indexes mirror: `{version, access, refresh, renew,
 * row tails…}`, the times as stored ('' when the offline row is not on that index: the rule of
 * `dueTime`). The version rises with every write: max(server time in µs, last + 1).
 */
const SHOP_STATE = `
local function shop_state(rows_key, version_key, offline_key, bump)
  local stored = tonumber(redis.call('GET', version_key) or '0') or 0
  local version = stored
  if bump or stored == 0 then
    local now = redis.call('TIME')
    version = math.max(tonumber(now[1]) * 1000000 + tonumber(now[2]), stored + 1)
  end
  local tails = redis.call('SMEMBERS', rows_key)
  if version ~= stored then
    if #tails > 0 then
      redis.call('SET', version_key, string.format('%.0f', version))
    else
      redis.call('SET', version_key, string.format('%.0f', version), 'PX', ${TOMBSTONE_MS})
    end
  end
  local access, refresh, renew = '', '', ''
  local o = redis.call('HMGET', offline_key, ${col('status')}, ${col('refreshToken')}, ${col('expiresAt')},
    ${col('refreshTokenExpiresAt')}, ${col('renewAt')})
  if o[1] == 'active' then
    renew = o[5] or ''
    if o[2] then
      access = o[3] or ''
      refresh = o[4] or ''
    end
  end
  local state = {string.format('%.0f', version), access, refresh, renew}
  for _, tail in ipairs(tails) do state[#state + 1] = tail end
  return state
end
`;

/**
 * put and swap. KEYS: row, shop's row set, version, offline row. ARGV: mode (`put`/`swap`), the
 * compared column and its expected value, the row's tail, then three groups, each a count and its
 * items: columns to set (name, value), columns to delete (null), columns set only on a new row.
 * Returns `{0}` when a swap finds another value (or no row), else `{1, state…}`.
 */
export const WRITE_ROW = script(`${SHOP_STATE}
local exists = redis.call('EXISTS', KEYS[1]) == 1
if ARGV[1] == 'swap' and (not exists or redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[3]) then return {0} end
local i = 5
local set, del = {}, {}
for _ = 1, tonumber(ARGV[i]) do
  set[#set + 1] = ARGV[i + 1]
  set[#set + 1] = ARGV[i + 2]
  i = i + 2
end
i = i + 1
for _ = 1, tonumber(ARGV[i]) do
  del[#del + 1] = ARGV[i + 1]
  i = i + 1
end
i = i + 1
if not exists then
  for _ = 1, tonumber(ARGV[i]) do
    set[#set + 1] = ARGV[i + 1]
    set[#set + 1] = ARGV[i + 2]
    i = i + 2
  end
elseif #del > 0 then
  redis.call('HDEL', KEYS[1], unpack(del))
end
redis.call('HSET', KEYS[1], unpack(set))
redis.call('SADD', KEYS[2], ARGV[4])
local state = shop_state(KEYS[2], KEYS[3], KEYS[4], true)
table.insert(state, 1, 1)
return state
`);

/**
 * Reads a row. KEYS: its hash. Returns its fields and values flattened (as `HGETALL` gives them) in
 * one JSON string, or nil when there is no row. One bulk string rather than an array of 46: the
 * driver decodes an array reply element by element (measured with ioredis 6 on this row: 1.6–1.8×
 * the reads/s of a plain `HGETALL` with 16 callers, and a third less latency with one).
 */
export const READ_ROW = script(`
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then return false end
return cjson.encode(flat)
`);

/** markInstalled. KEYS: offline row. ARGV: the time. 1 when the row exists. */
export const MARK_INSTALLED = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSETNX', KEYS[1], ${col('installedAt')}, ARGV[1])
return 1
`);

/** deleteOnline. KEYS: row, row set, version, offline row. ARGV: the row's tail. `{0}` or `{1, state…}`. */
export const DELETE_ROW = script(`${SHOP_STATE}
if redis.call('DEL', KEYS[1]) == 0 then return {0} end
redis.call('SREM', KEYS[2], ARGV[1])
local state = shop_state(KEYS[2], KEYS[3], KEYS[4], true)
table.insert(state, 1, 1)
return state
`);

/**
 * deleteShop. KEYS: row set, version, offline row, then the rows' keys. ARGV: the row set as read.
 * `{-1}` when the set changed since (read again), `{0}` when empty, else `{deleted, state…}`.
 */
export const DELETE_SHOP = script(`${SHOP_STATE}
if redis.call('SCARD', KEYS[1]) ~= #ARGV then return {-1} end
for _, tail in ipairs(ARGV) do
  if redis.call('SISMEMBER', KEYS[1], tail) == 0 then return {-1} end
end
if #ARGV == 0 then return {0} end
local deleted = 0
if #KEYS > 3 then deleted = redis.call('DEL', unpack(KEYS, 4)) end
redis.call('DEL', KEYS[1])
local state = shop_state(KEYS[1], KEYS[2], KEYS[3], true)
table.insert(state, 1, deleted)
return state
`);

/** The current state of a shop, for repairing its index entries. KEYS: row set, version, offline row. */
export const READ_STATE = script(`${SHOP_STATE}
return shop_state(KEYS[1], KEYS[2], KEYS[3], false)
`);

/**
 * Brings an app's indexes to one shop's state, unless they already hold a newer version (writes of
 * one shop may reach the index slot out of order). KEYS: the app's shop states, due access, due
 * refresh, due renew, list. ARGV: shop, its list prefix, version, the three hex times ('' for none),
 * the list members. Returns `{applied, list size before, list size after}`.
 */
export const APPLY_INDEX = script(`
local shop, prefix, version = ARGV[1], ARGV[2], ARGV[3]
local old = {'-', '-', '-'}
local held = redis.call('HGET', KEYS[1], shop)
if held then
  local parts = {}
  for word in string.gmatch(held, '%S+') do parts[#parts + 1] = word end
  if tonumber(parts[1]) > tonumber(version) then
    local size = redis.call('ZCARD', KEYS[5])
    return {0, size, size}
  end
  old = {parts[2], parts[3], parts[4]}
end
local new, indexed = {}, false
for k = 1, 3 do
  new[k] = ARGV[3 + k]
  if new[k] == '' then new[k] = '-' else indexed = true end
  if old[k] ~= new[k] then
    if old[k] ~= '-' then redis.call('ZREM', KEYS[1 + k], old[k] .. shop) end
    if new[k] ~= '-' then redis.call('ZADD', KEYS[1 + k], 0, new[k] .. shop) end
  end
end
local before = redis.call('ZCARD', KEYS[5])
local wanted = {}
for j = 7, #ARGV do wanted[ARGV[j]] = true end
for _, member in ipairs(redis.call('ZRANGE', KEYS[5], '[' .. prefix, '[' .. prefix .. '\\255', 'BYLEX')) do
  if not wanted[member] then redis.call('ZREM', KEYS[5], member) end
end
for j = 7, #ARGV do redis.call('ZADD', KEYS[5], 0, ARGV[j]) end
if indexed or #ARGV >= 7 then
  redis.call('HSET', KEYS[1], shop, version .. ' ' .. new[1] .. ' ' .. new[2] .. ' ' .. new[3])
else
  redis.call('HDEL', KEYS[1], shop)
end
return {1, before, redis.call('ZCARD', KEYS[5])}
`);

/**
 * Drops a due entry found stale unless it is the one the shop's indexed state names (a repair first
 * brings that state up to date). KEYS: the app's shop states, the due index. ARGV: shop, the entry,
 * the index's position in the state (1 access, 2 refresh, 3 renew).
 */
export const DROP_DUE = script(`
local held = redis.call('HGET', KEYS[1], ARGV[1])
local time = '-'
if held then
  local parts = {}
  for word in string.gmatch(held, '%S+') do parts[#parts + 1] = word end
  time = parts[1 + tonumber(ARGV[3])] or '-'
end
if time .. ARGV[1] == ARGV[2] then return 0 end
return redis.call('ZREM', KEYS[2], ARGV[2])
`);

/** leases.acquire. KEYS: lease. ARGV: owner, ttl ms. 1 when the owner holds it afterwards. */
export const LEASE_ACQUIRE = script(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`);

/** leases.extend. KEYS: lease. ARGV: owner, ttl ms. */
export const LEASE_EXTEND = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

/** leases.release. KEYS: lease. ARGV: owner. */
export const LEASE_RELEASE = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`);
