/**
 * The install over real sockets: an app server (whatever the test mounts: Koa, Express, node:http)
 * and the emulator, each listening on 127.0.0.1 port 0, shoptoken using the real global fetch, and
 * a test browser talking to both over the network.
 */

import { randomBytes } from 'node:crypto';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createShoptoken } from '../../src/auth/shoptoken.ts';
import type { AfterAuthContext, Shoptoken } from '../../src/auth/types.ts';
import { createEmulator } from '../../src/emulator/index.ts';
import type { Emulator } from '../../src/emulator/types.ts';
import { openVault, type Vault } from '../../src/open-vault.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { Browser, socketFetcher } from './browser.ts';
import { API_KEY, API_SECRET, SCOPES } from './install-fixture.ts';

export interface SocketFixture {
  appUrl: string;
  emulatorOrigin: string;
  emulator: Emulator;
  vault: Vault;
  shoptoken: Shoptoken;
  afterAuth: AfterAuthContext[];
  newBrowser(): Browser;
  /** The emulator's user of `shop` whose first name is `firstName`. */
  userId(shop: string, firstName: string): string;
  close(): Promise<void>;
}

/** Starts both servers; `mount` turns shoptoken into the app's request listener. */
export async function startSocketFixture(
  mount: (shoptoken: Shoptoken) => RequestListener,
  redirectAfterAuth = '/app',
): Promise<SocketFixture> {
  let listener: RequestListener = (_req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => listener(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const emulator = createEmulator({
    apps: [{ clientId: API_KEY, clientSecret: API_SECRET, redirectUrls: [`${appUrl}/auth/callback`] }],
  });
  const emulatorServer = await emulator.listen({ port: 0 });
  const vault = openVault({ storage: createMemoryStorage(), keys: [{ id: 'k1', key: randomBytes(32) }] });
  const afterAuth: AfterAuthContext[] = [];
  const shoptoken = createShoptoken({
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    scopes: SCOPES,
    appUrl,
    vault,
    redirectAfterAuth,
    shopifyBaseUrl: emulator.baseUrl(emulatorServer.origin),
    afterAuth: (ctx) => void afterAuth.push(ctx),
  });
  listener = mount(shoptoken);

  return {
    appUrl,
    emulatorOrigin: emulatorServer.origin,
    emulator,
    vault,
    shoptoken,
    afterAuth,
    newBrowser: () => new Browser({ origins: { [appUrl]: socketFetcher, [emulatorServer.origin]: socketFetcher } }),
    userId(shop, firstName) {
      const user = emulator.shop(shop)?.users.find((u) => u.firstName === firstName);
      if (!user) throw new Error(`no user ${firstName} in ${shop}`);
      return user.id;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      await emulatorServer.close();
      await vault.close();
    },
  };
}
