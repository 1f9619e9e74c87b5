/**
 * The demo app: a Koa app that installs with shoptoken (one install, both tokens) and shows what it
 * got. Token values are never shown; only their metadata.
 */

import Koa from 'koa';
import { requireShoptokenSession, shoptokenKoa } from '../../src/adapters/koa.ts';
import { adminClient } from '../../src/admin/client.ts';
import type { AppSession, Shoptoken } from '../../src/auth/index.ts';
import { missingScopes } from '../../src/protocol/scopes.ts';
import type { TokenMetadata } from '../../src/vault/types.ts';
import { html, page } from './html.ts';
import { type CallResult, createResultStore } from './results.ts';

export interface DemoOptions {
  shoptoken: Shoptoken;
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
}

const QUERIES: Record<string, string> = {
  shop: '{ shop { name email myshopifyDomain } }',
  scopes: '{ currentAppInstallation { accessScopes { handle } } }',
  orders: '{ orders(first: 3) { nodes { id name } } }',
  customers: '{ customers(first: 3) { nodes { id displayName } } }',
};

function metadataRows(token: TokenMetadata & { expiring?: boolean }) {
  const rows: [string, string][] = [
    ['kind', token.kind],
    ['scopes', token.scopes.join(', ')],
  ];
  if (token.associatedUserScopes) rows.push(['user scopes', token.associatedUserScopes.join(', ')]);
  if (token.kind === 'offline')
    rows.push(['expiring', token.expiring ? 'yes (1 h access token; its refresh token stays in the vault)' : 'no']);
  rows.push(['expires at', token.expiresAt ? token.expiresAt.toISOString() : 'never']);
  if (token.kind === 'offline') {
    rows.push([
      'refresh token expires at',
      token.refreshTokenExpiresAt ? token.refreshTokenExpiresAt.toISOString() : '—',
    ]);
  }
  rows.push(['created at', token.createdAt.toISOString()], ['updated at', token.updatedAt.toISOString()]);
  return html`<table>${rows.map(([k, v]) => html`<tr><th>${k}</th><td data-field="${k}">${v}</td></tr>`)}</table>`;
}

/** The shop picker; `signedInShop` when a signed-in user came here to switch shops (`/?switch=1`). */
function landing(demoShops: readonly string[], signedInShop?: string): string {
  const other = signedInShop ? demoShops.find((shop) => shop !== signedInShop) : undefined;
  return page(
    'shoptoken demo',
    html`<h1>shoptoken demo</h1>
<p>One install gives this app both tokens: an <b>offline</b> token for background work and an <b>online</b> token for
the staff user in front of the screen. Shopify is played by the local emulator: no account needed.</p>
${signedInShop ? html`<p id="signed-in">You are signed in to <b>${signedInShop}</b>. Pick another shop below, or <a id="back-to-app" href="/app">go back to the app</a>.</p>` : ''}
<form method="get" action="/auth" class="card">
  <label for="shop">Pick a demo shop</label>
  <select id="shop" name="shop">${demoShops.map((shop) => html`<option value="${shop}"${shop === other ? html` selected` : ''}>${shop}</option>`)}</select>
  <button id="install" type="submit">Install the app</button>
</form>`,
  );
}

/** The result shown at the top of the app page: a call's, or a note that it is no longer kept. */
type ResultView = CallResult | { expired: true };

function resultCard(result: ResultView | undefined) {
  if (!result) return '';
  if ('expired' in result) {
    return html`<div class="card" id="result"><p id="result-expired">That result is no longer kept: call the API again.</p></div>`;
  }
  return html`<div class="card" id="result"><h2 id="result-label">${result.label}</h2><pre id="result-body">${JSON.stringify(result.body, null, 2)}</pre></div>`;
}

function appPage(session: AppSession, options: DemoOptions, result?: ResultView): string {
  const { online, offline } = session;
  const user = online.user;
  const lacking = missingScopes(options.scopes, online.associatedUserScopes);
  const buttons = Object.keys(QUERIES).flatMap((query) =>
    (['offline', 'online'] as const).map(
      (token) =>
        html`<button type="submit" name="call" value="${token}:${query}" id="call-${token}-${query}">${query} via ${token}</button>`,
    ),
  );
  return page(
    `${session.shop} — shoptoken demo`,
    html`<h1>Installed on <span id="shop">${session.shop}</span></h1>
<nav class="actions">
  <a id="switch-shop" href="/?switch=1">Switch shop</a>
  <a id="switch-user" href="${options.emulatorOrigin}/${session.shop}/admin/logout?return_to=${encodeURIComponent(`${options.appUrl}/auth?shop=${session.shop}`)}">Sign in as another staff user</a>
  <form method="post" action="/auth/logout"><button id="sign-out" type="submit">Sign out</button></form>
</nav>
${resultCard(result)}
<div class="card" id="user">
  <h2>Signed-in staff user</h2>
  <table>
    <tr><th>name</th><td id="user-name">${user.firstName} ${user.lastName}</td></tr>
    <tr><th>email</th><td id="user-email">${user.email}${user.emailVerified ? '' : ' (unverified)'}</td></tr>
    <tr><th>account owner</th><td id="user-owner">${user.accountOwner ? 'yes' : 'no'}</td></tr>
    <tr><th>user id</th><td id="user-id">${user.id}</td></tr>
  </table>
</div>
<div class="card" id="missing">
  <h2>Scopes this user lacks</h2>
  ${
    lacking.length
      ? html`<ul>${lacking.map((s) => html`<li class="missing">${s}</li>`)}</ul>`
      : html`<p id="missing-none">none: this user may use every scope the app has</p>`
  }
</div>
<div class="card" id="offline-token"><h2>Offline token (the shop's)</h2>${offline ? metadataRows(offline) : html`<p>none</p>`}</div>
<div class="card" id="online-token"><h2>Online token (this user's)</h2>${metadataRows(online)}</div>
<form method="post" action="/app/call" class="card">
  <h2>Call the Admin API</h2>
  <p>The answer appears at the top of the page.</p>
  ${buttons}
</form>`,
  );
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

/** Builds the demo Koa app. */
export function createDemoApp(options: DemoOptions): Koa {
  const app = new Koa();
  app.use(shoptokenKoa(options.shoptoken));
  const requireSession = requireShoptokenSession(options.shoptoken);
  const results = createResultStore();

  app.use(async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/') {
      const session = await options.shoptoken.session(toRequest(ctx));
      // `?switch=1`: the shop picker even when signed in (the app page's "Switch shop" link).
      if (session && ctx.query.switch !== '1') return ctx.redirect('/app');
      ctx.type = 'html';
      ctx.body = landing(options.demoShops, session?.shop);
      return;
    }
    if (ctx.path === '/app' || ctx.path === '/app/call') return requireSession(ctx, next);
    ctx.status = 404;
    ctx.body = 'not found';
  });

  app.use(async (ctx) => {
    const session = ctx.state.shopSession as AppSession;
    if (ctx.method === 'GET' && ctx.path === '/app') {
      const id = ctx.query.result;
      const owner = { shop: session.shop, userId: session.userId };
      const result = typeof id === 'string' ? (results.get(owner, id) ?? { expired: true as const }) : undefined;
      ctx.type = 'html';
      ctx.set('cache-control', 'no-store');
      ctx.body = appPage(session, options, result);
      return;
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
      const admin = adminClient({
        shop: session.shop,
        accessToken: token.accessToken,
        shopifyBaseUrl: options.shopifyBaseUrl,
      });
      const response = await admin.request(gql);
      // Post-redirect-get: the result waits under a random id; reloading the page shows it again
      // instead of repeating the call, and #result scrolls to it.
      const id = results.put(
        { shop: session.shop, userId: session.userId },
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

function toRequest(ctx: Koa.Context): Request {
  return new Request(new URL(ctx.originalUrl, `http://${ctx.host || 'localhost'}`), {
    headers: ctx.get('cookie') ? { cookie: ctx.get('cookie') } : {},
  });
}
