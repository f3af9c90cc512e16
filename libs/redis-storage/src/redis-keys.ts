// The Redis keys of a document. The name goes in braces (a Redis Cluster hash tag), so every key
// of one document lands on one shard and the scripts that touch several of them stay legal.
//
//   collab:{NAME}:stream    stream of Yjs updates, one entry per append: o = instance id, u = update
//   collab:{NAME}:snapshot  hash: state = a Yjs update holding every entry up to id (the stream
//                           is trimmed to what comes after id, once the lease holder's files hold it)
//   collab:{NAME}:seeded    set once the document's files were loaded into Redis (exactly once)
//   collab:{NAME}:lease     the instance that folds the stream into the files (SET NX PX)
//   collab:{NAME}:fence     the fencing token: incremented by every new lease
//   collab:{NAME}:presence  pub/sub channel of the presence of each instance's clients
//   collab:instance:ID      an instance's heartbeat (PX): its presence goes when it expires

/** The keys of one document. */
export interface DocumentKeys {
  stream: string;
  snapshot: string;
  seeded: string;
  lease: string;
  fence: string;
  presence: string;
}

/** The keys of document `name` under `prefix` (default `collab`). */
export function documentKeys(name: string, prefix = 'collab'): DocumentKeys {
  const base = `${prefix}:{${name}}`;
  return {
    stream: `${base}:stream`,
    snapshot: `${base}:snapshot`,
    seeded: `${base}:seeded`,
    lease: `${base}:lease`,
    fence: `${base}:fence`,
    presence: `${base}:presence`,
  };
}

/** The heartbeat key of an instance. */
export function instanceKey(instanceId: string, prefix = 'collab'): string {
  return `${prefix}:instance:${instanceId}`;
}

/** Compares two stream ids (`ms-seq`) numerically: negative, 0 or positive. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  if (am !== bm) return am! < bm! ? -1 : 1;
  if (as !== bs) return (as ?? 0n) < (bs ?? 0n) ? -1 : 1;
  return 0;
}

/** The smallest id after `id` (XTRIM MINID keeps it and everything later). */
export function nextStreamId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms}-${BigInt(seq ?? '0') + 1n}`;
}
