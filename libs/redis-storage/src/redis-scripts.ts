// The Lua scripts: each runs atomically in Redis, so a lease and what it allows are checked and
// done in one step. Fenced writes check that the caller still holds the lease with the token it
// was given: a holder that stalled past its lease (GC, SIGSTOP, a slow disk) and came back writes
// nothing.

import type { Redis } from 'ioredis';

/** KEYS: lease, fence. ARGV: instance id, lease ms. Returns the new fencing token, or nil when another instance holds the lease. */
const ACQUIRE = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('INCR', KEYS[2])`;

/** KEYS: lease, fence. ARGV: instance id, token, lease ms. 1 when renewed, 0 when the lease is not ours any more. */
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

/** KEYS: lease, fence. ARGV: instance id, token. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[1]) end
return 1`;

/**
 * KEYS: lease, fence, seeded, stream. ARGV: instance id, token, state (may be empty).
 * The document's files become its first stream entry, exactly once: -1 when the lease is not
 * ours, 0 when it was seeded before, 1 when seeded now.
 */
const SEED = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('GET', KEYS[2]) ~= ARGV[2] then return -1 end
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
if string.len(ARGV[3]) > 0 then redis.call('XADD', KEYS[4], '*', 'o', ARGV[1], 'u', ARGV[3]) end
redis.call('SET', KEYS[3], '1')
return 1`;

/**
 * KEYS: lease, fence, snapshot, stream. ARGV: instance id, token, state, id, min id.
 * The snapshot becomes `state` (holding every entry up to `id`) and the stream loses the entries
 * before `min id`: 1, or 0 when the lease is not ours (nothing written).
 */
const TRIM = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[3], 'state', ARGV[3], 'id', ARGV[4])
redis.call('XTRIM', KEYS[4], 'MINID', ARGV[5])
return 1`;

/** A Redis connection with the scripts as commands. */
export interface ScriptedRedis extends Redis {
  collabAcquire(lease: string, fence: string, instance: string, leaseMs: number): Promise<number | null>;
  collabRenew(lease: string, fence: string, instance: string, token: number, leaseMs: number): Promise<number>;
  collabRelease(lease: string, fence: string, instance: string, token: number): Promise<number>;
  collabSeed(lease: string, fence: string, seeded: string, stream: string, instance: string, token: number, state: Buffer): Promise<number>;
  collabTrim(
    lease: string,
    fence: string,
    snapshot: string,
    stream: string,
    instance: string,
    token: number,
    state: Buffer,
    id: string,
    minId: string,
  ): Promise<number>;
}

/** Defines the scripts on a connection (ioredis sends EVALSHA, and the script itself when Redis lacks it). */
export function defineScripts(redis: Redis): ScriptedRedis {
  redis.defineCommand('collabAcquire', { numberOfKeys: 2, lua: ACQUIRE });
  redis.defineCommand('collabRenew', { numberOfKeys: 2, lua: RENEW });
  redis.defineCommand('collabRelease', { numberOfKeys: 2, lua: RELEASE });
  redis.defineCommand('collabSeed', { numberOfKeys: 4, lua: SEED });
  redis.defineCommand('collabTrim', { numberOfKeys: 4, lua: TRIM });
  return redis as ScriptedRedis;
}
