/**
 * The emulated Admin API: `POST /{shop}/admin/api/{version}/graphql.json` and
 * `GET /{shop}/admin/oauth/access_scopes.json`, both authenticated by `X-Shopify-Access-Token`.
 */

import { type DocumentNode, execute, GraphQLError, Kind, parse, validate, visit } from 'graphql';
import { adminRoot, adminSchema, listedScopes } from './admin-schema.ts';
import { json, readBody } from './http.ts';
import type { EmulatorState, TokenRecord } from './state.ts';
import type { ThrottleStatus } from './throttle.ts';

/** Shopify's answer to an unknown, revoked or expired token (reference §7.1, observed). */
const UNAUTHORIZED = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' };

// §7.2: the status of a throttled GraphQL answer is UNCONFIRMED (200 vs 429). Shopify's GraphQL
// errors travel in a 200 body and its libraries detect THROTTLED from the body, so 200 it is.
const THROTTLED = {
  message: 'Throttled',
  extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' },
};

/** `YYYY-MM` (a quarter's month or not; Shopify falls forward) or `unstable`. */
export function isApiVersion(version: string): boolean {
  return version === 'unstable' || /^\d{4}-(0[1-9]|1[0-2])$/.test(version);
}

/** The live token of the request for this shop, or `undefined`. */
function authenticate(state: EmulatorState, request: Request, domain: string): TokenRecord | undefined {
  const value = request.headers.get('x-shopify-access-token');
  const record = value ? state.token(value) : undefined;
  return record?.shop === domain ? record : undefined;
}

/** A simple cost: 10 per mutation (reference §7.2), 1 per object field, plus `first` for connections. */
function queryCost(document: DocumentNode, variables: Record<string, unknown>): number {
  let cost = 0;
  visit(document, {
    OperationDefinition(node) {
      if (node.operation === 'mutation') cost += 10;
    },
    Field(node) {
      if (!node.selectionSet) return;
      cost += 1;
      const first = node.arguments?.find((arg) => arg.name.value === 'first')?.value;
      if (first?.kind === Kind.INT) cost += Number(first.value);
      if (first?.kind === Kind.VARIABLE) {
        const value = variables[first.name.value];
        if (typeof value === 'number') cost += value;
      }
    },
  });
  return cost;
}

function costExtension(requested: number, actual: number | null, throttleStatus: ThrottleStatus) {
  return { cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus } };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `POST /{shop}/admin/api/{version}/graphql.json` */
export async function graphqlEndpoint(state: EmulatorState, request: Request, domain: string): Promise<Response> {
  const token = authenticate(state, request, domain);
  if (!token) return json(UNAUTHORIZED, 401);
  const peek = () => state.throttle.peek(domain, token.clientId);
  const raw = await readBody(request);
  if (raw === null) return json({ errors: 'Request body too large' }, 413);
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return json({ errors: 'The request body is not JSON' }, 400);
  }
  if (!isRecord(body) || typeof body.query !== 'string') {
    return json({ errors: { query: 'Required parameter missing or invalid' } }, 400);
  }
  const variables = isRecord(body.variables) ? body.variables : {};
  let document: DocumentNode;
  try {
    document = parse(body.query);
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    return json({ errors: [error.toJSON()], extensions: costExtension(0, null, peek()) });
  }
  const cost = queryCost(document, variables);
  const invalid = validate(adminSchema, document);
  if (invalid.length > 0) {
    return json({ errors: invalid.map((e) => e.toJSON()), extensions: costExtension(cost, null, peek()) });
  }
  const bucket = state.throttle.take(domain, token.clientId, cost);
  if (!bucket.ok) return json({ errors: [THROTTLED], extensions: costExtension(cost, null, bucket.status) });
  const result = await execute({
    schema: adminSchema,
    document,
    rootValue: adminRoot,
    contextValue: { shop: state.shop(domain), clientId: token.clientId, scopes: token.effectiveScopes, state },
    variableValues: variables,
    operationName: typeof body.operationName === 'string' ? body.operationName : null,
  });
  return json({
    ...(result.errors ? { errors: result.errors.map((e) => e.toJSON()) } : {}),
    data: result.data ?? null,
    extensions: costExtension(cost, cost, bucket.status),
  });
}

/** `GET /{shop}/admin/oauth/access_scopes.json` */
export function accessScopesEndpoint(state: EmulatorState, request: Request, domain: string): Response {
  const token = authenticate(state, request, domain);
  if (!token) return json(UNAUTHORIZED, 401);
  return json({ access_scopes: listedScopes(token.effectiveScopes).map((handle) => ({ handle })) });
}
