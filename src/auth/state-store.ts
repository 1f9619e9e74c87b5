/**
 * Pending OAuth states. Each state is issued for one shop and one leg of the flow and may be used
 * once. The store is an interface so a shared store (Redis, SQL) can replace the in-memory one when
 * the app runs on more than one process.
 */

import type { StateStorage } from '../storage/types.ts';

/** `install` gets the offline token; `login` gets a user's online token. */
export type AuthLeg = 'install' | 'login';

/** What the flow remembers about a state it issued. */
export interface StateRecord {
  state: string;
  /** The canonical shop domain the state was issued for. */
  shop: string;
  leg: AuthLeg;
  /** Epoch milliseconds. */
  createdAt: number;
}

/** Where pending states live. Implementations must make {@link StateStore.take} atomic. */
export interface StateStore {
  /** Remembers a freshly issued state. */
  save(record: StateRecord): Promise<void>;
  /** Removes and returns the record of `state` (single use), or null when it is unknown or expired. */
  take(state: string): Promise<StateRecord | null>;
}

/** How long a state stays valid: the state cookie's Max-Age and the store's TTL. */
export const STATE_TTL_SECONDS = 600;

/** Options of {@link createMemoryStateStore}. */
export interface MemoryStateStoreOptions {
  /** Clock in epoch milliseconds; default `Date.now`. */
  now?: () => number;
  /** Default {@link STATE_TTL_SECONDS}. */
  ttlSeconds?: number;
  /** Upper bound on pending states; the oldest are dropped beyond it. Default 10,000. */
  maxEntries?: number;
}

/**
 * A single-process state store. Expired states are swept on every save, and the number of pending
 * states is bounded, so anonymous `GET /auth` requests cannot grow memory without limit.
 *
 * @example
 * const stateStore = createMemoryStateStore({ now: () => clock.now() });
 */
export function createMemoryStateStore(options: MemoryStateStoreOptions = {}): StateStore {
  const now = options.now ?? Date.now;
  const ttlMs = (options.ttlSeconds ?? STATE_TTL_SECONDS) * 1000;
  const maxEntries = options.maxEntries ?? 10_000;
  // Insertion order is creation order, so the oldest entries come first.
  const records = new Map<string, StateRecord>();
  const expired = (record: StateRecord) => now() - record.createdAt > ttlMs;

  return {
    async save(record) {
      for (const [state, existing] of records) {
        if (!expired(existing)) break;
        records.delete(state);
      }
      while (records.size >= maxEntries) {
        const oldest = records.keys().next();
        if (oldest.done) break;
        records.delete(oldest.value);
      }
      records.set(record.state, { ...record });
    },
    async take(state) {
      const record = records.get(state);
      if (!record) return null;
      records.delete(state);
      return expired(record) ? null : record;
    },
  };
}

/** What a stored state must look like to be taken (anything else is treated as unknown). */
function isStateRecord(value: unknown): value is StateRecord {
  const record = value as Partial<StateRecord> | null;
  return (
    typeof record === 'object' &&
    record !== null &&
    typeof record.state === 'string' &&
    typeof record.shop === 'string' &&
    (record.leg === 'install' || record.leg === 'login') &&
    typeof record.createdAt === 'number'
  );
}

/**
 * A state store over a storage's OAuth states (the vault's store by default), so a callback may land
 * on any instance of the app and a state is still used once across all of them.
 *
 * @example
 * const stateStore = createStoredStateStore(storage.states, { now: Date.now });
 */
export function createStoredStateStore(
  states: StateStorage,
  options: { now?: () => number; ttlSeconds?: number } = {},
): StateStore {
  const now = options.now ?? Date.now;
  const ttlMs = (options.ttlSeconds ?? STATE_TTL_SECONDS) * 1000;
  return {
    async save(record) {
      await states.save(record.state, JSON.stringify(record), record.createdAt + ttlMs);
    },
    async take(state) {
      const value = await states.take(state, now());
      if (value === null) return null;
      try {
        const record: unknown = JSON.parse(value);
        return isStateRecord(record) && record.state === state ? record : null;
      } catch {
        return null;
      }
    },
  };
}
