/**
 * The app-credentials state machine on its own: ok → rejected (one event per entry) → one probe per
 * interval → ok (one event). A frozen clock; nothing is sent anywhere.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppCredentialsError } from '../../src/errors.ts';
import { AppCredentialsGate } from '../../src/vault/app-credentials.ts';
import { VaultEmitter } from '../../src/vault/events.ts';

function setup() {
  let now = 1_000_000;
  const events = new VaultEmitter();
  const seen: string[] = [];
  events.on('app_credentials_rejected', ({ grant, reason }) => seen.push(`rejected ${grant} ${reason}`));
  events.on('app_credentials_restored', ({ grant, rejectedForMs }) => seen.push(`restored ${grant} ${rejectedForMs}`));
  const gate = new AppCredentialsGate({ now: () => now, events, probeIntervalMs: 60_000 });
  return { gate, seen, advance: (ms: number) => (now += ms), now: () => now };
}

describe('AppCredentialsGate', () => {
  it('lets everything through while ok, and says nothing', () => {
    const { gate, seen } = setup();
    gate.admit();
    gate.admit();
    gate.accepted('refresh_token');
    assert.deepEqual(gate.status(), { status: 'ok', since: null, reason: null, grant: null, nextProbeAt: null });
    assert.equal(gate.open(), true);
    assert.deepEqual(seen, []);
  });

  it('a rejection is announced once, however many requests were refused', () => {
    const { gate, seen, now } = setup();
    for (let i = 0; i < 5; i++) gate.rejected('refresh_token', 'invalid_client (HTTP 401)');
    assert.deepEqual(seen, ['rejected refresh_token invalid_client (HTTP 401)']);
    assert.deepEqual(gate.status(), {
      status: 'rejected',
      since: new Date(now()),
      reason: 'invalid_client (HTTP 401)',
      grant: 'refresh_token',
      nextProbeAt: new Date(now() + 60_000),
    });
  });

  it('while rejected: fails fast, then lets exactly one probe through per interval', () => {
    const { gate, advance } = setup();
    gate.rejected('client_credentials', 'invalid_client (HTTP 400)');
    assert.throws(() => gate.admit(), AppCredentialsError);
    assert.equal(gate.open(), false);
    advance(59_999);
    assert.throws(() => gate.admit(), { code: 'ERR_APP_CREDENTIALS' });
    advance(1);
    assert.equal(gate.open(), true);
    gate.admit(); // the probe
    assert.throws(() => gate.admit(), AppCredentialsError, 'a second caller in the same instant');
    gate.rejected('client_credentials', 'invalid_client (HTTP 400)'); // the probe refused
    advance(59_999);
    assert.throws(() => gate.admit(), AppCredentialsError);
    advance(1);
    gate.admit();
  });

  it('a success restores it once; a later refusal is a new entry, announced again', () => {
    const { gate, seen, advance } = setup();
    gate.rejected('refresh_token', 'invalid_client (HTTP 401)');
    advance(90_000);
    gate.accepted('migration');
    gate.accepted('migration');
    assert.equal(gate.status().status, 'ok');
    gate.admit();
    gate.rejected('refresh_token', 'invalid_client (HTTP 400)');
    assert.deepEqual(seen, [
      'rejected refresh_token invalid_client (HTTP 401)',
      'restored migration 90000',
      'rejected refresh_token invalid_client (HTTP 400)',
    ]);
  });
});
