/**
 * Reading the values Shopify's session storages write, whatever the database and the version made
 * of them: times as epoch seconds (the SQL adapters' `expires`), epoch milliseconds (Redis, and
 * PostgreSQL's `refreshTokenExpires`), SQL dates (Prisma's `DateTime`, read as UTC) or ISO text;
 * booleans as `true`/`1`/`'1'`/`'true'`; user ids as numbers, bigints or digit strings.
 * Every reader returns `undefined` for a value it cannot read, and never quotes the value.
 */

/** Below this, an epoch number is in seconds (10^11 s is the year 5138; 10^11 ms is 1973). */
const SECONDS_LIMIT = 1e11;

const DIGITS = /^\d{1,20}$/;
/** A SQL date-time without a zone (`2026-10-01 12:00:00.000`), as MySQL and SQLite hold Prisma's UTC values. */
const SQL_DATETIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$/;

/**
 * An instant in epoch milliseconds; `null` for an absent value (null, undefined, `''`, 0 — the
 * adapters store no expiry that way); `undefined` when the value is not a time.
 */
export function readTime(value: unknown): number | null | undefined {
  if (value === null || value === undefined || value === '' || value === 0 || value === 0n) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  let n: number | undefined;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') n = Number(value);
  else if (typeof value === 'string') {
    const text = value.trim();
    if (/^-?\d+(\.\d+)?$/.test(text)) n = Number(text);
    else {
      const iso = SQL_DATETIME.test(text) ? `${text.replace(' ', 'T')}Z` : text;
      const ms = Date.parse(iso);
      return Number.isNaN(ms) ? undefined : ms;
    }
  }
  if (n === undefined || !Number.isFinite(n) || n < 0) return undefined;
  if (n === 0) return null;
  return Math.round(n < SECONDS_LIMIT ? n * 1000 : n);
}

/** A boolean as the adapters store it; `undefined` when it is not one. */
export function readBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 1n || value === '1') return true;
  if (value === 0 || value === 0n || value === '0') return false;
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (text === 'true') return true;
    if (text === 'false') return false;
  }
  return undefined;
}

/** A non-empty string, or `undefined`. */
export function readText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (Buffer.isBuffer(value)) return value.length > 0 ? value.toString('utf8') : undefined;
  return undefined;
}

/** A Shopify user id as a string of digits; `undefined` when the value is not one. */
export function readUserId(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? String(value) : undefined;
  if (typeof value === 'bigint') return value > 0n ? value.toString() : undefined;
  if (typeof value === 'string') {
    const text = value.trim();
    return DIGITS.test(text) && !/^0+$/.test(text) ? text.replace(/^0+/, '') : undefined;
  }
  return undefined;
}

/** Scope handles from a comma-separated string; `undefined` when one is not a handle. */
export function readScopes(value: unknown): string[] | undefined {
  if (value === null || value === undefined) return [];
  const text = readText(value);
  if (text === undefined) return typeof value === 'string' ? [] : undefined;
  const scopes = text
    .split(',')
    .map((scope) => scope.trim())
    .filter((scope) => scope.length > 0);
  return scopes.every((scope) => /^[^\s,]+$/.test(scope)) ? [...new Set(scopes)] : undefined;
}
