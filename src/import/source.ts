/**
 * Where sessions are imported from: one location, as the app's own session storage was given it — a
 * SQLite file (a path, `sqlite:path`, `sqlite:///abs`, `file:` URL), `postgres://`/`postgresql://`,
 * `mysql://`/`mariadb://` or `redis://`/`rediss://`. What every reader shares is here too: the
 * source interface, the driver loader (the drivers are shoptoken's optional peer dependencies) and
 * the error that names the source without its password.
 */

import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, ShoptokenError } from '../errors.ts';
import type { RawSession } from './records.ts';

export type SourceBackend = 'sqlite' | 'postgres' | 'mysql' | 'redis';

/**
 * Which library wrote the sessions: `session-storage` — `@shopify/shopify-app-session-storage-sqlite`,
 * `-postgresql`, `-mysql` or `-redis`; `prisma` — the `Session` table of Shopify's app templates
 * (`@shopify/shopify-app-session-storage-prisma`), read with SQL.
 */
export type SessionLayout = 'session-storage' | 'prisma';

/** A parsed `--from`. `display` is safe to print (no password, no query). */
export type SourceLocation =
  | { backend: 'sqlite'; path: string; display: string }
  | { backend: 'postgres'; url: string; display: string }
  | { backend: 'mysql'; url: string; display: string }
  | { backend: 'redis'; url: string; display: string };

/** One page of what a source holds: a session's fields, or `null` for a key that is not a session (Redis's shop lists). */
export type SourcePage = (RawSession | null)[];

/** An opened source of sessions. */
export interface SessionSource {
  readonly location: SourceLocation;
  /** The table (SQL) or key prefix (Redis) read. */
  readonly table: string;
  readonly layout: SessionLayout;
  /** How many items {@link SessionSource.pages} will yield in all (for progress). */
  readonly total: number;
  /** The items, page by page, in a stable order. */
  pages(): AsyncGenerator<SourcePage>;
  close(): Promise<void>;
}

/** Items read per page. */
export const PAGE_SIZE = 500;

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const WINDOWS_DRIVE = /^[A-Za-z]:[\\/]/;

/** A URL without its password and query, to print. */
function redact(url: string): string {
  if (!URL.canParse(url)) return `${url.split(':')[0]}:…`;
  const parsed = new URL(url);
  const user = parsed.username ? `${parsed.username}@` : '';
  return `${parsed.protocol}//${user}${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}

/**
 * The source `from` names, relative paths resolved against `cwd`. Throws ConfigError (never quoting
 * a URL) for an unknown scheme.
 *
 * @example
 * sourceLocation('postgres://app:secret@db/app', '/srv') // { backend: 'postgres', url, display: 'postgres://app@db/app' }
 */
export function sourceLocation(from: string, cwd: string): SourceLocation {
  if (typeof from !== 'string' || from.trim() === '') throw new ConfigError(['--from must name a database']);
  const scheme = WINDOWS_DRIVE.test(from) ? undefined : SCHEME.exec(from)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      return { backend: 'postgres', url: from, display: redact(from) };
    case 'mysql':
    case 'mariadb':
      return { backend: 'mysql', url: from, display: redact(from) };
    case 'redis':
    case 'rediss':
      return { backend: 'redis', url: from, display: redact(from) };
    case undefined:
    case 'sqlite':
    case 'file': {
      let path = from;
      if (scheme === 'sqlite') {
        path = from.slice('sqlite:'.length);
        if (path.startsWith('///')) path = path.slice(2);
        else if (path.startsWith('//'))
          throw new ConfigError(['--from: use sqlite:relative.db or sqlite:///absolute.db']);
      } else if (scheme === 'file') {
        try {
          path = from.startsWith('file://') ? fileURLToPath(from) : decodeURIComponent(from.slice('file:'.length));
        } catch {
          throw new ConfigError(['--from: not a valid file: URL']);
        }
        // Prisma's `file:./dev.sqlite?connection_limit=1`: the query is Prisma's, not part of the path.
        path = path.replace(/\?.*$/, '');
      }
      if (path === '') throw new ConfigError(['--from: the SQLite path is empty']);
      const absolute = isAbsolute(path) ? path : resolve(cwd, path);
      return { backend: 'sqlite', path: absolute, display: absolute };
    }
    default:
      throw new ConfigError([
        `--from has an unknown scheme "${scheme}" (use a SQLite path, postgres://, mysql:// or redis://)`,
      ]);
  }
}

/** The ERR_STORAGE error of a failed read, naming the source by its printable form. */
export function sourceError(location: SourceLocation, action: string, error: unknown): ShoptokenError {
  if (error instanceof ShoptokenError) return error;
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  let detail = typeof code === 'string' ? code : typeof message === 'string' ? message : 'unknown error';
  if (location.backend !== 'sqlite' && URL.canParse(location.url)) {
    // Drivers do not quote passwords; this makes sure of it.
    const password = decodeURIComponent(new URL(location.url).password);
    if (password) detail = detail.replaceAll(password, '…');
    detail = detail.replaceAll(location.url, location.display);
  }
  return new ShoptokenError('ERR_STORAGE', `could not ${action} at ${location.display}: ${detail}`, {
    cause: error,
    retryable: true,
  });
}

function isMissingModule(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** Imports a driver (`pg`, `mysql2/promise`, `ioredis`); a ConfigError naming the package when it is missing. */
export async function loadDriver(specifier: string, packageName: string, scheme: string): Promise<unknown> {
  try {
    return await import(specifier);
  } catch (error) {
    if (isMissingModule(error)) {
      throw new ConfigError([
        `--from is a ${scheme} URL: install the ${packageName} package (npm install ${packageName})`,
      ]);
    }
    throw error;
  }
}
