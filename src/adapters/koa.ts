/**
 * Koa middleware (Koa is a peer dependency; only its types are imported).
 *
 * @example
 * app.use(shoptokenKoa(shoptoken));                          // /auth, /auth/callback, POST /auth/logout
 * router.get('/app', requireShoptokenSession(shoptoken), (ctx) => {
 *   const { shop, online, offline } = ctx.state.shopSession;  // AppSession
 * });
 */

// First: on a Node too old for shoptoken this fails with one clear message (see node-guard.ts).
import '../node-guard.ts';

import type { Context, Middleware } from 'koa';
import type { AppSession, Shoptoken } from '../auth/types.ts';
import type { Webhooks } from '../webhooks/types.ts';
import { isFlowPath, unconvertedResponse, webRequest } from './request.ts';
import { BODY_CONSUMED, inboundOf, isWebhookPath } from './webhook-request.ts';

/** What {@link shoptokenKoa} puts at `ctx.state.shoptoken`. */
export interface ShoptokenKoaState {
  /** The browser's session, loaded on first call and then remembered for the request. */
  session(): Promise<AppSession | null>;
}

function toRequest(ctx: Context): Request | null {
  // originalUrl: the path the browser asked for, also under a mounted sub-app.
  return webRequest(ctx.req, ctx.originalUrl);
}

async function respond(ctx: Context, response: Response): Promise<void> {
  ctx.status = response.status;
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') ctx.set(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) ctx.append('Set-Cookie', cookies);
  const body = Buffer.from(await response.arrayBuffer());
  if (body.length > 0) ctx.body = body;
}

/** Answers shoptoken's auth paths; on any other path sets `ctx.state.shoptoken` and calls next(). */
export function shoptokenKoa(st: Shoptoken): Middleware {
  return async (ctx, next) => {
    const request = toRequest(ctx);
    // A TRACE or the like (no web Request can carry it): 405 on shoptoken's paths; elsewhere the app's, signed out.
    if (!request && isFlowPath(st, ctx.originalUrl))
      return respond(ctx, unconvertedResponse(st, ctx.req, ctx.originalUrl));
    const response = request ? await st.handle(request) : null;
    if (response) return respond(ctx, response);
    let session: Promise<AppSession | null> | undefined;
    const state: ShoptokenKoaState = {
      session: () => (session ??= request ? st.session(request) : Promise.resolve(null)),
    };
    ctx.state.shoptoken = state;
    await next();
  };
}

/** Puts the AppSession at `ctx.state.shopSession` and calls next(), or answers with the redirect to auth / 401. */
export function requireShoptokenSession(st: Shoptoken): Middleware {
  return async (ctx, next) => {
    const request = toRequest(ctx);
    if (!request) return respond(ctx, unconvertedResponse(st, ctx.req, ctx.originalUrl));
    const result = await st.requireSession(request);
    if (result instanceof Response) return respond(ctx, result);
    ctx.state.shopSession = result;
    await next();
  };
}

/**
 * Answers Shopify's webhook deliveries and fulfillment callbacks on `webhooks`' paths; calls next()
 * elsewhere. Mount it before any body parser: it reads the raw body the HMAC covers (or
 * `ctx.request.rawBody` when a parser kept it).
 *
 * @example
 * app.use(webhooksKoa(webhooks)); // POST /webhooks, /fulfillment/…
 */
export function webhooksKoa(webhooks: Webhooks): Middleware {
  return async (ctx, next) => {
    if (!isWebhookPath(webhooks, ctx.originalUrl)) return next();
    const raw = (ctx.request as { rawBody?: unknown }).rawBody;
    const inbound = await inboundOf(webhooks, ctx.req, ctx.originalUrl, raw);
    if (inbound === 'consumed') throw new Error(BODY_CONSUMED);
    const answer = inbound ? await webhooks.receive(inbound) : null;
    if (!answer || !inbound) return next();
    ctx.status = answer.status;
    ctx.set(answer.headers);
    if (inbound.body === null) ctx.set('connection', 'close');
    ctx.body = inbound.method === 'HEAD' ? null : answer.body;
  };
}
