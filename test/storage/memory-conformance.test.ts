/** The storage battery (shoptoken/testing) against the memory storage. */
import { createMemoryStorage } from '../../src/storage/memory.ts';
import { runStorageConformance } from '../../src/testing/index.ts';

runStorageConformance('memory', () => createMemoryStorage(), { shared: false });
