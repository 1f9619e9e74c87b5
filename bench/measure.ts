/**
 * A small side-by-side harness: runs each contender in alternating rounds (so both see the same
 * machine state), and reports the median ops/s over the rounds.
 */

export interface Contender {
  name: string;
  /** One operation. May be async. */
  fn: () => unknown;
}

export interface Result {
  name: string;
  opsPerSecond: number;
  rounds: number[];
}

async function round(fn: () => unknown, ms: number): Promise<number> {
  let ops = 0;
  const start = performance.now();
  const end = start + ms;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 64; i++) {
      const r = fn();
      if (r instanceof Promise) await r;
    }
    ops += 64;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Measures every contender in alternating rounds of `roundMs`. */
export async function compare(
  contenders: Contender[],
  options: { rounds?: number; roundMs?: number } = {},
): Promise<Result[]> {
  const rounds = options.rounds ?? 7;
  const roundMs = options.roundMs ?? 400;
  for (const c of contenders) await round(c.fn, 150); // warm-up
  const samples = contenders.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, c] of contenders.entries()) samples[i]!.push(await round(c.fn, roundMs));
  }
  return contenders.map((c, i) => ({ name: c.name, opsPerSecond: median(samples[i]!), rounds: samples[i]! }));
}

export function formatOps(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(1)}k` : value.toFixed(1);
}

/** A contender's median ops/s over the rounds and the latency percentiles of every call it made. */
export interface TimedResult extends Result {
  /** Milliseconds per call at the 50th and 99th percentile, over every round. */
  p50Ms: number;
  p99Ms: number;
  calls: number;
}

/** The `p`-quantile (0–1) of `values` (sorted in place), nearest rank. */
export function percentile(values: number[] | Float64Array, p: number): number {
  if (values.length === 0) return Number.NaN;
  const index = Math.min(values.length - 1, Math.max(0, Math.ceil(p * values.length) - 1));
  return values[index]!;
}

/** Per-call latencies, kept in growing typed chunks so a million calls cost little to record. */
class Latencies {
  #chunks: Float64Array[] = [new Float64Array(65_536)];
  #used = 0;
  count = 0;
  push(ms: number): void {
    let last = this.#chunks.at(-1)!;
    if (this.#used === last.length) {
      last = new Float64Array(last.length * 2);
      this.#chunks.push(last);
      this.#used = 0;
    }
    last[this.#used++] = ms;
    this.count++;
  }
  sorted(): Float64Array {
    const all = new Float64Array(this.count);
    let at = 0;
    for (const [i, chunk] of this.#chunks.entries()) {
      const part = i === this.#chunks.length - 1 ? chunk.subarray(0, this.#used) : chunk;
      all.set(part, at);
      at += part.length;
    }
    return all.sort();
  }
}

/** One round of `concurrency` callers each calling `fn` back to back for `ms`; returns ops/s. */
async function timedRound(fn: () => unknown, ms: number, concurrency: number, into?: Latencies): Promise<number> {
  let ops = 0;
  const start = performance.now();
  const end = start + ms;
  const caller = async () => {
    for (let now = performance.now(); now < end; ) {
      const r = fn();
      if (r instanceof Promise) await r;
      const after = performance.now();
      into?.push(after - now);
      ops++;
      now = after;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return (ops * 1000) / (performance.now() - start);
}

/**
 * Like {@link compare}, with `concurrency` callers per contender (each awaiting its call before the
 * next) and every call timed: ops/s is the median over the alternating rounds, p50/p99 are over all
 * calls of all rounds.
 */
export async function compareTimed(
  contenders: Contender[],
  options: { rounds?: number; roundMs?: number; concurrency?: number } = {},
): Promise<TimedResult[]> {
  const rounds = options.rounds ?? 5;
  const roundMs = options.roundMs ?? 300;
  const concurrency = options.concurrency ?? 1;
  for (const c of contenders) await timedRound(c.fn, 150, concurrency); // warm-up
  const samples = contenders.map(() => [] as number[]);
  const latencies = contenders.map(() => new Latencies());
  for (let r = 0; r < rounds; r++) {
    for (const [i, c] of contenders.entries()) {
      samples[i]!.push(await timedRound(c.fn, roundMs, concurrency, latencies[i]));
    }
  }
  return contenders.map((c, i) => {
    const sorted = latencies[i]!.sorted();
    return {
      name: c.name,
      opsPerSecond: median(samples[i]!),
      rounds: samples[i]!,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      calls: sorted.length,
    };
  });
}

/** Milliseconds with the precision their size deserves (`0.004`, `0.41`, `12.3`). */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms < 0.1) return ms.toFixed(4);
  if (ms < 10) return ms.toFixed(2);
  return ms.toFixed(1);
}

/** Calls `fn` on every item with at most `concurrency` calls in flight (seeding; not timed). */
export async function forEachLimited<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
