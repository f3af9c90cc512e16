import { CommanderError } from 'commander';
import { buildProgram } from '../src/options';

/** Parses a client command line; returns the usage error it printed, or undefined when it was accepted. */
function usageError(...args: string[]): string | undefined {
  let printed = '';
  const program = buildProgram().configureOutput({ writeErr: (s) => void (printed += s), outputError: (s, write) => write(s) });
  try {
    program.parse(['node', 'collab-client', ...args]);
    return undefined;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return printed;
  }
}

describe('collab-client options', () => {
  it('accepts ports 1 and 65535', () => {
    expect(usageError('--port', '1')).toBeUndefined();
    expect(usageError('--port', '65535')).toBeUndefined();
  });

  it.each(['0', '70000'])('refuses --port %s, naming the range a client can use (1 to 65535)', (port) => {
    expect(usageError('--port', port)).toContain('must be a whole number from 1 to 65535.');
  });
});
