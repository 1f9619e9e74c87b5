// CI (on Node 24): the README's Koa and Express examples, unchanged, from the packed package, against the
// emulator, with nothing but the README's own commands and environment. For each: `npm pack`
// (prepack builds dist/), install the tarball and the framework into a fresh directory, start
// `npx shoptoken emulator` and `node app.ts` with the README's `export` lines, open the README's
// install link and complete a dual-token install over HTTP, then check `shoptoken tokens list`.
// Uses the README's ports (3000, 4010): run it where they are free.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { exportedVariables, installOverHttp, openedUrl, readmeBlock, waitForOutput } from './readme-examples.ts';

const root = resolve(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const commands = readmeBlock(readme, 'emulator-commands');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const work = mkdtempSync(join(tmpdir(), 'shoptoken-readme-ci-'));
const children: ChildProcess[] = [];

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Stops a child started in its own process group, with everything it started (npx does not forward signals). */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  process.kill(-(child.pid as number), 'SIGTERM');
  await exited;
}

try {
  // The package as users get it.
  const [packed] = JSON.parse(run(npm, ['pack', '--json', '--pack-destination', work], root));
  const tarball = join(work, packed.filename);
  assert.ok(
    packed.files.some((file: { path: string }) => file.path === 'dist/index.js'),
    'the tarball holds dist/',
  );
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'readme-app', private: true, type: 'module' }));
  const frameworks = ['koa', 'express'].map((name) => `${name}@${pkg.devDependencies[name]}`);
  run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...frameworks], app);

  // The README's environment; `npx shoptoken` runs the installed package's bin.
  const env: NodeJS.ProcessEnv = { ...process.env, ...exportedVariables(commands) };
  for (const name of Object.keys(env)) if (name.startsWith('npm_')) delete env[name];
  const installUrl = openedUrl(commands);
  assert.match(commands, /^npx shoptoken emulator &/m);
  assert.match(commands, /^node app\.ts\b/m);

  for (const example of ['koa', 'express']) {
    rmSync(join(app, '.shoptoken'), { recursive: true, force: true });
    writeFileSync(join(app, 'app.ts'), readmeBlock(readme, example));
    const emulator = spawn(npm, ['exec', '--no', '--', 'shoptoken', 'emulator'], { cwd: app, env, detached: true });
    children.push(emulator);
    const printed = await waitForOutput(emulator, /Then install it: \S+\n/);
    assert.ok(printed.includes(`Then install it: ${installUrl}\n`), printed);

    const server = spawn(process.execPath, ['app.ts'], {
      cwd: app,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(server);
    let output = '';
    server.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    server.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    for (let i = 0; ; i++) {
      if (server.exitCode !== null) throw new Error(`${example}: the example exited:\n${output}`);
      const up = await fetch(new URL(installUrl).origin).then(
        () => true,
        () => false,
      );
      if (up) break;
      if (i > 300) throw new Error(`${example}: the example never listened:\n${output}`);
      await new Promise((done) => setTimeout(done, 50));
    }

    const landed = await installOverHttp(installUrl);
    assert.equal(landed.status, 200, `${example}: ${landed.visited.join(' → ')}\n${landed.text}\n${output}`);
    assert.equal(landed.text.trim(), 'Hello Olivia', example);
    const tokens = JSON.parse(run(npm, ['exec', '--no', '--', 'shoptoken', 'tokens', 'list', '--json'], app));
    assert.deepEqual(
      tokens.map((token: { shop: string; kind: string }) => `${token.shop} ${token.kind}`),
      ['dev-shop.myshopify.com offline', 'dev-shop.myshopify.com online'],
      example,
    );
    assert.equal(output.match(/shoptoken: generated an encryption key file/g)?.length, 1, output);
    assert.ok(!output.includes(env.SHOPIFY_API_SECRET as string), 'the secret is never printed');
    await stop(server);
    await stop(emulator);
    console.log(`README ${example} example: dual-token install through the packed package passed`);
  }
} finally {
  for (const child of children) await stop(child);
  rmSync(work, { recursive: true, force: true });
}
