/**
 * The load generator of the HTTP webhook benchmark, run as its own process: autocannon against
 * `url` with the delivery's body and headers, a fresh `X-Shopify-Webhook-Id` on every request.
 * Prints autocannon's result as one JSON line.
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';

const { url, connections, seconds, body, headers } = JSON.parse(process.argv[2] ?? '{}') as {
  url: string;
  connections: number;
  seconds: number;
  body: string;
  headers: Record<string, string>;
};

const result = await autocannon({
  url,
  connections,
  duration: seconds,
  method: 'POST',
  body,
  headers,
  requests: [
    {
      setupRequest: (request) => ({
        ...request,
        headers: { ...request.headers, 'x-shopify-webhook-id': randomUUID() },
      }),
    },
  ],
});
process.stdout.write(`${JSON.stringify(result)}\n`);
