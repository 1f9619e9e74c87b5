/**
 * Shared by the README checks (scripts/check-readme-examples.ts in CI, test/readme/*.test.ts):
 * reading the README's marked blocks, and a dual-token install driven over plain HTTP the way a
 * browser would (redirects, cookies per host, the emulator's consent form).
 */

import type { ChildProcess } from 'node:child_process';

/** The code of the block marked `<!-- example: name -->` in `readme`; throws when there is none. */
export function readmeBlock(readme: string, name: string): string {
  const marker = `<!-- example: ${name} -->`;
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no block marked ${marker}`);
  const match = /^```[a-z]*\n([\s\S]*?)^```/m.exec(readme.slice(at + marker.length));
  if (!match) throw new Error(`no code block after ${marker}`);
  return match[1]!;
}

/** The variables of every `export A=B C='D'` line of a shell block. */
export function exportedVariables(shell: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of shell.split('\n')) {
    if (!line.startsWith('export ')) continue;
    for (const [, name, quoted, plain] of line.slice(7).matchAll(/([A-Z_][A-Z0-9_]*)=(?:'([^']*)'|(\S*))/g)) {
      env[name!] = quoted ?? plain ?? '';
    }
  }
  return env;
}

/** The URL the shell block opens (`open 'URL'`). */
export function openedUrl(shell: string): string {
  const match = /^open '([^']+)'/m.exec(shell);
  if (!match) throw new Error('the commands open no URL');
  return match[1]!;
}

const unescapeHtml = (text: string): string =>
  text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');

/** The emulator's consent or sign-in form, filled for the staff user whose name starts with `user`. */
function fillForm(page: string, pageUrl: string, user: string): { url: string; body: string } | null {
  const form = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(page);
  if (!form) return null;
  const inner = form[2] ?? '';
  const fields = new URLSearchParams();
  for (const [, name, value] of inner.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields.append(unescapeHtml(name!), unescapeHtml(value!));
  }
  const option = [...inner.matchAll(/<option value="(\d+)"[^>]*>([^<]*)/g)].find(([, , label]) =>
    unescapeHtml(label!).startsWith(user),
  );
  if (!option) throw new Error(`no staff user ${user} on the form at ${pageUrl}`);
  fields.set('user_id', option[1]!);
  const action = /name="action" value="(install|login)"/.exec(inner);
  if (!action) throw new Error(`no install or sign-in button at ${pageUrl}`);
  fields.set('action', action[1]!);
  return { url: new URL(unescapeHtml(form[1]!), pageUrl).href, body: fields.toString() };
}

/** A browser's cookies, per host name (ports ignored, as browsers do). */
export class CookieJar {
  readonly #byHost = new Map<string, Map<string, string>>();

  header(url: string | URL): string {
    const cookies = this.#byHost.get(new URL(url).hostname);
    return cookies ? [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') : '';
  }

  store(url: string | URL, response: Response): void {
    const host = new URL(url).hostname;
    const cookies = this.#byHost.get(host) ?? new Map();
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const gone = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute));
      if (gone) cookies.delete(name);
      else cookies.set(name, pair.slice(eq + 1).trim());
    }
    this.#byHost.set(host, cookies);
  }
}

/**
 * Opens `startUrl` and follows the flow as a browser: redirects, cookies, and on the emulator's
 * consent (or sign-in) page the form, as the staff user `user`. Returns the page it ends on.
 */
export interface Landed {
  status: number;
  url: string;
  text: string;
  jar: CookieJar;
  /** `METHOD url-without-query` of every request, for messages. */
  visited: string[];
}

export async function installOverHttp(
  startUrl: string,
  { user = 'Olivia', jar = new CookieJar(), maxSteps = 20 }: { user?: string; jar?: CookieJar; maxSteps?: number } = {},
): Promise<Landed> {
  let request: { url: string; method: string; body: string | undefined } = {
    url: startUrl,
    method: 'GET',
    body: undefined,
  };
  const visited: string[] = [];
  for (let step = 0; step < maxSteps; step++) {
    const { url, method, body } = request;
    visited.push(`${method} ${url.replace(/\?.*/, '')}`);
    const headers: Record<string, string> = { cookie: jar.header(url) };
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = new URL(url).origin;
    }
    const response = await fetch(url, { method, body, headers, redirect: 'manual' });
    jar.store(url, response);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      request = { url: new URL(location, url).href, method: 'GET', body: undefined };
      continue;
    }
    const text = await response.text();
    const form = response.status === 200 ? fillForm(text, url, user) : null;
    if (form) {
      request = { url: form.url, method: 'POST', body: form.body };
      continue;
    }
    return { status: response.status, url, text, jar, visited };
  }
  throw new Error(`the flow did not settle in ${maxSteps} steps: ${visited.join(' → ')}`);
}

/** Resolves with everything `child` printed once `pattern` appears in it; rejects if it exits first. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${pattern}:\n${output}`));
    });
  });
}
