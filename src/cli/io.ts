import { type ParseArgsConfig, parseArgs } from 'node:util';

/** What a CLI command may touch: its streams and environment. Injected so commands are testable. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** A command: takes its own arguments (after the command words) and returns an exit code. */
export type Command = (argv: string[], io: CliIO) => Promise<number>;

/** A usage error: printed with the command's help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The option table of one command, as `parseArgs` takes it. */
type OptionTable = NonNullable<ParseArgsConfig['options']>;

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/** The values of `O`'s options as given (none is multiple), and `help`. */
type OptionValues<O extends OptionTable> = {
  -readonly [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string;
} & { help?: boolean };

/**
 * A command's options (`--help`/`-h` added; no positionals): anything else given is a UsageError
 * followed by `usage`. `describe` rewrites `parseArgs`'s message, for commands whose stray
 * argument may be a secret that must not be echoed.
 *
 * @example
 * const values = parseCommandOptions(argv, { json: { type: 'boolean' } }, USAGE);
 */
export function parseCommandOptions<const O extends OptionTable>(
  argv: string[],
  options: O,
  usage: string,
  describe: (message: string) => string = (message) => message,
): OptionValues<O> {
  try {
    const parsed = parseArgs({ args: argv, options: { ...options, ...HELP }, strict: true, allowPositionals: false });
    return parsed.values as OptionValues<O>;
  } catch (error) {
    throw new UsageError(`${describe(error instanceof Error ? error.message : String(error))}\n\n${usage}`);
  }
}
