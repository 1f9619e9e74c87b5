/**
 * The Redis storage URL: `redis[s]://[user:password@]host[:port][/db][?option=value&…]`; with
 * `?cluster=true` the host is one node of a Redis Cluster. Options are named like the other
 * backends' (`connect_timeout` in seconds). Every problem is reported at once, naming the part or
 * option at fault and never quoting the URL (it may hold a password).
 */

import { ConfigError } from '../../errors.ts';

/** Where and how to connect, from the URL. */
export interface RedisLocation {
  host: string;
  port: number;
  username: string | undefined;
  password: string | undefined;
  db: number;
  /** `rediss://`: TLS, with the server's certificate verified unless `reject_unauthorized=false`. */
  tls: { rejectUnauthorized: boolean } | undefined;
  /** What every key starts with (`?prefix=`, default `shoptoken`). */
  prefix: string;
  /** The connection's `CLIENT SETNAME` (`?name=`, default `shoptoken`). */
  name: string;
  /** How long connecting (handshake included) may take, ms (`?connect_timeout=` seconds, default 5). */
  connectTimeout: number;
  /** How long one command may take, ms (`?command_timeout=` ms, default 10000), or undefined: no limit. */
  commandTimeout: number | undefined;
  /** `?cluster=true`: host:port is one node of a Redis Cluster (ioredis `Cluster`); db 0 only. */
  cluster: boolean;
}

const WHERE = 'SHOPTOKEN_DATABASE_URL (redis)';
const OPTIONS = ['prefix', 'name', 'connect_timeout', 'command_timeout', 'reject_unauthorized', 'cluster'] as const;
type Option = (typeof OPTIONS)[number];

/** A whole number from `min` to `max` given for `option`, or undefined (and a problem). */
function whole(value: string, option: Option, min: number, max: number, unit: string, problems: string[]) {
  const n = /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  if (n >= min && n <= max) return n;
  problems.push(`${WHERE}: ${option} must be a number of ${unit} from ${min} to ${max}`);
  return undefined;
}

function decoded(part: string, what: string, problems: string[]): string | undefined {
  if (part === '') return undefined;
  try {
    return decodeURIComponent(part);
  } catch {
    problems.push(`${WHERE}: the ${what} is not valid percent-encoding`);
    return undefined;
  }
}

/**
 * The location a `redis://` or `rediss://` URL names. Throws ConfigError listing every problem.
 *
 * @example
 * parseRedisUrl('rediss://default:secret@cache.internal:6380/2?prefix=billing');
 */
export function parseRedisUrl(url: string): RedisLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError([`${WHERE}: not a valid URL (redis[s]://[user:password@]host[:port][/db])`]);
  }
  const problems: string[] = [];
  const secure = parsed.protocol === 'rediss:';
  if (!secure && parsed.protocol !== 'redis:') problems.push(`${WHERE}: the scheme must be redis: or rediss:`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') problems.push(`${WHERE}: the URL names no host`);
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  if (port < 1) problems.push(`${WHERE}: the port must be from 1 to 65535`);
  const path = parsed.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : /^\d{1,5}$/.test(path) ? Number(path) : NaN;
  if (Number.isNaN(db)) problems.push(`${WHERE}: the path must be a database number (/0, /1, …) or nothing`);
  if (parsed.hash !== '') problems.push(`${WHERE}: the URL must not have a #fragment`);

  const given = new Map<Option, string>();
  for (const [name, value] of parsed.searchParams) {
    if (!(OPTIONS as readonly string[]).includes(name)) {
      problems.push(`${WHERE}: unknown option "${name.slice(0, 40)}" (known: ${OPTIONS.join(', ')})`);
    } else if (given.has(name as Option)) {
      problems.push(`${WHERE}: the option ${name} is given twice`);
    } else {
      given.set(name as Option, value);
    }
  }
  const prefix = given.get('prefix') ?? 'shoptoken';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) {
    problems.push(`${WHERE}: prefix must be 1 to 64 letters, digits, "_", "." or "-"`);
  }
  const name = given.get('name') ?? 'shoptoken';
  if (!/^[!-~]{1,64}$/.test(name)) problems.push(`${WHERE}: name must be 1 to 64 printable characters without spaces`);
  const connectTimeout = given.has('connect_timeout')
    ? whole(given.get('connect_timeout')!, 'connect_timeout', 1, 600, 'seconds', problems)
    : 5;
  const commandTimeout = given.has('command_timeout')
    ? whole(given.get('command_timeout')!, 'command_timeout', 0, 600_000, 'milliseconds', problems)
    : 10_000;
  const verify = given.get('reject_unauthorized');
  if (verify !== undefined && !secure) problems.push(`${WHERE}: reject_unauthorized applies to rediss:// URLs only`);
  if (verify !== undefined && verify !== 'true' && verify !== 'false') {
    problems.push(`${WHERE}: reject_unauthorized must be true or false`);
  }
  const cluster = given.get('cluster');
  if (cluster !== undefined && cluster !== 'true' && cluster !== 'false')
    problems.push(`${WHERE}: cluster must be true or false`);
  if (cluster === 'true' && db > 0) problems.push(`${WHERE}: a Redis Cluster has database 0 only`);
  const username = decoded(parsed.username, 'user name', problems);
  const password = decoded(parsed.password, 'password', problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    host,
    port,
    username,
    password,
    db,
    tls: secure ? { rejectUnauthorized: verify !== 'false' } : undefined,
    prefix,
    name,
    connectTimeout: connectTimeout! * 1000,
    commandTimeout: commandTimeout === 0 ? undefined : commandTimeout!,
    cluster: cluster === 'true',
  };
}
