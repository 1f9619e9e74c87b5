import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { DEFAULT_KEY_FILE, loadKeys } from '../../src/vault/key-source.ts';
import { KeyRing, tokenAad } from '../../src/vault/keyring.ts';

const root = mkdtempSync(join(tmpdir(), 'shoptoken-keys-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => {
  const dir = join(root, `case-${++counter}`);
  return dir;
};

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const NOW = Date.UTC(2025, 10, 22, 12);

describe('loadKeys', () => {
  it('reads SHOPTOKEN_KEYS first, current key first', async () => {
    const cwd = freshDir();
    const env = {
      SHOPTOKEN_KEYS: `k2:${k2.toString('base64')},k1:${k1.toString('base64')}`,
      SHOPTOKEN_KEY_FILE: 'ignored.json',
    };
    const loaded = await loadKeys({ env, cwd, mode: 'production' });
    assert.equal(loaded.source, 'SHOPTOKEN_KEYS');
    assert.equal(loaded.generated, false);
    assert.deepEqual(
      loaded.keys.map((k) => k.id),
      ['k2', 'k1'],
    );
    assert.ok(loaded.keys[0]!.key.equals(k2));
    assert.ok(!existsSync(cwd), 'nothing is written when keys come from the environment');
  });

  it('reads SHOPTOKEN_KEY_FILE relative to cwd', async () => {
    const cwd = mkdtempSync(join(root, 'file-'));
    const file = join(cwd, 'keys.json');
    writeFileSync(
      file,
      JSON.stringify({
        keys: [
          { id: 'new', key: k2.toString('base64') },
          { id: 'old', key: k1.toString('base64url') },
        ],
      }),
    );
    const loaded = await loadKeys({ env: { SHOPTOKEN_KEY_FILE: 'keys.json' }, cwd, mode: 'production' });
    assert.equal(loaded.source, file);
    assert.equal(loaded.generated, false);
    assert.deepEqual(
      loaded.keys.map((k) => [k.id, k.key.toString('hex')]),
      [
        ['new', k2.toString('hex')],
        ['old', k1.toString('hex')],
      ],
    );
  });

  it('rejects a bad key file without echoing it', async () => {
    const cwd = mkdtempSync(join(root, 'bad-'));
    const secret = randomBytes(20).toString('base64');
    const cases = {
      'not-json.json': `{"keys": "${secret}"`,
      'short.json': JSON.stringify({ keys: [{ id: 'k1', key: secret }] }),
      'bad-id.json': JSON.stringify({ keys: [{ id: 'a.b', key: k1.toString('base64') }] }),
      'empty.json': JSON.stringify({ keys: [] }),
    };
    for (const [name, text] of Object.entries(cases)) {
      writeFileSync(join(cwd, name), text);
      await assert.rejects(loadKeys({ env: { SHOPTOKEN_KEY_FILE: name }, cwd, mode: 'demo' }), (error: unknown) => {
        assert.ok(error instanceof ConfigError, name);
        assert.ok(!error.message.includes(secret) && !error.message.includes(k1.toString('base64')));
        return true;
      });
    }
    await assert.rejects(loadKeys({ env: { SHOPTOKEN_KEY_FILE: 'missing.json' }, cwd, mode: 'demo' }), ConfigError);
  });

  it('generates a demo key file once (0600 in a 0700 directory), then reuses it', async () => {
    const cwd = freshDir();
    const first = await loadKeys({ env: {}, cwd, mode: 'demo', now: () => NOW });
    const path = join(cwd, DEFAULT_KEY_FILE);
    assert.equal(first.generated, true);
    assert.equal(first.source, path);
    assert.equal(first.keys.length, 1);
    assert.equal(first.keys[0]!.id, 'k20251122');
    assert.equal(first.keys[0]!.key.length, 32);
    if (process.platform !== 'win32') {
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(join(cwd, '.shoptoken')).mode & 0o777, 0o700);
    }
    const written = readFileSync(path, 'utf8');

    const second = await loadKeys({ env: {}, cwd, mode: 'demo' });
    assert.equal(second.generated, false);
    assert.ok(second.keys[0]!.key.equals(first.keys[0]!.key));
    assert.equal(readFileSync(path, 'utf8'), written);
    const aad = tokenAad({ shop: 'a.myshopify.com', kind: 'offline', userId: null, field: 'access_token' });
    assert.equal(KeyRing.from(second.keys).open(KeyRing.from(first.keys).seal('shpat_x', aad), aad), 'shpat_x');
  });

  it('refuses to start in production without configured keys, and writes nothing', async () => {
    const cwd = freshDir();
    await assert.rejects(loadKeys({ env: {}, cwd, mode: 'production' }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /SHOPTOKEN_KEYS/);
      assert.match(error.message, /SHOPTOKEN_KEY_FILE/);
      return true;
    });
    assert.ok(!existsSync(join(cwd, DEFAULT_KEY_FILE)));
  });
});
