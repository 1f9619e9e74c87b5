/**
 * `shoptoken tokens import-custom --shop X [--database URL]`: stores a custom app's static token,
 * read from stdin (never from the command line, where `ps` and shell history would keep it), after
 * checking it with the shop's Admin API (`vault.importCustomToken`). Needs the vault's keys and
 * never generates one; `SHOPTOKEN_SHOPIFY_BASE_URL` (default `https://{shop}`) says where Shopify is.
 * Prints the shop and the granted scopes, never the token.
 */

import { openDefaultVault } from '../config/default-vault.ts';
import { ConfigError } from '../errors.ts';
import { normalizeShop } from '../protocol/shop.ts';
import { CONFIG_OPTION, CONFIG_USAGE, cliConfig } from './config.ts';
import { type Command, parseCommandOptions, UsageError } from './io.ts';
import { missingKeyProblems } from './keys-configured.ts';

const USAGE = `usage: shoptoken tokens import-custom --shop SHOP [--database URL] [--config NAME] < token.txt

Reads a custom app's Admin API access token from stdin, checks it with the shop's Admin API and
stores it encrypted with its scopes. A token Shopify does not accept is rejected; nothing is stored.
  --shop SHOP        the shop's domain ({name}.myshopify.com)
  --database URL     the store (default: SHOPTOKEN_DATABASE_URL, else .shoptoken/shoptoken.db)
${CONFIG_USAGE}
Environment: SHOPTOKEN_KEYS or SHOPTOKEN_KEY_FILE (or the demo key file outside production),
SHOPTOKEN_SHOPIFY_BASE_URL (default https://{shop}).
`;

/** A token is short: stop reading well before anything large. */
const MAX_INPUT_BYTES = 4096;

/** The whole of stdin, trimmed; a UsageError when it is too large. */
async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_INPUT_BYTES) throw new UsageError(`stdin holds more than ${MAX_INPUT_BYTES} bytes: not a token`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** Runs `shoptoken tokens import-custom`. Exit 0 when stored, 1 when rejected or misconfigured. */
export const run: Command = async (argv, io) => {
  // Never echo an unexpected argument: it may be the token itself.
  const values = parseCommandOptions(
    argv,
    { shop: { type: 'string' }, database: { type: 'string' }, ...CONFIG_OPTION },
    USAGE,
    (message) => (/positional/i.test(message) ? 'the token is read from stdin, never from arguments' : message),
  );
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const shop = normalizeShop(values.shop);
  if (!shop) throw new UsageError(`--shop must be a shop domain ({name}.myshopify.com)\n\n${USAGE}`);
  const config = cliConfig(io, values.config);
  const problems = missingKeyProblems(io);
  if (problems.length > 0) throw new ConfigError(problems);
  if ((io.stdin as NodeJS.ReadStream).isTTY === true) io.stderr.write('paste the token, then press Ctrl-D\n');
  const token = await readStdin(io.stdin);
  if (!token) throw new UsageError(`no token on stdin\n\n${USAGE}`);

  const { vault } = await openDefaultVault(config, { database: values.database });
  try {
    const stored = await vault.importCustomToken(shop, token, { shopifyBaseUrl: config.shopifyBaseUrl });
    io.stdout.write(`stored the custom app token of ${shop} (scopes: ${stored.scopes.join(',') || 'none'})\n`);
  } finally {
    await vault.close();
  }
  return 0;
};
