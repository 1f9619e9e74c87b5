/** The Express middleware runs the whole install over a real socket against the listening emulator. */

import { after, before, describe, it } from 'node:test';
import express from 'express';
import { requireShoptokenSession, type ShoptokenExpressLocals, shoptokenExpress } from '../../src/adapters/express.ts';
import type { AppSession, Shoptoken } from '../../src/auth/types.ts';
import { checkAdapterFlow, checkUnsupportedMethod } from '../helpers/adapter-flow.ts';
import { type SocketFixture, startSocketFixture } from '../helpers/socket-fixture.ts';

function expressApp(st: Shoptoken): express.Express {
  const app = express();
  app.use(shoptokenExpress(st));
  app.get('/', async (_req, res) => {
    const locals = res.locals.shoptoken as ShoptokenExpressLocals;
    res.json({ signedIn: (await locals.session()) !== null });
  });
  app.get('/app', requireShoptokenSession(st), (_req, res) => {
    const session = res.locals.shopSession as AppSession;
    res.json({ shop: session.shop, userId: session.userId, offline: session.offline !== null });
  });
  return app;
}

describe('Express adapter', () => {
  let f: SocketFixture;
  before(async () => {
    f = await startSocketFixture((st) => expressApp(st));
  });
  after(() => f.close());

  it('installs with both tokens and protects a route', () => checkAdapterFlow(f));
  it('lets a TRACE request pass without a server error', () => checkUnsupportedMethod(f));
});
