// Preload (`node --import`) that makes `import … from 'shoptoken'` (and every other export of the
// package) load the TypeScript sources instead of dist/, and lets a file outside the repository
// import the repository's dependencies (koa, express). Used to run the README's examples as
// written, without a build: the code is the README's, only module resolution is pointed here.
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const sources = new Map();
for (const [subpath, target] of Object.entries(pkg.exports)) {
  const dist = typeof target === 'object' ? target.default : null;
  if (typeof dist !== 'string' || !dist.startsWith('./dist/')) continue;
  const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
  sources.set(specifier, new URL(dist.replace('./dist/', 'src/').replace(/\.js$/, '.ts'), root).href);
}
const fromRoot = new URL('package.json', root).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    const source = sources.get(specifier);
    if (source) return { url: source, shortCircuit: true };
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      const bare = !/^(\.|\/|[a-z][a-z0-9+.-]*:)/i.test(specifier);
      if (!bare) throw error;
      return nextResolve(specifier, { ...context, parentURL: fromRoot });
    }
  },
});
