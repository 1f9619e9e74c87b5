/**
 * One configuration for the library, the CLI and the demo: {@link loadConfig} reads Shopify CLI's
 * environment first (`SHOPIFY_API_KEY`, `SHOPIFY_API_SECRET`, `SCOPES`, the app URL from
 * `SHOPIFY_APP_URL`, `APP_URL` or `HOST`), then the app's `shopify.app.toml`, then shoptoken's own
 * `SHOPTOKEN_*` settings, so a setting means the same everywhere. It never throws for a setting
 * that is merely absent (a command that does not need it must still run); whoever needs one asks
 * {@link missingSettings}, whose message names the variable and the TOML field to set. What is
 * present but wrong or contradictory throws one ConfigError listing every problem.
 */

import { basename } from 'node:path';
import { ConfigError } from '../errors.ts';
import { checkBaseUrlTemplate, DEFAULT_SHOPIFY_BASE_URL } from '../protocol/shop.ts';
import {
  type AppToml,
  appTomlPath,
  DEFAULT_APP_TOML,
  findAppTomls,
  readAppToml,
  type TomlWebhookSubscription,
} from './app-toml.ts';

/** Where {@link loadConfig} looks. */
export interface LoadConfigOptions {
  /** The environment, usually `process.env`. */
  env: Readonly<Record<string, string | undefined>>;
  /** Where `shopify.app.toml` and relative paths are looked up, usually `process.cwd()`. */
  cwd: string;
  /**
   * The app configuration file, as Shopify CLI's `--config` names it: `staging` →
   * `shopify.app.staging.toml`, or a `.toml` path. Wins over `SHOPTOKEN_APP_CONFIG`. `false` reads none.
   */
  appConfig?: string | false;
}

/** The settings a {@link ShoptokenConfig} holds, by the name the options use. */
export type ConfigSetting =
  | 'apiKey'
  | 'apiSecret'
  | 'scopes'
  | 'appUrl'
  | 'shopifyBaseUrl'
  | 'authPath'
  | 'callbackPath'
  | 'redirectUrls'
  | 'embedded'
  | 'apiVersion'
  | 'appName'
  | 'database';

/**
 * The loaded configuration. Secrets (`apiSecret`, the keys) are non-enumerable: they are there to
 * use, but `console.log`, `JSON.stringify` and spreading leave them out. Pass the object whole
 * (`createShoptoken({ config, vault })`, `openDefaultVault(config)`).
 */
export interface ShoptokenConfig {
  /** The app's client id: `SHOPIFY_API_KEY`, else `client_id`. */
  readonly apiKey: string | undefined;
  /** Client secrets, current first: `SHOPIFY_API_SECRET`, then `SHOPTOKEN_PREVIOUS_API_SECRET`. Non-enumerable. */
  readonly apiSecret: readonly string[] | undefined;
  /** `SCOPES`, else `[access_scopes] scopes`. */
  readonly scopes: readonly string[] | undefined;
  /** The app's origin: `SHOPIFY_APP_URL`, else `APP_URL`, else `HOST` (when a URL), else `application_url`. */
  readonly appUrl: string | undefined;
  /** `SHOPTOKEN_SHOPIFY_BASE_URL`, else `https://{shop}`: the one setting between Shopify and the emulator. */
  readonly shopifyBaseUrl: string;
  /** `SHOPTOKEN_AUTH_PATH`, else `/auth`. */
  readonly authPath: string;
  /** `SHOPTOKEN_CALLBACK_PATH`, else `/auth/callback`. */
  readonly callbackPath: string;
  /** `[auth] redirect_urls`: the callback URL must be one of them. */
  readonly redirectUrls: readonly string[] | undefined;
  /** `embedded`. */
  readonly embedded: boolean | undefined;
  /** `[webhooks] api_version`: the Admin API version used by default. */
  readonly apiVersion: string | undefined;
  /** `name`: shown on the emulator's consent page. */
  readonly appName: string | undefined;
  /** `[[webhooks.subscriptions]]` of the app configuration file (empty without one). */
  readonly webhookSubscriptions: readonly TomlWebhookSubscription[];
  /** `SHOPTOKEN_DATABASE_URL` as given (a path, `sqlite:`, `file:`); `undefined` for the default. */
  readonly database: string | undefined;
  /** `SHOPTOKEN_KEYS` (non-enumerable) and `SHOPTOKEN_KEY_FILE`. */
  readonly keys: string | undefined;
  readonly keyFile: string | undefined;
  /** `NODE_ENV=production`: keys must be configured, never generated. */
  readonly production: boolean;
  readonly cwd: string;
  /** The app configuration file read, or `null`. */
  readonly appConfigFile: string | null;
  /** Where each setting came from: `SHOPIFY_API_KEY`, `shopify.app.toml client_id`, `default`, … */
  readonly sources: Readonly<Partial<Record<ConfigSetting, string>>>;
}

const BRAND = Symbol.for('shoptoken.config');

/** True for an object {@link loadConfig} made. */
export function isShoptokenConfig(value: unknown): value is ShoptokenConfig {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

const HINTS: Record<'apiKey' | 'apiSecret' | 'scopes' | 'appUrl', string> = {
  apiKey: 'set SHOPIFY_API_KEY (or client_id in shopify.app.toml)',
  apiSecret: 'set SHOPIFY_API_SECRET',
  scopes: 'set SCOPES, e.g. SCOPES=write_products,read_orders (or [access_scopes] scopes in shopify.app.toml)',
  appUrl: 'set SHOPIFY_APP_URL, e.g. https://app.example.com (or application_url in shopify.app.toml)',
};

/**
 * The problems to report for required settings that `config` lacks, each naming what to set.
 *
 * @example
 * missingSettings(config, ['apiKey', 'apiSecret']) // ['apiKey is not set: set SHOPIFY_API_KEY (or client_id in shopify.app.toml)', …]
 */
export function missingSettings(config: ShoptokenConfig, names: readonly (keyof typeof HINTS)[]): string[] {
  return names.filter((name) => config[name] === undefined).map((name) => `${name} is not set: ${HINTS[name]}`);
}

const value = (env: LoadConfigOptions['env'], name: string): string | undefined => {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
};

/** An http(s) URL without a trailing slash, or `undefined`. */
function urlValue(raw: string): string | undefined {
  if (!URL.canParse(raw)) return undefined;
  const url = new URL(raw);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return raw.replace(/\/+$/, '');
}

/** The app configuration file to read, or `null`; pushes a problem for a contradiction. */
function chooseAppToml(options: LoadConfigOptions, apiKey: string | undefined, problems: string[]): AppToml | null {
  const named = options.appConfig ?? value(options.env, 'SHOPTOKEN_APP_CONFIG');
  if (named === false) return null;
  if (named !== undefined) {
    const toml = readAppToml(appTomlPath(named, options.cwd), problems);
    if (apiKey && toml.clientId && toml.clientId !== apiKey) {
      problems.push(
        `SHOPIFY_API_KEY (${apiKey}) is not the client_id of ${basename(toml.path)} (${toml.clientId}): ` +
          'they name different apps',
      );
    }
    return toml;
  }
  const candidates = findAppTomls(options.cwd);
  if (candidates.length === 0) return null;
  const scratch: string[] = [];
  const tomls = candidates.map((path) => readAppToml(path, scratch));
  const names = tomls.map((toml) => basename(toml.path));
  // Shopify CLI does not tell the web process which file it used: take the one of this client id,
  // else the default file, else the only one.
  const chosen = apiKey
    ? tomls.find((toml) => toml.clientId === apiKey)
    : names[0] === DEFAULT_APP_TOML || tomls.length === 1
      ? tomls[0]
      : undefined;
  if (chosen) {
    problems.push(...scratch.filter((problem) => problem.startsWith(`${basename(chosen.path)}:`)));
    return chosen;
  }
  problems.push(
    apiKey
      ? `SHOPIFY_API_KEY (${apiKey}) is the client_id of none of ${names.join(', ')}: ` +
          'set SHOPTOKEN_APP_CONFIG to this app’s configuration'
      : `several app configurations (${names.join(', ')}) and no ${DEFAULT_APP_TOML}: set SHOPTOKEN_APP_CONFIG`,
  );
  return null;
}

/**
 * Loads the configuration. Throws ConfigError listing every setting that is present but wrong or
 * contradictory (never one that is only missing; see {@link missingSettings}). Messages never
 * contain a secret.
 *
 * @example
 * const config = loadConfig({ env: process.env, cwd: process.cwd() });
 * const { vault } = await openDefaultVault(config);
 * const shoptoken = createShoptoken({ config, vault, afterAuth });
 */
export function loadConfig(options: LoadConfigOptions): ShoptokenConfig {
  const { env, cwd } = options ?? {};
  if (typeof env !== 'object' || env === null || typeof cwd !== 'string') {
    throw new ConfigError(['loadConfig needs { env, cwd }, e.g. { env: process.env, cwd: process.cwd() }']);
  }
  const problems: string[] = [];
  const sources: Partial<Record<ConfigSetting, string>> = {};
  const from = <T>(setting: ConfigSetting, candidates: [string, T | undefined][], fallback?: [string, T]) => {
    const found = candidates.find(([, v]) => v !== undefined) ?? fallback;
    if (found) sources[setting] = found[0];
    return found?.[1];
  };

  const envKey = value(env, 'SHOPIFY_API_KEY');
  const toml = chooseAppToml(options, envKey, problems);
  const file = toml ? basename(toml.path) : 'shopify.app.toml';

  const appUrlCandidates: [string, string | undefined][] = [];
  for (const name of ['SHOPIFY_APP_URL', 'APP_URL', 'HOST']) {
    const raw = value(env, name);
    if (raw === undefined) continue;
    const url = urlValue(raw);
    // HOST is often a bind address (0.0.0.0) for other tools: only a URL there is an app URL.
    if (url === undefined && name !== 'HOST')
      problems.push(`${name} must be an http(s) URL such as https://app.example.com`);
    appUrlCandidates.push([name, url]);
  }
  if (toml?.applicationUrl !== undefined) {
    const url = urlValue(toml.applicationUrl);
    if (url === undefined) problems.push(`${file}: application_url must be an http(s) URL`);
    appUrlCandidates.push([`${file} application_url`, url]);
  }

  const secrets = [value(env, 'SHOPIFY_API_SECRET'), value(env, 'SHOPTOKEN_PREVIOUS_API_SECRET')];
  if (secrets[0] === undefined && secrets[1] !== undefined) {
    problems.push('SHOPTOKEN_PREVIOUS_API_SECRET is set without SHOPIFY_API_SECRET (the current secret)');
  }
  const apiSecret = secrets[0] === undefined ? undefined : secrets.filter((s): s is string => s !== undefined);
  if (apiSecret) sources.apiSecret = 'SHOPIFY_API_SECRET';

  const envScopes = value(env, 'SCOPES')
    ?.split(',')
    .map((scope) => scope.trim())
    .filter(Boolean);
  const shopifyBaseUrl = from(
    'shopifyBaseUrl',
    [['SHOPTOKEN_SHOPIFY_BASE_URL', value(env, 'SHOPTOKEN_SHOPIFY_BASE_URL')]],
    ['default', DEFAULT_SHOPIFY_BASE_URL],
  ) as string;
  const baseUrlProblem = checkBaseUrlTemplate(shopifyBaseUrl);
  if (baseUrlProblem) problems.push(`SHOPTOKEN_SHOPIFY_BASE_URL ${baseUrlProblem} (e.g. http://127.0.0.1:4010/{shop})`);
  for (const url of toml?.redirectUrls ?? []) {
    if (urlValue(url) === undefined)
      problems.push(`${file}: [auth] redirect_urls holds a value that is not an http(s) URL`);
  }

  const config = {
    [BRAND]: true,
    apiKey: from('apiKey', [
      ['SHOPIFY_API_KEY', envKey],
      [`${file} client_id`, toml?.clientId],
    ]),
    scopes: from('scopes', [
      ['SCOPES', envScopes?.length ? envScopes : undefined],
      [`${file} [access_scopes]`, toml?.scopes],
    ]),
    appUrl: from('appUrl', appUrlCandidates),
    shopifyBaseUrl,
    authPath: from('authPath', [['SHOPTOKEN_AUTH_PATH', value(env, 'SHOPTOKEN_AUTH_PATH')]], ['default', '/auth']),
    callbackPath: from(
      'callbackPath',
      [['SHOPTOKEN_CALLBACK_PATH', value(env, 'SHOPTOKEN_CALLBACK_PATH')]],
      ['default', '/auth/callback'],
    ),
    redirectUrls: from('redirectUrls', [[`${file} [auth] redirect_urls`, toml?.redirectUrls]]),
    embedded: from('embedded', [[`${file} embedded`, toml?.embedded]]),
    apiVersion: from('apiVersion', [[`${file} [webhooks] api_version`, toml?.apiVersion]]),
    appName: from('appName', [[`${file} name`, toml?.name]]),
    webhookSubscriptions: Object.freeze(toml?.webhookSubscriptions ?? []),
    database: from('database', [['SHOPTOKEN_DATABASE_URL', value(env, 'SHOPTOKEN_DATABASE_URL')]]),
    keyFile: value(env, 'SHOPTOKEN_KEY_FILE'),
    production: env.NODE_ENV === 'production',
    cwd,
    appConfigFile: toml?.path ?? null,
    sources: Object.freeze(sources),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  Object.defineProperty(config, 'apiSecret', { value: apiSecret, enumerable: false });
  Object.defineProperty(config, 'keys', { value: value(env, 'SHOPTOKEN_KEYS'), enumerable: false });
  Object.defineProperty(config, BRAND, { value: true, enumerable: false });
  return Object.freeze(config) as unknown as ShoptokenConfig;
}

/**
 * The problems with the callback URL against `[auth] redirect_urls`: `callbackPath` must be the
 * path of one of them; when the app URL itself came from the file, the whole URL must be one.
 * Shopify refuses an authorize request whose `redirect_uri` is not listed, so this is a startup error.
 */
export function redirectUrlProblems(
  config: Pick<ShoptokenConfig, 'redirectUrls' | 'sources' | 'appConfigFile'>,
  appUrl: string,
  callbackPath: string,
): string[] {
  const listed = config.redirectUrls;
  if (!listed || listed.length === 0) return [];
  const file = config.appConfigFile ? basename(config.appConfigFile) : 'shopify.app.toml';
  const callbackUrl = `${appUrl.replace(/\/+$/, '')}${callbackPath}`;
  const paths = listed.flatMap((url) => (URL.canParse(url) ? [new URL(url).pathname] : []));
  const appUrlFromFile = config.sources.appUrl?.startsWith(file) === true;
  const ok = appUrlFromFile ? listed.includes(callbackUrl) : paths.includes(callbackPath);
  if (ok) return [];
  const what = appUrlFromFile ? `the callback URL ${callbackUrl}` : `the callback path ${callbackPath}`;
  return [
    `${what} is not one of [auth] redirect_urls in ${file} (${listed.join(', ')}): add ${callbackUrl} there, ` +
      'or set SHOPTOKEN_CALLBACK_PATH (callbackPath) to the path of one of them',
  ];
}
