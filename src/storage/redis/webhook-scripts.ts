/**
 * The webhook inbox's Lua scripts: every mutation of an app's inbox is one script, so it is atomic
 * against every other claimant. Each script gets the app's index keys as KEYS (due, held, kept,
 * list, then the lists of pending, done and dead; see keys.ts) and, as ARGV[1] and ARGV[2], what
 * the keys of records and shop sets start with: it reaches a record or a shop set by appending an
 * id or a shop, a key in the slot of the same tag (Redis Cluster runs a script's commands on keys
 * of its slot). Column names come from the webhook codec, never spelled here; times arrive as
 * decimal strings (the caller's clock) and are compared as Lua numbers, exact for safe integers.
 */

import { WEBHOOK_COLUMNS } from '../webhook-codec.ts';
import type { WebhookRecord } from '../webhook-types.ts';
import { script } from './scripts.ts';

/** A column name as a Lua string literal. */
const col = (field: keyof WebhookRecord): string =>
  `'${WEBHOOK_COLUMNS.find((column) => column.field === field)!.column}'`;

/**
 * The names and helpers every inbox script starts with. `time_key` writes what keys.ts `timeKey`
 * does (the fixed-width hex of time + 2^53) in two exact 28-bit halves; a list member is that hex
 * followed by the id, so members compare bytewise as (received_at, id). `drop` deletes a record
 * and every index entry naming it; 1 when the record existed.
 */
const INBOX = `
local due, held, kept, all = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local listed = {pending = KEYS[5], done = KEYS[6], dead = KEYS[7]}
local function rkey(id) return ARGV[1] .. id end
local function skey(shop) return ARGV[2] .. shop end
local function time_key(stored)
  local t = tonumber(stored) or 0
  local high = math.floor(t / 268435456)
  return string.format('%07x%07x', high + 33554432, t - high * 268435456)
end
local function drop(id)
  local key = rkey(id)
  local r = redis.call('HMGET', key, ${col('state')}, ${col('receivedAt')}, ${col('shop')})
  redis.call('ZREM', due, id)
  redis.call('ZREM', held, id)
  redis.call('ZREM', kept, id)
  if not r[1] then return 0 end
  local member = time_key(r[2]) .. id
  redis.call('ZREM', all, member)
  if listed[r[1]] then redis.call('ZREM', listed[r[1]], member) end
  if r[3] then redis.call('SREM', skey(r[3]), id) end
  redis.call('DEL', key)
  return 1
end
`;

/**
 * add. ARGV: 3 id, 4 shop, 5 run_at, 6 received_at, then the record's column/value pairs (pending,
 * unclaimed; null columns left out). 0 when a record of the id is kept (pending, or keep_until
 * after received_at); else replaces it and returns 1.
 */
export const WEBHOOK_ADD = script(`${INBOX}
local id = ARGV[3]
local r = redis.call('HMGET', rkey(id), ${col('state')}, ${col('keepUntil')})
if r[1] and (r[1] == 'pending' or (tonumber(r[2]) or 0) > tonumber(ARGV[6])) then return 0 end
drop(id)
redis.call('HSET', rkey(id), unpack(ARGV, 7))
redis.call('ZADD', due, ARGV[5], id)
local member = time_key(ARGV[6]) .. id
redis.call('ZADD', all, 0, member)
redis.call('ZADD', listed.pending, 0, member)
redis.call('SADD', skey(ARGV[4]), id)
return 1
`);

/**
 * claim. ARGV: 3 owner, 4 now, 5 lease_until, 6 limit. Claims that ended by `now` go back to the due
 * index at their run_at first; then takes due records soonest first (ties by id: Redis orders equal
 * scores bytewise), skipping one whose claim another clock ended but ours has not. Returns the
 * claimed records as written (HGETALL replies), in that order.
 */
export const WEBHOOK_CLAIM = script(`${INBOX}
local now, limit = tonumber(ARGV[4]), tonumber(ARGV[6])
for _, id in ipairs(redis.call('ZRANGE', held, '-inf', ARGV[4], 'BYSCORE')) do
  redis.call('ZREM', held, id)
  local run_at = redis.call('HGET', rkey(id), ${col('runAt')})
  if run_at then redis.call('ZADD', due, run_at, id) end
end
local claimed, skipped = {}, 0
while #claimed < limit do
  local ids = redis.call('ZRANGE', due, '-inf', ARGV[4], 'BYSCORE', 'LIMIT', skipped, limit - #claimed)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local key = rkey(id)
    local r = redis.call('HMGET', key, ${col('state')}, ${col('leaseUntil')})
    if r[1] ~= 'pending' then
      redis.call('ZREM', due, id)
    elseif r[2] and tonumber(r[2]) > now then
      skipped = skipped + 1
    else
      redis.call('ZREM', due, id)
      redis.call('ZADD', held, ARGV[5], id)
      redis.call('HSET', key, ${col('owner')}, ARGV[3], ${col('leaseUntil')}, ARGV[5], ${col('updatedAt')}, ARGV[4])
      redis.call('HINCRBY', key, ${col('attempts')}, 1)
      claimed[#claimed + 1] = redis.call('HGETALL', key)
    end
  end
end
return claimed
`);

/** extend. ARGV: 3 id, 4 owner, 5 lease_until. 1 when the owner holds the claim (and it moved). */
export const WEBHOOK_EXTEND = script(`${INBOX}
local id = ARGV[3]
local r = redis.call('HMGET', rkey(id), ${col('state')}, ${col('owner')})
if r[1] ~= 'pending' or r[2] ~= ARGV[4] then return 0 end
redis.call('HSET', rkey(id), ${col('leaseUntil')}, ARGV[5])
redis.call('ZREM', due, id)
redis.call('ZADD', held, ARGV[5], id)
return 1
`);

/**
 * settle. ARGV: 3 id, 4 owner, 5 state, 6 run_at, 7 keep_until, 8 updated_at, [9 last_error]. 0,
 * writing nothing, unless the owner holds the claim; else ends it with the outcome and returns 1.
 */
export const WEBHOOK_SETTLE = script(`${INBOX}
local id = ARGV[3]
local key = rkey(id)
local r = redis.call('HMGET', key, ${col('state')}, ${col('owner')}, ${col('receivedAt')})
if r[1] ~= 'pending' or r[2] ~= ARGV[4] then return 0 end
redis.call('ZREM', held, id)
redis.call('ZREM', due, id)
redis.call('HDEL', key, ${col('owner')}, ${col('leaseUntil')}, ${col('lastError')})
redis.call('HSET', key, ${col('state')}, ARGV[5], ${col('runAt')}, ARGV[6], ${col('keepUntil')}, ARGV[7],
  ${col('updatedAt')}, ARGV[8])
if ARGV[9] then redis.call('HSET', key, ${col('lastError')}, ARGV[9]) end
if ARGV[5] == 'pending' then
  redis.call('ZADD', due, ARGV[6], id)
else
  local member = time_key(r[3]) .. id
  redis.call('ZREM', listed.pending, member)
  redis.call('ZADD', listed[ARGV[5]], 0, member)
  redis.call('ZADD', kept, ARGV[7], id)
end
return 1
`);

/** requeue. ARGV: 3 id, 4 now. 0 when there is no record or it is pending; else makes it pending again. */
export const WEBHOOK_REQUEUE = script(`${INBOX}
local id = ARGV[3]
local key = rkey(id)
local r = redis.call('HMGET', key, ${col('state')}, ${col('receivedAt')})
if not r[1] or r[1] == 'pending' then return 0 end
local member = time_key(r[2]) .. id
if listed[r[1]] then redis.call('ZREM', listed[r[1]], member) end
redis.call('ZADD', listed.pending, 0, member)
redis.call('ZREM', kept, id)
redis.call('ZREM', held, id)
redis.call('ZADD', due, ARGV[4], id)
redis.call('HDEL', key, ${col('owner')}, ${col('leaseUntil')}, ${col('lastError')})
redis.call('HSET', key, ${col('state')}, 'pending', ${col('attempts')}, 0, ${col('runAt')}, ARGV[4],
  ${col('updatedAt')}, ARGV[4])
return 1
`);

/**
 * deleteShop, one batch. ARGV: 3 shop, 4 the id to keep ('' for none), 5 batch size. Deletes up to
 * a batch of the shop's records but the one kept; returns `{deleted, ids left to delete}`.
 */
export const WEBHOOK_DELETE_SHOP = script(`${INBOX}
local set = skey(ARGV[3])
local keep = ARGV[4] ~= '' and redis.call('SREM', set, ARGV[4]) == 1
local deleted = 0
for _, id in ipairs(redis.call('SRANDMEMBER', set, ARGV[5])) do
  if redis.call('HGET', rkey(id), ${col('shop')}) == ARGV[3] then deleted = deleted + drop(id) end
  redis.call('SREM', set, id)
end
local left = redis.call('SCARD', set)
if keep then redis.call('SADD', set, ARGV[4]) end
return {deleted, left}
`);

/** purge of one app. ARGV: 3 now, 4 limit. Deletes up to `limit` records not pending with keep_until <= now. */
export const WEBHOOK_PURGE = script(`${INBOX}
local now, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
local deleted = 0
while deleted < limit do
  local ids = redis.call('ZRANGE', kept, '-inf', ARGV[3], 'BYSCORE', 'LIMIT', 0, limit - deleted)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local r = redis.call('HMGET', rkey(id), ${col('state')}, ${col('keepUntil')})
    if not r[1] or r[1] == 'pending' then
      redis.call('ZREM', kept, id)
    elseif (tonumber(r[2]) or 0) > now then
      redis.call('ZADD', kept, r[2], id)
    else
      deleted = deleted + drop(id)
    end
  end
end
return deleted
`);

/**
 * list, one page. KEYS: a listing. ARGV: 1 record key prefix, 2 the exclusive lex start ('-' for the
 * first page), 3 limit. The records (HGETALL replies) in (received_at, id) order.
 */
export const WEBHOOK_LIST = script(`
local page = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], ARGV[2], '+', 'BYLEX', 'LIMIT', 0, ARGV[3])) do
  local fields = redis.call('HGETALL', ARGV[1] .. string.sub(member, 15))
  if #fields > 0 then page[#page + 1] = fields end
end
return page
`);
