/**
 * The demo's install hooks. `afterAuth` runs once per install, with both tokens: it registers the
 * app as the shop's fulfillment service and subscribes the webhooks it needs, through the offline
 * token (`vault.admin(shop)`), and remembers who installed for the sign-up page. It is retried on the
 * next sign-in until it succeeds, so it is idempotent: a service or subscription that already exists
 * counts as done. `afterLogin` runs on the later sign-ins.
 */

import {
  type AfterAuthContext,
  type AfterLoginContext,
  registerFulfillmentService,
  registerWebhooks,
  type TokenAwareAdminClient,
} from '../../src/index.ts';
import type { Accounts } from './accounts.ts';
import type { ActivityLog } from './activity.ts';
import { FULFILLMENT_PATH, WEBHOOKS_PATH } from './fulfillment.ts';

/** The name merchants see for the service. */
export const SERVICE_NAME = 'shoptoken demo fulfillment';
/** The webhooks `afterAuth` subscribes (API-created subscriptions: Shopify deletes them on uninstall). */
export const WEBHOOK_TOPICS = ['orders/create', 'app/uninstalled'] as const;

export interface InstallHookOptions {
  /** The vault's Admin client on a shop's offline token. */
  vault: { admin(shop: string): TokenAwareAdminClient };
  appUrl: string;
  accounts: Accounts;
  activity: ActivityLog;
  /** One line per install or sign-in (the demo prints them; never a URL or a token). */
  log?: (line: string) => void;
}

/** Shopify's answer when the service or subscription exists already (a retried or repeated afterAuth). */
const alreadyThere = (errors: readonly string[]) =>
  errors.length > 0 && errors.every((message) => /already been taken/i.test(message));

const fullName = (user: { firstName: string; lastName: string }) => `${user.firstName} ${user.lastName}`;

/**
 * @example
 * const hooks = installHooks({ vault, appUrl, accounts, activity });
 * const shoptoken = createShoptoken({ ...options, afterAuth: hooks.afterAuth, afterLogin: hooks.afterLogin });
 */
export function installHooks(options: InstallHookOptions) {
  const { vault, appUrl, accounts, activity } = options;
  const log = options.log ?? (() => {});

  async function afterAuth({ shop, user, missingUserScopes }: AfterAuthContext): Promise<void> {
    const admin = vault.admin(shop);
    const service = await registerFulfillmentService(admin, {
      name: SERVICE_NAME,
      callbackUrl: `${appUrl}${FULFILLMENT_PATH}`,
      inventoryManagement: true,
      trackingSupport: true,
    });
    if (service.errors.length > 0 && !alreadyThere(service.errors)) {
      throw new Error(`Shopify refused the fulfillment service: ${service.errors.join('; ')}`);
    }
    const uri = `${appUrl}${WEBHOOKS_PATH}`;
    const subscriptions = await registerWebhooks(
      admin,
      WEBHOOK_TOPICS.map((topic) => ({ topic, uri })),
    );
    const refused = subscriptions.filter((s) => s.id === null && !alreadyThere(s.errors));
    if (refused.length > 0) {
      throw new Error(
        `Shopify refused the subscriptions: ${refused.map((s) => `${s.topic}: ${s.errors.join('; ')}`).join('; ')}`,
      );
    }
    accounts.installed(shop, { userId: user.id, name: fullName(user), email: user.email });
    const serviceNote = service.id
      ? `registered the fulfillment service “${SERVICE_NAME}” (${service.id}, location ${service.locationId})`
      : `the fulfillment service “${SERVICE_NAME}” was registered already`;
    activity.add(
      shop,
      'app',
      'install',
      `afterAuth: installed by ${fullName(user)}; ${serviceNote}; subscribed to ${WEBHOOK_TOPICS.join(' and ')}`,
    );
    log(`installed on ${shop} by ${fullName(user)}; user lacks: ${missingUserScopes.join(', ') || 'nothing'}`);
  }

  function afterLogin({ shop, user }: AfterLoginContext): void {
    activity.add(shop, 'app', 'login', `afterLogin: ${fullName(user)} signed in`);
    log(`${fullName(user)} signed in to ${shop}`);
  }

  return { afterAuth, afterLogin };
}
