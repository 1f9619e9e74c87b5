/**
 * The local Shopify emulator: OAuth install (offline and per-user), the token endpoint and a
 * minimal Admin API, served under `/{shop}/…` so that shoptoken reaches it through one setting,
 * the base-URL template `http://127.0.0.1:PORT/{shop}`.
 */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { isShopDomain, normalizeShop, SHOP_PLACEHOLDER } from '../protocol/shop.ts';
import { accessScopesEndpoint, graphqlEndpoint, isApiVersion } from './admin.ts';
import { authorizeGet, authorizePost, logout } from './authorize.ts';
import { json } from './http.ts';
import { checkOptions } from './options.ts';
import { EmulatorState } from './state.ts';
import { tokenEndpoint } from './token-endpoint.ts';
import type { Emulator, EmulatorOptions, EmulatorShopView } from './types.ts';

export type {
  Emulator,
  EmulatorAppConfig,
  EmulatorOptions,
  EmulatorShopSeed,
  EmulatorShopView,
  EmulatorUser,
  EmulatorUserSeed,
  GrantRecord,
} from './types.ts';

type ShopHandler = (state: EmulatorState, request: Request, domain: string) => Response | Promise<Response>;

function view(state: EmulatorState, domain: string): EmulatorShopView {
  const shop = state.shop(domain);
  return {
    domain: shop.domain,
    name: shop.name,
    email: shop.email,
    users: shop.users.map((user) => ({ ...user, permissions: [...user.permissions] })),
    installations: Object.fromEntries([...shop.installations].map(([clientId, scopes]) => [clientId, [...scopes]])),
  };
}

function routes(state: EmulatorState): Hono {
  const app = new Hono();
  // `{shop}` must be exactly a canonical shop domain: anything else is not a store.
  const shopRoute = (handler: ShopHandler) => (c: Context) => {
    const domain = c.req.param('shop');
    if (!isShopDomain(domain)) return c.text('Not Found', 404);
    return handler(state, c.req.raw, domain);
  };

  app.get('/_emulator/grants', () => json(state.grants()));
  app.get('/_emulator/shops/:shop', (c) => {
    const domain = c.req.param('shop');
    return isShopDomain(domain) ? json(view(state, domain)) : c.text('Not Found', 404);
  });
  app.get('/:shop/admin/oauth/authorize', shopRoute(authorizeGet));
  app.post('/:shop/admin/oauth/authorize', shopRoute(authorizePost));
  app.get('/:shop/admin/logout', shopRoute(logout));
  app.post('/:shop/admin/oauth/access_token', shopRoute(tokenEndpoint));
  app.get('/:shop/admin/oauth/access_scopes.json', shopRoute(accessScopesEndpoint));
  app.post('/:shop/admin/api/:version/graphql.json', (c) =>
    isApiVersion(c.req.param('version')) ? shopRoute(graphqlEndpoint)(c) : c.text('Not Found', 404),
  );
  app.notFound((c) => c.text('Not Found', 404));
  // Never echo internals: errors may carry request data.
  app.onError((_error, c) => c.text('Internal Server Error', 500));
  return app;
}

/**
 * Builds an emulator. Options are checked here ({@link ConfigError} lists every problem).
 *
 * @example
 * const emulator = createEmulator({
 *   apps: [{ clientId: 'key', clientSecret: 'secret', redirectUrls: ['http://127.0.0.1:3000/auth/callback'] }],
 * });
 * const { origin, close } = await emulator.listen();
 * const shopifyBaseUrl = emulator.baseUrl(origin); // 'http://127.0.0.1:PORT/{shop}'
 */
export function createEmulator(options: EmulatorOptions): Emulator {
  const state = new EmulatorState(checkOptions(options));
  const app = routes(state);

  return {
    fetch: async (request) => app.fetch(request),
    async listen(listenOptions = {}) {
      const host = listenOptions.host ?? '127.0.0.1';
      const server = createAdaptorServer({ fetch: app.fetch }) as Server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(listenOptions.port ?? 0, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const { port } = server.address() as AddressInfo;
      return {
        origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
        close: () =>
          new Promise<void>((resolve, reject) => {
            server.close((error) => (error ? reject(error) : resolve()));
            server.closeAllConnections();
          }),
      };
    },
    baseUrl: (origin) => `${origin.replace(/\/+$/, '')}/${SHOP_PLACEHOLDER}`,
    grants: () => state.grants(),
    shop(domain) {
      const canonical = normalizeShop(domain);
      return canonical === null ? undefined : view(state, canonical);
    },
    uninstall(shop, clientId) {
      const canonical = normalizeShop(shop);
      if (canonical !== null) state.uninstall(canonical, clientId);
    },
  };
}
