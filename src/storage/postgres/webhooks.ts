/**
 * The webhook inbox on PostgreSQL (`shoptoken_webhooks`), each call one statement on a pooled
 * connection with nothing kept in the session, so it holds across every instance sharing the
 * database and runs behind PgBouncer in transaction mode:
 * - add: one `INSERT … ON CONFLICT DO UPDATE … WHERE`: a record no longer kept is replaced, a kept
 *   one is left alone (dedupe); concurrent adds of one id queue on its row, so exactly one writes;
 * - claim: one `UPDATE … WHERE (app, webhook_id) IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`:
 *   each due record is locked by one claimant, which re-checks it on the newest row version
 *   (a record claimed meanwhile no longer qualifies) and skips those another claimant holds;
 * - extend, settle: an `UPDATE` conditional on the record being pending and held by `owner`.
 * Every time is the caller's (`now`), never the server's: the inbox's policy runs on the caller's
 * clock. Text compares bytewise (`COLLATE "C"`), so ties are broken in the contract's order.
 */

import { checkClaimLimit, compareDue } from '../memory-webhooks.ts';
import { checkLimit } from '../row-codec.ts';
import { WEBHOOK_COLUMNS, webhookFromRecord, webhookValues } from '../webhook-codec.ts';
import type { WebhookRecord, WebhookStorage } from '../webhook-types.ts';
import type { Db } from './connection.ts';
import { placeholders } from './rows.ts';

/** Every column, in codec order, for SELECT lists, INSERTs and RETURNING. */
const ALL = WEBHOOK_COLUMNS.map(({ column }) => column).join(', ');
/** An added record replaces every field but the key of one no longer kept. */
const REPLACE = WEBHOOK_COLUMNS.slice(2)
  .map(({ column }) => `${column} = EXCLUDED.${column}`)
  .join(', ');
const KEY = 'app = $1 AND webhook_id = $2';
/** The key ($1, $2) and the claim of owner $3. */
const HELD = `${KEY} AND state = 'pending' AND owner = $3`;

/** The records of a result, checked by the codec (BIGINT columns arrive as strings). */
const recordsOf = (rows: readonly Record<string, unknown>[]): WebhookRecord[] =>
  rows.map((row) => webhookFromRecord(row));

/**
 * The webhook inbox of `db`.
 *
 * @example
 * const webhooks = postgresWebhooks(db);
 * const due = await webhooks.claim({ app: '', owner: 'worker-1', now: Date.now(), leaseMs: 60_000, limit: 10 });
 */
export function postgresWebhooks(db: Db): WebhookStorage {
  const table = db.table('shoptoken_webhooks');
  const addText = `INSERT INTO ${table} AS existing (${ALL}) VALUES (${placeholders(WEBHOOK_COLUMNS.length)})
    ON CONFLICT (app, webhook_id) DO UPDATE SET ${REPLACE}
    WHERE existing.state <> 'pending' AND existing.keep_until <= EXCLUDED.received_at`;
  // $1 owner, $2 lease end, $3 now, $4 app, $5 limit. The subquery repeats the due index's
  // condition (state = 'pending') as a literal, so the planner reads the partial index in order.
  const claimText = `UPDATE ${table} SET owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
    WHERE (app, webhook_id) IN (
      SELECT app, webhook_id FROM ${table}
      WHERE app = $4 AND state = 'pending' AND run_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
      ORDER BY run_at, webhook_id LIMIT $5
      FOR UPDATE SKIP LOCKED)
    RETURNING ${ALL}`;
  const extendText = `UPDATE ${table} SET lease_until = $4 WHERE ${HELD}`;
  const settleText = `UPDATE ${table} SET state = $4, run_at = $5, last_error = $6, keep_until = $7,
    updated_at = $8, owner = NULL, lease_until = NULL WHERE ${HELD}`;
  const getText = `SELECT ${ALL} FROM ${table} WHERE ${KEY}`;
  const requeueText = `UPDATE ${table} SET state = 'pending', attempts = 0, run_at = $3, updated_at = $3,
    last_error = NULL, owner = NULL, lease_until = NULL WHERE ${KEY} AND state <> 'pending'`;
  // IS DISTINCT FROM a NULL keeps nothing back: every record of the shop goes.
  const deleteShopText = `DELETE FROM ${table} WHERE app = $1 AND shop = $2 AND webhook_id IS DISTINCT FROM $3::text`;
  // Found through the retention index and locked first: a record a concurrent add is replacing is
  // skipped, and one replaced meanwhile is re-checked on its newest version. The DELETE then joins
  // on the key alone (repeating the condition there would read every forgotten record to delete
  // `limit` of them).
  const purgeText = `DELETE FROM ${table} WHERE (app, webhook_id) IN (
      SELECT app, webhook_id FROM ${table} WHERE state <> 'pending' AND keep_until <= $1
      LIMIT $2 FOR UPDATE SKIP LOCKED)`;

  return {
    async add(record) {
      const values = webhookValues({ ...record, state: 'pending', owner: null, leaseUntil: null });
      const { rowCount } = await db.query('store a webhook', addText, values);
      return rowCount === 1;
    },
    async claim({ app, owner, now, leaseMs, limit }) {
      checkClaimLimit(limit);
      const { rows } = await db.query('claim webhooks', claimText, [owner, now + leaseMs, now, app, limit]);
      // RETURNING follows no ORDER BY: the claim's order is restored here.
      return recordsOf(rows).sort(compareDue);
    },
    async extend(key, owner, leaseUntil) {
      const values = [key.app, key.webhookId, owner, leaseUntil];
      return (await db.query('extend a webhook claim', extendText, values)).rowCount === 1;
    },
    async settle(key, owner, { state, runAt, lastError, keepUntil, now }) {
      const values = [key.app, key.webhookId, owner, state, runAt, lastError, keepUntil, now];
      return (await db.query('settle a webhook', settleText, values)).rowCount === 1;
    },
    async get(key) {
      const { rows } = await db.query('read a webhook', getText, [key.app, key.webhookId]);
      return rows[0] ? webhookFromRecord(rows[0]) : null;
    },
    async list({ app, state, after, limit }) {
      checkLimit(limit);
      const values: unknown[] = [app];
      let where = 'app = $1';
      if (state !== undefined) {
        values.push(state);
        where += ` AND state = $${values.length}`;
      }
      if (after !== undefined) {
        values.push(after.receivedAt, after.webhookId);
        where += ` AND (received_at, webhook_id) > ($${values.length - 1}, $${values.length})`;
      }
      values.push(limit);
      const text = `SELECT ${ALL} FROM ${table} WHERE ${where}
        ORDER BY received_at, webhook_id LIMIT $${values.length}`;
      return recordsOf((await db.query('list webhooks', text, values)).rows);
    },
    async requeue(key, now) {
      return (await db.query('replay a webhook', requeueText, [key.app, key.webhookId, now])).rowCount === 1;
    },
    async deleteShop(app, shop, exceptWebhookId) {
      const values = [app, shop, exceptWebhookId ?? null];
      return (await db.query('delete webhooks', deleteShopText, values)).rowCount;
    },
    async purge(now, limit) {
      checkLimit(limit);
      return (await db.query('purge webhooks', purgeText, [now, limit])).rowCount;
    },
  };
}
