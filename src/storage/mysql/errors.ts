/**
 * Turning what the `mysql2` driver throws into shoptoken's one storage error: `ERR_STORAGE`, a message
 * naming the action (never a value, the URL or a password), `retryable` when repeating the call
 * later may work (the connection was lost, refused or timed out, a deadlock, a lock wait timeout,
 * the server shutting down, out of connections or read-only during a failover) and not for errors
 * the same call would meet again (a constraint, a value too long, a syntax error, a missing
 * database, a refused password).
 */

import { ShoptokenError } from '../../errors.ts';

/** Server error numbers that a later attempt may get through. */
const RETRYABLE_ERRNOS = new Set([
  1040, // ER_CON_COUNT_ERROR: too many connections
  1053, // ER_SERVER_SHUTDOWN
  1077, // ER_NORMAL_SHUTDOWN
  1078, // ER_GOT_SIGNAL
  1079, // ER_SHUTDOWN_COMPLETE
  1080, // ER_FORCING_CLOSE
  1152, // ER_ABORTING_CONNECTION
  1158, // ER_NET_READ_ERROR (1158–1161: network reads and writes that failed or timed out)
  1159,
  1160,
  1161,
  1203, // ER_TOO_MANY_USER_CONNECTIONS
  1205, // ER_LOCK_WAIT_TIMEOUT
  1213, // ER_LOCK_DEADLOCK
  1290, // ER_OPTION_PREVENTS_STATEMENT (--read-only: a primary being failed over)
  1317, // ER_QUERY_INTERRUPTED
  1836, // ER_READ_ONLY_MODE
  1927, // MariaDB ER_CONNECTION_KILLED
  1969, // MariaDB ER_STATEMENT_TIMEOUT
  3024, // MySQL ER_QUERY_TIMEOUT (max_execution_time)
  4031, // MySQL ER_CLIENT_INTERACTION_TIMEOUT
]);

/** Network and protocol codes (no server errno): the server could not be reached or went away. */
const RETRYABLE_CODES = new Set([
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
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
]);

/** What mysql2 says (in plain Errors without a code) when a pooled connection died under a command. */
const LOST = /connection is in closed state|connection lost|server closed the connection/i;

/** The server's error number of a deadlock: the statement (or transaction) was rolled back whole. */
export const ER_LOCK_DEADLOCK = 1213;

/** The server's error number of an INSERT whose key is taken: nothing was written. */
export const ER_DUP_ENTRY = 1062;

interface DriverError {
  code?: unknown;
  errno?: unknown;
}

/** The server error number of `error`, if it has one. */
export function errnoOf(error: unknown): number | undefined {
  const errno = (error as DriverError | null)?.errno;
  return typeof errno === 'number' ? errno : undefined;
}

/**
 * True when `error` (from the driver) is worth a later retry.
 *
 * @example
 * isRetryable(Object.assign(new Error('Deadlock found'), { code: 'ER_LOCK_DEADLOCK', errno: 1213 })); // true
 */
export function isRetryable(error: unknown): boolean {
  const errno = errnoOf(error);
  if (errno !== undefined && RETRYABLE_ERRNOS.has(errno)) return true;
  const code = (error as DriverError | null)?.code;
  if (typeof code === 'string' && RETRYABLE_CODES.has(code)) return true;
  return error instanceof Error && LOST.test(error.message);
}

/**
 * The storage error for a failed `action` (`read a token row`, …): the driver's error as `cause`
 * (without `sql`, the statement text, in case a statement ever inlines a value), its code in the
 * message when it has one (`ER_LOCK_DEADLOCK`, `ECONNREFUSED`: names, never values).
 *
 * @example
 * throw storageError('write a token row', error);
 */
export function storageError(action: string, cause: unknown): ShoptokenError {
  if (cause instanceof ShoptokenError) return cause;
  if (cause !== null && typeof cause === 'object') delete (cause as Record<string, unknown>).sql;
  const code = (cause as DriverError | null)?.code;
  const named = typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(code) ? ` (${code})` : '';
  return new ShoptokenError('ERR_STORAGE', `mysql storage could not ${action}${named}`, {
    cause,
    retryable: isRetryable(cause),
  });
}

/** The error of every call after `close()`. */
export function closedError(): ShoptokenError {
  return new ShoptokenError('ERR_STORAGE', 'the mysql storage is closed');
}
