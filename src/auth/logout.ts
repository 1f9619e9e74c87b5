/**
 * `POST {logoutPath}`: the sign-out. It deletes the signed-in user's online token from the vault —
 * so the session cookie, bound to that token, opens nothing anywhere, even if a copy of it survives —
 * clears the cookie, and sends the browser to `redirectAfterLogout` (303, so the browser follows
 * with a GET).
 *
 * Cross-site requests cannot sign a user out: the session cookie is `SameSite=Lax`, so a cross-site
 * POST arrives without it (nothing is deleted), and a request whose `Origin` is not the app's is
 * refused before anything happens (so it cannot clear the cookie either). A cookie that is not
 * bound to the user's current token (an old copy) deletes nothing.
 */

import { clearCookie } from './cookies.ts';
import type { AuthRuntime } from './options.ts';
import { redirectResponse, textResponse } from './responses.ts';
import { signedInUser } from './session.ts';

/** Handles `POST {logoutPath}`. */
export async function handleLogout(rt: AuthRuntime, request: Request): Promise<Response> {
  const origin = request.headers.get('origin');
  if (origin !== null && origin !== rt.options.appUrl) {
    return textResponse(403, "Sign-out refused: the request did not come from the app's own pages");
  }
  const user = await signedInUser(rt, request);
  if (user) await rt.vault.deleteOnline(user.shop, user.userId);
  const target = new URL(rt.options.redirectAfterLogout, rt.options.appUrl).href;
  return redirectResponse(target, [clearCookie(rt.cookies.session, rt.options.cookieSecure)], 303);
}
