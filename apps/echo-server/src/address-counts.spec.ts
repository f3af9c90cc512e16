import { AddressCounts } from './address-counts';

describe('AddressCounts', () => {
  it('counts connections per address', () => {
    const counts = new AddressCounts();
    counts.add('127.0.0.1');
    counts.add('127.0.0.1');
    counts.add('::1');
    expect(counts.get('127.0.0.1')).toBe(2);
    expect(counts.get('::1')).toBe(1);
    expect(counts.get('192.0.2.1')).toBe(0);
  });

  it('counts a connection out once however often its remover is called', () => {
    const counts = new AddressCounts();
    const remove = counts.add('::1');
    counts.add('::1');
    remove();
    remove();
    expect(counts.get('::1')).toBe(1);
  });

  it('forgets an address once its last connection is gone', () => {
    const counts = new AddressCounts();
    counts.add('127.0.0.1')();
    expect(counts.size).toBe(0);
  });
});
