import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, html, SafeHtml } from '../src/html.ts';

describe('html templates', () => {
  it('escapeHtml escapes markup and both quotes', () => {
    assert.equal(
      escapeHtml(`<a href="x" onclick='y'>&</a>`),
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('escapes every interpolation but nested fragments', () => {
    const name = '<script>alert(1)</script>';
    const out = html`<p title="${name}">${name}${html`<b>${'&'}</b>`}${[1, '<', null, false]}</p>`;
    assert.ok(out instanceof SafeHtml);
    assert.equal(
      out.value,
      '<p title="&lt;script&gt;alert(1)&lt;/script&gt;">&lt;script&gt;alert(1)&lt;/script&gt;<b>&amp;</b>1&lt;</p>',
    );
  });
});
