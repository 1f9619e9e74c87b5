/**
 * `createShoptoken`: one install gives both tokens. The first visit runs the offline leg and chains
 * straight into the per-user leg, so `afterAuth` sees the shop's offline token and the installing
 * user's online token together; later visits run the per-user leg only.
 */

import { ShoptokenError } from '../errors.ts';
import { handleBegin } from './begin.ts';
import { handleCallback } from './callback.ts';
import { handleLogout } from './logout.ts';
import { resolveOptions } from './options.ts';
import { methodNotAllowed, storeUnavailable, withoutBody } from './responses.ts';
import { ALLOWED_METHODS, flowRoute, methodAllowed } from './routes.ts';
import { loadSession, requireSession } from './session.ts';
import type { Shoptoken, ShoptokenOptions } from './types.ts';

/**
 * Builds the install flow as a web-standard handler. Throws ConfigError listing every bad option.
 *
 * @example
 * const shoptoken = createShoptoken({
 *   apiKey: env.SHOPIFY_API_KEY, apiSecret: env.SHOPIFY_API_SECRET, scopes: 'write_products,read_orders',
 *   appUrl: 'https://app.example.com', vault,
 *   afterAuth: async ({ shop, offline, online }) => registerWebhooks(shop, offline.accessToken),
 * });
 * const response = (await shoptoken.handle(request)) ?? (await app(request));
 */
export function createShoptoken(options: ShoptokenOptions): Shoptoken {
  const rt = resolveOptions(options);
  return {
    options: rt.options,
    async handle(request) {
      const url = new URL(request.url);
      const route = flowRoute(rt.options, url.pathname);
      if (route === null) return null;
      if (!methodAllowed(route, request.method)) return methodNotAllowed(ALLOWED_METHODS[route]);
      try {
        if (route === 'logout') return await handleLogout(rt, request);
        // HEAD runs only the checks that change nothing: it never issues a state or exchanges a code.
        const head = request.method === 'HEAD';
        const response =
          route === 'begin' ? await handleBegin(rt, url, head) : await handleCallback(rt, request, url, head);
        return head ? withoutBody(response) : response;
      } catch (error) {
        if (error instanceof ShoptokenError && error.code === 'ERR_STORAGE') return storeUnavailable();
        throw error;
      }
    },
    session: (request) => loadSession(rt, request),
    requireSession: (request) => requireSession(rt, request),
  };
}
