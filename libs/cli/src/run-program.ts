import { CommanderError, type Command } from 'commander';
import { ExitCode } from './exit-codes';

/** An error the user can act on: printed as one line, no stack trace. Errors with a COLLAB_ERR_ code count too. */
export class UserFacingError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.Failure,
  ) {
    super(message);
    this.name = 'UserFacingError';
  }
}

function isExpected(error: unknown): error is Error & { code?: string; exitCode?: number } {
  if (error instanceof UserFacingError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('COLLAB_ERR_');
}

/**
 * Sets commander up so that usage errors exit 2 with one line, then runs `main`.
 * Expected failures (typed errors) print `program: message` and exit with their code;
 * anything else is a bug and keeps its stack trace.
 */
export function configureProgram(program: Command): Command {
  return program
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) })
    .showHelpAfterError('(run with --help for usage)');
}

/** Parses argv with a configured program and runs main; exits the process with the right code on failure. */
export async function runProgram(
  program: Command,
  argv: readonly string[],
  main: () => Promise<number | void>,
): Promise<void> {
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
      process.stderr.write(`${program.name()}: ${error.message}\n`);
      process.exitCode = error.exitCode ?? (error instanceof UserFacingError ? error.exitCode : ExitCode.Usage);
      return;
    }
    process.stderr.write(`${program.name()}: unexpected error (a bug; please report it):\n`);
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = ExitCode.Failure;
  }
}
