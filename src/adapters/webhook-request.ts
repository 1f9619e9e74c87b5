/**
 * A Node request on one of the webhook inbox's paths as a {@link WebhookInbound}: method, path,
 * query, headers and the raw body the HMAC covers, read from the request (at most `maxBodyBytes`),
 * or taken from a parser that kept it (`express.raw()`, `ctx.request.rawBody`). Mount the webhook
 * middleware before any body parser that does not keep it. No web `Request` is built: the inbox
 * answers with a plain {@link WebhookAnswer} the adapter writes directly.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebhookAnswer, WebhookInbound } from '../webhooks/answer.ts';
import type { Webhooks } from '../webhooks/types.ts';

/** The pathname and query of `pathAndQuery`, or null when it is not a path a URL can hold. */
function split(pathAndQuery: string): { pathname: string; search: string } | null {
  try {
    const url = new URL(pathAndQuery.startsWith('/') ? pathAndQuery : `/${pathAndQuery}`, 'http://localhost');
    const raw = pathAndQuery.indexOf('?');
    // The query exactly as received: a GET callback's signature covers the raw string.
    return { pathname: url.pathname, search: raw === -1 ? '' : pathAndQuery.slice(raw).split('#')[0]! };
  } catch {
    return null;
  }
}

/** True when `pathAndQuery` is one `webhooks` answers (deliveries, fulfillment callbacks). */
export function isWebhookPath(webhooks: Pick<Webhooks, 'owns'>, pathAndQuery: string): boolean {
  const parts = split(String(pathAndQuery));
  return parts !== null && webhooks.owns(parts.pathname);
}

/** Why a delivery could not be read: its body was consumed by a parser mounted first. */
export const BODY_CONSUMED =
  'the webhook body was already read by a body parser: mount the webhook middleware before it (or use a raw parser)';

/** Reads `req`'s body, at most `max` bytes: null when larger (the rest is left unread; the connection closes). */
async function readBody(req: IncomingMessage, max: number): Promise<Uint8Array | null> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > max) return null;
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/**
 * The inbound request of `req` at `pathAndQuery`; `'consumed'` when a parser read the body and did
 * not keep it. A method with no body (GET, HEAD) reads none.
 */
export async function inboundOf(
  webhooks: Pick<Webhooks, 'maxBodyBytes'>,
  req: IncomingMessage,
  pathAndQuery: string,
  raw?: unknown,
): Promise<WebhookInbound | 'consumed' | null> {
  const parts = split(String(pathAndQuery));
  if (!parts) return null;
  const method = String(req.method ?? 'GET').toUpperCase();
  // Node's header record as it is (lower-case names): building web Headers costs more than the HMAC.
  const headers = req.headers;
  let body: Uint8Array | null = new Uint8Array(0);
  if (Buffer.isBuffer(raw) || typeof raw === 'string') {
    body = typeof raw === 'string' ? Buffer.from(raw) : raw;
    if (body.byteLength > webhooks.maxBodyBytes) body = null;
  } else if (method !== 'GET' && method !== 'HEAD') {
    if (req.readableEnded) return 'consumed';
    body = await readBody(req, webhooks.maxBodyBytes);
  }
  return { method, ...parts, headers, body };
}

/** Writes `answer` to `res` (no body for HEAD); a body left unread (too large) closes the connection. */
export function writeAnswer(res: ServerResponse, answer: WebhookAnswer, inbound: WebhookInbound): void {
  const headers: Record<string, string> = {
    ...answer.headers,
    'content-length': String(Buffer.byteLength(answer.body)),
  };
  if (inbound.body === null) headers.connection = 'close';
  res.writeHead(answer.status, headers);
  res.end(inbound.method === 'HEAD' ? undefined : answer.body);
}
