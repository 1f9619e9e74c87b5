/**
 * Emulated shops: their staff (seeded or a default set), the apps installed on them, and a few
 * fake records for the Admin API to return.
 */

import { coversScopes } from '../protocol/scopes.ts';
import type { EmulatorShopSeed, EmulatorUser, EmulatorUserSeed } from './types.ts';

/** A fake product, order or customer. */
export interface ShopRecords {
  products: { id: string; title: string }[];
  orders: { id: string; name: string }[];
  customers: { id: string; displayName: string }[];
}

/** One shop's mutable state. */
export interface ShopState {
  /** Numeric, as Shopify's shop ids (`shop_id` of compliance payloads). */
  id: number;
  domain: string;
  name: string;
  email: string;
  users: EmulatorUser[];
  /** Granted scopes (compact) by client id. */
  installations: Map<string, string[]>;
  /** Client ids of apps created by the shop's own organization (client-credentials allowed). */
  organizationApps: Set<string>;
  records: ShopRecords;
}

/** Hands out user ids: numeric strings, unique across the emulator and stable for its lifetime. */
export type IdSource = () => string;

/** An id source starting at a plausible Shopify-like user id. */
export function createIdSource(taken: ReadonlySet<string>): IdSource {
  let next = 70_000_000_001;
  return () => {
    while (taken.has(String(next))) next += 1;
    const id = String(next);
    next += 1;
    return id;
  };
}

function titleCase(name: string): string {
  return name
    .split('-')
    .filter(Boolean)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

function defaultUsers(shopName: string): EmulatorUserSeed[] {
  const email = (first: string) => `${first}@${shopName}.example`;
  return [
    { firstName: 'Olivia', lastName: 'Owner', email: email('olivia'), accountOwner: true, permissions: ['*'] },
    {
      firstName: 'Sam',
      lastName: 'Staff',
      email: email('sam'),
      permissions: ['read_products', 'write_products', 'read_orders'],
    },
    { firstName: 'Rita', lastName: 'Reader', email: email('rita'), permissions: ['read_products'] },
  ];
}

function fakeRecords(shopName: string, seed: number): ShopRecords {
  const gid = (type: string, n: number) => `gid://shopify/${type}/${seed * 1000 + n}`;
  const label = titleCase(shopName);
  return {
    products: ['Snowboard', 'Wax', 'Goggles'].map((title, i) => ({
      id: gid('Product', i + 1),
      title: `${label} ${title}`,
    })),
    orders: [1001, 1002, 1003].map((n, i) => ({ id: gid('Order', i + 1), name: `#${n}` })),
    customers: ['Ada Lovelace', 'Grace Hopper', 'Alan Turing'].map((displayName, i) => ({
      id: gid('Customer', i + 1),
      displayName,
    })),
  };
}

/** The id of the first shop built; the others follow in order. */
const FIRST_SHOP_ID = 68_000_000_001;

/** Builds a shop from a seed (or from its domain alone, with the default staff). */
export function buildShop(seed: EmulatorShopSeed, nextId: IdSource, index: number): ShopState {
  const shopName = seed.domain.slice(0, -'.myshopify.com'.length);
  const users: EmulatorUser[] = (seed.users ?? defaultUsers(shopName)).map((user) => ({
    id: user.id ?? nextId(),
    firstName: user.firstName,
    lastName: user.lastName,
    email: user.email,
    accountOwner: user.accountOwner ?? false,
    permissions: [...user.permissions],
    locale: user.locale ?? 'en',
    collaborator: user.collaborator ?? false,
  }));
  const owner = users.find((user) => user.accountOwner) ?? users[0];
  return {
    id: FIRST_SHOP_ID + index,
    domain: seed.domain,
    name: seed.name ?? titleCase(shopName),
    email: seed.email ?? owner?.email ?? `owner@${shopName}.example`,
    users,
    installations: new Map(),
    organizationApps: new Set(seed.organizationClientIds ?? []),
    records: fakeRecords(shopName, index + 1),
  };
}

/** True when the user's permissions cover `scope` (write implies read; `*` covers everything). */
export function userHasScope(user: EmulatorUser, scope: string): boolean {
  return user.permissions.includes('*') || coversScopes(user.permissions, [scope]);
}
