/**
 * `shoptoken webhooks list|replay` through the real CLI (a child process) on a SQLite store written
 * by an app's inbox: records listed without payloads, dead letters replayed and then run by the app.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openSqliteStorage } from '../../src/storage/sqlite.ts';
import { runCli } from '../helpers/run-cli.ts';
import { deliveryRequest, inbox } from '../webhooks/fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoptoken-cli-webhooks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[], env: Record<string, string>) => runCli(args, { env, cwd: dir });

describe('shoptoken webhooks', () => {
  it('lists deliveries without payloads, replays dead letters, and the app then runs them', async () => {
    const path = join(dir, 'inbox.db');
    let fixed = false;
    const ran: string[] = [];
    const { webhooks, clock } = inbox(
      {
        maxAttempts: 1,
        handlers: {
          'orders/create': ({ webhookId }) => {
            if (!fixed) throw new Error('handler bug');
            ran.push(webhookId);
          },
        },
      },
      await openSqliteStorage(path),
    );
    const secret = 'customer-email@example.com';
    await webhooks.handle(deliveryRequest({ webhookId: 'dead-1', body: JSON.stringify({ email: secret }) }));
    await webhooks.handle(deliveryRequest({ webhookId: 'dead-2', shop: 'other-shop.myshopify.com' }));
    await webhooks.drain();
    const env = { SHOPTOKEN_DATABASE_URL: path };

    const listed = await cli(['webhooks', 'list', '--json'], env);
    assert.equal(listed.code, 0, listed.stderr);
    const records = JSON.parse(listed.stdout) as { webhookId: string; state: string; lastError: string }[];
    assert.deepEqual(
      records.map((r) => [r.webhookId, r.state, r.lastError]),
      [
        ['dead-1', 'dead', 'Error: handler bug'],
        ['dead-2', 'dead', 'Error: handler bug'],
      ],
    );
    assert.doesNotMatch(listed.stdout, /customer-email/);
    const human = await cli(['webhooks', 'list', '--state', 'dead', '--shop', 'other-shop.myshopify.com'], env);
    assert.match(human.stdout, /^WEBHOOK ID\s+SHOP\s+TOPIC/);
    assert.match(human.stdout, /dead-2/);
    assert.doesNotMatch(human.stdout, /dead-1/);

    const one = await cli(['webhooks', 'replay', '--id', 'dead-1', '--json'], env);
    assert.deepEqual(JSON.parse(one.stdout), { replayed: 1, ids: ['dead-1'] });
    const all = await cli(['webhooks', 'replay', '--dead'], env);
    assert.equal(all.stdout, 'replayed 1 delivery\n');
    const missing = await cli(['webhooks', 'replay', '--id', 'nope'], env);
    assert.equal(missing.code, 1);
    assert.equal((await cli(['webhooks', 'replay'], env)).code, 2, 'a usage error');
    assert.equal((await cli(['webhooks', 'list', '--state', 'lost'], env)).code, 2);

    fixed = true;
    clock.set(Date.now()); // the CLI replays on the machine's clock
    assert.deepEqual(await webhooks.drain(), { done: 2, retried: 0, dead: 0 });
    assert.deepEqual(ran.sort(), ['dead-1', 'dead-2']);
  });

  it('says so when there is no database, without creating one', async () => {
    const result = await cli(['webhooks', 'list'], { SHOPTOKEN_DATABASE_URL: join(dir, 'missing.db') });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no database at/);
  });
});
