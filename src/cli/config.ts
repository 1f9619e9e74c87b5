/**
 * The configuration every command reads: the same loader as the library (`loadConfig`), so a
 * setting means the same in the app and in the CLI. `--config NAME` picks `shopify.app.NAME.toml`
 * (or a `.toml` path) as Shopify CLI's `--config` does.
 */

import { loadConfig, type ShoptokenConfig } from '../config/load.ts';
import type { CliIO } from './io.ts';

/** The `--config` option of every command, for `parseArgs`. */
export const CONFIG_OPTION = { config: { type: 'string' } } as const;

/** The help line of `--config`. */
export const CONFIG_USAGE =
  '  --config NAME      the app configuration: shopify.app.NAME.toml, or a .toml path (default shopify.app.toml)';

/** Loads the configuration from the command's environment and working directory. */
export function cliConfig(io: Pick<CliIO, 'env' | 'cwd'>, appConfig: string | undefined): ShoptokenConfig {
  return loadConfig({ env: io.env, cwd: io.cwd, ...(appConfig === undefined ? {} : { appConfig }) });
}
