/**
 * `shoptoken emulator [--port N] [--host H] [--config NAME|FILE.json] [--shop SHOP]`: runs the local
 * Shopify emulator until SIGINT or SIGTERM.
 *
 * The app is registered from the same configuration the app reads (`loadConfig`): client id and
 * secret, scopes, name, and as redirect URLs the app's `{appUrl}{callbackPath}` plus any
 * `[auth] redirect_urls` of shopify.app.toml. A `--config` value ending in `.json` is instead an
 * emulator file `{"apps": [...], "shops": [...], "codeTtlSeconds": N, "throttle": {...}}` (see
 * EmulatorOptions). Prints the base URL to give the app and a ready install link; never the secret.
 */

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { missingSettings, type ShoptokenConfig } from '../config/load.ts';
import { createEmulator, type EmulatorAppConfig, type EmulatorOptions } from '../emulator/index.ts';
import { DEFAULT_WEBHOOK_API_VERSION } from '../emulator/webhook-config.ts';
import { ConfigError } from '../errors.ts';
import { normalizeShop } from '../protocol/shop.ts';
import { CONFIG_OPTION, cliConfig } from './config.ts';
import { type Command, parseCommandOptions, UsageError } from './io.ts';

/** The emulator's default port: the one `SHOPTOKEN_SHOPIFY_BASE_URL=http://127.0.0.1:4010/{shop}` names. */
export const DEFAULT_EMULATOR_PORT = 4010;
const DEFAULT_SHOP = 'dev-shop.myshopify.com';

const USAGE = `usage: shoptoken emulator [--port N] [--host H] [--config NAME | --config FILE.json] [--shop SHOP]

Runs a local Shopify (OAuth install, token endpoint, Admin GraphQL) for your app, in memory.
The app is registered from the same settings your app reads: SHOPIFY_API_KEY, SHOPIFY_API_SECRET,
SCOPES, SHOPIFY_APP_URL (or APP_URL / HOST), SHOPTOKEN_CALLBACK_PATH, and shopify.app.toml.
  --port N           port to listen on (default ${DEFAULT_EMULATOR_PORT}; 0 picks a free one)
  --host H           address to listen on (default 127.0.0.1)
  --config NAME      the app configuration: shopify.app.NAME.toml, or a .toml path
  --config FILE.json an emulator file instead: {"apps": [...], "shops": [...]} (see docs/guides/emulator.md)
  --shop SHOP        the shop of the printed install link (default ${DEFAULT_SHOP}; any shop works)
Then point your app at it: SHOPTOKEN_SHOPIFY_BASE_URL=http://127.0.0.1:${DEFAULT_EMULATOR_PORT}/{shop}
`;

interface Args {
  port: number;
  host: string;
  config: string | undefined;
  shop: string;
}

function parse(argv: string[]): Args | null {
  const values = parseCommandOptions(
    argv,
    { port: { type: 'string' }, host: { type: 'string' }, shop: { type: 'string' }, ...CONFIG_OPTION },
    USAGE,
  );
  if (values.help) return null;
  const port = Number(values.port ?? DEFAULT_EMULATOR_PORT);
  if (!/^\d+$/.test(values.port ?? '0') || port > 65535) throw new UsageError(`--port must be 0 to 65535\n\n${USAGE}`);
  if (values.host === '') throw new UsageError('--host must not be empty');
  const shop = normalizeShop(values.shop ?? DEFAULT_SHOP);
  if (!shop) throw new UsageError(`--shop must be a shop domain ({name}.myshopify.com)\n\n${USAGE}`);
  return { port, host: values.host ?? '127.0.0.1', config: values.config, shop };
}

async function fromJsonFile(file: string, cwd: string): Promise<EmulatorOptions> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(resolve(cwd, file), 'utf8'));
  } catch (error) {
    const why = error instanceof SyntaxError ? 'is not valid JSON' : 'cannot be read';
    throw new UsageError(`the emulator file ${file} ${why}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new UsageError(`the emulator file ${file} is not an object`);
  // Every option but the clock, which a JSON file cannot give; createEmulator checks them all.
  const { apps, shops, codeTtlSeconds, throttle } = parsed as EmulatorOptions;
  return {
    apps,
    ...(shops === undefined ? {} : { shops }),
    ...(codeTtlSeconds === undefined ? {} : { codeTtlSeconds }),
    ...(throttle === undefined ? {} : { throttle }),
  };
}

/** The app as the app's own configuration describes it. */
function fromConfig(config: ShoptokenConfig): EmulatorOptions {
  const problems = missingSettings(config, ['apiKey', 'apiSecret', 'appUrl']);
  if (problems.length > 0) {
    throw new ConfigError([...problems, 'or pass --config FILE.json with the apps to register']);
  }
  const callbackUrl = `${config.appUrl}${config.callbackPath}`;
  const redirectUrls = [...new Set([callbackUrl, ...(config.redirectUrls ?? [])])];
  return {
    apps: [
      {
        clientId: config.apiKey!,
        clientSecret: config.apiSecret![0]!,
        redirectUrls,
        ...(config.appName ? { name: config.appName } : {}),
        ...(config.scopes ? { scopes: [...config.scopes] } : {}),
        ...(config.webhookSubscriptions.length > 0 ? { webhooks: webhooksOf(config) } : {}),
      },
    ],
  };
}

/**
 * `[webhooks]` of shopify.app.toml as the emulator's subscriptions. A `uri` that is a path is
 * relative to the app URL, as Shopify CLI reads it.
 */
function webhooksOf(config: ShoptokenConfig): NonNullable<EmulatorAppConfig['webhooks']> {
  return {
    apiVersion: config.apiVersion ?? DEFAULT_WEBHOOK_API_VERSION,
    subscriptions: config.webhookSubscriptions.map((subscription) => ({
      topics: [...subscription.topics],
      complianceTopics: [...subscription.complianceTopics],
      uri: new URL(subscription.uri, `${config.appUrl}/`).href,
    })),
  };
}

/** Serves until SIGINT or SIGTERM, then closes and returns 0. */
export const run: Command = async (argv, io) => {
  const args = parse(argv);
  if (!args) {
    io.stdout.write(USAGE);
    return 0;
  }
  const json = args.config?.endsWith('.json') === true;
  const config = json ? null : cliConfig(io, args.config);
  const options = config ? fromConfig(config) : await fromJsonFile(args.config!, io.cwd);
  const emulator = createEmulator(options);
  let server: Awaited<ReturnType<typeof emulator.listen>>;
  try {
    server = await emulator.listen({ port: args.port, host: args.host });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new UsageError(`port ${args.port} is in use: pass another with --port N (0 picks a free one)`);
  }
  const baseUrl = emulator.baseUrl(server.origin);
  const lines = [`Shopify emulator listening on ${server.origin}`, `shopifyBaseUrl: ${baseUrl}`];
  for (const app of options.apps ?? []) {
    lines.push(
      `app: ${app.name ?? app.clientId} (client id ${app.clientId}); redirect URLs: ${app.redirectUrls.join(', ')}`,
    );
  }
  if (config) {
    lines.push(
      '',
      'Run your app with:',
      `  SHOPTOKEN_SHOPIFY_BASE_URL=${baseUrl}`,
      `Then install it: ${config.appUrl}${config.authPath}?shop=${args.shop}`,
    );
  }
  io.stdout.write(`${lines.join('\n')}\n`);
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
