/**
 * The demo app's own accounts, in memory: one per shop, created on the sign-up page that follows
 * the first install. `afterAuth` remembers who installed (the online token's user), so the sign-up
 * form starts filled in with their name and email.
 */

/** The staff user who installed the app, as the online token's associated user describes them. */
export interface Installer {
  userId: string;
  name: string;
  email: string;
}

/** A shop's account with the app. */
export interface Account {
  shop: string;
  name: string;
  email: string;
  /** ms since epoch, on the demo's clock. */
  createdAt: number;
}

export interface Accounts {
  /** Remembers who installed the app on `shop` (the latest install wins). */
  installed(shop: string, installer: Installer): void;
  installer(shop: string): Installer | undefined;
  account(shop: string): Account | undefined;
  /** Creates (or replaces) the shop's account. */
  signUp(account: Account): void;
  /** Forgets everything about the shop (`shop/redact`). */
  erase(shop: string): void;
}

/** The sign-up form's fields, checked: trimmed, a name of 1 to 100 characters and a plausible email. */
export function checkSignUp(form: URLSearchParams): { name: string; email: string } | { problems: string[] } {
  const name = (form.get('name') ?? '').trim();
  const email = (form.get('email') ?? '').trim();
  const problems: string[] = [];
  if (name.length < 1 || name.length > 100) problems.push('Enter your name (at most 100 characters).');
  if (email.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(email)) problems.push('Enter an email address.');
  return problems.length > 0 ? { problems } : { name, email };
}

/**
 * @example
 * const accounts = createAccounts();
 * accounts.installed(shop, { userId: user.id, name: `${user.firstName} ${user.lastName}`, email: user.email });
 */
export function createAccounts(): Accounts {
  const installers = new Map<string, Installer>();
  const accounts = new Map<string, Account>();
  return {
    installed: (shop, installer) => void installers.set(shop, { ...installer }),
    installer: (shop) => installers.get(shop),
    account: (shop) => accounts.get(shop),
    signUp: (account) => void accounts.set(account.shop, { ...account }),
    erase(shop) {
      installers.delete(shop);
      accounts.delete(shop);
    },
  };
}
