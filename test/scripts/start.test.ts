/**
 * `npm start` with a busy port: one line naming the port and the variable that moves it, exit
 * status 1, no stack trace, and nothing touched (no database, no key file).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const start = new URL('../../scripts/start.ts', import.meta.url).pathname;

async function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

async function freePort(): Promise<number> {
  const { server, port } = await listen();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function runDemo(
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [start], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGTERM'), 15_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('npm start with a busy port', () => {
  let dir: string;
  let held: { server: Server; port: number };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoptoken-start-'));
    held = await listen();
  });
  after(async () => {
    await new Promise((resolve) => held.server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  for (const [variable, other] of [
    ['PORT', 'EMULATOR_PORT'],
    ['EMULATOR_PORT', 'PORT'],
  ] as const) {
    it(`${variable} taken: names the port and ${variable}, exits 1, touches nothing`, async () => {
      const { code, stdout, stderr } = await runDemo(dir, {
        [variable]: String(held.port),
        [other]: String(await freePort()),
      });
      assert.equal(code, 1);
      assert.equal(stdout, '');
      const match = stderr.match(new RegExp(`^port ${held.port} is in use: set ${variable}=(\\d+) npm start\\n$`));
      assert.ok(match, `one line, got: ${JSON.stringify(stderr)}`);
      assert.notEqual(Number(match[1]), held.port);
      assert.equal(existsSync(join(dir, '.shoptoken')), false, 'no database or key file created');
    });
  }

  it('a value that is not a port: one line naming the variable', async () => {
    const { code, stderr } = await runDemo(dir, { PORT: 'three thousand' });
    assert.equal(code, 1);
    assert.equal(stderr, 'PORT must be a port number (1–65535), not "three thousand"\n');
  });
});
