/**
 * The background keeper: refreshes expiring offline tokens before the request path needs them, and
 * idle shops before their 90-day refresh token lapses, and renews client-credentials tokens before
 * their renewal time (80 % of the lifetime or 5 minutes before expiry). Each tick reads one page of
 * due rows through the storage's indexed scans (never the whole table), renews them through the
 * vault's single-flight `token()` with bounded concurrency, and spaces the starts so a crowd of due
 * shops is spread over time. A failure is counted and retried on a later tick; it never stops the loop.
 * While Shopify refuses the app's credentials the keeper pauses: a tick sends at most the one probe
 * the vault lets through per interval, and the ticks resume refreshing once a grant succeeds.
 */

import { withLeaseIfFree } from '../coordination/lease.ts';
import { ShoptokenError } from '../errors.ts';
import type { DueCursor, DueIndex, DueQuery, LeaseStore, TokenRow } from '../storage/types.ts';
import type { AppCredentialsStatus } from './app-credentials.ts';
import { checkKeeperOptions, type KeeperOptions, type KeeperReport, type KeeperTimer } from './keeper-options.ts';
import type { OfflineToken } from './types.ts';

/** What the keeper works on; {@link Vault.keeper} passes its own due scans, leases, clock and `token()`. */
export interface KeeperTarget {
  /** A page of the app's due rows on `index` (`TokenStorage.due` for the vault's app). */
  due(index: DueIndex, query: Omit<DueQuery, 'app'>): Promise<TokenRow[]>;
  /**
   * The store's leases, the app, and a read of a shop's offline row: with them, a keeper renews a
   * shop only when no other instance's keeper is renewing it (`keeper:{app}:{shop}`), and only when
   * the row is still the one it read as due (another instance may have renewed it meanwhile), so
   * instances share the due rows instead of queueing.
   */
  claims?: { leases: LeaseStore; app: string; current(shop: string): Promise<TokenRow | null> };
  now: () => number;
  /** The vault's `token()`: refreshes (single-flight) unless the token stays valid for `marginMs`. */
  token(shop: string, options: { marginMs: number }): Promise<OfflineToken>;
  /** The vault's app-credentials state ({@link Vault.appCredentials}); always `ok` when absent. */
  appCredentials?: () => Pick<AppCredentialsStatus, 'status' | 'nextProbeAt'>;
}

export type { KeeperOptions, KeeperReport, KeeperTimer };

/** A running or stopped keeper. */
export interface Keeper {
  /** Starts ticking every `intervalMs`; does nothing if already started. */
  start(): void;
  /** Stops ticking; resolves when the current tick's refreshes have settled. */
  stop(): Promise<void>;
  /** Runs one tick now (one page of due rows) and reports what it did. */
  runOnce(): Promise<KeeperReport>;
}

/** How long a keeper's claim on one shop lasts without its heartbeat. */
const CLAIM_TTL_MS = 60_000;

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
 * const keeper = createKeeper({ due: (index, q) => storage.due(index, { ...q, app: '' }), now: Date.now, token: (shop, o) => vault.token(shop, o) });
 * keeper.start();
 * process.on('SIGTERM', () => void keeper.stop());
 */
export function createKeeper(target: KeeperTarget, options: KeeperOptions = {}): Keeper {
  const settings = checkKeeperOptions(options);
  const now = options.now ?? target.now;
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
    const refreshDue = await target.due('refresh', {
      before: at + settings.refreshTokenAheadMs,
      limit: settings.batchSize,
      ...(refreshCursor ? { after: refreshCursor } : {}),
    });
    refreshCursor = nextCursor(refreshDue, settings.batchSize, (row) => row.refreshTokenExpiresAt);
    let room = settings.batchSize - refreshDue.length;
    if (room === 0 || settings.aheadMs === 0) return refreshDue;
    // Only tokens still valid: an expired one belongs to an idle shop, refreshed on its next request.
    const floor = { at, shop: '' };
    const from = accessCursor && accessCursor.at >= at ? accessCursor : floor;
    const accessDue = await target.due('access', { before: at + settings.aheadMs, limit: room, after: from });
    accessCursor = nextCursor(accessDue, room, (row) => row.expiresAt);
    const seen = new Set(refreshDue.map((row) => row.shop));
    const page = [...refreshDue, ...accessDue.filter((row) => !seen.has(row.shop))];
    room -= accessDue.length;
    if (room === 0) return page;
    // Only renewals still ahead: one already due (a missed or failed renewal) is left to the request path.
    const since = credentialsCursor && credentialsCursor.at >= at ? credentialsCursor : floor;
    const credentialsDue = await target.due('renew', { before: at + settings.aheadMs, limit: room, after: since });
    credentialsCursor = nextCursor(credentialsDue, room, (row) => row.renewAt);
    return [...page, ...credentialsDue];
  }

  /** Refreshes one due row; never rejects. */
  async function renew(row: TokenRow, report: KeeperReport): Promise<void> {
    const at = now();
    // Just past the expiry that was read: a refresh happens unless another caller already stored a newer pair.
    const marginMs = Math.max(0, (row.expiresAt ?? at) - at + 1);
    try {
      const { claims } = target;
      if (!claims) await target.token(row.shop, { marginMs });
      else {
        // Another instance's keeper is on it, or was and stored a newer row: leave the shop to it.
        const claim = await withLeaseIfFree(
          claims.leases,
          `keeper:${claims.app}:${row.shop}`,
          async () => {
            const latest = await claims.current(row.shop);
            // Any write since the page was read (a renewal seals a new access token) leaves it to the next tick.
            if (latest?.accessToken !== row.accessToken || latest.updatedAt !== row.updatedAt) return false;
            await target.token(row.shop, { marginMs });
            return true;
          },
          { ttlMs: CLAIM_TTL_MS },
        );
        if (!claim.ran || !claim.value) {
          report.skipped++;
          return;
        }
      }
      report.refreshed++;
    } catch (error) {
      const code = error instanceof ShoptokenError ? error.code : null;
      if (code === 'ERR_NEEDS_REAUTH') report.needsReauth++;
      else if (code === 'ERR_REFRESH_DEFERRED') report.deferred++;
      else report.failed++;
    }
  }

  const credentials = () => target.appCredentials?.() ?? { status: 'ok' as const, nextProbeAt: null };

  /** Ends a paused tick: the rest of the page is read again from the start once the keeper resumes. */
  function paused(report: KeeperReport): KeeperReport {
    report.paused = 'app_credentials_rejected';
    refreshCursor = accessCursor = credentialsCursor = undefined;
    return report;
  }

  async function runTick(): Promise<KeeperReport> {
    const started = now();
    const report: KeeperReport = {
      scanned: 0,
      refreshed: 0,
      skipped: 0,
      failed: 0,
      needsReauth: 0,
      deferred: 0,
      paused: null,
      durationMs: 0,
    };
    const finish = () => {
      report.durationMs = Math.max(0, now() - started);
      return report;
    };
    const state = credentials();
    // Rejected and no probe due: nothing to send, so nothing is read.
    if (state.status === 'rejected' && (state.nextProbeAt?.getTime() ?? 0) > started) {
      paused(report);
      return finish();
    }
    // Rejected with a probe due: rows go one at a time until one request was sent (the probe).
    let probing = state.status === 'rejected';
    const rows = await duePage(started);
    report.scanned = rows.length;
    const inFlight = new Set<Promise<void>>();
    for (const [index, row] of rows.entries()) {
      if (index > 0 && !stopping) await pause(spacing());
      while (inFlight.size >= settings.concurrency) await Promise.race(inFlight);
      if (stopping) break;
      if (probing) {
        const before = credentials().nextProbeAt?.getTime();
        await renew(row, report);
        const after = credentials();
        if (after.status === 'ok') probing = false;
        else if (after.nextProbeAt?.getTime() !== before) break; // the probe went and was refused
        continue;
      }
      if (credentials().status === 'rejected') break; // refused during this tick: start no more
      const run: Promise<void> = renew(row, report).finally(() => inFlight.delete(run));
      inFlight.add(run);
    }
    await Promise.all(inFlight);
    if (credentials().status === 'rejected') paused(report);
    return finish();
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
      // Run first: an optional call skips its arguments when there is no `onReport`.
      const report = await runOnce();
      settings.onReport?.(report);
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
