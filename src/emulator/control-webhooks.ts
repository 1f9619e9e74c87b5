/**
 * The webhook controls: `GET /_emulator/webhooks` lists every delivery with its attempts;
 * `POST /_emulator/webhooks/trigger` `{"shop", "clientId", "topic", "payload", "headers"?}` answers
 * `{"webhookIds"}` once each first attempt has settled; `POST /_emulator/webhooks/redeliver`
 * `{"webhookId"}` sends a duplicate and answers `{"attempt"}`; `POST /_emulator/webhooks/deliver-due`
 * `{}` sends what is due on the emulator's clock and answers `{"pending"}`.
 */

import type { Hono } from 'hono';
import type { Controls } from './control.ts';
import { invalid, jsonObject } from './control-input.ts';
import { json } from './http.ts';
import { unknownFields } from './installations.ts';
import { checkTrigger, createDeliveries, type TriggerInput } from './webhook-events.ts';

/** Mounts the webhook controls on `app`. */
export function mountWebhookControls(app: Hono, { state }: Controls): void {
  app.get('/_emulator/webhooks', () => json(state.webhooks.records()));

  app.post('/_emulator/webhooks/trigger', async (c) => {
    const body = await jsonObject(c);
    if (body instanceof Response) return body;
    const request = checkTrigger(state, body as unknown as TriggerInput);
    const problems = [
      ...(Array.isArray(request) ? request : []),
      ...unknownFields(body, ['shop', 'clientId', 'topic', 'payload', 'headers']),
    ];
    if (problems.length > 0 || Array.isArray(request)) return invalid('webhook trigger', problems);
    const webhookIds = createDeliveries(state, request);
    await state.webhooks.deliverDue(webhookIds);
    return json({ webhookIds });
  });

  app.post('/_emulator/webhooks/redeliver', async (c) => {
    const body = await jsonObject(c);
    if (body instanceof Response) return body;
    const problems = unknownFields(body, ['webhookId']);
    const known = typeof body.webhookId === 'string' && state.webhooks.records().some((d) => d.id === body.webhookId);
    if (!known) problems.push('webhookId must be the id of a delivery');
    if (problems.length > 0) return invalid('redelivery', problems);
    return json({ attempt: await state.webhooks.redeliver(body.webhookId as string) });
  });

  app.post('/_emulator/webhooks/deliver-due', async (c) => {
    const body = await jsonObject(c);
    if (body instanceof Response) return body;
    const problems = unknownFields(body, []);
    if (problems.length > 0) return invalid('delivery run', problems);
    await state.webhooks.deliverDue();
    return json({ pending: state.webhooks.records().filter((delivery) => delivery.state === 'pending').length });
  });
}
