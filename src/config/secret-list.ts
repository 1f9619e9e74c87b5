/**
 * The `apiSecret` option, as the install flow and the webhook inbox take it: one client secret, or
 * a list during rotation (current first). Checked when the handler is built.
 */

/** The secrets of `value`, or `[]` with a problem pushed (naming the option, never quoting a value). */
export function secretList(value: unknown, problems: string[]): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? (value as unknown[]) : null;
  if (!list || list.length === 0 || !list.every((s) => typeof s === 'string' && s.length > 0)) {
    problems.push('apiSecret must be a non-empty string or a non-empty list of non-empty strings (current first)');
    return [];
  }
  return list as string[];
}
