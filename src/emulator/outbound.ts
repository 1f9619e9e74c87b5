/**
 * Requests the emulator sends to apps — webhook deliveries and fulfillment-service callbacks —
 * with Shopify's rules for the outcome (reference §6.3): one total timeout covering connection,
 * headers and body; redirects are not followed; only a 2xx answer succeeds.
 */

/** How one request to an app ended. */
export type OutboundOutcome = 'ok' | 'http-error' | 'timeout' | 'network-error';

/** The app's answer, as far as it came. */
export interface OutboundResult {
  /** The HTTP status answered; `null` after a timeout or a network error. */
  status: number | null;
  /** `ok`: a 2xx answer; `http-error`: any other status, 3xx included. */
  outcome: OutboundOutcome;
  /** The answer's body as text (`null` without an answer); at most {@link MAX_ANSWER_BYTES} kept. */
  body: string | null;
}

/** The fetch the emulator reaches apps with. */
export type AppFetch = (url: string, init: RequestInit) => Promise<Response>;

/** What one request sends. */
export interface OutboundRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: Uint8Array<ArrayBuffer>;
}

/** Largest answer body kept; the rest is discarded. */
export const MAX_ANSWER_BYTES = 1024 * 1024;

/** The body, read up to {@link MAX_ANSWER_BYTES}. */
async function boundedText(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    size += next.value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      void reader.cancel().catch(() => undefined);
      break;
    }
    chunks.push(next.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Sends `request` with `fetcher`, allowing `timeoutMs` for the whole exchange. Never throws: a
 * refused connection or a broken answer is a `network-error`, a slow one a `timeout`.
 *
 * @example
 * const result = await sendToApp(fetch, { method: 'POST', url, headers, body }, 5000);
 * if (result.outcome !== 'ok') scheduleRetry();
 */
export async function sendToApp(
  fetcher: AppFetch,
  request: OutboundRequest,
  timeoutMs: number,
): Promise<OutboundResult> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve('timeout');
    }, timeoutMs);
  });
  const exchange = (async () => {
    const response = await fetcher(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'manual',
      signal: controller.signal,
    });
    return { status: response.status, body: await boundedText(response) };
  })();
  // A fetch that ignores the signal may settle after the timeout: its outcome no longer matters.
  exchange.catch(() => undefined);
  try {
    const answer = await Promise.race([exchange, timedOut]);
    if (answer === 'timeout') return { status: null, outcome: 'timeout', body: null };
    const ok = answer.status >= 200 && answer.status < 300;
    return { status: answer.status, outcome: ok ? 'ok' : 'http-error', body: answer.body };
  } catch {
    return { status: null, outcome: controller.signal.aborted ? 'timeout' : 'network-error', body: null };
  } finally {
    clearTimeout(timer);
  }
}
