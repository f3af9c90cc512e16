import { ConnectError, HostNotFoundError } from '@collab/address';
import { withPortHint } from './port-hint';

const unreachable = () =>
  new ConnectError('could not connect to ::1:8081 port 8081: ::1:8081 (EHOSTUNREACH host is unreachable)', [
    { address: '::1:8081', family: 6, error: 'EHOSTUNREACH host is unreachable' },
  ]);

describe('withPortHint', () => {
  it('asks whether [::1]:8081 was meant when ::1:8081 could not be reached', () => {
    const hinted = withPortHint(unreachable(), '::1:8081') as ConnectError;
    expect(hinted).toBeInstanceOf(ConnectError);
    expect(hinted.code).toBe('COLLAB_ERR_CONNECT');
    expect(hinted.message).toBe(
      'could not connect to ::1:8081 port 8081: ::1:8081 (EHOSTUNREACH host is unreachable); did you mean [::1]:8081?',
    );
    expect(hinted.attempts).toHaveLength(1);
  });

  it('leaves an address that cannot end in a port alone', () => {
    const error = unreachable();
    expect(withPortHint(error, '::1')).toBe(error);
    expect(withPortHint(error, '[::1]:8081')).toBe(error);
  });

  it('leaves other errors alone', () => {
    const error = new HostNotFoundError('x', 'host "x" was not found');
    expect(withPortHint(error, '::1:8081')).toBe(error);
  });
});
