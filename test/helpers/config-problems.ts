/** The problems of the ConfigError `run` throws; a failed assertion when it throws nothing or something else. */

import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.ts';

export function configProblems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return [...error.problems];
  }
  assert.fail('expected a ConfigError');
}
