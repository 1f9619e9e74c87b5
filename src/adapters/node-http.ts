/**
 * Plain `node:http`: turn the Node request into a web Request for shoptoken and write its Response
 * back, keeping every `Set-Cookie` header.
 *
 * @example
 * createServer(async (req, res) => {
 *   const response = await shoptoken.handle(toWebRequest(req));
 *   if (response) return sendWebResponse(res, response);
 *   // … the app's own routes
 * });
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { webRequest } from './request.ts';

/**
 * The method, URL and headers of `req` as a web Request. The body is not read (shoptoken's routes
 * are GET-only), so the Node request stays readable for the app. `origin` defaults to the Host
 * header. Throws a TypeError for CONNECT, TRACE and TRACK, which a web Request cannot carry.
 */
export function toWebRequest(req: IncomingMessage, origin?: string): Request {
  const request = webRequest(req, req.url ?? '/', origin);
  if (!request) throw new TypeError(`a web Request cannot carry the ${req.method} method`);
  return request;
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
