/** The emulator's controllable clock: owned (movable) or injected (the caller's). */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEmulator } from '../../src/emulator/index.ts';
import { ConfigError, ShoptokenError } from '../../src/errors.ts';
import { APP, control, graphql, HOUR, installExpiring, setup } from './helpers.ts';

const T0 = Date.UTC(2026, 9, 1, 12, 0, 0);

describe('emulator.clock (owned)', () => {
  it('starts at the real time and moves with set and advance', () => {
    const emulator = createEmulator({ apps: [APP] });
    const before = Date.now();
    assert.ok(emulator.clock.now() >= before);
    assert.ok(emulator.clock.set(T0) >= T0);
    const now = emulator.clock.now();
    assert.ok(now >= T0 && now < T0 + HOUR, 'set jumps to the given time');
    assert.ok(emulator.clock.advance(2 * HOUR) >= now + 2 * HOUR);
  });

  it('expires access tokens when advanced, without waiting', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const pair = await installExpiring(emulator);
    assert.equal((await graphql(emulator, pair.access_token, '{ shop { name } }')).status, 200);
    emulator.clock.advance(HOUR);
    assert.equal((await graphql(emulator, pair.access_token, '{ shop { name } }')).status, 401);
  });

  it('refuses bad arguments with a ConfigError', () => {
    const emulator = createEmulator({ apps: [APP] });
    assert.throws(() => emulator.clock.advance(-1), ConfigError);
    assert.throws(() => emulator.clock.advance(Number.NaN), ConfigError);
    assert.throws(() => emulator.clock.set(1.5), ConfigError);
  });
});

describe('POST /_emulator/clock', () => {
  it('advances by seconds and sets in ms, answering the new time', async () => {
    const emulator = createEmulator({ apps: [APP] });
    const set = await control(emulator, 'clock', { setMs: T0 });
    assert.equal(set.status, 200);
    const { now: afterSet } = (await set.json()) as { now: number };
    assert.ok(afterSet >= T0 && afterSet < T0 + HOUR);
    const advanced = await control(emulator, 'clock', { advanceSeconds: 3600 });
    const { now } = (await advanced.json()) as { now: number };
    assert.ok(now >= afterSet + HOUR && now < afterSet + 2 * HOUR);
    assert.ok(emulator.clock.now() >= now);
  });

  it('answers 400 on bad input and changes nothing', async () => {
    const emulator = createEmulator({ apps: [APP] });
    emulator.clock.set(T0);
    for (const body of [
      {},
      { advanceSeconds: -5 },
      { advanceSeconds: '60' },
      { setMs: 1.5 },
      { advanceSeconds: 1, setMs: T0 },
      [],
    ]) {
      const response = await control(emulator, 'clock', body);
      assert.equal(response.status, 400, JSON.stringify(body));
    }
    assert.ok(emulator.clock.now() < T0 + HOUR, 'the clock did not move');
    const text = await emulator.fetch(
      new Request('http://emulator.test/_emulator/clock', { method: 'POST', body: '{"advanceSeconds":1}' }),
    );
    assert.equal(text.status, 415, 'a non-JSON content type (a cross-site form) is refused');
  });
});

describe('emulator.clock with options.now (injected)', () => {
  it('reads the caller’s clock and refuses to move it', async () => {
    const { emulator, advance, now } = setup();
    assert.equal(emulator.clock.now(), now());
    advance(5000);
    assert.equal(emulator.clock.now(), now());
    assert.throws(
      () => emulator.clock.advance(1000),
      (error: unknown) => {
        assert.ok(error instanceof ShoptokenError);
        assert.match(error.message, /caller owns its time/);
        return true;
      },
    );
    assert.throws(() => emulator.clock.set(T0), ShoptokenError);
    const response = await control(emulator, 'clock', { advanceSeconds: 1 });
    assert.equal(response.status, 409);
    assert.equal(emulator.clock.now(), now());
  });
});
