/**
 * Fulfillment services and the fulfillment orders assigned to them (reference §8): each service
 * an app creates on a shop gets a location; a fulfillment request puts an order's fulfillment order
 * at that location with request status SUBMITTED, and the app accepts or rejects it, and later a
 * cancellation request, through the Admin API.
 */

import type { UserError } from './admin-context.ts';
import type { ShopState } from './shops.ts';
import { isAppUrl } from './webhook-config.ts';

export type FulfillmentOrderStatus = 'OPEN' | 'IN_PROGRESS' | 'CANCELLED' | 'INCOMPLETE' | 'CLOSED';
export type FulfillmentOrderRequestStatus =
  | 'UNSUBMITTED'
  | 'SUBMITTED'
  | 'ACCEPTED'
  | 'REJECTED'
  | 'CANCELLATION_REQUESTED'
  | 'CANCELLATION_ACCEPTED'
  | 'CANCELLATION_REJECTED'
  | 'CLOSED';

/** A fulfillment service, as `fulfillmentServiceCreate` answers it. */
export interface FulfillmentServiceRecord {
  id: string;
  shop: string;
  clientId: string;
  handle: string;
  serviceName: string;
  callbackUrl: string | null;
  inventoryManagement: boolean;
  trackingSupport: boolean;
  location: { id: string; name: string };
}

/** A fulfillment order assigned to a service's location. */
export interface FulfillmentOrderRecord {
  id: string;
  shop: string;
  clientId: string;
  serviceId: string;
  order: { id: string; name: string };
  status: FulfillmentOrderStatus;
  requestStatus: FulfillmentOrderRequestStatus;
  lineItems: { id: string; sku: string; totalQuantity: number; remainingQuantity: number }[];
  assignedLocation: { name: string; location: { id: string } };
}

/** What the merchant and the service may do to a fulfillment order, and what it becomes. */
const TRANSITIONS = {
  acceptFulfillment: { from: ['SUBMITTED'], to: ['ACCEPTED', 'IN_PROGRESS'], what: 'accept the fulfillment request' },
  rejectFulfillment: { from: ['SUBMITTED'], to: ['REJECTED', 'OPEN'], what: 'reject the fulfillment request' },
  requestCancellation: {
    from: ['ACCEPTED', 'CANCELLATION_REJECTED'],
    to: ['CANCELLATION_REQUESTED', 'IN_PROGRESS'],
    what: 'request cancellation',
  },
  acceptCancellation: {
    from: ['CANCELLATION_REQUESTED'],
    to: ['CANCELLATION_ACCEPTED', 'CLOSED'],
    what: 'accept the cancellation request',
  },
  rejectCancellation: {
    from: ['CANCELLATION_REQUESTED'],
    to: ['CANCELLATION_REJECTED', 'IN_PROGRESS'],
    what: 'reject the cancellation request',
  },
} as const satisfies Record<
  string,
  { from: FulfillmentOrderRequestStatus[]; to: [FulfillmentOrderRequestStatus, FulfillmentOrderStatus]; what: string }
>;

export type FulfillmentTransition = keyof typeof TRANSITIONS;

/** `My Service` → `my-service`. */
const handleOf = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');

/** The fulfillment services and orders of one emulator. */
export class FulfillmentStore {
  readonly #services: FulfillmentServiceRecord[] = [];
  readonly #orders: FulfillmentOrderRecord[] = [];
  #nextId = 9_000_001;

  #gid(type: string): string {
    return `gid://shopify/${type}/${this.#nextId++}`;
  }

  /** Creates a service (and its location), or answers the `userErrors` that refuse it. */
  createService(
    shop: string,
    clientId: string,
    input: { name: string; callbackUrl?: string | null; inventoryManagement?: boolean; trackingSupport?: boolean },
  ): FulfillmentServiceRecord | UserError[] {
    const name = input.name.trim();
    if (name === '') return [{ field: ['name'], message: "Name can't be blank" }];
    if (this.#services.some((service) => service.shop === shop && service.handle === handleOf(name))) {
      return [{ field: ['name'], message: 'Name has already been taken' }];
    }
    const callbackUrl = input.callbackUrl ?? null;
    if (callbackUrl !== null && !isAppUrl(callbackUrl))
      return [{ field: ['callbackUrl'], message: 'Callback url is invalid' }];
    const service: FulfillmentServiceRecord = {
      id: this.#gid('FulfillmentService'),
      shop,
      clientId,
      handle: handleOf(name),
      serviceName: name,
      callbackUrl,
      inventoryManagement: input.inventoryManagement ?? false,
      trackingSupport: input.trackingSupport ?? false,
      location: { id: this.#gid('Location'), name },
    };
    this.#services.push(service);
    return service;
  }

  /** The app's services on the shop, oldest first. */
  services(shop: string, clientId: string): FulfillmentServiceRecord[] {
    return this.#services.filter((service) => service.shop === shop && service.clientId === clientId);
  }

  /** A new order of `lineItems` and its fulfillment order at the service's location, request status SUBMITTED. */
  submit(
    shop: ShopState,
    service: FulfillmentServiceRecord,
    lineItems: readonly { sku: string; quantity: number }[],
    orderName?: string,
  ): FulfillmentOrderRecord {
    const order = { id: this.#gid('Order'), name: orderName ?? `#${1001 + shop.records.orders.length}` };
    shop.records.orders.push(order);
    const fulfillmentOrder: FulfillmentOrderRecord = {
      id: this.#gid('FulfillmentOrder'),
      shop: shop.domain,
      clientId: service.clientId,
      serviceId: service.id,
      order,
      status: 'OPEN',
      requestStatus: 'SUBMITTED',
      lineItems: lineItems.map(({ sku, quantity }) => ({
        id: this.#gid('FulfillmentOrderLineItem'),
        sku,
        totalQuantity: quantity,
        remainingQuantity: quantity,
      })),
      assignedLocation: { name: service.location.name, location: { id: service.location.id } },
    };
    this.#orders.push(fulfillmentOrder);
    return fulfillmentOrder;
  }

  /** The fulfillment orders assigned to the app's services on the shop, oldest first. */
  assigned(shop: string, clientId: string): FulfillmentOrderRecord[] {
    return this.#orders.filter((order) => order.shop === shop && order.clientId === clientId);
  }

  /** One of them by id. */
  find(shop: string, clientId: string, id: string): FulfillmentOrderRecord | undefined {
    return this.assigned(shop, clientId).find((order) => order.id === id);
  }

  /** Applies `transition`, or answers why it does not apply to the order's request status. */
  transition(order: FulfillmentOrderRecord, transition: FulfillmentTransition): UserError[] {
    const rule = TRANSITIONS[transition];
    if (!(rule.from as readonly string[]).includes(order.requestStatus)) {
      const message = `Cannot ${rule.what}: the fulfillment order's request status is ${order.requestStatus}.`;
      return [{ field: ['id'], message }];
    }
    [order.requestStatus, order.status] = rule.to;
    return [];
  }
}
