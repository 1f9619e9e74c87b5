/**
 * Reading the input of the `/_emulator/*` controls: a JSON object body (which a cross-site form
 * cannot send), and the 400 answer that lists every problem.
 */

import type { Context } from 'hono';
import { json, mediaType, readBody } from './http.ts';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The JSON object of the request, or a 400/413/415 answer. */
export async function jsonObject(c: Context): Promise<Record<string, unknown> | Response> {
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

/** A 400 answer listing every problem of a control's input. */
export const invalid = (what: string, problems: readonly string[]) => json({ error: `invalid ${what}`, problems }, 400);
