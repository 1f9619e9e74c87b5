/**
 * What the webhook inbox reads and answers, without web `Request`/`Response` objects: an adapter
 * hands over the method, path, headers and the raw body it read, and writes the plain answer back.
 * Building a `Request` with a streamed body and piping a `Response` back costs more than verifying
 * and storing a delivery, so the Node adapters use this directly; `handle(request)` wraps it.
 */

import type { HeaderSource } from '../protocol/webhook.ts';

/** A request on one of the inbox's paths. */
export interface WebhookInbound {
  method: string;
  pathname: string;
  /** The query string with its `?` (`''` without one), as received. */
  search: string;
  /** Web `Headers`, or Node's `req.headers` (lower-case names). */
  headers: HeaderSource;
  /** The raw body; `null` when it was larger than `maxBodyBytes` (answered 413). */
  body: Uint8Array | null;
}

/** The answer: a status, headers and a short text (or JSON) body. */
export interface WebhookAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A plain-text answer. */
export function text(status: number, message: string, headers: Record<string, string> = {}): WebhookAnswer {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body: message };
}

/** A JSON answer (200). */
export function json(value: unknown): WebhookAnswer {
  return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

/** 405 with `Allow`. */
export function methodNotAllowed(allow: string, message: string): WebhookAnswer {
  return text(405, message, { allow });
}

/** The answer as a web `Response` (no body for HEAD). */
export function toResponse(answer: WebhookAnswer, head = false): Response {
  return new Response(head ? null : answer.body, { status: answer.status, headers: answer.headers });
}

/** The body of `request`, or null when it is larger than `max` bytes (then not read further). */
export async function readBounded(request: Request, max: number): Promise<Uint8Array | null> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) return null;
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
