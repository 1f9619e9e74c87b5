/**
 * The emulator's own endpoints under `/_emulator/`: what happened (grants, requests, shops) and
 * test controls (clock, revocation, install and uninstall, faults; webhooks and fulfillment in
 * control-webhooks.ts and control-fulfillment.ts). POST bodies must be JSON
 * (`Content-Type: application/json`), which a cross-site form cannot send. Bad input answers 400
 * `{"error", "problems": [every problem]}` and changes nothing.
 */

import type { Context, Hono } from 'hono';
import { ConfigError } from '../errors.ts';
import { isShopDomain, normalizeShop } from '../protocol/shop.ts';
import type { ClockOwnership, EmulatorClock } from './clock.ts';
import { mountFulfillmentControls } from './control-fulfillment.ts';
import { invalid, jsonObject } from './control-input.ts';
import { mountWebhookControls } from './control-webhooks.ts';
import type { FaultRule, FaultTable } from './faults.ts';
import { json } from './http.ts';
import { checkInstall, type InstallInput, installApp, targetProblems, unknownFields } from './installations.ts';
import type { RequestLog } from './request-log.ts';
import type { EmulatorState } from './state.ts';
import type { EmulatorShopView } from './types.ts';
import { uninstallApp } from './webhook-events.ts';

/** What the control endpoints act on. */
export interface Controls {
  state: EmulatorState;
  clock: EmulatorClock & { ownership: ClockOwnership };
  faults: FaultTable;
  log: RequestLog;
  view(domain: string): EmulatorShopView;
}

/** `{"advanceSeconds": N}` or `{"setMs": N}` → `{"now": ms}`, once the webhooks then due are sent. */
async function moveClock(c: Context, { clock, state }: Controls): Promise<Response> {
  const body = await jsonObject(c);
  if (body instanceof Response) return body;
  if (clock.ownership === 'injected') {
    return json({ error: 'The emulator was given options.now: its caller owns time' }, 409);
  }
  const { advanceSeconds, setMs } = body;
  const problems = unknownFields(body, ['advanceSeconds', 'setMs']);
  if (
    advanceSeconds !== undefined &&
    !(typeof advanceSeconds === 'number' && Number.isFinite(advanceSeconds) && advanceSeconds >= 0)
  ) {
    problems.push('advanceSeconds must be a number >= 0');
  }
  if (setMs !== undefined && !(typeof setMs === 'number' && Number.isSafeInteger(setMs) && setMs >= 0)) {
    problems.push('setMs must be an integer >= 0 (ms since epoch)');
  }
  if ((advanceSeconds === undefined) === (setMs === undefined))
    problems.push('send exactly one of advanceSeconds and setMs');
  if (problems.length > 0) return invalid('clock move', problems);
  const now = setMs === undefined ? clock.advance((advanceSeconds as number) * 1000) : clock.set(setMs as number);
  await state.webhooks.deliverDue();
  return json({ now });
}

/** `{"shop", "clientId"}` of a control that acts on one app's tokens on one shop. */
function target(state: EmulatorState, body: Record<string, unknown>, what: string): [string, string] | Response {
  const problems = [...targetProblems(state, body.shop, body.clientId), ...unknownFields(body, ['shop', 'clientId'])];
  if (problems.length > 0) return invalid(what, problems);
  return [normalizeShop(body.shop)!, body.clientId as string];
}

async function revoke(c: Context, { state }: Controls): Promise<Response> {
  const body = await jsonObject(c);
  if (body instanceof Response) return body;
  const checked = target(state, body, 'revoke');
  if (checked instanceof Response) return checked;
  const [shop, clientId] = checked;
  state.expiring.revoke(shop, clientId);
  return json({ revoked: { shop, clientId } });
}

/** `{"shop", "clientId", "scopes"?}` → `{"installed": {shop, clientId, scopes}}` (the installation's scopes). */
async function install(c: Context, { state }: Controls): Promise<Response> {
  const body = await jsonObject(c);
  if (body instanceof Response) return body;
  const request = checkInstall(state, body as unknown as InstallInput);
  const problems = [...(Array.isArray(request) ? request : []), ...unknownFields(body, ['shop', 'clientId', 'scopes'])];
  if (problems.length > 0 || Array.isArray(request)) return invalid('install', problems);
  const scopes = installApp(state, request);
  return json({ installed: { shop: request.shop, clientId: request.clientId, scopes } });
}

/** `{"shop", "clientId"}` → `{"uninstalled": {shop, clientId}, "webhookIds"}`, once `app/uninstalled` was attempted. */
async function uninstall(c: Context, { state }: Controls): Promise<Response> {
  const body = await jsonObject(c);
  if (body instanceof Response) return body;
  const checked = target(state, body, 'uninstall');
  if (checked instanceof Response) return checked;
  const [shop, clientId] = checked;
  const webhookIds = uninstallApp(state, shop, clientId);
  await state.webhooks.deliverDue(webhookIds);
  return json({ uninstalled: { shop, clientId }, webhookIds });
}

async function addFault(c: Context, { faults }: Controls): Promise<Response> {
  const body = await jsonObject(c);
  if (body instanceof Response) return body;
  try {
    return json({ id: faults.add(body as unknown as FaultRule) });
  } catch (error) {
    if (error instanceof ConfigError) return invalid('fault rule', error.problems);
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
  app.post('/_emulator/install', (c) => install(c, controls));
  app.post('/_emulator/uninstall', (c) => uninstall(c, controls));
  app.post('/_emulator/faults', (c) => addFault(c, controls));
  app.delete('/_emulator/faults', () => {
    faults.clear();
    return json({ cleared: true });
  });
  mountWebhookControls(app, controls);
  mountFulfillmentControls(app, controls);
}
