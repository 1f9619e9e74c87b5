/**
 * The four stores the multi-process tests run on — a SQLite file, PostgreSQL, MariaDB/MySQL and
 * Redis — each isolated per run: a temporary directory, a schema, a database or a key prefix of
 * its own (random names), dropped at the end. A store whose server is not reachable is skipped
 * with a printed reason, unless SHOPTOKEN_REQUIRE_SERVICES=1 (CI), where that is a failure.
 * Servers: SHOPTOKEN_TEST_POSTGRES_URL, SHOPTOKEN_TEST_MYSQL_URL, SHOPTOKEN_TEST_REDIS_URL
 * (default the local ones), as the storage tests use them.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { parseMysqlUrl } from '../../src/storage/mysql/url.ts';

export type Backend = 'sqlite' | 'postgres' | 'mysql' | 'redis';

/** Every store, or those SHOPTOKEN_MP_BACKENDS lists (`postgres,redis`: to work on one store). */
export const BACKENDS: readonly Backend[] = (['sqlite', 'postgres', 'mysql', 'redis'] as const).filter(
  (backend) => !process.env.SHOPTOKEN_MP_BACKENDS || process.env.SHOPTOKEN_MP_BACKENDS.split(',').includes(backend),
);

export const POSTGRES_URL = process.env.SHOPTOKEN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env.SHOPTOKEN_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const REDIS_URL = process.env.SHOPTOKEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

const RUN = randomBytes(4).toString('hex');
const REQUIRED = process.env.SHOPTOKEN_REQUIRE_SERVICES === '1';

async function postgresReason(): Promise<string | null> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return `PostgreSQL at SHOPTOKEN_TEST_POSTGRES_URL is not reachable (${describe(error)})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function mysqlAdmin(): Promise<mysql.Connection> {
  const settings = parseMysqlUrl(MYSQL_URL);
  const connection = await mysql.createConnection({
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.database,
    connectTimeout: 3000,
  });
  connection.on('error', () => undefined);
  return connection;
}

async function mysqlReason(): Promise<string | null> {
  try {
    await (await mysqlAdmin()).end();
    return null;
  } catch (error) {
    return `MySQL/MariaDB at SHOPTOKEN_TEST_MYSQL_URL is not reachable (${describe(error)})`;
  }
}

function redisAdmin(): Redis {
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  return client;
}

async function redisReason(): Promise<string | null> {
  const client = redisAdmin();
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    return `Redis at SHOPTOKEN_TEST_REDIS_URL is not reachable (${describe(error)})`;
  } finally {
    client.disconnect();
  }
}

function describe(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  return code ?? message ?? String(error);
}

/** Why each backend cannot be used (null when it can), asked once per process. */
let reasons: Promise<Record<Backend, string | null>> | undefined;

export function unavailable(): Promise<Record<Backend, string | null>> {
  reasons ??= (async () => {
    const [postgres, mysql, redis] = await Promise.all([postgresReason(), mysqlReason(), redisReason()]);
    return { sqlite: null, postgres, mysql, redis };
  })();
  return reasons;
}

/**
 * Declares the test `name` for `backend`: run when its server is reachable; otherwise skipped with
 * the reason printed, or failed under SHOPTOKEN_REQUIRE_SERVICES=1.
 */
export function storeTest(
  backend: Backend,
  reason: string | null,
  name: string,
  fn: (t: TestContext) => Promise<void>,
  options: { timeout?: number } = {},
): void {
  if (reason === null) {
    it(`${backend}: ${name}`, { timeout: options.timeout ?? 120_000 }, fn);
  } else if (REQUIRED) {
    it(`${backend}: ${name} (SHOPTOKEN_REQUIRE_SERVICES=1)`, () => assert.fail(reason));
  } else {
    console.log(`# skipping "${backend}: ${name}": ${reason}`);
    it(`${backend}: ${name}`, { skip: reason }, () => undefined);
  }
}

/** Stores of this run, each with the way to drop it. */
export class Stores {
  readonly #drops: (() => Promise<void>)[] = [];
  #dir: string | undefined;

  /**
   * A fresh, empty store of `backend` (its URL), dropped by {@link Stores.dropAll}. `params` are
   * added to a server URL's query (`pool`, `connect_timeout`, …).
   */
  async fresh(backend: Backend, label: string, params: Record<string, string> = {}): Promise<string> {
    const name = `shoptoken_mp_${RUN}_${label.replaceAll('-', '_')}`;
    switch (backend) {
      case 'sqlite': {
        this.#dir ??= mkdtempSync(join(tmpdir(), 'shoptoken-mp-'));
        return join(this.#dir, `${label}.db`);
      }
      case 'postgres': {
        this.#drops.push(async () => {
          const admin = new pg.Client({ connectionString: POSTGRES_URL });
          admin.on('error', () => undefined);
          await admin.connect();
          try {
            await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
          } finally {
            await admin.end();
          }
        });
        return withParams(POSTGRES_URL, { schema: name, pool: '5', ...params });
      }
      case 'mysql': {
        const admin = await mysqlAdmin();
        try {
          await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
        } finally {
          await admin.end();
        }
        this.#drops.push(async () => {
          const connection = await mysqlAdmin();
          try {
            await connection.query(`DROP DATABASE IF EXISTS ${name}`);
          } finally {
            await connection.end();
          }
        });
        const url = new URL(MYSQL_URL);
        url.pathname = `/${name}`;
        return withParams(url.toString(), { pool: '5', ...params });
      }
      case 'redis': {
        const prefix = name.replaceAll('_', '-');
        this.#drops.push(async () => {
          const client = redisAdmin();
          await client.connect();
          try {
            let cursor = '0';
            do {
              const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
              cursor = next;
              if (keys.length > 0) await client.del(...keys);
            } while (cursor !== '0');
          } finally {
            client.disconnect();
          }
        });
        return withParams(REDIS_URL, { prefix, ...params });
      }
    }
  }

  /** Drops every store made here (best effort: one failing does not keep the others). */
  async dropAll(): Promise<void> {
    for (const drop of this.#drops.splice(0)) await drop().catch(() => undefined);
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
  }
}

/** `url` with `params` set in its query. */
export function withParams(url: string, params: Record<string, string>): string {
  const parsed = new URL(url);
  for (const [name, value] of Object.entries(params)) parsed.searchParams.set(name, value);
  return parsed.toString();
}

/** `url` (a server URL) pointing at 127.0.0.1:`port` instead (a proxy in front of the server). */
export function throughPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  return parsed.toString();
}

/** Host and port a server URL names. */
export function serverAddress(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  const defaults: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'mysql:': 3306, 'redis:': 6379 };
  return { host: parsed.hostname, port: Number(parsed.port || defaults[parsed.protocol] || 0) };
}
