/**
 * Imported first by every package entry point: on a Node too old for shoptoken, importing the
 * package throws one clear Error instead of `No such built-in module: node:sqlite`. This works
 * because no module imports `node:sqlite` statically (a missing builtin fails the whole graph at
 * link time, before any guard runs): the SQLite storage loads it when it opens a database.
 */

import { unsupportedNode } from './node-version.ts';

const problem = unsupportedNode(process.versions.node);
if (problem) throw new Error(problem);
