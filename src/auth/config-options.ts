/**
 * `createShoptoken({ config, … })`: the loaded configuration supplies every option it holds; an
 * option given in code wins. A required setting found in neither is reported with what to set.
 */

import { isShoptokenConfig, missingSettings, type ShoptokenConfig } from '../config/load.ts';
import type { ShoptokenOptions } from './types.ts';

/** The settings the flow cannot do without. */
const REQUIRED = ['apiKey', 'apiSecret', 'scopes', 'appUrl'] as const;

/** The options with the configuration's settings filled in, and the configuration (if one was given). */
export interface MergedOptions {
  options: Partial<ShoptokenOptions>;
  config: ShoptokenConfig | undefined;
  /** Required settings missing from both, already reported with a hint: the checks skip them. */
  missing: ReadonlySet<string>;
}

/** Merges `config` into `options`; pushes the problems of a bad `config` or a missing required setting. */
export function mergeConfig(options: ShoptokenOptions, problems: string[]): MergedOptions {
  const o = (options ?? {}) as Partial<ShoptokenOptions>;
  const config = o.config;
  if (config === undefined) return { options: o, config: undefined, missing: new Set() };
  if (!isShoptokenConfig(config)) {
    problems.push('config must be what loadConfig() returns');
    return { options: o, config: undefined, missing: new Set() };
  }
  const absent = REQUIRED.filter((name) => o[name] === undefined && config[name] === undefined);
  problems.push(...missingSettings(config, absent));
  return {
    options: {
      ...o,
      apiKey: o.apiKey ?? config.apiKey,
      apiSecret: o.apiSecret ?? config.apiSecret,
      scopes: o.scopes ?? config.scopes,
      appUrl: o.appUrl ?? config.appUrl,
      shopifyBaseUrl: o.shopifyBaseUrl ?? config.shopifyBaseUrl,
      authPath: o.authPath ?? config.authPath,
      callbackPath: o.callbackPath ?? config.callbackPath,
    },
    config,
    missing: new Set(absent),
  };
}
