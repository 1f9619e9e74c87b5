/**
 * Reading sessions, one rule per case: values in every form the adapters and Prisma store them,
 * the user of every adapter version, each skip reason, the rule that decides between an imported
 * token and a held one, the `--from` forms, and the table detection.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { decide, type HeldToken } from '../../src/import/decide.ts';
import { readRedisValue } from '../../src/import/readers/redis.ts';
import { lowerKeys, readSession } from '../../src/import/records.ts';
import { sourceLocation } from '../../src/import/source.ts';
import { chooseTable, tableLayout } from '../../src/import/sql-layout.ts';
import { readBoolean, readScopes, readTime, readUserId } from '../../src/import/values.ts';

const NOW = Date.UTC(2026, 11, 2, 12);
const SHOP = 'cool-shop.myshopify.com';
const HOUR = 3_600_000;

const offline = (fields: Record<string, unknown> = {}) =>
  lowerKeys({
    id: `offline_${SHOP}`,
    shop: SHOP,
    state: '',
    isOnline: 0,
    scope: 'write_products',
    accessToken: 'shpat_x',
    ...fields,
  });
const online = (fields: Record<string, unknown> = {}) =>
  lowerKeys({
    id: `${SHOP}_42`,
    shop: SHOP,
    state: '',
    isOnline: 1,
    scope: 'write_products',
    accessToken: 'shpat_y',
    expires: Math.floor((NOW + HOUR) / 1000),
    userId: 42,
    ...fields,
  });

describe('values', () => {
  it('reads times as epoch seconds, epoch ms, digit strings, dates, ISO and SQL text (UTC)', () => {
    const at = Date.UTC(2026, 11, 2, 13, 0, 0);
    for (const value of [at / 1000, at, String(at / 1000), String(at), BigInt(at), new Date(at)]) {
      assert.equal(readTime(value), at, String(value));
    }
    assert.equal(readTime('2026-12-02T13:00:00.000Z'), at);
    assert.equal(readTime('2026-12-02T13:00:00.000+00:00'), at);
    assert.equal(readTime('2026-12-02 13:00:00.000'), at, 'a SQL date-time without a zone is UTC');
    assert.equal(readTime('2026-12-02 13:00:00'), at);
  });

  it('reads no time as null, and an unreadable one as undefined', () => {
    for (const value of [null, undefined, '', 0, 0n]) assert.equal(readTime(value), null);
    for (const value of ['soon', -5, Number.NaN, {}, new Date(Number.NaN)]) assert.equal(readTime(value), undefined);
  });

  it('reads booleans, user ids and scopes in the forms stored', () => {
    for (const value of [true, 1, 1n, '1', 'true', 'TRUE']) assert.equal(readBoolean(value), true);
    for (const value of [false, 0, 0n, '0', 'false']) assert.equal(readBoolean(value), false);
    assert.equal(readBoolean('yes'), undefined);
    for (const value of [42, 42n, '42', '042']) assert.equal(readUserId(value), '42');
    for (const value of [0, -1, 1.5, '4 2', '', 'abc', null]) assert.equal(readUserId(value), undefined);
    assert.deepEqual(readScopes('read_products, write_orders,,read_products'), ['read_products', 'write_orders']);
    assert.deepEqual(readScopes(null), []);
    assert.equal(readScopes('read products'), undefined);
  });
});

describe('readSession', () => {
  it('reads a non-expiring offline token', () => {
    const reading = readSession(offline(), NOW);
    assert.ok('candidate' in reading);
    assert.deepEqual(reading.candidate, {
      kind: 'offline',
      shop: SHOP,
      accessToken: 'shpat_x',
      scopes: ['write_products'],
      expiresAt: null,
      refreshToken: null,
      refreshTokenExpiresAt: null,
    });
  });

  it('reads an expiring offline token with both expiries, whatever their units (PostgreSQL keeps ms)', () => {
    const expires = NOW + HOUR;
    const refresh = NOW + 90 * 24 * HOUR;
    const reading = readSession(
      offline({ expires: expires / 1000, refreshToken: 'shprt_x', refreshTokenExpires: String(refresh) }),
      NOW,
    );
    assert.ok('candidate' in reading && reading.candidate.kind === 'offline');
    assert.equal(reading.candidate.expiresAt, expires);
    assert.equal(reading.candidate.refreshToken, 'shprt_x');
    assert.equal(reading.candidate.refreshTokenExpiresAt, refresh);
  });

  it('imports an expiring token whose access token expired while its refresh token lives', () => {
    const reading = readSession(
      offline({ expires: (NOW - HOUR) / 1000, refreshToken: 'shprt_x', refreshTokenExpires: (NOW + HOUR) / 1000 }),
      NOW,
    );
    assert.ok('candidate' in reading);
  });

  it('makes a refresh token without an access expiry due now', () => {
    const reading = readSession(offline({ refreshToken: 'shprt_x' }), NOW);
    assert.ok('candidate' in reading && reading.candidate.kind === 'offline');
    assert.equal(reading.candidate.expiresAt, NOW);
    assert.equal(reading.candidate.refreshTokenExpiresAt, null);
  });

  it('reads the user of every adapter version: user columns, onlineAccessInfo id, onlineAccessInfo JSON', () => {
    const columns = readSession(
      online({ firstName: 'Ada', email: 'ada@example.com', accountOwner: 1, locale: 'fr' }),
      NOW,
    );
    assert.ok('candidate' in columns && columns.candidate.kind === 'online');
    assert.deepEqual(columns.candidate.user, {
      id: '42',
      firstName: 'Ada',
      lastName: '',
      email: 'ada@example.com',
      emailVerified: false,
      accountOwner: true,
      locale: 'fr',
      collaborator: false,
    });
    assert.deepEqual(columns.candidate.associatedUserScopes, ['write_products'], "the session's scope stands in");

    const legacy = readSession(online({ userId: undefined, onlineAccessInfo: '42' }), NOW);
    assert.ok('candidate' in legacy && legacy.candidate.kind === 'online');
    assert.equal(legacy.candidate.user.id, '42');

    const json = JSON.stringify({
      associated_user_scope: 'read_products',
      associated_user: { id: 42, first_name: 'Ada', email_verified: true },
    });
    const parsed = readSession(online({ userId: undefined, onlineAccessInfo: json }), NOW);
    assert.ok('candidate' in parsed && parsed.candidate.kind === 'online');
    assert.equal(parsed.candidate.user.firstName, 'Ada');
    assert.equal(parsed.candidate.user.emailVerified, true);
    assert.deepEqual(parsed.candidate.associatedUserScopes, ['read_products']);
  });

  it("reads the PostgreSQL adapter's first column names (isonline, accesstoken)", () => {
    const reading = readSession(lowerKeys({ id: 'x', shop: SHOP, isonline: false, accesstoken: 'shpat_z' }), NOW);
    assert.ok('candidate' in reading);
  });

  const skips: [string, Record<string, unknown>, string][] = [
    ['no id', offline({ id: null }), 'malformed'],
    ['no shop', offline({ shop: '' }), 'malformed'],
    ['no isOnline', offline({ isOnline: 'maybe' }), 'malformed'],
    ['a shop that is not a shop domain', offline({ shop: 'cool-shop.example.com' }), 'invalid_shop'],
    ['an upper-case shop', offline({ shop: 'Cool-Shop.myshopify.com' }), 'invalid_shop'],
    ['no access token', offline({ accessToken: null }), 'no_access_token'],
    ["Prisma's empty access token", offline({ accessToken: '' }), 'no_access_token'],
    ['an unreadable expiry', offline({ expires: 'soon' }), 'invalid_field'],
    ['an unreadable scope', offline({ scope: 'read products' }), 'invalid_field'],
    [
      'an unreadable refresh expiry',
      offline({ refreshToken: 'shprt_x', refreshTokenExpires: 'never' }),
      'invalid_field',
    ],
    [
      'a lapsed refresh token',
      offline({ refreshToken: 'shprt_x', refreshTokenExpires: (NOW - 1000) / 1000 }),
      'refresh_token_expired',
    ],
    ['an expired token without refresh token', offline({ expires: (NOW - 1000) / 1000 }), 'access_token_expired'],
    ['an online session without a user', online({ userId: null }), 'no_user'],
    ['an online session without an expiry', online({ expires: null }), 'no_expiry'],
    ['an expired online token', online({ expires: (NOW - 1000) / 1000 }), 'online_expired'],
    ['an online session without its token', online({ accessToken: null }), 'no_access_token'],
  ];
  for (const [name, raw, reason] of skips) {
    it(`skips ${name} (${reason})`, () => {
      const reading = readSession(raw, NOW);
      assert.ok('skip' in reading);
      assert.equal(reading.skip, reason);
    });
  }

  it('reads the Redis layout: property arrays are sessions, shop lists and the rest are not', () => {
    const session = readRedisValue(
      JSON.stringify([
        ['id', 'x'],
        ['shop', SHOP],
        ['isOnline', false],
        ['accessToken', 't'],
      ]),
    );
    assert.ok(session && 'candidate' in readSession(session, NOW));
    assert.equal(readRedisValue(JSON.stringify(['shopify_sessions_offline_x'])), null, 'a shop list');
    assert.equal(readRedisValue(null), null, 'not a string value');
    for (const value of ['not json', '{"a":1}', '[1,2]']) assert.deepEqual(readRedisValue(value), {}, value);
  });
});

describe('decide', () => {
  const held = (fields: Partial<HeldToken> = {}): HeldToken => ({
    digest: 'a',
    expiresAt: null,
    expiring: false,
    status: 'active',
    ...fields,
  });
  const next = (fields: Partial<HeldToken> = {}) => ({ digest: 'b', expiresAt: null, expiring: false, ...fields });

  it('writes over nothing, leaves the same token alone', () => {
    assert.equal(decide(null, next()), 'write');
    assert.equal(decide(held(), next({ digest: 'a' })), 'unchanged');
    assert.equal(decide(held({ status: 'needs_reauth' }), next({ digest: 'a' })), 'unchanged');
  });

  it('lets a later expiry win, never an earlier one', () => {
    assert.equal(decide(held({ expiresAt: 100, expiring: true }), next({ expiresAt: 200, expiring: true })), 'write');
    assert.equal(decide(held({ expiresAt: 200, expiring: true }), next({ expiresAt: 100, expiring: true })), 'kept');
    assert.equal(decide(held({ expiresAt: 200, expiring: true }), next({ expiresAt: 200, expiring: true })), 'kept');
  });

  it('lets an expiring pair replace a non-expiring token, not the other way round', () => {
    assert.equal(decide(held(), next({ expiresAt: 100, expiring: true })), 'write');
    assert.equal(decide(held({ expiresAt: 100, expiring: true }), next()), 'kept');
    assert.equal(decide(held(), next({ expiresAt: 100, expiring: false })), 'kept');
  });

  it('keeps what shoptoken holds between two non-expiring tokens, unless Shopify refused it', () => {
    assert.equal(decide(held(), next()), 'kept');
    assert.equal(decide(held({ status: 'needs_reauth' }), next()), 'write');
    assert.equal(
      decide(held({ status: 'needs_reauth', expiresAt: 500, expiring: true }), next({ expiresAt: 1 })),
      'write',
    );
  });
});

describe('sources', () => {
  it('reads every --from form, printing none with its password', () => {
    assert.deepEqual(sourceLocation('postgres://app:hunter2@db:5432/app?schema=x', '/srv'), {
      backend: 'postgres',
      url: 'postgres://app:hunter2@db:5432/app?schema=x',
      display: 'postgres://app@db:5432/app',
    });
    assert.equal(sourceLocation('postgresql://db/app', '/srv').backend, 'postgres');
    assert.equal(sourceLocation('mariadb://root@db/app', '/srv').backend, 'mysql');
    assert.equal(sourceLocation('rediss://:hunter2@cache:6380/2', '/srv').display, 'rediss://cache:6380/2');
    for (const [from, path] of [
      ['dev.sqlite', '/srv/dev.sqlite'],
      ['sqlite:data/app.db', '/srv/data/app.db'],
      ['sqlite:///var/app.db', '/var/app.db'],
      ['file:./prisma/dev.sqlite?connection_limit=1', '/srv/prisma/dev.sqlite'],
      ['file:///var/my%20app.db', '/var/my app.db'],
    ] as const) {
      const location = sourceLocation(from, '/srv');
      assert.ok(location.backend === 'sqlite');
      assert.equal(location.path, path, from);
    }
  });

  it('refuses an unknown scheme without quoting the URL', () => {
    assert.throws(
      () => sourceLocation('mongodb://app:hunter2@db/app', '/srv'),
      (error: unknown) =>
        error instanceof ConfigError &&
        /unknown scheme "mongodb"/.test(error.message) &&
        !error.message.includes('hunter2'),
    );
  });

  it('finds the session table by its default names, and says what it found otherwise', () => {
    assert.equal(chooseTable(['users', 'shopify_sessions'], undefined, 'db'), 'shopify_sessions');
    assert.equal(chooseTable(['Session', '_prisma_migrations'], undefined, 'db'), 'Session');
    assert.equal(chooseTable(['session'], undefined, 'db'), 'session', 'MySQL may fold the name');
    assert.equal(chooseTable(['a', 'b'], 'B', 'db'), 'b');
    assert.throws(() => chooseTable(['users'], undefined, 'db'), /no session table in db/);
    assert.throws(() => chooseTable(['shopify_sessions', 'Session'], undefined, 'db'), /choose one with --table/);
    assert.throws(() => chooseTable(['users'], 'sessions', 'db'), /no table "sessions"/);
  });

  it("tells the adapters' layout from Prisma's, and refuses an unknown one", () => {
    const base = [
      { name: 'id', type: 'varchar' },
      { name: 'shop', type: 'varchar' },
      { name: 'isOnline', type: 'integer' },
      { name: 'accessToken', type: 'varchar' },
    ];
    assert.equal(tableLayout('t', [...base, { name: 'expires', type: 'integer' }]).layout, 'session-storage');
    assert.equal(tableLayout('t', [...base, { name: 'expires', type: 'DATETIME' }]).layout, 'prisma');
    assert.throws(
      () => tableLayout('t', base.slice(1)),
      (error: unknown) =>
        error instanceof ConfigError && /not a Shopify session table: it has no id column/.test(error.message),
    );
  });
});
