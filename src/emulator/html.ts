/** The emulator's admin page frame, over the shared escaping templates. */

import { html, SafeHtml } from '../html.ts';

export { html, SafeHtml };

const STYLE = `body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}.note{color:#555;font-size:.9rem}select,button{font-size:1rem;padding:.4rem .8rem;margin:.3rem 0}
button[value=install],button[value=login]{background:#008060;color:#fff;border:0;border-radius:4px}
code{background:#f1f1f1;padding:0 .2rem}`;

/** A complete page, with headers that keep it out of frames and caches. */
export function page(status: number, title: string, body: SafeHtml, headers?: Record<string, string>): Response {
  const doc = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${new SafeHtml(STYLE)}</style></head>
<body><p class="note">Shopify emulator (shoptoken) — not the real Shopify</p>
${body}</body></html>`;
  return new Response(doc.value, {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      // Not `no-referrer`: with it, browsers send `Origin: null` on the page's own form POST, which the
      // CSRF check would refuse.
      'referrer-policy': 'same-origin',
      ...headers,
    },
  });
}

/** A short error page. */
export function errorPage(status: number, message: string): Response {
  return page(status, 'Something went wrong', html`<h1>Something went wrong</h1><p id="error">${message}</p>`);
}
