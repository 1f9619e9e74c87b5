/**
 * Webhook retries (reference §6.3) on the emulator's clock: a non-2xx answer (3xx included), a
 * timeout or a refused connection fails; 8 retries over exactly 4 hours with doubling waits, then
 * none; every retry the same delivery (id, Triggered-At, event id, body bytes); duplicates on
 * demand; an owned clock sends what came due by itself.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEmulator, RETRY_DELAYS_SECONDS } from '../../src/emulator/index.ts';
import { ConfigError } from '../../src/errors.ts';
import { APP, HOUR, SHOP } from './helpers.ts';
import { header, startReceiver } from './receiver.ts';
import { API_VERSION, assertValid, SECOND, T0, webhookApp, webhookSetup } from './webhook-helpers.ts';

const PAYLOAD = { id: 820982911946154500, name: '#9999' };
const T0_HEADER = '2026-10-01T12:00:00.000000000Z';

describe('webhook retries on the emulator clock', () => {
  it('a receiver answering 500 gets 1 + 8 attempts over exactly 4 hours, then none', async () => {
    const { emulator, receiver, advance } = await webhookSetup(() => ({ status: 500 }));
    try {
      emulator.install(SHOP, APP.clientId);
      const [id] = await emulator.triggerWebhook(SHOP, APP.clientId, 'orders/create', PAYLOAD);
      assert.equal(receiver.received.length, 1);
      let elapsed = 0;
      for (const [i, delay] of RETRY_DELAYS_SECONDS.entries()) {
        advance(delay * SECOND - 1);
        elapsed += delay * SECOND - 1;
        await emulator.deliverDueWebhooks();
        assert.equal(receiver.received.length, i + 1, `retry ${i + 1} is not due a millisecond early`);
        advance(1);
        elapsed += 1;
        await emulator.deliverDueWebhooks();
        assert.equal(receiver.received.length, i + 2, `retry ${i + 1} sent when due`);
      }
      assert.equal(elapsed, 4 * HOUR, 'the last retry is 4 hours after the first attempt');
      advance(100 * HOUR);
      await emulator.deliverDueWebhooks();
      assert.equal(receiver.received.length, 9, 'no attempt after the 8th retry');
      const [record] = emulator.webhookDeliveries();
      assert.equal(record?.state, 'failed');
      assert.equal(record?.nextAttemptAt, null);
      assert.deepEqual(
        record?.attempts.map((attempt) => [attempt.status, attempt.outcome]),
        Array.from({ length: 9 }, () => [500, 'http-error']),
      );
      // Every retry is the same delivery: same id, Triggered-At, event id and body bytes.
      for (const received of receiver.received) {
        assert.equal(header(received, 'x-shopify-webhook-id'), id);
        assert.equal(header(received, 'x-shopify-triggered-at'), T0_HEADER);
        assert.equal(header(received, 'x-shopify-event-id'), header(receiver.received[0]!, 'x-shopify-event-id'));
        assert.deepEqual(received.body, receiver.received[0]!.body);
        await assertValid(received);
      }
    } finally {
      await receiver.close();
    }
  });

  it('the backoff doubles at each step', () => {
    assert.equal(RETRY_DELAYS_SECONDS.length, 8);
    for (let i = 1; i < RETRY_DELAYS_SECONDS.length; i++) {
      const ratio = RETRY_DELAYS_SECONDS[i]! / RETRY_DELAYS_SECONDS[i - 1]!;
      assert.ok(ratio > 1.98 && ratio < 2.02, `step ${i}: ${ratio}`);
    }
  });

  it('a clock moved past the whole schedule at once sends every due retry in one run', async () => {
    const { emulator, receiver, advance } = await webhookSetup(() => ({ status: 503 }));
    try {
      emulator.install(SHOP, APP.clientId);
      await emulator.triggerWebhook(SHOP, APP.clientId, 'orders/create', PAYLOAD);
      advance(4 * HOUR);
      await emulator.deliverDueWebhooks();
      assert.equal(receiver.received.length, 9);
      assert.equal(emulator.webhookDeliveries()[0]?.state, 'failed');
    } finally {
      await receiver.close();
    }
  });

  it('a receiver answering 200 on the 3rd attempt: delivered, nothing more', async () => {
    const { emulator, receiver, advance } = await webhookSetup((_, n) => ({ status: n < 2 ? 500 : 200 }));
    try {
      emulator.install(SHOP, APP.clientId);
      await emulator.triggerWebhook(SHOP, APP.clientId, 'orders/create', PAYLOAD);
      advance(HOUR);
      await emulator.deliverDueWebhooks();
      const [record] = emulator.webhookDeliveries();
      assert.equal(record?.state, 'delivered');
      assert.deepEqual(
        record?.attempts.map((a) => a.at - T0),
        [0, HOUR, HOUR],
      );
      assert.deepEqual(
        record?.attempts.map((a) => a.status),
        [500, 500, 200],
      );
      advance(10 * HOUR);
      await emulator.deliverDueWebhooks();
      assert.equal(receiver.received.length, 3);
    } finally {
      await receiver.close();
    }
  });

  it('a receiver slower than the timeout fails (timeout), and is retried', async () => {
    const { emulator, receiver, advance } = await webhookSetup(
      (_, n) => ({ status: 200, delayMs: n === 0 ? 400 : 0 }),
      {
        appTimeoutMs: 40,
      },
    );
    try {
      emulator.install(SHOP, APP.clientId);
      await emulator.triggerWebhook(SHOP, APP.clientId, 'orders/create', PAYLOAD);
      let [record] = emulator.webhookDeliveries();
      assert.deepEqual(record?.attempts, [{ at: T0, status: null, outcome: 'timeout', duplicate: false }]);
      assert.equal(record?.state, 'pending');
      assert.equal(record?.nextAttemptAt, T0 + RETRY_DELAYS_SECONDS[0]! * SECOND);
      advance(RETRY_DELAYS_SECONDS[0]! * SECOND);
      await emulator.deliverDueWebhooks();
      [record] = emulator.webhookDeliveries();
      assert.equal(record?.state, 'delivered');
      assert.equal(record?.attempts[1]?.outcome, 'delivered');
    } finally {
      await receiver.close();
    }
  });

  it('a redirect (3xx) and a refused connection are failures too', async () => {
    const { emulator, receiver } = await webhookSetup(() => ({ status: 302 }), { topics: ['orders/create'] });
    const closed = await startReceiver();
    await closed.close();
    const refusing = createEmulator({
      apps: [
        {
          ...APP,
          webhooks: { apiVersion: API_VERSION, subscriptions: [{ topics: ['orders/paid'], uri: closed.origin }] },
        },
      ],
      now: () => T0,
    });
    try {
      emulator.install(SHOP, APP.clientId);
      await emulator.triggerWebhook(SHOP, APP.clientId, 'orders/create', PAYLOAD);
      assert.deepEqual(emulator.webhookDeliveries()[0]?.attempts[0], {
        at: T0,
        status: 302,
        outcome: 'http-error',
        duplicate: false,
      });
      refusing.install(SHOP, APP.clientId);
      await refusing.triggerWebhook(SHOP, APP.clientId, 'orders/paid', PAYLOAD);
      assert.deepEqual(refusing.webhookDeliveries()[0]?.attempts[0], {
        at: T0,
        status: null,
        outcome: 'network-error',
        duplicate: false,
      });
    } finally {
      await receiver.close();
    }
  });

  it('redeliverWebhook sends a duplicate: same id, body and Triggered-At; state unchanged', async () => {
    const { emulator, receiver, advance } = await webhookSetup();
    try {
      emulator.install(SHOP, APP.clientId);
      const [id] = await emulator.triggerWebhook(SHOP, APP.clientId, 'orders/create', PAYLOAD);
      advance(HOUR);
      const attempt = await emulator.redeliverWebhook(id!);
      assert.deepEqual(attempt, { at: T0 + HOUR, status: 200, outcome: 'delivered', duplicate: true });
      const [first, duplicate] = receiver.received;
      assert.equal(header(duplicate!, 'x-shopify-webhook-id'), id);
      assert.equal(header(duplicate!, 'x-shopify-triggered-at'), header(first!, 'x-shopify-triggered-at'));
      assert.equal(header(duplicate!, 'x-shopify-event-id'), header(first!, 'x-shopify-event-id'));
      assert.deepEqual(duplicate!.body, first!.body);
      await assertValid(duplicate!);
      assert.equal(emulator.webhookDeliveries()[0]?.attempts.length, 2);
      await assert.rejects(emulator.redeliverWebhook('no-such-id'), ConfigError);
    } finally {
      await receiver.close();
    }
  });

  it('an owned clock sends due retries by itself when advanced', async () => {
    const receiver = await startReceiver((_, n) => ({ status: n === 0 ? 500 : 200 }));
    const emulator = createEmulator({ apps: [webhookApp(receiver)] });
    try {
      emulator.install(SHOP, APP.clientId);
      await emulator.triggerWebhook(SHOP, APP.clientId, 'orders/create', PAYLOAD);
      emulator.clock.advance(RETRY_DELAYS_SECONDS[0]! * SECOND);
      await receiver.waitFor(2);
      await emulator.deliverDueWebhooks();
      assert.equal(emulator.webhookDeliveries()[0]?.state, 'delivered');
    } finally {
      await receiver.close();
    }
  });
});
