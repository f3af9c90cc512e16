// Whether Redis keeps what it acknowledged: with appendonly yes and appendfsync always, Redis
// writes and fsyncs the AOF before it replies to a write (Redis 7.0 has no WAITAOF), so the reply
// to XADD means the update is on Redis's disk. With noeviction (or no maxmemory) it is never
// evicted either. CONFIG may be renamed or disabled (managed Redis): then nothing can be checked.

import type { Redis } from 'ioredis';
import { RedisNotDurableError } from './errors';

/** What was found, and what is not promised (empty when everything is). */
export interface DurabilityReport {
  /** Each setting that breaks the promise, said as what can be lost. */
  readonly problems: readonly string[];
}

async function configGet(redis: Redis, name: string): Promise<string> {
  const reply = (await redis.config('GET', name)) as string[];
  return reply[1] ?? '';
}

/** Reads the settings that decide whether an acknowledged XADD survives a crash of Redis. */
export async function checkDurability(redis: Redis): Promise<DurabilityReport> {
  let appendonly: string, appendfsync: string, maxmemory: string, policy: string;
  try {
    [appendonly, appendfsync, maxmemory, policy] = await Promise.all(
      ['appendonly', 'appendfsync', 'maxmemory', 'maxmemory-policy'].map((name) => configGet(redis, name)),
    );
  } catch (error) {
    return {
      problems: [
        `its settings cannot be read (CONFIG GET failed: ${(error as Error).message}), so nothing says an acknowledged edit is on its disk`,
      ],
    };
  }
  const problems: string[] = [];
  if (appendonly !== 'yes') {
    problems.push(
      'appendonly is no: an acknowledged edit is only in its memory (and the next RDB snapshot), and a crash of Redis loses it',
    );
  } else if (appendfsync !== 'always') {
    problems.push(
      `appendfsync is ${appendfsync}: an acknowledged edit may not be on its disk yet (${appendfsync === 'everysec' ? 'up to a second of edits' : 'until the kernel writes it'}), and a crash or power loss of its machine loses it`,
    );
  }
  if (maxmemory !== '0' && policy !== 'noeviction') {
    problems.push(`maxmemory-policy is ${policy} with maxmemory ${maxmemory}: Redis may evict a document's updates`);
  }
  return { problems };
}

/** The line that refuses to start (or, allowed, warns): what is not promised and how to fix it. */
export function durabilityMessage(url: string, report: DurabilityReport, allowed: boolean): string {
  const what = report.problems.join('; ');
  return allowed
    ? `Redis at ${url} does not promise durability (--redis-allow-unsafe): ${what}`
    : `Redis at ${url} does not keep acknowledged edits safe: ${what}. Configure it with appendonly yes, appendfsync always and maxmemory-policy noeviction (README, "Scale-out on Redis"), or start with --redis-allow-unsafe to accept that loss`;
}

/** Throws RedisNotDurableError (one sentence) unless Redis keeps what it acknowledges, or `allowed`; returns the warning to log when allowed. */
export async function requireDurability(redis: Redis, url: string, allowed: boolean): Promise<string | null> {
  const report = await checkDurability(redis);
  if (!report.problems.length) return null;
  if (!allowed) throw new RedisNotDurableError(durabilityMessage(url, report, false));
  return durabilityMessage(url, report, true);
}
