/**
 * `shoptoken/testing`: what a user writing their own storage runs to prove it behaves as the vault
 * needs. Runs under `node:test`.
 *
 * @example
 * import { runStorageConformance } from 'shoptoken/testing';
 * runStorageConformance('my store', () => openMyStorage(process.env.MY_DATABASE_URL));
 */

// First: on a Node too old for shoptoken this fails with one clear message (see node-guard.ts).
import '../node-guard.ts';

import { describe } from 'node:test';
import { coordinationRules } from './conformance-coordination.ts';
import { dueRules } from './conformance-due.ts';
import { rowRules } from './conformance-rows.ts';
import { webhookRules } from './conformance-webhooks.ts';
import type { StorageFactory } from './fixtures.ts';

export type { StorageFactory } from './fixtures.ts';

/** Options of {@link runStorageConformance}. */
export interface ConformanceOptions {
  /**
   * True (the default) when every `open()` connects to the same data (a file, a database, a Redis):
   * the battery then also checks that two connections see each other's rows, leases and states, as
   * several instances of an app do. False for stores each `open()` creates afresh (memory).
   */
  shared?: boolean;
  /**
   * True (the default) to check the webhook inbox (`storage.webhooks`) too; false for a store
   * without one (webhooks then cannot use it).
   */
  webhooks?: boolean;
}

/**
 * Declares the storage conformance battery as a `node:test` suite named `name`. Every test opens a
 * connection with `open`, writes only under an app id of its own (so a shared database is fine),
 * deletes what it wrote, and closes the connection.
 *
 * @example
 * runStorageConformance('postgres', () => openPostgresStorage('postgres://localhost/test'));
 */
export function runStorageConformance(name: string, open: StorageFactory, options: ConformanceOptions = {}): void {
  describe(`storage conformance: ${name}`, () => {
    rowRules(open);
    dueRules(open);
    coordinationRules(open, options.shared ?? true);
    if (options.webhooks ?? true) webhookRules(open, options.shared ?? true);
  });
}
