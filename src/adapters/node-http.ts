/**
 * Plain `node:http`. {@link shoptokenNode} answers shoptoken's paths and protects pages by itself,
 * and never throws or rejects: a request no web Request can carry gets 405 (400 if it cannot be
 * read at all), and an error from inside (the vault's storage, `afterAuth`) gets a bare 500 and is
 * reported with `process.emitWarning` — never an unhandled rejection that ends the process.
 * {@link toWebRequest} and {@link sendWebResponse} are the lower-level conversions.
 *
 * @example
 * const auth = shoptokenNode(shoptoken);
 * createServer(async (req, res) => {
 *   if (await auth.handle(req, res)) return;           // /auth, /auth/callback, /auth/logout
 *   const session = await auth.requireSession(req, res);
 *   if (!session) return;                               // answered: redirect to sign in, 401, …
 *   res.end(`Hello ${session.online.user.firstName}`);
 * }).listen(3000);
 */

// First: on a Node too old for shoptoken this fails with one clear message (see node-guard.ts).
import '../node-guard.ts';

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { AppSession, Shoptoken } from '../auth/types.ts';
import type { Webhooks } from '../webhooks/types.ts';
import { carriesMethod, isFlowPath, unconvertedResponse, webRequest } from './request.ts';
import { BODY_CONSUMED, inboundOf, isWebhookPath, writeAnswer } from './webhook-request.ts';

/**
 * The method, URL and headers of `req` as a web Request, or null when no web Request can carry it
 * (the methods CONNECT, TRACE and TRACK, or an `origin` that is not an absolute URL): answer those
 * yourself (405), or use {@link shoptokenNode}, which does. Never throws; a header the web
 * `Headers` refuses is left out. The body is not read, so the Node request stays readable for the
 * app. `origin` defaults to the Host header.
 */
export function toWebRequest(req: IncomingMessage, origin?: string): Request | null {
  return webRequest(req, req.url ?? '/', origin);
}

/** Writes `response` to `res`: status, headers (each `Set-Cookie` separately) and the streamed body. */
export async function sendWebResponse(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  if (response.body === null) {
    res.end();
    return;
  }
  await pipeline(Readable.fromWeb(response.body as NodeReadableStream), res);
}

/** Options of {@link shoptokenNode}. */
export interface ShoptokenNodeOptions {
  /** The origin requests are read on (an absolute URL); default from the Host header. It decides nothing shoptoken sends. */
  origin?: string;
}

/** shoptoken for a plain `node:http` server. No method ever throws or rejects. */
export interface ShoptokenNode {
  /**
   * Answers shoptoken's paths (auth, callback, sign-out) and resolves true; resolves false for any
   * other path, which is the app's to answer.
   */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /**
   * The session of a protected page; or null once it has answered the request itself (a redirect to
   * sign in, 401, 405 for a method no web Request can carry, 500 for an internal error).
   */
  requireSession(req: IncomingMessage, res: ServerResponse): Promise<AppSession | null>;
}

/** Reports an error answered with a bare 500 (or after the answer had begun) without details in the response. */
function report(error: unknown): void {
  const warning = new Error('shoptoken/node: a request failed and was answered 500 (see cause)', { cause: error });
  warning.name = 'ShoptokenWarning';
  process.emitWarning(warning);
}

/** Sends `response`; a client that went away mid-answer is not an error of the app. */
async function send(res: ServerResponse, response: Response): Promise<void> {
  try {
    await sendWebResponse(res, response);
  } catch {
    res.destroy();
  }
}

/** 500 without details, unless the answer has begun (then the connection is closed). */
async function fail(res: ServerResponse, error: unknown): Promise<void> {
  report(error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  await send(res, new Response('Internal Server Error\n', { status: 500, headers: { 'content-type': 'text/plain' } }));
}

/**
 * Builds the `node:http` glue over a shoptoken. Throws a TypeError for an `origin` that is not an
 * absolute URL (checked here, once, not on every request).
 *
 * @example
 * const auth = shoptokenNode(shoptoken);
 * createServer(async (req, res) => {
 *   if (await auth.handle(req, res)) return;
 *   const session = await auth.requireSession(req, res);
 *   if (session) res.end(`Hello ${session.online.user.firstName}`);
 * });
 */
export function shoptokenNode(st: Shoptoken, options: ShoptokenNodeOptions = {}): ShoptokenNode {
  const { origin } = options;
  if (origin !== undefined && (typeof origin !== 'string' || !URL.canParse(origin))) {
    throw new TypeError('shoptokenNode: origin must be an absolute URL such as https://app.example.com');
  }
  const path = (req: IncomingMessage) => req.url ?? '/';

  return {
    async handle(req, res) {
      try {
        const request = webRequest(req, path(req), origin);
        if (!request) {
          // A method no web Request carries, on a path of the app's own: the app's to answer.
          if (!carriesMethod(req) && !isFlowPath(st, path(req))) return false;
          await send(res, unconvertedResponse(st, req, path(req)));
          return true;
        }
        const response = await st.handle(request);
        if (!response) return false;
        await send(res, response);
        return true;
      } catch (error) {
        await fail(res, error);
        return true;
      }
    },
    async requireSession(req, res) {
      try {
        const request = webRequest(req, path(req), origin);
        if (!request) {
          await send(res, unconvertedResponse(st, req, path(req)));
          return null;
        }
        const result = await st.requireSession(request);
        if (result instanceof Response) {
          await send(res, result);
          return null;
        }
        return result;
      } catch (error) {
        await fail(res, error);
        return null;
      }
    },
  };
}

/**
 * Webhook deliveries and fulfillment callbacks for a plain `node:http` server: answers `webhooks`'
 * paths and resolves true; false for any other path. Never throws or rejects.
 *
 * @example
 * const deliveries = webhooksNode(webhooks);
 * createServer(async (req, res) => {
 *   if (await deliveries.handle(req, res)) return;
 * });
 */
export function webhooksNode(webhooks: Webhooks): {
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
} {
  return {
    async handle(req, res) {
      const path = req.url ?? '/';
      if (!isWebhookPath(webhooks, path)) return false;
      try {
        const inbound = await inboundOf(webhooks, req, path);
        if (inbound === 'consumed') throw new Error(BODY_CONSUMED);
        const answer = inbound ? await webhooks.receive(inbound) : null;
        if (!answer || !inbound) return false;
        writeAnswer(res, answer, inbound);
      } catch (error) {
        await fail(res, error);
      }
      return true;
    },
  };
}
