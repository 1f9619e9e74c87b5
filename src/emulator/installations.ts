/**
 * Installing an app without the OAuth pages — a shop seed's `installedApps`, `emulator.install`
 * and `POST /_emulator/install` — and the input checks the controls share. Shopify's own
 * counterparts are Shopify-managed installation (the scopes come from the app's configuration,
 * reference §1.2, §10.1) and installing an app of the organization on its own store from the Dev
 * Dashboard (the prerequisite of client credentials, §4).
 */

import { ConfigError } from '../errors.ts';
import { normalizeShop } from '../protocol/shop.ts';
import { SCOPE_HANDLE } from './options.ts';
import type { EmulatorState } from './state.ts';

/** A checked install: a canonical shop, a registered app and scope handles. */
export interface InstallRequest {
  shop: string;
  clientId: string;
  scopes: string[];
}

/** The input of an install, from a method call or a control endpoint's JSON body. */
export interface InstallInput {
  shop: unknown;
  clientId: unknown;
  scopes?: unknown;
}

/** Every problem of a control's target, quoted by field name. */
export function targetProblems(state: EmulatorState, shop: unknown, clientId: unknown): string[] {
  return [
    ...(normalizeShop(shop) === null ? ['shop must be a {name}.myshopify.com domain'] : []),
    ...(typeof clientId === 'string' && state.apps.has(clientId)
      ? []
      : ['clientId must be the client id of a registered app']),
  ];
}

/** The canonical shop, or a {@link ConfigError} listing what is wrong with the target. */
export function checkTarget(state: EmulatorState, shop: unknown, clientId: unknown): string {
  const problems = targetProblems(state, shop, clientId);
  if (problems.length > 0) throw new ConfigError(problems);
  return normalizeShop(shop)!;
}

/** One problem per field of `body` that is not in `known`. */
export function unknownFields(body: Record<string, unknown>, known: readonly string[]): string[] {
  return Object.keys(body)
    .filter((key) => !known.includes(key))
    .map((key) => `unknown field ${key}`);
}

/**
 * Checks an install; `scopes` absent means the app's configured scopes. Returns the request, or
 * every problem.
 */
export function checkInstall(state: EmulatorState, input: InstallInput): InstallRequest | string[] {
  const problems = targetProblems(state, input.shop, input.clientId);
  const { scopes } = input;
  if (
    scopes !== undefined &&
    !(Array.isArray(scopes) && scopes.every((scope) => typeof scope === 'string' && SCOPE_HANDLE.test(scope)))
  ) {
    problems.push('scopes must be an array of scope handles such as read_products');
  }
  if (problems.length > 0) return problems;
  const clientId = input.clientId as string;
  return {
    shop: normalizeShop(input.shop)!,
    clientId,
    scopes: (scopes as string[] | undefined) ?? state.apps.get(clientId)!.scopes,
  };
}

/** Installs as checked; returns the installation's scopes (what it had, plus `scopes`). */
export function installApp(state: EmulatorState, request: InstallRequest): string[] {
  return state.install(state.shop(request.shop), request.clientId, request.scopes);
}
