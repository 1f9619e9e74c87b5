/**
 * `shoptoken webhooks replay --id WEBHOOK_ID | --dead [--shop SHOP]`: puts deliveries back in the
 * queue (a dead letter after the fix of its handler, or a done one to run again). The app's worker
 * runs them at its next poll; this command runs no handler.
 */

import { CONFIG_OPTION, CONFIG_USAGE, cliConfig } from './config.ts';
import { type Command, parseCommandOptions, UsageError } from './io.ts';
import { allRecords, STORE_OPTIONS, STORE_USAGE, withInbox } from './webhooks-store.ts';

const USAGE = `usage: shoptoken webhooks replay (--id WEBHOOK_ID | --dead) [--shop SHOP] [--json]

Queues deliveries again; the app's webhook worker runs them at its next poll.
  --id WEBHOOK_ID    this delivery (dead or done)
  --dead             every dead letter (failed every attempt)
  --shop SHOP        with --dead: only this shop's
  --json             print {"replayed": N, "ids": [...]}
${STORE_USAGE}
${CONFIG_USAGE}
`;

/** Runs `shoptoken webhooks replay`. Exit 1 when `--id` names no dead or done delivery. */
export const run: Command = async (argv, io) => {
  const values = parseCommandOptions(
    argv,
    {
      id: { type: 'string' },
      dead: { type: 'boolean' },
      shop: { type: 'string' },
      json: { type: 'boolean' },
      ...STORE_OPTIONS,
      ...CONFIG_OPTION,
    },
    USAGE,
  );
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if ((values.id === undefined) === (values.dead !== true)) {
    throw new UsageError(`give either --id or --dead\n\n${USAGE}`);
  }
  const app = values.app ?? '';
  const config = cliConfig(io, values.config);
  const now = Date.now();
  const ids = await withInbox(config, values.database, async (inbox) => {
    if (values.id !== undefined) return (await inbox.requeue({ app, webhookId: values.id }, now)) ? [values.id] : [];
    const dead: string[] = [];
    for await (const record of allRecords(inbox, app, 'dead')) {
      if (values.shop === undefined || record.shop === values.shop) dead.push(record.webhookId);
    }
    const replayed: string[] = [];
    for (const webhookId of dead) if (await inbox.requeue({ app, webhookId }, now)) replayed.push(webhookId);
    return replayed;
  });
  if (values.json) io.stdout.write(`${JSON.stringify({ replayed: ids.length, ids })}\n`);
  else io.stdout.write(`replayed ${ids.length} deliver${ids.length === 1 ? 'y' : 'ies'}\n`);
  if (values.id !== undefined && ids.length === 0) {
    io.stderr.write('shoptoken webhooks replay: no dead or done delivery has that id\n');
    return 1;
  }
  return 0;
};
