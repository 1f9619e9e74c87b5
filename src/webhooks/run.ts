/**
 * Running one claimed delivery: open it, do what shoptoken does for its topic (the built-in topics),
 * call the app's handler with the shop's Admin client, and settle the claim — done, to run again
 * after a backoff, or dead-lettered after the last attempt. The claim is extended while the handler
 * runs, so a slow handler keeps it and a crashed process's claim ends and is taken over.
 */

import { ShoptokenError } from '../errors.ts';
import { parseTriggeredAt } from '../protocol/webhook.ts';
import type { WebhookOutcome } from '../storage/webhook-types.ts';
import type { InboxEntry } from '../vault/webhook-inbox.ts';
import { describeFailure } from './failure.ts';
import { FULFILLMENT_TOPIC } from './fulfillment.ts';
import type { ResolvedWebhooks } from './options.ts';
import type { StoredDelivery } from './receive.ts';
import { shopAdmin, unusableAdmin } from './shop-admin.ts';
import type { WebhookContext, WebhookHandler } from './types.ts';

/** What became of one run. */
export type RunOutcome = 'done' | 'retried' | 'dead' | 'lost';

/** How long after an uninstall Shopify sends `shop/redact` (shopify-protocol §6.5). */
const SHOP_REDACT_DELAY_MS = 48 * 3_600_000;

/** The wait before run `attempt + 1` after `attempt` failed: doubling from `retryDelayMs`, capped, with ±10 % jitter. */
export function retryDelay(rt: Pick<ResolvedWebhooks, 'retryDelayMs' | 'maxRetryDelayMs'>, attempt: number): number {
  const base = Math.min(rt.maxRetryDelayMs, rt.retryDelayMs * 2 ** Math.min(attempt - 1, 40));
  return Math.round(base * (0.9 + Math.random() * 0.2));
}

/** An Admin client whose every request rejects with `error`. */
/** The handler's context, its Admin client not yet checked (see {@link shopAdmin}). */
function context(rt: ResolvedWebhooks, stored: StoredDelivery, attempt: number): WebhookContext {
  return {
    topic: stored.topic,
    shop: stored.shop,
    payload: JSON.parse(stored.body) as unknown,
    webhookId: stored.webhookId,
    eventId: stored.eventId,
    triggeredAt: stored.triggeredAt === null ? null : parseTriggeredAt(stored.triggeredAt),
    apiVersion: stored.apiVersion,
    name: stored.name,
    attempt,
    admin: rt.vault.admin(stored.shop),
    adminError: null,
    signal: new AbortController().signal,
  };
}

/** Makes `ctx.admin` unusable, for `error`. */
function withoutAdmin(ctx: WebhookContext, error: ShoptokenError): void {
  Object.assign(ctx, unusableAdmin(ctx.shop, error));
}

const stringList = (value: unknown): string[] | null =>
  Array.isArray(value) && value.every((s) => typeof s === 'string') ? (value as string[]) : null;

/** What shoptoken does for its own topics, before the app's handler; returns the hook to call after. */
async function builtIn(rt: ResolvedWebhooks, ctx: WebhookContext): Promise<WebhookHandler | undefined> {
  const payload = (typeof ctx.payload === 'object' && ctx.payload !== null ? ctx.payload : {}) as Record<
    string,
    unknown
  >;
  switch (ctx.topic) {
    case 'app/uninstalled': {
      ctx.uninstall = await rt.vault.uninstalled(ctx.shop, ctx.triggeredAt?.epochMs ?? null);
      if (!ctx.uninstall.reinstalled) {
        withoutAdmin(ctx, new ShoptokenError('ERR_NEEDS_REAUTH', `the app was uninstalled from ${ctx.shop}`));
      }
      return rt.handlers.get(ctx.topic);
    }
    case 'app/scopes_update': {
      const current = stringList(payload.current);
      const changedAt = typeof payload.updated_at === 'string' ? Date.parse(payload.updated_at) : NaN;
      if (current) await rt.vault.scopesUpdated(ctx.shop, current, Number.isFinite(changedAt) ? changedAt : null);
      return rt.handlers.get(ctx.topic);
    }
    case 'shop/redact': {
      // Sent 48 h after an uninstall: a shop installed again since then keeps what its new install holds.
      const uninstalledBy = ctx.triggeredAt ? ctx.triggeredAt.epochMs - SHOP_REDACT_DELAY_MS : null;
      ctx.uninstall = await rt.vault.uninstalled(ctx.shop, uninstalledBy);
      if (!ctx.uninstall.reinstalled) {
        await rt.inbox.deleteShop(ctx.shop, ctx.webhookId);
        withoutAdmin(ctx, new ShoptokenError('ERR_NEEDS_REAUTH', `the data of ${ctx.shop} was erased (shop/redact)`));
      }
      return (rt.compliance.shopRedact as WebhookHandler | undefined) ?? rt.handlers.get(ctx.topic);
    }
    case 'customers/data_request':
      return (rt.compliance.customersDataRequest as WebhookHandler | undefined) ?? rt.handlers.get(ctx.topic);
    case FULFILLMENT_TOPIC:
      return rt.fulfillment?.onNotification as WebhookHandler | undefined;
    case 'customers/redact':
      return (rt.compliance.customersRedact as WebhookHandler | undefined) ?? rt.handlers.get(ctx.topic);
    default:
      return rt.handlers.get(ctx.topic);
  }
}

/** A handler that did not finish within `handlerTimeoutMs`. */
export class HandlerTimeoutError extends ShoptokenError {
  constructor(ms: number) {
    super('ERR_TIMEOUT', `the handler did not finish within ${ms} ms`, { retryable: true });
    this.name = 'HandlerTimeoutError';
  }
}

/**
 * Runs `work`, keeping `owner`'s claim on the delivery alive meanwhile, for at most
 * `handlerTimeoutMs`: then `controller` is aborted (the handler's `signal`), the claim is no longer
 * extended and the run counts as failed (it runs again later; a handler that ignores its signal may
 * still finish in the background — handlers are run at least once, so make them idempotent).
 */
async function whileClaimed(
  rt: ResolvedWebhooks,
  webhookId: string,
  owner: string,
  controller: AbortController,
  work: () => Promise<void>,
): Promise<void> {
  const extend = setInterval(
    () => void rt.inbox.extend(webhookId, owner, rt.vault.now() + rt.leaseMs).catch(() => undefined),
    Math.max(50, Math.floor(rt.leaseMs / 3)),
  );
  extend.unref();
  let timeout: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timeout = setTimeout(() => {
      const error = new HandlerTimeoutError(rt.handlerTimeoutMs);
      controller.abort(error);
      reject(error);
    }, rt.handlerTimeoutMs);
    timeout.unref();
  });
  try {
    await Promise.race([work(), timedOut]);
  } finally {
    clearInterval(extend);
    clearTimeout(timeout);
  }
}

/** Runs one claimed delivery and settles it. */
export async function runDelivery(rt: ResolvedWebhooks, entry: InboxEntry, owner: string): Promise<RunOutcome> {
  const { record } = entry;
  let failure: unknown = null;
  let stored: StoredDelivery | null = null;
  try {
    if (entry.delivery === null) {
      throw new ShoptokenError('ERR_DECRYPT', 'no configured key opens this delivery (its key was retired)');
    }
    stored = JSON.parse(entry.delivery) as StoredDelivery;
    const ctx = context(rt, stored, record.attempts);
    const controller = new AbortController();
    ctx.signal = controller.signal;
    await whileClaimed(rt, record.webhookId, owner, controller, async () => {
      const handler = await builtIn(rt, ctx);
      if (!handler) return;
      if (ctx.adminError === null) Object.assign(ctx, await shopAdmin(rt.vault, ctx.shop));
      await handler(ctx);
    });
  } catch (error) {
    failure = error;
    rt.onError(error, {
      topic: record.topic,
      shop: record.shop,
      webhookId: record.webhookId,
      attempt: record.attempts,
    });
  }
  const now = rt.vault.now();
  const unopenable = failure instanceof ShoptokenError && failure.code === 'ERR_DECRYPT' && stored === null;
  const last = record.attempts >= rt.maxAttempts || unopenable;
  const outcome: WebhookOutcome =
    failure === null
      ? { state: 'done', runAt: now, lastError: null, keepUntil: record.receivedAt + rt.dedupeWindowMs, now }
      : last
        ? {
            state: 'dead',
            runAt: now,
            lastError: describeFailure(failure),
            keepUntil: now + rt.deadLetterRetentionMs,
            now,
          }
        : {
            state: 'pending',
            runAt: now + retryDelay(rt, record.attempts),
            lastError: describeFailure(failure),
            keepUntil: record.keepUntil,
            now,
          };
  // Settled by another claimant already (this claim ended): its run counts, not this one.
  if (!(await rt.inbox.settle(record.webhookId, owner, outcome))) return 'lost';
  return failure === null ? 'done' : last ? 'dead' : 'retried';
}
