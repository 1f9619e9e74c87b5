/**
 * Where encryption keys come from — the same rules for the app, the demo and the CLI:
 * `SHOPTOKEN_KEYS` (a key list), else `SHOPTOKEN_KEY_FILE` (a JSON key file), else, in demo mode
 * only, `.shoptoken/keys.json` under the working directory, generated on first use. Production
 * refuses to start without configured keys.
 */

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { decodeKeyMaterial, type Key, keyProblems, parseKeyList } from './keyring.ts';

/** What {@link loadKeys} needs to know. */
export interface KeySourceOptions {
  env: NodeJS.ProcessEnv;
  /** Relative key-file paths resolve against this directory. */
  cwd: string;
  /** `production` never generates a key. */
  mode: 'demo' | 'production';
  /** Clock for the id of a generated key; `Date.now` by default. */
  now?: () => number;
}

/** The keys found, and where. */
export interface LoadedKeys {
  /** Current first. */
  keys: Key[];
  /** `SHOPTOKEN_KEYS` or the key file's absolute path. */
  source: string;
  /** True when a demo key file was just created. */
  generated: boolean;
}

/** The demo key file, relative to the working directory. */
export const DEFAULT_KEY_FILE = '.shoptoken/keys.json';

/** Reads a key file `{"keys":[{"id":"…","key":"base64"}]}` (current first). Never echoes its content. */
async function readKeyFile(path: string, label: string): Promise<Key[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([`${label} ${path} cannot be read (${code})`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError([`${label} ${path} is not valid JSON`]);
  }
  const entries = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new ConfigError([`${label} ${path} must be {"keys":[{"id":"…","key":"base64"}]} with at least one key`]);
  }
  const problems: string[] = [];
  const keys = entries.map((entry: { id?: unknown; key?: unknown } | null, index): Key => {
    const key = typeof entry?.key === 'string' ? decodeKeyMaterial(entry.key) : null;
    if (!key) problems.push(`${label} ${path}: key ${index + 1} must be 32 bytes in base64`);
    return { id: typeof entry?.id === 'string' ? entry.id : '', key: key ?? Buffer.alloc(32) };
  });
  if (problems.length === 0) problems.push(...keyProblems(keys).map((problem) => `${label} ${path}: ${problem}`));
  if (problems.length > 0) throw new ConfigError(problems);
  return keys;
}

/** Writes a fresh key file (0600, directory 0700). Returns `false` when another process made it first. */
async function generateKeyFile(path: string, now: number): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const id = `k${new Date(now).toISOString().slice(0, 10).replaceAll('-', '')}`;
  const body = `${JSON.stringify({ keys: [{ id, key: randomBytes(32).toString('base64') }] }, null, 2)}\n`;
  try {
    await writeFile(path, body, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Finds the encryption keys. Throws ConfigError on malformed keys, and in production when neither
 * `SHOPTOKEN_KEYS` nor `SHOPTOKEN_KEY_FILE` is set.
 *
 * @example
 * const { keys, source, generated } = await loadKeys({ env: process.env, cwd: process.cwd(), mode: 'demo' });
 * if (generated) console.log(`generated a new key file at ${source}; keep it secret, back it up`);
 */
export async function loadKeys(options: KeySourceOptions): Promise<LoadedKeys> {
  const { env, cwd, mode } = options;
  if (env.SHOPTOKEN_KEYS) {
    return { keys: parseKeyList(env.SHOPTOKEN_KEYS, 'SHOPTOKEN_KEYS'), source: 'SHOPTOKEN_KEYS', generated: false };
  }
  if (env.SHOPTOKEN_KEY_FILE) {
    const path = resolve(cwd, env.SHOPTOKEN_KEY_FILE);
    return { keys: await readKeyFile(path, 'SHOPTOKEN_KEY_FILE'), source: path, generated: false };
  }
  if (mode === 'production') {
    throw new ConfigError([
      'no encryption keys configured: set SHOPTOKEN_KEYS or SHOPTOKEN_KEY_FILE (production never generates a key)',
    ]);
  }
  const path = resolve(cwd, DEFAULT_KEY_FILE);
  const generated = await generateKeyFile(path, (options.now ?? Date.now)());
  return { keys: await readKeyFile(path, 'key file'), source: path, generated };
}
