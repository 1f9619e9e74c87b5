/**
 * The vault's side of the webhook inbox: the store's inbox (storage/webhook-types.ts) for the
 * vault's app, with every delivery sealed under the vault's keys — payloads carry customer data,
 * so they are encrypted at rest like tokens, each bound to its app and webhook id (a sealed value
 * copied to another record does not open). The webhooks module reaches the store only through this.
 */

import type { WebhookOutcome, WebhookRecord, WebhookState, WebhookStorage } from '../storage/webhook-types.ts';
import type { KeyRing } from './keyring.ts';

const AAD_PREFIX = 'shoptoken/v1/webhook';

/** A delivery as it is kept: its record and, opened, the JSON the caller sealed. */
export interface InboxEntry {
  record: WebhookRecord;
  /** The delivery's JSON, or `null` when no configured key opens it (a retired key). */
  delivery: string | null;
}

/** What a new delivery is made of. */
export interface InboxDelivery {
  webhookId: string;
  shop: string;
  topic: string;
  /** The delivery as JSON (sealed before it is stored). */
  json: string;
  receivedAt: number;
  keepUntil: number;
}

/** One app's inbox in the store. */
export class WebhookInbox {
  readonly #storage: WebhookStorage;
  readonly #ring: KeyRing;
  readonly app: string;

  constructor(storage: WebhookStorage, ring: KeyRing, app: string) {
    this.#storage = storage;
    this.#ring = ring;
    this.app = app;
  }

  #aad(webhookId: string): string {
    return [AAD_PREFIX, this.app, webhookId].join('\0');
  }

  #entry(record: WebhookRecord): InboxEntry {
    const aad = this.#aad(record.webhookId);
    const delivery = this.#ring.canOpen(record.delivery) ? this.#ring.open(record.delivery, aad) : null;
    return { record, delivery };
  }

  /** Stores a new delivery; false when its webhook id is a duplicate (see `WebhookStorage.add`). */
  add(delivery: InboxDelivery): Promise<boolean> {
    const { webhookId, shop, topic, receivedAt, keepUntil } = delivery;
    if (webhookId === '') throw new TypeError('a webhook id is never empty');
    return this.#storage.add({
      app: this.app,
      webhookId,
      shop,
      topic,
      delivery: this.#ring.seal(delivery.json, this.#aad(webhookId)),
      state: 'pending',
      attempts: 0,
      runAt: receivedAt,
      owner: null,
      leaseUntil: null,
      lastError: null,
      receivedAt,
      updatedAt: receivedAt,
      keepUntil,
    });
  }

  /** Claims up to `limit` due deliveries for `owner` until `now + leaseMs`, opened. */
  async claim(owner: string, now: number, leaseMs: number, limit: number): Promise<InboxEntry[]> {
    const records = await this.#storage.claim({ app: this.app, owner, now, leaseMs, limit });
    return records.map((record) => this.#entry(record));
  }

  extend(webhookId: string, owner: string, leaseUntil: number): Promise<boolean> {
    return this.#storage.extend({ app: this.app, webhookId }, owner, leaseUntil);
  }

  settle(webhookId: string, owner: string, outcome: WebhookOutcome): Promise<boolean> {
    return this.#storage.settle({ app: this.app, webhookId }, owner, outcome);
  }

  /** The delivery of `webhookId`, opened, or `null`. */
  async get(webhookId: string): Promise<InboxEntry | null> {
    const record = await this.#storage.get({ app: this.app, webhookId });
    return record ? this.#entry(record) : null;
  }

  /** A page of records (sealed deliveries stay sealed: a listing never opens a payload). */
  list(query: {
    state?: WebhookState;
    after?: { receivedAt: number; webhookId: string };
    limit: number;
  }): Promise<WebhookRecord[]> {
    return this.#storage.list({ app: this.app, ...query });
  }

  requeue(webhookId: string, now: number): Promise<boolean> {
    return this.#storage.requeue({ app: this.app, webhookId }, now);
  }

  deleteShop(shop: string, exceptWebhookId?: string): Promise<number> {
    return this.#storage.deleteShop(this.app, shop, exceptWebhookId);
  }

  purge(now: number, limit: number): Promise<number> {
    return this.#storage.purge(now, limit);
  }
}
