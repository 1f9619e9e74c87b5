/**
 * The webhook inbox on Redis (the contract: storage/webhook-types.ts). Design: per app, under the
 * hash tag `{wh:<app>}` (one Redis Cluster slot), a hash per record whose fields are the webhook
 * codec's column names (null as an absent field), and sorted sets as indexes — pending unclaimed
 * records by run_at (`due`; equal scores order by member, bytewise, so ties go by id), pending
 * claimed records by lease_until (`held`), records not pending by keep_until (`kept`), lex listings
 * of every record and of each state (`hex received_at + id`), and a set of ids per shop. Every
 * mutation is one Lua script over that slot (webhook-scripts.ts), so it is atomic: two claims never
 * both take a record. A claimed record leaves `due` for `held`; a claim reaches `held` entries whose
 * lease ended by its `now` and puts them back at their run_at before it takes due records, so an
 * ended claim is taken over by the next claim.
 *
 * Why not Redis Streams with a consumer group: the contract runs on the caller's clock (`now`),
 * while a stream's pending entries age by the server's (XAUTOCLAIM's idle time); a stream has no
 * per-entry `runAt` for a retry later, no dedupe, no listing by state and no way to delete one
 * shop's entries without a scan — each would need these same keys beside it.
 *
 * `purge` spans apps, and an app's keys live in its own slot: `<p>:wh:apps` lists every app that
 * ever stored a record (added before the record is written, never removed — apps are the few
 * client ids of a deployment), and purge works through them one script per app until `limit`.
 */

import { checkClaimLimit } from '../memory-webhooks.ts';
import { checkLimit, compareBytes } from '../row-codec.ts';
import { WEBHOOK_COLUMNS, webhookFromRecord, webhookValues } from '../webhook-codec.ts';
import type { WebhookKey, WebhookRecord, WebhookState, WebhookStorage } from '../webhook-types.ts';
import type { RedisConnection } from './connection.ts';
import { type RedisKeys, timeKey } from './keys.ts';
import { runScript, type Script } from './scripts.ts';
import {
  WEBHOOK_ADD,
  WEBHOOK_CLAIM,
  WEBHOOK_DELETE_SHOP,
  WEBHOOK_EXTEND,
  WEBHOOK_LIST,
  WEBHOOK_PURGE,
  WEBHOOK_REQUEUE,
  WEBHOOK_SETTLE,
} from './webhook-scripts.ts';

const STATES: readonly WebhookState[] = ['pending', 'done', 'dead'];
/** How many of a shop's records one deleteShop script deletes. */
const DELETE_BATCH = 1000;

function checkString(name: string, value: unknown): void {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
}

function checkTime(name: string, value: unknown): void {
  if (!Number.isSafeInteger(value)) throw new TypeError(`${name} must be an integer`);
}

function checkState(state: unknown): void {
  if (!STATES.includes(state as WebhookState)) throw new TypeError("state must be 'pending', 'done' or 'dead'");
}

function checkKey(key: WebhookKey): void {
  checkString('app', key.app);
  checkString('webhookId', key.webhookId);
}

/** Refuses a record whose values could not be read back (a fraction, a missing text). */
function checkRecord(record: WebhookRecord): void {
  for (const { field, type } of WEBHOOK_COLUMNS) {
    const value = record[field];
    if (value === null && type.endsWith('?')) continue;
    if (type.startsWith('integer')) checkTime(field, value);
    else checkString(field, value);
  }
  checkState(record.state);
}

/** A record from an HGETALL reply (column names and values), or null for an empty one. */
function fromReply(reply: unknown): WebhookRecord | null {
  if (!Array.isArray(reply) || reply.length === 0) return null;
  const flat: Record<string, unknown> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) flat[String(reply[i])] = reply[i + 1];
  return webhookFromRecord(flat);
}

/** The records of a script's list of HGETALL replies. */
function fromReplies(reply: unknown): WebhookRecord[] {
  if (!Array.isArray(reply)) throw new Error('unexpected reply from a shoptoken script');
  return reply.map(fromReply).filter((record) => record !== null);
}

/**
 * The {@link WebhookStorage} of a Redis storage.
 *
 * @example
 * const webhooks = redisWebhooks(connection, redisKeys('shoptoken'));
 * const fresh = await webhooks.add(record);
 */
export function redisWebhooks(connection: RedisConnection, keys: RedisKeys): WebhookStorage {
  /** Runs an inbox script of `app`: its indexes as KEYS, its key prefixes then `args` as ARGV. */
  const inbox = (app: string, lua: Script, args: string[]): Promise<unknown> => {
    const { indexes, record, shop } = keys.webhooks(app);
    return runScript(connection, lua, indexes, [record, shop, ...args]);
  };
  const wrote = (reply: unknown): boolean => reply === 1;
  return {
    async add(record) {
      checkRecord(record);
      const values = webhookValues({ ...record, state: 'pending', owner: null, leaseUntil: null });
      const pairs = WEBHOOK_COLUMNS.flatMap(({ column }, i) =>
        values[i] === null || values[i] === undefined ? [] : [column, String(values[i])],
      );
      const { app, webhookId, shop, runAt, receivedAt } = record;
      return connection.run('store a webhook', async () => {
        // The app is listed before its record exists, so purge always finds it.
        await connection.call('SADD', keys.webhookApps, app);
        return wrote(await inbox(app, WEBHOOK_ADD, [webhookId, shop, String(runAt), String(receivedAt), ...pairs]));
      });
    },
    async claim({ app, owner, now, leaseMs, limit }) {
      checkClaimLimit(limit);
      checkString('app', app);
      checkString('owner', owner);
      checkTime('now', now);
      checkTime('leaseMs', leaseMs);
      checkTime('now + leaseMs', now + leaseMs);
      const args = [owner, String(now), String(now + leaseMs), String(limit)];
      return fromReplies(await connection.run('claim webhooks', () => inbox(app, WEBHOOK_CLAIM, args)));
    },
    async extend(key, owner, leaseUntil) {
      checkKey(key);
      checkString('owner', owner);
      checkTime('leaseUntil', leaseUntil);
      const args = [key.webhookId, owner, String(leaseUntil)];
      // A second run writes what the first did: safe to repeat on a lost connection.
      return wrote(await connection.run('extend a webhook claim', () => inbox(key.app, WEBHOOK_EXTEND, args), true));
    },
    async settle(key, owner, { state, runAt, lastError, keepUntil, now }) {
      checkKey(key);
      checkString('owner', owner);
      checkState(state);
      for (const [name, value] of Object.entries({ runAt, keepUntil, now })) checkTime(name, value);
      if (lastError !== null) checkString('lastError', lastError);
      const args = [key.webhookId, owner, state, String(runAt), String(keepUntil), String(now)];
      if (lastError !== null) args.push(lastError);
      return wrote(await connection.run('settle a webhook', () => inbox(key.app, WEBHOOK_SETTLE, args)));
    },
    async get(key) {
      checkKey(key);
      const hash = keys.webhooks(key.app).record + key.webhookId;
      return fromReply(await connection.run('read a webhook', () => connection.call('HGETALL', hash), true));
    },
    async list({ app, state, after, limit }) {
      checkLimit(limit);
      checkString('app', app);
      if (state !== undefined) checkState(state);
      if (after !== undefined) {
        checkTime('after.receivedAt', after.receivedAt);
        checkString('after.webhookId', after.webhookId);
      }
      const { list, record } = keys.webhooks(app);
      const start = after === undefined ? '-' : `(${timeKey(after.receivedAt)}${after.webhookId}`;
      const page = () => runScript(connection, WEBHOOK_LIST, [list(state)], [record, start, String(limit)]);
      return fromReplies(await connection.run('list webhooks', page, true));
    },
    async requeue(key, now) {
      checkKey(key);
      checkTime('now', now);
      return wrote(
        await connection.run('replay a webhook', () => inbox(key.app, WEBHOOK_REQUEUE, [key.webhookId, String(now)])),
      );
    },
    async deleteShop(app, shop, exceptWebhookId) {
      checkString('app', app);
      checkString('shop', shop);
      if (exceptWebhookId !== undefined) checkString('exceptWebhookId', exceptWebhookId);
      return connection.run('delete webhooks', async () => {
        let deleted = 0;
        for (;;) {
          const reply = await inbox(app, WEBHOOK_DELETE_SHOP, [shop, exceptWebhookId ?? '', String(DELETE_BATCH)]);
          const [count, left] = Array.isArray(reply) ? reply.map(Number) : [];
          if (!Number.isSafeInteger(count) || !Number.isSafeInteger(left)) {
            throw new Error('unexpected reply from a shoptoken script');
          }
          deleted += count!;
          if (left === 0) return deleted;
        }
      });
    },
    async purge(now, limit) {
      checkLimit(limit);
      checkTime('now', now);
      return connection.run('purge webhooks', async () => {
        const listed = await connection.call('SMEMBERS', keys.webhookApps);
        const apps = (Array.isArray(listed) ? listed.map(String) : []).sort(compareBytes);
        let deleted = 0;
        for (const app of apps) {
          if (deleted >= limit) break;
          deleted += Number(await inbox(app, WEBHOOK_PURGE, [String(now), String(limit - deleted)]));
        }
        return deleted;
      });
    },
  };
}
