/**
 * Webhook subscriptions of each app on each shop: those of the app's configuration
 * (`shopify.app.toml`, on every shop where it is installed) and those created through the Admin
 * API (one shop, deleted when the app is uninstalled, reference §6.4). A topic's deliveries go to
 * every matching subscription, one each (§6.3).
 */

import type { UserError } from './admin-context.ts';
import type { CheckedApp } from './options.ts';
import { isAppUrl } from './webhook-config.ts';
import { isComplianceTopic } from './webhook-topics.ts';

/** A subscription created through the Admin API. */
export interface ApiSubscription {
  /** `gid://shopify/WebhookSubscription/N`. */
  id: string;
  shop: string;
  clientId: string;
  topic: string;
  uri: string;
  includeFields: string[];
  metafieldNamespaces: string[];
  /** ms since epoch. */
  createdAt: number;
  updatedAt: number;
}

/** What `webhookSubscriptionCreate` / `Update` set. */
export interface SubscriptionInput {
  uri: string | undefined;
  /** Which input field named the URI, for `userErrors`. */
  uriField: 'uri' | 'callbackUrl';
  includeFields?: string[] | undefined;
  metafieldNamespaces?: string[] | undefined;
}

/** Where one delivery of a topic goes. */
export interface SubscriptionTarget {
  uri: string;
  /** The API subscription's id, or `config`. */
  subscription: string;
}

const slotKey = (shop: string, clientId: string) => `${shop} ${clientId}`;

/** The subscriptions of one emulator. */
export class WebhookSubscriptions {
  readonly #apps: ReadonlyMap<string, CheckedApp>;
  readonly #now: () => number;
  readonly #bySlot = new Map<string, ApiSubscription[]>();
  #nextId = 1_000_001;

  constructor(apps: ReadonlyMap<string, CheckedApp>, now: () => number) {
    this.#apps = apps;
    this.#now = now;
  }

  /** The app's API subscriptions on the shop, oldest first. */
  list(shop: string, clientId: string): ApiSubscription[] {
    return [...(this.#bySlot.get(slotKey(shop, clientId)) ?? [])];
  }

  /** Creates a subscription, or answers the `userErrors` that refuse it. */
  create(shop: string, clientId: string, topic: string, input: SubscriptionInput): ApiSubscription | UserError[] {
    const errors = this.#problems(shop, clientId, topic, input, undefined);
    if (errors.length > 0) return errors;
    const now = this.#now();
    const subscription: ApiSubscription = {
      id: `gid://shopify/WebhookSubscription/${this.#nextId++}`,
      shop,
      clientId,
      topic,
      uri: input.uri!,
      includeFields: [...(input.includeFields ?? [])],
      metafieldNamespaces: [...(input.metafieldNamespaces ?? [])],
      createdAt: now,
      updatedAt: now,
    };
    const key = slotKey(shop, clientId);
    this.#bySlot.set(key, [...(this.#bySlot.get(key) ?? []), subscription]);
    return subscription;
  }

  /** Changes a subscription's URI (and fields); `undefined` when the app has no such subscription on the shop. */
  update(
    shop: string,
    clientId: string,
    id: string,
    input: SubscriptionInput,
  ): ApiSubscription | UserError[] | undefined {
    const subscription = this.list(shop, clientId).find((candidate) => candidate.id === id);
    if (!subscription) return undefined;
    const errors = this.#problems(shop, clientId, subscription.topic, input, id);
    if (errors.length > 0) return errors;
    subscription.uri = input.uri!;
    if (input.includeFields) subscription.includeFields = [...input.includeFields];
    if (input.metafieldNamespaces) subscription.metafieldNamespaces = [...input.metafieldNamespaces];
    subscription.updatedAt = this.#now();
    return subscription;
  }

  /** Deletes one subscription; false when the app has no such subscription on the shop. */
  delete(shop: string, clientId: string, id: string): boolean {
    const key = slotKey(shop, clientId);
    const kept = this.list(shop, clientId).filter((subscription) => subscription.id !== id);
    if (kept.length === this.list(shop, clientId).length) return false;
    this.#bySlot.set(key, kept);
    return true;
  }

  /** Deletes every API subscription of the app on the shop, as an uninstall does. */
  deleteAll(shop: string, clientId: string): void {
    this.#bySlot.delete(slotKey(shop, clientId));
  }

  /** Every subscription of the app on the shop that receives `topic`: the configured ones first. */
  targets(shop: string, clientId: string, topic: string): SubscriptionTarget[] {
    const compliance = isComplianceTopic(topic);
    const configured = (this.#apps.get(clientId)?.webhooks.subscriptions ?? [])
      .filter((subscription) => (compliance ? subscription.complianceTopics : subscription.topics).includes(topic))
      .map((subscription) => ({ uri: subscription.uri, subscription: 'config' }));
    const created = this.list(shop, clientId)
      .filter((subscription) => subscription.topic === topic)
      .map((subscription) => ({ uri: subscription.uri, subscription: subscription.id }));
    return [...configured, ...created];
  }

  #problems(shop: string, clientId: string, topic: string, input: SubscriptionInput, self: string | undefined) {
    const field = ['webhookSubscription', input.uriField];
    if (input.uri === undefined || input.uri === '') return [{ field, message: "Address can't be blank" }];
    if (!isAppUrl(input.uri)) return [{ field, message: 'Address is invalid' }];
    const taken = this.list(shop, clientId).some(
      (other) => other.id !== self && other.topic === topic && other.uri === input.uri,
    );
    return taken ? [{ field, message: 'Address for this topic has already been taken' }] : [];
  }
}
