/**
 * Commands that read or write token values need the vault's keys, and must never generate one (a
 * new key could not open the tokens already stored). This tells whether keys are configured.
 */

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_KEY_FILE } from '../vault/key-source.ts';
import type { CliIO } from './io.ts';

/**
 * The problem to report when no key is configured: neither `SHOPTOKEN_KEYS` nor
 * `SHOPTOKEN_KEY_FILE`, and (outside production) no demo key file; `[]` when keys are there.
 */
export function missingKeyProblems(io: Pick<CliIO, 'env' | 'cwd'>): string[] {
  const { env, cwd } = io;
  if (env.SHOPTOKEN_KEYS || env.SHOPTOKEN_KEY_FILE) return [];
  if (env.NODE_ENV !== 'production' && existsSync(resolve(cwd, DEFAULT_KEY_FILE))) return [];
  return [
    'no encryption keys configured: set SHOPTOKEN_KEYS or SHOPTOKEN_KEY_FILE (this command never generates a key)',
  ];
}
