/**
 * The webhook middleware of each adapter over a real socket: the raw body reaches the HMAC check, a
 * delivery is acknowledged and then handled, a forged one is refused, other paths fall through, and
 * a body parser mounted first is either used (raw) or reported.
 */

import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import express from 'express';
import Koa from 'koa';
import { webhooksExpress } from '../../src/adapters/express.ts';
import { webhooksKoa } from '../../src/adapters/koa.ts';
import { webhooksNode } from '../../src/adapters/node-http.ts';
import type { Webhooks } from '../../src/webhooks/types.ts';
import { deliveryRequest, inbox } from '../webhooks/fixture.ts';

async function serve(listener: RequestListener): Promise<{ url: string; server: Server }> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Sends `request` (built for https://app.example.com) to `url` instead, as Shopify would over the wire. */
async function send(url: string, request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  return fetch(`${url}${pathname}`, {
    method: request.method,
    headers: request.headers,
    body: request.method === 'GET' ? null : await request.text(),
  });
}

type Build = (webhooks: Webhooks) => RequestListener;

const builds: Record<string, Build> = {
  koa: (webhooks) => {
    const app = new Koa();
    app.use(webhooksKoa(webhooks));
    app.use((ctx) => {
      ctx.body = 'app';
    });
    return app.callback();
  },
  express: (webhooks) => {
    const app = express();
    app.use(webhooksExpress(webhooks));
    app.use(express.json());
    app.use((_req, res) => void res.send('app'));
    return app;
  },
  'express with express.raw() first': (webhooks) => {
    const app = express();
    app.use(express.raw({ type: '*/*' }));
    app.use(webhooksExpress(webhooks));
    app.use((_req, res) => void res.send('app'));
    return app;
  },
  'node:http': (webhooks) => {
    const deliveries = webhooksNode(webhooks);
    return async (req, res) => {
      if (await deliveries.handle(req, res)) return;
      res.end('app');
    };
  },
};

describe('webhook middleware', () => {
  for (const [name, build] of Object.entries(builds)) {
    it(`${name}: verifies the raw body, acknowledges, handles once; refuses forgeries; passes other paths`, async () => {
      const handled: unknown[] = [];
      const { webhooks } = inbox({ handlers: { 'orders/create': ({ payload }) => void handled.push(payload) } });
      const { url, server } = await serve(build(webhooks));
      try {
        // Spacing and key order a re-serialization would change: the HMAC covers these exact bytes.
        const body = '{ "id": 1,  "note": "caf\u00e9" }';
        const ok = await send(url, deliveryRequest({ body, path: '/webhooks/orders' }));
        assert.equal(ok.status, 200, await ok.clone().text());
        assert.equal((await send(url, deliveryRequest({ body, secret: 'forged' }))).status, 401);
        assert.equal((await send(url, deliveryRequest({ method: 'GET' }))).status, 405);
        const other = await fetch(`${url}/other`);
        assert.equal(await other.text(), 'app');
        await webhooks.drain();
        assert.deepEqual(handled, [{ id: 1, note: 'café' }]);
      } finally {
        server.close();
      }
    });
  }

  it('express with express.json() first: the error names the fix, and nothing is stored', async () => {
    const { webhooks, vault } = inbox();
    const app = express();
    app.use(express.json());
    app.use(webhooksExpress(webhooks));
    const errors: string[] = [];
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      errors.push(error.message);
      res.status(500).send('misconfigured');
    });
    const { url, server } = await serve(app);
    try {
      const response = await send(url, deliveryRequest());
      assert.equal(response.status, 500);
      assert.match(errors[0] ?? '', /mount the webhook middleware before/);
      assert.deepEqual(await vault.webhookInbox()?.list({ limit: 5 }), []);
    } finally {
      server.close();
    }
  });
});
