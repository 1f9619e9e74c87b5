/**
 * The database servers the store benchmarks run on, each used under a private namespace per run
 * (a PostgreSQL schema and peer tables, a MariaDB database, Redis key prefixes) that is dropped
 * afterwards. A store whose server is down is skipped with a printed line. Servers (override with
 * `SHOPTOKEN_BENCH_POSTGRES_URL`, `…_MYSQL_URL`, `…_REDIS_URL`): PostgreSQL `postgres@127.0.0.1:5432/test`,
 * MariaDB `root@127.0.0.1:3306/test`, Redis `127.0.0.1:6379/0`. SQLite files go to /dev/shm when it
 * exists (both contenders on the same file system), else the temporary directory.
 *
 * A {@link StoreTarget} is plain data, so a child process opens the same stores from it.
 */
import '@shopify/shopify-api/adapters/node';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionStorage } from '@shopify/shopify-app-session-storage';
import { openConfiguredStorage } from '../src/config/database.ts';
import type { TokenStorage } from '../src/storage/types.ts';

export type StoreName = 'sqlite' | 'postgres' | 'mysql' | 'redis';

/** Where one run's stores are: ours by `SHOPTOKEN_DATABASE_URL`-style location, the peer's by its own options. */
export interface StoreTarget {
  store: StoreName;
  /** The label printed in tables (`PostgreSQL 16.4`, …). */
  label: string;
  /** shoptoken's database location (a SQLite path or a server URL with a private schema/database/prefix). */
  ours: string;
  /** The peer adapter's connection: a SQLite path or server URL, and its table name or key prefix. */
  peer: { url: string; table: string };
}

/** A target and how to drop everything it created. */
export interface PreparedStore {
  target: StoreTarget;
  drop(): Promise<void>;
}

const URLS = {
  postgres: process.env.SHOPTOKEN_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  mysql: process.env.SHOPTOKEN_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
  redis: process.env.SHOPTOKEN_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
};
const DEFAULT_PORTS: Record<string, number> = { postgres: 5432, mysql: 3306, redis: 6379 };

export const STORE_NAMES: StoreName[] = ['sqlite', 'postgres', 'mysql', 'redis'];

/** True when a TCP connection to `url`'s host and port opens within a second. */
function reachable(url: string, store: StoreName): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) || DEFAULT_PORTS[store] || 0 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** `url` with `params` set. */
function withParams(url: string | URL, params: Record<string, string>): string {
  const parsed = new URL(url);
  for (const [name, value] of Object.entries(params)) parsed.searchParams.set(name, value);
  return parsed.toString();
}

/** `url` with `database` as its path and `params` added. */
function withPath(url: string, database: string, params: Record<string, string> = {}): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return withParams(parsed, params);
}

/** The peer's PostgreSQL pool reads the port from the URL and has no default: always spell it. */
function withPort(url: string, port: number): string {
  const parsed = new URL(url);
  if (!parsed.port) parsed.port = String(port);
  return parsed.toString();
}

async function preparePostgres(id: string): Promise<PreparedStore> {
  const pg = (await import('pg')).default;
  const admin = new pg.Client({ connectionString: URLS.postgres });
  await admin.connect();
  const version = (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';
  await admin.end();
  const schema = `stbench_${id}`;
  const table = `shopify_sessions_${id}`;
  const database = new URL(URLS.postgres).pathname.slice(1);
  return {
    target: {
      store: 'postgres',
      label: `PostgreSQL ${version.split(' ')[0]}`,
      ours: withPath(URLS.postgres, database, { schema }),
      peer: { url: withPort(URLS.postgres, 5432), table },
    },
    async drop() {
      const client = new pg.Client({ connectionString: URLS.postgres });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.query(`DROP TABLE IF EXISTS "${table}", "${table}_migrations"`);
      await client.end();
    },
  };
}

async function prepareMysql(id: string): Promise<PreparedStore> {
  const mysql = await import('mysql2/promise');
  const database = `stbench_${id}`;
  const admin = await mysql.createConnection(URLS.mysql);
  const [rows] = await admin.query('SELECT VERSION() AS v');
  await admin.query(`CREATE DATABASE \`${database}\``);
  await admin.end();
  const version = String((rows as { v: string }[])[0]?.v ?? '?');
  return {
    target: {
      store: 'mysql',
      label: `${/mariadb/i.test(version) ? 'MariaDB' : 'MySQL'} ${version.split('-')[0]}`,
      ours: withPath(URLS.mysql, database),
      peer: { url: withPort(withPath(URLS.mysql, database), 3306), table: 'shopify_sessions' },
    },
    async drop() {
      const connection = await mysql.createConnection(URLS.mysql);
      await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await connection.end();
    },
  };
}

async function prepareRedis(id: string): Promise<PreparedStore> {
  const { Redis } = await import('ioredis');
  const client = new Redis(URLS.redis, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  const info = await client.info('server');
  await client.quit();
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  const ours = `stbench_${id}`;
  const peer = `stbench_peer_${id}`;
  return {
    target: {
      store: 'redis',
      label: `Redis ${version}`,
      ours: withPath(URLS.redis, new URL(URLS.redis).pathname.slice(1) || '0', { prefix: ours }),
      peer: { url: URLS.redis, table: peer },
    },
    async drop() {
      const redis = new Redis(URLS.redis, { maxRetriesPerRequest: 1 });
      for (const prefix of [ours, peer]) {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await redis.unlink(...keys);
        } while (cursor !== '0');
      }
      await redis.quit();
    },
  };
}

async function prepareSqlite(id: string): Promise<PreparedStore> {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = await mkdtemp(join(base, `stbench-${id}-`));
  const { DatabaseSync } = await import('node:sqlite');
  const probe = new DatabaseSync(':memory:');
  const version = (probe.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  probe.close();
  return {
    target: {
      store: 'sqlite',
      label: `SQLite ${version} (${base === '/dev/shm' ? 'tmpfs' : 'tmp dir'})`,
      ours: join(dir, 'shoptoken.db'),
      peer: { url: join(dir, 'peer.db'), table: 'shopify_sessions' },
    },
    drop: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * A private namespace on `store`'s server, or a line saying why the store is skipped (server down,
 * or refusing the setup).
 */
export async function prepareStore(store: StoreName): Promise<PreparedStore | string> {
  const id = randomBytes(4).toString('hex');
  if (store === 'sqlite') return prepareSqlite(id);
  const url = URLS[store];
  const name = { postgres: 'PostgreSQL', mysql: 'MariaDB/MySQL', redis: 'Redis' }[store];
  const where = new URL(url).host || '?';
  if (!(await reachable(url, store))) return `_${name} at ${where} is not reachable: skipped._`;
  try {
    if (store === 'postgres') return await preparePostgres(id);
    if (store === 'mysql') return await prepareMysql(id);
    return await prepareRedis(id);
  } catch (error) {
    const code = (error as { code?: string }).code;
    return `_${name} at ${where} refused the bench setup (${code ?? (error as Error).name}): skipped._`;
  }
}

/** shoptoken's storage of `target`, through the same configuration path as apps (`openConfiguredStorage`). */
export async function openOurs(target: StoreTarget, params: Record<string, string> = {}): Promise<TokenStorage> {
  // A SQLite target is a path, not a URL: only the network stores are given parameters.
  const database = Object.keys(params).length > 0 ? withParams(target.ours, params) : target.ours;
  return (await openConfiguredStorage({ database, cwd: process.cwd() })).storage;
}

/** A peer adapter that can be closed; `disconnect` on the network ones. */
export interface PeerStorage extends SessionStorage {
  ready?: Promise<void>;
  disconnect?: () => Promise<void>;
}

/** The matching `@shopify/shopify-app-session-storage-*` adapter over `target`, ready. */
export async function openPeer(target: StoreTarget): Promise<PeerStorage> {
  const { url, table } = target.peer;
  let peer: PeerStorage;
  if (target.store === 'sqlite') {
    const { SQLiteSessionStorage } = await import('@shopify/shopify-app-session-storage-sqlite');
    peer = new SQLiteSessionStorage(url);
  } else if (target.store === 'postgres') {
    const { PostgreSQLSessionStorage } = await import('@shopify/shopify-app-session-storage-postgresql');
    peer = new PostgreSQLSessionStorage(url, {
      sessionTableName: table,
      migratorOptions: { migrationDBIdentifier: `${table}_migrations`, migrationNameColumnName: 'migration_name' },
    });
  } else if (target.store === 'mysql') {
    const { MySQLSessionStorage } = await import('@shopify/shopify-app-session-storage-mysql');
    peer = new MySQLSessionStorage(url, { sessionTableName: table });
  } else {
    const { RedisSessionStorage } = await import('@shopify/shopify-app-session-storage-redis');
    peer = new RedisSessionStorage(url, { sessionKeyPrefix: table });
  }
  await peer.ready;
  return peer;
}

/** Closes a peer adapter (the SQLite one has no close; its handle goes with the process). */
export async function closePeer(peer: PeerStorage): Promise<void> {
  await peer.disconnect?.();
}

/** The package name of the peer for `store`. */
export const peerPackage = (store: StoreName): string =>
  `@shopify/shopify-app-session-storage-${store === 'postgres' ? 'postgresql' : store}`;

/** One round trip to a store's server that reads nothing: the floor under any read over the network. */
export interface RoundTrip {
  /** What it sends (`SELECT 1`, `PING`). */
  name: string;
  send(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A pool of the driver shoptoken uses for `target`'s server (defaults: 10 connections; one on
 * Redis, auto-pipelined as shoptoken's is) sending one empty statement per call; null for SQLite,
 * which has no round trip.
 */
export async function openRoundTrip(target: StoreTarget): Promise<RoundTrip | null> {
  const { url } = target.peer;
  if (target.store === 'postgres') {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: url });
    return { name: 'SELECT 1', send: async () => void (await pool.query('SELECT 1')), close: () => pool.end() };
  }
  if (target.store === 'mysql') {
    const { createPool } = await import('mysql2/promise');
    const pool = createPool({ uri: url, connectionLimit: 10 });
    return { name: 'SELECT 1', send: async () => void (await pool.query('SELECT 1')), close: () => pool.end() };
  }
  if (target.store === 'redis') {
    const { Redis } = await import('ioredis');
    const client = new Redis(url, { enableAutoPipelining: true });
    return {
      name: 'PING',
      send: async () => void (await client.ping()),
      close: async () => void client.disconnect(),
    };
  }
  return null;
}
