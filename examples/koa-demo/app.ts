/**
 * The demo app: a Koa app that installs with shoptoken (one install, both tokens) and is the
 * shop's fulfillment service. Token values are never shown; only their metadata.
 *
 * Middleware order matters: the webhook inbox first (it reads the raw body its HMAC covers), then
 * shoptoken's install flow, then the app's own pages.
 */

import Koa from 'koa';
import { requireShoptokenSession, type ShoptokenKoaState, shoptokenKoa, webhooksKoa } from '../../src/adapters/koa.ts';
import { type AppSession, adminClient, type Shoptoken, type Webhooks } from '../../src/index.ts';
import { normalizeShop } from '../../src/protocol/index.ts';
import { type Accounts, checkSignUp } from './accounts.ts';
import type { ActivityLog } from './activity.ts';
import { type Controls, isControlAction } from './controls.ts';
import { appPage, landingPage, QUERIES, type ResultView, signUpPage } from './pages.ts';
import { createResultStore } from './results.ts';
import type { Warehouse } from './warehouse.ts';

export interface DemoOptions {
  shoptoken: Shoptoken;
  /** The webhook inbox: deliveries and the fulfillment service's callbacks. */
  webhooks: Webhooks;
  /** The configured app scopes. */
  scopes: readonly string[];
  /** Base-URL template of Shopify (the emulator in the demo). */
  shopifyBaseUrl: string;
  /** Shops offered on the landing page. */
  demoShops: readonly string[];
  /** Origin of the emulator, for the "sign in as another user" link. */
  emulatorOrigin: string;
  /** The app's own URL. */
  appUrl: string;
  accounts: Accounts;
  activity: ActivityLog;
  warehouse: Warehouse;
  /** The buttons that play Shopify's side. */
  controls: Controls;
  /** The demo's clock (the emulator's); default Date.now. */
  now?: () => number;
}

async function readForm(ctx: Koa.Context): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > 4096) ctx.throw(413, 'form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const html = (ctx: Koa.Context, status: number, body: string) => {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('cache-control', 'no-store');
  ctx.body = body;
};

/** Builds the demo Koa app. */
export function createDemoApp(options: DemoOptions): Koa {
  const { accounts, activity, warehouse, controls } = options;
  const now = options.now ?? Date.now;
  const app = new Koa();
  // Before anything that reads bodies: the inbox verifies the HMAC of the raw body.
  app.use(webhooksKoa(options.webhooks));
  app.use(shoptokenKoa(options.shoptoken));
  const requireSession = requireShoptokenSession(options.shoptoken);
  const results = createResultStore();
  const pageOptions = { scopes: options.scopes, emulatorOrigin: options.emulatorOrigin, appUrl: options.appUrl };

  app.use(async (ctx, next) => {
    const state = ctx.state.shoptoken as ShoptokenKoaState;
    // The app's forms post only from its own pages (the controls uninstall apps: no cross-site posts).
    if (ctx.method === 'POST' && ctx.get('origin') !== options.appUrl) {
      ctx.status = 403;
      ctx.body = 'forms are accepted from this app’s own pages only';
      return;
    }
    if (ctx.method === 'GET' && ctx.path === '/') {
      const session = await state.session();
      // `?switch=1`: the shop picker even when signed in (the app page's "Switch shop" link).
      if (session && ctx.query.switch !== '1') return ctx.redirect('/app');
      const uninstalled = typeof ctx.query.uninstalled === 'string' ? normalizeShop(ctx.query.uninstalled) : null;
      return html(ctx, 200, landingPage(options.demoShops, session?.shop, uninstalled ?? undefined));
    }
    // Signed out, uninstalled, or the online token expired: the landing page, not a bare 401 (what
    // Shopify sends — `shop`, `hmac`, `embedded` — still goes to requireSession, which answers it).
    const fromShopify = ['shop', 'hmac', 'embedded'].some((name) => name in ctx.query);
    if (ctx.method === 'GET' && ctx.path === '/app' && !fromShopify && !(await state.session())) {
      return ctx.redirect('/');
    }
    if (['/app', '/app/call', '/app/shopify', '/signup'].includes(ctx.path)) return requireSession(ctx, next);
    ctx.status = 404;
    ctx.body = 'not found';
  });

  app.use(async (ctx) => {
    const session = ctx.state.shopSession as AppSession;
    const { shop } = session;
    if (ctx.method === 'GET' && ctx.path === '/app') {
      // The first sign-in after an install creates the shop's account first.
      if (!accounts.account(shop)) return ctx.redirect('/signup');
      const id = ctx.query.result;
      const owner = { shop, userId: session.userId };
      const result: ResultView | undefined =
        typeof id === 'string' ? (results.get(owner, id) ?? { expired: true }) : undefined;
      const after = typeof ctx.query.after === 'string' ? Number.parseInt(ctx.query.after, 10) : Number.NaN;
      const fulfillment = {
        account: accounts.account(shop),
        stock: warehouse.stock(shop),
        activity: activity.list(shop),
        after: Number.isSafeInteger(after) ? after : undefined,
      };
      return html(ctx, 200, appPage(session, pageOptions, fulfillment, result));
    }
    if (ctx.path === '/signup') {
      if (accounts.account(shop)) return ctx.redirect('/app');
      const user = session.online.user;
      const prefill = accounts.installer(shop) ?? { name: `${user.firstName} ${user.lastName}`, email: user.email };
      if (ctx.method === 'GET') return html(ctx, 200, signUpPage(shop, prefill));
      if (ctx.method === 'POST') {
        const form = await readForm(ctx);
        const checked = checkSignUp(form);
        if ('problems' in checked) {
          const typed = { name: form.get('name') ?? '', email: form.get('email') ?? '' };
          return html(ctx, 400, signUpPage(shop, typed, checked.problems));
        }
        accounts.signUp({ shop, ...checked, createdAt: now() });
        activity.add(shop, 'app', 'signup', `Account created for ${checked.name} (${checked.email})`);
        ctx.status = 303;
        return ctx.redirect('/app');
      }
    }
    if (ctx.method === 'POST' && ctx.path === '/app/shopify') {
      const form = await readForm(ctx);
      const action = form.get('action');
      if (!isControlAction(action)) {
        ctx.status = 400;
        ctx.body = 'unknown control';
        return;
      }
      const location = await controls.run(shop, action, form);
      ctx.status = 303;
      return ctx.redirect(location);
    }
    if (ctx.method === 'POST' && ctx.path === '/app/call') {
      const [kind, query] = ((await readForm(ctx)).get('call') ?? '').split(':');
      const gql = query ? QUERIES[query] : undefined;
      const token = kind === 'offline' ? session.offline : kind === 'online' ? session.online : undefined;
      if (!gql || !token) {
        ctx.status = 400;
        ctx.body = 'unknown call';
        return;
      }
      const admin = adminClient({ shop, accessToken: token.accessToken, shopifyBaseUrl: options.shopifyBaseUrl });
      const response = await admin.request(gql);
      // Post-redirect-get: the result waits under a random id; reloading the page shows it again
      // instead of repeating the call, and #result scrolls to it.
      const id = results.put(
        { shop, userId: session.userId },
        {
          label: `${query} via the ${kind} token`,
          body: {
            data: response.data ?? null,
            errors: response.errors
              ? {
                  message: response.errors.message,
                  status: response.errors.networkStatusCode,
                  graphQLErrors: response.errors.graphQLErrors,
                }
              : null,
          },
        },
      );
      ctx.status = 303;
      ctx.redirect(`/app?result=${id}#result`);
      return;
    }
    ctx.status = 405;
  });
  return app;
}
