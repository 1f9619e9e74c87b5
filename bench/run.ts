/**
 * `npm run bench`: every benchmark side by side with the peer, printing ratios as Markdown that
 * can be pasted into bench/RESULTS.md.
 */
import { hmacBench } from './hmac.bench.ts';
import { installBench } from './install.bench.ts';
import { keeperBench } from './keeper.bench.ts';
import { refreshBench } from './refresh.bench.ts';
import { vaultBench } from './vault.bench.ts';

const only = process.argv[2];
const benches: Record<string, () => Promise<{ lines: string[] }>> = {
  hmac: hmacBench,
  install: installBench,
  vault: vaultBench,
  refresh: refreshBench,
  keeper: keeperBench,
};

console.log(
  `## ${new Date().toISOString().slice(0, 10)} — Node ${process.version}, ${process.platform}/${process.arch}\n`,
);
for (const [name, bench] of Object.entries(benches)) {
  if (only && only !== name) continue;
  const { lines } = await bench();
  console.log(`${lines.join('\n')}\n`);
}
