/**
 * Checks of what app code and the install flow hand the vault. Each check throws one TypeError
 * naming every problem, and never quotes a token value.
 */

import { isShopDomain } from '../protocol/shop.ts';
import type { OfflineTokenInput, OnlineTokenInput } from './types.ts';

const USER_ID = /^\d{1,20}$/;
const SCOPE = /^[^\s,]+$/;
/** An app id (a client id): printable, no whitespace, at most 255 characters; `''` for the single app. */
const APP = /^[\x21-\x7e]{0,255}$/;

const isDate = (value: unknown): value is Date => value instanceof Date && !Number.isNaN(value.getTime());
const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

function scopeProblem(name: string, scopes: unknown): string[] {
  const ok = Array.isArray(scopes) && scopes.every((scope) => typeof scope === 'string' && SCOPE.test(scope));
  return ok ? [] : [`${name} must be an array of scope handles`];
}

/** Throws one TypeError naming every problem with `what`; never includes token values. */
export function check(what: string, problems: string[]): void {
  if (problems.length > 0) throw new TypeError(`invalid ${what}: ${problems.join('; ')}`);
}

export function checkShop(shop: unknown): asserts shop is string {
  check('shop', isShopDomain(shop) ? [] : ['must be a canonical shop domain ({name}.myshopify.com, lower case)']);
}

export function checkUserId(userId: unknown): asserts userId is string {
  check('userId', typeof userId === 'string' && USER_ID.test(userId) ? [] : ['must be a string of digits']);
}

/** The problem with an app id, or null. */
export function appProblem(app: unknown): string | null {
  return typeof app === 'string' && APP.test(app) ? null : 'app must be a client id (printable, up to 255 characters)';
}

export function checkOfflineInput(input: OfflineTokenInput): void {
  const { shop, accessToken, expiresAt, refreshToken, refreshTokenExpiresAt } = input;
  check('offline token', [
    ...(isShopDomain(shop) ? [] : ['shop must be a canonical shop domain']),
    ...(isNonEmptyString(accessToken) ? [] : ['accessToken must be a non-empty string']),
    ...scopeProblem('scopes', input.scopes),
    ...(expiresAt === null || isDate(expiresAt) ? [] : ['expiresAt must be a Date or null']),
    ...(refreshToken === null || isNonEmptyString(refreshToken)
      ? []
      : ['refreshToken must be a non-empty string or null']),
    ...(refreshToken !== null && expiresAt === null
      ? ['refreshToken is only for expiring tokens (set expiresAt)']
      : []),
    ...(refreshTokenExpiresAt === null || (isDate(refreshTokenExpiresAt) && refreshToken !== null)
      ? []
      : ['refreshTokenExpiresAt must be a Date with a refreshToken, else null']),
    ...(input.authorizedAt == null || isDate(input.authorizedAt) ? [] : ['authorizedAt must be a Date or null']),
  ]);
}

export function checkOnlineInput(input: OnlineTokenInput): void {
  const { shop, accessToken, expiresAt, user } = input;
  check('online token', [
    ...(isShopDomain(shop) ? [] : ['shop must be a canonical shop domain']),
    ...(isNonEmptyString(accessToken) ? [] : ['accessToken must be a non-empty string']),
    ...scopeProblem('scopes', input.scopes),
    ...scopeProblem('associatedUserScopes', input.associatedUserScopes),
    ...(isDate(expiresAt) ? [] : ['expiresAt must be a Date']),
    ...(typeof user === 'object' && user !== null && typeof user.id === 'string' && USER_ID.test(user.id)
      ? []
      : ['user.id must be a string of digits']),
  ]);
}
