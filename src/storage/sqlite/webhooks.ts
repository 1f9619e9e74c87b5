/**
 * The webhook inbox in the SQLite file. Every write is one statement, so it is atomic across the
 * processes sharing the file: a delivery is added with one conditional upsert (dedupe), and due
 * records are claimed with one `UPDATE … RETURNING` over the pending index (one claimant each, as
 * SQLite runs one writer at a time). Text compares bytewise (SQLite's BINARY collation).
 */

import type { DatabaseSync } from 'node:sqlite';
import { checkClaimLimit, compareDue } from '../memory-webhooks.ts';
import { checkLimit } from '../row-codec.ts';
import { WEBHOOK_COLUMNS, webhookFromRecord, webhookValues } from '../webhook-codec.ts';
import type { WebhookStorage } from '../webhook-types.ts';
import type { Guard } from './coordination.ts';

const ALL = WEBHOOK_COLUMNS.map(({ column }) => column).join(', ');
const PLACES = WEBHOOK_COLUMNS.map(() => '?').join(', ');
/** An added record replaces every field of one no longer kept. */
const REPLACE = WEBHOOK_COLUMNS.slice(2)
  .map(({ column }) => `${column} = excluded.${column}`)
  .join(', ');
const KEY = 'app = ? AND webhook_id = ?';
const HELD = `${KEY} AND state = 'pending' AND owner = ?`;

export function sqliteWebhooks(db: DatabaseSync, guard: Guard): WebhookStorage {
  const add = db.prepare(
    `INSERT INTO shoptoken_webhooks (${ALL}) VALUES (${PLACES})
     ON CONFLICT (app, webhook_id) DO UPDATE SET ${REPLACE}
     WHERE shoptoken_webhooks.state <> 'pending' AND shoptoken_webhooks.keep_until <= excluded.received_at`,
  );
  const claim = db.prepare(
    `UPDATE shoptoken_webhooks SET owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
     WHERE (app, webhook_id) IN (
       SELECT app, webhook_id FROM shoptoken_webhooks
       WHERE app = ? AND state = 'pending' AND run_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
       ORDER BY run_at, webhook_id LIMIT ?)
     RETURNING ${ALL}`,
  );
  const extend = db.prepare(`UPDATE shoptoken_webhooks SET lease_until = ? WHERE ${HELD}`);
  const settle = db.prepare(
    `UPDATE shoptoken_webhooks SET state = ?, run_at = ?, last_error = ?, keep_until = ?, updated_at = ?,
       owner = NULL, lease_until = NULL WHERE ${HELD}`,
  );
  const get = db.prepare(`SELECT ${ALL} FROM shoptoken_webhooks WHERE ${KEY}`);
  const order = 'ORDER BY received_at, webhook_id LIMIT ?';
  const after = '(received_at, webhook_id) > (?, ?)';
  const list = {
    all: db.prepare(`SELECT ${ALL} FROM shoptoken_webhooks WHERE app = ? ${order}`),
    after: db.prepare(`SELECT ${ALL} FROM shoptoken_webhooks WHERE app = ? AND ${after} ${order}`),
    state: db.prepare(`SELECT ${ALL} FROM shoptoken_webhooks WHERE app = ? AND state = ? ${order}`),
    stateAfter: db.prepare(`SELECT ${ALL} FROM shoptoken_webhooks WHERE app = ? AND state = ? AND ${after} ${order}`),
  };
  const requeue = db.prepare(
    `UPDATE shoptoken_webhooks SET state = 'pending', attempts = 0, run_at = ?, updated_at = ?, last_error = NULL,
       owner = NULL, lease_until = NULL WHERE ${KEY} AND state <> 'pending'`,
  );
  const deleteShop = db.prepare('DELETE FROM shoptoken_webhooks WHERE app = ? AND shop = ? AND webhook_id <> ?');
  const purge = db.prepare(
    `DELETE FROM shoptoken_webhooks WHERE rowid IN (
       SELECT rowid FROM shoptoken_webhooks WHERE state <> 'pending' AND keep_until <= ? LIMIT ?)`,
  );
  const records = (rows: unknown[]) => rows.map((row) => webhookFromRecord(row as Record<string, unknown>));

  return {
    async add(record) {
      const values = webhookValues({ ...record, state: 'pending', owner: null, leaseUntil: null });
      return guard('store a webhook', () => add.run(...values)).changes === 1;
    },
    async claim({ app, owner, now, leaseMs, limit }) {
      checkClaimLimit(limit);
      const rows = guard('claim webhooks', () => claim.all(owner, now + leaseMs, now, app, now, now, limit));
      return records(rows).sort(compareDue);
    },
    async extend(key, owner, leaseUntil) {
      return guard('extend a webhook claim', () => extend.run(leaseUntil, key.app, key.webhookId, owner)).changes === 1;
    },
    async settle(key, owner, { state, runAt, lastError, keepUntil, now }) {
      const values = [state, runAt, lastError, keepUntil, now, key.app, key.webhookId, owner];
      return guard('settle a webhook', () => settle.run(...values)).changes === 1;
    },
    async get(key) {
      const row = guard('read a webhook', () => get.get(key.app, key.webhookId));
      return row ? webhookFromRecord(row as Record<string, unknown>) : null;
    },
    async list({ app, state, after: cursor, limit }) {
      checkLimit(limit);
      const position = cursor ? [cursor.receivedAt, cursor.webhookId] : [];
      const statement = state === undefined ? (cursor ? list.after : list.all) : cursor ? list.stateAfter : list.state;
      const params = [app, ...(state === undefined ? [] : [state]), ...position, limit];
      return records(guard('list webhooks', () => statement.all(...params)));
    },
    async requeue(key, now) {
      return guard('replay a webhook', () => requeue.run(now, now, key.app, key.webhookId)).changes === 1;
    },
    async deleteShop(app, shop, exceptWebhookId) {
      // A webhook id is never empty, so '' excludes nothing.
      return Number(guard('delete webhooks', () => deleteShop.run(app, shop, exceptWebhookId ?? '')).changes);
    },
    async purge(now, limit) {
      checkLimit(limit);
      return Number(guard('purge webhooks', () => purge.run(now, limit)).changes);
    },
  };
}
