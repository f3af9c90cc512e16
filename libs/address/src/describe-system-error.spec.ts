import { constants } from 'node:os';
import { describeSystemError } from './describe-system-error';

describe('describeSystemError', () => {
  it('gives the code and libuv words for a system error', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED', errno: -constants.errno.ECONNREFUSED });
    expect(describeSystemError(err)).toBe('ECONNREFUSED connection refused');
  });

  it('falls back to the message when there is no errno', () => {
    expect(describeSystemError(new Error('boom'))).toBe('boom');
    expect(describeSystemError(Object.assign(new Error('boom'), { code: 'EX' }))).toBe('EX boom');
    expect(describeSystemError('plain')).toBe('plain');
  });
});
