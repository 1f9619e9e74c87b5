/**
 * Whether an imported token replaces what shoptoken holds under the same key (a shop's offline
 * token, or one user's online token). The rule makes a rerun change nothing and never lets an
 * older token replace a newer one:
 *
 * - nothing held → **write**;
 * - the same access token → **unchanged** (a rerun);
 * - offline, the held token marked `needs_reauth` (Shopify refused it) → **write** (another token is worth trying);
 * - both expire → **write** only when the imported one expires later (it is newer), else **kept**;
 * - an expiring token (with a refresh token) over a non-expiring one → **write** (Shopify revokes the
 *   non-expiring token when it issues an expiring pair, so the pair is the newer);
 * - otherwise — a non-expiring token over an expiring one, or two different non-expiring tokens,
 *   whose age cannot be told — **kept**: what shoptoken holds wins.
 *
 * Tokens are compared by digest, so no plaintext is kept beyond the call.
 */

import { createHash } from 'node:crypto';

/** What is known of the token held under a key. */
export interface HeldToken {
  digest: string;
  expiresAt: number | null;
  /** Offline: it has a refresh token. */
  expiring: boolean;
  status: 'active' | 'needs_reauth';
}

export type Decision = 'write' | 'unchanged' | 'kept';

/** The SHA-256 of a token, hex: enough to tell two tokens apart without keeping either. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Decides for an imported token `next` against `held` (see the module's rule). */
export function decide(held: HeldToken | null, next: Omit<HeldToken, 'status'>): Decision {
  if (held === null) return 'write';
  if (held.digest === next.digest) return 'unchanged';
  if (held.status === 'needs_reauth') return 'write';
  if (held.expiresAt !== null && next.expiresAt !== null) return next.expiresAt > held.expiresAt ? 'write' : 'kept';
  if (held.expiresAt === null && next.expiring) return 'write';
  return 'kept';
}
