import { ByteQueue } from './byte-queue';

describe('ByteQueue', () => {
  it('reads a reply that arrives in pieces', async () => {
    const q = new ByteQueue();
    const reply = q.read(5);
    q.push(Buffer.from('he'));
    q.push(Buffer.from('llo'));
    expect((await reply).toString()).toBe('hello');
  });

  it('keeps the bytes of the next reply that came in the same chunk', async () => {
    const q = new ByteQueue();
    q.push(Buffer.from('abcdef'));
    expect((await q.read(2)).toString()).toBe('ab');
    expect((await q.read(4)).toString()).toBe('cdef');
    expect(q.size).toBe(0);
  });

  it('fails a pending read when the connection is gone', async () => {
    const q = new ByteQueue();
    const reply = q.read(3);
    q.push(Buffer.from('a'));
    q.fail(new Error('closed'));
    await expect(reply).rejects.toThrow('closed');
  });

  it('after cancel the bytes stay for the next read', async () => {
    const q = new ByteQueue();
    void q.read(4);
    q.cancel();
    q.push(Buffer.from('wxyz'));
    expect((await q.read(4)).toString()).toBe('wxyz');
  });
});
