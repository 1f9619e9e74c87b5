/**
 * Which Node shoptoken runs on: `node:sqlite` without a flag, from Node 22.13 (and 23.4).
 *
 * Plain code with no imports on purpose: the guards that use it run before anything else is
 * evaluated, on a Node too old for the rest of the package.
 */

/**
 * The message for a Node that cannot run shoptoken, or `undefined` when `version` (as in
 * `process.versions.node`) can.
 *
 * @example
 * unsupportedNode('20.19.0'); // 'shoptoken needs Node ≥ 22.13 (node:sqlite); this is v20.19.0'
 * unsupportedNode('24.1.0');  // undefined
 */
export function unsupportedNode(version: string): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  // node:sqlite is unflagged from 22.13 on the 22 line and from 23.4 on the 23 line.
  const supported = major > 23 || (major === 23 && minor >= 4) || (major === 22 && minor >= 13);
  return supported ? undefined : `shoptoken needs Node ≥ 22.13 (node:sqlite); this is v${version}`;
}
