/**
 * Access-scope arithmetic. Shopify scopes are comma-separated handles such as `write_products`;
 * "any permission to write a resource includes the permission to read it", so `write_x` implies
 * `read_x` (and `write_unauthenticated_x` implies `read_unauthenticated_x`).
 */

/** Splits a comma-separated scope string into trimmed, de-duplicated handles (order kept). */
export function parseScopes(input: string | readonly string[] | null | undefined): string[] {
  if (input == null) return [];
  const parts = typeof input === 'string' ? input.split(',') : input;
  const seen = new Set<string>();
  for (const part of parts) {
    const handle = part.trim();
    if (handle) seen.add(handle);
  }
  return [...seen];
}

/** Joins handles the way Shopify sends them. */
export function formatScopes(scopes: readonly string[]): string {
  return scopes.join(',');
}

/** The read scope a write scope implies, or `null`. */
function impliedRead(handle: string): string | null {
  if (handle.startsWith('write_')) return `read_${handle.slice('write_'.length)}`;
  const m = /^(unauthenticated_)write_(.+)$/.exec(handle);
  return m ? `${m[1]}read_${m[2]}` : null;
}

/** Every scope `scopes` grants, including the implied read scopes. */
export function expandScopes(scopes: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const handle of scopes) {
    out.add(handle);
    const read = impliedRead(handle);
    if (read) out.add(read);
  }
  return out;
}

/** The scopes of `required` that `granted` does not cover (write implies read). */
export function missingScopes(required: readonly string[], granted: readonly string[]): string[] {
  const have = expandScopes(granted);
  return required.filter((handle) => !have.has(handle));
}

/** True when `granted` covers every scope in `required`. */
export function coversScopes(granted: readonly string[], required: readonly string[]): boolean {
  return missingScopes(required, granted).length === 0;
}

/**
 * The smallest list that still says everything: drops `read_x` when `write_x` is present.
 * Useful for comparing and displaying.
 */
export function compactScopes(scopes: readonly string[]): string[] {
  const implied = new Set<string>();
  for (const handle of scopes) {
    const read = impliedRead(handle);
    if (read) implied.add(read);
  }
  return parseScopes(scopes).filter((handle) => !implied.has(handle));
}
