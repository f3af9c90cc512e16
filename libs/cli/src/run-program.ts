import { CommanderError, type Command } from 'commander';
import { ExitCode } from './exit-codes';

/** Options of a UserFacingError. */
export interface UserFacingErrorOptions {
  cause?: unknown;
  /**
   * The program has already said it in its own words (a server logs `[ERROR] Server error: ...`
   * before giving up), so runProgram only exits with the code: one line, not the same twice.
   */
  reported?: boolean;
}

/** An error the user can act on: printed as one line, no stack trace. Errors with a COLLAB_ERR_ code count too. */
export class UserFacingError extends Error {
  /** Already told to the user; runProgram prints nothing more. */
  readonly reported: boolean;

  constructor(
    message: string,
    readonly exitCode: number = ExitCode.Failure,
    options: UserFacingErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UserFacingError';
    this.reported = options.reported ?? false;
  }
}

function isExpected(error: unknown): error is Error & { code?: string; exitCode?: number } {
  if (error instanceof UserFacingError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('COLLAB_ERR_');
}

/**
 * Sets commander up so that usage errors exit 2 with one line, then runs `main`.
 * Expected failures (typed errors) print `program: message` (unless already reported) and
 * exit with their code; anything else is a bug and keeps its stack trace.
 */
export function configureProgram(program: Command): Command {
  return program
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) })
    .showHelpAfterError('(run with --help for usage)');
}

/** Parses argv with a configured program and runs main; exits the process with the right code on failure. */
export async function runProgram(program: Command, argv: readonly string[], main: () => Promise<number | void>): Promise<void> {
  try {
    program.parse(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version come through here too, with exit code 0.
      process.exitCode = error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
      return;
    }
    throw error;
  }
  try {
    const code = await main();
    if (typeof code === 'number') process.exitCode = code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // program.error() from main: commander has printed the message already.
      process.exitCode = ExitCode.Usage;
      return;
    }
    if (isExpected(error)) {
      if (!(error instanceof UserFacingError && error.reported)) process.stderr.write(`${program.name()}: ${error.message}\n`);
      process.exitCode = error.exitCode ?? (error instanceof UserFacingError ? error.exitCode : ExitCode.Usage);
      return;
    }
    process.stderr.write(`${program.name()}: unexpected error (a bug; please report it):\n`);
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = ExitCode.Failure;
  }
}
