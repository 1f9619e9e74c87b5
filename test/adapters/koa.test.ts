/** The Koa middleware runs the whole install over a real socket against the listening emulator. */

import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { requireShoptokenSession, shoptokenKoa } from '../../src/adapters/koa.ts';
import type { AppSession, Shoptoken } from '../../src/auth/types.ts';
import { checkAdapterFlow, checkUnsupportedMethod } from '../helpers/adapter-flow.ts';
import { type SocketFixture, startSocketFixture } from '../helpers/socket-fixture.ts';

function koaApp(st: Shoptoken): Koa {
  const app = new Koa();
  app.use(shoptokenKoa(st));
  const requireSession = requireShoptokenSession(st);
  app.use(async (ctx, next) => {
    if (ctx.path === '/') {
      ctx.body = { signedIn: (await ctx.state.shoptoken.session()) !== null };
      return;
    }
    if (ctx.path === '/app') return requireSession(ctx, next);
    ctx.status = 404;
  });
  app.use((ctx) => {
    const session = ctx.state.shopSession as AppSession;
    ctx.body = { shop: session.shop, userId: session.userId, offline: session.offline !== null };
  });
  return app;
}

describe('Koa adapter', () => {
  let f: SocketFixture;
  before(async () => {
    f = await startSocketFixture((st) => koaApp(st).callback());
  });
  after(() => f.close());

  it('installs with both tokens and protects a route', () => checkAdapterFlow(f));
  it('lets a TRACE request pass without a server error', () => checkUnsupportedMethod(f));
});
