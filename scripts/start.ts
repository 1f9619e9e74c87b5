/**
 * `npm start`: the demo. Starts the local Shopify emulator and the example Koa app on the embedded
 * SQLite default, and prints one URL to open.
 *
 * The emulator keeps its state in memory, so the demo starts from an empty database each run
 * (`.shoptoken/demo.db`); inspect it with `npm run shoptoken -- tokens list --database .shoptoken/demo.db`.
 */

import { rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createDemoApp } from '../examples/koa-demo/app.ts';
import { createShoptoken } from '../src/auth/index.ts';
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
const scopes = ['write_products', 'read_orders', 'read_customers'];
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
// A generated development key file is announced on stderr by openDefaultVault.
const { vault } = await openDefaultVault(config, { database: databasePath });

const emulator = createEmulator({
  apps: [
    { clientId: apiKey, clientSecret: apiSecret, redirectUrls: [`${appUrl}/auth/callback`], name: 'shoptoken demo' },
  ],
});
const emulatorServer = await listenOn(emulatorPortSetting, () =>
  emulator.listen({ port: emulatorPort, host: listenHost }),
);
const emulatorOrigin = `http://${host}:${new URL(emulatorServer.origin).port}`;
const shopifyBaseUrl = emulator.baseUrl(emulatorOrigin);

const shoptoken = createShoptoken({
  config,
  apiKey,
  apiSecret,
  scopes,
  appUrl,
  vault,
  shopifyBaseUrl,
  redirectAfterAuth: '/app',
  afterAuth: ({ shop, user, missingUserScopes }) => {
    console.log(
      `installed on ${shop} by ${user.firstName} ${user.lastName}; user lacks: ${missingUserScopes.join(', ') || 'nothing'}`,
    );
  },
  afterLogin: ({ shop, user }) => console.log(`${user.firstName} ${user.lastName} signed in to ${shop}`),
});

const app = createDemoApp({
  shoptoken,
  scopes,
  shopifyBaseUrl,
  emulatorOrigin,
  appUrl,
  demoShops: ['demo-shop.myshopify.com', 'second-demo-shop.myshopify.com'],
});
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

console.log(`shoptoken demo: open ${appUrl}/`);
if (env.DEMO_READY_FILE) {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(env.DEMO_READY_FILE, JSON.stringify({ appUrl, emulatorOrigin, databasePath }));
}

async function shutdown(): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
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
