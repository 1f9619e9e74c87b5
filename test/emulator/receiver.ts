/**
 * A real loopback HTTP server playing the app for webhook and fulfillment-service tests: it keeps
 * every request (method, raw URL, headers, raw body bytes) and answers as the test says — a
 * status, a JSON body, or a delay longer than the emulator's timeout. Bounded: `waitFor` gives up
 * after a second, and `close` drops every connection and pending answer.
 */

import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the app received it. */
export interface Received {
  method: string;
  /** The raw request target: path and query exactly as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** How the app answers the n-th request (0-based). */
export type Answer = (received: Received, index: number) => { status: number; json?: unknown; delayMs?: number };

export interface Receiver {
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  received: Received[];
  /** Resolves once `count` requests have arrived (at most `timeoutMs`, default 1000). */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 (any port). */
export async function startReceiver(answer: Answer = () => ({ status: 200 })): Promise<Receiver> {
  const received: Received[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        method: request.method!,
        url: request.url!,
        headers: request.headers,
        body: Buffer.concat(chunks),
      };
      received.push(entry);
      const { status, json, delayMs } = answer(entry, received.length - 1);
      const respond = () => {
        if (response.destroyed) return;
        const body = json === undefined ? '' : JSON.stringify(json);
        response.writeHead(status, json === undefined ? {} : { 'content-type': 'application/json' });
        response.end(body);
      };
      if (!delayMs) return respond();
      const timer = setTimeout(() => {
        timers.delete(timer);
        respond();
      }, delayMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    async waitFor(count, timeoutMs = 1000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        assert.ok(Date.now() < deadline, `expected ${count} requests, got ${received.length}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A header's single value (node joins repeated ones). */
export function header(received: Received, name: string): string | undefined {
  const value = received.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The raw query string of a received request: everything after the first `?`, untouched. */
export function rawQuery(received: Received): string {
  const at = received.url.indexOf('?');
  return at === -1 ? '' : received.url.slice(at + 1);
}
