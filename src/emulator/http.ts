/**
 * Small HTTP helpers for the emulator's handlers: bounded body reading, JSON answers, the admin
 * session cookie.
 */

/** Largest request body the emulator reads. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Name of the emulator's admin-session cookie; distinct from the app's `__Host-shoptoken_*` cookies. */
export const SESSION_COOKIE = 'shoptoken_emulator_session';

/** Reads the body as text, or returns `null` when it is larger than {@link MAX_BODY_BYTES}. */
export async function readBody(request: Request): Promise<string | null> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) return null;
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    size += next.value.byteLength;
    if (size > MAX_BODY_BYTES) {
      // Not awaited: the body may be one branch of a tee (the request log reads a clone), whose
      // cancel settles only once the other branch is cancelled too.
      void reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(next.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The media type of the request, lower-case, without parameters. */
export function mediaType(request: Request): string {
  return (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** A JSON response. */
export function json(body: unknown, status = 200, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

/** The session id from the request's cookie, if any. */
export function sessionId(request: Request): string | undefined {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return /^[0-9a-f]{1,128}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/** `Set-Cookie` for the shop's admin session (`value` empty clears it). */
export function sessionCookie(shop: string, value: string): string {
  const expiry = value ? '' : '; Max-Age=0';
  return `${SESSION_COOKIE}=${value}; Path=/${shop}/; HttpOnly; SameSite=Lax${expiry}`;
}
