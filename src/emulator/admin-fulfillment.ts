/**
 * Fulfillment services in the Admin API (reference §8): `fulfillmentServiceCreate` (scope
 * `write_fulfillments`), `assignedFulfillmentOrders` (`read_assigned_fulfillment_orders`) and the
 * service's answers to requests — accept or reject a fulfillment request or a cancellation request
 * (`write_assigned_fulfillment_orders`). A token without the scope gets Shopify's ACCESS_DENIED.
 */

import { type AdminContext, page, requireScope, type UserError } from './admin-context.ts';
import type { FulfillmentOrderRecord, FulfillmentServiceRecord, FulfillmentTransition } from './fulfillment-store.ts';

/** The mutations a service answers requests with, by field name. */
const ANSWERS: Record<string, FulfillmentTransition> = {
  fulfillmentOrderAcceptFulfillmentRequest: 'acceptFulfillment',
  fulfillmentOrderRejectFulfillmentRequest: 'rejectFulfillment',
  fulfillmentOrderAcceptCancellationRequest: 'acceptCancellation',
  fulfillmentOrderRejectCancellationRequest: 'rejectCancellation',
};

const payloadName = (field: string) => `${field.charAt(0).toUpperCase()}${field.slice(1)}Payload`;

export const FULFILLMENT_SDL = `
  type Location { id: ID! name: String! }
  enum FulfillmentServiceType { GIFT_CARD MANUAL THIRD_PARTY }
  type FulfillmentService {
    id: ID!
    handle: String!
    serviceName: String!
    callbackUrl: URL
    inventoryManagement: Boolean!
    trackingSupport: Boolean!
    fulfillmentOrdersOptIn: Boolean!
    type: FulfillmentServiceType!
    location: Location
  }
  type FulfillmentServiceCreatePayload { fulfillmentService: FulfillmentService userErrors: [UserError!]! }
  enum FulfillmentOrderStatus { OPEN IN_PROGRESS CANCELLED INCOMPLETE CLOSED SCHEDULED ON_HOLD }
  enum FulfillmentOrderRequestStatus {
    UNSUBMITTED SUBMITTED ACCEPTED REJECTED CANCELLATION_REQUESTED CANCELLATION_ACCEPTED CANCELLATION_REJECTED CLOSED
  }
  enum FulfillmentOrderAssignmentStatus {
    CANCELLATION_REQUESTED FULFILLMENT_REQUESTED FULFILLMENT_ACCEPTED FULFILLMENT_UNSUBMITTED
  }
  enum FulfillmentOrderRejectionReason {
    INCORRECT_ADDRESS INELIGIBLE_PRODUCT INVENTORY_OUT_OF_STOCK UNDELIVERABLE_DESTINATION OTHER
  }
  type FulfillmentOrderLineItem { id: ID! sku: String totalQuantity: Int! remainingQuantity: Int! }
  type FulfillmentOrderLineItemEdge { node: FulfillmentOrderLineItem! cursor: String! }
  type FulfillmentOrderLineItemConnection {
    nodes: [FulfillmentOrderLineItem!]!
    edges: [FulfillmentOrderLineItemEdge!]!
    pageInfo: PageInfo!
  }
  type FulfillmentOrderAssignedLocation { name: String! location: Location }
  type FulfillmentOrder {
    id: ID!
    status: FulfillmentOrderStatus!
    requestStatus: FulfillmentOrderRequestStatus!
    order: Order!
    assignedLocation: FulfillmentOrderAssignedLocation!
    lineItems(first: Int!, after: String): FulfillmentOrderLineItemConnection!
  }
  type FulfillmentOrderEdge { node: FulfillmentOrder! cursor: String! }
  type FulfillmentOrderConnection {
    nodes: [FulfillmentOrder!]!
    edges: [FulfillmentOrderEdge!]!
    pageInfo: PageInfo!
  }
  ${Object.keys(ANSWERS)
    .map((field) => `type ${payloadName(field)} { fulfillmentOrder: FulfillmentOrder userErrors: [UserError!]! }`)
    .join('\n  ')}
  extend type Query {
    assignedFulfillmentOrders(
      first: Int!
      after: String
      assignmentStatus: FulfillmentOrderAssignmentStatus
      locationIds: [ID!]
    ): FulfillmentOrderConnection
  }
  extend type Mutation {
    fulfillmentServiceCreate(
      name: String!
      callbackUrl: URL
      inventoryManagement: Boolean
      trackingSupport: Boolean
      fulfillmentOrdersOptIn: Boolean
      permitsSkuSharing: Boolean
      requiresShippingMethod: Boolean
    ): FulfillmentServiceCreatePayload
    fulfillmentOrderAcceptFulfillmentRequest(id: ID!, message: String, estimatedShippedAt: DateTime): ${payloadName('fulfillmentOrderAcceptFulfillmentRequest')}
    fulfillmentOrderRejectFulfillmentRequest(
      id: ID!
      message: String
      reason: FulfillmentOrderRejectionReason
    ): ${payloadName('fulfillmentOrderRejectFulfillmentRequest')}
    fulfillmentOrderAcceptCancellationRequest(id: ID!, message: String): ${payloadName('fulfillmentOrderAcceptCancellationRequest')}
    fulfillmentOrderRejectCancellationRequest(id: ID!, message: String): ${payloadName('fulfillmentOrderRejectCancellationRequest')}
  }
`;

/** `assignmentStatus` → the request status it selects. */
const BY_ASSIGNMENT: Record<string, FulfillmentOrderRecord['requestStatus']> = {
  FULFILLMENT_REQUESTED: 'SUBMITTED',
  FULFILLMENT_ACCEPTED: 'ACCEPTED',
  CANCELLATION_REQUESTED: 'CANCELLATION_REQUESTED',
  FULFILLMENT_UNSUBMITTED: 'UNSUBMITTED',
};

function serviceView(service: FulfillmentServiceRecord) {
  const { id, handle, serviceName, callbackUrl, inventoryManagement, trackingSupport, location } = service;
  return {
    ...{ id, handle, serviceName, callbackUrl, inventoryManagement, trackingSupport, location },
    fulfillmentOrdersOptIn: true,
    type: 'THIRD_PARTY',
  };
}

function orderView(order: FulfillmentOrderRecord) {
  return {
    id: order.id,
    status: order.status,
    requestStatus: order.requestStatus,
    order: { ...order.order },
    assignedLocation: { name: order.assignedLocation.name, location: { ...order.assignedLocation.location } },
    lineItems: ({ first, after }: { first: number; after?: string | null }) =>
      page(
        order.lineItems.map((line) => ({ ...line })),
        first,
        after,
      ),
  };
}

/** A resolver for one of the {@link ANSWERS} mutations. */
function answer(field: string, transition: FulfillmentTransition) {
  return ({ id }: { id: string }, context: AdminContext) => {
    requireScope(context, field, 'write_assigned_fulfillment_orders');
    const order = context.state.fulfillment.find(context.shop.domain, context.clientId, id);
    const errors: UserError[] = order
      ? context.state.fulfillment.transition(order, transition)
      : [{ field: ['id'], message: 'Fulfillment order does not exist.' }];
    return { fulfillmentOrder: order && errors.length === 0 ? orderView(order) : null, userErrors: errors };
  };
}

type CreateArgs = { name: string; callbackUrl?: string | null; inventoryManagement?: boolean | null };

/** Root resolvers of the fulfillment fields. */
export const fulfillmentRoot = {
  fulfillmentServiceCreate(args: CreateArgs & { trackingSupport?: boolean | null }, context: AdminContext) {
    requireScope(context, 'fulfillmentServiceCreate', 'write_fulfillments');
    const created = context.state.fulfillment.createService(context.shop.domain, context.clientId, {
      name: args.name,
      callbackUrl: args.callbackUrl ?? null,
      inventoryManagement: args.inventoryManagement ?? false,
      trackingSupport: args.trackingSupport ?? false,
    });
    return Array.isArray(created)
      ? { fulfillmentService: null, userErrors: created }
      : { fulfillmentService: serviceView(created), userErrors: [] };
  },
  assignedFulfillmentOrders(
    args: { first: number; after?: string | null; assignmentStatus?: string | null; locationIds?: string[] | null },
    context: AdminContext,
  ) {
    requireScope(context, 'assignedFulfillmentOrders', 'read_assigned_fulfillment_orders');
    const status = args.assignmentStatus ? BY_ASSIGNMENT[args.assignmentStatus] : undefined;
    const orders = context.state.fulfillment
      .assigned(context.shop.domain, context.clientId)
      .filter((order) => status === undefined || order.requestStatus === status)
      .filter((order) => !args.locationIds || args.locationIds.includes(order.assignedLocation.location.id))
      .map(orderView);
    return page(orders, args.first, args.after);
  },
  ...Object.fromEntries(Object.entries(ANSWERS).map(([field, transition]) => [field, answer(field, transition)])),
};
