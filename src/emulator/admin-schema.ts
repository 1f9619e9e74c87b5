/**
 * The emulated Admin GraphQL schema (graphql-js): `shop`, `currentAppInstallation` and three
 * scoped connections that answer ACCESS_DENIED, shaped as Shopify's, when the token lacks a scope.
 */

import { buildSchema, GraphQLError } from 'graphql';
import { coversScopes, expandScopes } from '../protocol/scopes.ts';
import type { ShopState } from './shops.ts';

export const adminSchema = buildSchema(`
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
`);

/** What a resolver may see: the shop and the scopes the token may use. */
export interface AdminContext {
  shop: ShopState;
  scopes: readonly string[];
}

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

function requireScope(context: AdminContext, field: string, scope: string): void {
  if (coversScopes(context.scopes, [scope])) return;
  const requiredAccess = `\`${scope}\` access scope.`;
  throw new GraphQLError(`Access denied for ${field} field. Required access: ${requiredAccess}`, {
    extensions: { code: 'ACCESS_DENIED', documentation: 'https://shopify.dev/api/usage/access-scopes', requiredAccess },
  });
}

function connection<T>(context: AdminContext, field: string, scope: string, items: T[], first: number) {
  requireScope(context, field, scope);
  if (first < 0 || first > 250) throw new GraphQLError('first must be between 0 and 250');
  return { nodes: items.slice(0, first) };
}

type Args = { first: number };

/** Root resolvers; graphql-js calls them as `(args, context)`. */
export const adminRoot = {
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
