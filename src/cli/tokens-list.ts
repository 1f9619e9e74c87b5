/**
 * `shoptoken tokens list [--json] [--database PATH]`: the stored tokens' metadata, never their
 * values. Reads the database the app uses (same configuration); needs no key, since metadata is
 * not encrypted, and never creates a database or a key file.
 */

import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { configDatabasePath } from '../config/database.ts';
import { openSqliteStorage } from '../storage/sqlite.ts';
import type { TokenMetadata } from '../vault/types.ts';
import { rowMetadata } from '../vault/vault.ts';
import { CONFIG_OPTION, CONFIG_USAGE, cliConfig } from './config.ts';
import { type Command, UsageError } from './io.ts';

const USAGE = `usage: shoptoken tokens list [--json] [--database PATH] [--config NAME]

Lists stored tokens (shop, kind, user, scopes, expiry, times) — never token values.
  --json             print a JSON array
  --database PATH    the SQLite database (default: SHOPTOKEN_DATABASE_URL, else .shoptoken/shoptoken.db)
${CONFIG_USAGE}
`;

/** One listed token, as printed with `--json`. */
export interface TokenListRecord {
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

function toRecord(token: TokenMetadata): TokenListRecord {
  return {
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
function table(records: TokenListRecord[]): string {
  const header = ['SHOP', 'KIND', 'USER', 'SCOPES', 'USER SCOPES', 'EXPIRES', 'REFRESH EXPIRES', 'CREATED', 'UPDATED'];
  const rows = records.map((r) => [
    r.shop,
    r.kind,
    r.userId ?? '-',
    r.scopes.join(',') || '-',
    r.associatedUserScopes?.join(',') || '-',
    r.expiresAt ?? 'never',
    r.refreshTokenExpiresAt ?? '-',
    r.createdAt,
    r.updatedAt,
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

/** Runs `shoptoken tokens list`. Exit 0 on success, 1 when the database does not exist. */
export const run: Command = async (argv, io) => {
  let values: { json?: boolean; database?: string; config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        json: { type: 'boolean' },
        database: { type: 'string' },
        ...CONFIG_OPTION,
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }

  const path = configDatabasePath(cliConfig(io, values.config), values.database);
  if (path === ':memory:' || !existsSync(path)) {
    io.stderr.write(`shoptoken tokens list: no database at ${path} (nothing has been stored yet?)\n`);
    return 1;
  }
  const storage = openSqliteStorage(path);
  let records: TokenListRecord[];
  try {
    records = (await storage.list()).map((row) => toRecord(rowMetadata(row)));
  } finally {
    await storage.close();
  }

  if (values.json) {
    io.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
  } else if (records.length === 0) {
    io.stdout.write(`no tokens stored in ${path}\n`);
  } else {
    io.stdout.write(table(records));
  }
  return 0;
};
