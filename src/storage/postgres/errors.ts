/**
 * Turning what the `pg` driver throws into shoptoken's one storage error: `ERR_STORAGE`, a message
 * naming the action (never a value, the URL or a password), `retryable` when repeating the call
 * later may work (the connection was lost or timed out, a deadlock, a serialization failure, the
 * server shutting down or out of connections) and not for errors the same call would meet again
 * (a constraint, a syntax error, a missing database, a refused password).
 */

import { ShoptokenError } from '../../errors.ts';

/** SQLSTATE classes (first two characters) that a later attempt may get through. */
const RETRYABLE_CLASSES = new Set([
  '08', // connection exception
  '53', // insufficient resources (too many connections, out of memory or disk)
  '57', // operator intervention: shutdown, crash, cannot connect now, query canceled (timeouts)
]);

/** Single SQLSTATEs that a later attempt may get through. */
const RETRYABLE_STATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '55006', // object_in_use
  '58000', // system_error
  '58030', // io_error
]);

/** Node's network errors (no SQLSTATE): the server could not be reached or went away. */
const RETRYABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'EAI_AGAIN',
  'ENOTCONN',
]);

/** What the driver says (in plain Errors without a code) when a connection is lost or times out. */
const LOST =
  /connection terminated|connection timeout|timeout expired|timeout exceeded|terminating connection|not queryable|read timeout/i;

/** The SQLSTATE (server errors) or errno code (network errors) of `error`. */
function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * True when `error` (from the driver) is worth a later retry.
 *
 * @example
 * isRetryable(Object.assign(new Error('deadlock detected'), { code: '40P01' })); // true
 */
export function isRetryable(error: unknown, depth = 0): boolean {
  const code = codeOf(error);
  if (code !== undefined && RETRYABLE_ERRNOS.has(code)) return true;
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code)) {
    return RETRYABLE_STATES.has(code) || RETRYABLE_CLASSES.has(code.slice(0, 2));
  }
  if (error instanceof Error && LOST.test(error.message)) return true;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return depth < 5 && cause !== undefined && isRetryable(cause, depth + 1);
}

/**
 * Fields of a driver error that can quote values: `detail` of a constraint violation holds the
 * failing row (sealed tokens included), `where` and `internalQuery` statement text, and `client`
 * (which the pool attaches to some errors) the connection settings. Removed from the error before
 * it becomes a `cause`.
 */
const VALUE_FIELDS = ['detail', 'where', 'internalQuery', 'internalPosition', 'position', 'client'] as const;

/**
 * The storage error for a failed `action` (`read a token row`, …): the driver's error as `cause`,
 * without the fields that can quote stored values.
 *
 * @example
 * throw storageError('write a token row', error);
 */
export function storageError(action: string, cause: unknown): ShoptokenError {
  if (cause instanceof ShoptokenError) return cause;
  if (cause !== null && typeof cause === 'object') {
    for (const field of VALUE_FIELDS) delete (cause as Record<string, unknown>)[field];
  }
  return new ShoptokenError('ERR_STORAGE', `postgres storage could not ${action}`, {
    cause,
    retryable: isRetryable(cause),
  });
}

/** The error of every call after `close()`. */
export function closedError(): ShoptokenError {
  return new ShoptokenError('ERR_STORAGE', 'the postgres storage is closed');
}
