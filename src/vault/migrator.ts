/**
 * Migrating a shop's non-expiring offline token to an expiring pair (shopify-protocol §3.3). The
 * exchange is irreversible at Shopify (the old token is revoked), so an intent record is written
 * on the row before the call and cleared by the compare-and-set that stores the pair. A row with an
 * intent still holds the old token: when the answer was lost or the process died, the next run
 * sends the same exchange again, and Shopify answers the same pair for 7 days. Failures are read by
 * `classifyTokenFailure`: `invalid_subject_token` (or `invalid_grant`) means the old token is dead,
 * so the shop is marked `needs_reauth` (after a re-read) and the intent cleared; an undocumented
 * answer, a malformed one or a transient fault keeps the intent and the token (rerun within the 7
 * days); the app's credentials refused marks nothing and sends nothing more (`not_attempted`).
 */

import { AppCredentialsError, type ShoptokenError } from '../errors.ts';
import { migrateToExpiringToken } from '../protocol/migration.ts';
import type { ExpiringOfflineTokenResponse } from '../protocol/refresh.ts';
import type { TokenRow } from '../storage/types.ts';
import type { GrantContext } from './context.ts';
import { backoffDelay, malformedError, rowWithPair } from './refresher.ts';
import { describeFailure, describeReason, markNeedsReauth, needsReauthError, needsReauthReason } from './row-marks.ts';
import { appCredentialsError, callTokenEndpoint, type TokenCall } from './token-call.ts';

/**
 * What a migration of one shop came to. `not_attempted`: no exchange was sent because Shopify
 * refuses the app's credentials (see `vault.appCredentials()`); the row is unchanged.
 */
export type MigrationStatus = 'migrated' | 'already_expiring' | 'failed' | 'not_attempted';

/** The reason of a `not_attempted` result. */
export const APP_CREDENTIALS_REJECTED = 'app credentials rejected';

/** The outcome of {@link Migrator.migrate} for one shop; never holds a token value. */
export interface MigrationResult {
  shop: string;
  status: MigrationStatus;
  /**
   * Why it failed (`invalid_subject_token (HTTP 400)`, `ERR_TRANSPORT`, …) or was not attempted
   * ({@link APP_CREDENTIALS_REJECTED}); `null` otherwise.
   */
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

/** A result, and the error `vault.token` throws for it when the migration did not finish. */
interface Outcome {
  result: MigrationResult;
  error: ShoptokenError | null;
}

/**
 * Migrates offline tokens for one vault; one migration per shop at a time, in this process and
 * across processes sharing the store.
 */
export class Migrator {
  readonly #ctx: GrantContext;

  constructor(context: GrantContext) {
    this.#ctx = context;
  }

  /** Every offline token but custom apps' and its migration state, ordered by shop. Reads metadata only. */
  async plan(): Promise<MigrationPlanEntry[]> {
    const plan: MigrationPlanEntry[] = [];
    for await (const row of this.#ctx.records.all()) {
      if (row.kind === 'offline' && row.grant !== 'custom') plan.push({ shop: row.shop, state: migrationState(row) });
    }
    return plan;
  }

  /** Migrates the shop's offline token; concurrent calls for one shop share one run. */
  async migrate(shop: string): Promise<MigrationResult> {
    return (await this.#single(shop)).result;
  }

  /**
   * For `vault.token`: finishes the shop's started migration. Resolves once the row holds the
   * expiring pair; throws why not (ERR_NEEDS_REAUTH when Shopify refused the token for good, the
   * retryable error of a fault or an undocumented answer, ERR_APP_CREDENTIALS).
   */
  async finish(shop: string): Promise<void> {
    const { result, error } = await this.#single(shop);
    if (result.status === 'migrated' || result.status === 'already_expiring') return;
    throw error ?? needsReauthError(shop, `a started migration to expiring tokens could not finish (${result.reason})`);
  }

  #single(shop: string): Promise<Outcome> {
    return this.#ctx.coordinator.run(
      'migration',
      shop,
      () => this.#run(shop),
      async () => null,
    );
  }

  async #run(shop: string): Promise<Outcome> {
    const { records, now, gate } = this.#ctx;
    const done = (status: MigrationStatus, reason: string | null = null, error: ShoptokenError | null = null) => ({
      result: { shop, status, reason },
      error,
    });
    for (let pass = 0; pass < PASSES; pass++) {
      let row = await records.offline(shop);
      if (!row) return done('failed', 'no offline token is stored');
      if (row.grant === 'custom') return done('failed', 'a custom app’s token cannot be migrated (nor needs to be)');
      const state = migrationState(row);
      if (state === 'expiring') return done('already_expiring');
      if (row.status === 'needs_reauth') return done('failed', 'the shop must authorize the app again (needs_reauth)');
      // Checked before the intent is written: nothing is sent while Shopify refuses the app's credentials.
      if (!gate.open()) {
        const error = new AppCredentialsError(gate.status().reason ?? APP_CREDENTIALS_REJECTED);
        return done('not_attempted', APP_CREDENTIALS_REJECTED, error);
      }
      const wroteIntent = state === 'non_expiring';
      if (wroteIntent) {
        // The intent goes first: once the exchange is sent, the old token may be gone at Shopify.
        const intent = await records.swap(row, { ...row, migrationStartedAt: now(), updatedAt: now() });
        if (!intent) continue;
        row = intent;
      }
      let exchange: { call: TokenCall<ExpiringOfflineTokenResponse>; uncertain: boolean };
      try {
        exchange = await this.#exchange(row);
      } catch (error) {
        if (!(error instanceof AppCredentialsError)) throw error;
        // Held by the gate (another caller took the probe): nothing was sent, so an intent written now goes.
        if (wroteIntent) await this.#clearIntent(row);
        return done('not_attempted', APP_CREDENTIALS_REJECTED, error);
      }
      const { call, uncertain } = exchange;
      if (call.ok) {
        const next = this.#migratedRow(row, call.value, call.sentAt);
        if (await records.swap(row, next)) return done('migrated');
        continue; // Another writer changed the row (another migrator stored this pair, or a new install): read it again.
      }
      const { failure, error } = call;
      const reason = describeFailure(error);
      if (failure.kind === 'shop_terminal') {
        // Shopify holds no pair for this token and will not take it: it is dead. Unless the row changed meanwhile.
        const latest = await records.offline(shop);
        if (latest?.accessToken !== row.accessToken || latest.refreshToken !== null) continue;
        const mark = needsReauthReason(failure);
        await markNeedsReauth(this.#ctx, { ...latest, migrationStartedAt: null }, mark);
        return done('failed', reason, needsReauthError(shop, describeReason(mark)));
      }
      if (failure.kind === 'app_credentials') {
        // Refused before Shopify looked at the token: an intent written by this run, with no answer
        // lost on the way, records nothing Shopify did, and would keep `vault.token` from serving the token.
        if (wroteIntent && !uncertain) await this.#clearIntent(row);
        return done('failed', reason, appCredentialsError(call));
      }
      // Transient, undocumented or malformed: the exchange may have been applied; the intent stays for a rerun.
      return done('failed', reason, failure.kind === 'malformed' ? malformedError(shop, error) : error);
    }
    return done('failed', 'the offline token kept changing during the migration');
  }

  /**
   * The exchange, retried with backoff on transient faults (safe: a retry answers the same pair).
   * `uncertain`: some attempt got no answer or a 5xx, so Shopify may have applied the exchange.
   */
  async #exchange(row: TokenRow): Promise<{ call: TokenCall<ExpiringOfflineTokenResponse>; uncertain: boolean }> {
    const { records, policy } = this.#ctx;
    const subject = records.open(row, 'access_token', row.accessToken);
    let uncertain = false;
    for (let attempt = 0; ; attempt++) {
      const call = await callTokenEndpoint(this.#ctx, row.shop, 'migration', (endpoint) =>
        migrateToExpiringToken(endpoint, subject),
      );
      if (call.ok || call.failure.kind !== 'transient' || attempt + 1 >= policy.attempts) return { call, uncertain };
      uncertain = true;
      await policy.sleep(backoffDelay(policy, attempt));
    }
  }

  /** Clears an intent this run wrote (compare-and-set on the token). */
  async #clearIntent(row: TokenRow): Promise<void> {
    await this.#ctx.records.swap(row, { ...row, migrationStartedAt: null, updatedAt: this.#ctx.now() });
  }

  /** The row holding the new pair: a fresh refresh history, the intent cleared. */
  #migratedRow(row: TokenRow, pair: ExpiringOfflineTokenResponse, sentAt: number): TokenRow {
    return { ...rowWithPair(this.#ctx, row, pair, sentAt, null), migrationStartedAt: null };
  }
}
