/** The storage battery (shoptoken/testing) against SQLite: a file shared by connections, and `:memory:`. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { openSqliteStorage } from '../../src/storage/sqlite.ts';
import { runStorageConformance } from '../../src/testing/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoptoken-sqlite-conformance-'));
after(() => rmSync(dir, { recursive: true, force: true }));

runStorageConformance('sqlite file', () => openSqliteStorage(join(dir, 'shared.db')));
runStorageConformance('sqlite :memory:', () => openSqliteStorage(':memory:'), { shared: false });
