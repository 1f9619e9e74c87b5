/**
 * node:http <-> web Request/Response; shoptokenNode, which never throws or rejects (TRACE, headers
 * the web Headers refuses, errors from inside); and the whole install through a plain node:http server.
 */

import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sendWebResponse, shoptokenNode, toWebRequest } from '../../src/adapters/node-http.ts';
import { webRequest } from '../../src/adapters/request.ts';
import { createSigner } from '../../src/auth/signing.ts';
import type { Shoptoken } from '../../src/auth/types.ts';
import type { TokenVault } from '../../src/vault/types.ts';
import { checkAdapterFlow, checkUnsupportedMethod } from '../helpers/adapter-flow.ts';
import { API_SECRET, APP_URL, createInstallFixture } from '../helpers/install-fixture.ts';
import { type SocketFixture, startSocketFixture } from '../helpers/socket-fixture.ts';

interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One request to `listener` over a real socket, with an exact request target and headers. */
async function roundTrip(
  listener: RequestListener,
  options: { path: string; method?: string; headers?: Record<string, string>; body?: string },
): Promise<RawResponse> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<RawResponse>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, ...options }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end(options.body);
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** A stand-in for a Node request, for what a real socket cannot carry to the listener. */
function fakeRequest(fields: { method?: string; headers?: Record<string, string | string[]> }): IncomingMessage {
  return { method: fields.method ?? 'GET', headers: fields.headers ?? {}, socket: {}, url: '/' } as IncomingMessage;
}

describe('node:http adapter', () => {
  it('toWebRequest keeps method, path, query and headers, and the path cannot change the origin', async () => {
    let seen = null as Request | null;
    let seenWithOrigin = null as Request | null;
    await roundTrip(
      (req, res) => {
        seen = toWebRequest(req);
        seenWithOrigin = toWebRequest(req, 'https://app.example.com');
        res.end();
      },
      { path: '//evil.com/auth?shop=a.myshopify.com', headers: { 'x-test': 'yes', cookie: 'a=1; b=2' } },
    );
    assert.ok(seen && seenWithOrigin);
    const url = new URL(seen.url);
    assert.equal(url.hostname, '127.0.0.1');
    assert.equal(url.pathname, '//evil.com/auth');
    assert.equal(url.searchParams.get('shop'), 'a.myshopify.com');
    assert.equal(seen.method, 'GET');
    assert.equal(seen.headers.get('x-test'), 'yes');
    assert.equal(seen.headers.get('cookie'), 'a=1; b=2');
    assert.equal(new URL(seenWithOrigin.url).origin, 'https://app.example.com');
  });

  it('toWebRequest falls back to localhost for a malformed Host header', async () => {
    let seen = null as Request | null;
    await roundTrip(
      (req, res) => {
        seen = toWebRequest(req);
        res.end();
      },
      { path: '/auth', headers: { host: 'evil.com/path@x' } },
    );
    assert.equal(new URL(seen!.url).origin, 'http://localhost');
    await roundTrip(
      (req, res) => {
        seen = toWebRequest(req);
        res.end();
      },
      { path: '/auth', headers: { host: '1.2.3.4.5:99999' } },
    );
    assert.equal(new URL(seen!.url).origin, 'http://localhost', 'a Host the URL parser refuses');
  });

  it('toWebRequest leaves the request body for the app', async () => {
    let body = '';
    await roundTrip(
      async (req, res) => {
        const web = toWebRequest(req);
        assert.equal(web?.body, null);
        for await (const chunk of req) body += chunk;
        res.end();
      },
      {
        path: '/form',
        method: 'POST',
        body: 'a=1&b=2',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
    );
    assert.equal(body, 'a=1&b=2');
  });

  it('toWebRequest returns null, never throws, for a method no web Request can carry or a bad origin', async () => {
    let traced: Request | null | undefined;
    let badOrigin: Request | null | undefined;
    await roundTrip(
      (req, res) => {
        traced = toWebRequest(req);
        res.end();
      },
      { path: '/auth', method: 'TRACE' },
    );
    await roundTrip(
      (req, res) => {
        badOrigin = toWebRequest(req, 'not a url');
        res.end();
      },
      { path: '/auth' },
    );
    assert.equal(traced, null);
    assert.equal(badOrigin, null);
    for (const method of ['TRACE', 'TRACK', 'CONNECT', 'track']) {
      assert.equal(webRequest(fakeRequest({ method }), '/auth'), null, method);
    }
  });

  it('webRequest leaves out a header the web Headers refuses instead of throwing', () => {
    const request = webRequest(
      fakeRequest({
        headers: {
          'x-nul': 'a\0b',
          'x-newline': 'a\r\nb',
          'bad name': 'x',
          'x-wide': 'caf\u00e9 \u2603',
          cookie: 'a=1',
          'x-list': ['1', '2\n3'],
        },
      }),
      '/auth?shop=a.myshopify.com',
    );
    assert.ok(request);
    assert.equal(request.headers.get('cookie'), 'a=1');
    assert.equal(request.headers.get('x-list'), '1');
    for (const name of ['x-nul', 'x-newline', 'x-wide']) assert.equal(request.headers.get(name), null, name);
  });

  it('sendWebResponse writes status, headers, every Set-Cookie and the body', async () => {
    const response = await roundTrip(
      (_req, res) => {
        const headers = new Headers({ location: '/next', 'content-type': 'text/plain' });
        headers.append('set-cookie', 'a=1; Path=/');
        headers.append('set-cookie', 'b=2; Path=/; HttpOnly');
        void sendWebResponse(res, new Response('moved', { status: 302, headers }));
      },
      { path: '/' },
    );
    assert.equal(response.status, 302);
    assert.equal(response.headers.location, '/next');
    assert.deepEqual(response.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
    assert.equal(response.body, 'moved');
  });

  describe('the install through a plain node:http server', () => {
    let f: SocketFixture;
    // The README's shape: shoptokenNode answers its paths and protected pages; `/` reads the optional session.
    const listener = (st: Shoptoken): RequestListener => {
      const auth = shoptokenNode(st);
      return async (req, res) => {
        if (await auth.handle(req, res)) return;
        if (req.url === '/') {
          const request = toWebRequest(req);
          const signedIn = request !== null && (await st.session(request)) !== null;
          return sendWebResponse(res, Response.json({ signedIn }));
        }
        const session = await auth.requireSession(req, res);
        if (!session) return;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ shop: session.shop, userId: session.userId, offline: session.offline !== null }));
      };
    };
    before(async () => {
      f = await startSocketFixture(listener);
    });
    after(() => f.close());

    it('installs with both tokens and protects a route', () => checkAdapterFlow(f));
    it('answers TRACE itself (405) and stays alive', () => checkUnsupportedMethod(f));
  });
});

describe('shoptokenNode never throws or rejects', () => {
  const SHOP = 'cool-shop.myshopify.com';

  /** A shoptoken whose vault fails every read, with a detail that must not reach the browser. */
  function failingShoptoken(): Shoptoken {
    const f = createInstallFixture();
    const down = async (): Promise<never> => {
      throw new Error('storage down: detail-for-operators-only');
    };
    const vault: TokenVault = {
      saveOffline: (input) => f.vault.saveOffline(input),
      saveOnline: (input) => f.vault.saveOnline(input),
      offline: down,
      online: down,
      deleteOnline: (shop, userId) => f.vault.deleteOnline(shop, userId),
      markInstalled: (shop) => f.vault.markInstalled(shop),
      list: () => f.vault.list(),
      close: () => f.vault.close(),
    };
    return f.create({ vault });
  }

  const app = (st: Shoptoken): RequestListener => {
    const auth = shoptokenNode(st);
    return async (req, res) => {
      if (await auth.handle(req, res)) return;
      const session = await auth.requireSession(req, res);
      if (session) res.end(`Hello ${session.online.user.firstName}`);
    };
  };

  /** Runs `body` while recording process warnings and unhandled rejections. */
  async function watching(body: () => Promise<void>): Promise<{ warnings: Error[]; rejections: unknown[] }> {
    const warnings: Error[] = [];
    const rejections: unknown[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning);
    const onRejection = (reason: unknown) => void rejections.push(reason);
    process.on('warning', onWarning);
    process.on('unhandledRejection', onRejection);
    try {
      await body();
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
      process.off('unhandledRejection', onRejection);
    }
    return { warnings, rejections };
  }

  it('answers an error from inside (the vault) with a bare 500 and reports it as a warning', async () => {
    const st = failingShoptoken();
    const responses: RawResponse[] = [];
    const { warnings, rejections } = await watching(async () => {
      responses.push(await roundTrip(app(st), { path: `/auth?shop=${SHOP}` })); // handle(): the leg needs the vault
      // requireSession(): a well-signed cookie, so the session is looked up in the vault.
      const value = createSigner([API_SECRET], 'session-cookie').sign(`${SHOP}.42.${'A'.repeat(22)}`);
      responses.push(
        await roundTrip(app(st), { path: '/orders', headers: { cookie: `__Host-shoptoken_session=${value}` } }),
      );
    });
    for (const response of responses) {
      assert.equal(response.status, 500);
      assert.equal(response.body, 'Internal Server Error\n');
      assert.equal(response.headers['set-cookie'], undefined);
    }
    assert.deepEqual(rejections, []);
    const ours = warnings.filter((w) => w.name === 'ShoptokenWarning');
    assert.equal(ours.length, 2);
    for (const warning of ours) {
      assert.doesNotMatch(warning.message, /detail-for-operators-only/);
      assert.match(String((warning.cause as Error).message), /storage down/);
    }
  });

  it('answers TRACE on its paths with 405 and Allow, and leaves other paths to the app', async () => {
    const f = createInstallFixture();
    const auth = shoptokenNode(f.shoptoken);
    const handled: boolean[] = [];
    const listener: RequestListener = async (req, res) => {
      handled.push(await auth.handle(req, res));
      if (!res.writableEnded) res.end('the app');
    };
    const { rejections } = await watching(async () => {
      const flow = await roundTrip(listener, { path: '/auth/logout', method: 'TRACE' });
      assert.equal(flow.status, 405);
      assert.equal(flow.headers.allow, 'POST');
      const own = await roundTrip(listener, { path: '/somewhere', method: 'TRACE' });
      assert.equal(own.body, 'the app');
    });
    assert.deepEqual(handled, [true, false]);
    assert.deepEqual(rejections, []);
  });

  it('checks its origin option when it is built', () => {
    const st = createInstallFixture().shoptoken;
    assert.throws(() => shoptokenNode(st, { origin: 'not a url' }), TypeError);
    assert.ok(shoptokenNode(st, { origin: APP_URL }));
  });
});
