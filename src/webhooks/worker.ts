/**
 * The worker that drains the inbox: claims due deliveries (its own, retries, and those whose
 * claimant died) and runs up to `concurrency` of them at a time. Several processes on one store
 * each run one: the store's claims make each delivery run in one of them at a time.
 */

import { randomUUID } from 'node:crypto';
import type { InboxEntry } from '../vault/webhook-inbox.ts';
import type { ResolvedWebhooks } from './options.ts';
import { type RunOutcome, runDelivery } from './run.ts';
import type { WebhookRunReport } from './types.ts';

/** How often the background worker forgets deliveries past their retention. */
const PURGE_EVERY_MS = 10 * 60_000;
const PURGE_BATCH = 1000;

export class WebhookWorker {
  readonly #rt: ResolvedWebhooks;
  /** This process's claimant id. */
  readonly #owner = randomUUID();
  readonly #running = new Set<Promise<void>>();
  readonly #counts: Record<RunOutcome, number> = { done: 0, retried: 0, dead: 0, lost: 0 };
  #claiming: Promise<number> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #lastPurge = 0;

  constructor(rt: ResolvedWebhooks) {
    this.#rt = rt;
  }

  get started(): boolean {
    return this.#timer !== null;
  }

  #run(entry: InboxEntry): void {
    const run = runDelivery(this.#rt, entry, this.#owner)
      .then((outcome) => {
        this.#counts[outcome]++;
      })
      .catch((error: unknown) => {
        // The settle failed (the store is down): the claim ends and the delivery runs again.
        this.#counts.lost++;
        this.#rt.onError(error, {
          topic: entry.record.topic,
          shop: entry.record.shop,
          webhookId: entry.record.webhookId,
          attempt: entry.record.attempts,
        });
      })
      .finally(() => {
        this.#running.delete(run);
        if (this.started) void this.fill().catch(() => undefined);
      });
    this.#running.add(run);
  }

  /** Claims as many due deliveries as there is room for and starts them; resolves how many started. */
  fill(limit = Number.POSITIVE_INFINITY): Promise<number> {
    if (this.#claiming) return this.#claiming;
    const room = Math.min(this.#rt.concurrency - this.#running.size, limit);
    if (room <= 0) return Promise.resolve(0);
    // `finally` runs after this assignment: one claim at a time, and never a stale one kept.
    this.#claiming = this.#claim(room).finally(() => {
      this.#claiming = null;
    });
    return this.#claiming;
  }

  async #claim(room: number): Promise<number> {
    const entries = await this.#rt.inbox.claim(this.#owner, this.#rt.vault.now(), this.#rt.leaseMs, room);
    for (const entry of entries) this.#run(entry);
    return entries.length;
  }

  /** Runs due deliveries until none is due and none is running, or `limit` were started. */
  async drain(limit = Number.POSITIVE_INFINITY): Promise<WebhookRunReport> {
    const before = { ...this.#counts };
    let started = 0;
    for (;;) {
      const now = started < limit ? await this.fill(limit - started) : 0;
      started += now;
      if (this.#running.size === 0 && now === 0) break;
      if (this.#running.size > 0) await Promise.race(this.#running);
    }
    return {
      done: this.#counts.done - before.done,
      retried: this.#counts.retried - before.retried,
      dead: this.#counts.dead - before.dead,
    };
  }

  async #tick(): Promise<void> {
    await this.fill();
    const now = this.#rt.vault.now();
    if (now - this.#lastPurge >= PURGE_EVERY_MS) {
      this.#lastPurge = now;
      await this.#rt.inbox.purge(now, PURGE_BATCH);
    }
  }

  /** Polls every `pollIntervalMs`; errors (the store down) are reported and the next tick tries again. */
  start(): void {
    if (this.#timer) return;
    const tick = () =>
      void this.#tick().catch((error: unknown) =>
        this.#rt.onError(error, { topic: '', shop: '', webhookId: '', attempt: 0 }),
      );
    this.#timer = setInterval(tick, this.#rt.pollIntervalMs);
    this.#timer.unref();
    tick();
  }

  /** Starts work at once (a delivery was just stored), when the worker runs. */
  kick(): void {
    if (this.started) setImmediate(() => void this.fill().catch(() => undefined));
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#claiming?.catch(() => undefined);
    await Promise.allSettled([...this.#running]);
  }
}
