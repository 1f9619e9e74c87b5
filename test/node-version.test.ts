import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unsupportedNode } from '../src/node-version.ts';

describe('unsupportedNode', () => {
  const message = (v: string) => `shoptoken needs Node ≥ 22.13 (node:sqlite); this is v${v}`;
  // node:sqlite is unflagged from 22.13 (22 line) and 23.4 (23 line).
  for (const version of ['18.20.4', '20.20.2', '22.0.0', '22.12.0', '23.0.0', '23.3.0']) {
    it(`refuses ${version}`, () => assert.equal(unsupportedNode(version), message(version)));
  }
  for (const version of ['22.13.0', '22.13.1', '22.20.0', '23.4.0', '24.0.0', '24.21.0', '25.1.0']) {
    it(`accepts ${version}`, () => assert.equal(unsupportedNode(version), undefined));
  }
  it('the running Node is accepted', () => assert.equal(unsupportedNode(process.versions.node), undefined));
});
