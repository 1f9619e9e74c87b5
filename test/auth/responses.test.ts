/** The iframe-escape page and the script-safe JSON it relies on. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeIframeResponse, scriptJson } from '../../src/auth/responses.ts';
import { escapeHtml } from '../../src/html.ts';

describe('responses', () => {
  it('scriptJson cannot close the script element or break the line', () => {
    const json = scriptJson('</script><script>alert(1)</script>&\u2028\u2029');
    assert.doesNotMatch(json, /[<>&\u2028\u2029]/);
    assert.equal(JSON.parse(json), '</script><script>alert(1)</script>&\u2028\u2029');
  });

  it('the escape page navigates the top window, with a link fallback and a nonce-only CSP', async () => {
    const target = 'https://app.example.com/auth?shop=a.myshopify.com&x="</script>';
    const response = escapeIframeResponse(target);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const csp = response.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce);
    assert.match(csp, /default-src 'none'/);
    const body = await response.text();
    assert.equal(body.match(/<\/script>/g)?.length, 1, 'only the real closing tag');
    assert.ok(body.includes(`<script nonce="${nonce}">window.top.location.href = ${scriptJson(target)};</script>`));
    assert.ok(body.includes(`href="${escapeHtml(target)}" target="_top"`));
  });
});
