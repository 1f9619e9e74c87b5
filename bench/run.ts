/**
 * `npm run bench`: every benchmark side by side with the peer, printing ratios as Markdown that
 * can be pasted into bench/RESULTS.md. `npm run bench <name> [<name> …]` runs only those (`stores`,
 * `contention`, `keeper-postgres`, …). The store benchmarks need PostgreSQL, MariaDB and Redis on this machine
 * (see bench/services.ts); a store whose server is down is skipped with a printed line.
 */
import { readFile } from 'node:fs/promises';
import { contentionBench } from './contention.bench.ts';
import { hmacBench } from './hmac.bench.ts';
import { installBench } from './install.bench.ts';
import { keeperBench } from './keeper.bench.ts';
import { keeperPostgresBench } from './keeper-postgres.bench.ts';
import { refreshBench } from './refresh.bench.ts';
import { storesBench } from './stores.bench.ts';
import { vaultBench } from './vault.bench.ts';
import { webhookBench } from './webhook.bench.ts';
import { webhookHttpBench } from './webhook-http.bench.ts';

const only = process.argv.slice(2);
const benches: Record<string, () => Promise<{ lines: string[] }>> = {
  hmac: hmacBench,
  install: installBench,
  vault: vaultBench,
  refresh: refreshBench,
  keeper: keeperBench,
  stores: () => storesBench(),
  contention: () => contentionBench(),
  'keeper-postgres': keeperPostgresBench,
  webhook: webhookBench,
  'webhook-http': webhookHttpBench,
};

const unknown = only.filter((name) => !(name in benches));
if (unknown.length > 0) {
  console.error(`no benchmark named ${unknown.join(', ')}; one of: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}

const load = await readFile('/proc/loadavg', 'utf8').then(
  (text) => `, load average ${text.split(' ').slice(0, 3).join(' ')} at start`,
  () => '',
);
console.log(
  `## ${new Date().toISOString().slice(0, 10)} — Node ${process.version}, ${process.platform}/${process.arch}${load}\n`,
);
for (const [name, bench] of Object.entries(benches)) {
  if (only.length > 0 && !only.includes(name)) continue;
  const { lines } = await bench();
  console.log(`${lines.join('\n')}\n`);
}

const loadAtEnd = await readFile('/proc/loadavg', 'utf8').then(
  (text) => text.split(' ').slice(0, 3).join(' '),
  () => null,
);
if (loadAtEnd) console.log(`_Load average at the end: ${loadAtEnd}._`);
