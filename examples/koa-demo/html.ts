/** The demo's page frame, over shoptoken's escaping `html` template tag. */

import { html, type SafeHtml } from '../../src/html.ts';

export { html };

export function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }
  h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
  table { border-collapse: collapse; } td, th { text-align: left; padding: .2rem .8rem .2rem 0; vertical-align: top; }
  code, pre { background: #f3f3f3; border-radius: 4px; padding: .1rem .3rem; }
  pre { padding: .6rem; white-space: pre-wrap; overflow-wrap: anywhere; }
  .actions { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; align-items: center; }
  .actions form { margin: 0; }
  .card { border: 1px solid #ddd; border-radius: 8px; padding: 1rem; margin: 1rem 0; }
  .missing { color: #a00; }
  button { font: inherit; padding: .3rem .8rem; margin: .2rem .2rem .2rem 0; cursor: pointer; }
  input, select { font: inherit; padding: .2rem .4rem; }
  h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
  #activity { padding-left: 1.8rem; } #activity li { margin: .25rem 0; overflow-wrap: anywhere; }
  #activity time { color: #666; font-variant-numeric: tabular-nums; }
  #activity li.new { background: #fff4c2; }
</style>
</head>
<body>
${body}
</body>
</html>
`.value;
}
