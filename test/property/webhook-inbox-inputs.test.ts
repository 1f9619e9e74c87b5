/**
 * The webhook inbox's HTTP answer over random deliveries (the same generator as the parser's
 * property test), through `webhooks.handle` with a memory store: never an exception and never a
 * 5xx; a refusal stores nothing and runs nothing; an acceptance stores the delivery once; no answer
 * quotes the secret. Then the worker runs every stored delivery without throwing.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { inbox } from '../webhooks/fixture.ts';
import { delivery, deliveryHeaders, RUNS, SECRET, SEED } from './webhook-arbitraries.ts';

describe('property: the webhook inbox answers', () => {
  it(`${Math.min(RUNS, 500)} random requests: a 2xx or a clear 4xx, stored only when accepted`, async () => {
    const { webhooks, vault } = inbox({
      apiSecret: SECRET,
      maxBodyBytes: 1000,
      handlers: { 'orders/create': () => undefined, 'app/uninstalled': () => undefined },
    });
    const stored = async () => (await vault.webhookInbox()?.list({ limit: 10_000 }))?.length ?? 0;
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(delivery, async (d) => {
        const before = await stored();
        const method = d.method.toUpperCase() === 'GET' ? 'GET' : d.method;
        const request = new Request('https://app.example.com/webhooks', {
          method,
          headers: deliveryHeaders(d),
          ...(method === 'GET' ? {} : { body: d.body }),
        });
        const response = await webhooks.handle(request);
        assert.ok(response, 'the webhook path is answered');
        statuses.add(response.status);
        assert.ok([200, 400, 401, 405, 413].includes(response.status), `status ${response.status}`);
        assert.ok(!(await response.text()).includes(SECRET));
        const after = await stored();
        if (response.status !== 200) assert.equal(after, before, 'a refusal stores nothing');
        else assert.ok(after - before <= 1);
      }),
      { seed: SEED, numRuns: Math.min(RUNS, 500) },
    );
    assert.ok(statuses.has(200) && statuses.has(401), [...statuses].join(','));
    const report = await webhooks.drain();
    assert.equal(report.dead, 0, 'no delivery is dead-lettered');
    // A shop/redact erases the shop's other deliveries, in flight ones (and other redactions) included:
    // what is left was run, and nothing is left failed.
    assert.ok((await stored()) <= report.done + report.retried);
    assert.deepEqual((await vault.webhookInbox()?.list({ state: 'dead', limit: 10 })) ?? [], []);
  });
});
