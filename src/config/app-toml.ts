/**
 * Reading Shopify CLI's app configuration file, `shopify.app.toml` or `shopify.app.<name>.toml`
 * (shopify-protocol §10.1): the fields that matter to auth and webhooks — `client_id`, `name`,
 * `application_url`, `embedded`, `[access_scopes] scopes`, `[auth] redirect_urls`,
 * `[webhooks] api_version` and `[[webhooks.subscriptions]]`. Other fields are left alone; a field of the wrong type is a problem
 * reported with the file's name and the field's.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';

/** The auth-related fields of an app configuration file, as read. */
export interface AppToml {
  /** The absolute path of the file. */
  path: string;
  clientId: string | undefined;
  name: string | undefined;
  applicationUrl: string | undefined;
  embedded: boolean | undefined;
  /** `[access_scopes] scopes` (a comma-separated string), else `required_scopes` (an array). */
  scopes: string[] | undefined;
  redirectUrls: string[] | undefined;
  apiVersion: string | undefined;
  /** `[[webhooks.subscriptions]]`: what Shopify CLI deploys (and Shopify delivers without any API call). */
  webhookSubscriptions: TomlWebhookSubscription[];
}

/** One `[[webhooks.subscriptions]]` entry. */
export interface TomlWebhookSubscription {
  /** Topics, e.g. `orders/create`. */
  topics: string[];
  /** Compliance topics (`customers/data_request`, `customers/redact`, `shop/redact`). */
  complianceTopics: string[];
  /** Where Shopify delivers: an https URL, or a path relative to `application_url` (as Shopify CLI allows). */
  uri: string;
  /** The subscription's name (`X-Shopify-Name`), when given. */
  name: string | undefined;
}

/** The default file's name. */
export const DEFAULT_APP_TOML = 'shopify.app.toml';

const NAMED = /^shopify\.app\.([A-Za-z0-9_-]+)\.toml$/;

/**
 * The file a configuration name points at, as Shopify CLI's `--config` reads it: `staging` →
 * `shopify.app.staging.toml`; a value ending in `.toml` is a file name or path (relative to `cwd`).
 */
export function appTomlPath(name: string, cwd: string): string {
  const file = name.endsWith('.toml') ? name : `shopify.app.${name}.toml`;
  return isAbsolute(file) ? file : resolve(cwd, file);
}

/** Every `shopify.app.toml` / `shopify.app.<name>.toml` in `cwd`, the default first. */
export function findAppTomls(cwd: string): string[] {
  let names: string[];
  try {
    names = readdirSync(cwd);
  } catch {
    return [];
  }
  const named = names.filter((name) => NAMED.test(name)).sort();
  const all = names.includes(DEFAULT_APP_TOML) ? [DEFAULT_APP_TOML, ...named] : named;
  return all.map((name) => resolve(cwd, name));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads one app configuration file. Problems (unreadable, not TOML, a field of the wrong type) are
 * pushed to `problems`, naming the file and the field; the fields that could be read are returned.
 */
export function readAppToml(path: string, problems: string[]): AppToml {
  const file = basename(path);
  const read: AppToml = {
    path,
    clientId: undefined,
    name: undefined,
    applicationUrl: undefined,
    embedded: undefined,
    scopes: undefined,
    redirectUrls: undefined,
    apiVersion: undefined,
    webhookSubscriptions: [],
  };
  if (!existsSync(path)) {
    problems.push(`${file}: no such file in ${resolve(path, '..')}`);
    return read;
  }
  let doc: Record<string, unknown>;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const where = error instanceof TomlError ? ` (line ${error.line}, column ${error.column})` : '';
    problems.push(`${file}: not valid TOML${where}`);
    return read;
  }
  const field = <T>(value: unknown, name: string, check: (v: unknown) => v is T, expected: string): T | undefined => {
    if (value === undefined) return undefined;
    if (check(value)) return value;
    problems.push(`${file}: ${name} must be ${expected}`);
    return undefined;
  };
  const isString = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;
  const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
  const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
  const table = (name: string): Record<string, unknown> => {
    const value = doc[name];
    if (value === undefined) return {};
    if (isRecord(value)) return value;
    problems.push(`${file}: [${name}] must be a table`);
    return {};
  };

  read.clientId = field(doc.client_id, 'client_id', isString, 'a non-empty string');
  read.name = field(doc.name, 'name', isString, 'a non-empty string');
  read.applicationUrl = field(doc.application_url, 'application_url', isString, 'a URL string');
  read.embedded = field(doc.embedded, 'embedded', isBoolean, 'true or false');
  const access = table('access_scopes');
  const scopes = field(access.scopes, '[access_scopes] scopes', (v): v is string => typeof v === 'string', 'a string');
  const required = field(access.required_scopes, '[access_scopes] required_scopes', isStrings, 'a list of strings');
  if (scopes !== undefined) {
    read.scopes = scopes
      .split(',')
      .map((scope) => scope.trim())
      .filter(Boolean);
  } else if (required !== undefined) {
    read.scopes = required.map((scope) => scope.trim());
  }
  read.redirectUrls = field(table('auth').redirect_urls, '[auth] redirect_urls', isStrings, 'a list of URL strings');
  const webhooks = table('webhooks');
  read.apiVersion = field(webhooks.api_version, '[webhooks] api_version', isString, 'a string');
  const subscriptions = field(webhooks.subscriptions, '[[webhooks.subscriptions]]', Array.isArray, 'a list of tables');
  for (const [index, entry] of (subscriptions ?? []).entries()) {
    const where = `[[webhooks.subscriptions]] #${index + 1}`;
    if (!isRecord(entry)) {
      problems.push(`${file}: ${where} must be a table`);
      continue;
    }
    const topics = field(entry.topics, `${where} topics`, isStrings, 'a list of strings') ?? [];
    const compliance =
      field(entry.compliance_topics, `${where} compliance_topics`, isStrings, 'a list of strings') ?? [];
    const uri = field(entry.uri, `${where} uri`, isString, 'a URL or path string');
    if (uri === undefined) problems.push(`${file}: ${where} needs a uri`);
    if (topics.length + compliance.length === 0) problems.push(`${file}: ${where} needs topics or compliance_topics`);
    const name = field(entry.name, `${where} name`, isString, 'a non-empty string');
    if (uri !== undefined) read.webhookSubscriptions.push({ topics, complianceTopics: compliance, uri, name });
  }
  return read;
}
