/**
 * The demo fulfillment service's warehouse, in memory: a small stock table per shop (what
 * `fetch_stock` answers), and the fulfillment orders it accepted with their tracking numbers (what
 * `fetch_tracking_numbers` answers). Accepting reserves the quantities; a cancellation puts them back.
 */

/** The products every demo shop starts with. */
export const PRODUCTS: readonly { sku: string; title: string; stock: number }[] = [
  { sku: 'DEMO-TEE', title: 'shoptoken T-shirt', stock: 40 },
  { sku: 'DEMO-MUG', title: 'shoptoken mug', stock: 25 },
  { sku: 'DEMO-CAP', title: 'shoptoken cap', stock: 6 },
];

/** A line of a fulfillment order. */
export interface Line {
  sku: string;
  quantity: number;
}

/** A fulfillment order the service accepted. */
export interface AcceptedOrder {
  fulfillmentOrderId: string;
  orderName: string;
  lines: Line[];
  trackingNumber: string;
  status: 'accepted' | 'cancelled';
}

export interface Warehouse {
  /** Stock on hand by SKU. */
  stock(shop: string): Record<string, number>;
  /** Reserves the lines and gives the order a tracking number; null (nothing reserved) when stock is short. */
  accept(shop: string, order: { fulfillmentOrderId: string; orderName: string; lines: Line[] }): AcceptedOrder | null;
  /** Puts a cancelled order's lines back; the order, or undefined when it was not accepted here. */
  cancel(shop: string, fulfillmentOrderId: string): AcceptedOrder | undefined;
  /** Tracking numbers of the accepted (not cancelled) orders among `orderNames`. */
  tracking(shop: string, orderNames: readonly string[]): Record<string, string>;
  /** The shop's accepted orders, oldest first. */
  orders(shop: string): readonly AcceptedOrder[];
  /** Forgets the shop (`shop/redact`). */
  erase(shop: string): void;
}

interface ShopStock {
  stock: Map<string, number>;
  orders: AcceptedOrder[];
}

/**
 * @example
 * const warehouse = createWarehouse();
 * warehouse.accept(shop, { fulfillmentOrderId, orderName: '#1001', lines: [{ sku: 'DEMO-MUG', quantity: 2 }] });
 * warehouse.stock(shop); // { 'DEMO-TEE': 40, 'DEMO-MUG': 23, 'DEMO-CAP': 6 }
 */
export function createWarehouse(): Warehouse {
  const shops = new Map<string, ShopStock>();
  let nextTracking = 1;

  function of(shop: string): ShopStock {
    let found = shops.get(shop);
    if (!found) {
      found = { stock: new Map(PRODUCTS.map((p) => [p.sku, p.stock])), orders: [] };
      shops.set(shop, found);
    }
    return found;
  }

  return {
    stock: (shop) => Object.fromEntries(of(shop).stock),
    accept(shop, { fulfillmentOrderId, orderName, lines }) {
      const { stock, orders } = of(shop);
      const needed = new Map<string, number>();
      for (const { sku, quantity } of lines) needed.set(sku, (needed.get(sku) ?? 0) + quantity);
      for (const [sku, quantity] of needed) if ((stock.get(sku) ?? 0) < quantity) return null;
      for (const [sku, quantity] of needed) stock.set(sku, (stock.get(sku) ?? 0) - quantity);
      const trackingNumber = `SHOPTOKEN-${String(nextTracking++).padStart(6, '0')}`;
      const order: AcceptedOrder = { fulfillmentOrderId, orderName, lines, trackingNumber, status: 'accepted' };
      orders.push(order);
      return order;
    },
    cancel(shop, fulfillmentOrderId) {
      const { stock, orders } = of(shop);
      const order = orders.find((o) => o.fulfillmentOrderId === fulfillmentOrderId && o.status === 'accepted');
      if (!order) return undefined;
      order.status = 'cancelled';
      for (const { sku, quantity } of order.lines) stock.set(sku, (stock.get(sku) ?? 0) + quantity);
      return order;
    },
    tracking(shop, orderNames) {
      const accepted = of(shop).orders.filter((o) => o.status === 'accepted' && orderNames.includes(o.orderName));
      return Object.fromEntries(accepted.map((o) => [o.orderName, o.trackingNumber]));
    },
    orders: (shop) => of(shop).orders,
    erase: (shop) => void shops.delete(shop),
  };
}
