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
import { openDefaultVault } from '../src/config.ts';
import { createEmulator } from '../src/emulator/index.ts';

const env = process.env;
const host = env.DEMO_HOST ?? 'localhost';
const appPort = Number(env.PORT ?? 3000);
const emulatorPort = Number(env.EMULATOR_PORT ?? 4010);
const appUrl = `http://${host}:${appPort}`;
const scopes = ['write_products', 'read_orders', 'read_customers'];
// Demo-only credentials: they are known only to the local emulator started below.
const apiKey = 'shoptoken-demo';
const apiSecret = 'shoptoken-demo-secret-known-only-to-the-local-emulator';

const databasePath = join(process.cwd(), '.shoptoken', 'demo.db');
for (const suffix of ['', '-wal', '-shm']) await rm(`${databasePath}${suffix}`, { force: true });
const { vault, keySource, generatedKey } = await openDefaultVault({ env, cwd: process.cwd(), database: databasePath });
if (generatedKey) console.log(`generated a new encryption key file at ${keySource} — keep it secret and back it up`);

const emulator = createEmulator({
  apps: [
    { clientId: apiKey, clientSecret: apiSecret, redirectUrls: [`${appUrl}/auth/callback`], name: 'shoptoken demo' },
  ],
});
const emulatorServer = await emulator.listen({ port: emulatorPort, host: host === 'localhost' ? '127.0.0.1' : host });
const emulatorOrigin = `http://${host}:${new URL(emulatorServer.origin).port}`;
const shopifyBaseUrl = emulator.baseUrl(emulatorOrigin);

const shoptoken = createShoptoken({
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
await new Promise<void>((resolve) => server.listen(appPort, host === 'localhost' ? '127.0.0.1' : host, resolve));

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
