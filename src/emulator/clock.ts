/**
 * The emulator's clock. Given `options.now`, the caller owns time and the emulator only reads it.
 * Otherwise the emulator owns a clock that starts at the real time and keeps running with it, so
 * an emulator serving a real app (whose signed callbacks carry timestamps) stays plausible, while
 * tests move it forward with `advance` or jump with `set` — nothing ever has to sleep.
 */

import { ConfigError, ShoptokenError } from '../errors.ts';

/** Reads and, when the emulator owns it, moves the emulator's time (ms since epoch). */
export interface EmulatorClock {
  /** The emulator's current time, ms since epoch. */
  now(): number;
  /** Moves time forward by `ms` (a non-negative number); returns the new time. */
  advance(ms: number): number;
  /** Makes `ms` (ms since epoch) the current time; returns it. */
  set(ms: number): number;
}

/** `owned`: the emulator's own clock, movable; `injected`: the caller's `options.now`, read-only. */
export type ClockOwnership = 'owned' | 'injected';

const injectedError = () =>
  new ShoptokenError(
    'ERR_CONFIG',
    'the emulator was given options.now, so the caller owns its time: move that clock instead of emulator.clock',
  );

/**
 * Builds the emulator's clock.
 *
 * @example
 * const clock = createClock(undefined); // owned: starts at Date.now()
 * clock.advance(3600 * 1000); // an hour later, without waiting
 */
export function createClock(
  injected: (() => number) | undefined,
  realNow: () => number = Date.now,
): EmulatorClock & { ownership: ClockOwnership } {
  if (injected !== undefined) {
    return {
      ownership: 'injected',
      now: injected,
      advance: () => {
        throw injectedError();
      },
      set: () => {
        throw injectedError();
      },
    };
  }
  let offset = 0;
  const now = () => realNow() + offset;
  return {
    ownership: 'owned',
    now,
    advance(ms) {
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
        throw new ConfigError(['clock.advance(ms): ms must be a non-negative finite number']);
      }
      offset += ms;
      return now();
    },
    set(ms) {
      if (!Number.isSafeInteger(ms) || ms < 0) {
        throw new ConfigError(['clock.set(ms): ms must be a non-negative integer (ms since epoch)']);
      }
      offset = ms - realNow();
      return now();
    },
  };
}
