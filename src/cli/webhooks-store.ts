/**
 * What the `webhooks` commands share: the inbox of the configured store, opened without keys (a
 * listing shows records, never payloads; a replay only changes their state), and the options that
 * pick it.
 */

import { existsSync } from 'node:fs';
import { databaseLocation, openConfiguredStorage } from '../config/database.ts';
import type { ShoptokenConfig } from '../config/load.ts';
import { ShoptokenError } from '../errors.ts';
import type { WebhookRecord, WebhookStorage } from '../storage/webhook-types.ts';

/** The options of every `webhooks` command. */
export const STORE_OPTIONS = {
  database: { type: 'string' },
  app: { type: 'string' },
} as const;

export const STORE_USAGE = `  --database URL     the store (default: SHOPTOKEN_DATABASE_URL, else .shoptoken/shoptoken.db)
  --app CLIENT_ID    the app of a store shared by several apps (default: the single app)`;

/** Opens the configured store's inbox, runs `fn` with it, closes the store. Never creates a database. */
export async function withInbox<T>(
  config: ShoptokenConfig,
  database: string | undefined,
  fn: (inbox: WebhookStorage) => Promise<T>,
): Promise<T> {
  const location = databaseLocation(config, database);
  if (location.backend === 'sqlite' && (location.path === ':memory:' || !existsSync(location.path))) {
    throw new ShoptokenError('ERR_STORAGE', `no database at ${location.display} (nothing has been stored yet?)`);
  }
  const { storage } = await openConfiguredStorage(config, { database });
  try {
    if (!storage.webhooks) throw new ShoptokenError('ERR_STORAGE', `the ${storage.name} store has no webhook inbox`);
    return await fn(storage.webhooks);
  } finally {
    await storage.close();
  }
}

/** Every record of `app` (in `state`, when given), page by page. */
export async function* allRecords(
  inbox: WebhookStorage,
  app: string,
  state?: WebhookRecord['state'],
): AsyncGenerator<WebhookRecord> {
  const PAGE = 1000;
  let after: { receivedAt: number; webhookId: string } | undefined;
  for (;;) {
    const page = await inbox.list({ app, limit: PAGE, ...(state ? { state } : {}), ...(after ? { after } : {}) });
    yield* page;
    if (page.length < PAGE) return;
    const last = page.at(-1)!;
    after = { receivedAt: last.receivedAt, webhookId: last.webhookId };
  }
}
