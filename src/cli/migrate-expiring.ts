/**
 * `shoptoken migrate-expiring [--dry-run] [--concurrency N] [--json] [--database PATH]`: converts
 * every stored non-expiring offline token to an expiring pair (shopify-protocol §3.3) with
 * `vault.migrateToExpiring`, which writes an intent before each irreversible exchange, so a run
 * killed at any point is finished by running the command again. Needs the app's credentials
 * (`SHOPIFY_API_KEY`, `SHOPIFY_API_SECRET`, optional `SHOPTOKEN_SHOPIFY_BASE_URL`) and the vault's
 * keys; never generates a key. Prints shops, counts and reasons, never token values.
 */

import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openDefaultVault, resolveDatabasePath } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { DEFAULT_SHOPIFY_BASE_URL } from '../protocol/shop.ts';
import type { MigrationPlanEntry, MigrationResult } from '../vault/migrator.ts';
import type { Vault } from '../vault/vault.ts';
import { type CliIO, type Command, UsageError } from './io.ts';
import { missingKeyProblems } from './keys-configured.ts';
import { Progress } from './progress.ts';

const USAGE = `usage: shoptoken migrate-expiring [--dry-run] [--concurrency N] [--json] [--database PATH]

Converts every stored non-expiring offline token to an expiring token (Shopify's token exchange;
irreversible). Safe to rerun: a run that was interrupted is finished by the next one.
  --dry-run          check the configuration and list what would change; change nothing
  --concurrency N    exchanges at a time, 1-64 (default 4)
  --json             print the report as JSON
  --database PATH    the SQLite database (default: SHOPTOKEN_DATABASE_URL, else .shoptoken/shoptoken.db)
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
}

/** The final report, as printed with `--json`. */
export interface MigrationReport {
  dryRun: boolean;
  /** Shops migrated by this run (with `--dry-run`: shops that would be). */
  migrated: string[];
  alreadyExpiring: string[];
  failed: { shop: string; reason: string }[];
}

function parseOptions(argv: string[]): Options | null {
  let values: { 'dry-run'?: boolean; concurrency?: string; json?: boolean; database?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'dry-run': { type: 'boolean' },
        concurrency: { type: 'string' },
        json: { type: 'boolean' },
        database: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
  if (values.help) return null;
  const concurrency = values.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new UsageError(`--concurrency must be an integer from 1 to ${MAX_CONCURRENCY}\n\n${USAGE}`);
  }
  return { dryRun: values['dry-run'] === true, concurrency, json: values.json === true, database: values.database };
}

/** Opens the app's vault; every missing piece of configuration is reported at once (ConfigError). */
async function openConfiguredVault(io: CliIO, path: string): Promise<Vault> {
  const { env, cwd } = io;
  const problems: string[] = [];
  if (!env.SHOPIFY_API_KEY) problems.push('SHOPIFY_API_KEY must be set to the app’s client id');
  if (!env.SHOPIFY_API_SECRET) problems.push('SHOPIFY_API_SECRET must be set to the app’s client secret');
  problems.push(...missingKeyProblems(io));
  if (problems.length > 0) throw new ConfigError(problems);
  const { vault } = await openDefaultVault({
    env,
    cwd,
    database: path,
    shopify: {
      clientId: env.SHOPIFY_API_KEY!,
      clientSecret: env.SHOPIFY_API_SECRET!,
      baseUrl: env.SHOPTOKEN_SHOPIFY_BASE_URL || DEFAULT_SHOPIFY_BASE_URL,
    },
  });
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
      results.push(await vault.migrateToExpiring(entry.shop));
      progress.tick();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
  return results;
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
  if (report.failed.length > 0) lines.push('fix or skip the failed shops, then run the command again');
  return `${lines.join('\n')}\n`;
}

/** Runs `shoptoken migrate-expiring`. Exit 0 when nothing failed, 1 otherwise. */
export const run: Command = async (argv, io) => {
  const options = parseOptions(argv);
  if (!options) {
    io.stdout.write(USAGE);
    return 0;
  }
  const path = resolveDatabasePath({ env: io.env, cwd: io.cwd, database: options.database });
  if (path === ':memory:' || !existsSync(path)) {
    io.stderr.write(`shoptoken migrate-expiring: no database at ${path} (nothing has been stored yet?)\n`);
    return 1;
  }
  const vault = await openConfiguredVault(io, path);
  let report: MigrationReport;
  let plan: MigrationPlanEntry[];
  try {
    plan = await vault.migrationPlan();
    const todo = plan.filter((entry) => entry.state !== 'expiring');
    const alreadyExpiring = plan.filter((entry) => entry.state === 'expiring').map((entry) => entry.shop);
    if (options.dryRun) {
      report = { dryRun: true, migrated: todo.map((entry) => entry.shop), alreadyExpiring, failed: [] };
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
        failed: results
          .filter((result) => result.status === 'failed')
          .map((result) => ({ shop: result.shop, reason: result.reason ?? 'unknown' }))
          .sort((a, b) => (a.shop < b.shop ? -1 : 1)),
      };
    }
  } finally {
    await vault.close();
  }
  io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : text(report, plan));
  return report.failed.length > 0 ? 1 : 0;
};
