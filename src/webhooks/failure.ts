/** How a handler's failure is told (stored as `lastError`, in warnings): short, and never with a token. */

import { ShoptokenError } from '../errors.ts';

/** Shopify's access-token prefixes: a token in an error message is never stored. */
const TOKEN_LIKE = /\bshp[a-z]{2}_[A-Za-z0-9_-]+/g;

/** A short description of a failure for `lastError`: its code or name and message, tokens removed. */
export function describeFailure(error: unknown): string {
  const label = error instanceof ShoptokenError ? error.code : error instanceof Error ? error.name : typeof error;
  const message = error instanceof Error ? error.message : '';
  const text = message ? `${label}: ${message}` : label;
  return text.replace(TOKEN_LIKE, '[redacted]').slice(0, 200);
}
