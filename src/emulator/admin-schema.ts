/**
 * The emulated Admin GraphQL schema (graphql-js): `shop`, `currentAppInstallation` and three
 * scoped connections that answer ACCESS_DENIED, shaped as Shopify's, when the token lacks a scope;
 * webhook subscriptions (admin-webhooks.ts) and fulfillment services (admin-fulfillment.ts).
 */

import { buildSchema } from 'graphql';
import { expandScopes } from '../protocol/scopes.ts';
import { type AdminContext, connection } from './admin-context.ts';
import { FULFILLMENT_SDL, fulfillmentRoot } from './admin-fulfillment.ts';
import { WEBHOOK_SDL, webhookRoot } from './admin-webhooks.ts';

const BASE_SDL = `
  scalar URL
  scalar DateTime
  type UserError { field: [String!] message: String! }
  type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
  type Shop { name: String! email: String! myshopifyDomain: String! }
  type AccessScope { handle: String! description: String! }
  type AppInstallation { accessScopes: [AccessScope!]! }
  type Product { id: ID! title: String! }
  type ProductConnection { nodes: [Product!]! }
  type Order { id: ID! name: String! }
  type OrderConnection { nodes: [Order!]! }
  type Customer { id: ID! displayName: String! }
  type CustomerConnection { nodes: [Customer!]! }
  type Query {
    shop: Shop!
    currentAppInstallation: AppInstallation!
    products(first: Int!): ProductConnection
    orders(first: Int!): OrderConnection
    customers(first: Int!): CustomerConnection
  }
  type Mutation
`;

export const adminSchema = buildSchema([BASE_SDL, WEBHOOK_SDL, FULFILLMENT_SDL].join('\n'));

/** The token's scopes as Shopify lists them: each write scope followed by the read it implies. */
export function listedScopes(scopes: readonly string[]): string[] {
  return [...expandScopes(scopes)];
}

function describeScope(handle: string): string {
  const m = /^(unauthenticated_)?(read|write)_(.+)$/.exec(handle);
  if (!m) return handle;
  const what = m[3]!.replaceAll('_', ' ');
  return `${m[2] === 'write' ? 'Modify' : 'Read'} ${what}${m[1] ? ' (storefront)' : ''}`;
}

type Args = { first: number };

/** Root resolvers; graphql-js calls them as `(args, context)`. */
export const adminRoot = {
  ...webhookRoot,
  ...fulfillmentRoot,
  shop: (_args: unknown, context: AdminContext) => ({
    name: context.shop.name,
    email: context.shop.email,
    myshopifyDomain: context.shop.domain,
  }),
  currentAppInstallation: (_args: unknown, context: AdminContext) => ({
    accessScopes: listedScopes(context.scopes).map((handle) => ({ handle, description: describeScope(handle) })),
  }),
  products: ({ first }: Args, context: AdminContext) =>
    connection(context, 'products', 'read_products', context.shop.records.products, first),
  orders: ({ first }: Args, context: AdminContext) =>
    connection(context, 'orders', 'read_orders', context.shop.records.orders, first),
  customers: ({ first }: Args, context: AdminContext) =>
    connection(context, 'customers', 'read_customers', context.shop.records.customers, first),
};
