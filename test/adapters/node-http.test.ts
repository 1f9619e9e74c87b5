/** node:http <-> web Request/Response, and the whole install through a plain node:http server. */

import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sendWebResponse, toWebRequest } from '../../src/adapters/node-http.ts';
import type { Shoptoken } from '../../src/auth/types.ts';
import { checkAdapterFlow } from '../helpers/adapter-flow.ts';
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

describe('node:http adapter', () => {
  it('toWebRequest keeps method, path, query and headers, and the path cannot change the origin', async () => {
    let seen: Request | undefined;
    let seenWithOrigin: Request | undefined;
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
    let seen: Request | undefined;
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
        assert.equal(web.body, null);
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

  it('toWebRequest refuses a method no web Request can carry', async () => {
    let error: unknown;
    await roundTrip(
      (req, res) => {
        try {
          toWebRequest(req);
        } catch (e) {
          error = e;
        }
        res.end();
      },
      { path: '/', method: 'TRACE' },
    );
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /TRACE/);
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
    const listener =
      (st: Shoptoken): RequestListener =>
      async (req, res) => {
        const request = toWebRequest(req);
        const handled = await st.handle(request);
        if (handled) return sendWebResponse(res, handled);
        const path = new URL(request.url).pathname;
        if (path === '/') {
          const signedIn = (await st.session(request)) !== null;
          return sendWebResponse(res, Response.json({ signedIn }));
        }
        const result = await st.requireSession(request);
        if (result instanceof Response) return sendWebResponse(res, result);
        return sendWebResponse(
          res,
          Response.json({ shop: result.shop, userId: result.userId, offline: result.offline !== null }),
        );
      };
    before(async () => {
      f = await startSocketFixture(listener);
    });
    after(() => f.close());

    it('installs with both tokens and protects a route', () => checkAdapterFlow(f));
  });
});
