/**
 * `shoptoken emulator [--port N] [--host H] [--config FILE]`: runs the local Shopify emulator until
 * SIGINT or SIGTERM.
 *
 * `--config FILE` is JSON: `{"apps": [...], "shops": [...], "codeTtlSeconds": N, "throttle": {...}}`
 * (see EmulatorOptions). The emulator owns its clock; tests move it with `POST /_emulator/clock`.
 * Without `--config`, one app is registered from SHOPIFY_API_KEY, SHOPIFY_API_SECRET and
 * SHOPTOKEN_APP_URL (redirect `${SHOPTOKEN_APP_URL}/auth/callback`). The secret is never printed.
 */

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createEmulator, type EmulatorOptions } from '../emulator/index.ts';
import { type Command, UsageError } from './io.ts';

const USAGE = 'shoptoken emulator [--port N] [--host H] [--config FILE]';

function parse(argv: string[]): { port: number; host: string; config: string | undefined } {
  let values: { port?: string; host?: string; config?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { port: { type: 'string' }, host: { type: 'string' }, config: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\nusage: ${USAGE}`);
  }
  const port = Number(values.port ?? '0');
  if (!/^\d+$/.test(values.port ?? '0') || port > 65535) throw new UsageError('--port must be 0 to 65535');
  if (values.host === '') throw new UsageError('--host must not be empty');
  return { port, host: values.host ?? '127.0.0.1', config: values.config };
}

async function loadOptions(config: string | undefined, cwd: string, env: NodeJS.ProcessEnv): Promise<EmulatorOptions> {
  if (config !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(resolve(cwd, config), 'utf8'));
    } catch (error) {
      const why = error instanceof SyntaxError ? 'is not valid JSON' : 'cannot be read';
      throw new UsageError(`the config file ${config} ${why}`);
    }
    if (typeof parsed !== 'object' || parsed === null)
      throw new UsageError(`the config file ${config} is not an object`);
    // Every option but the clock, which a JSON file cannot give: apps (with `scopes`), shops (with
    // `organizationClientIds`), codeTtlSeconds and throttle. createEmulator checks them all.
    const { apps, shops, codeTtlSeconds, throttle } = parsed as EmulatorOptions;
    return {
      apps,
      ...(shops === undefined ? {} : { shops }),
      ...(codeTtlSeconds === undefined ? {} : { codeTtlSeconds }),
      ...(throttle === undefined ? {} : { throttle }),
    };
  }
  const clientId = env.SHOPIFY_API_KEY;
  const clientSecret = env.SHOPIFY_API_SECRET;
  const appUrl = env.SHOPTOKEN_APP_URL;
  if (!clientId || !clientSecret || !appUrl) {
    throw new UsageError(
      'no app to register: pass --config FILE, or set SHOPIFY_API_KEY, SHOPIFY_API_SECRET and SHOPTOKEN_APP_URL',
    );
  }
  return { apps: [{ clientId, clientSecret, redirectUrls: [`${appUrl.replace(/\/+$/, '')}/auth/callback`] }] };
}

/** Serves until SIGINT or SIGTERM, then closes and returns 0. */
export const run: Command = async (argv, io) => {
  const args = parse(argv);
  const emulator = createEmulator(await loadOptions(args.config, io.cwd, io.env));
  const server = await emulator.listen({ port: args.port, host: args.host });
  io.stdout.write(`Shopify emulator listening on ${server.origin}\n`);
  io.stdout.write(`shopifyBaseUrl: ${emulator.baseUrl(server.origin)}\n`);
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  return 0;
};
