/**
 * Express middleware (Express is a peer dependency; only its types are imported). Works with
 * Express 4 and 5: errors are passed to next().
 *
 * @example
 * app.use(shoptokenExpress(shoptoken));                      // /auth, /auth/callback, POST /auth/logout
 * app.get('/app', requireShoptokenSession(shoptoken), (req, res) => {
 *   const { shop, online, offline } = res.locals.shopSession; // AppSession
 * });
 */

// First: on a Node too old for shoptoken this fails with one clear message (see node-guard.ts).
import '../node-guard.ts';

import type { Request as ExpressRequest, RequestHandler } from 'express';
import type { AppSession, Shoptoken } from '../auth/types.ts';
import type { Webhooks } from '../webhooks/types.ts';
import { sendWebResponse } from './node-http.ts';
import { isFlowPath, unconvertedResponse, webRequest } from './request.ts';
import { BODY_CONSUMED, inboundOf, isWebhookPath, writeAnswer } from './webhook-request.ts';

/** What {@link shoptokenExpress} puts at `res.locals.shoptoken`. */
export interface ShoptokenExpressLocals {
  /** The browser's session, loaded on first call and then remembered for the request. */
  session(): Promise<AppSession | null>;
}

function toRequest(req: ExpressRequest): Request | null {
  // originalUrl: the path the browser asked for, also inside a mounted router.
  return webRequest(req, req.originalUrl);
}

/** Answers shoptoken's auth paths; on any other path sets `res.locals.shoptoken` and calls next(). */
export function shoptokenExpress(st: Shoptoken): RequestHandler {
  return (req, res, next) => {
    const request = toRequest(req);
    // A TRACE or the like (no web Request can carry it): 405 on shoptoken's paths; elsewhere the app's, signed out.
    if (!request && isFlowPath(st, req.originalUrl)) {
      sendWebResponse(res, unconvertedResponse(st, req, req.originalUrl)).catch(next);
      return;
    }
    (request ? st.handle(request) : Promise.resolve(null))
      .then(async (response) => {
        if (response) return sendWebResponse(res, response);
        let session: Promise<AppSession | null> | undefined;
        const locals: ShoptokenExpressLocals = {
          session: () => (session ??= request ? st.session(request) : Promise.resolve(null)),
        };
        res.locals.shoptoken = locals;
        next();
      })
      .catch(next);
  };
}

/** Puts the AppSession at `res.locals.shopSession` and calls next(), or answers with the redirect to auth / 401. */
export function requireShoptokenSession(st: Shoptoken): RequestHandler {
  return (req, res, next) => {
    const request = toRequest(req);
    if (!request) {
      sendWebResponse(res, unconvertedResponse(st, req, req.originalUrl)).catch(next);
      return;
    }
    st.requireSession(request)
      .then(async (result) => {
        if (result instanceof Response) return sendWebResponse(res, result);
        res.locals.shopSession = result;
        next();
      })
      .catch(next);
  };
}

/**
 * Answers Shopify's webhook deliveries and fulfillment callbacks on `webhooks`' paths; calls next()
 * elsewhere. Mount it before `express.json()`: it reads the raw body the HMAC covers (or `req.body`
 * when `express.raw()` kept it as a Buffer).
 *
 * @example
 * app.use(webhooksExpress(webhooks)); // POST /webhooks, /fulfillment/…
 * app.use(express.json());
 */
export function webhooksExpress(webhooks: Webhooks): RequestHandler {
  return (req, res, next) => {
    if (!isWebhookPath(webhooks, req.originalUrl)) {
      next();
      return;
    }
    (async () => {
      const inbound = await inboundOf(webhooks, req, req.originalUrl, req.body);
      if (inbound === 'consumed') throw new Error(BODY_CONSUMED);
      const answer = inbound ? await webhooks.receive(inbound) : null;
      if (answer && inbound) writeAnswer(res, answer, inbound);
      else next();
    })().catch(next);
  };
}
