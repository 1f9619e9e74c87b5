/**
 * `shoptoken webhooks list [--state pending|done|dead] [--shop SHOP] [--json]`: the deliveries in the
 * webhook inbox — topic, shop, state, attempts, the last error — never a payload (payloads are
 * sealed; this command holds no key).
 */

import type { WebhookRecord, WebhookState } from '../storage/webhook-types.ts';
import { CONFIG_OPTION, CONFIG_USAGE, cliConfig } from './config.ts';
import { type Command, parseCommandOptions, UsageError } from './io.ts';
import { table } from './table.ts';
import { allRecords, STORE_OPTIONS, STORE_USAGE, withInbox } from './webhooks-store.ts';

const USAGE = `usage: shoptoken webhooks list [--state pending|done|dead] [--shop SHOP] [--json]

Lists the deliveries in the webhook inbox (oldest first), never their payloads.
  --state STATE      only pending, done or dead (dead letters: failed every attempt)
  --shop SHOP        only this shop's
  --json             print a JSON array
${STORE_USAGE}
${CONFIG_USAGE}
`;

const STATES: readonly WebhookState[] = ['pending', 'done', 'dead'];

/** One listed delivery, as printed with `--json`. */
export interface WebhookListRecord {
  webhookId: string;
  shop: string;
  topic: string;
  state: WebhookState;
  attempts: number;
  receivedAt: string;
  /** When a pending delivery runs next. */
  runAt: string | null;
  lastError: string | null;
}

function toRecord(record: WebhookRecord): WebhookListRecord {
  return {
    webhookId: record.webhookId,
    shop: record.shop,
    topic: record.topic,
    state: record.state,
    attempts: record.attempts,
    receivedAt: new Date(record.receivedAt).toISOString(),
    runAt: record.state === 'pending' ? new Date(record.runAt).toISOString() : null,
    lastError: record.lastError,
  };
}

function recordsTable(records: WebhookListRecord[]): string {
  const header = ['WEBHOOK ID', 'SHOP', 'TOPIC', 'STATE', 'ATTEMPTS', 'RECEIVED', 'NEXT RUN', 'LAST ERROR'];
  return table(
    header,
    records.map((r) => [
      r.webhookId,
      r.shop,
      r.topic,
      r.state,
      String(r.attempts),
      r.receivedAt,
      r.runAt ?? '-',
      r.lastError ?? '-',
    ]),
  );
}

/** Runs `shoptoken webhooks list`. */
export const run: Command = async (argv, io) => {
  const values = parseCommandOptions(
    argv,
    {
      state: { type: 'string' },
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
  const state = values.state as WebhookState | undefined;
  if (state !== undefined && !STATES.includes(state))
    throw new UsageError(`--state must be pending, done or dead\n\n${USAGE}`);
  const config = cliConfig(io, values.config);
  const records = await withInbox(config, values.database, async (inbox) => {
    const listed: WebhookListRecord[] = [];
    for await (const record of allRecords(inbox, values.app ?? '', state)) {
      if (values.shop === undefined || record.shop === values.shop) listed.push(toRecord(record));
    }
    return listed;
  });
  if (values.json) io.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
  else if (records.length === 0) io.stdout.write('no webhook deliveries\n');
  else io.stdout.write(recordsTable(records));
  return 0;
};
