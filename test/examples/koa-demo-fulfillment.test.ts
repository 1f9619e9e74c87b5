/**
 * The demo fulfillment service's in-memory pieces: the warehouse (stock reserved on accept, put
 * back on cancel, tracking numbers only for accepted orders), the activity log the controls wait
 * on, and the sign-up form's checks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSignUp, createAccounts } from '../../examples/koa-demo/accounts.ts';
import { createActivityLog } from '../../examples/koa-demo/activity.ts';
import { createWarehouse, PRODUCTS } from '../../examples/koa-demo/warehouse.ts';

const shop = 'demo-shop.myshopify.com';
const other = 'second-demo-shop.myshopify.com';
const initial = Object.fromEntries(PRODUCTS.map((p) => [p.sku, p.stock]));

describe('the demo warehouse', () => {
  it('reserves on accept, per shop, and gives each accepted order its own tracking number', () => {
    const warehouse = createWarehouse();
    const a = warehouse.accept(shop, {
      fulfillmentOrderId: 'fo-1',
      orderName: '#1004',
      lines: [{ sku: 'DEMO-MUG', quantity: 2 }],
    });
    const b = warehouse.accept(shop, {
      fulfillmentOrderId: 'fo-2',
      orderName: '#1005',
      lines: [{ sku: 'DEMO-TEE', quantity: 1 }],
    });
    assert.ok(a && b);
    assert.notEqual(a.trackingNumber, b.trackingNumber);
    assert.deepEqual(warehouse.stock(shop), {
      ...initial,
      'DEMO-MUG': initial['DEMO-MUG']! - 2,
      'DEMO-TEE': initial['DEMO-TEE']! - 1,
    });
    assert.deepEqual(warehouse.stock(other), initial, 'another shop has its own stock');
    assert.deepEqual(warehouse.tracking(shop, ['#1004', '#1005', '#9999']), {
      '#1004': a.trackingNumber,
      '#1005': b.trackingNumber,
    });
    assert.deepEqual(warehouse.tracking(other, ['#1004']), {}, 'another shop sees none of them');
  });

  it('refuses an order it cannot cover, reserving nothing (lines of one SKU added up)', () => {
    const warehouse = createWarehouse();
    const cap = initial['DEMO-CAP']!;
    const lines = [
      { sku: 'DEMO-CAP', quantity: cap },
      { sku: 'DEMO-CAP', quantity: 1 },
    ];
    assert.equal(warehouse.accept(shop, { fulfillmentOrderId: 'fo-1', orderName: '#1004', lines }), null);
    assert.equal(
      warehouse.accept(shop, { fulfillmentOrderId: 'fo-2', orderName: '#1005', lines: [{ sku: 'NOPE', quantity: 1 }] }),
      null,
    );
    assert.deepEqual(warehouse.stock(shop), initial);
    assert.deepEqual(warehouse.orders(shop), []);
  });

  it('a cancellation puts the lines back once and drops the tracking number', () => {
    const warehouse = createWarehouse();
    warehouse.accept(shop, {
      fulfillmentOrderId: 'fo-1',
      orderName: '#1004',
      lines: [{ sku: 'DEMO-TEE', quantity: 3 }],
    });
    assert.equal(warehouse.cancel(shop, 'fo-1')?.status, 'cancelled');
    assert.equal(warehouse.cancel(shop, 'fo-1'), undefined, 'not twice');
    assert.equal(warehouse.cancel(shop, 'unknown'), undefined);
    assert.deepEqual(warehouse.stock(shop), initial);
    assert.deepEqual(warehouse.tracking(shop, ['#1004']), {});
  });

  it('shop/redact: erase starts the shop over', () => {
    const warehouse = createWarehouse();
    warehouse.accept(shop, {
      fulfillmentOrderId: 'fo-1',
      orderName: '#1004',
      lines: [{ sku: 'DEMO-TEE', quantity: 3 }],
    });
    warehouse.erase(shop);
    assert.deepEqual(warehouse.stock(shop), initial);
    assert.deepEqual(warehouse.orders(shop), []);
  });
});

describe('the demo activity log', () => {
  it('keeps entries per shop, oldest first, on the given clock, bounded', () => {
    let now = 1000;
    const log = createActivityLog({ now: () => now, maxEntries: 2 });
    log.add(shop, 'shopify', 'request', 'one');
    now = 2000;
    log.add(shop, 'app', 'accepted', 'two');
    log.add(other, 'app', 'install', 'elsewhere');
    log.add(shop, 'app', 'stock', 'three');
    assert.deepEqual(
      log.list(shop).map((e) => [e.text, e.at]),
      [
        ['two', 2000],
        ['three', 2000],
      ],
    );
    assert.equal(log.list(other).length, 1);
    log.erase(shop);
    assert.deepEqual(log.list(shop), []);
  });

  it('waitFor resolves on a later entry of a listed kind on that shop, or false after the timeout', async () => {
    const log = createActivityLog();
    log.add(shop, 'app', 'accepted', 'before the mark');
    const mark = log.mark();
    const waiting = log.waitFor(shop, ['accepted', 'rejected'], mark, 2000);
    log.add(other, 'app', 'accepted', 'another shop');
    log.add(shop, 'app', 'notification', 'another kind');
    log.add(shop, 'app', 'rejected', 'this one');
    assert.equal(await waiting, true);
    assert.equal(await log.waitFor(shop, ['accepted'], mark, 20), false, 'the entry before the mark does not count');
    assert.equal(await log.waitFor(shop, ['rejected'], mark, 20), true, 'already there: at once');
  });
});

describe('the demo sign-up', () => {
  it('takes a trimmed name and email', () => {
    const form = new URLSearchParams({ name: '  Olivia Owner ', email: ' olivia@demo-shop.example ' });
    assert.deepEqual(checkSignUp(form), { name: 'Olivia Owner', email: 'olivia@demo-shop.example' });
  });

  it('names every problem at once', () => {
    const result = checkSignUp(new URLSearchParams({ name: ' ', email: 'not an email' }));
    assert.ok('problems' in result);
    assert.equal(result.problems.length, 2);
    assert.ok('problems' in checkSignUp(new URLSearchParams({ name: 'x'.repeat(101), email: 'a@b' })));
  });

  it('remembers the installer and the account per shop; shop/redact forgets both', () => {
    const accounts = createAccounts();
    accounts.installed(shop, { userId: '1', name: 'Olivia Owner', email: 'olivia@demo-shop.example' });
    assert.equal(accounts.account(shop), undefined, 'no account before the sign-up');
    accounts.signUp({ shop, name: 'Olivia', email: 'o@example.com', createdAt: 1 });
    assert.equal(accounts.account(shop)?.name, 'Olivia');
    assert.equal(accounts.account(other), undefined);
    accounts.erase(shop);
    assert.equal(accounts.installer(shop), undefined);
    assert.equal(accounts.account(shop), undefined);
  });
});
