/**
 * Migrating a shop's non-expiring offline token to an expiring pair (shopify-protocol §3.3). The
 * exchange is irreversible at Shopify (the old token is revoked), so an intent record is written
 * on the row before the call and cleared by the compare-and-set that stores the pair. A row with an
 * intent still holds the old token: when the answer was lost or the process died, the next run
 * sends the same exchange again, and Shopify answers the same pair for 7 days. A refusal clears it.
 */

import { OAuthResponseError, ShoptokenError } from '../errors.ts';
import { migrateToExpiringToken } from '../protocol/migration.ts';
import type { ExpiringOfflineTokenResponse } from '../protocol/refresh.ts';
import type { TokenRow } from '../storage/types.ts';
import { type TokenField, tokenAad } from './keyring.ts';
import { backoffDelay, describeFailure, type RefresherContext, rowWithPair, tokenEndpoint } from './refresher.ts';

/** What a migration of one shop came to. */
export type MigrationStatus = 'migrated' | 'already_expiring' | 'failed';

/** The outcome of {@link Migrator.migrate} for one shop; never holds a token value. */
export interface MigrationResult {
  shop: string;
  status: MigrationStatus;
  /** Why it failed (`invalid_subject_token (HTTP 400)`, `ERR_TRANSPORT`, …); `null` unless `failed`. */
  reason: string | null;
}

/**
 * Where a shop's offline token stands: `non_expiring` (to migrate), `started` (an exchange was sent
 * and its pair not stored yet: to finish), `expiring` (nothing to do).
 */
export type MigrationState = 'non_expiring' | 'started' | 'expiring';

/** One offline token in a migration plan. */
export interface MigrationPlanEntry {
  shop: string;
  state: MigrationState;
}

/** Changes of the row while migrating that are retried before giving up. */
const PASSES = 3;

/** The migration state of an offline row. */
export function migrationState(row: TokenRow): MigrationState {
  // Client-credentials tokens expire (24 h) and are renewed by repeating their grant.
  if (row.refreshToken !== null || row.grant === 'client_credentials') return 'expiring';
  return row.migrationStartedAt === null ? 'non_expiring' : 'started';
}

const aad = (shop: string, field: TokenField): string => tokenAad({ shop, kind: 'offline', userId: '', field });

/** Migrates offline tokens for one vault; one migration per shop at a time in this process. */
export class Migrator {
  readonly #ctx: RefresherContext;
  readonly #inFlight = new Map<string, Promise<MigrationResult>>();

  constructor(context: RefresherContext) {
    this.#ctx = context;
  }

  /** Every offline token but custom apps' and its migration state, ordered by shop. Reads metadata only. */
  async plan(): Promise<MigrationPlanEntry[]> {
    const rows = await this.#ctx.storage.list();
    return rows
      .filter((row) => row.kind === 'offline' && row.grant !== 'custom')
      .map((row) => ({ shop: row.shop, state: migrationState(row) }));
  }

  /** Migrates the shop's offline token; concurrent calls for one shop share one run. */
  migrate(shop: string): Promise<MigrationResult> {
    const pending = this.#inFlight.get(shop);
    if (pending) return pending;
    const run = this.#run(shop).finally(() => this.#inFlight.delete(shop));
    this.#inFlight.set(shop, run);
    return run;
  }

  async #run(shop: string): Promise<MigrationResult> {
    const { storage, now } = this.#ctx;
    const result = (status: MigrationStatus, reason: string | null = null) => ({ shop, status, reason });
    for (let pass = 0; pass < PASSES; pass++) {
      let row = await storage.get(shop, 'offline', '');
      if (!row) return result('failed', 'no offline token is stored');
      if (row.grant === 'custom') return result('failed', 'a custom app’s token cannot be migrated (nor needs to be)');
      const state = migrationState(row);
      if (state === 'expiring') return result('already_expiring');
      if (state === 'non_expiring') {
        // The intent goes first: once the exchange is sent, the old token may be gone at Shopify.
        const intent: TokenRow = { ...row, migrationStartedAt: now(), updatedAt: now() };
        if (!(await storage.swapOfflineAccess(shop, { accessToken: row.accessToken }, intent))) continue;
        row = intent;
      }
      const sentAt = now();
      let pair: ExpiringOfflineTokenResponse;
      try {
        pair = await this.#exchange(row);
      } catch (error) {
        if (!(error instanceof ShoptokenError)) throw error;
        // The row keeps the old token. After a transient fault the intent stays too: the exchange
        // may have been applied, and a rerun sends it again. Shopify's OAuth refusal of this very
        // exchange means it holds no pair for it, so the intent is cleared (the token stays a candidate).
        if (error instanceof OAuthResponseError && !error.retryable) {
          const cleared = { ...row, migrationStartedAt: null, updatedAt: now() };
          await storage.swapOfflineAccess(shop, { accessToken: row.accessToken }, cleared);
        }
        return result('failed', describeFailure(error));
      }
      const next = this.#migratedRow(row, pair, sentAt);
      if (await storage.swapOfflineAccess(shop, { accessToken: row.accessToken }, next)) return result('migrated');
      // Another writer changed the row (another migrator stored this pair, or a new install): read it again.
    }
    return result('failed', 'the offline token kept changing during the migration');
  }

  /** The exchange, retried with backoff on transient faults (safe: a retry answers the same pair). */
  async #exchange(row: TokenRow): Promise<ExpiringOfflineTokenResponse> {
    const { ring, policy } = this.#ctx;
    const subject = ring.open(row.accessToken, aad(row.shop, 'access_token'));
    for (let attempt = 0; ; attempt++) {
      try {
        return await migrateToExpiringToken(tokenEndpoint(this.#ctx, row.shop), subject);
      } catch (error) {
        const transient = error instanceof ShoptokenError && error.retryable;
        if (!transient || attempt + 1 >= policy.attempts) throw error;
        await policy.sleep(backoffDelay(policy, attempt));
      }
    }
  }

  /** The row holding the new pair: a fresh refresh history, the intent cleared. */
  #migratedRow(row: TokenRow, pair: ExpiringOfflineTokenResponse, sentAt: number): TokenRow {
    return { ...rowWithPair(this.#ctx, row, pair, sentAt, null), migrationStartedAt: null };
  }
}
