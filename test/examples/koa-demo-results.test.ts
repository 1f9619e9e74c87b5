import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createResultStore } from '../../examples/koa-demo/results.ts';

const olivia = { shop: 'demo-shop.myshopify.com', userId: '1' };
const sam = { shop: 'demo-shop.myshopify.com', userId: '2' };
const result = { label: 'shop via the offline token', body: { data: {} } };

describe('the demo’s call results (post-redirect-get)', () => {
  it('gives a result back, as often as asked, to the session that made it', () => {
    const store = createResultStore();
    const id = store.put(olivia, result);
    assert.match(id, /^[\w-]{22}$/);
    assert.deepEqual(store.get(olivia, id), result);
    assert.deepEqual(store.get(olivia, id), result, 'a reload shows it again');
  });

  it('another user, another shop or an unknown id gets nothing', () => {
    const store = createResultStore();
    const id = store.put(olivia, result);
    assert.equal(store.get(sam, id), undefined);
    assert.equal(store.get({ ...olivia, shop: 'other.myshopify.com' }, id), undefined);
    assert.equal(store.get(olivia, 'unknown'), undefined);
  });

  it('forgets a result after its time', () => {
    let now = 0;
    const store = createResultStore({ ttlMs: 1000, now: () => now });
    const id = store.put(olivia, result);
    now = 999;
    assert.ok(store.get(olivia, id));
    now = 1000;
    assert.equal(store.get(olivia, id), undefined);
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const store = createResultStore({ maxEntries: 2 });
    const ids = [1, 2, 3].map(() => store.put(olivia, result));
    assert.equal(store.get(olivia, ids[0]!), undefined);
    assert.ok(store.get(olivia, ids[1]!));
    assert.ok(store.get(olivia, ids[2]!));
  });
});
