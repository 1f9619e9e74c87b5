/**
 * `importSessions`: moves an app's tokens from Shopify's session storage into shoptoken's vault
 * (encrypted): offline tokens (expiring ones with their refresh token and both expiries), online
 * tokens with their user, each skipped with a reason when it cannot be imported. Idempotent: the
 * rule of `decide.ts` makes a rerun change nothing and never lets an older token replace a newer
 * one. Imported shops count as installed (their install ran in the old app), so shoptoken's
 * install flow does not run `afterAuth` for them again. Reports counts; never a token.
 */

import type { AssociatedUser } from '../protocol/tokens.ts';
import type { OfflineToken, OfflineTokenInput, OnlineToken, OnlineTokenInput } from '../vault/types.ts';
import { type Decision, decide, type HeldToken, tokenDigest } from './decide.ts';
import { openMysqlSource } from './readers/mysql.ts';
import { openPostgresSource } from './readers/postgres.ts';
import { openRedisSource } from './readers/redis.ts';
import { openSqliteSource } from './readers/sqlite.ts';
import { type Candidate, EXPIRED_REASONS, readSession, type SkipReason } from './records.ts';
import {
  type SessionLayout,
  type SessionSource,
  type SourceBackend,
  type SourceLocation,
  sourceLocation,
} from './source.ts';

/** The vault as the import uses it (a `Vault` from `openVault` or `openDefaultVault`). */
export interface ImportVault {
  readonly now: () => number;
  offline(shop: string): Promise<OfflineToken | null>;
  online(shop: string, userId: string): Promise<OnlineToken | null>;
  saveOffline(input: OfflineTokenInput): Promise<OfflineToken>;
  saveOnline(input: OnlineTokenInput): Promise<OnlineToken>;
  markInstalled(shop: string): Promise<void>;
}

/** How far an import is: `done` of `total` items read. */
export interface ImportProgress {
  done: number;
  total: number;
}

/** Options of {@link importSessions}. */
export interface ImportSessionsOptions {
  /**
   * Where the sessions are: a SQLite file (path, `sqlite:`, `file:`), `postgres://`, `mysql://` or
   * `redis://` — the database the app's session storage was given.
   */
  from: string;
  /** Where they go. */
  vault: ImportVault;
  /**
   * The session table (SQL; by default `shopify_sessions` or Prisma's `Session`, whichever is
   * there) or the key prefix (Redis; by default `shopify_sessions`).
   */
  table?: string;
  /** Report what would be imported; write nothing. */
  dryRun?: boolean;
  /** Called as items are done (read, and imported or skipped): `done` of `total`. */
  onProgress?: (progress: ImportProgress) => void;
  /** Resolves a relative SQLite path; `process.cwd()` by default. */
  cwd?: string;
}

/** A session that was not imported, and why (no token, no session id). */
export interface ImportSkip {
  shop: string | null;
  kind: 'offline' | 'online' | null;
  /** The user of an online session, when known. */
  userId: string | null;
  reason: SkipReason;
}

/** What an import did (with `dryRun`: would do). Counts only; never a token value. */
export interface ImportReport {
  source: {
    backend: SourceBackend;
    /** The source without its password. */
    location: string;
    /** The table (SQL) or key prefix (Redis) read. */
    table: string;
    layout: SessionLayout;
  };
  dryRun: boolean;
  /** Sessions read. */
  read: number;
  /** Shops whose offline token was imported (written, or to be written with `dryRun`). */
  offline: number;
  /** Of those, expiring ones (imported with their refresh token). */
  expiring: number;
  /** Online tokens imported, each with its user. */
  online: number;
  /** Tokens shoptoken already held (the same token: a rerun). */
  unchanged: number;
  /**
   * Tokens not imported because shoptoken holds a newer one for the same shop (or user), or because
   * the source holds a newer one for it too. `read` = `offline` + `online` + `unchanged` + `kept` + skipped.
   */
  kept: number;
  /** Sessions skipped because they expired (an online token, or an offline one that can no longer be renewed). */
  expired: number;
  /** Every skipped session with its reason (the expired ones included), ordered by shop. */
  skipped: ImportSkip[];
}

/** Distinct keys written at a time within a page. */
const CONCURRENCY = 8;

/** Opens the source `location` names. */
export function openSource(location: SourceLocation, table: string | undefined): Promise<SessionSource> {
  switch (location.backend) {
    case 'sqlite':
      return openSqliteSource(location, table);
    case 'postgres':
      return openPostgresSource(location, table);
    case 'mysql':
      return openMysqlSource(location, table);
    case 'redis':
      return openRedisSource(location, table);
  }
}

/** The vault key of a candidate: a shop's offline token, or one user's online token. */
const keyOf = (candidate: Candidate): string =>
  candidate.kind === 'offline' ? `offline ${candidate.shop}` : `online ${candidate.shop} ${candidate.user.id}`;

/** Runs `work` on every group, at most `limit` at a time. */
async function eachLimit<T>(groups: T[], limit: number, work: (group: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < groups.length) await work(groups[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, groups.length) }, worker));
}

/**
 * Imports the sessions at `from` into `vault` (see the module comment for what is carried over and
 * the rule on reruns). Throws ConfigError for a source it cannot use (unknown scheme, missing
 * driver, no session table, an unknown layout) and ERR_STORAGE when the source or the vault's store
 * fails; messages never hold a token or a URL's password.
 *
 * @example
 * const report = await importSessions({ from: 'postgres://app@db.internal/app', vault });
 * console.log(`${report.offline} offline, ${report.online} online, ${report.skipped.length} skipped`);
 */
export async function importSessions(options: ImportSessionsOptions): Promise<ImportReport> {
  const { vault, dryRun = false, onProgress } = options;
  const location = sourceLocation(options.from, options.cwd ?? process.cwd());
  const now = vault.now();
  const source = await openSource(location, options.table);
  const report: ImportReport = {
    source: { backend: location.backend, location: location.display, table: source.table, layout: source.layout },
    dryRun,
    read: 0,
    offline: 0,
    expiring: 0,
    online: 0,
    unchanged: 0,
    kept: 0,
    expired: 0,
    skipped: [],
  };
  // What each key holds as this run goes: read from the vault once, then updated by the run's own
  // decisions (so a dry run sees its own would-be writes, and a source holding a key twice is exact).
  const held = new Map<string, HeldToken | null>();

  const current = async (candidate: Candidate): Promise<HeldToken | null> => {
    const key = keyOf(candidate);
    if (held.has(key)) return held.get(key)!;
    const token =
      candidate.kind === 'offline'
        ? await vault.offline(candidate.shop)
        : await vault.online(candidate.shop, candidate.user.id);
    const known: HeldToken | null = token && {
      digest: tokenDigest(token.accessToken),
      expiresAt: token.expiresAt?.getTime() ?? null,
      expiring: token.kind === 'offline' && token.expiring,
      status: token.kind === 'offline' ? token.status : 'active',
    };
    held.set(key, known);
    return known;
  };

  const apply = async (candidate: Candidate): Promise<Decision> => {
    const next = {
      digest: tokenDigest(candidate.accessToken),
      expiresAt: candidate.expiresAt,
      expiring: candidate.kind === 'offline' && candidate.refreshToken !== null,
    };
    const decision = decide(await current(candidate), next);
    if (decision !== 'write') return decision;
    if (!dryRun) await write(vault, candidate);
    held.set(keyOf(candidate), { ...next, status: 'active' });
    return decision;
  };

  // The token each key ends up with in this run; a later write over it (a source holding a key twice)
  // counts the token it replaces as kept, so read = imported + unchanged + kept + skipped.
  const written = new Map<string, { kind: Candidate['kind']; expiring: boolean }>();
  let done = 0;
  const tick = (items = 1) => {
    done += items;
    onProgress?.({ done, total: Math.max(done, source.total) });
  };
  try {
    for await (const page of source.pages()) {
      const groups = new Map<string, Candidate[]>();
      let passed = 0;
      for (const raw of page) {
        if (raw !== null) {
          report.read++;
          const reading = readSession(raw, now);
          if ('candidate' in reading) {
            const key = keyOf(reading.candidate);
            groups.set(key, [...(groups.get(key) ?? []), reading.candidate]);
            continue;
          }
          report.skipped.push({ shop: reading.shop, kind: reading.kind, userId: reading.userId, reason: reading.skip });
        }
        passed++;
      }
      if (passed > 0) tick(passed);
      await eachLimit([...groups.values()], CONCURRENCY, async (group) => {
        for (const candidate of group) {
          const decision = await apply(candidate);
          if (decision === 'unchanged') report.unchanged++;
          else if (decision === 'kept') report.kept++;
          else {
            const key = keyOf(candidate);
            if (written.has(key)) report.kept++;
            written.set(key, {
              kind: candidate.kind,
              expiring: candidate.kind === 'offline' && candidate.refreshToken !== null,
            });
          }
          tick();
        }
      });
    }
  } finally {
    await source.close();
  }
  for (const { kind, expiring } of written.values()) {
    if (kind === 'online') report.online++;
    else {
      report.offline++;
      if (expiring) report.expiring++;
    }
  }
  report.expired = report.skipped.filter((entry) => EXPIRED_REASONS.includes(entry.reason)).length;
  report.skipped.sort(
    (a, b) =>
      compare(a.shop ?? '', b.shop ?? '') ||
      compare(a.kind ?? '', b.kind ?? '') ||
      compare(a.userId ?? '', b.userId ?? '') ||
      compare(a.reason, b.reason),
  );
  return report;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Stores `candidate` in the vault (sealed), marking a shop's install complete. */
async function write(vault: ImportVault, candidate: Candidate): Promise<void> {
  if (candidate.kind === 'online') {
    const user: AssociatedUser = candidate.user;
    await vault.saveOnline({
      shop: candidate.shop,
      accessToken: candidate.accessToken,
      scopes: candidate.scopes,
      associatedUserScopes: candidate.associatedUserScopes,
      expiresAt: new Date(candidate.expiresAt),
      user,
    });
    return;
  }
  const saved = await vault.saveOffline({
    shop: candidate.shop,
    accessToken: candidate.accessToken,
    scopes: candidate.scopes,
    expiresAt: candidate.expiresAt === null ? null : new Date(candidate.expiresAt),
    refreshToken: candidate.refreshToken,
    refreshTokenExpiresAt: candidate.refreshTokenExpiresAt === null ? null : new Date(candidate.refreshTokenExpiresAt),
  });
  if (saved.installedAt === null) await vault.markInstalled(candidate.shop);
}
