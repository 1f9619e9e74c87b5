/**
 * Leases and OAuth states in the SQLite file, so the processes sharing it coordinate: a lease is
 * taken with one conditional upsert (free, expired, or already the owner's), and a state is taken
 * with one `DELETE … RETURNING`, so single use holds across processes. Lease times are this
 * machine's clock, which every process on one SQLite file shares.
 */

import type { DatabaseSync } from 'node:sqlite';
import type { LeaseStore, StateStorage } from '../types.ts';

/** Runs a statement through the storage's guard (closed checks, error mapping). */
export type Guard = <T>(action: string, run: () => T) => T;

export function sqliteLeases(db: DatabaseSync, guard: Guard, now: () => number = Date.now): LeaseStore {
  const acquire = db.prepare(
    `INSERT INTO shoptoken_leases (key, owner, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
     WHERE shoptoken_leases.expires_at <= ? OR shoptoken_leases.owner = excluded.owner`,
  );
  const extend = db.prepare(
    'UPDATE shoptoken_leases SET expires_at = ? WHERE key = ? AND owner = ? AND expires_at > ?',
  );
  const release = db.prepare('DELETE FROM shoptoken_leases WHERE key = ? AND owner = ? AND expires_at > ?');
  return {
    async acquire(key, owner, ttlMs) {
      const at = now();
      return guard('take a lease', () => acquire.run(key, owner, at + ttlMs, at)).changes === 1;
    },
    async extend(key, owner, ttlMs) {
      const at = now();
      return guard('extend a lease', () => extend.run(at + ttlMs, key, owner, at)).changes === 1;
    },
    async release(key, owner) {
      return guard('release a lease', () => release.run(key, owner, now())).changes === 1;
    },
  };
}

export function sqliteStates(db: DatabaseSync, guard: Guard): StateStorage {
  const save = db.prepare('INSERT OR REPLACE INTO shoptoken_oauth_states (state, value, expires_at) VALUES (?, ?, ?)');
  const sweep = db.prepare('DELETE FROM shoptoken_oauth_states WHERE expires_at <= ?');
  const take = db.prepare('DELETE FROM shoptoken_oauth_states WHERE state = ? RETURNING value, expires_at');
  return {
    async save(state, value, expiresAt) {
      guard('save an OAuth state', () => save.run(state, value, expiresAt));
    },
    async take(state, now) {
      // Expired states are swept on the caller's clock (the flow's), never on this machine's.
      const row = guard('take an OAuth state', () => {
        const taken = take.get(state);
        sweep.run(now);
        return taken;
      }) as { value: string; expires_at: number } | undefined;
      return row && row.expires_at > now ? row.value : null;
    },
  };
}
