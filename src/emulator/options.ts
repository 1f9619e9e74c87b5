/**
 * Checks {@link EmulatorOptions} when the emulator is built, reporting every problem at once.
 */

import { ConfigError } from '../errors.ts';
import { normalizeShop } from '../protocol/shop.ts';
import type { EmulatorAppConfig, EmulatorOptions, EmulatorShopSeed, EmulatorThrottle } from './types.ts';
import { type CheckedWebhooks, checkedWebhooks, checkWebhooksConfig } from './webhook-config.ts';

/** A scope handle as the authorize endpoint accepts it. */
export const SCOPE_HANDLE = /^(unauthenticated_)?(read|write)_[a-z_]+$/;

/** An app after checking: every field present. */
export type CheckedApp = Required<Omit<EmulatorAppConfig, 'webhooks'>> & { webhooks: CheckedWebhooks };

/** Options after checking, with defaults filled in. */
export interface CheckedOptions {
  apps: CheckedApp[];
  shops: EmulatorShopSeed[];
  /** The caller's clock, when it owns time. */
  now: (() => number) | undefined;
  codeTtlSeconds: number;
  throttle: EmulatorThrottle;
  appTimeoutMs: number;
  appFetch: NonNullable<EmulatorOptions['appFetch']>;
}

const isScopeList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((scope) => typeof scope === 'string' && SCOPE_HANDLE.test(scope));

const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

function checkApp(app: EmulatorAppConfig, where: string, problems: string[]): void {
  if (typeof app !== 'object' || app === null) {
    problems.push(`${where} must be an object`);
    return;
  }
  if (!isNonEmptyString(app.clientId)) problems.push(`${where}.clientId must be a non-empty string`);
  if (!isNonEmptyString(app.clientSecret)) problems.push(`${where}.clientSecret must be a non-empty string`);
  if (app.name !== undefined && !isNonEmptyString(app.name)) problems.push(`${where}.name must be a non-empty string`);
  if (app.scopes !== undefined && !isScopeList(app.scopes)) {
    problems.push(`${where}.scopes must be an array of scope handles such as read_products`);
  }
  checkWebhooksConfig(app.webhooks, `${where}.webhooks`, problems);
  if (!Array.isArray(app.redirectUrls) || app.redirectUrls.length === 0) {
    problems.push(`${where}.redirectUrls must be a non-empty array of http(s) URLs`);
    return;
  }
  app.redirectUrls.forEach((url, i) => {
    if (!URL.canParse(String(url)) || !/^https?:$/.test(new URL(String(url)).protocol)) {
      problems.push(`${where}.redirectUrls[${i}] must be an absolute http(s) URL`);
    }
  });
}

function checkShop(shop: EmulatorShopSeed, where: string, appIds: ReadonlySet<unknown>, problems: string[]): void {
  if (typeof shop !== 'object' || shop === null) {
    problems.push(`${where} must be an object`);
    return;
  }
  if (normalizeShop(shop.domain) !== shop.domain) {
    problems.push(`${where}.domain must be a lower-case {name}.myshopify.com domain`);
  }
  if (shop.name !== undefined && !isNonEmptyString(shop.name))
    problems.push(`${where}.name must be a non-empty string`);
  if (shop.email !== undefined && !isNonEmptyString(shop.email)) {
    problems.push(`${where}.email must be a non-empty string`);
  }
  const orgApps = shop.organizationClientIds;
  if (orgApps !== undefined && (!Array.isArray(orgApps) || !orgApps.every(isNonEmptyString))) {
    problems.push(`${where}.organizationClientIds must be an array of client ids`);
  }
  const installed = shop.installedApps;
  if (installed !== undefined && (!Array.isArray(installed) || !installed.every((id) => appIds.has(id)))) {
    problems.push(`${where}.installedApps must be an array of client ids of registered apps`);
  }
  if (shop.users === undefined) return;
  if (!Array.isArray(shop.users) || shop.users.length === 0) {
    problems.push(`${where}.users must be a non-empty array when given`);
    return;
  }
  const ids = new Set<string>();
  shop.users.forEach((user, i) => {
    const at = `${where}.users[${i}]`;
    if (typeof user !== 'object' || user === null) {
      problems.push(`${at} must be an object`);
      return;
    }
    for (const key of ['firstName', 'lastName', 'email'] as const) {
      if (!isNonEmptyString(user[key])) problems.push(`${at}.${key} must be a non-empty string`);
    }
    if (user.id !== undefined) {
      if (typeof user.id !== 'string' || !/^[1-9]\d*$/.test(user.id) || !Number.isSafeInteger(Number(user.id))) {
        problems.push(`${at}.id must be a positive integer (as a string) below 2^53`);
      } else if (ids.has(user.id)) {
        problems.push(`${at}.id repeats another user's id`);
      } else {
        ids.add(user.id);
      }
    }
    if (
      !Array.isArray(user.permissions) ||
      !user.permissions.every((p) => p === '*' || (typeof p === 'string' && SCOPE_HANDLE.test(p)))
    ) {
      problems.push(`${at}.permissions must be an array of scope handles or ['*']`);
    }
    if (user.locale !== undefined && !isNonEmptyString(user.locale)) problems.push(`${at}.locale must be a string`);
  });
}

/** Throws a {@link ConfigError} listing every problem in `options`. */
export function checkOptions(options: EmulatorOptions): CheckedOptions {
  const problems: string[] = [];
  if (typeof options !== 'object' || options === null) throw new ConfigError(['options must be an object']);
  if (!Array.isArray(options.apps) || options.apps.length === 0) {
    problems.push('apps must be a non-empty array');
  } else {
    options.apps.forEach((app, i) => {
      checkApp(app, `apps[${i}]`, problems);
    });
    const ids = options.apps.map((app) => app?.clientId);
    if (new Set(ids).size !== ids.length) problems.push('apps: every clientId must be unique');
  }
  if (options.shops !== undefined) {
    const appIds = new Set<unknown>(Array.isArray(options.apps) ? options.apps.map((app) => app?.clientId) : []);
    if (!Array.isArray(options.shops)) {
      problems.push('shops must be an array');
    } else {
      options.shops.forEach((shop, i) => {
        checkShop(shop, `shops[${i}]`, appIds, problems);
      });
      const domains = options.shops.map((shop) => shop?.domain);
      if (new Set(domains).size !== domains.length) problems.push('shops: every domain must be unique');
    }
  }
  if (options.now !== undefined && typeof options.now !== 'function') problems.push('now must be a function');
  const ttl = options.codeTtlSeconds;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0)) {
    problems.push('codeTtlSeconds must be a positive integer');
  }
  const throttle = options.throttle;
  if (throttle !== undefined) {
    if (typeof throttle !== 'object' || throttle === null) {
      problems.push('throttle must be an object { maximumAvailable, restoreRate }');
    } else {
      for (const key of ['maximumAvailable', 'restoreRate'] as const) {
        const value = throttle[key];
        if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
          problems.push(`throttle.${key} must be a positive number`);
        }
      }
    }
  }
  const timeout = options.appTimeoutMs;
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout <= 0 || timeout > 60_000)) {
    problems.push('appTimeoutMs must be an integer from 1 to 60000');
  }
  if (options.appFetch !== undefined && typeof options.appFetch !== 'function') {
    problems.push('appFetch must be a function');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    apps: options.apps.map((app) => ({
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      redirectUrls: [...app.redirectUrls],
      name: app.name ?? app.clientId,
      scopes: [...(app.scopes ?? [])],
      webhooks: checkedWebhooks(app.webhooks),
    })),
    shops: options.shops ?? [],
    now: options.now,
    codeTtlSeconds: ttl ?? 60,
    throttle: { maximumAvailable: throttle?.maximumAvailable ?? 2000, restoreRate: throttle?.restoreRate ?? 100 },
    appTimeoutMs: timeout ?? 5000,
    appFetch: options.appFetch ?? ((url, init) => fetch(url, init)),
  };
}
