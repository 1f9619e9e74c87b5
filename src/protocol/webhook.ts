/**
 * Shopify's webhook deliveries (shopify-protocol §6): an HTTPS POST whose raw body is signed with
 * the app's client secret (base64 HMAC-SHA256), described by headers in one of two families —
 * `X-Shopify-*` (classic webhooks) and `shopify-*` (their replacement, Events). Pure: the caller
 * reads the body (bounded) and hands over its bytes; nothing here needs a token, so no state of a
 * shop's token can turn a delivery into a server error.
 *
 * Reading of the UNCONFIRMED parts (the safe one): both families are accepted and `shopify-*` is
 * preferred; when both carry an HMAC, both must verify; when both carry a field with different
 * values, the delivery is refused.
 */

import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { normalizeShop } from './shop.ts';

/** `shopify`: the `shopify-*` headers (preferred); `x-shopify`: the classic `X-Shopify-*` ones. */
export type WebhookHeaderFamily = 'shopify' | 'x-shopify';

/** When Shopify triggered the delivery (`Triggered-At`): the header as sent, and its instant. */
export interface TriggeredAt {
  /** The header value, unchanged (up to 9 fraction digits: compare `epochNs`, never a re-serialized Date). */
  raw: string;
  /** Milliseconds since the epoch, the fraction truncated. */
  epochMs: number;
  /** Nanoseconds since the epoch, exact. */
  epochNs: bigint;
}

/** A delivery whose signature verified and whose headers are well formed. */
export interface WebhookDelivery {
  /** The family the HMAC was taken from (`shopify` when both were sent). */
  family: WebhookHeaderFamily;
  /** The topic, lower case, e.g. `app/uninstalled`. */
  topic: string;
  /** The shop's canonical `{name}.myshopify.com` domain. */
  shop: string;
  /** Unique per delivery: the deduplication key. */
  webhookId: string;
  /** Shared by every delivery of one merchant action; `null` when not sent. */
  eventId: string | null;
  triggeredAt: TriggeredAt | null;
  /** The API version the payload was serialized with; `null` when not sent. */
  apiVersion: string | null;
  /** The subscription's name (`X-Shopify-Name`); `null` when not sent. */
  name: string | null;
  /** The parsed JSON body. */
  payload: unknown;
}

/** Why a delivery was refused, with the status to answer. Holds no header value and no secret. */
export interface WebhookRefusal {
  ok: false;
  /** 401 for a missing or wrong HMAC (Shopify requires it for compliance topics), 405, 413 or 400. */
  status: 400 | 401 | 405 | 413;
  reason: string;
}

export type WebhookCheck = { ok: true; delivery: WebhookDelivery } | WebhookRefusal;

/**
 * A request's headers: web `Headers`, or a record of lower-case names (Node's `req.headers`, where
 * a repeated header is a list).
 */
export type HeaderSource = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

/** The value of header `name` (lower case) in `headers`, a repeated one joined with `, `; undefined when absent. */
export function headerValue(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name];
  return value === undefined ? undefined : typeof value === 'string' ? value : value.join(', ');
}

/** What {@link verifyWebhook} needs from the request. */
export interface WebhookRequest {
  method: string;
  headers: HeaderSource;
  /** The raw body, exactly as received. */
  body: Uint8Array;
}

export interface VerifyWebhookOptions {
  /** Client secrets, current first (a secret being rotated out stays valid for up to an hour). */
  secrets: readonly string[];
  /** Largest body accepted, in bytes; 1 MiB by default. */
  maxBodyBytes?: number;
}

/** The default body limit: Shopify's payloads are well below it. */
export const WEBHOOK_MAX_BODY_BYTES = 1024 * 1024;

/** The headers of each family, by field. */
const HEADERS: Record<WebhookHeaderFamily, Record<Field | 'hmac', string>> = {
  shopify: {
    hmac: 'shopify-hmac-sha256',
    topic: 'shopify-topic',
    shop: 'shopify-shop-domain',
    webhookId: 'shopify-webhook-id',
    eventId: 'shopify-event-id',
    triggeredAt: 'shopify-triggered-at',
    apiVersion: 'shopify-api-version',
    name: 'shopify-name',
  },
  'x-shopify': {
    hmac: 'x-shopify-hmac-sha256',
    topic: 'x-shopify-topic',
    shop: 'x-shopify-shop-domain',
    webhookId: 'x-shopify-webhook-id',
    eventId: 'x-shopify-event-id',
    triggeredAt: 'x-shopify-triggered-at',
    apiVersion: 'x-shopify-api-version',
    name: 'x-shopify-name',
  },
};

type Field = 'topic' | 'shop' | 'webhookId' | 'eventId' | 'triggeredAt' | 'apiVersion' | 'name';
const FIELDS: readonly Field[] = ['topic', 'shop', 'webhookId', 'eventId', 'triggeredAt', 'apiVersion', 'name'];
/** Every header name read, lower case (as `Headers` yields them). */
const WANTED = new Set(Object.values(HEADERS).flatMap((family) => Object.values(family)));

/** 32 bytes in standard base64 with its padding. */
const BASE64_HMAC = /^[A-Za-z0-9+/]{43}=$/;
/** Segments of letters, digits, `_`, `-` and `.`, joined by `/` (`app/uninstalled`, `customers/data_request`). */
const TOPIC = /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+){0,3}$/;
/** An identifier Shopify generates (UUIDs today): visible ASCII, no spaces or commas. */
const IDENTIFIER = /^[\x21-\x2b\x2d-\x7e]{1,255}$/;
const API_VERSION = /^(?:\d{4}-\d{2}|unstable)$/;
/** Visible ASCII and spaces (a developer-chosen subscription name). */
const NAME = /^[\x20-\x7e]{1,255}$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

const daysIn = (year: number, month: number): number =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31;

/**
 * Parses an RFC 3339 date-time with 0 to 9 fraction digits (Shopify sends 9); null for anything
 * else, including impossible dates and leap seconds.
 *
 * @example
 * parseTriggeredAt('2026-05-11T15:06:59.110521905Z')?.epochNs; // 1778512019110521905n
 */
export function parseTriggeredAt(value: string): TriggeredAt | null {
  const match = RFC3339.exec(value);
  if (!match) return null;
  const [, y, mo, d, h, mi, s, fraction = '', zulu, sign, oh, om] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  // Date.UTC reads years 0–99 as 1900–1999: those go through setUTCFullYear.
  const utc =
    year >= 100
      ? Date.UTC(year, month - 1, day, hour, minute, second)
      : new Date(Date.UTC(2000, month - 1, day, hour, minute, second)).setUTCFullYear(year);
  let offsetMinutes = 0;
  if (!zulu) {
    const hours = Number(oh);
    const minutes = Number(om);
    if (hours > 23 || minutes > 59) return null;
    offsetMinutes = (sign === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  const epochSeconds = BigInt(utc / 1000 - offsetMinutes * 60);
  const epochNs = epochSeconds * 1_000_000_000n + BigInt(fraction.padEnd(9, '0'));
  return { raw: value, epochMs: Number(epochNs / 1_000_000n), epochNs };
}

/**
 * The base64 HMAC Shopify puts in `X-Shopify-Hmac-Sha256` (and `shopify-hmac-sha256`) for `body`.
 * Used by the emulator and tests.
 */
export function signWebhookBody(body: Uint8Array | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

/** Keys made from secrets, reused: building a key per HMAC costs a third of the HMAC. A few secrets per app. */
const HMAC_KEYS = new Map<string, KeyObject>();

function hmacKey(secret: string): KeyObject {
  let key = HMAC_KEYS.get(secret);
  if (!key) {
    if (HMAC_KEYS.size >= 64) HMAC_KEYS.clear();
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    HMAC_KEYS.set(secret, key);
  }
  return key;
}

/**
 * True when `hmac` (base64) is the HMAC-SHA256 of `body` under one of `secrets`; every secret is
 * tried, in constant time. Webhooks and fulfillment-service callbacks are signed this way.
 */
export function base64HmacMatches(hmac: string, body: Uint8Array | string, secrets: readonly string[]): boolean {
  if (!BASE64_HMAC.test(hmac)) return false;
  const given = Buffer.from(hmac, 'base64');
  let ok = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', hmacKey(secret)).update(body).digest();
    if (timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}

/** Strict UTF-8 (a body that is not UTF-8 is not JSON); decoding whole buffers keeps it stateless. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

const refuse = (status: WebhookRefusal['status'], reason: string): WebhookRefusal => ({ ok: false, status, reason });

/**
 * Checks a webhook delivery: method, body size, HMAC (401 when missing or wrong, under any of
 * `secrets`), then its headers and JSON body (400). Never throws for bad input; the refusal's
 * reason quotes no input.
 *
 * @example
 * const check = verifyWebhook({ method: request.method, headers: request.headers, body }, { secrets: [secret] });
 * if (!check.ok) return new Response(check.reason, { status: check.status });
 */
export function verifyWebhook(request: WebhookRequest, options: VerifyWebhookOptions): WebhookCheck {
  if (request.method !== 'POST') return refuse(405, 'webhooks are delivered with POST');
  const max = options.maxBodyBytes ?? WEBHOOK_MAX_BODY_BYTES;
  if (request.body.byteLength > max) return refuse(413, `the body is larger than ${max} bytes`);

  const sent = new Map<string, string>();
  const { headers } = request;
  if (headers instanceof Headers) {
    // One pass over the headers (a `get` per name re-validates the name each time).
    headers.forEach((value, name) => {
      if (WANTED.has(name)) sent.set(name, value);
    });
  } else {
    for (const name of WANTED) {
      const value = headerValue(headers, name);
      if (value !== undefined) sent.set(name, value);
    }
  }
  const hmacs: { family: WebhookHeaderFamily; value: string }[] = [];
  for (const family of ['shopify', 'x-shopify'] as const) {
    const value = sent.get(HEADERS[family].hmac);
    if (value !== undefined) hmacs.push({ family, value });
  }
  if (hmacs.length === 0) return refuse(401, 'the delivery carries no HMAC header');
  // Every HMAC sent must verify: a forged header of one family cannot ride on a valid one of the other.
  if (!hmacs.every(({ value }) => base64HmacMatches(value, request.body, options.secrets))) {
    return refuse(401, 'the HMAC does not match the body');
  }

  const values: Partial<Record<Field, string>> = {};
  for (const field of FIELDS) {
    const preferred = sent.get(HEADERS.shopify[field]);
    const classic = sent.get(HEADERS['x-shopify'][field]);
    if (preferred !== undefined && classic !== undefined && preferred !== classic) {
      return refuse(400, `the ${HEADERS.shopify[field]} and ${HEADERS['x-shopify'][field]} headers disagree`);
    }
    const value = preferred ?? classic;
    if (value !== undefined) values[field] = value;
  }

  if (values.topic === undefined || !TOPIC.test(values.topic) || values.topic.length > 128) {
    return refuse(400, 'the topic header is missing or malformed');
  }
  const shop = normalizeShop(values.shop);
  if (!shop || shop !== values.shop?.toLowerCase()) {
    return refuse(400, 'the shop domain header is missing or not a {name}.myshopify.com domain');
  }
  if (values.webhookId === undefined || !IDENTIFIER.test(values.webhookId)) {
    return refuse(400, 'the webhook id header is missing or malformed');
  }
  if (values.eventId !== undefined && !IDENTIFIER.test(values.eventId)) {
    return refuse(400, 'the event id header is malformed');
  }
  if (values.apiVersion !== undefined && !API_VERSION.test(values.apiVersion)) {
    return refuse(400, 'the API version header is malformed');
  }
  if (values.name !== undefined && !NAME.test(values.name)) return refuse(400, 'the name header is malformed');
  let triggeredAt: TriggeredAt | null = null;
  if (values.triggeredAt !== undefined) {
    triggeredAt = parseTriggeredAt(values.triggeredAt);
    if (!triggeredAt) return refuse(400, 'the triggered-at header is not an RFC 3339 date-time');
  }

  let payload: unknown;
  try {
    payload = JSON.parse(UTF8.decode(request.body));
  } catch {
    return refuse(400, 'the body is not JSON');
  }

  return {
    ok: true,
    delivery: {
      family: hmacs[0]!.family,
      topic: values.topic.toLowerCase(),
      shop,
      webhookId: values.webhookId,
      eventId: values.eventId ?? null,
      triggeredAt,
      apiVersion: values.apiVersion ?? null,
      name: values.name ?? null,
      payload,
    },
  };
}
