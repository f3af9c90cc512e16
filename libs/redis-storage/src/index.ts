export {
  RedisStorage,
  DEFAULT_LEASE_MS,
  DEFAULT_TRIM_ENTRIES,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  redactUrl,
} from './redis-storage';
export type { RedisStorageOptions } from './redis-storage';
export { RedisDocument } from './redis-document';
export { documentKeys, instanceKey, compareStreamIds, nextStreamId } from './redis-keys';
export type { DocumentKeys } from './redis-keys';
export { checkDurability, requireDurability } from './durability-check';
export type { DurabilityReport } from './durability-check';
export { RedisStorageError, RedisUnreachableError, RedisNotDurableError, RedisOptionError, RedisDataError } from './errors';
