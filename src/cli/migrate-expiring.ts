/**
 * `shoptoken migrate-expiring [--dry-run] [--concurrency N] [--json] [--database PATH]`: converts
 * every stored non-expiring offline token to an expiring pair (shopify-protocol §3.3) with
 * `vault.migrateToExpiring`, which writes an intent before each irreversible exchange, so a run
 * killed at any point is finished by running the command again. Needs the app's credentials
 * (`SHOPIFY_API_KEY`, `SHOPIFY_API_SECRET`, optional `SHOPTOKEN_SHOPIFY_BASE_URL`) and the vault's
 * keys; never generates a key. Prints shops, counts and reasons, never token values. Once Shopify
 * refuses the app's credentials (`invalid_client`) it sends no more exchanges: the remaining shops
 * are reported as not attempted, with one message saying which settings to check.
 */

import { existsSync } from 'node:fs';
import { databaseLocation } from '../config/database.ts';
import { openDefaultVault } from '../config/default-vault.ts';
import { missingSettings, type ShoptokenConfig } from '../config/load.ts';
import { ConfigError } from '../errors.ts';
import type { Vault } from '../open-vault.ts';
import { APP_CREDENTIALS_REJECTED, type MigrationPlanEntry, type MigrationResult } from '../vault/migrator.ts';
import { CONFIG_OPTION, CONFIG_USAGE, cliConfig } from './config.ts';
import { type CliIO, type Command, parseCommandOptions, UsageError } from './io.ts';
import { missingKeyProblems } from './keys-configured.ts';
import { Progress } from './progress.ts';

const USAGE = `usage: shoptoken migrate-expiring [--dry-run] [--concurrency N] [--json] [--database PATH] [--config NAME]

Converts every stored non-expiring offline token to an expiring token (Shopify's token exchange;
irreversible). Safe to rerun: a run that was interrupted is finished by the next one.
  --dry-run          check the configuration and list what would change; change nothing
  --concurrency N    exchanges at a time, 1-64 (default 4)
  --json             print the report as JSON
  --database URL     the store (default: SHOPTOKEN_DATABASE_URL, else .shoptoken/shoptoken.db)
${CONFIG_USAGE}
Environment: SHOPIFY_API_KEY, SHOPIFY_API_SECRET, SHOPTOKEN_SHOPIFY_BASE_URL (default https://{shop}),
SHOPTOKEN_KEYS or SHOPTOKEN_KEY_FILE (or the demo key file outside production).
`;

const DEFAULT_CONCURRENCY = 4;
const MAX_CONCURRENCY = 64;

interface Options {
  dryRun: boolean;
  concurrency: number;
  json: boolean;
  database: string | undefined;
  config: string | undefined;
}

/** The final report, as printed with `--json`. */
export interface MigrationReport {
  dryRun: boolean;
  /** Shops migrated by this run (with `--dry-run`: shops that would be). */
  migrated: string[];
  alreadyExpiring: string[];
  failed: { shop: string; reason: string }[];
  /** Shops no exchange was sent for, because Shopify refused the app's credentials meanwhile. */
  notAttempted: { shop: string; reason: string }[];
}

function parseOptions(argv: string[]): Options | null {
  const values = parseCommandOptions(
    argv,
    {
      'dry-run': { type: 'boolean' },
      concurrency: { type: 'string' },
      json: { type: 'boolean' },
      database: { type: 'string' },
      ...CONFIG_OPTION,
    },
    USAGE,
  );
  if (values.help) return null;
  const concurrency = values.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new UsageError(`--concurrency must be an integer from 1 to ${MAX_CONCURRENCY}\n\n${USAGE}`);
  }
  return {
    dryRun: values['dry-run'] === true,
    concurrency,
    json: values.json === true,
    database: values.database,
    config: values.config,
  };
}

/** Opens the app's vault; every missing piece of configuration is reported at once (ConfigError). */
async function openConfiguredVault(io: CliIO, config: ShoptokenConfig, database: string | undefined): Promise<Vault> {
  const problems = [...missingSettings(config, ['apiKey', 'apiSecret']), ...missingKeyProblems(io)];
  if (problems.length > 0) throw new ConfigError(problems);
  const { vault } = await openDefaultVault(config, { database });
  return vault;
}

/** Runs `migrate` on every entry, `concurrency` at a time. */
async function migrateAll(
  vault: Vault,
  todo: MigrationPlanEntry[],
  concurrency: number,
  progress: Progress,
): Promise<MigrationResult[]> {
  const results: MigrationResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const entry = todo[next++]!;
      // Once Shopify refused the app's credentials, no further exchange is sent (not even the vault's probe).
      const rejected = vault.appCredentials().status === 'rejected';
      results.push(
        rejected
          ? { shop: entry.shop, status: 'not_attempted', reason: APP_CREDENTIALS_REJECTED }
          : await vault.migrateToExpiring(entry.shop),
      );
      progress.tick();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
  return results;
}

/** The shops of `results` with `status` and their reasons, by shop. */
function listed(results: MigrationResult[], status: MigrationResult['status']): { shop: string; reason: string }[] {
  return results
    .filter((result) => result.status === status)
    .map((result) => ({ shop: result.shop, reason: result.reason ?? 'unknown' }))
    .sort((a, b) => (a.shop < b.shop ? -1 : 1));
}

function text(report: MigrationReport, plan: MigrationPlanEntry[]): string {
  if (report.dryRun) {
    const todo = plan.filter((entry) => entry.state !== 'expiring');
    const lines = [`would migrate: ${todo.length}`];
    for (const entry of todo) {
      lines.push(`  ${entry.shop}${entry.state === 'started' ? ' (finishes a started migration)' : ''}`);
    }
    lines.push(`already expiring: ${report.alreadyExpiring.length}`, 'dry run: nothing changed');
    return `${lines.join('\n')}\n`;
  }
  const lines = [
    `migrated: ${report.migrated.length}`,
    `already expiring: ${report.alreadyExpiring.length}`,
    `failed: ${report.failed.length}`,
    ...report.failed.map(({ shop, reason }) => `  ${shop}: ${reason}`),
  ];
  if (report.notAttempted.length > 0) lines.push(`not attempted: ${report.notAttempted.length}`);
  if (report.failed.length > 0 && report.notAttempted.length === 0) {
    lines.push('fix or skip the failed shops, then run the command again');
  }
  return `${lines.join('\n')}\n`;
}

/** Runs `shoptoken migrate-expiring`. Exit 0 when nothing failed, 1 otherwise. */
export const run: Command = async (argv, io) => {
  const options = parseOptions(argv);
  if (!options) {
    io.stdout.write(USAGE);
    return 0;
  }
  const config = cliConfig(io, options.config);
  const location = databaseLocation(config, options.database);
  if (location.backend === 'sqlite' && (location.path === ':memory:' || !existsSync(location.path))) {
    io.stderr.write(`shoptoken migrate-expiring: no database at ${location.display} (nothing has been stored yet?)\n`);
    return 1;
  }
  const vault = await openConfiguredVault(io, config, options.database);
  let report: MigrationReport;
  let plan: MigrationPlanEntry[];
  let credentials: { status: string; reason: string | null } = { status: 'ok', reason: null };
  try {
    plan = await vault.migrationPlan();
    const todo = plan.filter((entry) => entry.state !== 'expiring');
    const alreadyExpiring = plan.filter((entry) => entry.state === 'expiring').map((entry) => entry.shop);
    if (options.dryRun) {
      report = {
        dryRun: true,
        migrated: todo.map((entry) => entry.shop),
        alreadyExpiring,
        failed: [],
        notAttempted: [],
      };
    } else {
      const results = await migrateAll(vault, todo, options.concurrency, new Progress(io.stderr, todo.length, 'shops'));
      const shops = (status: MigrationResult['status']) =>
        results
          .filter((result) => result.status === status)
          .map((result) => result.shop)
          .sort();
      report = {
        dryRun: false,
        migrated: shops('migrated'),
        alreadyExpiring: [...alreadyExpiring, ...shops('already_expiring')].sort(),
        failed: listed(results, 'failed'),
        notAttempted: listed(results, 'not_attempted'),
      };
      credentials = vault.appCredentials();
    }
  } finally {
    await vault.close();
  }
  io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : text(report, plan));
  if (credentials.status === 'rejected') {
    io.stderr.write(
      `shoptoken migrate-expiring: Shopify refused the app's credentials (${credentials.reason}): check ` +
        `SHOPIFY_API_KEY and SHOPIFY_API_SECRET, then run the command again; ${report.notAttempted.length} ` +
        'shops were not attempted (no shop was marked)\n',
    );
  }
  return report.failed.length > 0 || report.notAttempted.length > 0 ? 1 : 0;
};
