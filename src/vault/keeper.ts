/**
 * The background keeper: refreshes expiring offline tokens before the request path needs them, and
 * idle shops before their 90-day refresh token lapses, and renews client-credentials tokens before
 * their renewal time (80 % of the lifetime or 5 minutes before expiry). Each tick reads one page of
 * due rows through the storage's indexed scans (never the whole table), renews them through the
 * vault's single-flight `token()` with bounded concurrency, and spaces the starts so a crowd of due
 * shops is spread over time. A failure is counted and retried on a later tick; it never stops the loop.
 */

import { ConfigError, ShoptokenError } from '../errors.ts';
import { credentialsRenewalAt } from '../storage/renewal.ts';
import type { DueCursor, TokenRow, TokenStorage } from '../storage/types.ts';
import { isDuration } from './refresh-options.ts';
import type { OfflineToken } from './types.ts';

/** What the keeper works on; {@link Vault.keeper} passes its own storage, clock and `token()`. */
export interface KeeperTarget {
  storage: TokenStorage;
  now: () => number;
  /** The vault's `token()`: refreshes (single-flight) unless the token stays valid for `marginMs`. */
  token(shop: string, options: { marginMs: number }): Promise<OfflineToken>;
}

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
  refreshed: number;
  /** Refreshes that failed for now (retried on a later tick). */
  failed: number;
  /** Shops found to need re-authorization (the vault emits `needs_reauth`). */
  needsReauth: number;
  durationMs: number;
}

/** A running or stopped keeper. */
export interface Keeper {
  /** Starts ticking every `intervalMs`; does nothing if already started. */
  start(): void;
  /** Stops ticking; resolves when the current tick's refreshes have settled. */
  stop(): Promise<void>;
  /** Runs one tick now (one page of due rows) and reports what it did. */
  runOnce(): Promise<KeeperReport>;
}

function checkKeeperOptions(options: KeeperOptions) {
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

/** The cursor after the last row of a full page, or none (start over) after a short one. */
function nextCursor(page: TokenRow[], limit: number, at: (row: TokenRow) => number | null): DueCursor | undefined {
  const last = page.at(-1);
  return page.length === limit && last ? { at: at(last) as number, shop: last.shop } : undefined;
}

/**
 * Creates a keeper over `target` (usually through {@link Vault.keeper}). Throws ConfigError naming
 * every bad option.
 *
 * @example
 * const keeper = createKeeper({ storage, now: Date.now, token: (shop, o) => vault.token(shop, o) });
 * keeper.start();
 * process.on('SIGTERM', () => void keeper.stop());
 */
export function createKeeper(target: KeeperTarget, options: KeeperOptions = {}): Keeper {
  const settings = checkKeeperOptions(options);
  const now = options.now ?? target.now;
  const { storage } = target;
  let refreshCursor: DueCursor | undefined;
  let accessCursor: DueCursor | undefined;
  let credentialsCursor: DueCursor | undefined;
  let running = false;
  /** Set by `stop()`: the current tick starts no more refreshes. */
  let stopping = false;
  let timer: KeeperTimer | undefined;
  let tick: Promise<KeeperReport> | undefined;
  let wake: (() => void) | undefined;

  /** Waits `ms` on the injected timer; `stop()` cuts it short. */
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const handle = settings.setTimer(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        settings.clearTimer(handle);
        wake = undefined;
        resolve();
      };
    });

  const spacing = (): number => {
    const base = settings.intervalMs / 2 / settings.batchSize;
    return Math.floor(settings.jitter ? base * (0.5 + settings.random()) : base);
  };

  /**
   * One page: shops whose refresh token lapses soon first, then access tokens expiring soon, then
   * client-credentials tokens whose renewal comes soon.
   */
  async function duePage(at: number): Promise<TokenRow[]> {
    const refreshDue = await storage.dueOffline(at + settings.refreshTokenAheadMs, settings.batchSize, {
      by: 'refreshTokenExpiresAt',
      after: refreshCursor,
    });
    refreshCursor = nextCursor(refreshDue, settings.batchSize, (row) => row.refreshTokenExpiresAt);
    let room = settings.batchSize - refreshDue.length;
    if (room === 0 || settings.aheadMs === 0) return refreshDue;
    // Only tokens still valid: an expired one belongs to an idle shop, refreshed on its next request.
    const floor = { at, shop: '' };
    const from = accessCursor && accessCursor.at >= at ? accessCursor : floor;
    const accessDue = await storage.dueOffline(at + settings.aheadMs, room, { by: 'expiresAt', after: from });
    accessCursor = nextCursor(accessDue, room, (row) => row.expiresAt);
    const seen = new Set(refreshDue.map((row) => row.shop));
    const page = [...refreshDue, ...accessDue.filter((row) => !seen.has(row.shop))];
    room -= accessDue.length;
    if (room === 0) return page;
    // Only renewals still ahead: one already due (a missed or failed renewal) is left to the request path.
    const since = credentialsCursor && credentialsCursor.at >= at ? credentialsCursor : floor;
    const credentialsDue = await storage.dueCredentials(at + settings.aheadMs, room, { after: since });
    credentialsCursor = nextCursor(credentialsDue, room, credentialsRenewalAt);
    return [...page, ...credentialsDue];
  }

  /** Refreshes one due row; never rejects. */
  async function renew(row: TokenRow, report: KeeperReport): Promise<void> {
    const at = now();
    // Just past the expiry that was read: a refresh happens unless another caller already stored a newer pair.
    const marginMs = Math.max(0, (row.expiresAt ?? at) - at + 1);
    try {
      await target.token(row.shop, { marginMs });
      report.refreshed++;
    } catch (error) {
      if (error instanceof ShoptokenError && error.code === 'ERR_NEEDS_REAUTH') report.needsReauth++;
      else report.failed++;
    }
  }

  async function runTick(): Promise<KeeperReport> {
    const started = now();
    const report: KeeperReport = { scanned: 0, refreshed: 0, failed: 0, needsReauth: 0, durationMs: 0 };
    const rows = await duePage(started);
    report.scanned = rows.length;
    const inFlight = new Set<Promise<void>>();
    for (const [index, row] of rows.entries()) {
      if (index > 0 && !stopping) await pause(spacing());
      while (inFlight.size >= settings.concurrency) await Promise.race(inFlight);
      if (stopping) break;
      const run: Promise<void> = renew(row, report).finally(() => inFlight.delete(run));
      inFlight.add(run);
    }
    await Promise.all(inFlight);
    report.durationMs = Math.max(0, now() - started);
    return report;
  }

  /** One tick at a time: a tick asked for while another runs shares it. */
  function runOnce(): Promise<KeeperReport> {
    tick ??= runTick().finally(() => {
      tick = undefined;
    });
    return tick;
  }

  async function loop(): Promise<void> {
    timer = undefined;
    try {
      settings.onReport?.(await runOnce());
    } catch (error) {
      process.emitWarning(error instanceof Error ? error : String(error), {
        type: 'ShoptokenWarning',
        detail: 'a keeper tick failed; the next tick retries',
      });
    }
    // Scheduled once this tick has settled, so ticks never overlap.
    if (running) schedule(settings.intervalMs);
  }

  function schedule(ms: number): void {
    timer = settings.setTimer(() => void loop(), ms);
  }

  return {
    start() {
      if (running) return;
      running = true;
      stopping = false;
      schedule(settings.jitter ? Math.floor(settings.random() * settings.intervalMs) : 0);
    },
    async stop() {
      running = false;
      stopping = true;
      if (timer !== undefined) settings.clearTimer(timer);
      timer = undefined;
      wake?.();
      await tick?.catch(() => undefined);
      stopping = false;
    },
    runOnce,
  };
}
