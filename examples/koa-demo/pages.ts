/**
 * The demo's pages: the landing page (pick a shop, install), the sign-up page after the first
 * install, and the app page — the fulfillment service with its activity log and the controls that
 * play Shopify, the signed-in user, both tokens' metadata (never their values) and the Admin API
 * buttons.
 */

import type { AppSession } from '../../src/index.ts';
import { missingScopes } from '../../src/protocol/index.ts';
import type { TokenMetadata } from '../../src/vault/types.ts';
import type { Account } from './accounts.ts';
import type { ActivityEntry } from './activity.ts';
import { html, page } from './html.ts';
import type { CallResult } from './results.ts';
import { PRODUCTS } from './warehouse.ts';

/** The Admin API queries the app page's buttons run, by name. */
export const QUERIES: Record<string, string> = {
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

/**
 * The shop picker. `signedInShop`: a signed-in user came here to switch shops (`/?switch=1`);
 * `uninstalledShop`: the app was just uninstalled there (the "Uninstall the app" control).
 */
export function landingPage(demoShops: readonly string[], signedInShop?: string, uninstalledShop?: string): string {
  const other = signedInShop ? demoShops.find((shop) => shop !== signedInShop) : undefined;
  const preselect = uninstalledShop && demoShops.includes(uninstalledShop) ? uninstalledShop : other;
  return page(
    'shoptoken demo',
    html`<h1>shoptoken demo</h1>
<p>This app is a <b>fulfillment service</b>: once installed, Shopify sends it the orders a merchant wants it to ship, asks
it for stock levels and tracking numbers, and it answers through the shop's <b>offline</b> token; the staff user in front
of the screen gets an <b>online</b> token. Shopify is played by the local emulator: no account needed.</p>
${uninstalledShop ? html`<p id="uninstalled" class="card">The app was uninstalled from <b>${uninstalledShop}</b>: Shopify revoked its tokens and the <code>app/uninstalled</code> webhook made the vault delete them. <a id="reinstall" href="/auth?shop=${uninstalledShop}">Install it again</a>.</p>` : ''}
${signedInShop ? html`<p id="signed-in">You are signed in to <b>${signedInShop}</b>. Pick another shop below, or <a id="back-to-app" href="/app">go back to the app</a>.</p>` : ''}
<form method="get" action="/auth" class="card">
  <label for="shop">Pick a demo shop</label>
  <select id="shop" name="shop">${demoShops.map((shop) => html`<option value="${shop}"${shop === preselect ? html` selected` : ''}>${shop}</option>`)}</select>
  <button id="install" type="submit">Install the app</button>
</form>`,
  );
}

/** The sign-up page after the first install, filled in with the installing staff user's name and email. */
export function signUpPage(shop: string, prefill: { name: string; email: string }, problems: string[] = []): string {
  return page(
    `Sign up — shoptoken demo fulfillment`,
    html`<h1>Welcome to shoptoken demo fulfillment</h1>
<p>The app is installed on <b id="signup-shop">${shop}</b>. Create the shop's account with the fulfillment service: we
filled in what Shopify told us about the staff user who installed it (the online token's associated user).</p>
${problems.length ? html`<ul id="signup-problems">${problems.map((p) => html`<li class="missing">${p}</li>`)}</ul>` : ''}
<form method="post" action="/signup" class="card">
  <p><label for="name">Name</label><br><input id="name" name="name" size="40" maxlength="100" required value="${prefill.name}"></p>
  <p><label for="email">Email</label><br><input id="email" name="email" type="email" size="40" maxlength="254" required value="${prefill.email}"></p>
  <button id="signup" type="submit">Create the account</button>
</form>`,
  );
}

/** The result shown at the top of the app page: a call's, or a note that it is no longer kept. */
export type ResultView = CallResult | { expired: true };

function resultCard(result: ResultView | undefined) {
  if (!result) return '';
  if ('expired' in result) {
    return html`<div class="card" id="result"><p id="result-expired">That result is no longer kept: call the API again.</p></div>`;
  }
  return html`<div class="card" id="result"><h2 id="result-label">${result.label}</h2><pre id="result-body">${JSON.stringify(result.body, null, 2)}</pre></div>`;
}

const SOURCE = { shopify: 'Shopify', app: 'app', shoptoken: 'shoptoken' } as const;

/** What the fulfillment-service card shows. */
export interface FulfillmentView {
  account: Account | undefined;
  stock: Record<string, number>;
  activity: readonly ActivityEntry[];
  /** Entries after this sequence number are highlighted (the control just used). */
  after: number | undefined;
}

function fulfillmentCard(view: FulfillmentView) {
  const entries = [...view.activity].reverse();
  return html`<div class="card" id="fulfillment">
  <h2>Fulfillment service</h2>
  <p id="account">${view.account ? html`Account of <b id="account-name">${view.account.name}</b> (<span id="account-email">${view.account.email}</span>)` : 'No account yet.'}</p>
  <table id="stock"><tr><th>SKU</th><th>product</th><th>on hand</th></tr>${PRODUCTS.map((p) => html`<tr><td>${p.sku}</td><td>${p.title}</td><td data-sku="${p.sku}">${view.stock[p.sku] ?? 0}</td></tr>`)}</table>
  <form method="post" action="/app/shopify">
    <h3>Play Shopify's side</h3>
    <p class="actions">
      <label>SKU <select id="request-sku" name="sku">${PRODUCTS.map((p) => html`<option value="${p.sku}">${p.sku}</option>`)}</select></label>
      <label>quantity <input id="request-quantity" name="quantity" type="number" min="1" max="10" value="2"></label>
      <button id="request-fulfillment" name="action" value="request-fulfillment">A merchant requests fulfillment</button>
      <button id="request-cancellation" name="action" value="request-cancellation">… cancels the last request</button>
    </p>
    <p class="actions">
      <button id="fetch-stock" name="action" value="fetch-stock">Shopify asks for stock</button>
      <button id="fetch-tracking" name="action" value="fetch-tracking">… and for tracking numbers</button>
      <button id="three-weeks" name="action" value="three-weeks">Three weeks pass</button>
      <button id="uninstall" name="action" value="uninstall">Uninstall the app</button>
    </p>
  </form>
  <h3>Activity, newest first</h3>
  <ol id="activity" reversed>${entries.map(
    (e) =>
      html`<li data-kind="${e.kind}" data-source="${e.source}"${view.after !== undefined && e.seq > view.after ? html` class="new"` : ''}><time>${new Date(e.at).toISOString().slice(0, 19).replace('T', ' ')}</time> <b>${SOURCE[e.source]}</b> ${e.text}</li>`,
  )}</ol>
</div>`;
}

export interface AppPageOptions {
  /** The configured app scopes. */
  scopes: readonly string[];
  emulatorOrigin: string;
  appUrl: string;
}

export function appPage(
  session: AppSession,
  options: AppPageOptions,
  fulfillment: FulfillmentView,
  result?: ResultView,
): string {
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
${fulfillmentCard(fulfillment)}
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
