/**
 * Fault injection per endpoint: answer a status instead of handling, wait first, drop the
 * connection unanswered, or handle the request (the grant takes effect) and then drop it.
 */

import { STATUS_CODES } from 'node:http';
import { ConfigError } from '../errors.ts';
import { normalizeShop } from '../protocol/shop.ts';
import { errorPage } from './html.ts';
import { json } from './http.ts';

/** The Shopify endpoints a fault can target. */
export type FaultEndpoint = 'token' | 'graphql' | 'authorize' | 'access_scopes';

/** One fault to inject; it applies to the next `times` matching requests. */
export interface FaultRule {
  endpoint: FaultEndpoint;
  /** Token endpoint only: the `grant_type` to match (`authorization_code` when a code is sent). */
  grantType?: string;
  /** Only requests for this shop. */
  shop?: string;
  /** How many matching requests it applies to; default 1. */
  times?: number;
  /** Answer this status (with a plausible body) instead of handling the request. */
  status?: number;
  /**
   * Token endpoint, with `status`: the OAuth `error` of the answer's body (`invalid_client`,
   * `shop_not_permitted`, …) instead of the default `invalid_request`.
   */
  error?: string;
  /** With `error`: the body's `error_description`. */
  errorDescription?: string;
  /**
   * Handle the request (the grant takes effect), then leave these top-level fields out of its JSON
   * answer — e.g. `['expires_in']` for the refresh answer shopify-app-js#3400 reports.
   */
  omitFields?: string[];
  /** Wait this long (a real timer) before the rest; keep it small in tests. */
  delayMs?: number;
  /** Drop the connection without an answer, without handling the request. */
  reset?: boolean;
  /** Handle the request (the grant takes effect), then drop the connection without the answer. */
  commitThenDrop?: boolean;
}

/** Adds and clears fault rules. */
export interface EmulatorFaults {
  /** Checks the rule (a {@link ConfigError} lists every problem) and returns its id. */
  add(rule: FaultRule): string;
  /** Removes every rule. */
  clear(): void;
}

/** What a request is, for matching rules and for the request log. */
export interface RequestTarget {
  endpoint: FaultEndpoint | 'logout' | 'other';
  shop: string | null;
  grantType: string | null;
}

/** `response` with the top-level `fields` left out of its JSON object body (other bodies unchanged). */
export async function withoutFields(response: Response, fields: readonly string[]): Promise<Response> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return new Response(text, { status: response.status, headers: response.headers });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return new Response(text, { status: response.status, headers: response.headers });
  }
  const kept = Object.fromEntries(Object.entries(body).filter(([key]) => !fields.includes(key)));
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  return new Response(JSON.stringify(kept), { status: response.status, headers });
}

/** A rule that matched, with its id. */
export type ActiveFault = FaultRule & { id: string };

const ENDPOINTS: readonly string[] = ['token', 'graphql', 'authorize', 'access_scopes'];
const MAX_DELAY_MS = 60_000;

/** Every problem of `rule`, quoted by field name. */
function problemsOf(rule: FaultRule): string[] {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) return ['a fault rule must be an object'];
  const problems: string[] = [];
  if (!ENDPOINTS.includes(rule.endpoint)) problems.push(`endpoint must be one of ${ENDPOINTS.join(', ')}`);
  if (rule.grantType !== undefined) {
    if (typeof rule.grantType !== 'string' || rule.grantType.length === 0 || rule.grantType.length > 200) {
      problems.push('grantType must be a non-empty string');
    } else if (rule.endpoint !== 'token') {
      problems.push('grantType applies to the token endpoint only');
    }
  }
  if (rule.shop !== undefined && normalizeShop(String(rule.shop)) === null) {
    problems.push('shop must be a {name}.myshopify.com domain');
  }
  if (rule.times !== undefined && (!Number.isSafeInteger(rule.times) || rule.times < 1)) {
    problems.push('times must be a positive integer');
  }
  if (rule.status !== undefined && (!Number.isInteger(rule.status) || rule.status < 400 || rule.status > 599)) {
    problems.push('status must be an integer from 400 to 599');
  }
  const delay = rule.delayMs;
  if (delay !== undefined && (!Number.isInteger(delay) || delay < 0 || delay > MAX_DELAY_MS)) {
    problems.push(`delayMs must be an integer from 0 to ${MAX_DELAY_MS}`);
  }
  for (const key of ['reset', 'commitThenDrop'] as const) {
    if (rule[key] !== undefined && typeof rule[key] !== 'boolean') problems.push(`${key} must be a boolean`);
  }
  for (const key of ['error', 'errorDescription'] as const) {
    const value = rule[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !/^[\x20-\x7e]{1,300}$/.test(value)) {
      problems.push(`${key} must be 1 to 300 printable ASCII characters`);
    } else if (rule.endpoint !== 'token' || rule.status === undefined || rule.status >= 500) {
      problems.push(`${key} applies to a 4xx status of the token endpoint only`);
    }
  }
  if (rule.errorDescription !== undefined && rule.error === undefined) problems.push('errorDescription needs error');
  const omit = rule.omitFields;
  if (omit !== undefined && (!Array.isArray(omit) || omit.length === 0 || !omit.every((f) => typeof f === 'string'))) {
    problems.push('omitFields must be a non-empty array of field names');
  }
  const outcomes = [
    rule.status !== undefined,
    rule.reset === true,
    rule.commitThenDrop === true,
    omit !== undefined,
  ].filter(Boolean);
  if (outcomes.length > 1) problems.push('choose at most one of status, reset, commitThenDrop and omitFields');
  if (outcomes.length === 0 && delay === undefined) {
    problems.push('a rule needs an effect: status, delayMs, reset, commitThenDrop or omitFields');
  }
  const known = [
    'endpoint',
    'grantType',
    'shop',
    'times',
    'status',
    'error',
    'errorDescription',
    'omitFields',
    'delayMs',
    'reset',
    'commitThenDrop',
  ];
  for (const key of Object.keys(rule)) if (!known.includes(key)) problems.push(`unknown field ${key}`);
  return problems;
}

/** The fault rules of one emulator, applied in the order they were added. */
export class FaultTable implements EmulatorFaults {
  readonly #rules: { rule: ActiveFault; remaining: number }[] = [];
  #nextId = 1;

  add(rule: FaultRule): string {
    const problems = problemsOf(rule);
    if (problems.length > 0) throw new ConfigError(problems);
    const id = `fault-${this.#nextId++}`;
    const shop = rule.shop === undefined ? {} : { shop: normalizeShop(rule.shop)! };
    this.#rules.push({ rule: { ...rule, ...shop, id }, remaining: rule.times ?? 1 });
    return id;
  }

  clear(): void {
    this.#rules.length = 0;
  }

  /** The first rule matching `target`, counted as used once; `undefined` when none does. */
  take(target: RequestTarget): ActiveFault | undefined {
    const index = this.#rules.findIndex(
      ({ rule }) =>
        rule.endpoint === target.endpoint &&
        (rule.shop === undefined || rule.shop === target.shop) &&
        (rule.grantType === undefined || rule.grantType === target.grantType),
    );
    const entry = this.#rules[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining === 0) this.#rules.splice(index, 1);
    return entry.rule;
  }
}

/**
 * A plausible answer with `status` from `endpoint`, in the shape that endpoint answers errors; a
 * token-endpoint 4xx carries `oauth.error` (default `invalid_request`) and its description.
 */
export function faultResponse(
  endpoint: RequestTarget['endpoint'],
  status: number,
  oauth: { error?: string | undefined; errorDescription?: string | undefined } = {},
): Response {
  const reason = STATUS_CODES[status] ?? 'Error';
  const headers: Record<string, string> = status === 429 ? { 'retry-after': '1' } : {};
  if (endpoint === 'authorize') return errorPage(status, reason);
  if (endpoint === 'token' && status >= 400 && status < 500) {
    const error = oauth.error ?? 'invalid_request';
    const description = oauth.errorDescription ?? (oauth.error === undefined ? reason : undefined);
    return json(description === undefined ? { error } : { error, error_description: description }, status, headers);
  }
  if (status === 401) {
    return json({ errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' }, 401);
  }
  return json({ errors: reason }, status, headers);
}
