import { CommanderError } from 'commander';
import { buildProgram, type CollabClientCliOptions } from '../src/options';

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

  describe('COLLAB_TLS', () => {
    const saved = process.env.COLLAB_TLS;
    afterEach(() => {
      if (saved === undefined) delete process.env.COLLAB_TLS;
      else process.env.COLLAB_TLS = saved;
    });
    const tlsWith = (value: string, ...args: string[]) => {
      process.env.COLLAB_TLS = value;
      return (
        buildProgram()
          .parse(['node', 'collab-client', ...args])
          .opts<CollabClientCliOptions>().tls === true
      );
    };

    it.each(['1', 'true', 'yes', 'on'])('turns TLS on with COLLAB_TLS=%s', (value) => {
      expect(tlsWith(value)).toBe(true);
    });

    it.each(['0', 'false', 'no', 'off', ''])('leaves TLS off with COLLAB_TLS=%j (commander alone took any value as on)', (value) => {
      expect(tlsWith(value)).toBe(false);
    });

    it('lets --tls and --ca win over COLLAB_TLS=0', () => {
      expect(tlsWith('0', '--tls')).toBe(true);
      expect(tlsWith('0', '--ca', 'ca.pem')).toBe(true);
    });
  });
});
