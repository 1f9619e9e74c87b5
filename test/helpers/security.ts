/**
 * Tools for the security tests: change one thing in a real, emulator-signed callback (re-signing it
 * when the change must not trip the hmac check), and check that a rejection changed nothing.
 */

import assert from 'node:assert/strict';
import { signQuery } from '../../src/protocol/hmac.ts';
import type { TokenMetadata } from '../../src/vault/types.ts';
import type { Browser, Page } from './browser.ts';
import { API_SECRET, APP_URL, EMULATOR_ORIGIN, type InstallFixture, isCallback } from './install-fixture.ts';

export const STATE_COOKIE = '__Host-shoptoken_state';
export const SESSION_COOKIE = '__Host-shoptoken_session';

/** True for any URL on the emulator: where a test stops to look at (or edit) an authorize URL. */
export const toEmulator = (url: URL): boolean => url.origin === EMULATOR_ORIGIN;

/** `url` with `changes` applied (`undefined` deletes a parameter), signed again with `secret`. */
export function resign(url: URL, changes: Record<string, string | undefined>, secret = API_SECRET): string {
  const query = new URLSearchParams(url.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) query.delete(key);
    else query.set(key, value);
  }
  query.set('hmac', signQuery(query, secret));
  return `${url.origin}${url.pathname}?${query}`;
}

/** `url` with one parameter changed, keeping Shopify's hmac (which then no longer matches). */
export function withParam(url: URL, key: string, value: string | undefined): string {
  const copy = new URL(url);
  if (value === undefined) copy.searchParams.delete(key);
  else copy.searchParams.set(key, value);
  return copy.href;
}

/** What a rejection must leave as it was. */
export interface Snapshot {
  tokens: TokenMetadata[];
  /** How many token requests the emulator served. */
  grants: number;
}

export async function snapshot(f: InstallFixture): Promise<Snapshot> {
  return { tokens: await f.vault.list(), grants: f.emulator.grants().length };
}

/** The callback itself answered `status`; the vault is unchanged and no code was exchanged. */
export async function assertRejected(f: InstallFixture, page: Page, status: number, before: Snapshot): Promise<void> {
  assert.equal(page.status, status, page.body);
  assert.ok(isCallback(new URL(page.url)), `the callback answered, not ${page.url}`);
  assert.deepEqual(await f.vault.list(), before.tokens, 'nothing stored');
  assert.equal(f.emulator.grants().length, before.grants, 'no code exchanged');
}

/** The rejection set no cookie, so the browser's pending state cookie is still the one it had. */
export function assertNoCookieSet(page: Page): void {
  assert.deepEqual(page.hops.at(-1)?.setCookies, [], 'no Set-Cookie on a callback rejected before its state');
}

/**
 * Follows the GENUINE offline callback in `browser` (its own cookie jar, as the rejected request left
 * it) and checks that it completes the offline leg and, through the per-user leg, the install.
 */
export async function assertGenuineCallbackSucceeds(f: InstallFixture, browser: Browser, callback: URL): Promise<void> {
  const page = await browser.navigate(callback.href);
  const first = page.hops[0]!;
  assert.equal(first.status, 302);
  const next = new URL(first.location!);
  assert.equal(next.origin, EMULATOR_ORIGIN, `the genuine callback went on to ${next.href}`);
  assert.equal(next.searchParams.get('grant_options[]'), 'per-user', 'it completed the offline leg');
  assert.equal(page.status, 200);
  assert.equal(new URL(page.url).origin, APP_URL);
  assert.deepEqual(
    f.emulator.grants().map((g) => [g.accessMode, g.status]),
    [
      ['offline', 200],
      ['online', 200],
    ],
  );
}

/** Opens `/auth?shop=` in `browser` and returns the authorize URL the app redirects to, not yet followed. */
export async function authorizeUrlOf(browser: Browser, shop: string): Promise<URL> {
  const page = await browser.navigate(`${APP_URL}/auth?shop=${shop}`, { stopBefore: toEmulator });
  const location = page.headers.get('location');
  if (page.status !== 302 || location === null) throw new Error(`the flow did not start: ${page.status}`);
  return new URL(location);
}

/** Follows the offline callback in `browser` and returns the per-user leg's callback URL, not yet followed. */
export async function perUserCallbackOf(browser: Browser, offlineCallback: URL): Promise<URL> {
  const page = await browser.navigate(offlineCallback.href, { stopBefore: isCallback });
  const location = page.headers.get('location');
  if (page.status !== 302 || location === null || !isCallback(new URL(location))) {
    throw new Error(`the per-user leg did not come back: ${page.status} at ${page.url}`);
  }
  return new URL(location);
}
