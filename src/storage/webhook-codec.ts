/**
 * The webhook record, written once: its columns and the checked conversion from a flat record of
 * column values (a SQL row, a Redis hash) back to a {@link WebhookRecord}. Every backend builds its
 * statements from {@link WEBHOOK_COLUMNS} and reads through {@link webhookFromRecord}, so a driver
 * that hands back a BIGINT as a string or a corrupted value is caught here.
 */

import { ShoptokenError } from '../errors.ts';
import type { ColumnType, ColumnValue } from './row-codec.ts';
import type { WebhookRecord, WebhookState } from './webhook-types.ts';

/** One column of the webhook table. */
export interface WebhookColumn {
  field: keyof WebhookRecord;
  column: string;
  type: ColumnType;
}

/** Every column, key columns first. */
export const WEBHOOK_COLUMNS: readonly WebhookColumn[] = [
  { field: 'app', column: 'app', type: 'text' },
  { field: 'webhookId', column: 'webhook_id', type: 'text' },
  { field: 'shop', column: 'shop', type: 'text' },
  { field: 'topic', column: 'topic', type: 'text' },
  { field: 'delivery', column: 'delivery', type: 'text' },
  { field: 'state', column: 'state', type: 'text' },
  { field: 'attempts', column: 'attempts', type: 'integer' },
  { field: 'runAt', column: 'run_at', type: 'integer' },
  { field: 'owner', column: 'owner', type: 'text?' },
  { field: 'leaseUntil', column: 'lease_until', type: 'integer?' },
  { field: 'lastError', column: 'last_error', type: 'text?' },
  { field: 'receivedAt', column: 'received_at', type: 'integer' },
  { field: 'updatedAt', column: 'updated_at', type: 'integer' },
  { field: 'keepUntil', column: 'keep_until', type: 'integer' },
];

const STATES: readonly WebhookState[] = ['pending', 'done', 'dead'];

/** The values of every column of `record`, in {@link WEBHOOK_COLUMNS} order. */
export function webhookValues(record: WebhookRecord): ColumnValue[] {
  return WEBHOOK_COLUMNS.map(({ field }) => record[field] as ColumnValue);
}

function corrupt(column: string): ShoptokenError {
  return new ShoptokenError('ERR_STORAGE', `a stored webhook record has an invalid ${column}`);
}

/**
 * The record in a flat record keyed by column name (or, with `byField`, by field name). Throws
 * ERR_STORAGE naming the column for any value of the wrong type; never quotes a value.
 */
export function webhookFromRecord(flat: Record<string, unknown>, byField = false): WebhookRecord {
  const record: Record<string, unknown> = {};
  for (const { field, column, type } of WEBHOOK_COLUMNS) {
    const value = flat[byField ? field : column];
    if (value === null || value === undefined) {
      if (!type.endsWith('?')) throw corrupt(column);
      record[field] = null;
    } else if (type.startsWith('integer')) {
      const n =
        typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string' ? Number(value) : NaN;
      if (!Number.isSafeInteger(n)) throw corrupt(column);
      record[field] = n;
    } else if (typeof value === 'string') {
      record[field] = value;
    } else if (Buffer.isBuffer(value)) {
      record[field] = value.toString('utf8');
    } else {
      throw corrupt(column);
    }
  }
  if (!STATES.includes(record.state as WebhookState)) throw corrupt('state');
  return record as unknown as WebhookRecord;
}
