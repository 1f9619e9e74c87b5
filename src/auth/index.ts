/** The install flow: one install, both tokens, a secure callback. */
export { isValidHostParam } from './host-param.ts';
export { createShoptoken } from './shoptoken.ts';
export {
  type AuthLeg,
  createMemoryStateStore,
  createStoredStateStore,
  type MemoryStateStoreOptions,
  STATE_TTL_SECONDS,
  type StateRecord,
  type StateStore,
} from './state-store.ts';
export type {
  AfterAuthContext,
  AfterLoginContext,
  AppSession,
  ResolvedShoptokenOptions,
  Shoptoken,
  ShoptokenOptions,
} from './types.ts';
