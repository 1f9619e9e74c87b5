/**
 * The grant screen and the sign-in screen of the emulated admin. Element ids and names are stable
 * so browser tests can drive them: `#user` (name `user_id`), `button[value=install]`,
 * `button[value=cancel]`, `button[value=login]`, `#scopes li`.
 */

import { html, page, type SafeHtml } from './html.ts';
import type { ShopState } from './shops.ts';
import type { EmulatorUser } from './types.ts';

/** The validated authorize request, carried through the form in hidden inputs. */
export interface AuthorizeRequest {
  clientId: string;
  appName: string;
  /** The raw `scope` parameter, `null` when it was absent. */
  scope: string | null;
  /** The scopes asked for: the parameter's, or the app's configured scopes when it was absent or empty. */
  scopes: string[];
  scopesFromConfig: boolean;
  redirectUri: string;
  state: string;
  /** The raw `grant_options[]` value, `null` when it was absent. */
  grantOptions: string | null;
  accessMode: 'offline' | 'online';
}

function userPicker(users: readonly EmulatorUser[], selected: string | undefined): SafeHtml {
  const options = users.map(
    (user) =>
      html`<option value="${user.id}"${user.id === selected ? html` selected` : ''}>${user.firstName} ${user.lastName} (${user.email})${user.accountOwner ? ' — store owner' : ''}</option>`,
  );
  return html`<p><label for="user">Who is signed in to the admin:</label><br>
<select id="user" name="user_id">${options}</select></p>`;
}

function hiddenInputs(req: AuthorizeRequest): SafeHtml {
  const field = (name: string, value: string) => html`<input type="hidden" name="${name}" value="${value}">`;
  return html`${field('client_id', req.clientId)}${req.scope === null ? '' : field('scope', req.scope)}${field('redirect_uri', req.redirectUri)}${field('state', req.state)}${req.grantOptions === null ? '' : field('grant_options[]', req.grantOptions)}`;
}

const formAction = (shop: ShopState) => `/${shop.domain}/admin/oauth/authorize`;

/** The consent ("install app") page. */
export function consentPage(shop: ShopState, req: AuthorizeRequest, signedIn: string | undefined): Response {
  const mode = req.accessMode === 'online' ? 'online (per-user) access' : 'offline access';
  return page(
    200,
    `Install ${req.appName}`,
    html`<h1>Install <span id="app-name">${req.appName}</span></h1>
<p><strong id="app">${req.appName}</strong> wants to be installed on <strong id="shop">${shop.name}</strong>
(<code>${shop.domain}</code>) with ${mode}.</p>
<form method="post" action="${formAction(shop)}">
${userPicker(shop.users, signedIn)}
<p>It asks for these access scopes${req.scopesFromConfig ? ' (from the app’s configuration)' : ''}:</p>
<ul id="scopes">${req.scopes.map((scope) => html`<li><code>${scope}</code></li>`)}</ul>
${hiddenInputs(req)}
<button type="submit" id="install" name="action" value="install">Install</button>
<button type="submit" id="cancel" name="action" value="cancel">Cancel</button>
</form>`,
  );
}

/** The sign-in page, shown when the app is installed but nobody is signed in. */
export function signInPage(shop: ShopState, req: AuthorizeRequest): Response {
  return page(
    200,
    `Sign in to ${shop.name}`,
    html`<h1>Sign in to <span id="shop">${shop.name}</span></h1>
<p>Continue to <strong id="app">${req.appName}</strong> as:</p>
<form method="post" action="${formAction(shop)}">
${userPicker(shop.users, undefined)}
${hiddenInputs(req)}
<button type="submit" id="login" name="action" value="login">Continue</button>
</form>`,
  );
}

/**
 * Shown after Cancel: nothing was installed, no redirect; a link leads back to the app's origin
 * (from the registered redirect URL the request carried).
 */
export function cancelledPage(req: AuthorizeRequest): Response {
  const appOrigin = `${new URL(req.redirectUri).origin}/`;
  return page(
    200,
    'Installation cancelled',
    html`<h1 id="cancelled">Installation cancelled</h1><p>${req.appName} was not installed.</p>
<p><a id="back-to-app" href="${appOrigin}">Back to ${req.appName}</a></p>`,
  );
}
