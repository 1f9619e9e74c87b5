/**
 * The webhook inbox in memory: the reference implementation of the inbox contract
 * (storage/webhook-types.ts), for tests and short-lived processes. Records are copied on the way in
 * and out.
 */

import { checkLimit, compareBytes } from './row-codec.ts';
import type { WebhookKey, WebhookRecord, WebhookStorage } from './webhook-types.ts';

const recordKey = (key: WebhookKey): string => JSON.stringify([key.app, key.webhookId]);

/** True while `record` keeps its id from being delivered again at `now`. */
export function isKept(record: Pick<WebhookRecord, 'state' | 'keepUntil'>, now: number): boolean {
  return record.state === 'pending' || record.keepUntil > now;
}

/** Checks a claim's size (1 to 1,000); throws a TypeError otherwise. */
export function checkClaimLimit(limit: unknown): number {
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > 1000) {
    throw new TypeError('limit must be an integer from 1 to 1000');
  }
  return limit as number;
}

/** (runAt, webhookId): the order claims take due records in. */
export function compareDue(a: WebhookRecord, b: WebhookRecord): number {
  return a.runAt - b.runAt || compareBytes(a.webhookId, b.webhookId);
}

/** (receivedAt, webhookId): the order of listings. */
export function compareReceived(a: WebhookRecord, b: WebhookRecord): number {
  return a.receivedAt - b.receivedAt || compareBytes(a.webhookId, b.webhookId);
}

/** An in-memory inbox; `ensureOpen` throws once its storage is closed. */
export function memoryWebhooks(ensureOpen: () => void): WebhookStorage {
  const records = new Map<string, WebhookRecord>();
  const holds = (record: WebhookRecord | undefined, owner: string): record is WebhookRecord =>
    record !== undefined && record.state === 'pending' && record.owner === owner;
  return {
    async add(record) {
      ensureOpen();
      const existing = records.get(recordKey(record));
      if (existing && isKept(existing, record.receivedAt)) return false;
      records.set(recordKey(record), { ...record, state: 'pending', owner: null, leaseUntil: null });
      return true;
    },
    async claim({ app, owner, now, leaseMs, limit }) {
      checkClaimLimit(limit);
      ensureOpen();
      const due = [...records.values()]
        .filter((r) => r.app === app && r.state === 'pending' && r.runAt <= now)
        .filter((r) => r.leaseUntil === null || r.leaseUntil <= now)
        .sort(compareDue)
        .slice(0, limit);
      return due.map((record) => {
        Object.assign(record, { owner, leaseUntil: now + leaseMs, attempts: record.attempts + 1, updatedAt: now });
        return { ...record };
      });
    },
    async extend(key, owner, leaseUntil) {
      ensureOpen();
      const record = records.get(recordKey(key));
      if (!holds(record, owner)) return false;
      record.leaseUntil = leaseUntil;
      return true;
    },
    async settle(key, owner, outcome) {
      ensureOpen();
      const record = records.get(recordKey(key));
      if (!holds(record, owner)) return false;
      const { state, runAt, lastError, keepUntil, now } = outcome;
      Object.assign(record, { state, runAt, lastError, keepUntil, updatedAt: now, owner: null, leaseUntil: null });
      return true;
    },
    async get(key) {
      ensureOpen();
      const record = records.get(recordKey(key));
      return record ? { ...record } : null;
    },
    async list({ app, state, after, limit }) {
      checkLimit(limit);
      ensureOpen();
      return [...records.values()]
        .filter((r) => r.app === app && (state === undefined || r.state === state))
        .filter((r) => after === undefined || compareReceived(r, { ...r, ...after }) > 0)
        .sort(compareReceived)
        .slice(0, limit)
        .map((r) => ({ ...r }));
    },
    async requeue(key, now) {
      ensureOpen();
      const record = records.get(recordKey(key));
      if (!record || record.state === 'pending') return false;
      const reset = { state: 'pending', attempts: 0, runAt: now, updatedAt: now, lastError: null } as const;
      Object.assign(record, { ...reset, owner: null, leaseUntil: null });
      return true;
    },
    async deleteShop(app, shop, exceptWebhookId) {
      ensureOpen();
      let deleted = 0;
      for (const [key, r] of records) {
        if (r.app === app && r.shop === shop && r.webhookId !== exceptWebhookId && records.delete(key)) deleted++;
      }
      return deleted;
    },
    async purge(now, limit) {
      checkLimit(limit);
      ensureOpen();
      let deleted = 0;
      for (const [key, r] of records) {
        if (deleted >= limit) break;
        if (!isKept(r, now) && records.delete(key)) deleted++;
      }
      return deleted;
    },
  };
}
