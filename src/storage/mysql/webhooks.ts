/**
 * The webhook inbox on MySQL/MariaDB (`shoptoken_webhooks`, migration 2), shared by every instance:
 * - `add` is an INSERT, and only when the key is taken an UPDATE of every column conditional (in
 *   its WHERE, judged before any assignment) on the stored record no longer being kept. An
 *   `INSERT … ON DUPLICATE KEY UPDATE` cannot answer here: the pool's `FOUND_ROWS` flag makes an
 *   upsert that left a kept record alone report 1, as an insert does, and MySQL assigns its columns
 *   left to right, so a condition on `state` and `keep_until` would see its own earlier assignments;
 * - `claim` is one short transaction: `SELECT … FOR UPDATE SKIP LOCKED` of the due keys over the
 *   due index (concurrent claimants skip the rows another is taking, never wait for them), an UPDATE
 *   of those rows, and a read of them as written. Servers: MySQL 8.0.1+, MariaDB 10.6+;
 * - `extend`, `settle` and `requeue` are single UPDATEs whose WHERE says who may write; their
 *   answer is the matched-rows count, so a write of values equal to the stored ones still says true.
 * Times are the caller's (`now`), never the server's. Every value is read through the webhook codec.
 */

import { checkClaimLimit, compareDue } from '../memory-webhooks.ts';
import { type ColumnValue, checkLimit } from '../row-codec.ts';
import { WEBHOOK_COLUMNS, webhookFromRecord, webhookValues } from '../webhook-codec.ts';
import type { WebhookRecord, WebhookStorage } from '../webhook-types.ts';
import type { Db, Row, Session } from './connection.ts';
import { ER_DUP_ENTRY, errnoOf } from './errors.ts';

const ALL = WEBHOOK_COLUMNS.map(({ column }) => column).join(', ');
const KEY = 'app = ? AND webhook_id = ?';
const HELD = `${KEY} AND state = 'pending' AND owner = ?`;

const INSERT = `INSERT INTO shoptoken_webhooks (${ALL}) VALUES (${WEBHOOK_COLUMNS.map(() => '?').join(', ')})`;
/** Replaces every field but the key of a record that is no longer kept at the new `received_at`. */
const REPLACE = `UPDATE shoptoken_webhooks SET ${WEBHOOK_COLUMNS.slice(2)
  .map(({ column }) => `${column} = ?`)
  .join(', ')} WHERE ${KEY} AND state <> 'pending' AND keep_until <= ?`;
const EXTEND = `UPDATE shoptoken_webhooks SET lease_until = ? WHERE ${HELD}`;
const SETTLE = `UPDATE shoptoken_webhooks SET state = ?, run_at = ?, last_error = ?, keep_until = ?, updated_at = ?,
  owner = NULL, lease_until = NULL WHERE ${HELD}`;
const GET = `SELECT ${ALL} FROM shoptoken_webhooks WHERE ${KEY}`;
const REQUEUE = `UPDATE shoptoken_webhooks SET state = 'pending', attempts = 0, run_at = ?, updated_at = ?,
  last_error = NULL, owner = NULL, lease_until = NULL WHERE ${KEY} AND state <> 'pending'`;
const DELETE_SHOP = 'DELETE FROM shoptoken_webhooks WHERE app = ? AND shop = ? AND webhook_id <> ?';

/**
 * The locking read of a claim: an app's due keys in (run_at, webhook_id) order, read along the due
 * index (forced: a scan of the primary key would lock every record of the app), skipping the rows
 * another claim has locked. Exported so a test can EXPLAIN it.
 */
export const dueKeysSql = (limit: number): string =>
  `SELECT app, webhook_id FROM shoptoken_webhooks FORCE INDEX (shoptoken_webhooks_due)
   WHERE app = ? AND state = 'pending' AND run_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
   ORDER BY run_at, webhook_id LIMIT ${checkClaimLimit(limit)} FOR UPDATE SKIP LOCKED`;

/** `?, ?, …` for `ids`, padded to a power of two with the last id, so a few statement shapes serve every size. */
function inList(ids: readonly string[]): { places: string; values: string[] } {
  const size = 2 ** Math.ceil(Math.log2(ids.length));
  const values = Array.from({ length: size }, (_, i) => ids[Math.min(i, ids.length - 1)]!);
  return { places: values.map(() => '?').join(', '), values };
}

/** Runs `fn`, or returns `false` when the statement it runs finds the key taken (ER_DUP_ENTRY). */
async function unlessTaken(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (error) {
    if (errnoOf(error) === ER_DUP_ENTRY) return false;
    throw error;
  }
}

/** A VARBINARY value as text. */
const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value));

const recordsOf = (rows: readonly Row[]): WebhookRecord[] => rows.map((row) => webhookFromRecord(row));

/** Claims `ids` of `app` (locked by the caller's transaction) and reads them back as written. */
async function take(
  session: Session,
  app: string,
  ids: readonly string[],
  written: { owner: string; leaseUntil: number; now: number },
): Promise<WebhookRecord[]> {
  const { places, values } = inList(ids);
  // The primary key forced: on a small table the optimizer may scan the whole index instead, which
  // (repeatable read) locks every record of the table until the commit.
  await session.affected(
    `UPDATE shoptoken_webhooks FORCE INDEX (PRIMARY)
     SET owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
     WHERE app = ? AND webhook_id IN (${places})`,
    [written.owner, written.leaseUntil, written.now, app, ...values],
  );
  return recordsOf(
    await session.rows(`SELECT ${ALL} FROM shoptoken_webhooks WHERE app = ? AND webhook_id IN (${places})`, [
      app,
      ...values,
    ]),
  );
}

/** The webhook inbox of `db`. */
export function mysqlWebhooks(db: Db): WebhookStorage {
  return {
    async add(record) {
      const values = webhookValues({ ...record, state: 'pending', owner: null, leaseUntil: null });
      const replace = [...values.slice(2), record.app, record.webhookId, record.receivedAt];
      return db.session('store a webhook', async (session) => {
        if (await unlessTaken(() => session.affected(INSERT, values))) return true;
        if ((await session.affected(REPLACE, replace)) === 1) return true;
        // Kept — or forgotten (purged, redacted) since the INSERT, and then it is new again. An
        // INSERT that finds the key taken once more meets a record added since: pending, so kept.
        return unlessTaken(() => session.affected(INSERT, values));
      });
    },
    async claim({ app, owner, now, leaseMs, limit }) {
      const due = dueKeysSql(limit);
      const claimed = await db.transaction('claim webhooks', async (session) => {
        const keys = await session.rows(due, [app, now, now]);
        if (keys.length === 0) return [];
        const ids = keys.map((key) => text(key.webhook_id));
        return take(session, app, ids, { owner, leaseUntil: now + leaseMs, now });
      });
      return claimed.sort(compareDue);
    },
    async extend(key, owner, leaseUntil) {
      return (await db.affected('extend a webhook claim', EXTEND, [leaseUntil, key.app, key.webhookId, owner])) === 1;
    },
    async settle(key, owner, { state, runAt, lastError, keepUntil, now }) {
      const values = [state, runAt, lastError, keepUntil, now, key.app, key.webhookId, owner];
      return (await db.affected('settle a webhook', SETTLE, values)) === 1;
    },
    async get(key) {
      const [row] = await db.rows('read a webhook', GET, [key.app, key.webhookId]);
      return row ? webhookFromRecord(row) : null;
    },
    async list({ app, state, after, limit }) {
      const where = ['app = ?'];
      const values: ColumnValue[] = [app];
      if (state !== undefined) {
        where.push('state = ?');
        values.push(state);
      }
      if (after !== undefined) {
        // ORs, not a row-value comparison: an index range on MariaDB too.
        where.push('(received_at > ? OR (received_at = ? AND webhook_id > ?))');
        values.push(after.receivedAt, after.receivedAt, after.webhookId);
      }
      const sql = `SELECT ${ALL} FROM shoptoken_webhooks WHERE ${where.join(' AND ')}
        ORDER BY received_at, webhook_id LIMIT ${checkLimit(limit)}`;
      return recordsOf(await db.rows('list webhooks', sql, values));
    },
    async requeue(key, now) {
      return (await db.affected('replay a webhook', REQUEUE, [now, now, key.app, key.webhookId])) === 1;
    },
    async deleteShop(app, shop, exceptWebhookId) {
      // A webhook id is never empty, so '' excludes nothing.
      return db.affected('delete webhooks', DELETE_SHOP, [app, shop, exceptWebhookId ?? '']);
    },
    async purge(now, limit) {
      // In the retention index's order (ties by the primary key): the same rows on a replica.
      const sql = `DELETE FROM shoptoken_webhooks WHERE state IN ('done', 'dead') AND keep_until <= ?
        ORDER BY state, keep_until, app, webhook_id LIMIT ${checkLimit(limit)}`;
      return db.affected('purge webhooks', sql, [now]);
    },
  };
}
