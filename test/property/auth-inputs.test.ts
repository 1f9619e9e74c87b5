/**
 * No bad input gets a 5xx, stores anything, or reads back a secret — a property-based test over the
 * flow wired to the in-process emulator, with one installed shop whose tokens must not move.
 *
 * Each generated case is one request to the app (shoptoken's paths, then requireSession on any other
 * path) with random or missing or repeated `shop`, `hmac`, `timestamp`, `state`, `code`, `host`,
 * `grant_options[]`, `embedded` and junk parameters; raw percent-encoding junk; odd methods, cookies,
 * origins and huge values. Some cases are coherent enough to reach the code exchange: a fresh state
 * issued by the app, its cookie, and a VALID hmac (computed with the app's secret) over the garbage —
 * so Shopify's refusal of the code is exercised, not only the early checks. For every case: the
 * status is below 500; the vault lists exactly what it listed before; no response body or header
 * holds the client secret, an issued code or token, or anything shaped like a Shopify token; every
 * cookie set keeps the flow's attributes; and a 405 says what is allowed.
 *
 * Runs `SHOPTOKEN_PROPERTY_RUNS` cases (default 1,000) from the fixed seed `SHOPTOKEN_PROPERTY_SEED`;
 * fast-check prints the seed and the path of a failing case, so `SHOPTOKEN_PROPERTY_SEED=… ` replays it.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { signQuery } from '../../src/protocol/hmac.ts';
import { API_SECRET, APP_URL, appFetcher, createInstallFixture } from '../helpers/install-fixture.ts';
import { SESSION_COOKIE, STATE_COOKIE } from '../helpers/security.ts';

const SEED = Number(process.env.SHOPTOKEN_PROPERTY_SEED ?? 20_261_122);
const RUNS = Number(process.env.SHOPTOKEN_PROPERTY_RUNS ?? 1000);

const INSTALLED = 'installed-shop.myshopify.com';
/** The shops with codes issued and not exchanged; the app never issues a state for them. */
const CODE_SHOPS = ['code-shop-0.myshopify.com', 'code-shop-1.myshopify.com', 'code-shop-2.myshopify.com'];
const CODE_SHOP = CODE_SHOPS[0]!;
const SHOPS = [INSTALLED, 'cool-shop.myshopify.com', 'Cool-Shop.MYSHOPIFY.com', CODE_SHOP];
const TOKEN_LIKE = /shp[a-z]{2}_[0-9a-f]{16,}/;
const HOST = Buffer.from('admin.shopify.com/store/cool-shop').toString('base64').replace(/=+$/, '');

/** Text a header accepts (no NUL, CR, LF; ByteString), printable or not. */
const headerText = (maxLength: number) =>
  fc
    .string({ unit: 'binary-ascii', maxLength })
    .map((s) => s.replace(/[\0\r\n]/g, '').trim())
    .filter((s) => s.length > 0);
const huge = fc.integer({ min: 4000, max: 40_000 }).map((n) => 'a%'.repeat(n / 2));
const junk = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), headerText(40), huge, fc.constant(''));

/** Values for each parameter the flow reads: plausible ones, near misses and junk. */
const values: Record<string, fc.Arbitrary<string>> = {
  shop: fc.oneof(
    fc.constantFrom(...SHOPS),
    fc.constantFrom('evil.com', `${INSTALLED}.evil.com`, `https://${INSTALLED}`),
    junk,
  ),
  hmac: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.stringMatching(/^[0-9A-F]{64}$/), junk),
  timestamp: fc.oneof(
    fc.integer({ min: -200, max: 200 }).map((d) => `now${d}`),
    fc.constantFrom('0', '-1', '1e10', '99999999999999999999', ' 1', 'NaN'),
    junk,
  ),
  state: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), junk),
  code: fc.oneof(fc.constant('real'), fc.stringMatching(/^[A-Za-z0-9]{32}$/), junk),
  host: fc.oneof(fc.constant(HOST), fc.constant(Buffer.from('evil.com/admin').toString('base64')), junk),
  'grant_options[]': fc.oneof(fc.constantFrom('per-user', '', 'offline', 'per-user,per-user'), junk),
  embedded: fc.oneof(fc.constantFrom('1', '0', 'true'), junk),
};

const encoding = fc.constantFrom('standard', 'standard', 'raw', '%junk', 'plus');

/** One parameter: a known name with a value for it, or a random name and value; and how the pair is spelled. */
const param = fc.oneof(
  ...Object.entries(values).map(([name, value]) =>
    fc.record({ name: fc.constant(name), value, encoding, codeIndex: fc.nat(2) }),
  ),
  fc.record({ name: junk, value: junk, encoding, codeIndex: fc.constant(0) }),
);

/** What one case asks for; materialized into a Request by {@link buildRequest}. */
const requestCase = fc.record({
  method: fc.oneof(
    { weight: 6, arbitrary: fc.constant('GET') },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        'HEAD',
        'POST',
        'PUT',
        'DELETE',
        'PATCH',
        'OPTIONS',
        'PROPFIND',
        'M-SEARCH',
        'get',
        'purge',
      ),
    },
  ),
  path: fc.constantFrom(
    '/auth',
    '/auth/callback',
    '/auth/callback',
    '/auth/logout',
    '/',
    '/orders',
    '/auth/',
    '/AUTH',
    '/auth/./callback',
    '//auth',
  ),
  params: fc.array(param, { maxLength: 12 }),
  /** A fresh state from the app for one of these shops, with its cookie and the query's `state`/`shop`. */
  freshState: fc.option(fc.constantFrom(INSTALLED, 'cool-shop.myshopify.com'), { freq: 2 }),
  sign: fc.constantFrom('none', 'valid', 'valid', 'other-secret', 'valid-then-edit'),
  tail: fc.constantFrom('', '&', '&&=&', '=', '%', '%zz', '&hmac', '#frag', '&shop=', '&%E0%A4%A=1'),
  cookies: fc.array(
    fc.oneof(
      fc.constantFrom('real-session', 'state', 'state', `${SESSION_COOKIE}=`, `${STATE_COOKIE}=x.y`, '=', ';;'),
      headerText(60),
      huge,
      fc.tuple(fc.constantFrom(SESSION_COOKIE, STATE_COOKIE), headerText(80)).map(([n, v]) => `${n}=${v}`),
    ),
    { maxLength: 4 },
  ),
  origin: fc.option(fc.oneof(fc.constantFrom(APP_URL, 'https://evil.example', 'null'), headerText(30))),
  body: fc.option(fc.string({ maxLength: 200 })),
});

type Case = typeof requestCase extends fc.Arbitrary<infer T> ? T : never;

/**
 * Cases that pass every check up to the code exchange: GET on the callback with a fresh state, its
 * cookie, a code and a valid hmac over whatever else was generated (never a second shop or state).
 */
const NON_CONFLICTING = new Set(['code', 'host', 'grant_options[]', 'embedded']);
const exchangeCase = fc
  .record({
    code: fc.record({
      name: fc.constant('code'),
      value: values.code!,
      encoding: fc.constant('standard'),
      codeIndex: fc.nat(2),
    }),
    params: fc.array(param, { maxLength: 6 }),
    freshState: fc.constantFrom(INSTALLED, 'cool-shop.myshopify.com'),
    cookies: fc.array(fc.constantFrom('state', 'real-session', `${SESSION_COOKIE}=x`), { minLength: 1, maxLength: 3 }),
  })
  .chain((x) =>
    requestCase.map(
      (c): Case => ({
        ...c,
        method: 'GET',
        path: '/auth/callback',
        sign: 'valid',
        tail: '',
        freshState: x.freshState,
        params: [x.code, ...x.params.filter((p) => NON_CONFLICTING.has(p.name))],
        cookies: x.cookies.includes('state') ? x.cookies : ['state', ...x.cookies],
      }),
    ),
  );

/** Spells `text` in the query the way `encoding` says. */
function spell(text: string, encoding: string): string {
  switch (encoding) {
    case 'raw':
      return text;
    case '%junk':
      return `${encodeURIComponent(text)}%${text.length % 2 ? 'g' : ''}`;
    case 'plus':
      return encodeURIComponent(text).replace(/%20/g, '+');
    default:
      return encodeURIComponent(text);
  }
}

describe('property: no bad auth request gets a 5xx, stores anything or leaks a secret', () => {
  it(`holds for ${RUNS} generated requests (seed ${SEED})`, { timeout: 300_000 }, async (t) => {
    const f = createInstallFixture();
    const app = appFetcher(f.shoptoken);
    await f.install(INSTALLED);
    const realSession = `${SESSION_COOKIE}=${f.browser.jar.get(SESSION_COOKIE)!.value}`;
    // Real codes Shopify issued for a shop no state of the app is for: never exchangeable here.
    const codes: string[] = [];
    for (const shop of CODE_SHOPS) {
      codes.push((await f.callbackOfInstall(shop, 'Olivia', f.newBrowser())).searchParams.get('code')!);
    }
    const secrets = [API_SECRET, ...codes];
    for (const body of f.tokenResponses) {
      const parsed = JSON.parse(body) as { access_token?: string; refresh_token?: string };
      for (const value of [parsed.access_token, parsed.refresh_token]) if (value) secrets.push(value);
    }
    assert.ok(secrets.length >= 5, 'the install issued tokens to look for');
    const stored = await f.vault.list();
    const now = () => Math.floor(f.clock.now() / 1000);
    const stats = { reachedExchange: 0, statuses: new Map<number, number>() };

    /** The Request a case stands for. */
    async function buildRequest(c: Case): Promise<Request> {
      let stateCookie: string | null = null;
      const pairs: [string, string, string][] = [];
      if (c.freshState) {
        const started = await f.shoptoken.handle(new Request(`${APP_URL}/auth?shop=${c.freshState}`));
        const location = new URL(started!.headers.get('location')!);
        const set = started!.headers.getSetCookie()[0]!;
        stateCookie = set.slice(0, set.indexOf(';'));
        pairs.push(['shop', c.freshState, 'standard'], ['state', location.searchParams.get('state')!, 'standard']);
        pairs.push(['timestamp', String(now()), 'standard']);
      }
      for (const p of c.params) {
        let value = p.value;
        if (p.name === 'timestamp' && value.startsWith('now')) value = String(now() + Number(value.slice(3)));
        if (p.name === 'code' && value === 'real') value = codes[p.codeIndex]!;
        pairs.push([p.name, value, p.encoding]);
      }
      let query = pairs.map(([k, v, e]) => `${spell(k, e)}=${spell(v, e)}`).join('&') + c.tail;
      if (c.sign !== 'none') {
        const parsed = new URL(`${APP_URL}/x?${query}`).searchParams;
        parsed.delete('hmac');
        const hmac = signQuery(parsed, c.sign === 'other-secret' ? 'another-secret' : API_SECRET);
        query = `${query}&hmac=${hmac}`;
        if (c.sign === 'valid-then-edit') query += '&shop=cool-shop.myshopify.com';
      }
      const url = `${APP_URL}${c.path}?${query}`;
      const headers = new Headers();
      const isLogout = new URL(url).pathname === '/auth/logout';
      const cookies = c.cookies
        .map((piece) =>
          piece === 'state' ? stateCookie : piece === 'real-session' ? (isLogout ? null : realSession) : piece,
        )
        .filter((piece): piece is string => piece !== null);
      if (cookies.length > 0) headers.set('cookie', cookies.join('; '));
      if (c.origin !== null) headers.set('origin', c.origin);
      const body = c.body !== null && !['GET', 'HEAD', 'get'].includes(c.method) ? c.body : undefined;
      return new Request(url, { method: c.method, headers, body });
    }

    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 4, arbitrary: requestCase }, { weight: 1, arbitrary: exchangeCase }),
        async (c) => {
          const request = await buildRequest(c);
          const grantsBefore = f.emulator.grants().length;
          const response = await app(request);
          const text = await response.text();
          if (f.emulator.grants().length > grantsBefore) stats.reachedExchange++;
          stats.statuses.set(response.status, (stats.statuses.get(response.status) ?? 0) + 1);

          assert.ok(response.status < 500, `status ${response.status}: ${text.slice(0, 200)}`);
          assert.deepEqual(await f.vault.list(), stored, 'nothing stored, nothing removed');
          const everything = [text, ...[...response.headers].map(([name, value]) => `${name}: ${value}`)].join('\n');
          assert.doesNotMatch(everything, TOKEN_LIKE);
          for (const secret of secrets) assert.ok(!everything.includes(secret), 'no secret, code or token');
          for (const cookie of response.headers.getSetCookie()) {
            assert.match(
              cookie,
              /^__Host-shoptoken_(state|session)=[^;]*; Path=\/; HttpOnly; Secure; SameSite=Lax; Max-Age=\d+$/,
            );
          }
          if (response.status === 405) assert.ok(response.headers.get('allow'), '405 says what is allowed');
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );

    const seen = [...stats.statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`);
    t.diagnostic(`statuses ${seen.join(' ')}; reached the code exchange ${stats.reachedExchange} times`);
    // The generator reached the deep paths, not only the first checks.
    assert.ok(stats.reachedExchange >= RUNS / 100, `reached the code exchange ${stats.reachedExchange} times`);
    for (const status of [200, 302, 400, 401, 403, 405]) assert.ok(stats.statuses.has(status), `saw ${status}`);
  });
});
