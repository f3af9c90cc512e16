import net from 'node:net';
import { PassThrough } from 'node:stream';
import {
  EmptyFrameError,
  FrameTooLargeError,
  FramingError,
  InvalidMaxFrameBytesError,
  TruncatedFrameError,
  encodeFrame,
  encodeFrames,
  readFrames,
} from './index';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

let server: net.Server | undefined;
let client: net.Socket | undefined;
let peer: net.Socket | undefined;

/** A connected pair on 127.0.0.1: `client` writes, `peer` is the server side we read. */
async function connect(): Promise<{ client: net.Socket; peer: net.Socket }> {
  const listening = net.createServer();
  server = listening;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => listening.once('connection', resolve));
  const { port } = listening.address() as net.AddressInfo;
  const socket = net.connect(port, '127.0.0.1');
  client = socket;
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  peer = await accepted;
  return { client: socket, peer };
}

/** Collects what readFrames reports and resolves once the peer socket has fully closed. */
function watch(socket: net.Socket, options?: { maxFrameBytes?: number }) {
  const frames: string[] = [];
  const errors: FramingError[] = [];
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const detach = readFrames(
    socket,
    (payload) => frames.push(payload.toString()),
    (err) => errors.push(err),
    options,
  );
  return { frames, errors, closed, detach };
}

afterEach(async () => {
  client?.destroy();
  peer?.destroy();
  const closing = server;
  if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  server = client = peer = undefined;
});

describe('readFrames', () => {
  it('delivers every frame a client writes, in order, across separate writes', async () => {
    const { client, peer } = await connect();
    const seen = watch(peer);
    const stream = encodeFrames(['hello', 'world', 'x'.repeat(100_000)].map((s) => Buffer.from(s)));
    client.write(stream.subarray(0, 3)); // header cut in two
    client.write(stream.subarray(3, 11));
    client.end(stream.subarray(11));
    await seen.closed;
    expect(seen.frames).toEqual(['hello', 'world', 'x'.repeat(100_000)]);
    expect(seen.errors).toEqual([]);
  });

  it('reports a header announcing more than maxFrameBytes once and delivers nothing after it', async () => {
    const { client, peer } = await connect();
    const seen = watch(peer, { maxFrameBytes: 8 });
    client.write(hex('00000002 6869  00000009'));
    client.end(encodeFrames([Buffer.from('later'), Buffer.from('still later')]));
    await seen.closed; // the socket still reaches its end after the error
    expect(seen.frames).toEqual(['hi']);
    expect(seen.errors).toHaveLength(1);
    expect(seen.errors[0]).toBeInstanceOf(FrameTooLargeError);
    expect(seen.errors[0]).toMatchObject({ code: 'COLLAB_ERR_FRAME_TOO_LARGE', announcedBytes: 9, maxFrameBytes: 8 });
  });

  it('reports an empty frame as EmptyFrameError', async () => {
    const { client, peer } = await connect();
    const seen = watch(peer);
    client.end(hex('00000000'));
    await seen.closed;
    expect(seen.errors).toHaveLength(1);
    expect(seen.errors[0]).toBeInstanceOf(EmptyFrameError);
  });

  it('reports TruncatedFrameError when the stream ends in the middle of a frame', async () => {
    const { client, peer } = await connect();
    const seen = watch(peer);
    client.write(encodeFrame(Buffer.from('whole')));
    client.end(hex('0000000a 616263'));
    await seen.closed;
    expect(seen.frames).toEqual(['whole']);
    expect(seen.errors).toHaveLength(1);
    expect(seen.errors[0]).toBeInstanceOf(TruncatedFrameError);
    expect(seen.errors[0]).toMatchObject({ code: 'COLLAB_ERR_TRUNCATED_FRAME', announcedBytes: 10, receivedBytes: 7 });
  });

  it('reports TruncatedFrameError when the stream ends inside a header', async () => {
    const { client, peer } = await connect();
    const seen = watch(peer);
    client.end(hex('0000'));
    await seen.closed;
    expect(seen.errors.map((e) => e.code)).toEqual(['COLLAB_ERR_TRUNCATED_FRAME']);
  });

  it('reports nothing when the stream ends on a frame boundary', async () => {
    const { client, peer } = await connect();
    const seen = watch(peer);
    client.end(encodeFrame(Buffer.from('bye')));
    await seen.closed;
    expect(seen.frames).toEqual(['bye']);
    expect(seen.errors).toEqual([]);
  });

  it('stops delivering, even within the same chunk, once detached', async () => {
    const { client, peer } = await connect();
    const frames: string[] = [];
    const errors: FramingError[] = [];
    const closed = new Promise<void>((resolve) => peer.once('close', () => resolve()));
    const detach = readFrames(
      peer,
      (payload) => {
        frames.push(payload.toString());
        detach();
        detach(); // idempotent
      },
      (err) => errors.push(err),
    );
    client.end(hex('00000001 61  00000001 62  000000')); // ends mid-frame: no error once detached
    await closed;
    expect(frames).toEqual(['a']);
    expect(errors).toEqual([]);
  });

  it('lets an exception thrown by onFrame propagate instead of reporting it as a framing error', () => {
    const stream = new PassThrough();
    const errors: FramingError[] = [];
    const boom = new FrameTooLargeError(1, 0); // even a FramingError of the caller's own
    readFrames(
      stream,
      () => {
        throw boom;
      },
      (err) => errors.push(err),
    );
    expect(() => stream.emit('data', hex('00000001 61'))).toThrow(boom);
    expect(errors).toEqual([]);
  });

  it('rejects an invalid maxFrameBytes before attaching anything', () => {
    const stream = new PassThrough();
    expect(() =>
      readFrames(
        stream,
        () => undefined,
        () => undefined,
        { maxFrameBytes: 0 },
      ),
    ).toThrow(InvalidMaxFrameBytesError);
    expect(stream.listenerCount('data')).toBe(0);
  });
});
