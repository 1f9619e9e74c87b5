/**
 * The responses the flow sends: plain-text errors, redirects, the page that restarts the flow and
 * the page that escapes the Shopify admin iframe. None is cached, none leaks a referrer, and none
 * echoes request input.
 */

import { randomBytes } from 'node:crypto';
import { escapeHtml, html } from '../html.ts';

const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

function headersWith(cookies: readonly string[], extra: Record<string, string>): Headers {
  const headers = new Headers({ ...COMMON_HEADERS, ...extra });
  for (const cookie of cookies) headers.append('set-cookie', cookie);
  return headers;
}

/** A plain-text response; `message` must be fixed text, never request input or secrets. */
export function textResponse(status: number, message: string, cookies: readonly string[] = []): Response {
  return new Response(`${message}\n`, {
    status,
    headers: headersWith(cookies, { 'content-type': 'text/plain; charset=utf-8' }),
  });
}

/** A 302 (or `status`, e.g. 303 after a POST) to `location`, which the caller has built from trusted parts only. */
export function redirectResponse(location: string, cookies: readonly string[] = [], status = 302): Response {
  return new Response(null, { status, headers: headersWith(cookies, { location }) });
}

/**
 * A small HTML page for a flow that cannot go on: `message` (fixed text, never request input or
 * secrets) and a link that starts the flow again at `restartUrl` (built from `appUrl` and a checked
 * shop). No script runs on it.
 */
export function restartResponse(
  status: number,
  message: string,
  restartUrl: string,
  cookies: readonly string[] = [],
): Response {
  const page = html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign-in could not finish</title></head>
<body>
<p>${message}</p>
<p><a href="${restartUrl}">Start again</a></p>
</body>
</html>
`;
  return new Response(page.value, {
    status,
    headers: headersWith(cookies, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; base-uri 'none'; form-action 'none'",
    }),
  });
}

/** `response` without its body, for a HEAD request. */
export function withoutBody(response: Response): Response {
  void response.body?.cancel();
  return new Response(null, { status: response.status, headers: response.headers });
}

/** JSON that is safe inside a `<script>` element: no `<`, `>`, `&` or line separators survive literally. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * A 200 page that moves the top window to `target`. A document inside the Shopify admin iframe
 * cannot be redirected to Shopify's grant screen (X-Frame-Options), so the flow first leaves the
 * iframe. Browsers may block a cross-origin frame from navigating the top window without a user
 * gesture, so the page also offers a link that targets `_top`.
 */
export function escapeIframeResponse(target: string): Response {
  const nonce = randomBytes(16).toString('base64');
  const body = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Opening the app…</title></head>
<body>
<p>Opening the app outside the Shopify admin… <a id="continue" href="${escapeHtml(target)}" target="_top">Continue</a></p>
<script nonce="${nonce}">window.top.location.href = ${scriptJson(target)};</script>
</body>
</html>
`;
  return new Response(body, {
    status: 200,
    headers: headersWith([], {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'`,
    }),
  });
}

/** 405 with the `Allow` header `allow` (e.g. `GET, HEAD`). */
/**
 * 503 with `Retry-After` for a flow step the token store could not serve (down, or another
 * instance's grant held too long): nothing the browser did was wrong, and trying again works.
 */
export function storeUnavailable(): Response {
  const response = textResponse(503, 'The token store is unavailable right now; try again in a moment.');
  response.headers.set('retry-after', '5');
  return response;
}

export function methodNotAllowed(allow: string): Response {
  const response = textResponse(405, `Method not allowed: use ${allow}`);
  response.headers.set('allow', allow);
  return response;
}
