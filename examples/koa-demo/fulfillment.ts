/**
 * The demo's webhook inbox handlers: what the app does when Shopify calls it. A fulfillment request
 * (or cancellation request) notification runs through shoptoken's durable inbox and reaches
 * `onNotification` with an Admin client on the shop's offline token, which lists what is assigned
 * to the service and accepts it; `fetch_stock` and `fetch_tracking_numbers` are answered at once
 * from the warehouse; `orders/create`, `app/uninstalled` and the compliance topics are logged.
 * Everything the app does lands in the activity log the app page shows.
 */

import type {
  ComplianceHandlers,
  FulfillmentNotificationPayload,
  FulfillmentServiceHandlers,
  TokenAwareAdminClient,
  WebhookHandler,
} from '../../src/index.ts';
import type { Accounts } from './accounts.ts';
import type { ActivityLog } from './activity.ts';
import type { Line, Warehouse } from './warehouse.ts';

/** Where Shopify calls the service: the `callbackUrl` registered in `afterAuth` is `appUrl + FULFILLMENT_PATH`. */
export const FULFILLMENT_PATH = '/fulfillment';
/** Where Shopify delivers webhooks. */
export const WEBHOOKS_PATH = '/webhooks';

interface AssignedOrder {
  id: string;
  order: { name: string };
  lineItems: { nodes: { sku: string | null; remainingQuantity: number }[] };
}

const assigned = (status: 'FULFILLMENT_REQUESTED' | 'CANCELLATION_REQUESTED') => `query demoAssigned {
  assignedFulfillmentOrders(first: 50, assignmentStatus: ${status}) {
    nodes { id order { name } lineItems(first: 50) { nodes { sku remainingQuantity } } }
  }
}`;

const ANSWER_FIELDS = 'fulfillmentOrder { id status requestStatus } userErrors { field message }';
const ACCEPT = `mutation demoAccept($id: ID!) {
  fulfillmentOrderAcceptFulfillmentRequest(id: $id, message: "Packed by the shoptoken demo") { ${ANSWER_FIELDS} }
}`;
const REJECT = `mutation demoReject($id: ID!) {
  fulfillmentOrderRejectFulfillmentRequest(id: $id, reason: INVENTORY_OUT_OF_STOCK, message: "Not enough stock") { ${ANSWER_FIELDS} }
}`;
const ACCEPT_CANCELLATION = `mutation demoAcceptCancellation($id: ID!) {
  fulfillmentOrderAcceptCancellationRequest(id: $id, message: "Unpacked") { ${ANSWER_FIELDS} }
}`;

export interface InboxHandlerOptions {
  activity: ActivityLog;
  warehouse: Warehouse;
  accounts: Accounts;
  /** The offline token's expiry, for the log ("accepted with the offline token, valid until …"). */
  offlineExpiry(shop: string): Promise<Date | null>;
}

/** What `createWebhooks` takes from the demo: topic handlers, compliance hooks and the fulfillment service. */
export interface InboxHandlers {
  handlers: Record<string, WebhookHandler>;
  compliance: ComplianceHandlers;
  fulfillment: FulfillmentServiceHandlers;
}

/** A GraphQL answer's problems (errors, then userErrors) as one line; empty when there are none. */
function problemsOf(result: { data: unknown; errors: readonly { message: string }[] }, field: string): string {
  const answer = (result.data as Record<string, { userErrors?: { message: string }[] } | null> | null)?.[field];
  return [...result.errors, ...(answer?.userErrors ?? [])].map((e) => e.message).join('; ');
}

async function listAssigned(admin: TokenAwareAdminClient, status: Parameters<typeof assigned>[0]) {
  const result = await admin.request<{ assignedFulfillmentOrders: { nodes: AssignedOrder[] } | null }>(
    assigned(status),
  );
  const problems = problemsOf(result, 'assignedFulfillmentOrders');
  // Throwing makes the inbox run the notification again later (with backoff).
  if (problems) throw new Error(`assignedFulfillmentOrders failed: ${problems}`);
  return result.data?.assignedFulfillmentOrders?.nodes ?? [];
}

const linesOf = (order: AssignedOrder): Line[] =>
  order.lineItems.nodes.map((line) => ({ sku: line.sku ?? '(no SKU)', quantity: line.remainingQuantity }));
const describe = (lines: readonly Line[]) => lines.map((l) => `${l.quantity} × ${l.sku}`).join(', ');

/**
 * @example
 * const webhooks = createWebhooks({ config, apiSecret, vault, ...inboxHandlers({ activity, warehouse, accounts, offlineExpiry }) });
 */
export function inboxHandlers(options: InboxHandlerOptions): InboxHandlers {
  const { activity, warehouse, accounts } = options;
  const tokenNote = async (shop: string) => {
    const expiresAt = await options.offlineExpiry(shop);
    return `with the shop’s offline token (access token valid until ${expiresAt ? expiresAt.toISOString() : 'never'})`;
  };

  async function fulfillmentRequested(shop: string, admin: TokenAwareAdminClient) {
    for (const order of await listAssigned(admin, 'FULFILLMENT_REQUESTED')) {
      const lines = linesOf(order);
      const accepted = warehouse.accept(shop, { fulfillmentOrderId: order.id, orderName: order.order.name, lines });
      const field = accepted ? 'fulfillmentOrderAcceptFulfillmentRequest' : 'fulfillmentOrderRejectFulfillmentRequest';
      const result = await admin.request(accepted ? ACCEPT : REJECT, { variables: { id: order.id } });
      const problems = problemsOf(result, field);
      if (problems) {
        if (accepted) warehouse.cancel(shop, order.id);
        throw new Error(`${field} failed: ${problems}`);
      }
      if (accepted) {
        const text = `Accepted the fulfillment request for ${order.order.name} (${describe(lines)}) ${await tokenNote(shop)}; tracking number ${accepted.trackingNumber}`;
        activity.add(shop, 'app', 'accepted', text);
      } else {
        activity.add(shop, 'app', 'rejected', `Rejected ${order.order.name} (${describe(lines)}): not enough stock`);
      }
    }
  }

  async function cancellationRequested(shop: string, admin: TokenAwareAdminClient) {
    for (const order of await listAssigned(admin, 'CANCELLATION_REQUESTED')) {
      const result = await admin.request(ACCEPT_CANCELLATION, { variables: { id: order.id } });
      const problems = problemsOf(result, 'fulfillmentOrderAcceptCancellationRequest');
      if (problems) throw new Error(`fulfillmentOrderAcceptCancellationRequest failed: ${problems}`);
      const cancelled = warehouse.cancel(shop, order.id);
      const restocked = cancelled ? `; put back ${describe(cancelled.lines)}` : '';
      activity.add(
        shop,
        'app',
        'cancellation-accepted',
        `Accepted the cancellation of ${order.order.name} ${await tokenNote(shop)}${restocked}`,
      );
    }
  }

  const onNotification: WebhookHandler<FulfillmentNotificationPayload> = async ({ shop, payload, admin }) => {
    activity.add(shop, 'app', 'notification', `Received fulfillment_order_notification: ${payload.kind}`);
    if (payload.kind === 'CANCELLATION_REQUEST') await cancellationRequested(shop, admin);
    else await fulfillmentRequested(shop, admin);
  };

  const ordersCreate: WebhookHandler = ({ shop, payload }) => {
    const order = payload as { name?: unknown; line_items?: { sku?: unknown; quantity?: unknown }[] };
    const lines = (order.line_items ?? []).map((l) => `${String(l.quantity)} × ${String(l.sku)}`).join(', ');
    activity.add(shop, 'app', 'orders-create', `Received webhook orders/create: ${String(order.name)} (${lines})`);
  };

  const appUninstalled: WebhookHandler = ({ shop, uninstall }) => {
    const what = uninstall?.reinstalled
      ? 'kept the tokens: the app was installed again since'
      : `deleted the shop’s ${uninstall?.deleted ?? 0} token(s) from the vault`;
    activity.add(shop, 'shoptoken', 'uninstalled', `Received webhook app/uninstalled: shoptoken ${what}`);
  };

  return {
    handlers: { 'orders/create': ordersCreate, 'app/uninstalled': appUninstalled },
    compliance: {
      customersDataRequest: ({ shop }) =>
        void activity.add(shop, 'app', 'compliance', 'customers/data_request: the demo keeps no customer data'),
      customersRedact: ({ shop }) =>
        void activity.add(shop, 'app', 'compliance', 'customers/redact: the demo keeps no customer data'),
      shopRedact: ({ shop }) => {
        // shoptoken has already erased the shop's tokens and queued deliveries; erase the app's own data.
        accounts.erase(shop);
        warehouse.erase(shop);
        activity.erase(shop);
        activity.add(shop, 'shoptoken', 'shop-redact', 'shop/redact: the shop’s tokens, account and stock were erased');
      },
    },
    fulfillment: {
      path: FULFILLMENT_PATH,
      onNotification,
      fetchStock: ({ shop, sku }) => {
        const stock = warehouse.stock(shop);
        const answer = sku === null ? stock : { [sku]: stock[sku] ?? 0 };
        activity.add(shop, 'app', 'stock', `Answered fetch_stock: ${JSON.stringify(answer)}`);
        return answer;
      },
      fetchTrackingNumbers: ({ shop, orderNames }) => {
        const numbers = warehouse.tracking(shop, orderNames);
        activity.add(shop, 'app', 'tracking', `Answered fetch_tracking_numbers: ${JSON.stringify(numbers)}`);
        return numbers;
      },
    },
  };
}
