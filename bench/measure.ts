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
