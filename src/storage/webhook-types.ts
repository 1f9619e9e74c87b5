/**
 * The webhook inbox's storage contract: deliveries deduplicated by webhook id and kept in a durable
 * queue that any number of processes drain together. A delivery is written before Shopify gets its
 * 200, so a crash after the answer loses nothing; each record is run by one claimant at a time
 * (a claim is a lease with an end), and a claim that outlives its holder is taken over once it ends.
 * Rows hold a sealed delivery (the store never sees a payload in clear) and plain numbers the
 * caller computes: the store applies no retry or retention policy of its own.
 *
 * Rules every backend keeps (checked by `runStorageConformance` when the store has an inbox):
 * - **Dedupe.** `add` writes only when no record of the key is kept; a record is kept while it is
 *   pending, and otherwise until its `keepUntil`.
 * - **One claimant.** `claim` takes each pending record whose time has come and whose claim is
 *   free or ended, atomically: two concurrent claims never both get a record.
 * - **The holder settles.** `settle` and `extend` write only while `owner` still holds the claim.
 * - **Order.** Claims take the soonest `runAt` first (ties by webhook id, bytewise); `list` orders
 *   by (`receivedAt`, `webhookId`), the id bytewise.
 *
 * Times are the caller's clock, not the store's: an instance whose clock runs ahead may take over
 * a claim that has not really ended, and then a handler runs twice — never zero times (at least
 * once). A claim whose end has passed stays its holder's (`settle`, `extend`) until another
 * claimant takes it over.
 */

/** `pending`: to run (now or at `runAt`); `done`: its handler succeeded; `dead`: it failed every attempt. */
export type WebhookState = 'pending' | 'done' | 'dead';

/** What identifies a delivery: the app it was sent to and Shopify's webhook id. */
export interface WebhookKey {
  /** The app's client id; `''` for the one app of a single-app store. */
  app: string;
  /** `X-Shopify-Webhook-Id`: unique per delivery, kept by Shopify's retries; never empty. */
  webhookId: string;
}

/** One delivery in the inbox. Times are epoch milliseconds (integers). */
export interface WebhookRecord extends WebhookKey {
  /** Canonical shop domain. */
  shop: string;
  /** The topic, e.g. `app/uninstalled`. */
  topic: string;
  /** The sealed delivery (its fields and payload, as JSON). */
  delivery: string;
  state: WebhookState;
  /** How many runs were started: every claim counts one. */
  attempts: number;
  /** A pending record runs at or after this time. */
  runAt: number;
  /** The claimant running it, while a claim is held (or ended but not yet taken over); else `null`. */
  owner: string | null;
  /** When the claim ends; `null` with no claim. */
  leaseUntil: number | null;
  /** Why the last run failed, short and without values (an error code or name); `null` otherwise. */
  lastError: string | null;
  /** When the delivery was received. */
  receivedAt: number;
  updatedAt: number;
  /** When a record that is not pending may be forgotten (and a redelivery of its id is new again). */
  keepUntil: number;
}

/** How a claimant ends its run of a record. */
export interface WebhookOutcome {
  /** `pending` to run again at `runAt`, `done`, or `dead`. */
  state: WebhookState;
  runAt: number;
  lastError: string | null;
  keepUntil: number;
  /** The time of the write (`updatedAt`). */
  now: number;
}

/** A request for work: up to `limit` due records of `app`, claimed for `owner` until `now + leaseMs`. */
export interface WebhookClaim {
  app: string;
  owner: string;
  now: number;
  leaseMs: number;
  /** 1 to 1,000. */
  limit: number;
}

/** One page of a {@link WebhookStorage.list}. */
export interface WebhookListQuery {
  app: string;
  /** Only records in this state; every state when absent. */
  state?: WebhookState;
  /** Only records strictly after this (`receivedAt`, `webhookId`). */
  after?: { receivedAt: number; webhookId: string };
  /** 1 to 10,000. */
  limit: number;
}

/** The webhook inbox of a store. */
export interface WebhookStorage {
  /**
   * Stores `record` (pending, unclaimed) unless a record of its key is kept: pending, or with a
   * `keepUntil` after `record.receivedAt`. A record that is no longer kept is replaced. True when
   * it wrote; false for a duplicate. Atomic.
   */
  add(record: WebhookRecord): Promise<boolean>;
  /**
   * Claims due records: pending, `runAt <= now`, and no claim or an ended one (`leaseUntil <= now`),
   * soonest `runAt` first. Each claimed record gets `owner`, `leaseUntil = now + leaseMs`,
   * `attempts + 1` and `updatedAt = now`, and is returned as written. Atomic per record.
   */
  claim(query: WebhookClaim): Promise<WebhookRecord[]>;
  /** Moves the end of `owner`'s claim to `leaseUntil`; false when `owner` no longer holds it. */
  extend(key: WebhookKey, owner: string, leaseUntil: number): Promise<boolean>;
  /**
   * Ends `owner`'s claim with `outcome` (state, `runAt`, `lastError`, `keepUntil`, `updatedAt`) and
   * clears the claim; false, writing nothing, when `owner` no longer holds it (it ended and another
   * claimant took it over, or the record is gone).
   */
  settle(key: WebhookKey, owner: string, outcome: WebhookOutcome): Promise<boolean>;
  /** The record of `key`, or `null`. */
  get(key: WebhookKey): Promise<WebhookRecord | null>;
  /** A page of an app's records in (`receivedAt`, `webhookId`) order. */
  list(query: WebhookListQuery): Promise<WebhookRecord[]>;
  /**
   * Makes a `done` or `dead` record pending again (no claim, `attempts` 0, `runAt` and `updatedAt`
   * `now`, no error): a replay. False when there is no such record or it is pending.
   */
  requeue(key: WebhookKey, now: number): Promise<boolean>;
  /** Deletes every record of (app, shop) but the one of `exceptWebhookId` (a redaction); returns how many. */
  deleteShop(app: string, shop: string, exceptWebhookId?: string): Promise<number>;
  /** Deletes up to `limit` records (of any app) that are not pending and whose `keepUntil <= now`; returns how many. */
  purge(now: number, limit: number): Promise<number>;
}
