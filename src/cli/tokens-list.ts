/**
 * `shoptoken tokens list [--json] [--database PATH]`: the stored tokens' metadata, never their
 * values. Reads the database the app uses (same configuration); needs no key, since metadata is
 * not encrypted, and never creates a database or a key file.
 */

import { existsSync } from 'node:fs';
import { databaseLocation, openConfiguredStorage } from '../config/database.ts';
import type { TokenRow } from '../storage/types.ts';
import { rowMetadata } from '../vault/token-view.ts';
import type { TokenMetadata } from '../vault/types.ts';
import { CONFIG_OPTION, CONFIG_USAGE, cliConfig } from './config.ts';
import { type Command, parseCommandOptions } from './io.ts';
import { table } from './table.ts';

const USAGE = `usage: shoptoken tokens list [--json] [--database PATH] [--config NAME]

Lists stored tokens (shop, kind, user, scopes, expiry, times) — never token values.
  --json             print a JSON array
  --database URL     the store (default: SHOPTOKEN_DATABASE_URL, else .shoptoken/shoptoken.db): a SQLite path,
                     postgres://, mysql:// or redis://
${CONFIG_USAGE}
`;

/** One listed token, as printed with `--json`. */
export interface TokenListRecord {
  /** The app (client id) of a store shared by several apps; absent for a single-app store. */
  app?: string;
  shop: string;
  kind: 'offline' | 'online';
  userId: string | null;
  scopes: string[];
  associatedUserScopes: string[] | null;
  expiresAt: string | null;
  refreshTokenExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Rows read per page. */
const PAGE = 1000;

function toRecord(row: TokenRow): TokenListRecord {
  const token: TokenMetadata = rowMetadata(row);
  return {
    // Only a store shared by several apps names them.
    ...(row.app === '' ? {} : { app: row.app }),
    shop: token.shop,
    kind: token.kind,
    userId: token.userId,
    scopes: token.scopes,
    associatedUserScopes: token.associatedUserScopes,
    expiresAt: token.expiresAt?.toISOString() ?? null,
    refreshTokenExpiresAt: token.refreshTokenExpiresAt?.toISOString() ?? null,
    createdAt: token.createdAt.toISOString(),
    updatedAt: token.updatedAt.toISOString(),
  };
}

/** An aligned table, one row per token. */
function recordsTable(records: TokenListRecord[]): string {
  const header = ['SHOP', 'KIND', 'USER', 'SCOPES', 'USER SCOPES', 'EXPIRES', 'REFRESH EXPIRES', 'CREATED', 'UPDATED'];
  return table(
    header,
    records.map((r) => [
      r.shop,
      r.kind,
      r.userId ?? '-',
      r.scopes.join(',') || '-',
      r.associatedUserScopes?.join(',') || '-',
      r.expiresAt ?? 'never',
      r.refreshTokenExpiresAt ?? '-',
      r.createdAt,
      r.updatedAt,
    ]),
  );
}

/** Runs `shoptoken tokens list`. Exit 0 on success, 1 when the database does not exist. */
export const run: Command = async (argv, io) => {
  const values = parseCommandOptions(
    argv,
    { json: { type: 'boolean' }, database: { type: 'string' }, ...CONFIG_OPTION },
    USAGE,
  );
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }

  const config = cliConfig(io, values.config);
  const location = databaseLocation(config, values.database);
  // Listing never creates a database: a SQLite file that is not there holds no tokens.
  if (location.backend === 'sqlite' && (location.path === ':memory:' || !existsSync(location.path))) {
    io.stderr.write(`shoptoken tokens list: no database at ${location.display} (nothing has been stored yet?)\n`);
    return 1;
  }
  const path = location.display;
  const { storage } = await openConfiguredStorage(config, { database: values.database });
  const records: TokenListRecord[] = [];
  try {
    let after: TokenRow | undefined;
    for (;;) {
      const page = await storage.list({ limit: PAGE, ...(after ? { after } : {}) });
      records.push(...page.map(toRecord));
      if (page.length < PAGE) break;
      after = page.at(-1);
    }
  } finally {
    await storage.close();
  }

  if (values.json) {
    io.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
  } else if (records.length === 0) {
    io.stdout.write(`no tokens stored in ${path}\n`);
  } else {
    io.stdout.write(recordsTable(records));
  }
  return 0;
};
