/**
 * Driver errors as ERR_STORAGE: a value-free message (`redis storage could not <action>`), the
 * driver's error as a sanitized cause, and `retryable` for what a later attempt may not meet — a
 * lost connection, a timeout, a server loading or failing over — but not for script or permission
 * errors.
 */

import { ShoptokenError } from '../../errors.ts';

/** Server error replies that a later attempt may not get: loading, failover, cluster resharding. */
const RETRYABLE_REPLIES = new Set([
  'LOADING',
  'TRYAGAIN',
  'BUSY',
  'CLUSTERDOWN',
  'MASTERDOWN',
  'READONLY',
  'NOREPLICAS',
]);
const AUTH_REPLIES = new Set(['NOAUTH', 'WRONGPASS', 'NOPERM']);

/** The code of a server error reply (`ERR`, `NOSCRIPT`, `LOADING`, …), or null for a connection error. */
export function replyCode(error: unknown): string | null {
  const message = error instanceof Error ? error.message : '';
  return /^([A-Z][A-Z_]{1,30})(?: |$)/.exec(message)?.[1] ?? null;
}

/** A connection lost under a command (not a server's answer, not a timeout: the command may still run). */
export function lostConnection(error: unknown): boolean {
  return replyCode(error) === null && !(error instanceof Error && error.message.includes('timed out'));
}

/**
 * A copy of a driver error carrying only its name, code and message: ioredis attaches the command
 * and its arguments (sealed tokens, an AUTH password) to its errors, and a cause gets logged.
 */
export function sanitized(error: unknown): Error {
  if (!(error instanceof Error)) return new Error('a non-Error value was thrown');
  const copy = new Error(error.message);
  copy.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') Object.assign(copy, { code });
  return copy;
}

/**
 * The ERR_STORAGE for a driver error.
 *
 * @example
 * throw storageError('read a token row', error);
 */
export function storageError(action: string, error: unknown): ShoptokenError {
  const code = replyCode(error);
  const detail = code !== null && AUTH_REPLIES.has(code) ? ': the server refused the user name or password' : '';
  return new ShoptokenError('ERR_STORAGE', `redis storage could not ${action}${detail}`, {
    cause: sanitized(error),
    retryable: code === null || RETRYABLE_REPLIES.has(code),
  });
}
