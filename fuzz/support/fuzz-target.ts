// What a fuzz target is, and the one way every runner (Jest in CI, tools/fuzz.mjs for the long
// runs) drives it with fast-check, so a counterexample found by one replays in the other.
import fc from 'fast-check';

/** The checks of one target, with whatever state they share (files, documents) held open. */
export interface FuzzChecker<Input> {
  /** True when check returns a promise; sync checks run under fc.property, far faster. */
  readonly async: boolean;
  /** Throws (or rejects) when a property does not hold for `input`. */
  check(input: Input): void | Promise<void>;
  /**
   * Called after a failure: throws away shared state so the next check starts from scratch,
   * or, after a known issue the checker knows how to clean up after, just that mess.
   */
  recover?(knownIssue?: string): Promise<void>;
  /** The inputs checked since the state was last fresh, oldest first (when state is shared). */
  history?(): readonly Input[];
  /** Counters worth showing after a run (e.g. how often shared state was replaced). */
  stats?(): Record<string, number>;
  /** Releases everything open(); idempotent. */
  close(): Promise<void>;
}

/**
 * A bug fuzzing found that has a failing regression test and waits for its fix. Runs count
 * inputs that hit it instead of stopping at the first, so a long run still looks for new bugs.
 */
export interface KnownIssue {
  readonly id: string;
  /** Where its regression test is (file and test name). */
  readonly regressionTest: string;
  /** Whether a property failure is this issue. */
  matches(error: unknown): boolean;
}

/** A fuzz target: its inputs (random and mutated valid ones) and how to check one. */
export interface FuzzTarget<Input> {
  /** Kebab-case name, as given on the command line of tools/fuzz.mjs. */
  readonly name: string;
  /** One sentence: what is fed to what, and what must hold. */
  readonly summary: string;
  readonly input: fc.Arbitrary<Input>;
  readonly knownIssues?: readonly KnownIssue[];
  open(): Promise<FuzzChecker<Input>>;
}

/** How long and how to run a target. */
export interface FuzzRunOptions {
  numRuns: number;
  /** fast-check seed; random when omitted (it is printed with any failure). */
  seed?: number;
  /** fast-check replay path of a failure ("run:shrink:..."), with its seed. */
  path?: string;
  /** Stop (without failing) once this much time has passed. */
  timeLimitMs?: number;
  /** Called before every check, shrinks included; runners count runs with it. */
  onRun?: () => void;
  /** Fail on known issues too (by default an input hitting one passes and is counted). */
  strict?: boolean;
  /** Called for each input that hit a known issue (when not strict). */
  onKnownIssue?: (id: string) => void;
  /** Called when a failure does not happen on a fresh state, with the inputs that led to it (the failing one last). */
  onStatefulFailure?: (inputs: readonly unknown[]) => void;
  /** Receives the checker's stats() at the end. */
  onStats?: (stats: Record<string, number>) => void;
}

/** Runs a target with fast-check and returns its report; throws only if opening the target fails. */
export async function runFuzzTarget<Input>(target: FuzzTarget<Input>, options: FuzzRunOptions): Promise<fc.RunDetails<[Input]>> {
  const checker = await target.open();
  const onRun = options.onRun ?? (() => undefined);
  const knownIssue = (error: unknown): KnownIssue | undefined =>
    options.strict ? undefined : target.knownIssues?.find((issue) => issue.matches(error));
  const params: fc.Parameters<[Input]> = {
    numRuns: options.numRuns,
    seed: options.seed,
    path: options.path,
    endOnFailure: options.path !== undefined ? true : undefined,
    interruptAfterTimeLimit: options.timeLimitMs,
    markInterruptAsFailure: false,
    includeErrorInReport: true,
  };
  try {
    if (checker.async) {
      // Shared state (a server, its documents) makes runs cheap but can make a failure depend on
      // earlier runs. So a new failure is checked again on a fresh state, and once fast-check
      // shrinks, every attempt starts fresh: the counterexample then replays from its seed and path.
      let shrinking = false;
      const recover = async () => checker.recover?.();
      const property = fc.asyncProperty(target.input, async (input) => {
        onRun();
        if (shrinking) await recover();
        const history = checker.history?.() ?? [];
        try {
          await checker.check(input);
        } catch (error) {
          const issue = knownIssue(error);
          if (issue) {
            await checker.recover?.(issue.id);
            options.onKnownIssue?.(issue.id);
            return;
          }
          await recover();
          if (shrinking || !checker.recover || history.length === 0) throw error;
          shrinking = true;
          try {
            await checker.check(input);
          } finally {
            await recover();
          }
          options.onStatefulFailure?.([...history, input]);
          throw new Error(
            `${(error as Error).message}\n(It passes on a fresh state: it needs the ${history.length} inputs run before it on the same state, so this seed and path do not replay it.)`,
            { cause: error },
          );
        }
      });
      return await fc.check(property, params);
    }
    const property = fc.property(target.input, (input) => {
      onRun();
      try {
        checker.check(input);
      } catch (error) {
        const issue = knownIssue(error);
        if (!issue) throw error;
        options.onKnownIssue?.(issue.id);
      }
    });
    return fc.check(property, params);
  } finally {
    if (checker.stats) options.onStats?.(checker.stats());
    await checker.close();
  }
}

/** Runs a target and throws fast-check's report (seed, path, counterexample) if a check failed; for Jest. */
export async function assertFuzzTarget<Input>(target: FuzzTarget<Input>, options: FuzzRunOptions): Promise<void> {
  const details = await runFuzzTarget(target, options);
  if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? `${target.name} failed`);
}

/** Throws a property failure with a sentence naming what went wrong; plain checks, since expect() is slow at a million runs. */
export function fail(message: string, cause?: unknown): never {
  throw new Error(message, cause === undefined ? undefined : { cause });
}

/** Byte-for-byte equality of two byte arrays. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}
