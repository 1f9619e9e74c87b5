/**
 * What every Admin GraphQL resolver shares: its context (shop, app, token scopes, the emulator's
 * state), the scope check that answers Shopify's ACCESS_DENIED, connections and `userErrors`.
 */

import { GraphQLError } from 'graphql';
import { coversScopes } from '../protocol/scopes.ts';
import type { ShopState } from './shops.ts';
import type { EmulatorState } from './state.ts';

/** What a resolver may see: the shop, the calling app, the scopes the token may use, and the state. */
export interface AdminContext {
  shop: ShopState;
  clientId: string;
  scopes: readonly string[];
  state: EmulatorState;
}

/** One entry of a mutation payload's `userErrors`. */
export interface UserError {
  field: string[] | null;
  message: string;
}

/** Throws Shopify's ACCESS_DENIED error for `field` unless the token's scopes cover `scope`. */
export function requireScope(context: AdminContext, field: string, scope: string): void {
  if (coversScopes(context.scopes, [scope])) return;
  const requiredAccess = `\`${scope}\` access scope.`;
  throw new GraphQLError(`Access denied for ${field} field. Required access: ${requiredAccess}`, {
    extensions: { code: 'ACCESS_DENIED', documentation: 'https://shopify.dev/api/usage/access-scopes', requiredAccess },
  });
}

/** Throws unless `first` is a page size Shopify accepts (0 to 250). */
export function checkFirst(first: number): void {
  if (first < 0 || first > 250) throw new GraphQLError('first must be between 0 and 250');
}

/** A scoped connection of `nodes` only, as the first Admin API fields answer. */
export function connection<T>(context: AdminContext, field: string, scope: string, items: T[], first: number) {
  requireScope(context, field, scope);
  checkFirst(first);
  return { nodes: items.slice(0, first) };
}

const cursorOf = (id: string) => Buffer.from(id, 'utf8').toString('base64url');

/**
 * A page of `items` (each with an `id`) after the cursor `after`: `nodes`, `edges` and `pageInfo`,
 * as Shopify's clients page through (shopify-api reads `edges` and `pageInfo`).
 */
export function page<T extends { id: string }>(items: readonly T[], first: number, after?: string | null) {
  checkFirst(first);
  const start = after ? items.findIndex((item) => cursorOf(item.id) === after) + 1 : 0;
  const nodes = items.slice(start, start + first);
  const edges = nodes.map((node) => ({ node, cursor: cursorOf(node.id) }));
  return {
    nodes,
    edges,
    pageInfo: {
      hasNextPage: start + first < items.length,
      hasPreviousPage: start > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
