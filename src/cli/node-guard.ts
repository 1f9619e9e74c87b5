/**
 * Imported first by the `shoptoken` bin: on a Node too old for shoptoken, print one line to stderr
 * and exit 1, before any other module is evaluated (see `../node-guard.ts` for the library's guard).
 */

import { unsupportedNode } from '../node-version.ts';

const problem = unsupportedNode(process.versions.node);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
