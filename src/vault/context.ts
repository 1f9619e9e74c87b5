/**
 * What the vault's token jobs (refresh, client credentials, migration, the install claim) share:
 * the app's records, the clock, the app's credentials (filled in later by `connectApp` when the
 * vault was opened without them), the retry policy, the events, the app-credentials gate, the
 * per-shop holds and the cross-process coordinator. The vault builds one and hands it to each job.
 */

import type { AppCredentialsGate } from './app-credentials.ts';
import type { ShopCoordinator } from './coordinate.ts';
import type { VaultEmitter } from './events.ts';
import type { Records } from './records.ts';
import type { RefreshPolicy, ShopifyClient } from './refresh-options.ts';
import type { ShopHolds } from './shop-hold.ts';

export interface GrantContext {
  records: Records;
  now: () => number;
  /** The app's credentials and base URL; `null` until given (or connected by an install flow). */
  shopify: ShopifyClient | null;
  policy: RefreshPolicy;
  events: VaultEmitter;
  /** Whether Shopify accepts the app's credentials; holds requests while it does not. */
  gate: AppCredentialsGate;
  /** Shops held after an undocumented answer. */
  holds: ShopHolds;
  /** One job per shop at a time across processes. */
  coordinator: ShopCoordinator;
}
