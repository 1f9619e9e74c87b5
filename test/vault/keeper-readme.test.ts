/**
 * The keeper started exactly as the README shows it — `vault.keeper().start()`, no options — over
 * 100 days of emulator clock, its real `setTimeout` replaced by node:test's mock timers. Regression:
 * the tick was the argument of an optional call (`settings.onReport?.(await runOnce())`), so with no
 * `onReport` it never ran and an idle shop's refresh token lapsed after 90 days.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createEmulator } from '../../src/emulator/index.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { ADMIN_QUERY_OK, APP, adminStatus, installInto, openEmulatorVault } from '../helpers/emulator-install.ts';

const SHOP = 'idle-shop.myshopify.com';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Lets every pending promise and in-process request settle (setImmediate is not mocked). */
async function settle(): Promise<void> {
  for (let i = 0; i < 25; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('vault.keeper().start() as the README starts it', () => {
  it('keeps an idle shop alive for 100 days; the same shop without a keeper lapses', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const emulator = createEmulator({ apps: [APP] });
    const keys = [{ id: 'k1', key: randomBytes(32) }];
    const storage = createMemoryStorage();
    const kept = openEmulatorVault(emulator, { storage, keys });
    const control = createMemoryStorage();
    const unkept = openEmulatorVault(emulator, { storage: control, keys });
    const events: string[] = [];
    kept.on('needs_reauth', ({ reason }) => events.push(`kept: ${reason}`));
    unkept.on('needs_reauth', ({ reason }) => events.push(`unkept: ${reason}`));

    const installed = await installInto(emulator, kept, SHOP, { expiring: true });
    // The same shop, the same stored pair, in a second vault that has no keeper.
    await control.put((await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))!);
    const lapse = installed.refreshTokenExpiresAt!.getTime();

    const keeper = kept.keeper();
    keeper.start();
    const start = emulator.clock.now();
    // Hour by hour of emulator time, one keeper interval of (mocked) timer time each.
    while (emulator.clock.now() < start + 100 * DAY) {
      emulator.clock.advance(HOUR);
      t.mock.timers.tick(MINUTE);
      await settle();
    }
    await keeper.stop();

    const grants = emulator.grants().filter((grant) => grant.grantType === 'refresh_token');
    assert.equal(grants.length, 1, 'one refresh, by the keeper, before the refresh token lapsed');
    assert.ok(grants[0]!.at < lapse && grants[0]!.at >= lapse - 7 * DAY, 'within refreshTokenAheadMs of the lapse');
    const row = (await storage.get({ app: '', shop: SHOP, kind: 'offline', userId: '' }))!;
    assert.ok(row.refreshTokenExpiresAt! > lapse, 'the refresh token was renewed');

    const token = await kept.token(SHOP);
    assert.equal(await adminStatus(emulator, SHOP, token.accessToken), ADMIN_QUERY_OK);
    await assert.rejects(unkept.token(SHOP), { code: 'ERR_NEEDS_REAUTH' });
    assert.deepEqual(events, ['unkept: refresh_token_expired']);
  });
});
