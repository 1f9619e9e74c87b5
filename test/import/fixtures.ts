/**
 * The import tests' world: an emulator that issues real tokens (offline non-expiring, offline
 * expiring, online per user), Shopify `Session` objects built from them exactly as
 * `@shopify/shopify-api` builds them, one scenario every source layout is populated with, the
 * counts an import of it must report, and the checks that every imported token works against the
 * emulator's Admin API.
 */

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Session } from '@shopify/shopify-api';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import { type ImportReport, importSessions } from '../../src/import/import-sessions.ts';
import type { Vault } from '../../src/open-vault.ts';
import { exchangeAuthorizationCode } from '../../src/protocol/tokens.ts';
import { APP, inProcessFetch, installOffline, ORIGIN, openEmulatorVault } from '../helpers/emulator-install.ts';

export { APP, ORIGIN };

export const RUN = randomBytes(4).toString('hex');
export const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** An emulator on its own (real-time, movable) clock, and a vault (memory storage) reaching it in-process. */
export function world(): { emulator: Emulator; vault: Vault } {
  const emulator = createEmulator({ apps: [APP] });
  return { emulator, vault: openEmulatorVault(emulator) };
}

/** Signs `userIndex`'s staff user of `shop` in (per-user) and returns the online token response. */
export async function signIn(emulator: Emulator, shop: string, userIndex = 0) {
  const user = emulator.shop(shop)?.users[userIndex];
  assert.ok(user, `user ${userIndex} of ${shop}`);
  const form = new URLSearchParams({
    client_id: APP.clientId,
    scope: 'write_products',
    redirect_uri: APP.redirectUrls[0]!,
    state: 'state-nonce-123',
    'grant_options[]': 'per-user',
    user_id: user.id,
    action: 'login',
  });
  const consent = await emulator.fetch(
    new Request(`${ORIGIN}/${shop}/admin/oauth/authorize`, { method: 'POST', body: form }),
  );
  assert.equal(consent.status, 302);
  const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
  const endpoint = { baseUrl: `${ORIGIN}/{shop}`, shop, ...APP, fetch: inProcessFetch(emulator) };
  const token = await exchangeAuthorizationCode(endpoint, { code, expiring: false });
  assert.ok(token.kind === 'online');
  return token;
}

/** Shopify's offline `Session` for a fresh install of `shop` (expiring or not), as `createSession` builds it. */
export async function offlineSession(
  emulator: Emulator,
  shop: string,
  options: { expiring?: boolean; refreshTokenExpires?: Date } = {},
): Promise<Session> {
  const token = await installOffline(emulator, shop, { expiring: options.expiring === true });
  const now = emulator.clock.now();
  return new Session({
    id: `offline_${shop}`,
    shop,
    state: 'state-nonce-123',
    isOnline: false,
    scope: token.scopes.join(','),
    accessToken: token.accessToken,
    ...(token.expiresIn === null ? {} : { expires: new Date(now + token.expiresIn * 1000) }),
    ...(token.refreshToken === null
      ? {}
      : {
          refreshToken: token.refreshToken,
          refreshTokenExpires: options.refreshTokenExpires ?? new Date(now + token.refreshTokenExpiresIn! * 1000),
        }),
  });
}

/** Shopify's online `Session` of a staff user of `shop`: id `{shop}_{userId}` (embedded) or random (`embedded: false`). */
export async function onlineSession(
  emulator: Emulator,
  shop: string,
  options: { embedded?: boolean; expires?: Date; userIndex?: number } = {},
): Promise<Session> {
  const token = await signIn(emulator, shop, options.userIndex ?? 0);
  const user = token.associatedUser;
  return new Session({
    id: options.embedded === false ? randomUUID() : `${shop}_${user.id}`,
    shop,
    state: 'state-nonce-123',
    isOnline: true,
    scope: token.scopes.join(','),
    accessToken: token.accessToken,
    expires: options.expires ?? new Date(emulator.clock.now() + token.expiresIn * 1000),
    onlineAccessInfo: {
      expires_in: token.expiresIn,
      associated_user_scope: token.associatedUserScopes.join(','),
      associated_user: {
        id: Number(user.id),
        first_name: user.firstName,
        last_name: user.lastName,
        email: user.email,
        email_verified: user.emailVerified,
        account_owner: user.accountOwner,
        locale: user.locale,
        collaborator: user.collaborator,
      },
    },
  });
}

/** What the scenario put in the source, to check the import against. */
export interface Scenario {
  /** Every session, in the order stored (the malformed ones last). */
  sessions: Session[];
  /** Shops whose offline token must be imported, and whether it expires. */
  offline: {
    shop: string;
    expiring: boolean;
    accessToken: string;
    expiresAt: number | null;
    refreshTokenExpiresAt: number | null;
  }[];
  /** Online tokens that must be imported. */
  online: { shop: string; userId: string; firstName: string; accessToken: string; expiresAt: number }[];
  /** Every token value and refresh token of the scenario: none may appear in any output. */
  secrets: string[];
}

/**
 * The sessions every layout is populated with (shop names carry `tag`, so runs never meet):
 * - one: offline non-expiring + an embedded online session;
 * - two: offline expiring + a non-embedded online session (random id);
 * - three: offline expiring;
 * - four: offline expiring whose refresh token has lapsed (skipped: expired);
 * - five: offline non-expiring + an online session past its expiry (skipped: expired);
 * - a session whose shop is not a shop domain, and one without an access token (skipped).
 */
export async function scenario(emulator: Emulator, tag: string): Promise<Scenario> {
  const shop = (name: string) => `import-${name}-${tag}.myshopify.com`;
  const now = emulator.clock.now();
  const sessions = [
    await offlineSession(emulator, shop('one')),
    await onlineSession(emulator, shop('one')),
    await offlineSession(emulator, shop('two'), { expiring: true }),
    await onlineSession(emulator, shop('two'), { embedded: false }),
    await offlineSession(emulator, shop('three'), { expiring: true }),
    await offlineSession(emulator, shop('four'), { expiring: true, refreshTokenExpires: new Date(now - DAY) }),
    await offlineSession(emulator, shop('five')),
    await onlineSession(emulator, shop('five'), { expires: new Date(now - 60_000) }),
  ];
  const bad = [
    new Session({ id: `bad_${tag}`, shop: 'not a shop', state: '', isOnline: false, accessToken: 'shpat_not_a_shop' }),
    new Session({
      id: `offline_${shop('six')}`,
      shop: shop('six'),
      state: '',
      isOnline: false,
      scope: 'write_products',
    }),
  ];
  const [one, oneUser, two, twoUser, three, , five] = sessions as [
    Session,
    Session,
    Session,
    Session,
    Session,
    Session,
    Session,
  ];
  const userOf = (session: Session) => ({
    shop: session.shop,
    userId: String(session.onlineAccessInfo!.associated_user.id),
    firstName: session.onlineAccessInfo!.associated_user.first_name!,
    accessToken: session.accessToken!,
    expiresAt: session.expires!.getTime(),
  });
  const offlineOf = (session: Session, expiring: boolean) => ({
    shop: session.shop,
    expiring,
    accessToken: session.accessToken!,
    expiresAt: session.expires?.getTime() ?? null,
    refreshTokenExpiresAt: session.refreshTokenExpires?.getTime() ?? null,
  });
  return {
    sessions: [...sessions, ...bad],
    offline: [offlineOf(one, false), offlineOf(two, true), offlineOf(three, true), offlineOf(five, false)],
    online: [userOf(oneUser), userOf(twoUser)],
    secrets: [...sessions, ...bad].flatMap((session) =>
      [session.accessToken, session.refreshToken].filter((value): value is string => typeof value === 'string'),
    ),
  };
}

/** The counts an import of the scenario reports (`extra` malformed items a layout adds). */
export function expectedCounts(options: { extraMalformed?: number } = {}) {
  const extra = options.extraMalformed ?? 0;
  return {
    read: 10 + extra,
    offline: 4,
    expiring: 2,
    online: 2,
    unchanged: 0,
    kept: 0,
    expired: 2,
    skipped: 4 + extra,
  };
}

/** The report's counts, to compare. */
export function counts(report: ImportReport) {
  const { read, offline, expiring, online, unchanged, kept, expired } = report;
  return { read, offline, expiring, online, unchanged, kept, expired, skipped: report.skipped.length };
}

/** Asserts the report's reasons: exactly the scenario's skips (plus `extraMalformed`). */
export function assertSkips(report: ImportReport, tag: string, extraMalformed = 0): void {
  const reasons = report.skipped.map((entry) => `${entry.shop ?? '-'} ${entry.kind ?? '-'} ${entry.reason}`).sort();
  const expected = [
    `- offline invalid_shop`,
    `import-four-${tag}.myshopify.com offline refresh_token_expired`,
    `import-five-${tag}.myshopify.com online online_expired`,
    `import-six-${tag}.myshopify.com offline no_access_token`,
    ...Array.from({ length: extraMalformed }, () => '- - malformed'),
  ].sort();
  assert.deepEqual(reasons, expected);
}

/**
 * After an import of the scenario: every imported shop's offline token and every user's online
 * token works against the emulator's Admin API through the vault, online tokens load with their
 * user, and the expiring ones refresh once their access token has expired.
 */
export async function assertImportedWork(emulator: Emulator, vault: Vault, expected: Scenario): Promise<void> {
  const listed = await vault.list();
  assert.equal(listed.filter((row) => row.kind === 'offline').length, expected.offline.length);
  assert.equal(listed.filter((row) => row.kind === 'online').length, expected.online.length);
  // The layouts keep whole seconds (or milliseconds): an expiry may move down by less than one.
  const sameTime = (actual: Date | null, want: number | null, what: string) => {
    if (want === null) assert.equal(actual, null, what);
    else assert.ok(actual && want - actual.getTime() >= 0 && want - actual.getTime() < 1000, what);
  };
  for (const { shop, expiring, accessToken, expiresAt, refreshTokenExpiresAt } of expected.offline) {
    const token = await vault.offline(shop);
    assert.ok(token, `${shop} has an offline token`);
    assert.equal(token.accessToken, accessToken);
    assert.equal(token.expiring, expiring, `${shop} expiring`);
    sameTime(token.expiresAt, expiresAt, `${shop} expiresAt`);
    sameTime(token.refreshTokenExpiresAt, refreshTokenExpiresAt, `${shop} refreshTokenExpiresAt`);
    assert.ok(token.installedAt, `${shop} counts as installed`);
    const { data } = await vault.admin(shop).request('{ shop { name } }');
    assert.ok((data as { shop: { name: string } }).shop.name, `${shop} answers the Admin API`);
  }
  for (const { shop, userId, firstName, accessToken, expiresAt } of expected.online) {
    const token = await vault.online(shop, userId);
    assert.ok(token, `${shop} user ${userId} has an online token`);
    assert.equal(token.accessToken, accessToken);
    sameTime(token.expiresAt, expiresAt, `${shop} user ${userId} expiresAt`);
    assert.equal(token.user.firstName, firstName);
    const { data } = await vault.admin(shop, { userId }).request('{ shop { name } }');
    assert.ok((data as { shop: { name: string } }).shop.name, `${shop} user ${userId} answers the Admin API`);
  }
  // Two hours on: the expiring access tokens are dead at the emulator, and the vault refreshes them.
  const grantsBefore = emulator.grants().filter((grant) => grant.grantType === 'refresh_token').length;
  emulator.clock.advance(2 * HOUR);
  for (const { shop, expiring, accessToken } of expected.offline) {
    const { data } = await vault.admin(shop).request('{ shop { name } }');
    assert.ok((data as { shop: { name: string } }).shop.name);
    const token = await vault.token(shop);
    assert.equal(token.accessToken === accessToken, !expiring, `${shop}: refreshed only when expiring`);
  }
  const refreshes = emulator.grants().filter((grant) => grant.grantType === 'refresh_token').length - grantsBefore;
  assert.equal(refreshes, expected.offline.filter((entry) => entry.expiring).length);
}

/** Asserts no token or refresh token of the scenario appears in `text`. */
export function assertNoSecrets(text: string, expected: Scenario): void {
  for (const secret of expected.secrets) assert.ok(!text.includes(secret), 'a token appears in the output');
}

/**
 * The whole check of one source: a dry run reports the exact counts and writes nothing; the import
 * reports them again and writes; a rerun changes nothing; every imported token works (see
 * {@link assertImportedWork}); no report holds a token.
 */
export async function importAndCheck(options: {
  emulator: Emulator;
  vault: Vault;
  expected: Scenario;
  from: string;
  table?: string;
  tag: string;
  extraMalformed?: number;
  layout: 'session-storage' | 'prisma';
}): Promise<ImportReport> {
  const { emulator, vault, expected, from, tag, extraMalformed = 0 } = options;
  const args = { from, vault, ...(options.table === undefined ? {} : { table: options.table }) };
  const want = expectedCounts({ extraMalformed });

  const dry = await importSessions({ ...args, dryRun: true });
  assert.equal(dry.dryRun, true);
  assert.deepEqual(counts(dry), want);
  assert.equal(dry.source.layout, options.layout);
  assert.deepEqual(await vault.list(), [], 'a dry run writes nothing');

  const progress: { done: number; total: number }[] = [];
  const report = await importSessions({ ...args, onProgress: (p) => progress.push(p) });
  assert.equal(report.dryRun, false);
  assert.deepEqual(counts(report), want);
  assertSkips(report, tag, extraMalformed);
  assert.ok(progress.length > 0 && progress.at(-1)!.done === progress.at(-1)!.total, 'progress reaches its total');
  assertNoSecrets(JSON.stringify(report), expected);
  assertNoSecrets(JSON.stringify(dry), expected);

  const before = await vault.list();
  const again = await importSessions(args);
  assert.deepEqual(counts(again), {
    ...want,
    offline: 0,
    expiring: 0,
    online: 0,
    unchanged: want.offline + want.online,
  });
  assert.deepEqual(await vault.list(), before, 'a rerun changes nothing');

  await assertImportedWork(emulator, vault, expected);
  return report;
}
