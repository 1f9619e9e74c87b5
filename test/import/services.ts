/**
 * The database servers the import tests populate with the peers' own adapters: PostgreSQL, MariaDB
 * (or MySQL) and Redis, on this machine by default (SHOPTOKEN_TEST_POSTGRES_URL,
 * SHOPTOKEN_TEST_MYSQL_URL, SHOPTOKEN_TEST_REDIS_URL). A server that cannot be reached skips its
 * tests with the reason printed, unless SHOPTOKEN_REQUIRE_SERVICES=1, where that is a failure.
 */

import assert from 'node:assert/strict';
import { it, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';

export const POSTGRES_URL = process.env.SHOPTOKEN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env.SHOPTOKEN_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const REDIS_URL = process.env.SHOPTOKEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

export type Service = 'postgres' | 'mysql' | 'redis';

const describe = (error: unknown): string => {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return code ?? message ?? String(error);
};

/** A PostgreSQL client on {@link POSTGRES_URL}, connected. */
export async function postgres(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** A MySQL connection on {@link MYSQL_URL} (or on `database`), connected. */
export async function mysqlConnection(database?: string): Promise<mysql.Connection> {
  const url = new URL(MYSQL_URL);
  const connection = await mysql.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username) || 'root',
    password: decodeURIComponent(url.password),
    database: database ?? url.pathname.slice(1),
    connectTimeout: 3000,
    dateStrings: true,
  });
  connection.on('error', () => undefined);
  return connection;
}

/** `MYSQL_URL` naming `database` instead. */
export function mysqlUrl(database: string): string {
  const url = new URL(MYSQL_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A Redis client on {@link REDIS_URL}, connected. */
export async function redis(): Promise<Redis> {
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

const reasons = new Map<Service, Promise<string | null>>();

/** Why `service` cannot be used, or null; asked once per process. */
export function unavailable(service: Service): Promise<string | null> {
  let reason = reasons.get(service);
  if (!reason) {
    reason = (async () => {
      try {
        if (service === 'postgres') await (await postgres()).end();
        else if (service === 'mysql') await (await mysqlConnection()).end();
        else (await redis()).disconnect();
        return null;
      } catch (error) {
        return `${service} is not reachable (${describe(error)})`;
      }
    })();
    reasons.set(service, reason);
  }
  return reason;
}

/** Declares `name` on `service`: run when it is reachable, else skipped with the reason (failed under SHOPTOKEN_REQUIRE_SERVICES=1). */
export async function serviceTest(
  service: Service,
  name: string,
  fn: (t: TestContext) => Promise<void>,
): Promise<void> {
  const reason = await unavailable(service);
  if (reason === null) it(`${service}: ${name}`, { timeout: 120_000 }, fn);
  else if (process.env.SHOPTOKEN_REQUIRE_SERVICES === '1') {
    it(`${service}: ${name} (SHOPTOKEN_REQUIRE_SERVICES=1)`, () => assert.fail(reason));
  } else {
    console.log(`# skipping "${service}: ${name}": ${reason}`);
    it(`${service}: ${name}`, { skip: reason }, () => undefined);
  }
}
