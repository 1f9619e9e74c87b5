/**
 * The emulator's own endpoints under `/_emulator/`: what happened (grants, requests, shops) and
 * test controls (clock, revocation, faults). POST bodies must be JSON (`Content-Type:
 * application/json`), which a cross-site form cannot send.
 */

import type { Context, Hono } from 'hono';
import { ConfigError } from '../errors.ts';
import { isShopDomain, normalizeShop } from '../protocol/shop.ts';
import type { ClockOwnership, EmulatorClock } from './clock.ts';
import type { FaultRule, FaultTable } from './faults.ts';
import { json, mediaType, readBody } from './http.ts';
import type { RequestLog } from './request-log.ts';
import type { EmulatorState } from './state.ts';
import type { EmulatorShopView } from './types.ts';

/** What the control endpoints act on. */
export interface Controls {
  state: EmulatorState;
  clock: EmulatorClock & { ownership: ClockOwnership };
  faults: FaultTable;
  log: RequestLog;
  view(domain: string): EmulatorShopView;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The JSON object of the request, or a 400/413 answer. */
async function jsonObject(c: Context): Promise<Record<string, unknown> | Response> {
  if (mediaType(c.req.raw) !== 'application/json') return json({ error: 'Content-Type must be application/json' }, 415);
  const raw = await readBody(c.req.raw);
  if (raw === null) return json({ error: 'The request body is too large' }, 413);
  try {
    const body: unknown = JSON.parse(raw);
    if (isRecord(body)) return body;
  } catch {
    // Falls through to the error below.
  }
  return json({ error: 'The request body must be a JSON object' }, 400);
}

/** `{"advanceSeconds": N}` or `{"setMs": N}` → `{"now": ms}`. */
async function moveClock(c: Context, { clock }: Controls): Promise<Response> {
  const body = await jsonObject(c);
  if (body instanceof Response) return body;
  if (clock.ownership === 'injected') {
    return json({ error: 'The emulator was given options.now: its caller owns time' }, 409);
  }
  const keys = Object.keys(body);
  const { advanceSeconds, setMs } = body;
  if (
    keys.length === 1 &&
    typeof advanceSeconds === 'number' &&
    Number.isFinite(advanceSeconds) &&
    advanceSeconds >= 0
  ) {
    return json({ now: clock.advance(advanceSeconds * 1000) });
  }
  if (keys.length === 1 && typeof setMs === 'number' && Number.isSafeInteger(setMs) && setMs >= 0) {
    return json({ now: clock.set(setMs) });
  }
  return json({ error: 'Send exactly one of advanceSeconds (a number >= 0) or setMs (ms since epoch)' }, 400);
}

async function revoke(c: Context, { state }: Controls): Promise<Response> {
  const body = await jsonObject(c);
  if (body instanceof Response) return body;
  const shop = typeof body.shop === 'string' ? normalizeShop(body.shop) : null;
  const clientId = typeof body.clientId === 'string' && state.apps.has(body.clientId) ? body.clientId : null;
  if (shop === null || clientId === null) {
    return json({ error: 'Send {"shop": "{name}.myshopify.com", "clientId": "<a registered app>"}' }, 400);
  }
  state.expiring.revoke(shop, clientId);
  return json({ revoked: { shop, clientId } });
}

async function addFault(c: Context, { faults }: Controls): Promise<Response> {
  const body = await jsonObject(c);
  if (body instanceof Response) return body;
  try {
    return json({ id: faults.add(body as unknown as FaultRule) });
  } catch (error) {
    if (error instanceof ConfigError) return json({ error: 'invalid fault rule', problems: error.problems }, 400);
    throw error;
  }
}

/** Mounts the `/_emulator/*` routes on `app`. */
export function mountControls(app: Hono, controls: Controls): void {
  const { state, log, faults } = controls;
  app.get('/_emulator/grants', () => json(state.grants()));
  app.get('/_emulator/requests', () => json(log.entries()));
  app.get('/_emulator/shops/:shop', (c) => {
    const domain = c.req.param('shop');
    return isShopDomain(domain) ? json(controls.view(domain)) : c.text('Not Found', 404);
  });
  app.post('/_emulator/clock', (c) => moveClock(c, controls));
  app.post('/_emulator/revoke', (c) => revoke(c, controls));
  app.post('/_emulator/faults', (c) => addFault(c, controls));
  app.delete('/_emulator/faults', () => {
    faults.clear();
    return json({ cleared: true });
  });
}
