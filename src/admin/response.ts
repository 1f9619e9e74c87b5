/**
 * Checking an Admin GraphQL answer (shopify-protocol §7): a 401 (the token is refused), a GraphQL
 * result with its `extensions.cost`, or something else (an error). Pure apart from reading the body;
 * the sending half lives in `admin.ts`.
 */

import { UnexpectedResponseError } from '../errors.ts';

/** One GraphQL error as Shopify sends it; `extensions.code` is e.g. `ACCESS_DENIED` or `THROTTLED`. */
export interface AdminGraphQLError {
  message: string;
  locations?: { line: number; column: number }[];
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

/** The bucket state Shopify reports with every answer. */
export interface AdminThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

/** `extensions.cost`: what the query was charged and what is left in the bucket. */
export interface AdminQueryCost {
  requestedQueryCost: number;
  /** `null` when the query did not run (throttled or invalid). */
  actualQueryCost: number | null;
  throttleStatus: AdminThrottleStatus;
}

/** A GraphQL result: `errors` is empty when there were none; `extensions.cost` when Shopify sent it. */
export interface AdminResult<T = Record<string, unknown>> {
  data: T | null;
  errors: AdminGraphQLError[];
  extensions: { cost?: AdminQueryCost; [key: string]: unknown };
}

/** The shortest wait before retrying a throttled query, so a retry never spins. */
export const MIN_THROTTLE_WAIT_MS = 50;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function isCost(value: unknown): value is AdminQueryCost {
  if (!isRecord(value) || !isRecord(value.throttleStatus)) return false;
  const status = value.throttleStatus;
  return (
    isNumber(value.requestedQueryCost) &&
    (value.actualQueryCost === null || isNumber(value.actualQueryCost)) &&
    isNumber(status.maximumAvailable) &&
    isNumber(status.currentlyAvailable) &&
    isNumber(status.restoreRate)
  );
}

const isGraphQLError = (value: unknown): value is AdminGraphQLError =>
  isRecord(value) && typeof value.message === 'string';

/** The result in `body`, or `null` when it is not a GraphQL result. */
function toResult<T>(body: unknown): AdminResult<T> | null {
  if (!isRecord(body) || !('data' in body || 'errors' in body)) return null;
  const errors = body.errors ?? [];
  if (!Array.isArray(errors) || !errors.every(isGraphQLError)) return null;
  const extensions = isRecord(body.extensions) ? { ...body.extensions } : {};
  if (!isCost(extensions.cost)) delete extensions.cost;
  const data = isRecord(body.data) ? (body.data as T) : null;
  return { data, errors, extensions: extensions as AdminResult<T>['extensions'] };
}

/**
 * `'unauthorized'` for a 401 (the token is unknown, revoked or expired at Shopify), else the
 * GraphQL result. Throws an {@link UnexpectedResponseError} (retryable for 429 and 5xx) for any
 * other answer; its message holds the status only, never the body.
 *
 * @example
 * const answer = await processAdminResponse(await client.fetch('{ shop { name } }'));
 */
export async function processAdminResponse<T>(response: Response): Promise<AdminResult<T> | 'unauthorized'> {
  const text = await response.text();
  if (response.status === 401) return 'unauthorized';
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  // §7.2: a throttled answer's status is UNCONFIRMED (200 or 429). The safe reading: a 429 that
  // carries a GraphQL body is read like a 200, so its THROTTLED error and cost are waited out.
  const result = response.status === 200 || response.status === 429 ? toResult<T>(body) : null;
  if (result) return result;
  throw new UnexpectedResponseError(
    response.status,
    `the Admin API answered HTTP ${response.status} without a GraphQL result`,
  );
}

/**
 * For a `THROTTLED` result: how long to wait (ms) until the bucket holds the requested cost again,
 * `(requestedQueryCost − currentlyAvailable) / restoreRate` seconds, at least
 * {@link MIN_THROTTLE_WAIT_MS}. `null` when the result is not throttled, carries no usable cost, or
 * asks for more than the bucket can ever hold (waiting would not help).
 *
 * @example
 * const waitMs = throttleWaitMs(result); // 2000 for requested 7, available 3, restoreRate 2
 */
export function throttleWaitMs(result: AdminResult<unknown>): number | null {
  if (!result.errors.some((error) => error.extensions?.code === 'THROTTLED')) return null;
  const cost = result.extensions.cost;
  if (!cost) return null;
  const { requestedQueryCost, throttleStatus } = cost;
  const { maximumAvailable, currentlyAvailable, restoreRate } = throttleStatus;
  if (!(restoreRate > 0) || requestedQueryCost > maximumAvailable) return null;
  return Math.max(MIN_THROTTLE_WAIT_MS, ((requestedQueryCost - currentlyAvailable) / restoreRate) * 1000);
}
