/**
 * `shoptoken db migrate [--json] [--config NAME] [--database URL]`: brings the configured store's
 * schema to this shoptoken's version, explicitly (every open does it too). Safe to run from several
 * instances at once: each backend applies each version once under its migration lock. Prints the
 * versions applied and where, never a password.
 */

import { openConfiguredStorage } from '../config/database.ts';
import type { MigrationReport } from '../storage/migrations.ts';
import { CONFIG_OPTION, CONFIG_USAGE, cliConfig } from './config.ts';
import { type Command, parseCommandOptions } from './io.ts';

const USAGE = `usage: shoptoken db migrate [--json] [--config NAME] [--database URL]

Brings the store's schema up to date (opening the store does it too; run this in a deploy step).
  --json             print the report as JSON
  --database URL     the store (default: SHOPTOKEN_DATABASE_URL, else .shoptoken/shoptoken.db)
${CONFIG_USAGE}
`;

/** Runs `shoptoken db migrate`. Exit 0 when the schema is current. */
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
  let report: MigrationReport | undefined;
  const { storage, location } = await openConfiguredStorage(config, {
    database: values.database,
    onMigrated: (done) => {
      report = done;
    },
  });
  await storage.close();
  const done = report ?? { from: 0, to: 0, applied: [] };
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ store: storage.name, location: location.display, ...done }, null, 2)}\n`);
    return 0;
  }
  const lines = [`${storage.name} store at ${location.display}: schema version ${done.to}`];
  if (done.applied.length === 0) lines.push('already up to date');
  for (const { version, description } of done.applied) lines.push(`  applied ${version}: ${description}`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
};
