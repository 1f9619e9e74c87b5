/**
 * Installing an app on emulator shops in process (not timed): the consent form is submitted and the
 * code exchanged for an offline token, so the emulator knows every token the benchmarks then use.
 */
import { randomBytes } from 'node:crypto';
import type { Emulator } from '../src/emulator/index.ts';
import { exchangeAuthorizationCode } from '../src/protocol/tokens.ts';

/** The origin in-process requests carry; the emulator does not read it. */
export const ORIGIN = 'http://emulator.bench';

/** An app registered with the emulator. */
export interface BenchApp {
  clientId: string;
  clientSecret: string;
  redirectUrls: string[];
}

/** A new app with a random secret. */
export const benchApp = (clientId: string): BenchApp => ({
  clientId,
  clientSecret: randomBytes(16).toString('hex'),
  redirectUrls: ['https://app.example/auth/callback'],
});

/** The emulator served in process, as a fetch. */
export const inProcessFetch = (emulator: Emulator): typeof fetch =>
  ((input: string | URL | Request, init?: RequestInit) => emulator.fetch(new Request(input, init))) as typeof fetch;

/** An expiring offline pair as the emulator issued it, with its lifetimes in ms from `issuedAt`. */
export interface IssuedPair {
  accessToken: string;
  refreshToken: string;
  scopes: string[];
  issuedAt: number;
  expiresInMs: number;
  refreshTokenExpiresInMs: number;
}

/** Installs `app` on `shop` (offline, expiring) through the emulator in process; returns the pair. */
export async function installExpiring(emulator: Emulator, app: BenchApp, shop: string): Promise<IssuedPair> {
  const form = new URLSearchParams({
    client_id: app.clientId,
    scope: 'write_products',
    redirect_uri: app.redirectUrls[0]!,
    state: randomBytes(8).toString('hex'),
    'grant_options[]': '',
    user_id: emulator.shop(shop)!.users[0]!.id,
    action: 'install',
  });
  const consent = await emulator.fetch(
    new Request(`${ORIGIN}/${shop}/admin/oauth/authorize`, { method: 'POST', body: form }),
  );
  const code = new URL(consent.headers.get('location') ?? 'x:').searchParams.get('code');
  if (consent.status !== 302 || !code) throw new Error(`install of ${shop} answered ${consent.status}`);
  const endpoint = { baseUrl: `${ORIGIN}/{shop}`, shop, ...app, fetch: inProcessFetch(emulator) };
  const token = await exchangeAuthorizationCode(endpoint, { code, expiring: true });
  if (token.kind !== 'offline' || !token.refreshToken || !token.expiresIn || !token.refreshTokenExpiresIn) {
    throw new Error(`install of ${shop} did not return an expiring offline token`);
  }
  return {
    accessToken: token.accessToken,
    refreshToken: token.refreshToken,
    scopes: token.scopes,
    issuedAt: emulator.clock.now(),
    expiresInMs: token.expiresIn * 1000,
    refreshTokenExpiresInMs: token.refreshTokenExpiresIn * 1000,
  };
}
