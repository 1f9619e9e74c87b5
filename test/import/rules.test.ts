/**
 * The import's rule on what it replaces, end to end on a source the SQLite adapter wrote: a token
 * shoptoken refreshed since is newer and stays; a shop Shopify refused in shoptoken takes the
 * source's other token; a source holding one shop twice ends with the newer token, in either order.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { Session } from '@shopify/shopify-api';
import { SQLiteSessionStorage } from '@shopify/shopify-app-session-storage-sqlite';
import { importSessions } from '../../src/import/import-sessions.ts';
import { counts, HOUR, offlineSession, RUN, scenario, world } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoptoken-import-rules-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

async function source(sessions: Session[]): Promise<string> {
  const file = join(dir, `sessions-${files++}.sqlite`);
  const peer = new SQLiteSessionStorage(file);
  for (const session of sessions) await peer.storeSession(session);
  return file;
}

it('keeps the tokens shoptoken refreshed since the first import: an older token never replaces a newer one', async () => {
  const { emulator, vault } = world();
  const expected = await scenario(emulator, `rk${RUN}`);
  const from = await source(expected.sessions);
  await importSessions({ from, vault });
  emulator.clock.advance(2 * HOUR);
  const refreshed = new Map<string, string>();
  for (const { shop } of expected.offline.filter((entry) => entry.expiring)) {
    refreshed.set(shop, (await vault.token(shop)).accessToken);
  }
  const rerun = await importSessions({ from, vault });
  assert.deepEqual(counts(rerun), {
    read: 10,
    offline: 0,
    expiring: 0,
    online: 0,
    unchanged: 4,
    kept: 2,
    expired: 2,
    skipped: 4,
  });
  for (const [shop, token] of refreshed) assert.equal((await vault.offline(shop))?.accessToken, token);
});

it("replaces a token Shopify refused in shoptoken with the source's other token", async () => {
  const { emulator, vault } = world();
  const shop = `refused-${RUN}.myshopify.com`;
  const first = await offlineSession(emulator, shop);
  await importSessions({ from: await source([first]), vault });
  assert.equal(await vault.markNeedsReauth(shop, 'admin_unauthorized', first.accessToken!), true);
  // The same token again: left as it is (still refused).
  const same = await importSessions({ from: await source([first]), vault });
  assert.equal(same.unchanged, 1);
  assert.equal((await vault.offline(shop))?.status, 'needs_reauth');
  // Another token (the app re-installed meanwhile on the old storage): imported, the shop active again.
  const second = await offlineSession(emulator, shop, { expiring: true });
  const other = await importSessions({ from: await source([second]), vault });
  assert.equal(other.offline, 1);
  const token = await vault.offline(shop);
  assert.equal(token?.status, 'active');
  assert.equal(token?.accessToken, second.accessToken);
});

it('ends with the newer token when the source holds one shop twice, in either order (and counts one as kept)', async () => {
  for (const newerFirst of [true, false]) {
    const { emulator, vault } = world();
    const shop = `twice-${newerFirst}-${RUN}.myshopify.com`;
    const older = await offlineSession(emulator, shop, { expiring: true });
    emulator.clock.advance(60_000);
    const newer = await offlineSession(emulator, shop, { expiring: true });
    // A second row of the same shop under another id (a custom storage's, or an earlier library's).
    const [a, b] = newerFirst ? [newer, older] : [older, newer];
    const rows = [new Session({ ...a.toObject(), id: `a_${a.id}` }), new Session({ ...b.toObject(), id: `b_${b.id}` })];
    for (const dryRun of [true, false]) {
      const report = await importSessions({ from: await source(rows), vault, dryRun });
      assert.deepEqual(
        { offline: report.offline, expiring: report.expiring, kept: report.kept, read: report.read },
        { offline: 1, expiring: 1, kept: 1, read: 2 },
        `newer first: ${newerFirst}, dry run: ${dryRun}`,
      );
    }
    assert.equal((await vault.offline(shop))?.accessToken, newer.accessToken);
  }
});
