/**
 * `shoptoken/session-storage`: Shopify's `SessionStorage` backed by shoptoken's vault, for apps on
 * `@shopify/shopify-app-express`, `-react-router` or `-remix`. Tokens are sealed at rest, and
 * expiring offline tokens are refreshed by the vault, once per rotation across every instance.
 *
 * @example
 * import { loadConfig, openDefaultVault } from 'shoptoken';
 * import { createSessionStorage } from 'shoptoken/session-storage';
 * const { vault } = await openDefaultVault(loadConfig({ env: process.env, cwd: process.cwd() }));
 * const shopify = shopifyApp({ …, sessionStorage: createSessionStorage(vault) });
 */

// First: on a Node too old for shoptoken this fails with one clear message (see node-guard.ts).
import '../node-guard.ts';

export {
  type AliasTarget,
  createMemorySessionAliases,
  type MemorySessionAliasesOptions,
  type SessionAliases,
} from './aliases.ts';
export type { SessionClass } from './session-class.ts';
export { offlineSessionId, onlineSessionId, parseSessionId, type SessionKey } from './session-ids.ts';
export {
  createSessionStorage,
  DEFAULT_MARGIN_MS,
  type SessionStorageOptions,
  type SessionStorageVault,
  type ShoptokenSessionStorage,
} from './session-storage.ts';
