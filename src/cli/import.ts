/**
 * `shoptoken import --from URL [--table NAME] [--dry-run] [--json] [--database URL] [--config NAME]`:
 * moves the tokens an app kept with Shopify's session storage (`@shopify/shopify-app-session-storage-`
 * `sqlite`, `-postgresql`, `-mysql`, `-redis`, or the Prisma `Session` table of Shopify's templates,
 * read with SQL) into shoptoken's configured store, encrypted (`importSessions`). Needs the vault's
 * keys and never generates one. Progress on stderr; the report (counts, skipped sessions with their
 * reasons) on stdout, as text or JSON. Never prints a token, a refresh token or a URL's password.
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { databaseLocation } from '../config/database.ts';
import { openDefaultVault } from '../config/default-vault.ts';
import { ConfigError } from '../errors.ts';
import { type ImportReport, type ImportSkip, importSessions } from '../import/import-sessions.ts';
import type { SkipReason } from '../import/records.ts';
import { openVault, type Vault } from '../open-vault.ts';
import { createMemoryStorage } from '../storage/memory.ts';
import { CONFIG_OPTION, CONFIG_USAGE, cliConfig } from './config.ts';
import { type Command, parseCommandOptions, UsageError } from './io.ts';
import { missingKeyProblems } from './keys-configured.ts';
import { Progress } from './progress.ts';

const USAGE = `usage: shoptoken import --from URL [--table NAME] [--dry-run] [--json] [--database URL] [--config NAME]

Imports the tokens your app kept with Shopify's session storage (@shopify/shopify-app-session-storage-
sqlite, -postgresql, -mysql, -redis, or the Prisma Session table of Shopify's templates) into
shoptoken's store, encrypted: offline tokens (expiring ones with their refresh token), online tokens
with their user. Safe to rerun: a token already held is left as it is, and an older token never
replaces a newer one.
  --from URL         where the sessions are: a SQLite file (path, sqlite:PATH, file:PATH), postgres://,
                     mysql:// or redis:// (the URL your session storage was given)
  --table NAME       the session table (default: shopify_sessions or Session, whichever is there);
                     with redis://, the key prefix (default shopify_sessions)
  --dry-run          report what would be imported; write nothing
  --json             print the report as JSON
  --database URL     shoptoken's store (default: SHOPTOKEN_DATABASE_URL, else .shoptoken/shoptoken.db)
${CONFIG_USAGE}
Environment: SHOPTOKEN_KEYS or SHOPTOKEN_KEY_FILE (or the demo key file outside production).
`;

/** What each skip reason means, for the text report. */
const REASONS: Record<SkipReason, string> = {
  malformed: 'not a session (no id, shop or isOnline)',
  invalid_shop: 'shop is not a {name}.myshopify.com domain',
  no_access_token: 'no access token',
  invalid_field: 'a time, scope list or flag that cannot be read',
  no_user: 'online session without a user id',
  no_expiry: 'online session without an expiry',
  online_expired: 'online token expired',
  refresh_token_expired: 'refresh token expired',
  access_token_expired: 'access token expired, no refresh token',
};

/** Off a terminal, progress lines are printed for runs of at least this many items. */
const PROGRESS_LINES_FROM = 1000;

/** Skipped sessions listed one by one in the text report (the JSON report lists all). */
const LISTED = 20;

interface Options {
  from: string;
  table: string | undefined;
  dryRun: boolean;
  json: boolean;
  database: string | undefined;
  config: string | undefined;
}

/** Replaces anything URL-like in `text`: an argument echoed in a message may hold a password. */
const withoutUrls = (text: string): string => text.replace(/[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s'"]*/g, '<url>');

function parseOptions(argv: string[]): Options | null {
  const values = parseCommandOptions(
    argv,
    {
      from: { type: 'string' },
      table: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      database: { type: 'string' },
      ...CONFIG_OPTION,
    },
    USAGE,
    (message) =>
      /positional|unexpected argument/i.test(message)
        ? 'unexpected argument (name the source with --from URL)'
        : withoutUrls(message),
  );
  if (values.help) return null;
  if (!values.from) throw new UsageError(`--from is required\n\n${USAGE}`);
  if (values.table !== undefined && !/^[\x21-\x7e]{1,128}$/.test(values.table)) {
    throw new UsageError(`--table must be a table name or key prefix (1 to 128 visible characters)\n\n${USAGE}`);
  }
  return {
    from: values.from,
    table: values.table,
    dryRun: values['dry-run'] === true,
    json: values.json === true,
    database: values.database,
    config: values.config,
  };
}

/** One skipped session, as the text report names it. */
function describeSkip(entry: ImportSkip): string {
  const who = entry.shop ?? '(unknown shop)';
  const what =
    entry.kind === 'online'
      ? ` online${entry.userId ? ` (user ${entry.userId})` : ''}`
      : entry.kind
        ? ` ${entry.kind}`
        : '';
  return `${who}${what}: ${REASONS[entry.reason]}`;
}

/** The report for people. */
export function formatReport(report: ImportReport): string {
  const { source } = report;
  const layout = source.layout === 'prisma' ? 'Prisma Session table' : 'Shopify session storage';
  const where = source.backend === 'redis' ? `key prefix ${source.table}` : `table ${source.table}`;
  const would = report.dryRun ? 'would import' : 'imported';
  const lines = [
    `source: ${source.location} (${where}, ${layout})`,
    `read: ${report.read} sessions`,
    `${would}: ${report.offline} offline (${report.expiring} expiring, with their refresh tokens), ${report.online} online`,
    `already held: ${report.unchanged}`,
    `kept (shoptoken holds a newer token): ${report.kept}`,
    `expired: ${report.expired}`,
    `skipped: ${report.skipped.length}`,
  ];
  const counts = new Map<SkipReason, number>();
  for (const entry of report.skipped) counts.set(entry.reason, (counts.get(entry.reason) ?? 0) + 1);
  for (const [reason, count] of [...counts].sort((a, b) => b[1] - a[1])) lines.push(`  ${REASONS[reason]}: ${count}`);
  const listed = report.skipped.slice(0, LISTED);
  for (const entry of listed) lines.push(`    ${describeSkip(entry)}`);
  if (report.skipped.length > listed.length) {
    lines.push(`    … and ${report.skipped.length - listed.length} more (--json lists them all)`);
  }
  if (report.dryRun) lines.push('dry run: nothing was written');
  return `${lines.join('\n')}\n`;
}

/** Runs `shoptoken import`. Exit 0 when the import ran (skipped sessions included), 1 on an error. */
export const run: Command = async (argv, io) => {
  const options = parseOptions(argv);
  if (!options) {
    io.stdout.write(USAGE);
    return 0;
  }
  const config = cliConfig(io, options.config);
  const problems = missingKeyProblems(io);
  if (problems.length > 0) throw new ConfigError(problems);

  const target = databaseLocation(config, options.database);
  let vault: Vault;
  if (options.dryRun && target.backend === 'sqlite' && (target.path === ':memory:' || !existsSync(target.path))) {
    // A dry run never creates the database: an absent one holds nothing, as an empty store does.
    vault = openVault({ storage: createMemoryStorage(), keys: [{ id: 'dry-run', key: randomBytes(32) }] });
  } else {
    ({ vault } = await openDefaultVault(config, { database: options.database }));
  }

  let progress: { bar: Progress; total: number } | undefined;
  let shown = 0;
  let report: ImportReport;
  try {
    report = await importSessions({
      from: options.from,
      vault,
      ...(options.table === undefined ? {} : { table: options.table }),
      dryRun: options.dryRun,
      cwd: io.cwd,
      onProgress: ({ done, total }) => {
        // A bar on a terminal; in a log, a line per 10 % only for long runs.
        if (!progress && !(io.stderr as NodeJS.WriteStream).isTTY && total < PROGRESS_LINES_FROM) return;
        progress ??= { bar: new Progress(io.stderr, total, 'sessions'), total };
        for (; shown < Math.min(done, progress.total); shown++) progress.bar.tick();
      },
    });
  } finally {
    await vault.close();
  }
  io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return 0;
};
