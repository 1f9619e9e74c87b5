/**
 * The Redis key layout and the encodings inside it. Every key of one (app, shop) carries the hash
 * tag `{<app>:<shop>}` and every index key of one app the tag `{app:<app>}`, so each script touches
 * one Redis Cluster slot. Inside a tag, app and shop are percent-encoded (`encodeURIComponent`): the
 * encoded parts never contain `:`, `{` or `}`, so no two identities share a key and a tag ends where
 * it should. Sorted-set members are built so that Redis's bytewise member order is the contract's:
 * a list member is `part ␀␀ part ␀␀ part ␀␀` with each NUL inside a part written as `␀\x01`
 * (order-preserving and prefix-free), and a due member is a fixed-width hex time followed by the shop.
 * The webhook inbox of one app lives under the tag `{wh:<app>}` (see webhooks.ts); a record's key and
 * a shop's id set end with the raw webhook id or shop (the tag comes first, so they cannot move it).
 *
 * ```
 * <p>:t:{<A>:<S>}:offline        hash: the offline row (fields = the codec's column names)
 * <p>:t:{<A>:<S>}:online:<U>     hash: one user's online row
 * <p>:t:{<A>:<S>}:rows           set: the shop's rows (list-member tails), for deleteShop
 * <p>:t:{<A>:<S>}:v              string: the shop's write version (index updates apply in order)
 * <p>:app:{app:<A>}:rows         sorted set (lex): the app's rows, for list
 * <p>:app:{app:<A>}:due:<index>  sorted set (lex): hex time + shop, for due (access/refresh/renew)
 * <p>:app:{app:<A>}:shops        hash: shop → the version and due times the index holds
 * <p>:apps                       sorted set (lex): app ids with rows, for list across apps
 * <p>:wh:{wh:<A>}:r:<id>        hash: one webhook record (fields = the webhook codec's column names)
 * <p>:wh:{wh:<A>}:due            sorted set: pending, unclaimed records by run_at (member: the id)
 * <p>:wh:{wh:<A>}:held           sorted set: pending records under a claim by lease_until
 * <p>:wh:{wh:<A>}:kept           sorted set: records not pending by keep_until, for purge
 * <p>:wh:{wh:<A>}:list[:<state>] sorted set (lex): hex received_at + id, every record or one state's
 * <p>:wh:{wh:<A>}:shop:<S>       set: the ids of a shop's records, for deleteShop
 * <p>:wh:apps                    set: apps that ever had an inbox record, for purge across apps
 * <p>:lease:<key>                string with PX: a lease's owner
 * <p>:state:<state>              string with PX: `<expiresAt>:<value>` of a pending OAuth state
 * <p>:schema, <p>:migrate:lock   the applied layout version and the migration lock
 * ```
 */

import type { DueIndex, TokenKey, TokenKind } from '../types.ts';
import type { WebhookState } from '../webhook-types.ts';

/** Percent-encodes one identity part; a string that is not well-formed UTF-16 is refused. */
function encodePart(part: string): string {
  try {
    return encodeURIComponent(part);
  } catch {
    throw new TypeError('app, shop and userId must be well-formed strings');
  }
}

/** The keys of one app's webhook inbox, all in the slot of its tag. */
export interface WebhookKeys {
  /** The index keys every inbox script gets (KEYS), in order: due, held, kept, list, then one list per state. */
  readonly indexes: readonly string[];
  /** What a record's key starts with (the webhook id follows). */
  readonly record: string;
  /** What a shop's id set key starts with (the shop follows). */
  readonly shop: string;
  /** The listing of the records in `state`, or of every record. */
  list(state?: WebhookState): string;
}

/** The keys of one prefix. */
export interface RedisKeys {
  readonly prefix: string;
  /** The row hash of `key`. */
  row(key: TokenKey): string;
  /** The keys of the (app, shop) slot: its row set, version and offline row. */
  shop(app: string, shop: string): { rows: string; version: string; offline: string };
  /** The keys of the app's index slot. */
  app(app: string): { shops: string; list: string; due: Record<DueIndex, string> };
  readonly apps: string;
  /** The keys of the app's webhook inbox. */
  webhooks(app: string): WebhookKeys;
  /** The set of apps with an inbox. */
  readonly webhookApps: string;
  lease(key: string): string;
  state(state: string): string;
  readonly schema: string;
  readonly migrationLock: string;
}

/** The key layout under `prefix`. */
export function redisKeys(prefix: string): RedisKeys {
  const shopTag = (app: string, shop: string) => `${prefix}:t:{${encodePart(app)}:${encodePart(shop)}}`;
  const appTag = (app: string) => `${prefix}:app:{app:${encodePart(app)}}`;
  return {
    prefix,
    row: (key) =>
      key.kind === 'offline'
        ? `${shopTag(key.app, key.shop)}:offline`
        : `${shopTag(key.app, key.shop)}:online:${encodePart(key.userId)}`,
    shop: (app, shop) => ({
      rows: `${shopTag(app, shop)}:rows`,
      version: `${shopTag(app, shop)}:v`,
      offline: `${shopTag(app, shop)}:offline`,
    }),
    app: (app) => ({
      shops: `${appTag(app)}:shops`,
      list: `${appTag(app)}:rows`,
      due: {
        access: `${appTag(app)}:due:access`,
        refresh: `${appTag(app)}:due:refresh`,
        renew: `${appTag(app)}:due:renew`,
      },
    }),
    apps: `${prefix}:apps`,
    webhooks: (app) => {
      const tag = `${prefix}:wh:{wh:${encodePart(app)}}`;
      const list = (state?: WebhookState) => (state === undefined ? `${tag}:list` : `${tag}:list:${state}`);
      return {
        indexes: [`${tag}:due`, `${tag}:held`, `${tag}:kept`, list(), list('pending'), list('done'), list('dead')],
        record: `${tag}:r:`,
        shop: `${tag}:shop:`,
        list,
      };
    },
    webhookApps: `${prefix}:wh:apps`,
    lease: (key) => `${prefix}:lease:${key}`,
    state: (state) => `${prefix}:state:${state}`,
    schema: `${prefix}:schema`,
    migrationLock: `${prefix}:migrate:lock`,
  };
}

/** One part of a sorted-set member: NUL escaped as NUL 0x01, terminated by NUL NUL. */
const sortablePart = (part: string): string => `${part.replaceAll('\u0000', '\u0000\u0001')}\u0000\u0000`;

/** The tail of a list member (and the member of the shop's row set): kind and user. */
export const rowTail = (kind: TokenKind, userId: string): string => sortablePart(kind) + sortablePart(userId);

/** What a list member starts with for every row of `shop`. */
export const listShopPrefix = (shop: string): string => sortablePart(shop);

/** The list member of `key` (its app is the sorted set's). */
export const listMember = (key: TokenKey): string => listShopPrefix(key.shop) + rowTail(key.kind, key.userId);

/** The parts of a member built with {@link sortablePart}; null when it is not one. */
function sortableParts(member: string): string[] | null {
  const parts: string[] = [];
  let part = '';
  for (let i = 0; i < member.length; i++) {
    const char = member[i]!;
    if (char !== '\u0000') {
      part += char;
    } else if (member[++i] === '\u0001') {
      part += '\u0000';
    } else if (member[i] === '\u0000') {
      parts.push(part);
      part = '';
    } else {
      return null;
    }
  }
  return part === '' ? parts : null;
}

/** The (kind, userId) of a row-set member, or null for a member this layout never writes. */
export function parseRowTail(tail: string): { kind: TokenKind; userId: string } | null {
  const [kind, userId, ...rest] = sortableParts(tail) ?? [];
  if (userId === undefined || rest.length > 0 || (kind !== 'offline' && kind !== 'online')) return null;
  return { kind, userId };
}

/** The (shop, kind, userId) of a list member, or null for a member this layout never writes. */
export function parseListMember(member: string): { shop: string; kind: TokenKind; userId: string } | null {
  const [shop, kind, userId, ...rest] = sortableParts(member) ?? [];
  if (shop === undefined || userId === undefined || rest.length > 0) return null;
  if (kind !== 'offline' && kind !== 'online') return null;
  return { shop, kind, userId };
}

const OFFSET = 2n ** 53n;
const TIME_WIDTH = 14;

/**
 * The fixed-width, order-preserving hex of a time (any safe integer, negative ones too), the start
 * of a due member: members compare bytewise as (time, shop).
 */
export function timeKey(time: number): string {
  return (BigInt(time) + OFFSET).toString(16).padStart(TIME_WIDTH, '0');
}

/** The (time, shop) of a due member, or null for a member this layout never writes. */
export function parseDueMember(member: string): { time: number; shop: string } | null {
  const hex = member.slice(0, TIME_WIDTH);
  if (!/^[0-9a-f]{14}$/.test(hex)) return null;
  return { time: Number(BigInt(`0x${hex}`) - OFFSET), shop: member.slice(TIME_WIDTH) };
}
