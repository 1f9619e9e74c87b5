/**
 * The vault's one Shopify base URL (`https://{shop}`, or the emulator's): given once, as
 * `shopifyBaseUrl`, `shopify.baseUrl` or `admin.shopifyBaseUrl`; given twice, the values must agree,
 * so no part of the vault can reach another Shopify than the rest.
 */

import { checkBaseUrlTemplate, DEFAULT_SHOPIFY_BASE_URL } from '../protocol/shop.ts';

/** Where the base URL may be given. */
export interface BaseUrlSettings {
  shopifyBaseUrl?: string | undefined;
  shopify?: { baseUrl?: string | undefined } | undefined;
  admin?: { shopifyBaseUrl?: string | undefined } | undefined;
}

/**
 * The base URL (the first given, else `https://{shop}`) and whether one was given; pushes a problem
 * when they disagree or the template is bad (a bad `shopify.baseUrl` is reported by the Shopify checks).
 */
export function resolveBaseUrl(
  settings: BaseUrlSettings | undefined,
  problems: string[],
): { url: string; given: boolean } {
  const given: [string, unknown][] = [
    ['shopifyBaseUrl', settings?.shopifyBaseUrl],
    ['shopify.baseUrl', settings?.shopify?.baseUrl],
    ['admin.shopifyBaseUrl', settings?.admin?.shopifyBaseUrl],
  ];
  const set = given.filter(([, value]) => value !== undefined);
  const [first] = set;
  if (!first) return { url: DEFAULT_SHOPIFY_BASE_URL, given: false };
  const problem = typeof first[1] === 'string' ? checkBaseUrlTemplate(first[1]) : 'must be a string';
  if (problem) {
    if (first[0] !== 'shopify.baseUrl') problems.push(`${first[0]} ${problem}`);
    return { url: DEFAULT_SHOPIFY_BASE_URL, given: true };
  }
  for (const [name, value] of set.slice(1)) {
    if (value !== first[1]) problems.push(`${name} and ${first[0]} name different Shopify base URLs: give one`);
  }
  return { url: first[1] as string, given: true };
}
