#!/usr/bin/env node
/**
 * `shoptoken` — one command per file, one error boundary here.
 */

// First: on a Node too old for shoptoken this fails with one clear message (see node-guard.ts).
import './node-guard.ts';

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ShoptokenError } from '../errors.ts';
import { type CliIO, type Command, UsageError } from './io.ts';

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  'db migrate': {
    summary: 'bring the store’s schema up to date (every open does it too) [--json]',
    load: async () => (await import('./db-migrate.ts')).run,
  },
  emulator: {
    summary: 'run the local Shopify emulator for your app [--port N] [--config NAME|FILE.json] [--shop SHOP]',
    load: async () => (await import('./emulator.ts')).run,
  },
  import: {
    summary: "import tokens from Shopify's session storage (--from URL) [--table NAME] [--dry-run] [--json]",
    load: async () => (await import('./import.ts')).run,
  },
  'migrate-expiring': {
    summary: 'migrate non-expiring offline tokens to expiring ones [--dry-run] [--concurrency N] [--json]',
    load: async () => (await import('./migrate-expiring.ts')).run,
  },
  'tokens import-custom': {
    summary: 'store a custom app token read from stdin, after checking it (--shop X)',
    load: async () => (await import('./tokens-import-custom.ts')).run,
  },
  'tokens list': {
    summary: 'list stored tokens (metadata only, never values) [--json]',
    load: async () => (await import('./tokens-list.ts')).run,
  },
  'webhooks list': {
    summary: 'list webhook deliveries in the inbox (never payloads) [--state dead] [--shop X] [--json]',
    load: async () => (await import('./webhooks-list.ts')).run,
  },
  'webhooks replay': {
    summary: 'queue deliveries again (--id ID | --dead) [--shop X] [--json]',
    load: async () => (await import('./webhooks-replay.ts')).run,
  },
};

function help(): string {
  const lines = ['usage: shoptoken <command> [options]', '', 'commands:'];
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  for (const [name, { summary }] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(width)}  ${summary}`);
  return `${lines.join('\n')}\n`;
}

/** Runs the CLI with `argv` (without node and script). Returns the exit code. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const name = [argv.slice(0, 2).join(' '), argv[0] ?? ''].find((candidate) => candidate in COMMANDS);
  if (!name) {
    const wantsHelp = argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help';
    if (wantsHelp) {
      io.stdout.write(help());
      return 0;
    }
    // Only a plain word is named back: an argument may hold anything (a pasted token, say).
    const word = /^[A-Za-z0-9-]{1,40}$/.test(argv[0] ?? '') ? ` "${argv[0]}"` : '';
    io.stderr.write(`shoptoken: unknown command${word}\n\n${help()}`);
    return 2;
  }
  const rest = argv.slice(name.split(' ').length);
  try {
    const command = await COMMANDS[name]!.load();
    return await command(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`shoptoken ${name}: ${error.message}\n`);
      return 2;
    }
    if (error instanceof ShoptokenError) {
      io.stderr.write(`shoptoken ${name}: ${error.message} (${error.code})\n`);
      return 1;
    }
    // Unknown errors: print the message only; stack traces may carry request data.
    io.stderr.write(`shoptoken ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const io: CliIO = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
  const code = await main(process.argv.slice(2), io);
  // Long-running commands (the emulator) resolve only when they are done serving.
  process.exitCode = code;
}
