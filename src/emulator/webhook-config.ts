/**
 * An app's webhook configuration (`EmulatorAppConfig.webhooks`, the emulator's mirror of
 * `shopify.app.toml` `[webhooks]`, reference §10.1): its public shape, the check made when the
 * emulator is built, and the defaults.
 */

import { COMPLIANCE_TOPICS, isComplianceTopic, isTopic } from './webhook-topics.ts';

/**
 * The webhook header names a delivery carries (reference §6.1): `x-shopify` (`X-Shopify-Topic`, …,
 * the default), `shopify` (`shopify-topic`, …, their replacement) or `both`.
 */
export type EmulatorWebhookHeaders = 'x-shopify' | 'shopify' | 'both';

/** One `[[webhooks.subscriptions]]` of `shopify.app.toml`: it applies on every shop where the app is installed. */
export interface EmulatorWebhookSubscriptionConfig {
  /** `topics`, e.g. `['app/uninstalled', 'orders/create']`. */
  topics?: string[];
  /** `uri`: an absolute http(s) URL (plain http is allowed here, unlike Shopify, for local apps). */
  uri: string;
  /** `compliance_topics`: any of `customers/data_request`, `customers/redact`, `shop/redact`. */
  complianceTopics?: string[];
}

/** `[webhooks]` of `shopify.app.toml`, plus the emulator's choice of header names. */
export interface EmulatorWebhooksConfig {
  /** `api_version`: `YYYY-MM` or `unstable`, sent as `X-Shopify-API-Version` for every subscription of the app. */
  apiVersion: string;
  subscriptions?: EmulatorWebhookSubscriptionConfig[];
  /** Default `x-shopify`; a delivery may choose otherwise (`TriggerWebhookOptions`). */
  headers?: EmulatorWebhookHeaders;
}

/** Options of `emulator.triggerWebhook`. */
export interface TriggerWebhookOptions {
  /** The header names of these deliveries; default the app's `webhooks.headers`. */
  headers?: EmulatorWebhookHeaders;
}

/** The API version of an app that configures none: the latest stable version (reference §7.5). */
export const DEFAULT_WEBHOOK_API_VERSION = '2026-10';

/** A checked configuration: every field present. */
export interface CheckedWebhooks {
  apiVersion: string;
  subscriptions: Required<EmulatorWebhookSubscriptionConfig>[];
  headers: EmulatorWebhookHeaders;
}

export const HEADER_FAMILIES: readonly EmulatorWebhookHeaders[] = ['x-shopify', 'shopify', 'both'];

const API_VERSION = /^(?:\d{4}-(?:0[1-9]|1[0-2])|unstable)$/;

/** True for an absolute http(s) URL without credentials or fragment. */
export function isAppUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 2048 || !URL.canParse(value)) return false;
  const url = new URL(value);
  return /^https?:$/.test(url.protocol) && url.username === '' && url.password === '' && url.hash === '';
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function checkSubscription(value: unknown, where: string, problems: string[]): void {
  if (!isRecord(value)) {
    problems.push(`${where} must be an object { topics?, uri, complianceTopics? }`);
    return;
  }
  if (!isAppUrl(value.uri)) problems.push(`${where}.uri must be an absolute http(s) URL`);
  const { topics, complianceTopics } = value;
  if (topics !== undefined) {
    if (!Array.isArray(topics) || !topics.every(isTopic)) {
      problems.push(`${where}.topics must be an array of topics such as orders/create`);
    } else if (topics.some(isComplianceTopic)) {
      problems.push(`${where}.topics must not hold compliance topics: put them in complianceTopics`);
    }
  }
  if (
    complianceTopics !== undefined &&
    !(Array.isArray(complianceTopics) && complianceTopics.every((t) => typeof t === 'string' && isComplianceTopic(t)))
  ) {
    problems.push(`${where}.complianceTopics must be an array of ${COMPLIANCE_TOPICS.join(', ')}`);
  }
  const count =
    (Array.isArray(topics) ? topics.length : 0) + (Array.isArray(complianceTopics) ? complianceTopics.length : 0);
  if (count === 0) problems.push(`${where} needs at least one topic or compliance topic`);
}

/** Pushes every problem of `value` (an app's `webhooks`) onto `problems`, quoted under `where`. */
export function checkWebhooksConfig(value: unknown, where: string, problems: string[]): void {
  if (value === undefined) return;
  if (!isRecord(value)) {
    problems.push(`${where} must be an object { apiVersion, subscriptions?, headers? }`);
    return;
  }
  if (typeof value.apiVersion !== 'string' || !API_VERSION.test(value.apiVersion)) {
    problems.push(`${where}.apiVersion must be YYYY-MM or unstable`);
  }
  if (value.headers !== undefined && !HEADER_FAMILIES.includes(value.headers as EmulatorWebhookHeaders)) {
    problems.push(`${where}.headers must be one of ${HEADER_FAMILIES.join(', ')}`);
  }
  const { subscriptions } = value;
  if (subscriptions === undefined) return;
  if (!Array.isArray(subscriptions)) {
    problems.push(`${where}.subscriptions must be an array`);
    return;
  }
  subscriptions.forEach((subscription, i) => {
    checkSubscription(subscription, `${where}.subscriptions[${i}]`, problems);
  });
}

/** The configuration with its defaults, once checked. */
export function checkedWebhooks(config: EmulatorWebhooksConfig | undefined): CheckedWebhooks {
  return {
    apiVersion: config?.apiVersion ?? DEFAULT_WEBHOOK_API_VERSION,
    subscriptions: (config?.subscriptions ?? []).map((subscription) => ({
      topics: [...(subscription.topics ?? [])],
      uri: subscription.uri,
      complianceTopics: [...(subscription.complianceTopics ?? [])],
    })),
    headers: config?.headers ?? 'x-shopify',
  };
}
