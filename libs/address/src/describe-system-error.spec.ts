import { constants } from 'node:os';
import { describeSystemError } from './describe-system-error';

describe('describeSystemError', () => {
  it('gives the code and libuv words for a system error', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
      errno: -constants.errno.ECONNREFUSED,
    });
    expect(describeSystemError(err)).toBe('ECONNREFUSED connection refused');
  });

  it('falls back to the message when there is no errno', () => {
    expect(describeSystemError(new Error('boom'))).toBe('boom');
    expect(describeSystemError(Object.assign(new Error('boom'), { code: 'EX' }))).toBe('EX boom');
    expect(describeSystemError('plain')).toBe('plain');
  });

  it("gives an OpenSSL error's code and reason, not its file and line", () => {
    const err = Object.assign(
      new Error('80ACB381E47F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:ssl3_record.c:350:\n'),
      {
        code: 'ERR_SSL_WRONG_VERSION_NUMBER',
        library: 'SSL routines',
        reason: 'wrong version number',
      },
    );
    expect(describeSystemError(err)).toBe('ERR_SSL_WRONG_VERSION_NUMBER wrong version number');
  });
});
