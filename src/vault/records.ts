/**
 * The vault's records: its rows in storage (keyed by its app), sealed and opened with the key ring.
 * Every write goes through here, and every write
 * - re-seals each sealed field under the current key (a value sealed by an older key is opened
 *   and sealed again, so retiring a key after writes never strands a row), and
 * - stores the plain numbers the vault computes for the storage's indexes (`renewAt`).
 * A sealed value whose key is gone is treated as absent where the row can do without it (the
 * previous refresh token): it can then never make a refresh loop on a value nobody can open.
 * Point reads of rows are coalesced per event-loop turn on stores that can read many keys at once.
 */

import { type BatchedReader, batchReads } from '../storage/read-batch.ts';
import { keyOf } from '../storage/row-codec.ts';
import type { DueIndex, DueQuery, TokenKey, TokenKind, TokenRow, TokenStorage } from '../storage/types.ts';
import { type KeyRing, type TokenField, tokenAad } from './keyring.ts';
import { renewAtOf } from './renewal.ts';

/** The sealed fields of a row and the AAD field each is bound to. */
const SEALED: readonly [
  keyof TokenRow & ('accessToken' | 'refreshToken' | 'previousRefreshToken' | 'user'),
  TokenField,
][] = [
  ['accessToken', 'access_token'],
  ['refreshToken', 'refresh_token'],
  ['previousRefreshToken', 'refresh_token'],
  ['user', 'user'],
];

/** How many rows a full listing reads per page. */
const PAGE = 500;

/** One app's rows in a storage, sealed with one key ring. */
export class Records {
  readonly storage: TokenStorage;
  readonly ring: KeyRing;
  /** The app (client id) the rows belong to; `''` for a single-app store. */
  readonly app: string;

  /** Point reads, coalesced per event-loop turn on stores that read many keys at once. */
  readonly #read: BatchedReader;

  constructor(storage: TokenStorage, ring: KeyRing, app: string) {
    this.storage = storage;
    this.ring = ring;
    this.app = app;
    this.#read = batchReads(storage);
  }

  /** The key of the shop's offline row, or of a user's online row. */
  key(shop: string, kind: TokenKind = 'offline', userId = ''): TokenKey {
    return { app: this.app, shop, kind, userId };
  }

  /** Sends the reads asked for and not yet sent, and waits for every read in flight (before a close). */
  drainReads(): Promise<void> {
    return this.#read.drain();
  }

  offline(shop: string): Promise<TokenRow | null> {
    return this.#read(this.key(shop));
  }

  online(shop: string, userId: string): Promise<TokenRow | null> {
    return this.#read(this.key(shop, 'online', userId));
  }

  /** Seals `value` as `field` of the record `key`. */
  seal(key: Pick<TokenKey, 'shop' | 'kind' | 'userId'>, field: TokenField, value: string): string {
    return this.ring.seal(value, this.#aad(key, field));
  }

  /** Opens `field` of `row`; throws ERR_DECRYPT when it cannot. */
  open(row: TokenRow, field: TokenField, sealed: string): string {
    return this.ring.open(sealed, this.#aad(row, field));
  }

  /** Opens `sealed`, or null when the key that sealed it is no longer in the ring. */
  openIfKeyKnown(row: TokenRow, field: TokenField, sealed: string): string | null {
    return this.ring.canOpen(sealed) ? this.open(row, field, sealed) : null;
  }

  /** Upserts `row` (re-sealed, `renewAt` computed); returns the row as stored. */
  async put(row: TokenRow): Promise<TokenRow> {
    const next = this.#prepare(row);
    await this.storage.put(next);
    return next;
  }

  /**
   * Writes `next` over `current` (a row as read) unless the stored row changed meanwhile: a
   * compare-and-set on its sealed refresh token, else on its sealed access token. Returns the row
   * as stored, or null when another writer was first.
   */
  async swap(current: TokenRow, next: TokenRow): Promise<TokenRow | null> {
    const expected =
      current.refreshToken !== null ? { refreshToken: current.refreshToken } : { accessToken: current.accessToken };
    const prepared = this.#prepare({
      ...next,
      app: current.app,
      shop: current.shop,
      kind: current.kind,
      userId: current.userId,
    });
    return (await this.storage.swap(keyOf(current), expected, prepared)) ? prepared : null;
  }

  markInstalled(shop: string, at: number): Promise<boolean> {
    return this.storage.markInstalled(this.app, shop, at);
  }

  deleteOnline(shop: string, userId: string): Promise<boolean> {
    return this.storage.deleteOnline(this.app, shop, userId);
  }

  deleteShop(shop: string): Promise<number> {
    return this.storage.deleteShop(this.app, shop);
  }

  /** A page of the app's due rows on `index`. */
  due(index: DueIndex, query: Omit<DueQuery, 'app'>): Promise<TokenRow[]> {
    return this.storage.due(index, { ...query, app: this.app });
  }

  /** Every row of the app, in order, read page by page. */
  async *all(): AsyncGenerator<TokenRow> {
    yield* this.#from(undefined, () => true);
  }

  /** Every row of one shop, in order: its offline row, then its users' online rows. */
  async *ofShop(shop: string): AsyncGenerator<TokenRow> {
    const offline = await this.storage.get({ app: this.app, shop, kind: 'offline', userId: '' });
    if (offline) yield offline;
    // Online rows sort right after the shop's offline key, whether or not that row exists.
    yield* this.#from({ app: this.app, shop, kind: 'offline', userId: '' }, (row) => row.shop === shop);
  }

  async *#from(start: TokenKey | undefined, within: (row: TokenRow) => boolean): AsyncGenerator<TokenRow> {
    let after = start;
    for (;;) {
      const page = await this.storage.list({ app: this.app, limit: PAGE, ...(after ? { after } : {}) });
      for (const row of page) {
        if (!within(row)) return;
        yield row;
      }
      if (page.length < PAGE) return;
      after = page.at(-1);
    }
  }

  /** `row` re-sealed under the current key where needed, with its index times computed. */
  #prepare(row: TokenRow): TokenRow {
    const next: TokenRow = { ...row, renewAt: renewAtOf(row) };
    for (const [name, field] of SEALED) {
      const sealed = next[name];
      if (sealed === null || this.ring.keyIdOf(sealed) === this.ring.currentKeyId) continue;
      if (!this.ring.canOpen(sealed)) {
        // Only the previous refresh token may be dropped; anything else unreadable is written as it is
        // (the reader marks the shop) rather than silently lost.
        if (name === 'previousRefreshToken') next.previousRefreshToken = null;
        continue;
      }
      next[name] = this.seal(row, field, this.open(row, field, sealed));
    }
    return next;
  }

  #aad(key: Pick<TokenKey, 'shop' | 'kind' | 'userId'> & { app?: string }, field: TokenField): string {
    return tokenAad({ app: this.app, shop: key.shop, kind: key.kind, userId: key.userId, field });
  }
}
