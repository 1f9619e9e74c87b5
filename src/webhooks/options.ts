/**
 * The webhook inbox's options, checked when it is built: every problem is reported at once
 * (ConfigError), each naming its option; secrets are kept out of the resolved options.
 */

import { secretList } from '../config/secret-list.ts';
import { ConfigError } from '../errors.ts';
import { WEBHOOK_MAX_BODY_BYTES } from '../protocol/webhook.ts';
import type { WebhookInbox } from '../vault/webhook-inbox.ts';
import { describeFailure } from './failure.ts';
import type {
  ComplianceHandlers,
  FulfillmentServiceHandlers,
  WebhookHandler,
  WebhooksOptions,
  WebhookVault,
} from './types.ts';

const DAY = 86_400_000;

/** The options after checking, with defaults filled in. */
export interface ResolvedWebhooks {
  secrets: readonly string[];
  vault: WebhookVault;
  inbox: WebhookInbox;
  path: string;
  handlers: ReadonlyMap<string, WebhookHandler>;
  compliance: ComplianceHandlers;
  /** The fulfillment callbacks and their path, or null when the app is not a fulfillment service. */
  fulfillment: (FulfillmentServiceHandlers & { path: string }) | null;
  dedupeWindowMs: number;
  maxAttempts: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  leaseMs: number;
  handlerTimeoutMs: number;
  concurrency: number;
  pollIntervalMs: number;
  deadLetterRetentionMs: number;
  maxBodyBytes: number;
  onError: NonNullable<WebhooksOptions['onError']>;
}

const VAULT_METHODS = ['admin', 'token', 'uninstalled', 'scopesUpdated', 'deleteShop', 'webhookInbox'] as const;
const TOPIC = /^[a-z0-9_.-]+(?:\/[a-z0-9_.-]+){1,3}$/;
/** An absolute path without a trailing slash (or `/`). */
const PATH = /^\/(?:[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*)?$/;
const COMPLIANCE = ['customersDataRequest', 'customersRedact', 'shopRedact'] as const;

function integer(name: string, value: unknown, fallback: number, min: number, problems: string[]): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    problems.push(`${name} must be an integer of at least ${min}`);
    return fallback;
  }
  return value as number;
}

function handlerMap(value: unknown, problems: string[]): Map<string, WebhookHandler> {
  const map = new Map<string, WebhookHandler>();
  if (value === undefined) return map;
  if (typeof value !== 'object' || value === null) {
    problems.push('handlers must be an object of topic → function');
    return map;
  }
  for (const [topic, handler] of Object.entries(value)) {
    if (!TOPIC.test(topic)) problems.push(`handlers: "${topic}" is not a topic (lower case, e.g. orders/create)`);
    else if (typeof handler !== 'function') problems.push(`handlers["${topic}"] must be a function`);
    else map.set(topic, handler as WebhookHandler);
  }
  return map;
}

/** The default `onError`: a warning on `process` that quotes no payload and no token. */
function warnOfFailure(
  error: unknown,
  info: { topic: string; shop: string; webhookId: string; attempt: number },
): void {
  const where = info.webhookId
    ? `${info.topic} for ${info.shop} (webhook ${info.webhookId}, attempt ${info.attempt})`
    : 'the webhook worker';
  const warning = new Error(`shoptoken webhooks: ${where} failed: ${describeFailure(error)}`);
  warning.name = 'ShoptokenWarning';
  process.emitWarning(warning);
}

/** Checks `options`; throws ConfigError listing every problem. */
export function resolveWebhooks(options: WebhooksOptions): ResolvedWebhooks {
  const problems: string[] = [];
  const o = options ?? ({} as WebhooksOptions);
  const secrets = secretList(o.apiSecret ?? o.config?.apiSecret, problems);
  const vault = o.vault;
  const vaultOk =
    typeof vault === 'object' && vault !== null && VAULT_METHODS.every((m) => typeof vault[m] === 'function');
  if (!vaultOk) problems.push(`vault must be a vault from openVault or openDefaultVault (${VAULT_METHODS.join(', ')})`);
  const inbox = vaultOk ? vault.webhookInbox() : null;
  if (vaultOk && !inbox) problems.push("vault: the vault's storage has no webhook inbox (TokenStorage.webhooks)");
  const path = o.path ?? '/webhooks';
  if (typeof path !== 'string' || !PATH.test(path)) {
    problems.push('path must be an absolute path without a trailing slash, e.g. /webhooks');
  }
  const handlers = handlerMap(o.handlers, problems);
  const compliance = o.compliance ?? {};
  for (const name of COMPLIANCE) {
    if (compliance[name] !== undefined && typeof compliance[name] !== 'function') {
      problems.push(`compliance.${name} must be a function`);
    }
  }
  const fulfillment = o.fulfillment === undefined ? null : { path: '/fulfillment', ...o.fulfillment };
  if (fulfillment) {
    for (const name of ['onNotification', 'fetchStock', 'fetchTrackingNumbers'] as const) {
      if (fulfillment[name] !== undefined && typeof fulfillment[name] !== 'function') {
        problems.push(`fulfillment.${name} must be a function`);
      }
    }
    if (!PATH.test(fulfillment.path) || fulfillment.path === '/' || fulfillment.path === path) {
      problems.push('fulfillment.path must be an absolute path other than path, without a trailing slash');
    }
  }
  if (o.onError !== undefined && typeof o.onError !== 'function') problems.push('onError must be a function');
  const resolved = {
    dedupeWindowMs: integer('dedupeWindowMs', o.dedupeWindowMs, 7 * DAY, 60_000, problems),
    maxAttempts: integer('maxAttempts', o.maxAttempts, 8, 1, problems),
    retryDelayMs: integer('retryDelayMs', o.retryDelayMs, 5000, 1, problems),
    maxRetryDelayMs: integer('maxRetryDelayMs', o.maxRetryDelayMs, 3_600_000, 1, problems),
    leaseMs: integer('leaseMs', o.leaseMs, 60_000, 100, problems),
    handlerTimeoutMs: integer('handlerTimeoutMs', o.handlerTimeoutMs, 300_000, 1, problems),
    concurrency: integer('concurrency', o.concurrency, 4, 1, problems),
    pollIntervalMs: integer('pollIntervalMs', o.pollIntervalMs, 1000, 10, problems),
    deadLetterRetentionMs: integer('deadLetterRetentionMs', o.deadLetterRetentionMs, 30 * DAY, 60_000, problems),
    maxBodyBytes: integer('maxBodyBytes', o.maxBodyBytes, WEBHOOK_MAX_BODY_BYTES, 1, problems),
  };
  if (resolved.concurrency > 1000) problems.push('concurrency must be at most 1000');
  if (problems.length > 0 || !inbox) throw new ConfigError(problems);
  return {
    ...resolved,
    secrets,
    vault,
    inbox,
    path,
    handlers,
    compliance,
    fulfillment,
    onError: o.onError ?? warnOfFailure,
  };
}
