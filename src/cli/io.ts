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
