/**
 * The connection the storage runs on: connects once (bounded by `connectTimeout`, handshake
 * included), runs each storage call with its errors mapped to ERR_STORAGE, lets the calls in flight
 * finish on close and refuses every call after it.
 */

import { ShoptokenError } from '../../errors.ts';
import { createClient, type DriverImport, loadDriver } from './client.ts';
import { lostConnection, storageError } from './errors.ts';
import type { RedisLocation } from './url.ts';

/** One open connection. */
export interface RedisConnection {
  /** Sends one command. */
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  /**
   * Runs `fn` (the commands of one storage call) unless the connection is closed; driver errors
   * become ERR_STORAGE `redis storage could not <action>`. With `repeatable` (a call whose second
   * run changes nothing the first did not: a read, a lease taken by its owner), a call that lost
   * its connection runs once more on the new one.
   */
  run<T>(action: string, fn: () => Promise<T>, repeatable?: boolean): Promise<T>;
  /** Ends the connection once the calls in flight are done; later `run`s reject with ERR_STORAGE. Idempotent. */
  close(): Promise<void>;
}

/** Rejects after `ms` unless cleared. */
function deadline(ms: number, message: string): { promise: Promise<never>; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return { promise, clear: () => clearTimeout(timer) };
}

/**
 * Connects to the server (or cluster) `location` names. Throws ConfigError when the driver is
 * missing and ERR_STORAGE (retryable unless the server refused the credentials) when it cannot
 * connect.
 *
 * @example
 * const connection = await connectRedis(parseRedisUrl('redis://127.0.0.1:6379/0'));
 */
export async function connectRedis(
  location: RedisLocation,
  importDriver: DriverImport = () => import('ioredis'),
): Promise<RedisConnection> {
  const driver = await loadDriver(importDriver);
  let connected = false;
  let closed = false;
  let lastError: unknown;
  const client = createClient(driver, location, () => connected && !closed);
  client.on('error', (error) => {
    lastError = error;
  });
  // connectTimeout bounds the TCP (and TLS) connect only; a server that accepts and never answers
  // the handshake is bounded here too.
  const opening = deadline(location.connectTimeout, 'connect ETIMEDOUT (no answer to the handshake)');
  try {
    await Promise.race([
      (async () => {
        await client.connect();
        // ioredis reports a failed SELECT in its handshake as an event only; ask again to see it.
        if (location.db !== 0) await client.call('SELECT', location.db);
      })(),
      opening.promise,
    ]);
  } catch (error) {
    client.disconnect();
    throw storageError('connect', lastError ?? error);
  } finally {
    opening.clear();
  }
  connected = true;
  const running = new Set<Promise<unknown>>();

  return {
    call: (command, ...args) => client.call(command, ...args),
    async run(action, fn, repeatable = false) {
      if (closed) throw new ShoptokenError('ERR_STORAGE', `redis storage could not ${action}: it is closed`);
      const call = (async () => {
        try {
          return await fn();
        } catch (error) {
          // A command sent just as the server closed the connection fails without having run.
          if (!repeatable || closed || !lostConnection(error)) throw error;
          return fn();
        }
      })();
      running.add(call);
      try {
        return await call;
      } catch (error) {
        if (error instanceof ShoptokenError || error instanceof TypeError) throw error;
        throw storageError(action, error);
      } finally {
        running.delete(call);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      // Calls in flight finish first (a write is two steps: its row, then its indexes).
      await Promise.allSettled(running);
      const late = deadline(1000, 'quit timed out');
      await Promise.race([client.quit(), late.promise]).catch(() => undefined);
      late.clear();
      client.disconnect();
    },
  };
}
