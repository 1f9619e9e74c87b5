/**
 * The token vault: validates what the auth flow hands it, seals every token value (and the user
 * record) with the key ring, and writes rows through a {@link TokenStorage}. App code gets access
 * tokens and metadata back; refresh tokens never leave the vault.
 */

import { ConfigError } from '../errors.ts';
import { formatScopes, parseScopes } from '../protocol/scopes.ts';
import { isShopDomain } from '../protocol/shop.ts';
import type { AssociatedUser } from '../protocol/tokens.ts';
import type { TokenRow, TokenStorage } from '../storage/types.ts';
import { type Key, KeyRing, type TokenField, tokenAad } from './keyring.ts';
import type {
  OfflineToken,
  OfflineTokenInput,
  OnlineToken,
  OnlineTokenInput,
  TokenKind,
  TokenMetadata,
  TokenVault,
} from './types.ts';

/** How to open a vault. */
export interface VaultOptions {
  /** Where sealed rows live. */
  storage: TokenStorage;
  /** A key ring, or keys (current first). */
  keys: KeyRing | readonly Key[];
  /** Clock in epoch milliseconds; `Date.now` by default. */
  now?: () => number;
}

const USER_ID = /^\d{1,20}$/;
const SCOPE = /^[^\s,]+$/;

function isDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function scopeProblem(name: string, scopes: unknown): string[] {
  const ok = Array.isArray(scopes) && scopes.every((scope) => typeof scope === 'string' && SCOPE.test(scope));
  return ok ? [] : [`${name} must be an array of scope handles`];
}

/** Throws one TypeError naming every problem with a token input; never includes token values. */
function check(what: string, problems: string[]): void {
  if (problems.length > 0) throw new TypeError(`invalid ${what}: ${problems.join('; ')}`);
}

function checkShop(shop: unknown): asserts shop is string {
  check('shop', isShopDomain(shop) ? [] : ['must be a canonical shop domain ({name}.myshopify.com, lower case)']);
}

const time = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

/**
 * Puts the token value on `target` as a non-enumerable property: usable as `token.accessToken`,
 * but left out of `JSON.stringify`, `util.inspect` (so `console.log`) and object spread.
 */
function withAccessToken<T extends object>(target: T, accessToken: string): T & { accessToken: string } {
  return Object.defineProperty(target, 'accessToken', { value: accessToken, enumerable: false }) as T & {
    accessToken: string;
  };
}

function offlineToken(row: TokenRow, accessToken: string): OfflineToken {
  const metadata = rowMetadata(row) as TokenMetadata & { kind: 'offline'; userId: null };
  return withAccessToken(
    { ...metadata, expiring: row.refreshToken !== null, installedAt: time(row.installedAt) },
    accessToken,
  );
}

/**
 * The metadata of a stored row; reads no sealed value, so it needs no key (the CLI lists with it).
 *
 * @example
 * (await storage.list()).map(rowMetadata)
 */
export function rowMetadata(row: TokenRow): TokenMetadata {
  return {
    shop: row.shop,
    kind: row.kind,
    userId: row.kind === 'online' ? row.userId : null,
    scopes: parseScopes(row.scopes),
    associatedUserScopes: row.associatedUserScopes === null ? null : parseScopes(row.associatedUserScopes),
    expiresAt: time(row.expiresAt),
    refreshTokenExpiresAt: time(row.refreshTokenExpiresAt),
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
  };
}

/**
 * The {@link TokenVault} over a storage and a key ring.
 *
 * @example
 * const vault = openVault({ storage: createMemoryStorage(), keys: [{ id: 'k1', key: randomBytes(32) }] });
 * const token = await vault.offline('cool-shop.myshopify.com');
 */
export class Vault implements TokenVault {
  readonly #storage: TokenStorage;
  readonly #ring: KeyRing;
  readonly #now: () => number;

  /** Checks the options and reports every problem at once (ConfigError). */
  constructor(options: VaultOptions) {
    const problems: string[] = [];
    const storage = options?.storage;
    if (
      !storage ||
      !['get', 'put', 'list', 'close'].every((m) => typeof storage[m as keyof TokenStorage] === 'function')
    ) {
      problems.push('storage must be a TokenStorage (get, put, list, close)');
    }
    let ring: KeyRing | undefined;
    if (options?.keys instanceof KeyRing) {
      ring = options.keys;
    } else {
      try {
        ring = KeyRing.from(options?.keys ?? []);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        problems.push(...error.problems.map((problem) => `keys: ${problem}`));
      }
    }
    if (options?.now !== undefined && typeof options.now !== 'function') problems.push('now must be a function');
    if (problems.length > 0 || !ring) throw new ConfigError(problems);
    this.#storage = storage;
    this.#ring = ring;
    this.#now = options.now ?? Date.now;
  }

  async saveOffline(input: OfflineTokenInput): Promise<OfflineToken> {
    const { shop, accessToken, expiresAt, refreshToken, refreshTokenExpiresAt } = input;
    check('offline token', [
      ...(isShopDomain(shop) ? [] : ['shop must be a canonical shop domain']),
      ...(isNonEmptyString(accessToken) ? [] : ['accessToken must be a non-empty string']),
      ...scopeProblem('scopes', input.scopes),
      ...(expiresAt === null || isDate(expiresAt) ? [] : ['expiresAt must be a Date or null']),
      ...(refreshToken === null || isNonEmptyString(refreshToken)
        ? []
        : ['refreshToken must be a non-empty string or null']),
      ...(refreshToken !== null && expiresAt === null
        ? ['refreshToken is only for expiring tokens (set expiresAt)']
        : []),
      ...(refreshTokenExpiresAt === null || (isDate(refreshTokenExpiresAt) && refreshToken !== null)
        ? []
        : ['refreshTokenExpiresAt must be a Date with a refreshToken, else null']),
    ]);
    const row = await this.#write('offline', '', {
      shop,
      accessToken,
      refreshToken,
      user: null,
      scopes: input.scopes,
      associatedUserScopes: null,
      expiresAt: expiresAt?.getTime() ?? null,
      refreshTokenExpiresAt: refreshTokenExpiresAt?.getTime() ?? null,
    });
    return offlineToken(row, accessToken);
  }

  async saveOnline(input: OnlineTokenInput): Promise<OnlineToken> {
    const { shop, accessToken, expiresAt, user } = input;
    check('online token', [
      ...(isShopDomain(shop) ? [] : ['shop must be a canonical shop domain']),
      ...(isNonEmptyString(accessToken) ? [] : ['accessToken must be a non-empty string']),
      ...scopeProblem('scopes', input.scopes),
      ...scopeProblem('associatedUserScopes', input.associatedUserScopes),
      ...(isDate(expiresAt) ? [] : ['expiresAt must be a Date']),
      ...(typeof user === 'object' && user !== null && typeof user.id === 'string' && USER_ID.test(user.id)
        ? []
        : ['user.id must be a string of digits']),
    ]);
    const row = await this.#write('online', user.id, {
      shop,
      accessToken,
      refreshToken: null,
      user: JSON.stringify(user),
      scopes: input.scopes,
      associatedUserScopes: input.associatedUserScopes,
      expiresAt: expiresAt.getTime(),
      refreshTokenExpiresAt: null,
    });
    return this.#online(row, accessToken);
  }

  async offline(shop: string): Promise<OfflineToken | null> {
    checkShop(shop);
    const row = await this.#storage.get(shop, 'offline', '');
    if (!row) return null;
    return offlineToken(row, this.#open(row, 'access_token', row.accessToken));
  }

  async markInstalled(shop: string): Promise<void> {
    checkShop(shop);
    const row = await this.#storage.get(shop, 'offline', '');
    if (!row) throw new TypeError(`invalid install: ${shop} has no offline token`);
    if (row.installedAt === null) await this.#storage.put({ ...row, installedAt: this.#now() });
  }

  async online(shop: string, userId: string): Promise<OnlineToken | null> {
    checkShop(shop);
    check('userId', typeof userId === 'string' && USER_ID.test(userId) ? [] : ['must be a string of digits']);
    const row = await this.#storage.get(shop, 'online', userId);
    if (!row || row.expiresAt === null || this.#now() >= row.expiresAt) return null;
    return this.#online(row, this.#open(row, 'access_token', row.accessToken));
  }

  async list(): Promise<TokenMetadata[]> {
    return (await this.#storage.list()).map(rowMetadata);
  }

  async close(): Promise<void> {
    await this.#storage.close();
  }

  /** Seals the values and upserts the row, keeping `createdAt` of an existing record. */
  async #write(
    kind: TokenKind,
    userId: string,
    fields: {
      shop: string;
      accessToken: string;
      refreshToken: string | null;
      user: string | null;
      scopes: readonly string[];
      associatedUserScopes: readonly string[] | null;
      expiresAt: number | null;
      refreshTokenExpiresAt: number | null;
    },
  ): Promise<TokenRow> {
    const { shop } = fields;
    const seal = (field: TokenField, value: string) => this.#ring.seal(value, tokenAad({ shop, kind, userId, field }));
    const now = this.#now();
    const existing = await this.#storage.get(shop, kind, userId);
    const row: TokenRow = {
      shop,
      kind,
      userId,
      accessToken: seal('access_token', fields.accessToken),
      refreshToken: fields.refreshToken === null ? null : seal('refresh_token', fields.refreshToken),
      user: fields.user === null ? null : seal('user', fields.user),
      scopes: formatScopes(parseScopes(fields.scopes)),
      associatedUserScopes:
        fields.associatedUserScopes === null ? null : formatScopes(parseScopes(fields.associatedUserScopes)),
      expiresAt: fields.expiresAt,
      refreshTokenExpiresAt: fields.refreshTokenExpiresAt,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      // An install stays completed when its offline token is re-minted (expiry, new scopes).
      installedAt: kind === 'offline' ? (existing?.installedAt ?? null) : null,
    };
    await this.#storage.put(row);
    return row;
  }

  #open(row: TokenRow, field: TokenField, sealed: string): string {
    return this.#ring.open(sealed, tokenAad({ shop: row.shop, kind: row.kind, userId: row.userId, field }));
  }

  #online(row: TokenRow, accessToken: string): OnlineToken {
    const user = JSON.parse(this.#open(row, 'user', row.user ?? '')) as AssociatedUser;
    const metadata = rowMetadata(row) as TokenMetadata & {
      kind: 'online';
      userId: string;
      associatedUserScopes: string[];
    };
    return withAccessToken({ ...metadata, expiresAt: new Date(row.expiresAt!), user }, accessToken);
  }
}

/**
 * Opens a vault over `storage` with `keys` (current first). Throws ConfigError on bad options.
 *
 * @example
 * const vault = openVault({ storage: openSqliteStorage('.shoptoken/shoptoken.db'), keys: parseKeyList(env.SHOPTOKEN_KEYS!) });
 */
export function openVault(options: VaultOptions): Vault {
  return new Vault(options);
}
