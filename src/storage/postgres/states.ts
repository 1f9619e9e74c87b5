/**
 * OAuth states in a table (`shoptoken_oauth_states`), shared by every instance so a callback may
 * land on any of them. `take` is one `DELETE … RETURNING`: of concurrent takes of one state only one
 * gets its row (single use across instances), and the value is returned only when the state has not
 * expired at the caller's `now` (expiry is the flow's clock, never this machine's or the server's).
 * Expired states are swept on that same clock, now and then (the first take of a storage, then at
 * most once a minute), in the same statement as a take.
 */

import type { StateStorage } from '../types.ts';
import type { Db } from './connection.ts';

/** How often (ms of this process's monotonic clock) a take also sweeps expired states. */
export const SWEEP_EVERY_MS = 60_000;

/** The OAuth-state store of `db`. */
export function postgresStates(db: Db, clock: () => number = () => performance.now()): StateStorage {
  const states = db.table('shoptoken_oauth_states');
  const saveText = `INSERT INTO ${states} (state, value, expires_at) VALUES ($1, $2, $3)
    ON CONFLICT (state) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`;
  const takeText = `DELETE FROM ${states} WHERE state = $1 RETURNING value, expires_at`;
  // Two deletions in one statement must not reach the same row: the sweep leaves the taken state alone.
  const takeAndSweepText = `WITH swept AS (DELETE FROM ${states} WHERE expires_at <= $2 AND state <> $1)
    ${takeText}`;
  let lastSweep: number | undefined;

  return {
    async save(state, value, expiresAt) {
      await db.query('save an OAuth state', saveText, [state, value, expiresAt]);
    },
    async take(state, now) {
      const at = clock();
      const sweep = lastSweep === undefined || at - lastSweep >= SWEEP_EVERY_MS;
      const { rows } = sweep
        ? await db.query('take an OAuth state', takeAndSweepText, [state, now])
        : await db.query('take an OAuth state', takeText, [state]);
      if (sweep) lastSweep = at;
      const row = rows[0];
      return row && Number(row.expires_at) > now ? String(row.value) : null;
    },
  };
}
