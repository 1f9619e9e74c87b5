/**
 * The demo's ports: read from the environment and checked before `npm start` touches anything, so a
 * busy port (often a demo that is already running) ends in one line that names the variable moving
 * it, e.g. `port 3000 is in use: set PORT=3001 npm start`, and exit status 1 — no stack trace.
 */

import { createServer } from 'node:net';

/** A port and the environment variable that sets it. */
export interface PortSetting {
  variable: string;
  port: number;
}

function exit(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** `env[variable]` as a port number, else `fallback`; any other value ends the process with one line. */
export function readPort(env: NodeJS.ProcessEnv, variable: string, fallback: number): PortSetting {
  const raw = env[variable];
  if (raw === undefined || raw === '') return { variable, port: fallback };
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65535) exit(`${variable} must be a port number (1–65535), not "${raw}"`);
  return { variable, port };
}

/** Whether `port` can be listened on at `host`; an address the machine lacks (no IPv6) counts as free. */
function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRNOTAVAIL'));
    probe.listen({ port, host }, () => probe.close(() => resolve(true)));
  });
}

async function isFreeOnAll(hosts: readonly string[], port: number): Promise<boolean> {
  for (const host of hosts) if (!(await isFree(host, port))) return false;
  return true;
}

/** True for the error a listen on a busy port fails with. */
export function isAddressInUse(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}

/**
 * Ends the process with one line naming the busy ports and a command that moves them to free ones.
 * `hosts`: where the demo listens (for `localhost`, both 127.0.0.1 and ::1, since a browser may try
 * either); `settings`: every port the demo uses, so a suggestion never collides with another.
 */
export async function exitBusy(
  hosts: readonly string[],
  busy: readonly PortSetting[],
  settings: readonly PortSetting[],
): Promise<never> {
  const taken = new Set(settings.map((s) => s.port));
  const moves: string[] = [];
  for (const { variable, port } of busy) {
    let next = port + 1;
    while (next <= 65535 && next <= port + 100 && (taken.has(next) || !(await isFreeOnAll(hosts, next)))) next++;
    taken.add(next);
    moves.push(`${variable}=${next <= 65535 && next <= port + 100 ? next : '<a free port>'}`);
  }
  const ports = busy.map((s) => s.port);
  const what = ports.length === 1 ? `port ${ports[0]} is` : `ports ${ports.join(' and ')} are`;
  exit(`${what} in use: set ${moves.join(' ')} npm start`);
}

/** Checks every port before the demo starts; ends the process with {@link exitBusy} when any is taken. */
export async function exitIfBusy(hosts: readonly string[], settings: readonly PortSetting[]): Promise<void> {
  const busy: PortSetting[] = [];
  for (const setting of settings) if (!(await isFreeOnAll(hosts, setting.port))) busy.push(setting);
  if (busy.length > 0) await exitBusy(hosts, busy, settings);
}
