import { Command } from 'commander';
import { ExitCode } from './exit-codes';
import { configureProgram, runProgram, UserFacingError } from './run-program';

/** Runs `main` under runProgram; returns what it wrote to stderr and the exit code it set. */
async function outcome(main: () => Promise<number | void>, argv: string[] = []) {
  const written: string[] = [];
  const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  const before = process.exitCode;
  try {
    await runProgram(configureProgram(new Command('prog').option('--n <n>')), ['node', 'prog', ...argv], main);
    return { stderr: written.join(''), exitCode: process.exitCode };
  } finally {
    write.mockRestore();
    process.exitCode = before;
  }
}

describe('runProgram', () => {
  it('prints a UserFacingError as one line and exits with its code', async () => {
    const r = await outcome(async () => {
      throw new UserFacingError('cannot listen on [::]:8081: port 8081 is already in use', ExitCode.Usage);
    });
    expect(r).toEqual({ stderr: 'prog: cannot listen on [::]:8081: port 8081 is already in use\n', exitCode: 2 });
  });

  it('prints nothing more for an error the program has already reported, and exits with its code', async () => {
    const r = await outcome(async () => {
      throw new UserFacingError('port 8081 is already in use', ExitCode.Usage, { reported: true, cause: new Error('EADDRINUSE') });
    });
    expect(r).toEqual({ stderr: '', exitCode: 2 });
  });

  it('prints an error with a COLLAB_ERR_ code as one line, exit 2 unless it names another', async () => {
    const typed = Object.assign(new Error('host "x" was not found'), { code: 'COLLAB_ERR_HOST_NOT_FOUND' });
    expect(await outcome(async () => Promise.reject(typed))).toEqual({ stderr: 'prog: host "x" was not found\n', exitCode: 2 });
    const lost = Object.assign(new Error('the server closed the connection'), { code: 'COLLAB_ERR_CONNECTION_CLOSED', exitCode: 1 });
    expect((await outcome(async () => Promise.reject(lost))).exitCode).toBe(1);
  });

  it('keeps the stack of anything else: a bug', async () => {
    const r = await outcome(async () => {
      throw new TypeError('x is undefined');
    });
    expect(r.stderr).toMatch(/^prog: unexpected error \(a bug; please report it\):\nTypeError: x is undefined\n\s+at /);
    expect(r.exitCode).toBe(ExitCode.Failure);
  });

  it('exits with the code main returns', async () => {
    expect(await outcome(async () => ExitCode.Interrupted)).toEqual({ stderr: '', exitCode: 130 });
  });
});
