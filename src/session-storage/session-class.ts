/**
 * The `Session` class the drop-in storage builds, from `@shopify/shopify-api` — the package an app
 * using a `SessionStorage` already has. Loaded on first use, so importing `shoptoken/session-storage`
 * needs nothing beyond shoptoken.
 */

import type { Session, SessionParams } from '@shopify/shopify-api';
import { ConfigError } from '../errors.ts';

/** A constructor of Shopify's `Session` (`@shopify/shopify-api`'s, or one given in the options). */
export type SessionClass = new (params: SessionParams) => Session;

let loading: Promise<SessionClass> | undefined;

/** `@shopify/shopify-api`'s `Session`; a ConfigError saying to install it when it is missing. */
export function shopifySessionClass(): Promise<SessionClass> {
  loading ??= import('@shopify/shopify-api').then(
    (module) => module.Session,
    (error: unknown) => {
      loading = undefined;
      const code = (error as { code?: unknown } | null)?.code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        throw new ConfigError([
          "shoptoken/session-storage returns @shopify/shopify-api's Session objects: install @shopify/shopify-api",
        ]);
      }
      throw error;
    },
  );
  return loading;
}
