/**
 * The MySQL/MariaDB storage without a server: reading the URL, the missing driver, a server that
 * cannot be reached or never answers, and how driver errors become ERR_STORAGE.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ConfigError, ShoptokenError } from '../../src/errors.ts';
import { MISSING_DRIVER } from '../../src/storage/mysql/connection.ts';
import { isRetryable, storageError } from '../../src/storage/mysql/errors.ts';
import { openMysqlStorage } from '../../src/storage/mysql/index.ts';
import { parseMysqlUrl } from '../../src/storage/mysql/url.ts';
import { openNetworkStorage } from '../../src/storage/open.ts';

const RUN = randomBytes(4).toString('hex');

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

/** A port on 127.0.0.1 nothing listens on (one that was just free). */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('mysql storage: URL', () => {
  it('reads host, port, user, password, database and defaults (pool 10, connect 5 s, lock wait 10 s, no TLS)', () => {
    assert.deepEqual(parseMysqlUrl('mysql://app:p%40ss%2Fw@db.internal:3307/shop%2D1'), {
      host: 'db.internal',
      port: 3307,
      user: 'app',
      password: 'p@ss/w',
      database: 'shop-1',
      pool: 10,
      connectTimeoutMs: 5000,
      lockTimeoutS: 10,
      ssl: undefined,
    });
    const bare = parseMysqlUrl('mariadb://[::1]/shop');
    assert.equal(bare.host, '::1');
    assert.equal(bare.port, 3306);
    assert.equal(bare.user, undefined);
    assert.equal(bare.password, undefined);
  });

  it('reads pool, connect_timeout, lock_timeout and TLS options', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoptoken-mysql-'));
    try {
      const ca = join(dir, 'ca.pem');
      writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
      const settings = parseMysqlUrl(
        `mysql://u@h/db?pool=3&connect_timeout=2&lock_timeout=30&ssl=true&sslca=${encodeURIComponent(ca)}`,
      );
      assert.equal(settings.pool, 3);
      assert.equal(settings.connectTimeoutMs, 2000);
      assert.equal(settings.lockTimeoutS, 30);
      assert.deepEqual(settings.ssl, { ca: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n' });
      assert.deepEqual(parseMysqlUrl('mysql://u@h/db?ssl=true').ssl, {});
      assert.equal(parseMysqlUrl('mysql://u@h/db?ssl=false').ssl, undefined);
      const json = encodeURIComponent('{"rejectUnauthorized":false}');
      assert.deepEqual(parseMysqlUrl(`mysql://u@h/db?ssl=${json}`).ssl, { rejectUnauthorized: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('one ConfigError naming every bad parameter, never quoting the URL, the password or a value', async () => {
    const password = `pw-${RUN}`;
    const bad =
      `mysql://u:${password}@127.0.0.1/db?pool=0&connect_timeout=soon&lock_timeout=0&ssl=maybe` +
      `&sslca=/nonexistent-${RUN}&poool=3&pool=4`;
    await assert.rejects(openMysqlStorage(bad), (error: ConfigError) => {
      assert.ok(error instanceof ConfigError);
      const problems = error.problems.join('\n');
      for (const name of [
        'poool',
        'pool is given more than once',
        'connect_timeout',
        'lock_timeout',
        'ssl must',
        'sslca',
      ]) {
        assert.ok(problems.includes(name), name);
      }
      assert.ok(!inspect(error, { depth: 5 }).includes(password));
      assert.ok(!problems.includes('soon') && !problems.includes('maybe') && !problems.includes(RUN));
      return true;
    });
    for (const url of [
      `mysql://u:${password}@[nope/db`,
      `mysql://u:${password}@127.0.0.1/`,
      `mysql://u:${password}%zz@127.0.0.1/db`,
      `postgres://u:${password}@127.0.0.1/db`,
    ]) {
      await assert.rejects(openMysqlStorage(url), (error: ConfigError) => {
        assert.ok(error instanceof ConfigError, url);
        assert.ok(!inspect(error, { depth: 5 }).includes(password));
        return true;
      });
    }
  });
});

describe('mysql storage: driver and connection errors', () => {
  it('a missing mysql2 package is a ConfigError saying what to install', async () => {
    const absent = `mysql2-absent-${RUN}`;
    await assert.rejects(
      openMysqlStorage('mysql://root@127.0.0.1/test', { importDriver: () => import(absent) }),
      (error: ConfigError) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          'SHOPTOKEN_DATABASE_URL is a mysql:// URL: install the mysql2 package (npm install mysql2)',
        ]);
        assert.equal(error.problems[0], MISSING_DRIVER);
        return true;
      },
    );
  });

  it('mysql:// and mariadb:// URLs reach this backend through openNetworkStorage', async () => {
    for (const scheme of ['mysql', 'mariadb', 'MySQL']) {
      await assert.rejects(openNetworkStorage(`${scheme}://u@127.0.0.1/db?pool=0`), (error: ConfigError) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.problems.join('\n'), /pool must be/);
        return true;
      });
    }
  });

  it('an unreachable server (a closed port) is a quick, retryable ERR_STORAGE without the password', async () => {
    const port = await closedPort();
    const password = `pw-${RUN}`;
    const started = performance.now();
    await assert.rejects(
      openMysqlStorage(`mysql://root:${password}@127.0.0.1:${port}/test`),
      (error: ShoptokenError) => {
        assert.ok(error instanceof ShoptokenError);
        assert.equal(error.code, 'ERR_STORAGE');
        assert.equal(error.retryable, true);
        assert.equal(error.message, 'mysql storage could not connect to the database (ECONNREFUSED)');
        assert.ok(!inspect(error, { depth: 10 }).includes(password), 'no password anywhere in the error');
        return true;
      },
    );
    assert.ok(performance.now() - started < 5000);
  });

  it('a server that accepts and never answers times out after connect_timeout', async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket));
    const port = await listen(server);
    try {
      const started = performance.now();
      await assert.rejects(
        openMysqlStorage(`mysql://root:pw-${RUN}@127.0.0.1:${port}/test?connect_timeout=1`),
        (error: ShoptokenError) => {
          assert.equal(error.code, 'ERR_STORAGE');
          assert.equal(error.retryable, true);
          assert.ok(!inspect(error, { depth: 10 }).includes(`pw-${RUN}`));
          return true;
        },
      );
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 900 && elapsed < 4000, `${elapsed} ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });

  it('classifies driver errors: lost connections, deadlocks and lock wait timeouts are retryable', () => {
    const server = (errno: number, code: string) => Object.assign(new Error(code), { errno, code });
    for (const [errno, code] of [
      [1213, 'ER_LOCK_DEADLOCK'],
      [1205, 'ER_LOCK_WAIT_TIMEOUT'],
      [1040, 'ER_CON_COUNT_ERROR'],
      [1053, 'ER_SERVER_SHUTDOWN'],
      [1927, 'ER_CONNECTION_KILLED'],
      [1290, 'ER_OPTION_PREVENTS_STATEMENT'],
    ] as const) {
      assert.equal(isRetryable(server(errno, code)), true, code);
    }
    for (const [errno, code] of [
      [1062, 'ER_DUP_ENTRY'],
      [1064, 'ER_PARSE_ERROR'],
      [1045, 'ER_ACCESS_DENIED_ERROR'],
      [1049, 'ER_BAD_DB_ERROR'],
      [1406, 'ER_DATA_TOO_LONG'],
      [1146, 'ER_NO_SUCH_TABLE'],
    ] as const) {
      assert.equal(isRetryable(server(errno, code)), false, code);
    }
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST', 'EPIPE']) {
      assert.equal(isRetryable(Object.assign(new Error(code), { code })), true, code);
    }
    assert.equal(isRetryable(new Error("Can't add new command when connection is in closed state")), true);
    assert.equal(isRetryable(new Error('something else')), false);
  });

  it('the storage error names the action and the code, drops the statement text, and keeps the cause', () => {
    const cause = Object.assign(new Error("Duplicate entry 'x' for key 'PRIMARY'"), {
      errno: 1062,
      code: 'ER_DUP_ENTRY',
      sql: 'INSERT … v1.k1.sealed-value',
    });
    const error = storageError('write a token row', cause);
    assert.equal(error.code, 'ERR_STORAGE');
    assert.equal(error.message, 'mysql storage could not write a token row (ER_DUP_ENTRY)');
    assert.equal(error.retryable, false);
    assert.equal(error.cause, cause);
    assert.ok(!inspect(error, { depth: 10 }).includes('sealed-value'));
    const own = new ShoptokenError('ERR_STORAGE', 'mine');
    assert.equal(storageError('x', own), own, 'our own errors pass through');
    assert.equal(
      storageError('x', Object.assign(new Error('x'), { code: 'lower case: ?' })).message,
      'mysql storage could not x',
    );
  });
});
