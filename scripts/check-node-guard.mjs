// Checks the Node version guard of the built package (dist/): on a Node older than 22.13 the bin
// prints one line and exits 1, and every export in package.json's `exports` throws one Error with
// that line, instead of `No such built-in module: node:sqlite` or a stack trace. Getting the guard's
// message also proves the rest of the module graph parses and links on that Node (linking happens
// before any module is evaluated). On the Node running this script, everything still loads.
//
// Old Nodes tried: 22.12.0 from the registry's `node` package (node:sqlite exists there, behind a
// flag), and the machine's own Node found on PATH outside node_modules (skipped, with the reason,
// when there is none or it is not older than 22.13). Run after `npm run build`.
// Plain JavaScript, like check-package.mjs.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const specifiers = Object.keys(pkg.exports)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`));
const bin = join(root, pkg.bin.shoptoken);
const OLD_NODE_FROM_REGISTRY = '22.12.0';

// Imports `specifier` in a fresh process and reports what happened as one JSON line.
const IMPORT_ONE = `
try {
  await import(process.argv[1]);
  console.log(JSON.stringify({ loaded: true }));
} catch (error) {
  console.log(JSON.stringify({ loaded: false, isError: error instanceof Error, name: error?.name, message: String(error?.message ?? error) }));
}`;

function run(node, args) {
  const result = spawnSync(node, args, { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  if (result.error) throw result.error;
  return result;
}

function importIn(node, specifier) {
  const { stdout, stderr, status } = run(node, ['--input-type=module', '-e', IMPORT_ONE, specifier]);
  assert.equal(status, 0, `importing ${specifier} ran: ${stderr}`);
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

function nodeVersion(node) {
  return execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
}

/** The guard's rule, restated here so the check does not trust the code it checks. */
function isOld(version) {
  const [major, minor] = version.split('.').map(Number);
  return major < 22 || (major === 22 && minor < 13) || (major === 23 && minor < 4);
}

function checkOld(node, version) {
  const expected = `shoptoken needs Node ≥ 22.13 (node:sqlite); this is v${version}`;
  const cli = run(node, [bin, 'tokens', 'list', '--json']);
  assert.equal(cli.stderr, `${expected}\n`, `bin on v${version}: stderr`);
  assert.equal(cli.stdout, '', `bin on v${version}: stdout`);
  assert.equal(cli.status, 1, `bin on v${version}: exit status`);
  for (const specifier of specifiers) {
    const got = importIn(node, specifier);
    assert.deepEqual(
      got,
      { loaded: false, isError: true, name: 'Error', message: expected },
      `import('${specifier}') on v${version}`,
    );
  }
  console.log(`node guard: on v${version} the bin and ${specifiers.length} exports say "${expected}"`);
}

/** The first `node` on PATH outside any node_modules (npm puts its .bin folders first). */
function systemNode() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.split(/[\\/]/).includes('node_modules')) continue;
    const candidate = join(dir, process.platform === 'win32' ? 'node.exe' : 'node');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

// 1. The Node running this script (a supported one): nothing is refused.
assert.ok(!isOld(process.versions.node), `run this check on a supported Node, not ${process.version}`);
for (const specifier of specifiers) {
  assert.deepEqual(
    importIn(process.execPath, specifier),
    { loaded: true },
    `import('${specifier}') on ${process.version}`,
  );
}
const help = run(process.execPath, [bin, '--help']);
assert.equal(help.status, 0, `bin --help on ${process.version}: ${help.stderr}`);
assert.match(help.stdout, /^usage: shoptoken/);
console.log(`node guard: on ${process.version} the bin and ${specifiers.length} exports load`);

// 2. Node 22.12 from the registry (resolved once through npm exec, then run directly).
const registryNode = execFileSync(
  'npm',
  ['exec', '--yes', `--package=node@${OLD_NODE_FROM_REGISTRY}`, '--', 'node', '-p', 'process.execPath'],
  { cwd: root, encoding: 'utf8' },
).trim();
assert.equal(nodeVersion(registryNode), OLD_NODE_FROM_REGISTRY);
checkOld(registryNode, OLD_NODE_FROM_REGISTRY);

// 3. The machine's own Node, when it is an old one.
const local = systemNode();
if (!local) {
  console.log('node guard: skipped the system Node: no `node` on PATH outside node_modules');
} else {
  const version = nodeVersion(local);
  if (isOld(version)) checkOld(local, version);
  else console.log(`node guard: skipped the system Node (${local}): v${version} is not older than 22.13`);
}
