/**
 * The keeper's options and its report: the options are checked when the keeper is created
 * (ConfigError names every bad one), and defaults filled in.
 */

import { ConfigError } from '../errors.ts';
import { isDuration } from './refresh-options.ts';

/** A timer handle as `setTimer` returns it. */
export type KeeperTimer = unknown;

/** How the keeper runs. */
export interface KeeperOptions {
  /** Time between the end of one tick and the start of the next; 60000 by default. */
  intervalMs?: number;
  /**
   * Access tokens still valid but expiring within this are renewed ahead, and client-credentials
   * tokens whose renewal time comes within this; 600000 (10 minutes) by default, 0 to leave renewal
   * to the request path. Tokens already expired (client credentials: already past their renewal
   * time) are left to the request path (an idle shop is only refreshed for its refresh token, see
   * `refreshTokenAheadMs`).
   */
  aheadMs?: number;
  /** Shops whose refresh token lapses within this are refreshed even when idle; 7 days by default. */
  refreshTokenAheadMs?: number;
  /** Refreshes in flight at once; 4 by default. */
  concurrency?: number;
  /** Due rows read (and refreshed) per tick at most; 100 by default. */
  batchSize?: number;
  /**
   * Randomize the first tick and the spacing between refresh starts (±50 %), so processes and shops
   * do not move in step; true by default. Without jitter a tick's starts are `intervalMs / 2 /
   * batchSize` apart.
   */
  jitter?: boolean;
  /** Clock in epoch ms; the vault's by default. */
  now?: () => number;
  /** Schedules `run` after `ms`; `setTimeout` by default (tests inject fake timers). */
  setTimer?: (run: () => void, ms: number) => KeeperTimer;
  /** Cancels a timer from `setTimer`; `clearTimeout` by default. */
  clearTimer?: (timer: KeeperTimer) => void;
  /** A number in [0, 1) for jitter; `Math.random` by default. */
  random?: () => number;
  /** Called with each report of a tick run by `start()`. */
  onReport?: (report: KeeperReport) => void;
}

/** What one tick did. Counts only; no shop names or token values. */
export interface KeeperReport {
  /** Due rows read. */
  scanned: number;
  /** Due rows this keeper renewed. */
  refreshed: number;
  /** Due rows left to another instance: its keeper was renewing them, or had just renewed them. */
  skipped: number;
  /** Refreshes that failed for now (retried on a later tick). */
  failed: number;
  /** Shops found to need re-authorization (the vault emits `needs_reauth`). */
  needsReauth: number;
  /** Shops held after an answer Shopify does not document (a 404): not asked again for a while. */
  deferred: number;
  /**
   * `app_credentials_rejected` when Shopify refuses the app's client id/secret: the tick refreshed
   * nothing but, at most, the vault's one probe; `null` otherwise.
   */
  paused: 'app_credentials_rejected' | null;
  durationMs: number;
}

/** Checks `options` and fills in the defaults; throws ConfigError naming every bad option. */
export function checkKeeperOptions(options: KeeperOptions) {
  const problems: string[] = [];
  const settings = {
    intervalMs: options.intervalMs ?? 60_000,
    aheadMs: options.aheadMs ?? 10 * 60_000,
    refreshTokenAheadMs: options.refreshTokenAheadMs ?? 7 * 24 * 3_600_000,
    concurrency: options.concurrency ?? 4,
    batchSize: options.batchSize ?? 100,
    jitter: options.jitter ?? true,
    setTimer: options.setTimer ?? ((run: () => void, ms: number) => setTimeout(run, ms)),
    clearTimer: options.clearTimer ?? ((timer: KeeperTimer) => clearTimeout(timer as NodeJS.Timeout)),
    random: options.random ?? Math.random,
    onReport: options.onReport,
  };
  if (!isDuration(settings.intervalMs) || settings.intervalMs === 0) {
    problems.push('intervalMs must be a number of milliseconds > 0');
  }
  for (const name of ['aheadMs', 'refreshTokenAheadMs'] as const) {
    if (!isDuration(settings[name])) problems.push(`${name} must be a number of milliseconds ≥ 0`);
  }
  for (const [name, max] of [
    ['concurrency', 100],
    ['batchSize', 10_000],
  ] as const) {
    const value = settings[name];
    if (!Number.isInteger(value) || value < 1 || value > max)
      problems.push(`${name} must be an integer from 1 to ${max}`);
  }
  if (typeof settings.jitter !== 'boolean') problems.push('jitter must be a boolean');
  for (const name of ['now', 'setTimer', 'clearTimer', 'random', 'onReport'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') problems.push(`${name} must be a function`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}
