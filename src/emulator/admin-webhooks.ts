/**
 * Webhook subscriptions in the Admin API: `webhookSubscriptions` and `webhookSubscription`, and
 * the mutations `webhookSubscriptionCreate`, `…Update` and `…Delete`, shaped so that Shopify's own
 * clients (shopify-api's `webhooks.register`, which reads `edges`, `endpoint` and `pageInfo`) work.
 * They list and change the calling app's subscriptions on the shop only; the app's configured
 * subscriptions are not listed, as on Shopify. Deliveries are JSON only.
 */

import { type AdminContext, page, type UserError } from './admin-context.ts';
import type { ApiSubscription, SubscriptionInput } from './webhook-subscriptions.ts';
import { enumOfTopic, topicEnumValues, topicOfEnum } from './webhook-topics.ts';

export const WEBHOOK_SDL = `
  enum WebhookSubscriptionTopic { ${topicEnumValues().join(' ')} }
  enum WebhookSubscriptionFormat { JSON XML }
  type ApiVersion { handle: String! displayName: String! supported: Boolean! }
  type WebhookHttpEndpoint { callbackUrl: URL! }
  type WebhookEventBridgeEndpoint { arn: String! }
  type WebhookPubSubEndpoint { pubSubProject: String! pubSubTopic: String! }
  union WebhookSubscriptionEndpoint = WebhookHttpEndpoint | WebhookEventBridgeEndpoint | WebhookPubSubEndpoint
  type WebhookSubscription {
    id: ID!
    topic: WebhookSubscriptionTopic!
    uri: String!
    callbackUrl: URL!
    endpoint: WebhookSubscriptionEndpoint!
    format: WebhookSubscriptionFormat!
    includeFields: [String!]!
    metafieldNamespaces: [String!]!
    apiVersion: ApiVersion!
    createdAt: DateTime!
    updatedAt: DateTime!
  }
  type WebhookSubscriptionEdge { node: WebhookSubscription! cursor: String! }
  type WebhookSubscriptionConnection {
    nodes: [WebhookSubscription!]!
    edges: [WebhookSubscriptionEdge!]!
    pageInfo: PageInfo!
  }
  input WebhookSubscriptionInput {
    uri: String
    callbackUrl: URL
    format: WebhookSubscriptionFormat
    includeFields: [String!]
    metafieldNamespaces: [String!]
  }
  type WebhookSubscriptionCreatePayload { webhookSubscription: WebhookSubscription userErrors: [UserError!]! }
  type WebhookSubscriptionUpdatePayload { webhookSubscription: WebhookSubscription userErrors: [UserError!]! }
  type WebhookSubscriptionDeletePayload { deletedWebhookSubscriptionId: ID userErrors: [UserError!]! }
  extend type Query {
    webhookSubscriptions(first: Int!, after: String, topics: [WebhookSubscriptionTopic!]): WebhookSubscriptionConnection!
    webhookSubscription(id: ID!): WebhookSubscription
  }
  extend type Mutation {
    webhookSubscriptionCreate(
      topic: WebhookSubscriptionTopic!
      webhookSubscription: WebhookSubscriptionInput!
    ): WebhookSubscriptionCreatePayload
    webhookSubscriptionUpdate(id: ID!, webhookSubscription: WebhookSubscriptionInput!): WebhookSubscriptionUpdatePayload
    webhookSubscriptionDelete(id: ID!): WebhookSubscriptionDeletePayload
  }
`;

/** The `webhookSubscription` input of the create and update mutations. */
export interface InputArg {
  uri?: string | null;
  callbackUrl?: string | null;
  format?: 'JSON' | 'XML' | null;
  includeFields?: string[] | null;
  metafieldNamespaces?: string[] | null;
}

/** ms since epoch as Shopify's `DateTime`: ISO 8601 in UTC, whole seconds. */
export const dateTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function view(subscription: ApiSubscription, context: AdminContext) {
  const handle = context.state.apps.get(context.clientId)!.webhooks.apiVersion;
  return {
    id: subscription.id,
    topic: enumOfTopic(subscription.topic),
    uri: subscription.uri,
    callbackUrl: subscription.uri,
    endpoint: { __typename: 'WebhookHttpEndpoint', callbackUrl: subscription.uri },
    format: 'JSON',
    includeFields: subscription.includeFields,
    metafieldNamespaces: subscription.metafieldNamespaces,
    apiVersion: { handle, displayName: handle, supported: true },
    createdAt: dateTime(subscription.createdAt),
    updatedAt: dateTime(subscription.updatedAt),
  };
}

/** The input as the store takes it, or the `userErrors` that refuse it first. */
function readInput(input: InputArg): SubscriptionInput | UserError[] {
  if (input.format === 'XML') {
    return [{ field: ['webhookSubscription', 'format'], message: 'The emulator delivers JSON only' }];
  }
  const { uri, callbackUrl } = input;
  if (uri != null && callbackUrl != null && uri !== callbackUrl) {
    return [{ field: ['webhookSubscription', 'uri'], message: 'Give uri or callbackUrl, not both' }];
  }
  return {
    uri: uri ?? callbackUrl ?? undefined,
    uriField: uri != null || callbackUrl == null ? 'uri' : 'callbackUrl',
    includeFields: input.includeFields ?? undefined,
    metafieldNamespaces: input.metafieldNamespaces ?? undefined,
  };
}

/** A `…Create` / `…Update` payload from the store's answer. */
function payload(result: ApiSubscription | UserError[], context: AdminContext) {
  return Array.isArray(result)
    ? { webhookSubscription: null, userErrors: result }
    : { webhookSubscription: view(result, context), userErrors: [] };
}

const NOT_FOUND: UserError[] = [{ field: ['id'], message: 'Webhook subscription does not exist' }];

/** Root resolvers of the webhook fields. */
export const webhookRoot = {
  webhookSubscriptions(
    { first, after, topics }: { first: number; after?: string | null; topics?: string[] | null },
    context: AdminContext,
  ) {
    const wanted = topics?.map(topicOfEnum);
    const all = context.state.subscriptions
      .list(context.shop.domain, context.clientId)
      .filter((subscription) => !wanted || wanted.includes(subscription.topic))
      .map((subscription) => view(subscription, context));
    return page(all, first, after);
  },
  webhookSubscription({ id }: { id: string }, context: AdminContext) {
    const found = context.state.subscriptions.list(context.shop.domain, context.clientId).find((s) => s.id === id);
    return found ? view(found, context) : null;
  },
  webhookSubscriptionCreate(
    { topic, webhookSubscription }: { topic: string; webhookSubscription: InputArg },
    context: AdminContext,
  ) {
    const input = readInput(webhookSubscription);
    if (Array.isArray(input)) return { webhookSubscription: null, userErrors: input };
    const created = context.state.subscriptions.create(
      context.shop.domain,
      context.clientId,
      topicOfEnum(topic)!,
      input,
    );
    return payload(created, context);
  },
  webhookSubscriptionUpdate(
    { id, webhookSubscription }: { id: string; webhookSubscription: InputArg },
    context: AdminContext,
  ) {
    const input = readInput(webhookSubscription);
    if (Array.isArray(input)) return { webhookSubscription: null, userErrors: input };
    const updated = context.state.subscriptions.update(context.shop.domain, context.clientId, id, input);
    return payload(updated ?? NOT_FOUND, context);
  },
  webhookSubscriptionDelete({ id }: { id: string }, context: AdminContext) {
    const deleted = context.state.subscriptions.delete(context.shop.domain, context.clientId, id);
    return deleted
      ? { deletedWebhookSubscriptionId: id, userErrors: [] }
      : { deletedWebhookSubscriptionId: null, userErrors: NOT_FOUND };
  },
};
