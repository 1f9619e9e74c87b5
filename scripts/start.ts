/**
 * `npm start`: the demo. Starts the local Shopify emulator and the example Koa app — a fulfillment
 * service — on the embedded SQLite default, and prints one URL to open.
 *
 * The emulator keeps its state in memory, so the demo starts from an empty database each run
 * (`.shoptoken/demo.db`); inspect it with `npm run shoptoken -- tokens list --database .shoptoken/demo.db`.
 * The vault, the install flow and the webhook inbox all read the emulator's clock, so the app
 * page's "Three weeks pass" moves every clock of the demo at once.
 */

import { rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createDemoService } from '../examples/koa-demo/demo.ts';
import { FULFILLMENT_PATH, WEBHOOKS_PATH } from '../examples/koa-demo/fulfillment.ts';
import { DEFAULT_API_VERSION } from '../src/admin/index.ts';
import { openDefaultVault } from '../src/config/default-vault.ts';
import { loadConfig } from '../src/config/load.ts';
import { createEmulator } from '../src/emulator/index.ts';
import { exitBusy, exitIfBusy, isAddressInUse, type PortSetting, readPort } from './demo-ports.ts';

// The demo's settings: host, ports, database.
const env = process.env;
const host = env.DEMO_HOST ?? 'localhost';
const listenHost = host === 'localhost' ? '127.0.0.1' : host;
const appPortSetting = readPort(env, 'PORT', 3000);
const emulatorPortSetting = readPort(env, 'EMULATOR_PORT', 4010);
const databasePath = join(process.cwd(), '.shoptoken', 'demo.db');

const appPort = appPortSetting.port;
const emulatorPort = emulatorPortSetting.port;
const appUrl = `http://${host}:${appPort}`;
// Demo-only credentials: they are known only to the local emulator started below.
const apiKey = 'shoptoken-demo';
const apiSecret = 'shoptoken-demo-secret-known-only-to-the-local-emulator';

// Before touching the database (a busy port is most often a demo already running on it): a taken
// port ends here with one line naming the variable that moves it. A browser may reach `localhost`
// on either loopback address, so both must be free.
const ports = [appPortSetting, emulatorPortSetting];
const probeHosts = host === 'localhost' ? ['127.0.0.1', '::1'] : [listenHost];
await exitIfBusy(probeHosts, ports);

/** Listens, or ends with the busy-port line when the port was taken since the check. */
async function listenOn<T>(setting: PortSetting, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    if (isAddressInUse(error)) return exitBusy(probeHosts, [setting], ports);
    throw error;
  }
}

for (const suffix of ['', '-wal', '-shm']) await rm(`${databasePath}${suffix}`, { force: true });
// The same loader as any app, given only the key settings: the demo app is its own (credentials known
// only to its emulator), so an app's SHOPIFY_* variables or shopify.app.toml in this shell are not its.
const config = loadConfig({
  env: { SHOPTOKEN_KEYS: env.SHOPTOKEN_KEYS, SHOPTOKEN_KEY_FILE: env.SHOPTOKEN_KEY_FILE, NODE_ENV: env.NODE_ENV },
  cwd: process.cwd(),
  appConfig: false,
});
// The emulator first: the vault is opened on its clock. Its app configuration plays the part of
// `shopify.app.toml`: the compliance topics can only be subscribed there (the app subscribes the
// others itself, in afterAuth).
const emulator = createEmulator({
  apps: [
    {
      clientId: apiKey,
      clientSecret: apiSecret,
      redirectUrls: [`${appUrl}/auth/callback`],
      name: 'shoptoken demo',
      webhooks: {
        apiVersion: DEFAULT_API_VERSION,
        subscriptions: [
          {
            uri: `${appUrl}${WEBHOOKS_PATH}`,
            complianceTopics: ['customers/data_request', 'customers/redact', 'shop/redact'],
          },
        ],
      },
    },
  ],
});
// A generated development key file is announced on stderr by openDefaultVault.
const { vault } = await openDefaultVault(config, { database: databasePath, now: emulator.clock.now });

const emulatorServer = await listenOn(emulatorPortSetting, () =>
  emulator.listen({ port: emulatorPort, host: listenHost }),
);
const emulatorOrigin = `http://${host}:${new URL(emulatorServer.origin).port}`;
const shopifyBaseUrl = emulator.baseUrl(emulatorOrigin);

const demo = createDemoService({
  config,
  vault,
  apiKey,
  apiSecret,
  appUrl,
  shopifyBaseUrl,
  emulatorOrigin,
  demoShops: ['demo-shop.myshopify.com', 'second-demo-shop.myshopify.com'],
  shopify: emulator,
  log: (line) => console.log(line),
});
const { app } = demo;
const server = createServer(app.callback());
await listenOn(
  appPortSetting,
  () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(appPort, listenHost, () => {
        server.off('error', reject);
        resolve();
      });
    }),
);

demo.start(); // the webhook inbox's worker and the vault's keeper
console.log(`shoptoken demo: open ${appUrl}/ (the fulfillment service answers Shopify at ${FULFILLMENT_PATH})`);
if (env.DEMO_READY_FILE) {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(env.DEMO_READY_FILE, JSON.stringify({ appUrl, emulatorOrigin, databasePath }));
}

async function shutdown(): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await demo.stop();
  await emulatorServer.close();
  await vault.close();
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    shutdown().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
