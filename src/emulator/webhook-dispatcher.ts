/**
 * Webhook deliveries and their retries (reference §6.3). Each delivery is one topic to one
 * subscription's URI: its body, `X-Shopify-Webhook-Id` and `Triggered-At` are fixed when it is
 * created, so retries and duplicates send the same bytes. A failed attempt (non-2xx, 3xx included,
 * timeout, refused connection) is retried 8 times over 4 hours with exponential backoff, on the
 * emulator's clock: an attempt is sent when {@link WebhookDispatcher.deliverDue} finds it due.
 */

import { randomUUID } from 'node:crypto';
import type { OutboundRequest, OutboundResult } from './outbound.ts';
import type { EmulatorWebhookHeaders } from './webhook-config.ts';
import { deliveryHeaders, triggeredAtHeader } from './webhook-headers.ts';

/** How one attempt ended: `delivered` is a 2xx answer. */
export type WebhookAttemptOutcome = 'delivered' | 'http-error' | 'timeout' | 'network-error';

/** One attempt of a delivery. */
export interface WebhookAttempt {
  /** ms since epoch, from the emulator's clock, when it was sent. */
  at: number;
  /** The HTTP status answered; `null` after a timeout or a network error. */
  status: number | null;
  outcome: WebhookAttemptOutcome;
  /** Sent by `redeliverWebhook`: a duplicate, outside the retry schedule. */
  duplicate: boolean;
}

/** `pending` while an attempt is due or scheduled; `failed` after the last retry failed. */
export type WebhookDeliveryState = 'pending' | 'delivered' | 'failed';

/** One delivery, as `emulator.webhookDeliveries()` lists it. */
export interface WebhookDeliveryRecord {
  /** `X-Shopify-Webhook-Id`: the same on every attempt. */
  id: string;
  /** `X-Shopify-Event-Id`: shared by the deliveries of one action. */
  eventId: string;
  topic: string;
  shop: string;
  clientId: string;
  /** Where it goes: the subscription's URI when it was triggered. */
  uri: string;
  apiVersion: string;
  headers: EmulatorWebhookHeaders;
  /** The subscription's GraphQL id when created through the Admin API; `config` for the app's configuration. */
  subscription: string;
  /** `X-Shopify-Triggered-At`, as sent. */
  triggeredAt: string;
  /** The JSON body, exactly as signed and sent. */
  body: string;
  state: WebhookDeliveryState;
  attempts: WebhookAttempt[];
  /** When the next attempt is due (ms since epoch, emulator's clock); `null` when none is. */
  nextAttemptAt: number | null;
}

/** What creates a delivery. */
export interface NewDelivery {
  shop: string;
  clientId: string;
  topic: string;
  uri: string;
  apiVersion: string;
  headers: EmulatorWebhookHeaders;
  subscription: string;
  eventId: string;
  body: Uint8Array<ArrayBuffer>;
  /** When it is triggered (ms since epoch): `Triggered-At`, and when the first attempt is due. */
  triggeredAt: number;
}

/**
 * The wait after each failed attempt, in seconds: doubling, 8 retries, the last one 4 hours
 * (14,400 s) after the first attempt. Shopify documents the count and the span, not the steps.
 */
export const RETRY_DELAYS_SECONDS: readonly number[] = [56, 113, 226, 452, 904, 1807, 3614, 7228];

/** What the dispatcher needs from the emulator. */
export interface DispatcherDeps {
  now(): number;
  /** The app's current client secret, which signs its deliveries. */
  secretOf(clientId: string): string;
  /** Sends a request to an app with the emulator's timeout. */
  send(request: OutboundRequest): Promise<OutboundResult>;
}

type Delivery = Omit<WebhookDeliveryRecord, 'body'> & { body: Uint8Array<ArrayBuffer> };

/** Every delivery of one emulator. */
export class WebhookDispatcher {
  readonly #deps: DispatcherDeps;
  readonly #deliveries = new Map<string, Delivery>();
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(deps: DispatcherDeps) {
    this.#deps = deps;
  }

  /** Records a delivery, due at its trigger time; returns its id. Nothing is sent until {@link deliverDue}. */
  enqueue(input: NewDelivery): string {
    const id = randomUUID();
    const { triggeredAt, ...rest } = input;
    this.#deliveries.set(id, {
      ...rest,
      id,
      triggeredAt: triggeredAtHeader(triggeredAt),
      state: 'pending',
      attempts: [],
      nextAttemptAt: triggeredAt,
    });
    return id;
  }

  /**
   * Sends every due attempt (of `ids` only, when given) and resolves once none of them is due or in
   * flight. Never rejects: every outcome is recorded as an attempt.
   */
  async deliverDue(ids?: readonly string[]): Promise<void> {
    const wanted = (id: string) => ids === undefined || ids.includes(id);
    for (;;) {
      const now = this.#deps.now();
      for (const delivery of this.#deliveries.values()) {
        const due = delivery.state === 'pending' && delivery.nextAttemptAt !== null && delivery.nextAttemptAt <= now;
        if (due && wanted(delivery.id) && !this.#inFlight.has(delivery.id)) this.#start(delivery);
      }
      const waiting = [...this.#inFlight].filter(([id]) => wanted(id)).map(([, attempt]) => attempt);
      if (waiting.length === 0) return;
      await Promise.all(waiting);
    }
  }

  /** Starts {@link deliverDue} in the background (after the clock moved, or a delivery was created). */
  kick(): void {
    void this.deliverDue();
  }

  /** Sends the delivery again as a duplicate; `undefined` for an unknown id. */
  async redeliver(id: string): Promise<WebhookAttempt | undefined> {
    const delivery = this.#deliveries.get(id);
    return delivery ? { ...(await this.#send(delivery, true)) } : undefined;
  }

  /** Every delivery, oldest first. */
  records(): WebhookDeliveryRecord[] {
    return [...this.#deliveries.values()].map((delivery) => ({
      ...delivery,
      body: Buffer.from(delivery.body).toString('utf8'),
      attempts: delivery.attempts.map((attempt) => ({ ...attempt })),
    }));
  }

  #start(delivery: Delivery): void {
    const attempt = this.#send(delivery, false).then(
      () => undefined,
      () => undefined,
    );
    this.#inFlight.set(delivery.id, attempt);
    void attempt.finally(() => this.#inFlight.delete(delivery.id));
  }

  async #send(delivery: Delivery, duplicate: boolean): Promise<WebhookAttempt> {
    const at = this.#deps.now();
    const fields = {
      topic: delivery.topic,
      shop: delivery.shop,
      apiVersion: delivery.apiVersion,
      webhookId: delivery.id,
      eventId: delivery.eventId,
      triggeredAt: delivery.triggeredAt,
    };
    const headers = deliveryHeaders(delivery.headers, fields, delivery.body, this.#deps.secretOf(delivery.clientId));
    const request = { method: 'POST', url: delivery.uri, headers, body: delivery.body } as const;
    const result = await this.#deps.send(request);
    const outcome = result.outcome === 'ok' ? 'delivered' : result.outcome;
    const attempt: WebhookAttempt = { at, status: result.status, outcome, duplicate };
    delivery.attempts.push(attempt);
    if (!duplicate) this.#schedule(delivery, attempt);
    return attempt;
  }

  /** After a scheduled attempt: delivered, the next retry (counted from when this one was due), or failed. */
  #schedule(delivery: Delivery, attempt: WebhookAttempt): void {
    if (attempt.outcome === 'delivered') {
      delivery.state = 'delivered';
      delivery.nextAttemptAt = null;
      return;
    }
    const retriesSent = delivery.attempts.filter((a) => !a.duplicate).length - 1;
    const delay = RETRY_DELAYS_SECONDS[retriesSent];
    if (delay === undefined || delivery.nextAttemptAt === null) {
      delivery.state = 'failed';
      delivery.nextAttemptAt = null;
      return;
    }
    delivery.nextAttemptAt += delay * 1000;
  }
}
