/** processAdminResponse and throttleWaitMs without a network: each rejection separately. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MIN_THROTTLE_WAIT_MS, processAdminResponse, throttleWaitMs } from '../../src/admin/response.ts';
import { UnexpectedResponseError } from '../../src/errors.ts';

const COST = {
  requestedQueryCost: 7,
  actualQueryCost: null,
  throttleStatus: { maximumAvailable: 10, currentlyAvailable: 3, restoreRate: 2 },
};
const THROTTLED = { message: 'Throttled', extensions: { code: 'THROTTLED' } };

const answer = (body: unknown, status = 200) =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });

const rejectsWith = (status: number) => (error: unknown) =>
  error instanceof UnexpectedResponseError && error.status === status;

describe('processAdminResponse', () => {
  it('a 401 is "unauthorized", whatever the body', async () => {
    const body = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' };
    assert.equal(await processAdminResponse(answer(body, 401)), 'unauthorized');
  });

  it('a result: data, errors (empty when none) and the cost extension', async () => {
    const cost = { ...COST, actualQueryCost: 7 };
    const result = await processAdminResponse(answer({ data: { shop: { name: 'x' } }, extensions: { cost } }));
    assert.deepEqual(result, { data: { shop: { name: 'x' } }, errors: [], extensions: { cost } });
  });

  it('a throttled 429 with a GraphQL body is read like a 200 (§7.2 UNCONFIRMED)', async () => {
    const result = await processAdminResponse(answer({ errors: [THROTTLED], extensions: { cost: COST } }, 429));
    assert.notEqual(result, 'unauthorized');
    assert.deepEqual(result, { data: null, errors: [THROTTLED], extensions: { cost: COST } });
  });

  it('a malformed cost is dropped, other extensions kept', async () => {
    const result = await processAdminResponse(
      answer({ data: {}, extensions: { cost: { requestedQueryCost: 'x' }, a: 1 } }),
    );
    assert.deepEqual(result, { data: {}, errors: [], extensions: { a: 1 } });
  });

  it('throws for a 5xx (retryable)', async () => {
    await assert.rejects(
      processAdminResponse(answer({ errors: 'Service Unavailable' }, 503)),
      (error: unknown) => rejectsWith(503)(error) && (error as UnexpectedResponseError).retryable,
    );
  });

  it('throws for a 403 and a 400', async () => {
    await assert.rejects(processAdminResponse(answer({ errors: 'Forbidden' }, 403)), rejectsWith(403));
    await assert.rejects(processAdminResponse(answer({ errors: { query: 'missing' } }, 400)), rejectsWith(400));
  });

  it('throws for a 200 that is not JSON', async () => {
    await assert.rejects(processAdminResponse(answer('<html>', 200)), rejectsWith(200));
  });

  it('throws for a 200 without data or errors', async () => {
    await assert.rejects(processAdminResponse(answer({ hello: 1 })), rejectsWith(200));
  });

  it('throws for errors that are not GraphQL errors', async () => {
    await assert.rejects(processAdminResponse(answer({ errors: 'Not Found' })), rejectsWith(200));
    await assert.rejects(processAdminResponse(answer({ errors: [{ code: 1 }] })), rejectsWith(200));
  });

  it('a 429 without a GraphQL body is thrown, retryable', async () => {
    await assert.rejects(
      processAdminResponse(answer({ errors: 'Too Many Requests' }, 429)),
      (error: unknown) => rejectsWith(429)(error) && (error as UnexpectedResponseError).retryable,
    );
  });
});

describe('throttleWaitMs', () => {
  const throttled = (cost: unknown) => ({ data: null, errors: [THROTTLED], extensions: { cost } }) as never;

  it('(requested − available) / restoreRate seconds', () => {
    assert.equal(throttleWaitMs(throttled(COST)), 2000);
  });

  it('null when not throttled', () => {
    assert.equal(throttleWaitMs({ data: {}, errors: [], extensions: { cost: COST } }), null);
  });

  it('null without a cost, with a zero restore rate, or when the query can never fit', () => {
    assert.equal(throttleWaitMs({ data: null, errors: [THROTTLED], extensions: {} }), null);
    assert.equal(
      throttleWaitMs(throttled({ ...COST, throttleStatus: { ...COST.throttleStatus, restoreRate: 0 } })),
      null,
    );
    assert.equal(throttleWaitMs(throttled({ ...COST, requestedQueryCost: 11 })), null);
  });

  it('at least the minimum wait, so a retry never spins', () => {
    const full = { ...COST, throttleStatus: { ...COST.throttleStatus, currentlyAvailable: 7 } };
    assert.equal(throttleWaitMs(throttled(full)), MIN_THROTTLE_WAIT_MS);
  });
});
